"""chainrule.compile against eager execution for convolutional / vision training steps:
convolutions with every padding mode, 'same' padding with even kernels, dilation, groups and
stride; transposed convolutions whose ``output_size`` changes from call to call; pooling with
ceil mode, count_include_pad, divisor_override and unpooling; interpolation with per-call scale
factors; grid sampling from a learned affine map; per-call padding widths; pixel shuffles;
normalizations over channels-first and channels-last layouts; channel dropout; residual blocks
with in-place ReLU; augmentation drawn inside the step; unfold/fold; label smoothing; mixup.

Each test runs the same calls eagerly (twice, to be sure eager itself is deterministic) and
compiled, from the same seed, and compares bit for bit what each call returned or raised, the
parameters, gradients, buffers, optimizer state, and the random stream afterwards. A fall-back to
eager (one warning) is allowed; a replay giving other bits, or raising where eager does not, is a bug.
"""
import warnings

import numpy as np
import pytest

import chainrule
from chainrule import nn, optim
from chainrule.nn import functional as F
from tests.compile.bitwise import assert_identical


# ----------------------------------------------------------------------------- the harness
def arr(tensor):
    return np.array(tensor.detach().numpy(), copy=True)


def observe(value, returned=False):
    if isinstance(value, chainrule.Tensor):
        grad = None if (returned or value.grad is None) else arr(value.grad)
        return ("tensor", arr(value), grad)
    if isinstance(value, (list, tuple)):
        return tuple(observe(item, returned) for item in value)
    if isinstance(value, dict):
        return {key: observe(item, returned) for key, item in value.items()}
    if isinstance(value, (int, float, str, bool, type(None))):
        return value
    return repr(type(value))


def state(objects):
    found = []
    for thing in objects:
        if isinstance(thing, nn.Module):
            found.append([(name, observe(p)) for name, p in thing.named_parameters()])
            found.append([(name, observe(b)) for name, b in thing.named_buffers()])
        elif isinstance(thing, optim.Optimizer):
            found.append([{k: observe(v) for k, v in s.items()} for s in thing.state.values()])
        elif isinstance(thing, chainrule.Tensor):
            found.append(observe(thing))
    return found


def run(setup, calls, compiled, seed=0):
    chainrule.manual_seed(seed)
    step, *objects = setup()
    function = chainrule.compile(step) if compiled else step
    history = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for args, kwargs in calls():
            try:
                result = function(*args, **kwargs)
                history.append(("ok", observe(result, returned=True)))
            except Exception as error:  # noqa: BLE001 - the exception is what we compare
                history.append(("raised", type(error).__name__, str(error)))
            history.append(state(objects))
    history.append(("random after", arr(chainrule.rand(5))))
    messages = [str(w.message) for w in caught if "chainrule.compile" in str(w.message) or "eager" in str(w.message)]
    return history, function, messages


def check(setup, calls, replays=None):
    """Compiled leaves behind eager's bits. ``replays=True`` also
    requires that it did not fall back; ``False`` that it did (with one warning)."""
    eager, _, eager_messages = run(setup, calls, False)
    compiled, function, messages = run(setup, calls, True)
    assert_identical(compiled, eager, "compiled against eager")
    fell_back = function.eager_reason is not None
    assert len(messages) <= 1 + len(eager_messages), messages
    if replays is True:
        assert not fell_back, function.eager_reason
    elif replays is False:
        assert fell_back
    return function


def data(shape, seed, dtype=np.float32, requires_grad=False):
    array = np.random.default_rng(seed).normal(size=shape).astype(dtype)
    return chainrule.tensor(array, requires_grad=requires_grad)


def labels(shape, classes, seed):
    return chainrule.tensor(np.random.default_rng(1000 + seed).integers(0, classes, size=shape))


def loss_of(output):
    if isinstance(output, chainrule.Tensor):
        return (output * output).mean() + output.sin().sum() * 0.1
    return sum(loss_of(item) for item in output if isinstance(item, chainrule.Tensor) and item.is_floating_point())


def fitting(make_model, lr=1e-2, opt=optim.Adam, loss=loss_of):
    def setup():
        model = make_model()
        optimizer = opt(model.parameters(), lr=lr)

        def step(x, *extra, **kwargs):
            optimizer.zero_grad()
            out = model(x, *extra, **kwargs)
            value = loss(out)
            value.backward()
            optimizer.step()
            return value, out

        return step, model, optimizer

    return setup


def images(shape=(2, 3, 8, 8), count=4, extra=lambda i: (), kwargs=lambda i: {}):
    return lambda: [((data(shape, i),) + tuple(extra(i)), kwargs(i)) for i in range(count)]


# ----------------------------------------------------------------------------- convolutions
CONVS = {
    "conv2d zeros": (lambda: nn.Conv2d(3, 4, 3, padding=1), (2, 3, 8, 8)),
    "conv2d reflect": (lambda: nn.Conv2d(3, 4, 3, padding=2, padding_mode="reflect"), (2, 3, 8, 8)),
    "conv2d replicate": (lambda: nn.Conv2d(3, 4, 3, padding=(1, 2), padding_mode="replicate"), (2, 3, 8, 8)),
    "conv2d circular": (lambda: nn.Conv2d(3, 4, 3, padding=(2, 1), padding_mode="circular"), (2, 3, 8, 8)),
    "conv2d circular stride dil": (lambda: nn.Conv2d(3, 4, 3, stride=2, dilation=2, padding=2, padding_mode="circular"), (2, 3, 8, 8)),
    "conv2d same even": (lambda: nn.Conv2d(3, 4, 4, padding="same"), (2, 3, 8, 8)),
    "conv2d same even dil": (lambda: nn.Conv2d(3, 4, (2, 4), padding="same", dilation=(3, 1)), (2, 3, 8, 8)),
    "conv2d same reflect even": (lambda: nn.Conv2d(3, 4, 4, padding="same", padding_mode="reflect"), (2, 3, 8, 8)),
    "conv2d valid": (lambda: nn.Conv2d(3, 4, 3, padding="valid", stride=(2, 3)), (2, 3, 8, 8)),
    "depthwise": (lambda: nn.Conv2d(4, 4, 3, groups=4, stride=2, padding=1, bias=False), (2, 4, 8, 8)),
    "groups 2 multiplier": (lambda: nn.Conv2d(4, 6, 3, groups=2, stride=(2, 1), dilation=(1, 2), padding=1), (2, 4, 8, 8)),
    "conv1d reflect same": (lambda: nn.Conv1d(3, 4, 4, padding="same", padding_mode="reflect"), (2, 3, 9)),
    "conv1d circular groups": (lambda: nn.Conv1d(4, 4, 3, groups=2, padding=1, padding_mode="circular"), (2, 4, 9)),
    "conv3d replicate": (lambda: nn.Conv3d(2, 3, 3, padding=1, padding_mode="replicate", stride=(1, 2, 2)), (2, 2, 4, 5, 5)),
    "conv3d same even": (lambda: nn.Conv3d(2, 3, 2, padding="same"), (1, 2, 4, 4, 4)),
    "convT output_padding": (lambda: nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1, output_padding=1), (2, 3, 5, 5)),
    "convT groups dilation": (lambda: nn.ConvTranspose2d(4, 4, 3, stride=(2, 1), groups=2, dilation=2), (2, 4, 4, 4)),
    "convT1d": (lambda: nn.ConvTranspose1d(3, 2, 4, stride=3, padding=1, output_padding=2), (2, 3, 5)),
    "convT3d": (lambda: nn.ConvTranspose3d(2, 2, 2, stride=2), (1, 2, 2, 3, 3)),
}


@pytest.mark.parametrize("name", list(CONVS))
def test_convolution_options_replay_as_eager(name):
    make, shape = CONVS[name]
    check(fitting(lambda: nn.Sequential(make(), nn.Tanh())), images(shape), replays=True)


def test_conv_transpose_output_size_changing_between_calls():
    sizes = [(9, 9), (10, 10), (9, 10), (10, 9), (9, 9), (10, 10)]
    check(fitting(lambda: nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1)),
          images((2, 3, 5, 5), count=6, kwargs=lambda i: {"output_size": list(sizes[i])}))


def test_conv_transpose_output_size_as_tensor_shape_changing():
    class Up(nn.Module):
        def __init__(self):
            super().__init__()
            self.up = nn.ConvTranspose2d(3, 3, 3, stride=2, padding=1)

        def forward(self, x, skip):
            return self.up(x, output_size=skip.shape) + skip

    sizes = [9, 10, 10, 9, 9]
    check(fitting(Up), lambda: [((data((2, 3, 5, 5), i), data((2, 3, sizes[i], sizes[i]), 50 + i)), {}) for i in range(5)])


def test_batch_size_changes_last_batch_smaller():
    model = lambda: nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 2))
    shapes = [(3, 3, 8, 8), (3, 3, 8, 8), (1, 3, 8, 8), (3, 3, 8, 8), (2, 3, 6, 6)]
    check(fitting(model), lambda: [((data(s, i),), {}) for i, s in enumerate(shapes)])


# ----------------------------------------------------------------------------- pooling
POOLS = {
    "max ceil": lambda: nn.MaxPool2d(3, stride=2, ceil_mode=True),
    "max ceil pad dil": lambda: nn.MaxPool2d(3, stride=2, padding=1, dilation=2, ceil_mode=True),
    "avg ceil pad incl": lambda: nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True),
    "avg ceil pad excl": lambda: nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
    "avg divisor": lambda: nn.AvgPool2d(2, divisor_override=3),
    "avg divisor ceil": lambda: nn.AvgPool2d(3, stride=2, ceil_mode=True, divisor_override=5, padding=1),
    "adaptive avg": lambda: nn.AdaptiveAvgPool2d((3, 5)),
    "adaptive avg None": lambda: nn.AdaptiveAvgPool2d((None, 3)),
    "adaptive max idx": lambda: nn.AdaptiveMaxPool2d(3, return_indices=True),
    "max idx": lambda: nn.MaxPool2d(2, return_indices=True),
    "lppool": lambda: nn.LPPool2d(2, 3, stride=2),
    "lppool ceil": lambda: nn.LPPool2d(1.5, 2, stride=3, ceil_mode=True),
    "fractional": lambda: nn.FractionalMaxPool2d(2, output_size=(4, 5)),
    "fractional ratio idx": lambda: nn.FractionalMaxPool2d(3, output_ratio=0.5, return_indices=True),
    "lrn": lambda: nn.LocalResponseNorm(2),
    "maxpool1d ceil": lambda: nn.Sequential(nn.Flatten(2), nn.MaxPool1d(5, stride=4, padding=2, ceil_mode=True)),
    "avgpool3d": lambda: nn.Sequential(nn.Unflatten(1, (1, 3)), nn.AvgPool3d(2, stride=(1, 2, 2), ceil_mode=True, count_include_pad=False, padding=1)),
}


@pytest.mark.parametrize("name", list(POOLS))
def test_pooling_options_replay_as_eager(name):
    model = lambda: nn.Sequential(nn.Conv2d(3, 3, 3, padding=1), POOLS[name]())
    shapes = [(2, 3, 8, 8), (2, 3, 8, 8), (2, 3, 9, 7), (2, 3, 8, 8), (2, 3, 9, 7)]
    check(fitting(model), lambda: [((data(s, i),), {}) for i, s in enumerate(shapes)])


def test_maxpool_indices_into_maxunpool_with_output_size():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 3, 3, padding=1)
            self.pool = nn.MaxPool2d(2, stride=2, return_indices=True)
            self.unpool = nn.MaxUnpool2d(2, stride=2)

        def forward(self, x):
            y = self.conv(x)
            pooled, indices = self.pool(y)
            back = self.unpool(pooled * 2, indices, output_size=y.size())
            return back, indices

    shapes = [(2, 3, 8, 8), (2, 3, 9, 9), (2, 3, 8, 8), (2, 3, 9, 9), (2, 3, 9, 9)]
    check(fitting(Net), lambda: [((data(s, i),), {}) for i, s in enumerate(shapes)])


# ----------------------------------------------------------------------------- resampling
class Resample(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 3, padding=1)

    def forward(self, x, scale, mode, align, recompute):
        kwargs = {} if mode in ("nearest", "nearest-exact", "area") else {"align_corners": align}
        return F.interpolate(self.conv(x), scale_factor=scale, mode=mode, recompute_scale_factor=recompute, **kwargs)


@pytest.mark.parametrize("mode", ["nearest", "nearest-exact", "bilinear", "bicubic", "area"])
def test_interpolate_with_per_call_scale_factor(mode):
    args = [(2.0, False, None), (1.5, True, True), (1.5, False, False), (2.0, False, None), (0.7, True, None), (1.5, True, True)]
    check(fitting(Resample), lambda: [((data((2, 3, 5, 5), i), *args[i][:1], mode, *args[i][1:]), {}) for i in range(len(args))])


def test_upsample_module_scale_attribute_changed_between_calls():
    scales = [2.0, 2.0, 1.5, 1.5, 3.0]

    def setup():
        net = nn.Sequential(nn.Conv2d(3, 3, 3, padding=1), nn.Upsample(scale_factor=2.0, mode="bilinear", align_corners=False))
        opt = optim.SGD(net.parameters(), lr=0.1)

        def step(x, scale):
            net[1].scale_factor = scale
            opt.zero_grad()
            out = net(x)
            value = loss_of(out)
            value.backward()
            opt.step()
            return value, out

        return step, net, opt

    check(setup, lambda: [((data((2, 3, 4, 4), i), scales[i]), {}) for i in range(5)])


def test_upsample_module_scale_attribute_changed_outside_step():
    scales = [2.0, 2.0, 1.5, 1.5, 3.0]
    holder = {}

    def setup():
        net = nn.Sequential(nn.Conv2d(3, 3, 3, padding=1), nn.Upsample(scale_factor=2.0, mode="nearest"))
        opt = optim.SGD(net.parameters(), lr=0.1)
        holder["net"] = net

        def step(x):
            opt.zero_grad()
            out = net(x)
            value = loss_of(out)
            value.backward()
            opt.step()
            return value, out

        return step, net, opt

    def calls():
        for i in range(5):
            holder["net"][1].scale_factor = scales[i]
            yield (data((2, 3, 4, 4), i),), {}

    # the generator changes the module between calls, as a training loop would
    check(setup, calls)


def test_interpolate_size_per_call():
    sizes = [(6, 6), (7, 5), (6, 6), (7, 5), (3, 11)]

    class Net(Resample):
        def forward(self, x, size):
            return F.interpolate(self.conv(x), size=size, mode="bilinear", align_corners=True)

    check(fitting(Net), lambda: [((data((2, 3, 5, 5), i), sizes[i]), {}) for i in range(5)])


@pytest.mark.parametrize("mode,padding,align", [("bilinear", "zeros", False), ("bilinear", "border", True),
                                                ("nearest", "reflection", False), ("bilinear", "reflection", True),
                                                ("bicubic", "zeros", False)])
def test_grid_sample_from_learned_affine_theta(mode, padding, align):
    class STN(nn.Module):
        def __init__(self):
            super().__init__()
            self.theta = nn.Parameter(chainrule.tensor([[1.1, 0.2, 0.05], [-0.1, 0.9, 0.1]]))
            self.conv = nn.Conv2d(3, 2, 3, padding=1)

        def forward(self, x, out_hw):
            theta = self.theta.unsqueeze(0).expand(x.shape[0], 2, 3)
            grid = F.affine_grid(theta, [x.shape[0], x.shape[1], *out_hw], align_corners=align)
            return self.conv(F.grid_sample(x, grid, mode=mode, padding_mode=padding, align_corners=align))

    sizes = [(6, 6), (6, 6), (5, 7), (6, 6), (5, 7)]
    check(fitting(STN), lambda: [((data((2, 3, 6, 6), i, requires_grad=True), sizes[i]), {}) for i in range(5)])


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
def test_f_pad_with_per_call_widths(mode):
    widths = [(1, 1, 2, 0), (0, 2, 1, 1), (1, 1, 2, 0), (2, 1, 0, 0), (1, 1, 2, 0)]

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 2, 3)

        def forward(self, x, pad, value):
            kwargs = {"value": value} if mode == "constant" else {}
            return self.conv(F.pad(x, pad, mode=mode, **kwargs))

    values = [0.0, 0.5, -1.0, 0.5, 0.0]
    check(fitting(Net), lambda: [((data((2, 3, 6, 6), i, requires_grad=True), widths[i], values[i]), {}) for i in range(5)])


def test_pad_with_negative_widths_crops():
    widths = [(-1, 1, 0, -2), (-1, 1, 0, -2), (1, -2, -1, 1), (0, 0, 0, 0)]

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 2, 3)

        def forward(self, x, pad):
            return self.conv(F.pad(x, pad))

    check(fitting(Net), lambda: [((data((2, 3, 7, 7), i), widths[i]), {}) for i in range(4)])


def test_pixel_shuffle_and_unshuffle():
    model = lambda: nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.PixelShuffle(2), nn.Conv2d(2, 2, 3, padding=1),
                                  nn.PixelUnshuffle(2), nn.ChannelShuffle(2))
    check(fitting(model), images((2, 3, 4, 4)), replays=True)


def test_unfold_fold_roundtrip_with_overlap():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(chainrule.randn(27, 27) * 0.1)

        def forward(self, x):
            cols = F.unfold(x, kernel_size=3, dilation=1, padding=1, stride=2)
            cols = self.w @ cols
            return F.fold(cols, output_size=x.shape[-2:], kernel_size=3, padding=1, stride=2)

    shapes = [(2, 3, 8, 8), (2, 3, 7, 9), (2, 3, 8, 8), (2, 3, 7, 9)]
    check(fitting(Net), lambda: [((data(s, i),), {}) for i, s in enumerate(shapes)])


def test_unfold_module_dilation_then_linear():
    model = lambda: nn.Sequential(nn.Unfold((2, 3), dilation=(2, 1), padding=(1, 0), stride=(1, 2)), nn.Flatten(), nn.LazyLinear(3))
    check(fitting(model), images((2, 3, 6, 7)))


# ----------------------------------------------------------------------------- normalization
def channels_last_ln():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3, padding=1)
            self.ln = nn.LayerNorm(4)

        def forward(self, x):
            y = self.conv(x).permute(0, 2, 3, 1)
            return self.ln(y).permute(0, 3, 1, 2)

    return Net()


NORMS = {
    "batchnorm": lambda: nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4, momentum=0.3)),
    "batchnorm cumulative": lambda: nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4, momentum=None)),
    "batchnorm no affine": lambda: nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4, affine=False)),
    "groupnorm": lambda: nn.Sequential(nn.Conv2d(3, 4, 3), nn.GroupNorm(2, 4)),
    "instancenorm tracked": lambda: nn.Sequential(nn.Conv2d(3, 4, 3), nn.InstanceNorm2d(4, affine=True, track_running_stats=True)),
    "instancenorm plain": lambda: nn.Sequential(nn.Conv2d(3, 4, 3), nn.InstanceNorm2d(4)),
    "layernorm channels last": channels_last_ln,
    "layernorm chw": lambda: nn.Sequential(nn.Conv2d(3, 4, 3), nn.LayerNorm([4, 6, 6], elementwise_affine=True)),
    "batchnorm3d": lambda: nn.Sequential(nn.Unflatten(1, (1, 3)), nn.BatchNorm3d(1)),
}


@pytest.mark.parametrize("name", list(NORMS))
def test_normalization_layers_and_running_stats(name):
    check(fitting(NORMS[name]), images((2, 3, 8, 8), count=5), replays=True)


def test_batchnorm_train_eval_switch_inside_step_and_between_calls():
    def setup():
        net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.InstanceNorm2d(4, track_running_stats=True))
        opt = optim.SGD(net.parameters(), lr=0.1, momentum=0.9)

        def step(x, train):
            net.train(train)
            opt.zero_grad()
            out = net(x)
            value = loss_of(out)
            value.backward()
            opt.step()
            net.eval()
            with chainrule.no_grad():
                val = net(x).mean()
            net.train()
            return value, val

        return step, net, opt

    flags = [True, True, False, True, False, True]
    check(setup, lambda: [((data((2, 3, 6, 6), i), flags[i]), {}) for i in range(6)])


# ----------------------------------------------------------------------------- dropout
DROPS = {
    "dropout2d": lambda: nn.Dropout2d(0.4),
    "dropout2d inplace": lambda: nn.Dropout2d(0.4, inplace=True),
    "dropout3d on 4d": lambda: nn.Sequential(nn.Unflatten(1, (1, 4)), nn.Dropout3d(0.5)),
    "alpha": lambda: nn.AlphaDropout(0.3),
    "feature alpha": lambda: nn.FeatureAlphaDropout(0.3),
    "dropout": lambda: nn.Dropout(0.25),
}


@pytest.mark.parametrize("name", list(DROPS))
def test_channel_dropout_draws_as_eager(name):
    model = lambda: nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.SELU(), DROPS[name]())
    check(fitting(model), images((2, 3, 6, 6), count=5), replays=True)


def test_functional_dropout2d_p_and_training_per_call():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3, padding=1)

        def forward(self, x, p, training):
            return F.dropout2d(self.conv(x), p=p, training=training)

    args = [(0.5, True), (0.5, True), (0.2, True), (0.5, False), (0.2, True)]
    check(fitting(Net), lambda: [((data((2, 3, 5, 5), i), *args[i]), {}) for i in range(5)])


# ----------------------------------------------------------------------------- residual blocks
class Block(nn.Module):
    def __init__(self, c, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(c, c * stride, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c * stride)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(c * stride, c * stride, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c * stride)
        self.down = None if stride == 1 else nn.Sequential(nn.Conv2d(c, c * stride, 1, stride=stride, bias=False), nn.BatchNorm2d(c * stride))

    def forward(self, x):
        identity = x if self.down is None else self.down(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += identity
        out = self.relu(out)
        return out


def resnet():
    return nn.Sequential(nn.Conv2d(3, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4), nn.ReLU(inplace=True),
                         nn.MaxPool2d(3, 2, 1), Block(4), Block(4, 2), nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(), nn.Linear(8, 3))


def classify(loss=lambda out, y: F.cross_entropy(out, y), opt=lambda p: optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=5e-4), model=resnet):
    def setup():
        net = model()
        optimizer = opt(net.parameters())

        def step(x, y):
            optimizer.zero_grad()
            out = net(x)
            value = loss(out, y)
            value.backward()
            optimizer.step()
            return value, out

        return step, net, optimizer

    return setup


def test_resnet_block_inplace_relu_and_residual_add():
    check(classify(), lambda: [((data((2, 3, 8, 8), i), labels((2,), 3, i)), {}) for i in range(5)], replays=True)


def test_resnet_with_label_smoothing_and_weights():
    weight = chainrule.tensor([1.0, 2.0, 0.5])
    check(classify(loss=lambda out, y: F.cross_entropy(out, y, weight=weight, label_smoothing=0.1)),
          lambda: [((data((3, 3, 8, 8), i), labels((3,), 3, i)), {}) for i in range(5)], replays=True)


def test_segmentation_ce_with_label_smoothing_and_ignore_index():
    model = lambda: nn.Sequential(nn.Conv2d(3, 5, 3, padding=1), nn.ReLU(), nn.Conv2d(5, 4, 1))

    def targets(i):
        y = np.random.default_rng(i).integers(0, 4, size=(2, 6, 6))
        y[:, 0, :] = -100 if i % 2 else 2
        return chainrule.tensor(y)

    check(classify(model=model, loss=lambda out, y: F.cross_entropy(out, y, ignore_index=-100, label_smoothing=0.2)),
          lambda: [((data((2, 3, 6, 6), i), targets(i)), {}) for i in range(5)])


def test_soft_target_ce_on_images():
    model = lambda: nn.Sequential(nn.Conv2d(3, 4, 3), nn.Flatten(), nn.LazyLinear(3))

    def soft(i):
        return F.softmax(data((2, 3), 77 + i), dim=1)

    check(classify(model=model, loss=lambda out, y: F.cross_entropy(out, y, label_smoothing=0.3)),
          lambda: [((data((2, 3, 6, 6), i), soft(i)), {}) for i in range(5)])


# ----------------------------------------------------------------------------- layouts
def test_channels_last_input_and_noncontiguous_crops():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3, padding=1)
            self.bn = nn.BatchNorm2d(4)

        def forward(self, x_nhwc):
            x = x_nhwc.permute(0, 3, 1, 2)
            crop = x[:, :, 1:7, ::2]
            return self.bn(self.conv(crop)).transpose(2, 3)

    check(fitting(Net), images((2, 8, 8, 3)), replays=True)


def test_memory_format_channels_last_contiguous():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3, padding=1)

        def forward(self, x):
            x = x.contiguous(memory_format=chainrule.channels_last)
            return self.conv(x).flip(2)[..., 1:-1]

    check(fitting(Net), images())


def test_input_in_place_normalized_inside_step():
    mean = chainrule.tensor([0.5, 0.4, 0.3]).view(1, 3, 1, 1)
    std = chainrule.tensor([0.2, 0.25, 0.3]).view(1, 3, 1, 1)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 2, 3)

        def forward(self, x):
            x.sub_(mean).div_(std)
            return self.conv(x)

    check(fitting(Net), images())


# ----------------------------------------------------------------------------- augmentation
def test_rand_based_flip_inside_step():
    def setup():
        net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 3))
        opt = optim.Adam(net.parameters(), lr=1e-2)

        def step(x, y):
            n = x.shape[0]
            x = chainrule.where(chainrule.rand(n, 1, 1, 1) < 0.5, x.flip(3), x)
            x = chainrule.where(chainrule.rand(n, 1, 1, 1) < 0.3, x.flip(2), x)
            x = x + 0.05 * chainrule.randn_like(x)
            opt.zero_grad()
            value = F.cross_entropy(net(x), y)
            value.backward()
            opt.step()
            return value, x

        return step, net, opt

    check(setup, lambda: [((data((4, 3, 6, 6), i), labels((4,), 3, i)), {}) for i in range(5)], replays=True)


def test_random_crop_by_randint_offsets_and_roll():
    def setup():
        net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.Flatten(), nn.Linear(4 * 4 * 4, 2))
        opt = optim.SGD(net.parameters(), lr=0.05)

        def step(x):
            padded = F.pad(x, (2, 2, 2, 2), mode="reflect")
            # a per-sample crop by gathering: offsets drawn with randint, indexes built from arange
            n = x.shape[0]
            oy = chainrule.randint(0, 5, (n, 1, 1, 1))
            ox = chainrule.randint(0, 5, (n, 1, 1, 1))
            rows = (chainrule.arange(6).view(1, 1, 6, 1) + oy).expand(n, 3, 6, 10)
            cropped = padded.gather(2, rows)
            cols = (chainrule.arange(6).view(1, 1, 1, 6) + ox).expand(n, 3, 6, 6)
            cropped = cropped.gather(3, cols)
            opt.zero_grad()
            value = loss_of(net(cropped))
            value.backward()
            opt.step()
            return value, cropped

        return step, net, opt

    check(setup, images((3, 3, 6, 6), count=5))


def vision_transform_setup(make_transform):
    def setup():
        import chainrule.vision.transforms as T
        transform = make_transform(T)
        net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.AdaptiveAvgPool2d(2), nn.Flatten(), nn.Linear(16, 2))
        opt = optim.SGD(net.parameters(), lr=0.05)

        def step(x):
            x = transform(x)
            opt.zero_grad()
            value = loss_of(net(x.unsqueeze(0)))
            value.backward()
            opt.step()
            return value, x

        return step, net, opt

    return setup


TRANSFORMS = {
    "normalize": lambda T: T.Normalize([0.5, 0.4, 0.3], [0.2, 0.3, 0.4]),
    "hflip": lambda T: T.RandomHorizontalFlip(),
    "vflip p": lambda T: T.RandomVerticalFlip(0.7),
    "random crop pad": lambda T: T.RandomCrop(6, padding=1, padding_mode="reflect"),
    "colorjitter": lambda T: T.ColorJitter(0.3, 0.3, 0.3, 0.05),
    "compose": lambda T: T.Compose([T.RandomHorizontalFlip(), T.Normalize([0.5] * 3, [0.25] * 3)]),
    "gaussian blur": lambda T: T.GaussianBlur(3, sigma=(0.5, 1.5)),
    "random erasing": lambda T: T.RandomErasing(p=0.9, value=0.0),
    "random resized crop": lambda T: T.RandomResizedCrop(6, scale=(0.5, 1.0), antialias=False),
    "center crop + resize": lambda T: T.Compose([T.CenterCrop(6), T.Resize(8, antialias=False)]),
}


@pytest.mark.parametrize("name", list(TRANSFORMS))
def test_vision_transforms_inside_step(name):
    check(vision_transform_setup(TRANSFORMS[name]), lambda: [((chainrule.tensor(np.random.default_rng(i).random((3, 8, 8)).astype(np.float32)),), {}) for i in range(5)])


def test_mixup_with_beta_sample_and_randperm():
    from chainrule.distributions import Beta

    def setup():
        net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 3))
        opt = optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
        beta = Beta(chainrule.tensor(0.4), chainrule.tensor(0.4))

        def step(x, y):
            lam = beta.sample()
            perm = chainrule.randperm(x.shape[0])
            mixed = lam * x + (1 - lam) * x[perm]
            out = net(mixed)
            value = lam * F.cross_entropy(out, y) + (1 - lam) * F.cross_entropy(out, y[perm])
            opt.zero_grad()
            value.backward()
            opt.step()
            return value, lam

        return step, net, opt

    check(setup, lambda: [((data((4, 3, 6, 6), i), labels((4,), 3, i)), {}) for i in range(5)])


def test_cutmix_with_python_float_lambda_per_call():
    def setup():
        net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 3))
        opt = optim.SGD(net.parameters(), lr=0.1)

        def step(x, y, lam, box):
            perm = chainrule.randperm(x.shape[0])
            x = x.clone()
            t, l, h, w = box
            x[:, :, t:t + h, l:l + w] = x[perm][:, :, t:t + h, l:l + w]
            out = net(x)
            value = lam * F.cross_entropy(out, y) + (1 - lam) * F.cross_entropy(out, y[perm])
            opt.zero_grad()
            value.backward()
            opt.step()
            return value, x

        return step, net, opt

    boxes = [(0, 0, 3, 3), (1, 2, 2, 4), (0, 0, 3, 3), (2, 2, 4, 4), (1, 2, 2, 4)]
    lams = [0.75, 0.5, 0.75, 0.25, 0.5]
    check(setup, lambda: [((data((4, 3, 6, 6), i), labels((4,), 3, i), lams[i], boxes[i]), {}) for i in range(5)])


# ----------------------------------------------------------------------------- errors
def test_wrong_channels_on_a_later_call_raises_as_eager():
    shapes = [(2, 3, 6, 6), (2, 3, 6, 6), (2, 4, 6, 6), (2, 3, 6, 6), (2, 3, 2, 2)]
    check(fitting(lambda: nn.Sequential(nn.Conv2d(3, 4, 3), nn.MaxPool2d(2))), lambda: [((data(s, i),), {}) for i, s in enumerate(shapes)])


def test_unpool_with_bad_output_size_raises_as_eager():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 3, 1)
            self.pool = nn.MaxPool2d(2, return_indices=True)
            self.unpool = nn.MaxUnpool2d(2)

        def forward(self, x, size):
            y, i = self.pool(self.conv(x))
            return self.unpool(y, i, output_size=size)

    sizes = [(6, 6), (7, 7), (6, 6), (9, 9), (7, 7)]
    check(fitting(Net), lambda: [((data((2, 3, 6, 6), i), sizes[i]), {}) for i in range(5)])


def test_interpolate_scale_leading_to_empty_raises_as_eager():
    scales = [0.5, 0.5, 0.1, 0.5]

    class Net(Resample):
        def forward(self, x, s):
            return F.interpolate(self.conv(x), scale_factor=s, mode="nearest")

    check(fitting(Net), lambda: [((data((2, 3, 6, 6), i), scales[i]), {}) for i in range(4)])


def test_dtype_change_float64_input():
    def setup():
        net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4))
        opt = optim.SGD(net.parameters(), lr=0.1)

        def step(x):
            opt.zero_grad()
            out = net(x.to(net[0].weight.dtype))
            value = loss_of(out)
            value.backward()
            opt.step()
            return value

        return step, net, opt

    dtypes = [np.float32, np.float64, np.float32, np.float64, np.float16]
    check(setup, lambda: [((data((2, 3, 5, 5), i, dtype=dtypes[i]),), {}) for i in range(5)])


# ----------------------------------------------------------------------------- state changed between calls
def between_calls(setup_with_hook, count=5, shape=(2, 3, 6, 6)):
    """A setup whose step is called on images; ``hook(i, objects)`` runs before call ``i`` (as a
    training loop would change a module or a constant between steps)."""
    holder = {}

    def setup():
        step, hook, *objects = setup_with_hook()
        holder["hook"], holder["objects"] = hook, objects
        return (step, *objects)

    def calls():
        for i in range(count):
            holder["hook"](i, holder["objects"])
            yield (data(shape, i),), {}

    return setup, calls


def simple_step(net, opt, prefix=lambda x: x):
    def step(x):
        opt.zero_grad()
        out = net(prefix(x))
        value = loss_of(out)
        value.backward()
        opt.step()
        return value, out

    return step


def module_changer(make_net, change):
    def setup():
        net = make_net()
        opt = optim.SGD(net.parameters(), lr=0.05)
        return simple_step(net, opt), (lambda i, objs: change(i, objs[0])), net, opt

    return setup


CHANGES = {
    "upsample scale same shape bilinear": (
        lambda: nn.Sequential(nn.Conv2d(3, 3, 1), nn.Upsample(scale_factor=1.5, mode="bilinear")),
        lambda i, net: setattr(net[1], "scale_factor", [1.5, 1.5, 1.55, 1.55, 1.5][i])),
    "upsample align_corners toggled": (
        lambda: nn.Sequential(nn.Conv2d(3, 3, 1), nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False)),
        lambda i, net: setattr(net[1], "align_corners", bool(i % 2))),
    "upsample mode changed": (
        lambda: nn.Sequential(nn.Conv2d(3, 3, 1), nn.Upsample(scale_factor=2, mode="nearest")),
        lambda i, net: setattr(net[1], "mode", ["nearest", "nearest", "bilinear", "bicubic", "nearest"][i])),
    "dropout2d p": (
        lambda: nn.Sequential(nn.Conv2d(3, 4, 1), nn.Dropout2d(0.4)),
        lambda i, net: setattr(net[1], "p", [0.4, 0.4, 0.5, 0.5, 0.4][i])),
    "bn momentum eps": (
        lambda: nn.Sequential(nn.Conv2d(3, 4, 1), nn.BatchNorm2d(4)),
        lambda i, net: (setattr(net[1], "momentum", [0.1, 0.1, 0.3, 0.3, 0.1][i]), setattr(net[1], "eps", [1e-5, 1e-5, 1e-5, 1e-2, 1e-2][i]))),
    "bn reset running stats cumulative": (
        lambda: nn.Sequential(nn.Conv2d(3, 4, 1), nn.BatchNorm2d(4, momentum=None)),
        lambda i, net: net[1].reset_running_stats() if i == 3 else None),
    "bn running mean filled in place": (
        lambda: nn.Sequential(nn.Conv2d(3, 4, 1), nn.BatchNorm2d(4), ),
        lambda i, net: net[1].running_mean.fill_(float(i)) if i >= 2 else None),
    "bn eval toggled": (
        lambda: nn.Sequential(nn.Conv2d(3, 4, 1), nn.BatchNorm2d(4), nn.Dropout2d(0.3)),
        lambda i, net: net.train(i % 2 == 0)),
    "bn track_running_stats off": (
        lambda: nn.Sequential(nn.Conv2d(3, 4, 1), nn.BatchNorm2d(4)),
        lambda i, net: (net.eval(), setattr(net[1], "track_running_stats", i < 2))),
    "conv padding stride attr": (
        lambda: nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.Flatten()),
        lambda i, net: (setattr(net[0], "padding", [(1, 1), (1, 1), (2, 0), (2, 0), (1, 1)][i]),
                        setattr(net[0], "stride", [(1, 1), (1, 1), (1, 1), (2, 2), (1, 1)][i]))),
    "conv padding_mode attr": (
        lambda: nn.Sequential(nn.Conv2d(3, 4, 3, padding=1)),
        lambda i, net: setattr(net[0], "padding_mode", ["zeros", "zeros", "reflect", "circular", "replicate"][i])),
    "conv dilation same shape": (
        lambda: nn.Sequential(nn.Conv2d(3, 4, 3, padding="same")),
        lambda i, net: setattr(net[0], "dilation", [(1, 1), (1, 1), (2, 2), (2, 2), (1, 1)][i])),
    "groupnorm groups": (
        lambda: nn.Sequential(nn.Conv2d(3, 4, 1), nn.GroupNorm(2, 4)),
        lambda i, net: setattr(net[1], "num_groups", [2, 2, 4, 1, 2][i])),
    "leaky slope": (
        lambda: nn.Sequential(nn.Conv2d(3, 4, 1), nn.LeakyReLU(0.1)),
        lambda i, net: setattr(net[1], "negative_slope", [0.1, 0.1, 0.2, 0.2, 0.0][i])),
    "maxpool ceil attr": (
        lambda: nn.Sequential(nn.Conv2d(3, 4, 1), nn.MaxPool2d(2, stride=2)),
        lambda i, net: (setattr(net[1], "ceil_mode", i % 2 == 1), setattr(net[1], "padding", [0, 0, 1, 1, 0][i]))),
    "avgpool divisor attr": (
        lambda: nn.Sequential(nn.Conv2d(3, 4, 1), nn.AvgPool2d(2, divisor_override=None)),
        lambda i, net: setattr(net[1], "divisor_override", [None, None, 3, 5, None][i])),
    "weight edited in place": (
        lambda: nn.Sequential(nn.Conv2d(3, 4, 3)),
        lambda i, net: net[0].weight.data.mul_(0.5) if i % 2 else None),
    "weight replaced data": (
        lambda: nn.Sequential(nn.Conv2d(3, 4, 3)),
        lambda i, net: setattr(net[0].weight, "data", net[0].weight.data * 0.5) if i == 2 else None),
    "bias set to None": (
        lambda: nn.Sequential(nn.Conv2d(3, 4, 3)),
        lambda i, net: setattr(net[0], "bias", None) if i == 2 else None),
    "frozen conv toggled": (
        lambda: nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Conv2d(4, 2, 1)),
        lambda i, net: net[0].requires_grad_(i not in (2, 3))),
    "pixelshuffle factor": (
        lambda: nn.Sequential(nn.Conv2d(3, 4, 1), nn.PixelShuffle(2)),
        lambda i, net: setattr(net[1], "upscale_factor", [2, 2, 1, 2, 1][i])),
    "adaptive output size": (
        lambda: nn.Sequential(nn.Conv2d(3, 4, 1), nn.AdaptiveAvgPool2d(3)),
        lambda i, net: setattr(net[1], "output_size", [3, 3, (2, 4), 5, 3][i])),
}


@pytest.mark.parametrize("name", list(CHANGES))
def test_module_settings_changed_between_calls(name):
    make, change = CHANGES[name]
    setup, calls = between_calls(module_changer(make, change))
    check(setup, calls)


def test_normalize_constants_tensor_changed_in_place_between_calls():
    mean = chainrule.tensor([0.5, 0.4, 0.3]).view(1, 3, 1, 1)
    std = chainrule.tensor([0.2, 0.25, 0.3]).view(1, 3, 1, 1)

    def setup():
        net = nn.Sequential(nn.Conv2d(3, 2, 3))
        opt = optim.SGD(net.parameters(), lr=0.05)
        mean.fill_(0.5)
        return simple_step(net, opt, prefix=lambda x: (x - mean) / std), (lambda i, objs: mean.fill_(0.1 * i)), net, opt

    setup_, calls = between_calls(setup)
    check(setup_, calls)


def test_normalize_constants_numpy_array_changed_between_calls():
    stats = np.array([0.5, 0.4, 0.3], dtype=np.float32)

    def setup():
        import chainrule.vision.transforms.functional as TF
        net = nn.Sequential(nn.Conv2d(3, 2, 3))
        opt = optim.SGD(net.parameters(), lr=0.05)
        stats[:] = [0.5, 0.4, 0.3]

        def change(i, objs):
            stats[0] = 0.5 + 0.1 * (i // 2)

        return simple_step(net, opt, prefix=lambda x: TF.normalize(x, stats.tolist(), [0.2, 0.2, 0.2])), change, net, opt

    setup_, calls = between_calls(setup)
    check(setup_, calls)


def test_input_tensor_reused_and_changed_in_place_between_calls():
    shared = data((2, 3, 6, 6), 0)

    def setup():
        net = nn.Sequential(nn.Conv2d(3, 2, 3), nn.BatchNorm2d(2))
        opt = optim.SGD(net.parameters(), lr=0.05)
        shared.copy_(data((2, 3, 6, 6), 0))
        return simple_step(net, opt), net, opt

    def calls():
        for i in range(5):
            shared.mul_(1.1).add_(0.01 * i)
            yield (shared,), {}

    check(setup, calls)


def test_spectral_norm_conv_power_iteration():
    model = lambda: nn.Sequential(nn.utils.spectral_norm(nn.Conv2d(3, 4, 3)), nn.LeakyReLU(0.2),
                                  nn.utils.parametrizations.spectral_norm(nn.Conv2d(4, 2, 3)))
    check(fitting(model), images(count=5))


def test_weight_norm_conv():
    model = lambda: nn.Sequential(nn.utils.parametrizations.weight_norm(nn.Conv2d(3, 4, 3)), nn.ReLU(),
                                  nn.utils.weight_norm(nn.ConvTranspose2d(4, 2, 3, stride=2)))
    check(fitting(model), images(count=5))


def test_ema_model_and_grad_clipping_and_accumulation():
    def setup():
        net = resnet()
        ema = resnet()
        ema.load_state_dict(net.state_dict())
        opt = optim.SGD(net.parameters(), lr=0.1, momentum=0.9, nesterov=True)

        def step(x, y, update, decay):
            out = net(x)
            value = F.cross_entropy(out, y, label_smoothing=0.1) / 2
            value.backward()
            norm = nn.utils.clip_grad_norm_(net.parameters(), 0.5)
            if update:
                opt.step()
                opt.zero_grad()
                with chainrule.no_grad():
                    for e, p in zip(ema.parameters(), net.parameters()):
                        e.lerp_(p, 1 - decay)
                    for e, b in zip(ema.buffers(), net.buffers()):
                        e.copy_(b)
            return value, norm

        return step, net, ema, opt

    flags = [(False, 0.9), (True, 0.9), (False, 0.9), (True, 0.99), (False, 0.99), (True, 0.9)]
    check(setup, lambda: [((data((2, 3, 8, 8), i), labels((2,), 3, i), *flags[i]), {}) for i in range(6)])


def test_maxpool_ties_and_nans_route_gradients_as_eager():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = nn.Parameter(chainrule.ones(1, 3, 1, 1))

        def forward(self, x):
            y = x * self.scale
            a = F.max_pool2d(y, 3, stride=2, padding=1, ceil_mode=True)
            b = F.adaptive_max_pool2d(y, (3, 2))
            c = F.max_pool2d(F.relu(y), 2)
            return a.sum() + b.sum() * 2 + c.sum() * 3

    def make(i):
        array = np.round(np.random.default_rng(i).normal(size=(2, 3, 7, 7))).astype(np.float32)
        if i >= 2:
            array[0, 1, 2, 3] = np.nan
        if i == 3:
            array[1] = -0.0
        return chainrule.tensor(array)

    def setup():
        net = Net()
        opt = optim.SGD(net.parameters(), lr=0.01)

        def step(x):
            opt.zero_grad()
            value = net(x)
            value.backward()
            opt.step()
            return value

        return step, net, opt

    check(setup, lambda: [((make(i),), {}) for i in range(5)])


def test_uint8_images_converted_inside_step():
    def setup():
        net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 3))
        opt = optim.Adam(net.parameters(), lr=1e-3)

        def step(x, y):
            x = x.permute(0, 3, 1, 2).float().div(255)
            x = (x - 0.5) / 0.25
            bright = 1 + 0.4 * (chainrule.rand(x.shape[0], 1, 1, 1) - 0.5)
            x = (x * bright).clamp(-2, 2)
            opt.zero_grad()
            value = F.cross_entropy(net(x), y)
            value.backward()
            opt.step()
            return value

        return step, net, opt

    make = lambda i: chainrule.tensor(np.random.default_rng(i).integers(0, 256, size=(2, 6, 6, 3)).astype(np.uint8))
    check(setup, lambda: [((make(i), labels((2,), 3, i)), {}) for i in range(5)], replays=True)


def test_rot90_roll_and_flip_with_per_call_python_values():
    def setup():
        net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1, padding_mode="circular"))
        opt = optim.SGD(net.parameters(), lr=0.05)

        def step(x, k, shift):
            x = chainrule.rot90(x, k, (2, 3)).roll(shift, dims=(2, 3))
            opt.zero_grad()
            out = net(x)
            value = loss_of(out)
            value.backward()
            opt.step()
            return value, out

        return step, net, opt

    args = [(1, (1, 0)), (1, (1, 0)), (2, (0, -2)), (3, (1, 0)), (1, (2, 2)), (-1, (1, 0))]
    check(setup, lambda: [((data((2, 3, 6, 6), i), *args[i]), {}) for i in range(6)])


def test_two_conv_outputs_returned_with_input_grad():
    def setup():
        net = nn.Conv2d(3, 4, 3, padding=1)
        opt = optim.SGD(net.parameters(), lr=0.05)

        def step(x):
            opt.zero_grad()
            y = net(x)
            z = net(y[:, :3].contiguous())
            value = loss_of(y) + loss_of(z)
            value.backward()
            opt.step()
            return value, x.grad

        return step, net, opt

    check(setup, lambda: [((data((2, 3, 5, 5), i, requires_grad=i != 2),), {}) for i in range(5)])


def test_interpolate_antialias_downsample():
    class Net(Resample):
        def forward(self, x, size):
            return F.interpolate(self.conv(x), size=size, mode="bilinear", antialias=True)

    sizes = [(3, 3), (3, 3), (4, 2), (3, 3)]
    check(fitting(Net), lambda: [((data((2, 3, 8, 8), i), sizes[i]), {}) for i in range(4)])


# ----------------------------------------------------------------------------- values, generators, errors
def test_one_hot_without_num_classes_and_bincount_follow_values():
    def setup():
        net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1))
        opt = optim.SGD(net.parameters(), lr=0.05)

        def step(x, y):
            opt.zero_grad()
            out = net(x)
            target = F.one_hot(y).permute(0, 3, 1, 2).float()
            counts = chainrule.bincount(y.flatten())
            value = ((out[:, : target.shape[1]] - target) ** 2).mean() + counts.float().sum() * 0
            value.backward()
            opt.step()
            return value, target, counts

        return step, net, opt

    maxes = [4, 4, 3, 2, 4]
    check(setup, lambda: [((data((2, 3, 5, 5), i), labels((2, 5, 5), maxes[i], i)), {}) for i in range(5)])


def test_cross_entropy_label_out_of_range_on_a_later_call():
    def setup():
        return classify(model=lambda: nn.Sequential(nn.Conv2d(3, 3, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten()))()

    ys = [[0, 2], [1, 1], [0, 3], [2, -1], [1, 0], [-100, 1]]
    check(setup, lambda: [((data((2, 3, 5, 5), i), chainrule.tensor(ys[i])), {}) for i in range(6)])


def test_gather_crop_with_index_out_of_range_on_a_later_call():
    def setup():
        net = nn.Sequential(nn.Conv2d(3, 2, 1))
        opt = optim.SGD(net.parameters(), lr=0.05)

        def step(x, cols):
            opt.zero_grad()
            crop = x.index_select(3, cols)
            value = loss_of(net(crop))
            value.backward()
            opt.step()
            return value

        return step, net, opt

    cols = [[0, 1, 2], [3, 4, 5], [1, 6, 2], [0, -1, 2], [5, 4, 3]]
    check(setup, lambda: [((data((2, 3, 6, 6), i), chainrule.tensor(cols[i])), {}) for i in range(5)])


def test_augmentation_with_explicit_generator_reseeded_between_calls():
    gen = chainrule.Generator()
    gen.manual_seed(5)

    def setup():
        gen.manual_seed(5)
        net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.Dropout2d(0.3))
        opt = optim.SGD(net.parameters(), lr=0.05)

        def step(x):
            flip = chainrule.rand(x.shape[0], 1, 1, 1, generator=gen) < 0.5
            noise = chainrule.randn(x.shape, generator=gen) * 0.1
            x = chainrule.where(flip, x.flip(3), x) + noise
            opt.zero_grad()
            out = net(x)
            value = loss_of(out)
            value.backward()
            opt.step()
            return value, out

        return step, lambda i, objs: gen.manual_seed(7) if i == 3 else None, net, opt

    setup_, calls = between_calls(setup)
    check(setup_, calls)


def test_two_views_with_rng_state_saved_and_restored_inside_step():
    def setup():
        net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.Dropout(0.3), nn.AdaptiveAvgPool2d(1), nn.Flatten())
        opt = optim.SGD(net.parameters(), lr=0.05)

        def aug(x):
            return chainrule.where(chainrule.rand(x.shape[0], 1, 1, 1) < 0.5, x.flip(3), x) * (1 + 0.1 * chainrule.randn(x.shape[0], 1, 1, 1))

        def step(x):
            state = chainrule.get_rng_state()
            a = aug(x)
            chainrule.set_rng_state(state)
            b = aug(x)
            za, zb = net(a), net(b)
            value = ((za - zb) ** 2).mean() - F.cosine_similarity(za, zb).mean()
            opt.zero_grad()
            value.backward()
            opt.step()
            return value, a - b

        return step, net, opt

    check(setup, images(count=5))


def test_manual_seed_inside_step_from_argument():
    def setup():
        net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.Dropout2d(0.5))
        opt = optim.SGD(net.parameters(), lr=0.05)

        def step(x, seed):
            chainrule.manual_seed(seed)
            opt.zero_grad()
            out = net(x + 0.1 * chainrule.randn_like(x))
            value = loss_of(out)
            value.backward()
            opt.step()
            return value

        return step, net, opt

    seeds = [1, 1, 2, 3, 1]
    check(setup, lambda: [((data((2, 3, 5, 5), i), seeds[i]), {}) for i in range(5)])


MASK = chainrule.ones(1, 1, 6, 6)


def test_global_mask_tensor_rebound_and_plain_attribute_replaced_between_calls():
    global MASK

    class Inpaint(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 3, 3, padding=1)
            self.hole = chainrule.ones(1, 1, 6, 6)
            self.register_buffer("weightmap", chainrule.ones(1, 1, 6, 6))

        def forward(self, x):
            return self.conv(x * MASK * self.hole) * self.weightmap

    def change(i, objs):
        global MASK
        net = objs[0]
        MASK = chainrule.ones(1, 1, 6, 6) if i < 2 else (chainrule.arange(36.0).view(1, 1, 6, 6) % (i + 1) > 0).float()
        if i >= 3:
            net.hole = chainrule.full((1, 1, 6, 6), 0.5 * i)
        if i == 4:
            net.weightmap = chainrule.full((1, 1, 6, 6), 2.0)

    def setup():
        global MASK
        MASK = chainrule.ones(1, 1, 6, 6)
        net = Inpaint()
        opt = optim.SGD(net.parameters(), lr=0.05)
        return simple_step(net, opt), change, net, opt

    setup_, calls = between_calls(setup)
    check(setup_, calls)


def test_loss_module_settings_changed_between_calls():
    crit = nn.CrossEntropyLoss(weight=chainrule.tensor([1.0, 1.0, 1.0]), label_smoothing=0.0)

    def setup():
        crit.label_smoothing, crit.reduction, crit.ignore_index = 0.0, "mean", -100
        crit.weight.fill_(1.0)
        net = nn.Sequential(nn.Conv2d(3, 3, 3, padding=1))
        opt = optim.SGD(net.parameters(), lr=0.05)

        def step(x, y):
            opt.zero_grad()
            value = crit(net(x), y)
            value.backward()
            opt.step()
            return value

        return step, net, opt

    def calls():
        for i in range(6):
            if i == 2:
                crit.label_smoothing = 0.2
            if i == 3:
                crit.weight[1] = 3.0
            if i == 4:
                crit.reduction = "sum"
            if i == 5:
                crit.ignore_index = 1
            yield (data((2, 3, 4, 4), i), labels((2, 4, 4), 3, i)), {}

    check(setup, calls)


def test_patch_embedding_by_tensor_unfold_and_inplace_pos_embedding():
    class ViT(nn.Module):
        def __init__(self):
            super().__init__()
            self.proj = nn.Linear(12, 8)
            self.pos = nn.Parameter(chainrule.randn(1, 16, 8) * 0.02)
            self.norm = nn.LayerNorm(8)
            self.head = nn.Linear(8, 3)

        def forward(self, x):
            n = x.shape[0]
            patches = x.unfold(2, 2, 2).unfold(3, 2, 2)  # n, c, 4, 4, 2, 2
            patches = patches.permute(0, 2, 3, 1, 4, 5).reshape(n, 16, 12)
            tokens = self.proj(patches)
            tokens += self.pos
            tokens = F.gelu(self.norm(tokens))
            return self.head(tokens.mean(1))

    check(classify(model=ViT, opt=lambda p: optim.AdamW(p, lr=1e-3)), lambda: [((data((2, 3, 8, 8), i), labels((2,), 3, i)), {}) for i in range(5)], replays=True)


def test_expand_then_inplace_raises_as_eager():
    def setup():
        net = nn.Sequential(nn.Conv2d(3, 2, 1))
        opt = optim.SGD(net.parameters(), lr=0.05)

        def step(x, bad):
            opt.zero_grad()
            y = net(x)
            base = y.mean((2, 3), keepdim=True)
            view = base.expand_as(y) if bad else base.expand_as(y).clone()
            view.add_(1)
            value = loss_of(view + y)
            value.backward()
            opt.step()
            return value

        return step, net, opt

    flags = [False, False, True, False, True]
    check(setup, lambda: [((data((2, 3, 4, 4), i), flags[i]), {}) for i in range(5)])


def test_empty_batch_and_single_sample_batchnorm():
    model = lambda: nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.BatchNorm1d(4))
    shapes = [(2, 3, 4, 4), (2, 3, 4, 4), (1, 3, 4, 4), (0, 3, 4, 4), (2, 3, 4, 4), (1, 3, 1, 1)]
    check(fitting(model), lambda: [((data(s, i),), {}) for i, s in enumerate(shapes)])


def test_bce_input_out_of_range_on_a_later_call():
    def setup():
        net = nn.Sequential(nn.Conv2d(3, 1, 3, padding=1), nn.Sigmoid())
        opt = optim.SGD(net.parameters(), lr=0.05)

        def step(x, gain, target):
            opt.zero_grad()
            probs = net(x) * gain
            value = F.binary_cross_entropy(probs, target)
            value.backward()
            opt.step()
            return value

        return step, net, opt

    gains = [1.0, 0.5, 3.0, 1.0, -1.0]
    targets = lambda i: chainrule.tensor((np.random.default_rng(i).random((2, 1, 5, 5)) > 0.5).astype(np.float32))
    check(setup, lambda: [((data((2, 3, 5, 5), i), chainrule.full((1, 1, 1, 1), gains[i]), targets(i)), {}) for i in range(5)])


def test_gaussian_nll_negative_variance_on_a_later_call():
    def setup():
        net = nn.Sequential(nn.Conv2d(3, 1, 3, padding=1))
        opt = optim.SGD(net.parameters(), lr=0.05)

        def step(x, depth, var_shift):
            opt.zero_grad()
            mean = net(x)
            var = mean.detach().abs() + var_shift
            value = F.gaussian_nll_loss(mean, depth, var)
            value.backward()
            opt.step()
            return value

        return step, net, opt

    shifts = [0.5, 0.2, -5.0, 0.5, -5.0]
    check(setup, lambda: [((data((2, 3, 5, 5), i), data((2, 1, 5, 5), 40 + i), chainrule.full((1, 1, 1, 1), shifts[i])), {}) for i in range(5)])


def test_input_views_of_one_buffer_changed_in_place_inside_step():
    big = chainrule.zeros(2, 3, 9, 9)

    def setup():
        big.copy_(data((2, 3, 9, 9), 99))
        net = nn.Sequential(nn.Conv2d(3, 2, 3))
        opt = optim.SGD(net.parameters(), lr=0.05)

        def step(x):
            x.mul_(0.5).add_(0.25)
            opt.zero_grad()
            out = net(x)
            value = loss_of(out)
            value.backward()
            opt.step()
            return value, big.sum()

        return step, net, opt, big

    offsets = [(0, 0), (1, 2), (3, 3), (1, 2), (0, 3), (2, 0)]
    check(setup, lambda: [((big[:, :, a:a + 6, b:b + 6],), {}) for a, b in offsets])


def test_autoencoder_target_aliasing_the_input_with_inplace_noise():
    def setup():
        net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 3, 3, padding=1))
        opt = optim.Adam(net.parameters(), lr=1e-2)

        def step(x, target):
            x.add_(0.1 * chainrule.randn_like(x))
            opt.zero_grad()
            value = F.mse_loss(net(x), target)
            value.backward()
            opt.step()
            return value

        return step, net, opt

    def calls():
        for i in range(6):
            x = data((2, 3, 5, 5), i)
            yield (x, x if i in (0, 1, 3, 4) else x.clone()), {}

    check(setup, calls)


def test_functional_conv_with_per_call_stride_padding_groups():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(chainrule.randn(4, 2, 3, 3) * 0.2)
            self.b = nn.Parameter(chainrule.zeros(4))

        def forward(self, x, stride, padding, groups):
            w = self.w if groups == 2 else self.w.repeat(1, 2, 1, 1)
            return F.conv2d(x, w, self.b, stride=stride, padding=padding, groups=groups)

    args = [(1, 1, 2), (1, 1, 2), (2, 1, 2), (1, "same", 1), (2, 0, 1), (1, 1, 2)]
    check(fitting(Net), lambda: [((data((2, 4, 6, 6), i), *args[i]), {}) for i in range(6)])


# ----------------------------------------------------------------------------- input gradients, lazy and compiled modules
def test_fgsm_adversarial_training_with_per_call_epsilon():
    def setup():
        net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 3))
        opt = optim.SGD(net.parameters(), lr=0.1, momentum=0.9)

        def step(x, y, eps, k):
            x_adv = x.clone().requires_grad_()
            for _ in range(k):
                loss = F.cross_entropy(net(x_adv), y)
                (grad,) = chainrule.autograd.grad(loss, x_adv)
                x_adv = (x_adv.detach() + eps * grad.sign()).clamp(-3, 3).requires_grad_()
            opt.zero_grad()
            value = F.cross_entropy(net(x_adv.detach()), y) + F.cross_entropy(net(x), y)
            value.backward()
            opt.step()
            return value, x_adv.detach()

        return step, net, opt

    args = [(0.1, 1), (0.1, 1), (0.05, 2), (0.1, 1), (0.05, 2), (0.2, 1)]
    check(setup, lambda: [((data((2, 3, 5, 5), i), labels((2,), 3, i), *args[i]), {}) for i in range(6)])


def test_gradcam_retain_grad_on_feature_map():
    def setup():
        conv = nn.Conv2d(3, 4, 3, padding=1)
        head = nn.Linear(4, 3)
        opt = optim.SGD(list(conv.parameters()) + list(head.parameters()), lr=0.1)

        def step(x, y):
            feat = F.relu(conv(x))
            feat.retain_grad()
            logits = head(feat.mean((2, 3)))
            opt.zero_grad()
            value = F.cross_entropy(logits, y)
            value.backward()
            cam = F.relu((feat.grad.mean((2, 3), keepdim=True) * feat).sum(1))
            opt.step()
            return value, cam.detach(), feat.grad

        return step, conv, head, opt

    check(setup, lambda: [((data((2, 3, 5, 5), i), labels((2,), 3, i)), {}) for i in range(5)])


def test_wgan_gradient_penalty_double_backward_through_conv():
    def setup():
        critic = nn.Sequential(nn.Conv2d(3, 4, 3, stride=2, padding=1), nn.LeakyReLU(0.2), nn.Conv2d(4, 1, 3))
        opt = optim.Adam(critic.parameters(), lr=1e-3, betas=(0.5, 0.9))

        def step(real, fake):
            alpha = chainrule.rand(real.shape[0], 1, 1, 1)
            mixed = (alpha * real + (1 - alpha) * fake).requires_grad_()
            score = critic(mixed)
            (grad,) = chainrule.autograd.grad(score.sum(), mixed, create_graph=True)
            penalty = ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()
            value = critic(fake).mean() - critic(real).mean() + 10 * penalty
            opt.zero_grad()
            value.backward()
            opt.step()
            return value, penalty

        return step, critic, opt

    check(setup, lambda: [((data((2, 3, 6, 6), i), data((2, 3, 6, 6), 60 + i)), {}) for i in range(5)])


def test_lazy_conv_and_batchnorm():
    model = lambda: nn.Sequential(nn.LazyConv2d(4, 3, padding=1), nn.LazyBatchNorm2d(), nn.ReLU(), nn.LazyConvTranspose2d(2, 2, stride=2),
                                  nn.LazyInstanceNorm2d(affine=True))
    check(fitting(model), images(count=5))


@pytest.mark.parametrize("how", ["method", "wrapper"])
def test_compiled_module_with_backward_outside(how):
    def setup():
        net = resnet()
        opt = optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
        if how == "method":
            net.compile()
            model = net
        else:
            model = chainrule.compile(net)

        def step(x, y, train):
            model.train(train)
            out = model(x)
            value = F.cross_entropy(out, y)
            if train:
                opt.zero_grad()
                value.backward()
                opt.step()
            return value.detach(), out.detach()

        return step, net, opt

    flags = [True, True, False, True, True, False, True]
    # the module is compiled in both runs; the comparison is against a plain eager module
    def eager_setup():
        net = resnet()
        opt = optim.SGD(net.parameters(), lr=0.1, momentum=0.9)

        def step(x, y, train):
            net.train(train)
            out = net(x)
            value = F.cross_entropy(out, y)
            if train:
                opt.zero_grad()
                value.backward()
                opt.step()
            return value.detach(), out.detach()

        return step, net, opt

    calls = lambda: [((data((2, 3, 8, 8), i), labels((2,), 3, i), flags[i]), {}) for i in range(7)]
    eager, _, _ = run(eager_setup, calls, False)
    compiled, _, _ = run(setup, calls, False)
    assert_identical(compiled, eager, "compiled module against eager module")


def test_compiled_eval_step_while_training_eagerly_between_calls():
    """Only the validation step is compiled; the batch norms' running statistics move between its
    calls by eager training, an in-place fill, load_state_dict, a rebound buffer and ``.data``."""
    for mode in ["train", "fill", "load", "rebind", "data"]:
        def setup():
            net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.InstanceNorm2d(4, track_running_stats=True))
            opt = optim.SGD(net.parameters(), lr=0.1)

            def evaluate(x):
                net.eval()
                with chainrule.no_grad():
                    out = net(x)
                return out.mean((2, 3))

            def between(i, objs):
                net.train()
                x = data((2, 3, 6, 6), 300 + i)
                if mode == "train":
                    opt.zero_grad()
                    F.mse_loss(net(x), chainrule.zeros(2, 4, 4, 4)).backward()
                    opt.step()
                elif mode == "fill":
                    net[1].running_mean.fill_(0.1 * i)
                elif mode == "load":
                    net.load_state_dict({k: v * 1.1 if v.is_floating_point() else v for k, v in net.state_dict().items()})
                elif mode == "rebind":
                    net[1].running_var = net[1].running_var * 2
                else:
                    net[1].running_var.data = net[1].running_var.data * 2

            return evaluate, between, net, opt

        setup_, calls = between_calls(setup)
        check(setup_, calls, replays=True)


def test_expanded_zero_stride_input_alternating_with_contiguous():
    def setup():
        net = nn.Sequential(nn.Conv2d(3, 2, 3))
        opt = optim.SGD(net.parameters(), lr=0.05)

        def step(x, in_place):
            if in_place:
                x.mul_(2)
            opt.zero_grad()
            value = loss_of(net(x * 1.0))
            value.backward()
            opt.step()
            return value, x

        return step, net, opt

    def make(i):
        if i % 2:
            return data((1, 3, 5, 5), i).expand(3, 3, 5, 5)
        return data((3, 3, 5, 5), i)

    flags = [False, False, False, False, True, True, True, True]
    check(setup, lambda: [((make(i), flags[i]), {}) for i in range(8)])


def test_tied_encoder_decoder_weights():
    class AE(nn.Module):
        def __init__(self):
            super().__init__()
            self.enc = nn.Conv2d(3, 4, 3, stride=2, padding=1)
            self.dec = nn.ConvTranspose2d(4, 3, 3, stride=2, padding=1, output_padding=1)
            self.dec.weight = self.enc.weight

        def forward(self, x):
            return self.dec(F.relu(self.enc(x))) + F.conv_transpose2d(self.enc(x), self.enc.weight, stride=2, padding=1, output_padding=1)

    check(fitting(AE, opt=optim.RMSprop), images(count=5), replays=True)


def test_half_precision_conv_net():
    model = lambda: nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2)).half()
    check(fitting(model, opt=optim.SGD), lambda: [((data((2, 3, 6, 6), i, dtype=np.float16),), {}) for i in range(5)])


def test_model_moved_to_channels_last_memory_format():
    def model():
        return resnet().to(memory_format=chainrule.channels_last)

    check(classify(model=model), lambda: [((data((2, 3, 8, 8), i).contiguous(memory_format=chainrule.channels_last), labels((2,), 3, i)), {}) for i in range(5)])


# ----------------------------------------------------------------------------- Python bools read from values
def python_branch_setup(decide):
    """A step that weights its loss by a Python branch on ``decide(x, reference)``."""
    def setup():
        net = nn.Sequential(nn.Conv2d(3, 2, 3, padding=1))
        opt = optim.SGD(net.parameters(), lr=0.05)
        reference = data((2, 3, 4, 4), 0)

        def step(x):
            opt.zero_grad()
            out = net(x)
            # a repeated batch (the same images as the reference batch) counts less
            weight = 0.1 if decide(x, reference) else 1.0
            value = loss_of(out) * weight
            value.backward()
            opt.step()
            return value

        return step, net, opt

    return setup


def repeated_batches():
    return [((data((2, 3, 4, 4), seed),), {}) for seed in [0, 0, 1, 0, 2]]


def test_allclose_branch_on_batch_values():
    check(python_branch_setup(lambda x, ref: chainrule.allclose(x, ref)), repeated_batches)


def test_equal_branch_on_batch_values():
    check(python_branch_setup(lambda x, ref: x.equal(ref)), repeated_batches)


def test_assert_close_inside_step():
    def decide(x, ref):
        try:
            chainrule.testing.assert_close(x, ref)
            return True
        except AssertionError:
            return False

    check(python_branch_setup(decide), repeated_batches)


def test_isclose_all_branch_falls_back():
    check(python_branch_setup(lambda x, ref: bool(chainrule.isclose(x, ref).all())), repeated_batches, replays=False)


# ----------------------------------------------------------------------------- long programs and many recordings
def test_deep_stack_of_identical_residual_blocks_rolled():
    class Tiny(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(2, 2, 3, padding=1, bias=False)
            self.bn = nn.BatchNorm2d(2)

        def forward(self, x):
            out = self.bn(self.conv(x))
            out += x
            return F.relu(out, inplace=True)

    model = lambda: nn.Sequential(*[Tiny() for _ in range(24)])
    check(fitting(model, opt=optim.Adam), images((2, 2, 3, 3), count=4), replays=True)


def test_more_than_eight_input_sizes_then_back_to_the_first():
    sizes = [(4 + i, 4 + i) for i in range(10)] + [(4, 4), (5, 5)]
    model = lambda: nn.Sequential(nn.Conv2d(3, 2, 3, padding=1), nn.BatchNorm2d(2), nn.AdaptiveAvgPool2d(2))
    check(fitting(model), lambda: [((data((2, 3, *s), i),), {}) for i, s in enumerate(sizes)])


def test_more_than_eight_scale_factors():
    scales = [1.0 + 0.125 * i for i in range(11)] + [1.0]
    check(fitting(Resample), lambda: [((data((1, 3, 4, 4), i), scales[i], "bilinear", False, None), {}) for i in range(12)])


CUTOUTS = {
    "setitem mask scalar": lambda x, mask: x.__setitem__(mask, 0.0),
    "setitem mask from other": lambda x, mask: x.__setitem__(mask, x.flip(3)[mask]),
    "masked_fill_": lambda x, mask: x.masked_fill_(mask, -1.0),
    "masked_scatter_": lambda x, mask: x.masked_scatter_(mask, chainrule.randn(x.shape)),
    "index_put_ accumulate": lambda x, mask: x.index_put_((chainrule.randint(0, x.shape[0], (5,)), chainrule.zeros(5, dtype=chainrule.long)),
                                                          chainrule.ones(5, x.shape[2], x.shape[3]), accumulate=True),
    "slice box from args": lambda x, mask: x[:, :, 1:3, 2:5].zero_(),
    "tensorized box": None,
}


@pytest.mark.parametrize("name", list(CUTOUTS))
def test_cutout_written_into_the_batch_inside_step(name):
    def setup():
        net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 2, 1))
        opt = optim.SGD(net.parameters(), lr=0.05, momentum=0.9)

        def step(x):
            x = x.clone()
            mask = chainrule.rand(x.shape[0], 1, x.shape[2], x.shape[3]).expand_as(x) < 0.2
            if name == "tensorized box":
                n, _, h, w = x.shape
                top = chainrule.randint(0, h - 2, (n, 1, 1, 1))
                left = chainrule.randint(0, w - 2, (n, 1, 1, 1))
                ys = chainrule.arange(h).view(1, 1, h, 1)
                xs = chainrule.arange(w).view(1, 1, 1, w)
                box = (ys >= top) & (ys < top + 2) & (xs >= left) & (xs < left + 3)
                x = x * (~box).float()
            else:
                CUTOUTS[name](x, mask)
            opt.zero_grad()
            value = loss_of(net(x))
            value.backward()
            opt.step()
            return value, x

        return step, net, opt

    check(setup, images((2, 3, 5, 5), count=5))


OPTIMIZERS = {
    "adafactor": lambda p: optim.Adafactor(p, lr=1e-2),
    "muon": lambda p: optim.Muon([q for q in p if q.ndim == 2], lr=1e-2),
    "rprop": lambda p: optim.Rprop(p, lr=1e-2),
    "nadam decoupled": lambda p: optim.NAdam(p, lr=1e-2, weight_decay=0.01, decoupled_weight_decay=True),
    "radam": lambda p: optim.RAdam(p, lr=1e-2),
    "asgd": lambda p: optim.ASGD(p, lr=1e-2, t0=2),
    "adamw amsgrad": lambda p: optim.AdamW(p, lr=1e-2, amsgrad=True),
}


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_conv_net_with_optimizer(name):
    def model():
        return nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.GroupNorm(2, 4), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 3))

    check(classify(model=model, opt=OPTIMIZERS[name]), lambda: [((data((2, 3, 5, 5), i), labels((2,), 3, i)), {}) for i in range(6)])


def test_vision_models_mobilenetv2_with_label_smoothing_and_cosine_schedule():
    import chainrule.vision.models as models

    def setup():
        net = models.MobileNetV2(num_classes=3, width_mult=0.1)
        opt = optim.SGD(net.parameters(), lr=0.05, momentum=0.9, nesterov=True, weight_decay=4e-5)
        sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=4)

        def step(x, y):
            opt.zero_grad()
            out = net(x)
            value = F.cross_entropy(out, y, label_smoothing=0.1)
            value.backward()
            nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            opt.step()
            sched.step()
            return value, out

        return step, net, opt

    check(setup, lambda: [((data((2, 3, 16, 16), i), labels((2,), 3, i)), {}) for i in range(5)])



def test_segmentation_masks_resized_and_class_balanced_weights():
    def setup():
        net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 3, 1))
        opt = optim.Adam(net.parameters(), lr=1e-2)

        def step(x, y, size):
            x = F.interpolate(x, size=size, mode="bilinear", align_corners=False)
            y = F.interpolate(y[:, None].float(), size=size, mode="nearest").squeeze(1).long()
            counts = F.one_hot(y, 3).sum((0, 1, 2)).float()
            weight = counts.sum() / (3 * counts + 1)
            opt.zero_grad()
            out = net(x)
            value = F.cross_entropy(out, y, weight=weight, label_smoothing=0.05)
            value.backward()
            opt.step()
            return value, weight

        return step, net, opt

    sizes = [(6, 6), (6, 6), (5, 7), (6, 6), (5, 7)]
    check(setup, lambda: [((data((2, 3, 8, 8), i), labels((2, 8, 8), 3, i), sizes[i]), {}) for i in range(5)])


@pytest.mark.parametrize("around", ["default dtype", "autocast", "no_grad"])
def test_global_modes_changed_around_a_call(around):
    import contextlib

    class DefaultDtype:
        def __init__(self, on):
            self.on = on

        def __enter__(self):
            if self.on:
                chainrule.set_default_dtype(chainrule.float64)

        def __exit__(self, *exc):
            chainrule.set_default_dtype(chainrule.float32)

    def context(i):
        on = i in (2, 3)
        if around == "default dtype":
            return DefaultDtype(on)
        if around == "autocast":
            return chainrule.autocast("cpu", dtype=chainrule.bfloat16) if on else contextlib.nullcontext()
        return chainrule.no_grad() if i == 3 else contextlib.nullcontext()

    def setup():
        conv = nn.Conv2d(3, 2, 3)

        def step(x):
            flip = chainrule.rand(x.shape[0], 1, 1, 1) < 0.5
            x = chainrule.where(flip, x.flip(3), x) * chainrule.full((1,), 0.7) + chainrule.tensor(0.1) + chainrule.arange(5) * 0.01
            out = conv(x)
            value = out.square().mean()
            if value.requires_grad:
                value.backward()
            return value, x

        holder = {}

        def wrapped(x, i):
            with context(i):
                return holder["f"](x)

        holder["f"] = step
        return wrapped, holder, conv

    # compile the inner step, not the wrapper that sets the mode
    def run_modes(compiled):
        chainrule.manual_seed(0)
        wrapped, holder, conv = setup()
        if compiled:
            holder["f"] = chainrule.compile(holder["f"])
        history = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for i in range(5):
                try:
                    history.append(("ok", observe(wrapped(data((2, 3, 5, 5), i), i), returned=True)))
                except Exception as error:  # noqa: BLE001
                    history.append(("raised", type(error).__name__, str(error)))
                history.append(state([conv]))
        history.append(("random after", arr(chainrule.rand(5))))
        return history

    assert_identical(run_modes(True), run_modes(False), "compiled against eager")


@pytest.mark.parametrize("where", ["loss", "gather", "one_hot"])
def test_error_after_batchnorm_updated_its_running_stats(where):
    """Eager updates the running statistics in forward, then raises at the loss: a replay stopping
    at the same point leaves the same statistics (and the same random stream after dropout)."""
    def setup():
        net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.Dropout2d(0.3), nn.ReLU(),
                            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 3))
        opt = optim.SGD(net.parameters(), lr=0.1, momentum=0.9)

        def step(x, y):
            opt.zero_grad()
            out = net(x)
            if where == "loss":
                value = F.cross_entropy(out, y)
            elif where == "gather":
                value = -out.log_softmax(1).gather(1, y[:, None]).mean()
            else:
                value = -(out.log_softmax(1) * F.one_hot(y, 3)).sum(1).mean()
            value.backward()
            opt.step()
            return value

        return step, net, opt

    ys = [[0, 2], [1, 1], [0, 7], [2, 1], [1, 0]]
    check(setup, lambda: [((data((2, 3, 5, 5), i), chainrule.tensor(ys[i])), {}) for i in range(5)])


def test_returned_buffers_and_parameters_alias_as_eager():
    """A step returning a running statistic, a parameter, its gradient and a view of them: kept by
    the caller across calls, they show what eager's (the objects themselves) show at the end."""
    def run_kept(compiled):
        chainrule.manual_seed(0)
        net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4))
        opt = optim.SGD(net.parameters(), lr=0.1, momentum=0.9)

        def step(x):
            opt.zero_grad()
            value = loss_of(net(x))
            value.backward()
            opt.step()
            bn = net[1]
            return value, bn.running_mean, bn.running_var[:2], net[0].weight, net[0].weight.grad, bn.num_batches_tracked

        function = chainrule.compile(step) if compiled else step
        kept = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for i in range(5):
                kept.append(function(data((2, 3, 5, 5), i)))
        same_objects = [[r is k for r, k in zip(kept[-1][1:], result[1:])] for result in kept]
        return [observe(result, returned=True) for result in kept], same_objects, state([net, opt])

    eager = run_kept(False)
    compiled = run_kept(True)
    assert_identical(compiled[0], eager[0], "kept results")
    assert_identical(compiled[2], eager[2], "state")


@pytest.mark.parametrize("container", ["list", "dict", "object", "tuple in list"])
def test_constant_tensors_in_containers_replaced_between_calls(container):
    class Config:
        pass

    def setup():
        cfg = Config()
        protos = [chainrule.zeros(1, 2, 1, 1), chainrule.ones(1, 2, 1, 1)]
        stats = {"mean": chainrule.zeros(1, 3, 1, 1), "std": chainrule.ones(1, 3, 1, 1)}
        cfg.scale = chainrule.ones(1, 2, 1, 1)
        pairs = [(chainrule.zeros(1, 3, 1, 1), chainrule.ones(1, 3, 1, 1))]
        net = nn.Sequential(nn.Conv2d(3, 2, 3, padding=1))
        opt = optim.SGD(net.parameters(), lr=0.05)

        def step(x):
            if container == "dict":
                x = (x - stats["mean"]) / stats["std"]
            elif container == "tuple in list":
                x = (x - pairs[0][0]) / pairs[0][1]
            out = net(x)
            if container == "list":
                out = out - protos[1]
            elif container == "object":
                out = out * cfg.scale
            opt.zero_grad()
            value = loss_of(out)
            value.backward()
            opt.step()
            return value

        def change(i, objs):
            if i < 2:
                return
            if container == "list":
                protos[1] = chainrule.full((1, 2, 1, 1), float(i))
            elif container == "dict":
                stats["std"] = chainrule.full((1, 3, 1, 1), float(i))
            elif container == "object":
                cfg.scale = chainrule.full((1, 2, 1, 1), float(i))
            else:
                pairs[0] = (chainrule.full((1, 3, 1, 1), 0.5), chainrule.full((1, 3, 1, 1), float(i)))

        return step, change, net, opt

    setup_, calls = between_calls(setup)
    check(setup_, calls)
