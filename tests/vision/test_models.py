"""chainrule.vision.models against torchvision's networks: torchvision is not installed, so each
architecture is transcribed below in PyTorch, module for module as torchvision writes it. A chainrule
model's state dict must have exactly the keys and shapes of the transcription's (so torchvision's
checkpoints load), and, copied into it, give the same outputs (and, for ResNet-18 in training
mode, the same gradients and running statistics)."""
import numpy as np
import pytest
import torch
from torch import nn as tnn

import chainrule
from chainrule import nn
from chainrule.vision import models
from chainrule.vision.models import vgg as vgg_module

# ---- torchvision's architectures, transcribed in PyTorch ----


class TorchBasicBlock(tnn.Module):
    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None, dilation=1):
        super().__init__()
        self.conv1 = tnn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = tnn.BatchNorm2d(planes)
        self.relu = tnn.ReLU(inplace=True)
        self.conv2 = tnn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = tnn.BatchNorm2d(planes)
        self.downsample = downsample

    def forward(self, x):
        out = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
        return self.relu(out + (x if self.downsample is None else self.downsample(x)))


class TorchBottleneck(tnn.Module):
    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None, dilation=1):
        super().__init__()
        self.conv1 = tnn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = tnn.BatchNorm2d(planes)
        self.conv2 = tnn.Conv2d(planes, planes, 3, stride, dilation, dilation=dilation, bias=False)
        self.bn2 = tnn.BatchNorm2d(planes)
        self.conv3 = tnn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = tnn.BatchNorm2d(planes * 4)
        self.relu = tnn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn3(self.conv3(self.relu(self.bn2(self.conv2(out)))))
        return self.relu(out + (x if self.downsample is None else self.downsample(x)))


class TorchResNet(tnn.Module):
    def __init__(self, block, layers, num_classes=1000, replace_stride_with_dilation=(False, False, False)):
        super().__init__()
        self.inplanes, self.dilation = 64, 1
        self.conv1 = tnn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = tnn.BatchNorm2d(64)
        self.relu = tnn.ReLU(inplace=True)
        self.maxpool = tnn.MaxPool2d(3, 2, 1)
        self.layer1 = self._make_layer(block, 64, layers[0], 1, False)
        self.layer2 = self._make_layer(block, 128, layers[1], 2, replace_stride_with_dilation[0])
        self.layer3 = self._make_layer(block, 256, layers[2], 2, replace_stride_with_dilation[1])
        self.layer4 = self._make_layer(block, 512, layers[3], 2, replace_stride_with_dilation[2])
        self.avgpool = tnn.AdaptiveAvgPool2d((1, 1))
        self.fc = tnn.Linear(512 * block.expansion, num_classes)

    def _make_layer(self, block, planes, blocks, stride, dilate):
        previous_dilation = self.dilation
        if dilate:
            self.dilation *= stride
            stride = 1
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = tnn.Sequential(
                tnn.Conv2d(self.inplanes, planes * block.expansion, 1, stride, bias=False),
                tnn.BatchNorm2d(planes * block.expansion),
            )
        layers = [block(self.inplanes, planes, stride, downsample, previous_dilation)]
        self.inplanes = planes * block.expansion
        layers += [block(self.inplanes, planes, dilation=self.dilation) for _ in range(1, blocks)]
        return tnn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def torch_vgg_features(cfg, batch_norm):
    layers, in_channels = [], 3
    for v in cfg:
        if v == "M":
            layers.append(tnn.MaxPool2d(2, 2))
        else:
            layers += [tnn.Conv2d(in_channels, v, 3, padding=1)]
            layers += [tnn.BatchNorm2d(v), tnn.ReLU(True)] if batch_norm else [tnn.ReLU(True)]
            in_channels = v
    return tnn.Sequential(*layers)


def torch_classifier_head(in_features, hidden, num_classes, dropout_first):
    """VGG's head (Linear, ReLU, Dropout twice, Linear) or AlexNet's (Dropout, Linear, ReLU twice, Linear)."""
    if dropout_first:
        return tnn.Sequential(
            tnn.Dropout(), tnn.Linear(in_features, hidden), tnn.ReLU(True),
            tnn.Dropout(), tnn.Linear(hidden, hidden), tnn.ReLU(True), tnn.Linear(hidden, num_classes),
        )
    return tnn.Sequential(
        tnn.Linear(in_features, hidden), tnn.ReLU(True), tnn.Dropout(),
        tnn.Linear(hidden, hidden), tnn.ReLU(True), tnn.Dropout(), tnn.Linear(hidden, num_classes),
    )


class TorchPooledClassifier(tnn.Module):
    """VGG and AlexNet: features, adaptive average pool, flatten, classifier."""

    def __init__(self, features, pool_size, classifier):
        super().__init__()
        self.features, self.avgpool, self.classifier = features, tnn.AdaptiveAvgPool2d(pool_size), classifier

    def forward(self, x):
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


def torch_alexnet_features():
    return tnn.Sequential(
        tnn.Conv2d(3, 64, 11, 4, 2), tnn.ReLU(True), tnn.MaxPool2d(3, 2),
        tnn.Conv2d(64, 192, 5, padding=2), tnn.ReLU(True), tnn.MaxPool2d(3, 2),
        tnn.Conv2d(192, 384, 3, padding=1), tnn.ReLU(True),
        tnn.Conv2d(384, 256, 3, padding=1), tnn.ReLU(True),
        tnn.Conv2d(256, 256, 3, padding=1), tnn.ReLU(True), tnn.MaxPool2d(3, 2),
    )


def torch_conv_bn_relu6(inp, oup, kernel_size=3, stride=1, groups=1):
    return tnn.Sequential(
        tnn.Conv2d(inp, oup, kernel_size, stride, (kernel_size - 1) // 2, groups=groups, bias=False),
        tnn.BatchNorm2d(oup), tnn.ReLU6(inplace=True),
    )


class TorchInvertedResidual(tnn.Module):
    def __init__(self, inp, oup, stride, expand_ratio):
        super().__init__()
        hidden = int(round(inp * expand_ratio))
        self.use_res_connect = stride == 1 and inp == oup
        layers = [torch_conv_bn_relu6(inp, hidden, 1)] if expand_ratio != 1 else []
        layers += [torch_conv_bn_relu6(hidden, hidden, 3, stride, hidden), tnn.Conv2d(hidden, oup, 1, bias=False), tnn.BatchNorm2d(oup)]
        self.conv = tnn.Sequential(*layers)

    def forward(self, x):
        return x + self.conv(x) if self.use_res_connect else self.conv(x)


class TorchMobileNetV2(tnn.Module):
    def __init__(self, num_classes=1000, width_mult=1.0):
        super().__init__()

        def divisible(v):
            rounded = max(8, int(v + 4) // 8 * 8)
            return rounded + 8 if rounded < 0.9 * v else rounded

        setting = [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2], [6, 96, 3, 1], [6, 160, 3, 2], [6, 320, 1, 1]]
        channels, last = divisible(32 * width_mult), divisible(1280 * max(1.0, width_mult))
        features = [torch_conv_bn_relu6(3, channels, stride=2)]
        for t, c, n, s in setting:
            for i in range(n):
                features.append(TorchInvertedResidual(channels, divisible(c * width_mult), s if i == 0 else 1, t))
                channels = divisible(c * width_mult)
        features.append(torch_conv_bn_relu6(channels, last, 1))
        self.features = tnn.Sequential(*features)
        self.classifier = tnn.Sequential(tnn.Dropout(0.2), tnn.Linear(last, num_classes))

    def forward(self, x):
        return self.classifier(torch.flatten(tnn.functional.adaptive_avg_pool2d(self.features(x), 1), 1))


# ---- helpers ----


def torch_twin(ours, build_theirs):
    """``build_theirs()`` built on PyTorch's meta device (no memory, no random draws), then given
    copies of ``ours``'s values, after checking that the two state dicts have the same keys in the
    same order and the same shapes."""
    with torch.device("meta"):
        theirs = build_theirs()
    state, their_state = ours.state_dict(), theirs.state_dict()
    assert list(state) == list(their_state)
    for key, value in state.items():
        assert tuple(value.shape) == tuple(their_state[key].shape), key
    theirs.load_state_dict({key: torch.from_numpy(value.numpy().copy()) for key, value in state.items()}, assign=True)
    return theirs


def random_image(batch, size, seed=0):
    return np.random.default_rng(seed).standard_normal((batch, 3, size, size)).astype(np.float32)


def assert_same_eval_output(ours, build_theirs, image, atol=1e-4):
    theirs = torch_twin(ours, build_theirs)
    ours.eval()
    theirs.eval()
    with chainrule.no_grad():
        output = ours(chainrule.tensor(image)).numpy()
    with torch.no_grad():
        expected = theirs(torch.from_numpy(image)).numpy()
    assert output.dtype == np.float32
    np.testing.assert_allclose(output, expected, rtol=1e-4, atol=atol)


def randomize_batch_norm(model):
    """Running statistics and affine values away from 1 and 0, so that eval mode tests them."""
    generator = np.random.default_rng(1)
    with chainrule.no_grad():
        for module in model.modules():
            if isinstance(module, nn.BatchNorm2d):
                size = module.num_features
                module.running_mean.copy_(chainrule.tensor(generator.normal(0, 0.1, size).astype(np.float32)))
                module.running_var.copy_(chainrule.tensor(generator.uniform(0.5, 1.5, size).astype(np.float32)))
                module.weight.copy_(chainrule.tensor(generator.uniform(0.5, 1.5, size).astype(np.float32)))
                module.bias.copy_(chainrule.tensor(generator.normal(0, 0.1, size).astype(np.float32)))


# ---- every model: torchvision's state dict, key for key ----


@pytest.fixture
def without_initialization(monkeypatch):
    """Layers built without drawing their starting values (their memory left untouched), for
    tests that look only at names and shapes: the 60 to 140 million values of ResNet-152 or VGG
    take seconds to sample."""
    monkeypatch.setattr(nn.Linear, "reset_parameters", lambda self: None)
    monkeypatch.setattr(nn.Conv2d, "reset_parameters", lambda self: None)
    monkeypatch.setattr(nn.init, "kaiming_normal_", lambda tensor, *args, **kwargs: tensor)
    monkeypatch.setattr(nn.init, "normal_", lambda tensor, *args, **kwargs: tensor)


def torch_vgg(cfg, batch_norm):
    return TorchPooledClassifier(
        torch_vgg_features(vgg_module.cfgs[cfg], batch_norm), (7, 7), torch_classifier_head(25088, 4096, 1000, False)
    )


TORCHVISION_LAYOUTS = {
    "resnet18": lambda: TorchResNet(TorchBasicBlock, [2, 2, 2, 2]),
    "resnet34": lambda: TorchResNet(TorchBasicBlock, [3, 4, 6, 3]),
    "resnet50": lambda: TorchResNet(TorchBottleneck, [3, 4, 6, 3]),
    "resnet101": lambda: TorchResNet(TorchBottleneck, [3, 4, 23, 3]),
    "resnet152": lambda: TorchResNet(TorchBottleneck, [3, 8, 36, 3]),
    "vgg11": lambda: torch_vgg("A", False),
    "vgg11_bn": lambda: torch_vgg("A", True),
    "vgg13": lambda: torch_vgg("B", False),
    "vgg13_bn": lambda: torch_vgg("B", True),
    "vgg16": lambda: torch_vgg("D", False),
    "vgg16_bn": lambda: torch_vgg("D", True),
    "vgg19": lambda: torch_vgg("E", False),
    "vgg19_bn": lambda: torch_vgg("E", True),
    "alexnet": lambda: TorchPooledClassifier(torch_alexnet_features(), (6, 6), torch_classifier_head(9216, 4096, 1000, True)),
    "mobilenet_v2": TorchMobileNetV2,
}


@pytest.mark.parametrize("name", sorted(TORCHVISION_LAYOUTS))
def test_every_model_has_torchvisions_state_dict(name, without_initialization):
    model = models.get_model(name)
    with torch.device("meta"):
        theirs = TORCHVISION_LAYOUTS[name]()
    assert [(key, tuple(value.shape)) for key, value in model.state_dict().items()] == [
        (key, tuple(value.shape)) for key, value in theirs.state_dict().items()
    ]
    num_params = models.get_model_weights(name).DEFAULT.meta["num_params"]
    assert sum(parameter.numel() for parameter in model.parameters()) == num_params


# ---- ResNet ----


def test_resnet18_outputs_as_torchvisions():
    model = models.resnet18()
    randomize_batch_norm(model)
    assert_same_eval_output(model, lambda: TorchResNet(TorchBasicBlock, [2, 2, 2, 2]), random_image(2, 64))


def test_resnet18_trains_as_torch_does():
    """Gradients in float64: in float32, the training-mode BatchNorms over a few values in layer4
    make both libraries' weight gradients noisy (up to 10%), while in float64 they agree to 1e-14."""
    model = models.resnet18(num_classes=5)
    theirs = torch_twin(model, lambda: TorchResNet(TorchBasicBlock, [2, 2, 2, 2], num_classes=5))
    model.double()
    theirs.double()
    image, target = random_image(3, 32).astype(np.float64), np.array([0, 3, 4])
    loss = nn.functional.cross_entropy(model(chainrule.tensor(image)), chainrule.tensor(target))
    loss.backward()
    their_loss = tnn.functional.cross_entropy(theirs(torch.from_numpy(image)), torch.from_numpy(target))
    their_loss.backward()
    np.testing.assert_allclose(loss.item(), their_loss.item(), rtol=1e-12)
    ours, their_parameters = dict(model.named_parameters()), dict(theirs.named_parameters())
    for name in ("conv1.weight", "layer1.0.bn1.weight", "layer3.0.downsample.0.weight", "layer4.1.conv2.weight", "fc.bias"):
        expected = their_parameters[name].grad.numpy()
        np.testing.assert_allclose(ours[name].grad.numpy(), expected, rtol=1e-9, atol=1e-12 * np.abs(expected).max())
    np.testing.assert_allclose(model.layer2[0].bn1.running_var.numpy(), theirs.layer2[0].bn1.running_var.numpy(), rtol=1e-12)
    assert model.bn1.num_batches_tracked.item() == 1


def test_resnet50_with_dilation_outputs_as_torchvisions():
    model = models.resnet50(num_classes=3, replace_stride_with_dilation=[False, True, True])
    randomize_batch_norm(model)
    assert model.layer4[0].conv2.stride == (1, 1) and model.layer4[0].conv2.dilation == (2, 2)
    assert model.layer4[1].conv2.dilation == (4, 4)  # a stage's first block keeps the dilation before it
    dilated = (False, True, True)
    assert_same_eval_output(model, lambda: TorchResNet(TorchBottleneck, [3, 4, 6, 3], 3, dilated), random_image(1, 32))


def test_resnet_initialization_is_torchvisions():
    model = models.resnet18(zero_init_residual=True)
    weight = model.layer3[0].conv2.weight.detach().numpy()  # 256 x 256 x 3 x 3: fan_out = 256 * 9
    assert abs(weight.std() - np.sqrt(2.0 / (256 * 9))) < 0.02 * np.sqrt(2.0 / (256 * 9))
    assert (model.layer1[0].bn2.weight.detach().numpy() == 0).all()
    assert (model.layer1[0].bn1.weight.detach().numpy() == 1).all() and (model.bn1.bias.detach().numpy() == 0).all()
    bottlenecks = models.ResNet(models.Bottleneck, [1, 1, 1, 1], zero_init_residual=True)
    assert (bottlenecks.layer2[0].bn3.weight.detach().numpy() == 0).all()
    assert (bottlenecks.layer2[0].bn2.weight.detach().numpy() == 1).all()


def test_basic_block_refuses_groups_and_dilation():
    with pytest.raises(ValueError, match="BasicBlock only supports groups=1 and base_width=64"):
        models.resnet18(groups=2)
    with pytest.raises(NotImplementedError, match="Dilation > 1 not supported in BasicBlock"):
        models.resnet18(replace_stride_with_dilation=[False, False, True])
    with pytest.raises(ValueError, match="replace_stride_with_dilation should be None or a 3-element tuple"):
        models.resnet50(replace_stride_with_dilation=[True])


# ---- VGG and AlexNet: the convolutions at 32x32 (five poolings), AlexNet's head ----


@pytest.mark.parametrize("cfg, batch_norm", [("A", False), ("E", True)])
def test_vgg_features_match(cfg, batch_norm):
    features = vgg_module.make_layers(vgg_module.cfgs[cfg], batch_norm=batch_norm)
    if batch_norm:
        randomize_batch_norm(features)
    assert_same_eval_output(features, lambda: torch_vgg_features(vgg_module.cfgs[cfg], batch_norm), random_image(1, 32))


@pytest.fixture
def cheap_linear(monkeypatch):
    """Linear layers filled in place with float32 uniform noise in [-0.01, 0.01), instead of
    chainrule's sampling of VGG's and AlexNet's 100 million starting values (seconds per model)."""
    generator = np.random.default_rng(2)

    def reset_parameters(self):
        for values in (self.weight.detach().numpy(), self.bias.detach().numpy()):
            generator.random(out=values, dtype=np.float32)
            values -= 0.5
            values *= 0.02

    monkeypatch.setattr(nn.Linear, "reset_parameters", reset_parameters)


def test_alexnet_has_torchvisions_layout_and_outputs(cheap_linear):
    model = models.alexnet(num_classes=10)
    theirs = lambda: TorchPooledClassifier(torch_alexnet_features(), (6, 6), torch_classifier_head(9216, 4096, 10, True))
    assert_same_eval_output(model, theirs, random_image(1, 64), atol=1e-5)


# ---- MobileNetV2 ----


def test_mobilenet_v2_outputs_as_torchvisions():
    model = models.mobilenet_v2(num_classes=10)
    randomize_batch_norm(model)
    assert_same_eval_output(model, lambda: TorchMobileNetV2(num_classes=10), random_image(1, 32))


def test_mobilenet_v2_width_multiplier_rounds_widths_as_torchvision(without_initialization):
    model = models.mobilenet_v2(num_classes=10, width_mult=0.35)
    with torch.device("meta"):
        theirs = TorchMobileNetV2(num_classes=10, width_mult=0.35)
    assert {key: tuple(value.shape) for key, value in model.state_dict().items()} == {
        key: tuple(value.shape) for key, value in theirs.state_dict().items()
    }


# ---- builders and weights ----


def test_weights_enums_as_torchvision():
    weights = models.ResNet50_Weights
    assert weights.DEFAULT is weights.IMAGENET1K_V2 and repr(weights.DEFAULT) == "ResNet50_Weights.IMAGENET1K_V2"
    assert models.ResNet18_Weights.DEFAULT.url == "https://download.pytorch.org/models/resnet18-f37072fd.pth"
    categories = models.ResNet18_Weights.DEFAULT.meta["categories"]
    assert len(categories) == 1000 and categories[0] == "tench" and categories[207] == "golden retriever"
    assert weights.verify("ResNet50_Weights.IMAGENET1K_V1") is weights.IMAGENET1K_V1
    assert weights.verify("DEFAULT") is weights.IMAGENET1K_V2 and weights.verify(None) is None
    with pytest.raises(TypeError, match="expected ResNet50_Weights but received ResNet18_Weights"):
        models.resnet50(weights=models.ResNet18_Weights.DEFAULT)
    with pytest.raises(KeyError):
        weights.verify("IMAGENET1K_V9")
    assert models.get_weight("MobileNet_V2_Weights.DEFAULT") is models.MobileNet_V2_Weights.IMAGENET1K_V2
    assert models.get_model_weights("vgg16_bn") is models.VGG16_BN_Weights
    assert models.get_model_weights(models.resnet18) is models.ResNet18_Weights
    assert "resnet152" in models.list_models() and "vgg19_bn" in models.list_models()
    with pytest.raises(ValueError, match="Unknown model resnet9"):
        models.get_model("resnet9")


def test_transforms_of_the_weights_preprocess_as_imagenet_classifiers_expect():
    preprocess = models.ResNet50_Weights.IMAGENET1K_V2.transforms()
    assert preprocess.resize_size == [232] and preprocess.crop_size == [224]
    image = np.random.default_rng(0).integers(0, 256, (3, 300, 260), dtype=np.uint8)
    batch = preprocess(chainrule.tensor(image))
    assert tuple(batch.shape) == (3, 224, 224) and batch.dtype == chainrule.float32
    resized = tnn.functional.interpolate(torch.from_numpy(image).float()[None], size=(267, 232), mode="bilinear", antialias=True, align_corners=False)
    expected = resized.round().clamp(0, 255)[0, :, 22:246, 4:228] / 255
    expected = (expected - torch.tensor([0.485, 0.456, 0.406])[:, None, None]) / torch.tensor([0.229, 0.224, 0.225])[:, None, None]
    np.testing.assert_allclose(batch.numpy(), expected.numpy(), atol=2e-2)


def test_legacy_pretrained_false_and_positional_arguments_warn_as_torchvision():
    with pytest.warns(UserWarning) as warned:
        model = models.mobilenet_v2(pretrained=False, num_classes=4)
    assert model.classifier[1].out_features == 4
    assert [str(warning.message) for warning in warned] == [
        "The parameter 'pretrained' is deprecated since 0.13 and may be removed in the future, please use 'weights' "
        "instead.",
        "Arguments other than a weight enum or `None` for 'weights' are deprecated since 0.13 and may be removed in "
        "the future. The current behavior is equivalent to passing `weights=None`.",
    ]
    with pytest.warns(UserWarning, match="Using 'weights' and 'progress' as positional parameter"):
        models.mobilenet_v2(None, False, num_classes=4)
    with pytest.raises(TypeError, match="at most 2 positional arguments"):
        models.mobilenet_v2(None, True, 4)
