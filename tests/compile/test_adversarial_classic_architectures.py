"""chainrule.compile against eager execution on CLASSIC ARCHITECTURES written as tutorials write them,
trained a few compiled steps: AlexNet/VGG/LeNet minis (Conv2d, MaxPool2d, AdaptiveAvgPool2d, Flatten,
Dropout), ResNet basic blocks with downsample shortcuts and BatchNorm2d, DenseNet torch.cat growth,
Inception parallel branches with an auxiliary head, MobileNet depthwise separable convs and inverted
residuals, ShuffleNet channel shuffle, U-Net minis with ConvTranspose2d and skip concatenation,
squeeze-and-excitation gating, 1-D conv nets over sequences, LSTM/GRU classifiers over packed
sequences and small transformer encoders with padding masks.

Each test runs the same calls from the same seed eagerly and
compiled, and compares bit for bit what each call returns or raises, parameters, grads, buffers,
optimizer state, Python side effects and the random stream after each call. The calls vary as real
loops do: a smaller last batch, another image size or sequence length, train/eval, an argument, an
attribute. A compiled run may record anew or fall back to eager with at most one warning.
"""
import math
import warnings

import numpy as np
import pytest

import chainrule as torch
from chainrule import nn, optim
from chainrule.nn import functional as F
from chainrule.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
from chainrule.random import default_generator
from tests.compile.bitwise import assert_identical


# ----------------------------------------------------------------------------- the harness
def arr(t):
    return np.array(t.detach().numpy(), copy=True)


def snap(value):
    if isinstance(value, torch.Tensor):
        return ("tensor", str(value.dtype), arr(value))
    if isinstance(value, (list, tuple)):
        return tuple(snap(v) for v in value)
    if isinstance(value, dict):
        return {k: snap(v) for k, v in value.items()}
    if isinstance(value, (np.floating, np.integer)):
        return np.asarray(value)
    if isinstance(value, nn.Module):
        return module_state(value)
    return value


def module_state(model):
    return {
        "modules": [(name, type(m).__name__, bool(m.training)) for name, m in model.named_modules()],
        "params": [(name, str(p.dtype), bool(p.requires_grad), arr(p), None if p.grad is None else arr(p.grad))
                   for name, p in model.named_parameters()],
        "buffers": [(name, str(b.dtype), arr(b)) for name, b in model.named_buffers()],
    }


def observe(objects):
    out = []
    for thing in objects:
        if isinstance(thing, optim.Optimizer):
            out.append([{k: snap(v) for k, v in s.items()} for s in thing.state.values()])
            out.append([{k: snap(v) for k, v in g.items() if k != "params"} for g in thing.param_groups])
        elif isinstance(thing, optim.lr_scheduler.LRScheduler):
            out.append(snap(thing.get_last_lr()))
        else:
            out.append(snap(thing))
    return out


class Case:
    def __init__(self, step, observe, inputs, before=None):
        self.step, self.observe, self.inputs = step, observe, inputs
        self.before = before or (lambda i: None)


def run(compiled, setup, calls):
    torch.manual_seed(0)
    case = setup()
    function = torch.compile(case.step) if compiled else case.step
    history = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for i in range(calls):
            case.before(i)
            args = case.inputs(i)
            try:
                result = function(*args)
                history.append(("ok", snap(result)))
            except Exception as error:  # compared: type and message
                history.append(("raised", type(error).__name__, str(error)))
            history.append(observe(case.observe()))
    history.append(("random", default_generator.state_bytes()))
    messages = [str(w.message) for w in caught if "chainrule.compile" in str(w.message)]
    return history, messages


def same_as_eager(setup, calls=7):
    eager, eager_messages = run(False, setup, calls)
    compiled, messages = run(True, setup, calls)
    assert not eager_messages
    assert_identical(compiled, eager, "compiled")
    assert len(messages) <= 1, messages
    return messages


BATCHES = [4, 4, 4, 2, 4, 4, 3, 4]


def images(batches=BATCHES, size=8, channels=3, classes=5, dtype=np.float32, sizes=None):
    """A loader's batches: the last of an epoch smaller; ``sizes`` varies the image side per call."""
    def inputs(i):
        g = np.random.default_rng(1000 + i)
        side = size if sizes is None else sizes[i % len(sizes)]
        b = batches[i % len(batches)]
        x = torch.tensor(g.standard_normal((b, channels, side, side)).astype(dtype))
        y = torch.tensor(g.integers(0, classes, b))
        return x, y
    return inputs


def classify_step(model, opt, loss_fn=None, sched=None):
    loss_fn = loss_fn or nn.CrossEntropyLoss()

    def step(x, y):
        model.train()
        opt.zero_grad()
        out = model(x)
        loss = loss_fn(out, y)
        loss.backward()
        opt.step()
        if sched is not None:
            sched.step()
        correct = (out.argmax(dim=1) == y).sum()
        return loss, correct
    return step


def train_eval_step(model, opt, loss_fn=None):
    """A tutorial's loop in one function: ``train`` says whether it steps or only evaluates."""
    loss_fn = loss_fn or nn.CrossEntropyLoss()

    def step(x, y, train=True):
        if train:
            model.train()
            opt.zero_grad()
            out = model(x)
            loss = loss_fn(out, y)
            loss.backward()
            opt.step()
        else:
            model.eval()
            with torch.no_grad():
                out = model(x)
                loss = loss_fn(out, y)
        return loss, out.argmax(1)
    return step


def with_mode(inputs, modes):
    return lambda i: inputs(i) + (modes[i % len(modes)],)


# ----------------------------------------------------------------------------- AlexNet / VGG / LeNet
class AlexNetMini(nn.Module):
    def __init__(self, num_classes=5, dropout=0.5):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 8, kernel_size=3, stride=1, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=2, stride=2),
            nn.Conv2d(8, 16, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
        )
        self.avgpool = nn.AdaptiveAvgPool2d((2, 2))
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout),
            nn.Linear(16 * 2 * 2, 32),
            nn.ReLU(inplace=True),
            nn.Dropout(p=dropout),
            nn.Linear(32, num_classes),
        )

    def forward(self, x):
        x = self.features(x)
        x = self.avgpool(x)
        x = torch.flatten(x, 1)
        return self.classifier(x)


def test_alexnet_mini_sgd_momentum_smaller_last_batch():
    def setup():
        model = AlexNetMini()
        opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
        return Case(classify_step(model, opt), lambda: [model, opt], images())

    same_as_eager(setup)


def test_alexnet_mini_train_and_eval_calls_alternate():
    def setup():
        model = AlexNetMini()
        opt = optim.Adam(model.parameters(), lr=1e-3)
        return Case(train_eval_step(model, opt), lambda: [model, opt],
                    with_mode(images(), [True, True, False, True, False, True, True, False]))

    same_as_eager(setup, calls=8)


def test_alexnet_mini_dropout_p_changed_between_calls():
    def setup():
        model = AlexNetMini()
        opt = optim.SGD(model.parameters(), lr=0.05)

        def before(i):
            for m in model.modules():
                if isinstance(m, nn.Dropout):
                    m.p = [0.5, 0.5, 0.2, 0.0, 0.5, 0.2, 0.2][i]
        return Case(classify_step(model, opt), lambda: [model, opt], images(), before)

    same_as_eager(setup)


def test_alexnet_mini_image_size_changes_adaptive_pool_windows():
    """AdaptiveAvgPool2d((2, 2)) over 3x3 and 2x2 maps: overlapping windows, then identity."""
    def setup():
        model = AlexNetMini(dropout=0.1)
        opt = optim.SGD(model.parameters(), lr=0.05, nesterov=True, momentum=0.9)
        return Case(classify_step(model, opt), lambda: [model, opt], images(sizes=[8, 8, 12, 8, 10, 12, 8]))

    same_as_eager(setup)


cfg = [8, "M", 16, 16, "M"]


def make_layers(cfg, batch_norm=False):
    layers = []
    in_channels = 3
    for v in cfg:
        if v == "M":
            layers += [nn.MaxPool2d(kernel_size=2, stride=2)]
        else:
            conv2d = nn.Conv2d(in_channels, v, kernel_size=3, padding=1)
            if batch_norm:
                layers += [conv2d, nn.BatchNorm2d(v), nn.ReLU(inplace=True)]
            else:
                layers += [conv2d, nn.ReLU(inplace=True)]
            in_channels = v
    return nn.Sequential(*layers)


class VGG(nn.Module):
    def __init__(self, features, num_classes=5, init_weights=True):
        super().__init__()
        self.features = features
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.classifier = nn.Sequential(nn.Linear(16, 16), nn.ReLU(True), nn.Dropout(), nn.Linear(16, num_classes))
        if init_weights:
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                    if m.bias is not None:
                        nn.init.constant_(m.bias, 0)
                elif isinstance(m, nn.BatchNorm2d):
                    nn.init.constant_(m.weight, 1)
                    nn.init.constant_(m.bias, 0)
                elif isinstance(m, nn.Linear):
                    nn.init.normal_(m.weight, 0, 0.01)
                    nn.init.constant_(m.bias, 0)

    def forward(self, x):
        x = self.features(x)
        x = self.avgpool(x)
        x = x.view(x.size(0), -1)
        return self.classifier(x)


def test_vgg_bn_with_steplr_scheduler():
    def setup():
        model = VGG(make_layers(cfg, batch_norm=True))
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        sched = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
        return Case(classify_step(model, opt, sched=sched), lambda: [model, opt, sched], images())

    same_as_eager(setup)


def test_vgg_bn_train_eval_with_label_smoothing_float64():
    def setup():
        model = VGG(make_layers(cfg, batch_norm=True)).double()
        opt = optim.AdamW(model.parameters(), lr=1e-3)
        loss_fn = nn.CrossEntropyLoss(label_smoothing=0.1)
        return Case(train_eval_step(model, opt, loss_fn), lambda: [model, opt],
                    with_mode(images(dtype=np.float64), [True, False, True, True, False, True, False]))

    same_as_eager(setup)


def test_vgg_fine_tuning_frozen_features_then_unfrozen():
    """Transfer learning: features frozen for the first calls, then unfrozen and added to the optimizer."""
    def setup():
        model = VGG(make_layers(cfg, batch_norm=True))
        for p in model.features.parameters():
            p.requires_grad = False
        opt = optim.SGD(model.classifier.parameters(), lr=0.05, momentum=0.9)

        def before(i):
            if i == 3:
                for p in model.features.parameters():
                    p.requires_grad = True
                opt.add_param_group({"params": model.features.parameters(), "lr": 0.005})
        return Case(classify_step(model, opt), lambda: [model, opt], images(), before)

    same_as_eager(setup)


def test_vgg_head_replaced_between_calls():
    """model.classifier[3] = nn.Linear(16, 3): a new head and a new optimizer, as fine-tuning tutorials do."""
    def setup():
        model = VGG(make_layers(cfg))
        holder = {"opt": optim.SGD(model.parameters(), lr=0.05)}

        def step(x, y):
            opt = holder["opt"]
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y % model.classifier[3].out_features)
            loss.backward()
            opt.step()
            return loss

        def before(i):
            if i == 3:
                model.classifier[3] = nn.Linear(16, 3)
                holder["opt"] = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        return Case(step, lambda: [model, holder["opt"]], images(), before)

    same_as_eager(setup)


class LeNet5(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, kernel_size=5, padding=2)
        self.pool1 = nn.AvgPool2d(kernel_size=2, stride=2)
        self.conv2 = nn.Conv2d(4, 8, kernel_size=3)
        self.pool2 = nn.AvgPool2d(2)
        self.fc1 = nn.Linear(8, 16)
        self.fc2 = nn.Linear(16, 10)

    def forward(self, x):
        x = self.pool1(torch.tanh(self.conv1(x)))
        x = self.pool2(torch.tanh(self.conv2(x)))
        x = x.view(-1, 8)
        x = torch.tanh(self.fc1(x))
        return F.log_softmax(self.fc2(x), dim=1)


def test_lenet5_nll_loss_with_onecycle():
    def setup():
        model = LeNet5()
        opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        sched = optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=10)
        return Case(classify_step(model, opt, nn.NLLLoss(), sched), lambda: [model, opt, sched],
                    images(channels=1, classes=10))

    same_as_eager(setup)


class SegNetMini(nn.Module):
    """MaxPool2d(return_indices=True) and MaxUnpool2d, with ceil_mode pooling in the encoder."""

    def __init__(self):
        super().__init__()
        self.enc = nn.Conv2d(3, 4, 3, padding=1)
        self.pool = nn.MaxPool2d(2, 2, return_indices=True)
        self.unpool = nn.MaxUnpool2d(2, 2)
        self.dec = nn.Conv2d(4, 1, 3, padding=1)

    def forward(self, x):
        h = F.relu(self.enc(x))
        p, idx = self.pool(h)
        u = self.unpool(p, idx, output_size=h.size())
        return self.dec(u)


def test_segnet_mini_maxunpool_odd_image_sizes():
    def setup():
        model = SegNetMini()
        opt = optim.Adam(model.parameters(), lr=1e-2)

        def step(x, y):
            opt.zero_grad()
            out = model(x)
            target = (x.mean(1, keepdim=True) > 0).float()
            loss = F.binary_cross_entropy_with_logits(out, target)
            loss.backward()
            opt.step()
            return loss
        return Case(step, lambda: [model, opt], images(sizes=[8, 8, 7, 8, 9, 9, 8]))

    same_as_eager(setup)


# ----------------------------------------------------------------------------- ResNet
def conv3x3(in_planes, out_planes, stride=1):
    return nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=1, bias=False)


def conv1x1(in_planes, out_planes, stride=1):
    return nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None, norm_layer=None):
        super().__init__()
        norm_layer = norm_layer or nn.BatchNorm2d
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = norm_layer(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = norm_layer(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        identity = x
        out = self.conv1(x)
        out = self.bn1(out)
        out = self.relu(out)
        out = self.conv2(out)
        out = self.bn2(out)
        if self.downsample is not None:
            identity = self.downsample(x)
        out += identity
        out = self.relu(out)
        return out


class ResNetMini(nn.Module):
    def __init__(self, block=BasicBlock, layers=(1, 1), num_classes=5, zero_init_residual=False, norm_layer=None):
        super().__init__()
        self._norm_layer = norm_layer or nn.BatchNorm2d
        self.inplanes = 4
        self.conv1 = nn.Conv2d(3, self.inplanes, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn1 = self._norm_layer(self.inplanes)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, 4, layers[0])
        self.layer2 = self._make_layer(block, 8, layers[1], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(8 * block.expansion, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
        if zero_init_residual:
            for m in self.modules():
                if isinstance(m, BasicBlock):
                    nn.init.constant_(m.bn2.weight, 0)

    def _make_layer(self, block, planes, blocks, stride=1):
        norm_layer = self._norm_layer
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(conv1x1(self.inplanes, planes * block.expansion, stride),
                                       norm_layer(planes * block.expansion))
        layers = [block(self.inplanes, planes, stride, downsample, norm_layer)]
        self.inplanes = planes * block.expansion
        for _ in range(1, blocks):
            layers.append(block(self.inplanes, planes, norm_layer=norm_layer))
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.conv1(x)
        x = self.bn1(x)
        x = self.relu(x)
        x = self.maxpool(x)
        x = self.layer1(x)
        x = self.layer2(x)
        x = self.avgpool(x)
        x = torch.flatten(x, 1)
        return self.fc(x)


def test_resnet_basic_blocks_with_downsample_sgd_nesterov():
    def setup():
        model = ResNetMini(layers=(2, 1))
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4, nesterov=True)
        return Case(classify_step(model, opt), lambda: [model, opt], images())

    same_as_eager(setup)


def test_resnet_zero_init_residual_train_eval_float64():
    def setup():
        model = ResNetMini(zero_init_residual=True).double()
        opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        return Case(train_eval_step(model, opt), lambda: [model, opt],
                    with_mode(images(dtype=np.float64), [True, True, False, True, False, False, True]))

    same_as_eager(setup)


def test_resnet_batchnorm_cumulative_average_momentum_none():
    """BatchNorm2d(momentum=None) averages with 1 / num_batches_tracked: a factor that changes every call."""
    def setup():
        model = ResNetMini(norm_layer=lambda c: nn.BatchNorm2d(c, momentum=None))
        opt = optim.SGD(model.parameters(), lr=0.05)
        return Case(classify_step(model, opt), lambda: [model, opt], images())

    same_as_eager(setup)


def test_resnet_batchnorm_momentum_changed_between_calls():
    def setup():
        model = ResNetMini()
        opt = optim.SGD(model.parameters(), lr=0.05)

        def before(i):
            for m in model.modules():
                if isinstance(m, nn.BatchNorm2d):
                    m.momentum = [0.1, 0.1, 0.01, 0.01, 0.1, 0.3, 0.3][i]
        return Case(classify_step(model, opt), lambda: [model, opt], images(), before)

    same_as_eager(setup)


def test_resnet_groupnorm_and_no_stats_batchnorm():
    def setup():
        norms = [lambda c: nn.GroupNorm(2, c), lambda c: nn.BatchNorm2d(c, track_running_stats=False)]
        state = {"k": 0}

        def norm(c):
            state["k"] += 1
            return norms[state["k"] % 2](c)
        model = ResNetMini(norm_layer=norm)
        opt = optim.Adam(model.parameters(), lr=1e-3)
        return Case(train_eval_step(model, opt), lambda: [model, opt],
                    with_mode(images(), [True, True, False, True, True, False, True]))

    same_as_eager(setup)


def test_resnet_gradient_accumulation_every_second_call_with_clipping():
    def setup():
        model = ResNetMini()
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

        def step(x, y, update):
            loss = F.cross_entropy(model(x), y) / 2
            loss.backward()
            if update:
                nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
                opt.step()
                opt.zero_grad()
            return loss
        return Case(step, lambda: [model, opt], with_mode(images(), [False, True, False, True, False, True, True]))

    same_as_eager(setup)


def test_resnet_with_random_flip_augmentation_inside_the_step():
    """A horizontal flip chosen per sample from torch.rand inside the step, and random-erasing noise."""
    def setup():
        model = ResNetMini()
        opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)

        def step(x, y):
            flip = torch.rand(x.size(0)) < 0.5
            x = torch.where(flip[:, None, None, None], x.flip(3), x)
            x = x + 0.1 * torch.randn_like(x)
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            return loss
        return Case(step, lambda: [model, opt], images())

    same_as_eager(setup)


# ----------------------------------------------------------------------------- DenseNet
class DenseLayer(nn.Module):
    def __init__(self, num_input_features, growth_rate, bn_size, drop_rate):
        super().__init__()
        self.norm1 = nn.BatchNorm2d(num_input_features)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv1 = nn.Conv2d(num_input_features, bn_size * growth_rate, kernel_size=1, stride=1, bias=False)
        self.norm2 = nn.BatchNorm2d(bn_size * growth_rate)
        self.relu2 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(bn_size * growth_rate, growth_rate, kernel_size=3, stride=1, padding=1, bias=False)
        self.drop_rate = float(drop_rate)

    def forward(self, input):
        prev_features = [input] if isinstance(input, torch.Tensor) else input
        concated_features = torch.cat(prev_features, 1)
        bottleneck_output = self.conv1(self.relu1(self.norm1(concated_features)))
        new_features = self.conv2(self.relu2(self.norm2(bottleneck_output)))
        if self.drop_rate > 0:
            new_features = F.dropout(new_features, p=self.drop_rate, training=self.training)
        return new_features


class DenseBlock(nn.ModuleDict):
    def __init__(self, num_layers, num_input_features, bn_size, growth_rate, drop_rate):
        super().__init__()
        for i in range(num_layers):
            layer = DenseLayer(num_input_features + i * growth_rate, growth_rate, bn_size, drop_rate)
            self.add_module("denselayer%d" % (i + 1), layer)

    def forward(self, init_features):
        features = [init_features]
        for name, layer in self.items():
            new_features = layer(features)
            features.append(new_features)
        return torch.cat(features, 1)


class Transition(nn.Sequential):
    def __init__(self, num_input_features, num_output_features):
        super().__init__()
        self.norm = nn.BatchNorm2d(num_input_features)
        self.relu = nn.ReLU(inplace=True)
        self.conv = nn.Conv2d(num_input_features, num_output_features, kernel_size=1, stride=1, bias=False)
        self.pool = nn.AvgPool2d(kernel_size=2, stride=2)


class DenseNetMini(nn.Module):
    def __init__(self, growth_rate=4, block_config=(2, 2), num_init_features=6, bn_size=2, drop_rate=0.0,
                 num_classes=5):
        super().__init__()
        self.features = nn.Sequential()
        self.features.add_module("conv0", nn.Conv2d(3, num_init_features, kernel_size=3, padding=1, bias=False))
        self.features.add_module("norm0", nn.BatchNorm2d(num_init_features))
        self.features.add_module("relu0", nn.ReLU(inplace=True))
        num_features = num_init_features
        for i, num_layers in enumerate(block_config):
            block = DenseBlock(num_layers, num_features, bn_size, growth_rate, drop_rate)
            self.features.add_module("denseblock%d" % (i + 1), block)
            num_features = num_features + num_layers * growth_rate
            if i != len(block_config) - 1:
                trans = Transition(num_features, num_features // 2)
                self.features.add_module("transition%d" % (i + 1), trans)
                num_features = num_features // 2
        self.features.add_module("norm5", nn.BatchNorm2d(num_features))
        self.classifier = nn.Linear(num_features, num_classes)

    def forward(self, x):
        features = self.features(x)
        out = F.relu(features, inplace=True)
        out = F.adaptive_avg_pool2d(out, (1, 1))
        out = torch.flatten(out, 1)
        return self.classifier(out)


def test_densenet_cat_growth_adam():
    def setup():
        model = DenseNetMini()
        opt = optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-4)
        return Case(classify_step(model, opt), lambda: [model, opt], images())

    same_as_eager(setup)


def test_densenet_with_drop_rate_train_eval_and_image_size_change():
    def setup():
        model = DenseNetMini(drop_rate=0.2)
        opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        return Case(train_eval_step(model, opt), lambda: [model, opt],
                    with_mode(images(sizes=[8, 8, 8, 6, 6, 8, 8]), [True, True, False, True, True, False, True]))

    same_as_eager(setup)


# ----------------------------------------------------------------------------- Inception
class BasicConv2d(nn.Module):
    def __init__(self, in_channels, out_channels, **kwargs):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, bias=False, **kwargs)
        self.bn = nn.BatchNorm2d(out_channels, eps=0.001)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)), inplace=True)


class Inception(nn.Module):
    def __init__(self, in_channels, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj):
        super().__init__()
        self.branch1 = BasicConv2d(in_channels, ch1x1, kernel_size=1)
        self.branch2 = nn.Sequential(BasicConv2d(in_channels, ch3x3red, kernel_size=1),
                                     BasicConv2d(ch3x3red, ch3x3, kernel_size=3, padding=1))
        self.branch3 = nn.Sequential(BasicConv2d(in_channels, ch5x5red, kernel_size=1),
                                     BasicConv2d(ch5x5red, ch5x5, kernel_size=5, padding=2))
        self.branch4 = nn.Sequential(nn.MaxPool2d(kernel_size=3, stride=1, padding=1, ceil_mode=True),
                                     BasicConv2d(in_channels, pool_proj, kernel_size=1))

    def _forward(self, x):
        return [self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)]

    def forward(self, x):
        outputs = self._forward(x)
        return torch.cat(outputs, 1)


class InceptionAux(nn.Module):
    def __init__(self, in_channels, num_classes, dropout=0.7):
        super().__init__()
        self.conv = BasicConv2d(in_channels, 4, kernel_size=1)
        self.fc1 = nn.Linear(4 * 2 * 2, 16)
        self.fc2 = nn.Linear(16, num_classes)
        self.dropout = nn.Dropout(p=dropout)

    def forward(self, x):
        x = F.adaptive_avg_pool2d(x, (2, 2))
        x = self.conv(x)
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x), inplace=True)
        x = self.dropout(x)
        return self.fc2(x)


class GoogLeNetMini(nn.Module):
    def __init__(self, num_classes=5, aux_logits=True):
        super().__init__()
        self.aux_logits = aux_logits
        self.conv1 = BasicConv2d(3, 8, kernel_size=3, padding=1)
        self.maxpool1 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.inception3a = Inception(8, 4, 4, 6, 2, 2, 2)
        self.aux1 = InceptionAux(14, num_classes) if aux_logits else None
        self.inception3b = Inception(14, 4, 4, 4, 2, 4, 4)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.dropout = nn.Dropout(p=0.2)
        self.fc = nn.Linear(16, num_classes)

    def forward(self, x):
        x = self.maxpool1(self.conv1(x))
        x = self.inception3a(x)
        aux1 = None
        if self.aux1 is not None and self.training:
            aux1 = self.aux1(x)
        x = self.inception3b(x)
        x = torch.flatten(self.avgpool(x), 1)
        x = self.fc(self.dropout(x))
        if self.training and self.aux_logits:
            return x, aux1
        return x


def test_googlenet_inception_branches_aux_loss_train_and_eval():
    def setup():
        model = GoogLeNetMini()
        opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)

        def step(x, y, train):
            if train:
                model.train()
                opt.zero_grad()
                outputs, aux_outputs = model(x)
                loss1 = F.cross_entropy(outputs, y)
                loss2 = F.cross_entropy(aux_outputs, y)
                loss = loss1 + 0.3 * loss2
                loss.backward()
                opt.step()
                return loss, outputs.argmax(1)
            model.eval()
            with torch.no_grad():
                outputs = model(x)
            return F.cross_entropy(outputs, y), outputs.argmax(1)
        return Case(step, lambda: [model, opt], with_mode(images(sizes=[8, 8, 9, 8, 9, 8, 8]),
                                                          [True, True, False, True, True, False, True]))

    same_as_eager(setup)


def test_googlenet_aux_logits_switched_off_between_calls():
    def setup():
        model = GoogLeNetMini()
        opt = optim.Adam(model.parameters(), lr=1e-3)

        def step(x, y):
            opt.zero_grad()
            out = model(x)
            if isinstance(out, tuple):
                loss = F.cross_entropy(out[0], y) + 0.3 * F.cross_entropy(out[1], y)
            else:
                loss = F.cross_entropy(out, y)
            loss.backward()
            opt.step()
            return loss

        def before(i):
            model.aux_logits = i < 3 or i == 5
        return Case(step, lambda: [model, opt], images(), before)

    same_as_eager(setup)


# ----------------------------------------------------------------------------- MobileNet / ShuffleNet
class DepthwiseSeparable(nn.Module):
    def __init__(self, in_ch, out_ch, stride=1):
        super().__init__()
        self.depthwise = nn.Conv2d(in_ch, in_ch, kernel_size=3, stride=stride, padding=1, groups=in_ch, bias=False)
        self.bn1 = nn.BatchNorm2d(in_ch)
        self.pointwise = nn.Conv2d(in_ch, out_ch, kernel_size=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_ch)

    def forward(self, x):
        x = F.relu6(self.bn1(self.depthwise(x)))
        return F.relu6(self.bn2(self.pointwise(x)))


class MobileNetV1Mini(nn.Module):
    def __init__(self, num_classes=5):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 4, 3, 2, 1, bias=False), nn.BatchNorm2d(4), nn.ReLU6(inplace=True))
        self.layers = nn.Sequential(DepthwiseSeparable(4, 8), DepthwiseSeparable(8, 8, stride=2),
                                    DepthwiseSeparable(8, 12))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(12, num_classes)

    def forward(self, x):
        x = self.layers(self.stem(x))
        x = self.pool(x).view(x.size(0), -1)
        return self.fc(x)


def test_mobilenet_v1_depthwise_separable_rmsprop():
    def setup():
        model = MobileNetV1Mini()
        opt = optim.RMSprop(model.parameters(), lr=1e-3, momentum=0.9, alpha=0.9, eps=1e-3)
        return Case(classify_step(model, opt), lambda: [model, opt], images())

    same_as_eager(setup)


class ConvBNActivation(nn.Sequential):
    def __init__(self, in_planes, out_planes, kernel_size=3, stride=1, groups=1, activation=nn.ReLU6):
        padding = (kernel_size - 1) // 2
        super().__init__(nn.Conv2d(in_planes, out_planes, kernel_size, stride, padding, groups=groups, bias=False),
                         nn.BatchNorm2d(out_planes), activation(inplace=True))


class InvertedResidual(nn.Module):
    def __init__(self, inp, oup, stride, expand_ratio, activation=nn.ReLU6):
        super().__init__()
        hidden_dim = int(round(inp * expand_ratio))
        self.use_res_connect = stride == 1 and inp == oup
        layers = []
        if expand_ratio != 1:
            layers.append(ConvBNActivation(inp, hidden_dim, kernel_size=1, activation=activation))
        layers.extend([
            ConvBNActivation(hidden_dim, hidden_dim, stride=stride, groups=hidden_dim, activation=activation),
            nn.Conv2d(hidden_dim, oup, 1, 1, 0, bias=False),
            nn.BatchNorm2d(oup),
        ])
        self.conv = nn.Sequential(*layers)

    def forward(self, x):
        if self.use_res_connect:
            return x + self.conv(x)
        return self.conv(x)


class MobileNetV2Mini(nn.Module):
    def __init__(self, num_classes=5, activation=nn.ReLU6):
        super().__init__()
        setting = [[1, 4, 1, 1], [2, 6, 2, 2], [2, 8, 1, 1]]
        features = [ConvBNActivation(3, 4, stride=1, activation=activation)]
        input_channel = 4
        for t, c, n, s in setting:
            for i in range(n):
                stride = s if i == 0 else 1
                features.append(InvertedResidual(input_channel, c, stride, expand_ratio=t, activation=activation))
                input_channel = c
        self.features = nn.Sequential(*features)
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(input_channel, num_classes))
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out")
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        x = self.features(x)
        x = nn.functional.adaptive_avg_pool2d(x, (1, 1))
        x = torch.flatten(x, 1)
        return self.classifier(x)


def test_mobilenet_v2_inverted_residuals_train_eval():
    def setup():
        model = MobileNetV2Mini()
        opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=4e-5)
        return Case(train_eval_step(model, opt), lambda: [model, opt],
                    with_mode(images(), [True, True, False, True, True, False, True]))

    same_as_eager(setup)


def test_mobilenet_v3_style_hardswish_with_cosine_annealing():
    def setup():
        model = MobileNetV2Mini(activation=nn.Hardswish)
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=4)
        return Case(classify_step(model, opt, sched=sched), lambda: [model, opt, sched], images())

    same_as_eager(setup)


def channel_shuffle(x, groups):
    batchsize, num_channels, height, width = x.size()
    channels_per_group = num_channels // groups
    x = x.view(batchsize, groups, channels_per_group, height, width)
    x = torch.transpose(x, 1, 2).contiguous()
    x = x.view(batchsize, -1, height, width)
    return x


class ShuffleUnit(nn.Module):
    def __init__(self, channels, groups=2):
        super().__init__()
        self.groups = groups
        self.gconv1 = nn.Conv2d(channels, channels, 1, groups=groups, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.dwconv = nn.Conv2d(channels, channels, 3, padding=1, groups=channels, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)
        self.gconv2 = nn.Conv2d(channels, channels, 1, groups=groups, bias=False)
        self.bn3 = nn.BatchNorm2d(channels)

    def forward(self, x):
        out = F.relu(self.bn1(self.gconv1(x)))
        out = channel_shuffle(out, self.groups)
        out = self.bn2(self.dwconv(out))
        out = self.bn3(self.gconv2(out))
        return F.relu(x + out)


def test_shufflenet_grouped_conv_and_channel_shuffle_groups_changed():
    """The shuffle's ``groups`` attribute changes between calls: the view's shape follows it."""
    def setup():
        model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), ShuffleUnit(8, groups=2), ShuffleUnit(8, groups=4),
                              nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 5))
        opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)

        def before(i):
            model[1].groups = [2, 2, 4, 4, 2, 8, 8][i]
        return Case(classify_step(model, opt), lambda: [model, opt], images(), before)

    same_as_eager(setup)


def test_channel_shuffle_module_with_depthwise_conv_float64():
    def setup():
        model = nn.Sequential(nn.Conv2d(3, 6, 1), nn.ChannelShuffle(3), nn.Conv2d(6, 6, 3, padding=1, groups=6),
                              nn.BatchNorm2d(6), nn.ReLU(), nn.AdaptiveMaxPool2d(1), nn.Flatten(), nn.Linear(6, 5)).double()
        opt = optim.Adagrad(model.parameters(), lr=0.05)
        return Case(classify_step(model, opt), lambda: [model, opt], images(dtype=np.float64))

    same_as_eager(setup)


# ----------------------------------------------------------------------------- U-Net
class DoubleConv(nn.Module):
    def __init__(self, in_channels, out_channels, mid_channels=None):
        super().__init__()
        if not mid_channels:
            mid_channels = out_channels
        self.double_conv = nn.Sequential(
            nn.Conv2d(in_channels, mid_channels, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(mid_channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(mid_channels, out_channels, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
        )

    def forward(self, x):
        return self.double_conv(x)


class Down(nn.Module):
    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.maxpool_conv = nn.Sequential(nn.MaxPool2d(2), DoubleConv(in_channels, out_channels))

    def forward(self, x):
        return self.maxpool_conv(x)


class Up(nn.Module):
    def __init__(self, in_channels, out_channels, bilinear=False):
        super().__init__()
        if bilinear:
            self.up = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True)
            self.conv = DoubleConv(in_channels, out_channels, in_channels // 2)
        else:
            self.up = nn.ConvTranspose2d(in_channels, in_channels // 2, kernel_size=2, stride=2)
            self.conv = DoubleConv(in_channels, out_channels)

    def forward(self, x1, x2):
        x1 = self.up(x1)
        diffY = x2.size()[2] - x1.size()[2]
        diffX = x2.size()[3] - x1.size()[3]
        x1 = F.pad(x1, [diffX // 2, diffX - diffX // 2, diffY // 2, diffY - diffY // 2])
        x = torch.cat([x2, x1], dim=1)
        return self.conv(x)


class UNetMini(nn.Module):
    def __init__(self, n_channels=3, n_classes=1, bilinear=False):
        super().__init__()
        self.inc = DoubleConv(n_channels, 4)
        self.down1 = Down(4, 8)
        factor = 2 if bilinear else 1
        self.down2 = Down(8, 16 // factor)
        self.up1 = Up(16, 8 // factor, bilinear)
        self.up2 = Up(8, 4, bilinear)
        self.outc = nn.Conv2d(4, n_classes, kernel_size=1)

    def forward(self, x):
        x1 = self.inc(x)
        x2 = self.down1(x1)
        x3 = self.down2(x2)
        x = self.up1(x3, x2)
        x = self.up2(x, x1)
        return self.outc(x)


def unet_step(model, opt):
    criterion = nn.BCEWithLogitsLoss()

    def step(x, y):
        model.train()
        opt.zero_grad()
        masks_pred = model(x)
        true_masks = (x[:, :1] > 0.3).float()
        probs = torch.sigmoid(masks_pred)
        inter = (probs * true_masks).sum(dim=(2, 3))
        dice = 1 - (2 * inter + 1e-6) / (probs.sum(dim=(2, 3)) + true_masks.sum(dim=(2, 3)) + 1e-6)
        loss = criterion(masks_pred, true_masks) + dice.mean()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        return loss, probs
    return step


def test_unet_mini_conv_transpose_skip_concatenation():
    def setup():
        model = UNetMini()
        opt = optim.RMSprop(model.parameters(), lr=1e-4, weight_decay=1e-8, momentum=0.9)
        return Case(unet_step(model, opt), lambda: [model, opt], images(batches=[2, 2, 2, 1, 2, 2, 1]))

    same_as_eager(setup)


def test_unet_mini_odd_image_sizes_padded_skips():
    """9x9 and 10x10 images: the transposed conv's output is padded with F.pad to the skip's size."""
    def setup():
        model = UNetMini()
        opt = optim.Adam(model.parameters(), lr=1e-3)
        return Case(unet_step(model, opt), lambda: [model, opt],
                    images(batches=[2, 2, 2, 1, 2, 2, 1], sizes=[8, 8, 9, 9, 10, 8, 9]))

    same_as_eager(setup)


def test_unet_mini_bilinear_upsampling():
    def setup():
        model = UNetMini(bilinear=True).double()
        opt = optim.Adam(model.parameters(), lr=1e-3)
        return Case(unet_step(model, opt), lambda: [model, opt],
                    images(batches=[2, 2, 2, 1, 2, 2, 1], dtype=np.float64, sizes=[8, 8, 8, 8, 12, 12, 8]))

    same_as_eager(setup)


def test_conv_transpose_output_size_argument_varies_per_call():
    """ConvTranspose2d(stride=2) called with output_size= matching the encoder's input: 7 or 8 wide."""
    def setup():
        down = nn.Conv2d(3, 4, 3, stride=2, padding=1)
        up = nn.ConvTranspose2d(4, 3, 3, stride=2, padding=1)
        params = list(down.parameters()) + list(up.parameters())
        opt = optim.SGD(params, lr=0.05)

        def step(x, y):
            opt.zero_grad()
            h = F.relu(down(x))
            out = up(h, output_size=x.size())
            loss = F.mse_loss(out, x)
            loss.backward()
            opt.step()
            return loss
        return Case(step, lambda: [down, up, opt], images(sizes=[8, 8, 7, 7, 8, 7, 8]))

    same_as_eager(setup)


# ----------------------------------------------------------------------------- squeeze-and-excitation
class SELayer(nn.Module):
    def __init__(self, channel, reduction=4):
        super().__init__()
        self.avg_pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Sequential(
            nn.Linear(channel, channel // reduction, bias=False),
            nn.ReLU(inplace=True),
            nn.Linear(channel // reduction, channel, bias=False),
            nn.Sigmoid(),
        )

    def forward(self, x):
        b, c, _, _ = x.size()
        y = self.avg_pool(x).view(b, c)
        y = self.fc(y).view(b, c, 1, 1)
        return x * y.expand_as(x)


class SEBasicBlock(BasicBlock):
    def __init__(self, inplanes, planes, stride=1, downsample=None, norm_layer=None, reduction=4):
        super().__init__(inplanes, planes, stride, downsample, norm_layer)
        self.se = SELayer(planes, reduction)

    def forward(self, x):
        residual = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out = self.se(out)
        if self.downsample is not None:
            residual = self.downsample(x)
        out += residual
        return self.relu(out)


def test_se_resnet_sigmoid_gating_with_view_expand():
    def setup():
        model = ResNetMini(block=SEBasicBlock, layers=(1, 2))
        opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        return Case(train_eval_step(model, opt), lambda: [model, opt],
                    with_mode(images(), [True, True, True, False, True, True, False]))

    same_as_eager(setup)


class SEConv(nn.Module):
    """The 1x1-conv formulation: F.adaptive_avg_pool2d, conv reduce/expand, torch.sigmoid, broadcast multiply."""

    def __init__(self, c, r=2):
        super().__init__()
        self.reduce = nn.Conv2d(c, c // r, 1)
        self.expand = nn.Conv2d(c // r, c, 1)

    def forward(self, x):
        s = F.adaptive_avg_pool2d(x, 1)
        s = self.expand(F.silu(self.reduce(s)))
        return x * torch.sigmoid(s)


def test_efficientnet_style_mbconv_with_se_and_stochastic_depth():
    """Stochastic depth: the residual branch dropped per sample with torch.rand inside the step."""
    class MBConv(nn.Module):
        def __init__(self, c, survival=0.8):
            super().__init__()
            self.survival = survival
            self.block = nn.Sequential(nn.Conv2d(c, 2 * c, 1, bias=False), nn.BatchNorm2d(2 * c), nn.SiLU(),
                                       nn.Conv2d(2 * c, 2 * c, 3, padding=1, groups=2 * c, bias=False),
                                       nn.BatchNorm2d(2 * c), nn.SiLU(), SEConv(2 * c),
                                       nn.Conv2d(2 * c, c, 1, bias=False), nn.BatchNorm2d(c))

        def forward(self, x):
            out = self.block(x)
            if self.training:
                keep = torch.rand(x.shape[0], 1, 1, 1, dtype=x.dtype) < self.survival
                out = out / self.survival * keep
            return x + out

    def setup():
        model = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), MBConv(4), MBConv(4, 0.6),
                              nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.2), nn.Linear(4, 5))
        opt = optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.05)
        return Case(train_eval_step(model, opt), lambda: [model, opt],
                    with_mode(images(), [True, True, True, False, True, False, True]))

    same_as_eager(setup)


# ----------------------------------------------------------------------------- 1-D conv nets over sequences
def token_batches(batches=BATCHES, lengths=(12, 12, 12, 9, 12, 15, 10), vocab=20, classes=3):
    def inputs(i):
        g = np.random.default_rng(2000 + i)
        b, t = batches[i % len(batches)], lengths[i % len(lengths)]
        return torch.tensor(g.integers(0, vocab, (b, t))), torch.tensor(g.integers(0, classes, b))
    return inputs


class TextCNN(nn.Module):
    """Kim (2014): parallel Conv1d of several widths, max over time, concatenated."""

    def __init__(self, vocab=20, embed=6, filters=4, sizes=(2, 3, 4), classes=3, dropout=0.5):
        super().__init__()
        self.embedding = nn.Embedding(vocab, embed, padding_idx=0)
        self.convs = nn.ModuleList([nn.Conv1d(embed, filters, k) for k in sizes])
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(filters * len(sizes), classes)

    def forward(self, text):
        embedded = self.embedding(text).permute(0, 2, 1)
        conved = [F.relu(conv(embedded)) for conv in self.convs]
        pooled = [F.max_pool1d(c, c.shape[2]).squeeze(2) for c in conved]
        cat = self.dropout(torch.cat(pooled, dim=1))
        return self.fc(cat)


def test_textcnn_conv1d_max_over_time_varying_lengths():
    def setup():
        model = TextCNN()
        opt = optim.Adam(model.parameters())
        return Case(classify_step(model, opt), lambda: [model, opt], token_batches())

    same_as_eager(setup)


def test_fpn_style_nearest_upsampling_to_lateral_size_with_reflect_same_padding():
    """F.interpolate to the lateral map's size (odd sizes round), padding="same" with padding_mode="reflect"."""
    def setup():
        c1 = nn.Conv2d(3, 4, 3, stride=2, padding=1)
        c2 = nn.Conv2d(4, 4, 3, stride=2, padding=1)
        lateral = nn.Conv2d(4, 4, 1)
        smooth = nn.Conv2d(4, 1, 3, padding="same", padding_mode="reflect")
        model = nn.ModuleList([c1, c2, lateral, smooth])
        opt = optim.Adam(model.parameters(), lr=1e-2)

        def step(x, y):
            opt.zero_grad()
            a = F.relu(c1(x))
            b = F.relu(c2(a))
            p = lateral(a) + F.interpolate(b, size=a.shape[-2:], mode="nearest")
            out = F.interpolate(smooth(p), size=x.shape[-2:], mode="bilinear", align_corners=False)
            loss = F.mse_loss(out, x.mean(1, keepdim=True))
            loss.backward()
            opt.step()
            return loss
        return Case(step, lambda: [model, opt], images(sizes=[8, 8, 9, 8, 11, 8, 8]))

    same_as_eager(setup)


class TimeSeriesCNN(nn.Module):
    def __init__(self, in_ch=2):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv1d(in_ch, 4, kernel_size=3, padding=1), nn.BatchNorm1d(4), nn.ReLU(),
            nn.AvgPool1d(2),
            nn.Conv1d(4, 8, kernel_size=3, padding=2, dilation=2), nn.BatchNorm1d(8), nn.ReLU(),
            nn.AvgPool1d(kernel_size=3, stride=2, padding=1, count_include_pad=False),
            nn.AdaptiveAvgPool1d(1), nn.Flatten(), nn.Linear(8, 1))

    def forward(self, x):
        return self.net(x).squeeze(-1)


def test_time_series_conv1d_avgpool1d_regression_float64():
    def setup():
        model = TimeSeriesCNN().double()
        opt = optim.Adam(model.parameters(), lr=1e-2, amsgrad=True)

        def inputs(i):
            g = np.random.default_rng(3000 + i)
            b, t = BATCHES[i], [16, 16, 16, 12, 16, 20, 16][i]
            x = torch.tensor(g.standard_normal((b, 2, t)))
            return x, x[:, 0].mean(1)

        def step(x, y):
            model.train()
            opt.zero_grad()
            loss = F.smooth_l1_loss(model(x), y)
            loss.backward()
            opt.step()
            return loss
        return Case(step, lambda: [model, opt], inputs)

    same_as_eager(setup)


def test_conv1d_causal_padding_wavenet_style_blocks():
    """Causal Conv1d: left-padding with F.pad, gated tanh * sigmoid, residual and skip sums."""
    class Block(nn.Module):
        def __init__(self, c, dilation):
            super().__init__()
            self.dilation = dilation
            self.filt = nn.Conv1d(c, c, 2, dilation=dilation)
            self.gate = nn.Conv1d(c, c, 2, dilation=dilation)
            self.res = nn.Conv1d(c, c, 1)

        def forward(self, x):
            h = F.pad(x, (self.dilation, 0))
            z = torch.tanh(self.filt(h)) * torch.sigmoid(self.gate(h))
            return x + self.res(z), z

    def setup():
        blocks = nn.ModuleList([Block(4, d) for d in (1, 2, 4)])
        inp, out = nn.Conv1d(1, 4, 1), nn.Conv1d(4, 1, 1)
        model = nn.ModuleList([blocks, inp, out])
        opt = optim.Adam(model.parameters(), lr=1e-2)

        def inputs(i):
            g = np.random.default_rng(4000 + i)
            x = torch.tensor(g.standard_normal((BATCHES[i], 1, [16, 16, 12, 16, 20, 16, 16][i])).astype(np.float32))
            return (x,)

        def step(x):
            opt.zero_grad()
            h = inp(x[:, :, :-1])
            skips = 0
            for block in blocks:
                h, s = block(h)
                skips = skips + s
            pred = out(F.relu(skips))
            loss = F.mse_loss(pred, x[:, :, 1:])
            loss.backward()
            opt.step()
            return loss
        return Case(step, lambda: [model, opt], inputs)

    same_as_eager(setup)


# ----------------------------------------------------------------------------- LSTM / GRU with packing
def padded_batches(lengths_per_call, vocab=15, classes=3, sort=False):
    def inputs(i):
        g = np.random.default_rng(5000 + i)
        lengths = np.array(lengths_per_call[i % len(lengths_per_call)])
        if sort:
            lengths = np.sort(lengths)[::-1].copy()
        tokens = g.integers(1, vocab, (len(lengths), lengths.max()))
        tokens[np.arange(lengths.max())[None, :] >= lengths[:, None]] = 0
        return torch.tensor(tokens), torch.tensor(lengths), torch.tensor(g.integers(0, classes, len(lengths)))
    return inputs


LENGTHS = [[5, 3, 4, 2], [4, 4, 1, 3], [6, 2, 5, 3], [3, 1], [5, 5, 5, 5], [2, 6, 3, 4], [4, 2, 3]]


class LSTMClassifier(nn.Module):
    def __init__(self, vocab=15, embed=5, hidden=6, classes=3, num_layers=1, bidirectional=False, dropout=0.0,
                 cell=nn.LSTM):
        super().__init__()
        self.embedding = nn.Embedding(vocab, embed, padding_idx=0)
        self.rnn = cell(embed, hidden, num_layers=num_layers, bidirectional=bidirectional, batch_first=True,
                        dropout=dropout)
        self.fc = nn.Linear(hidden * (2 if bidirectional else 1), classes)
        self.bidirectional = bidirectional

    def forward(self, text, text_lengths):
        embedded = self.embedding(text)
        packed = pack_padded_sequence(embedded, text_lengths, batch_first=True, enforce_sorted=False)
        packed_output, hidden = self.rnn(packed)
        if isinstance(hidden, tuple):
            hidden = hidden[0]
        if self.bidirectional:
            hidden = torch.cat((hidden[-2, :, :], hidden[-1, :, :]), dim=1)
        else:
            hidden = hidden[-1]
        return self.fc(hidden)


def rnn_step(model, opt, clip=None):
    def step(text, lengths, y):
        model.train()
        opt.zero_grad()
        predictions = model(text, lengths)
        loss = F.cross_entropy(predictions, y)
        loss.backward()
        if clip is not None:
            nn.utils.clip_grad_norm_(model.parameters(), clip)
        opt.step()
        acc = (predictions.argmax(1) == y).float().mean()
        return loss, acc
    return step


def test_lstm_classifier_pack_padded_unsorted_lengths():
    def setup():
        model = LSTMClassifier()
        opt = optim.Adam(model.parameters(), lr=1e-2)
        return Case(rnn_step(model, opt), lambda: [model, opt], padded_batches(LENGTHS))

    same_as_eager(setup)


def test_bidirectional_gru_classifier_with_clipping():
    def setup():
        model = LSTMClassifier(cell=nn.GRU, bidirectional=True)
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        return Case(rnn_step(model, opt, clip=0.5), lambda: [model, opt], padded_batches(LENGTHS))

    same_as_eager(setup)


def test_two_layer_lstm_with_inter_layer_dropout_train_eval():
    def setup():
        model = LSTMClassifier(num_layers=2, dropout=0.3, bidirectional=True)
        opt = optim.Adam(model.parameters(), lr=1e-2)

        def step(text, lengths, y, train):
            if train:
                return rnn_step(model, opt, clip=1.0)(text, lengths, y)
            model.eval()
            with torch.no_grad():
                predictions = model(text, lengths)
                return F.cross_entropy(predictions, y), (predictions.argmax(1) == y).float().mean()
        return Case(step, lambda: [model, opt], with_mode(padded_batches(LENGTHS), [True, True, False, True, True,
                                                                                  False, True]))

    same_as_eager(setup)


def test_lstm_pad_packed_mean_over_valid_steps_sorted_time_major():
    """enforce_sorted=True on lengths sorted by the loader, time-major, pad_packed_sequence and a masked mean."""
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(15, 5, padding_idx=0)
            self.lstm = nn.LSTM(5, 6)
            self.fc = nn.Linear(6, 3)

        def forward(self, text, lengths):
            emb = self.embedding(text.t())
            packed = pack_padded_sequence(emb, lengths)
            out, (h, c) = self.lstm(packed)
            out, out_lengths = pad_packed_sequence(out, total_length=text.size(1))
            mask = (torch.arange(out.size(0))[:, None] < out_lengths[None, :]).unsqueeze(-1).float()
            mean = (out * mask).sum(0) / out_lengths[:, None].float()
            return self.fc(mean + c[-1])

    def setup():
        model = Net()
        opt = optim.Adam(model.parameters(), lr=1e-2)
        return Case(rnn_step(model, opt), lambda: [model, opt], padded_batches(LENGTHS, sort=True))

    same_as_eager(setup)


def test_gru_language_model_truncated_bptt_hidden_carried_between_calls():
    """The char-RNN loop: hidden state kept on the model (detached) and reset when the batch size changes."""
    class CharRNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(10, 4)
            self.gru = nn.GRU(4, 8, num_layers=2, batch_first=True)
            self.fc = nn.Linear(8, 10)
            self.hidden = None

        def forward(self, x):
            if self.hidden is not None and self.hidden.size(1) != x.size(0):
                self.hidden = None
            out, h = self.gru(self.embed(x), self.hidden)
            self.hidden = h.detach()
            return self.fc(out)

    def setup():
        model = CharRNN()
        opt = optim.Adam(model.parameters(), lr=5e-3)

        def inputs(i):
            g = np.random.default_rng(6000 + i)
            seq = torch.tensor(g.integers(0, 10, (BATCHES[i], 7)))
            return seq[:, :-1], seq[:, 1:]

        def step(x, y):
            opt.zero_grad()
            logits = model(x)
            loss = F.cross_entropy(logits.reshape(-1, 10), y.reshape(-1))
            loss.backward()
            nn.utils.clip_grad_value_(model.parameters(), 0.5)
            opt.step()
            return loss
        return Case(step, lambda: [model, opt], inputs)

    same_as_eager(setup)


# ----------------------------------------------------------------------------- transformer encoders
class PositionalEncoding(nn.Module):
    def __init__(self, d_model, dropout=0.1, max_len=32):
        super().__init__()
        self.dropout = nn.Dropout(p=dropout)
        position = torch.arange(max_len).unsqueeze(1)
        div_term = torch.exp(torch.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
        pe = torch.zeros(1, max_len, d_model)
        pe[0, :, 0::2] = torch.sin(position * div_term)
        pe[0, :, 1::2] = torch.cos(position * div_term)
        self.register_buffer("pe", pe)

    def forward(self, x):
        x = x + self.pe[:, :x.size(1)]
        return self.dropout(x)


class TransformerClassifier(nn.Module):
    def __init__(self, vocab=15, d_model=8, nhead=2, layers=1, classes=3, norm_first=False, activation="relu"):
        super().__init__()
        self.d_model = d_model
        self.embedding = nn.Embedding(vocab, d_model, padding_idx=0)
        self.pos = PositionalEncoding(d_model)
        layer = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward=16, dropout=0.1, batch_first=True,
                                           norm_first=norm_first, activation=activation)
        self.encoder = nn.TransformerEncoder(layer, num_layers=layers, enable_nested_tensor=False)
        self.fc = nn.Linear(d_model, classes)

    def forward(self, src, lengths):
        pad_mask = src == 0
        x = self.pos(self.embedding(src) * math.sqrt(self.d_model))
        x = self.encoder(x, src_key_padding_mask=pad_mask)
        keep = (~pad_mask).unsqueeze(-1).float()
        pooled = (x * keep).sum(1) / keep.sum(1)
        return self.fc(pooled)


def test_transformer_encoder_layer_batch_first_padding_mask():
    def setup():
        model = TransformerClassifier()
        opt = optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.98), eps=1e-9)
        return Case(rnn_step(model, opt), lambda: [model, opt], padded_batches(LENGTHS))

    same_as_eager(setup)


def test_transformer_two_layers_norm_first_gelu_train_eval_with_warmup():
    def setup():
        model = TransformerClassifier(layers=2, norm_first=True, activation="gelu")
        opt = optim.AdamW(model.parameters(), lr=1e-3)
        sched = optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / 3))

        def step(text, lengths, y, train):
            if train:
                out = rnn_step(model, opt, clip=1.0)(text, lengths, y)
                sched.step()
                return out
            model.eval()
            with torch.no_grad():
                predictions = model(text, lengths)
                return F.cross_entropy(predictions, y), (predictions.argmax(1) == y).float().mean()
        return Case(step, lambda: [model, opt, sched],
                    with_mode(padded_batches(LENGTHS), [True, True, False, True, True, False, True]))

    same_as_eager(setup)


def test_single_transformer_encoder_layer_with_causal_mask_and_padding_mask():
    """A decoder-only LM from nn.TransformerEncoderLayer: a square causal mask sized per call plus padding."""
    def setup():
        emb = nn.Embedding(15, 8, padding_idx=0)
        layer = nn.TransformerEncoderLayer(d_model=8, nhead=2, dim_feedforward=16, dropout=0.0, batch_first=True)
        head = nn.Linear(8, 15)
        model = nn.ModuleList([emb, layer, head])
        opt = optim.Adam(model.parameters(), lr=1e-3)

        def step(text, lengths, y):
            x, target = text[:, :-1], text[:, 1:]
            mask = nn.Transformer.generate_square_subsequent_mask(x.size(1))
            h = layer(emb(x), src_mask=mask, src_key_padding_mask=(x == 0))
            logits = head(h)
            loss = F.cross_entropy(logits.reshape(-1, 15), target.reshape(-1), ignore_index=0)
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss
        return Case(step, lambda: [model, opt], padded_batches([[5, 3, 4, 2], [4, 4, 2, 3], [6, 2, 5, 3], [3, 2],
                                                                [5, 5, 5, 5], [2, 6, 3, 4], [4, 2, 3]]))

    same_as_eager(setup)


def test_transformer_encoder_train_then_eval_under_set_grad_enabled():
    """``model.train(flag)`` and ``torch.set_grad_enabled(flag)`` from one argument, the padding mask from lengths."""
    def setup():
        layer = nn.TransformerEncoderLayer(8, 2, 16, batch_first=True)
        enc = nn.TransformerEncoder(layer, 2)
        opt = optim.Adam(enc.parameters(), lr=1e-3)

        def step(x, lengths, train):
            mask = torch.arange(x.size(1))[None, :] >= lengths[:, None]
            enc.train(train)
            with torch.set_grad_enabled(train):
                out = enc(x, src_key_padding_mask=mask)
                loss = out.pow(2).mean()
                if train:
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
            return loss, out

        def inputs(i):
            g = np.random.default_rng(7000 + i)
            lengths = np.array(LENGTHS[i])
            x = torch.tensor(g.standard_normal((len(lengths), lengths.max(), 8)).astype(np.float32))
            return x, torch.tensor(lengths), [True, False, True, True, False, False, True][i]
        return Case(step, lambda: [enc, opt], inputs)

    same_as_eager(setup)
