"""What chainrule prints, character for character against what PyTorch prints.

Course code is read by its printed output, so each case here is one piece of course code, run twice:
with ``torch`` bound to PyTorch and with ``torch`` bound to chainrule, and the two outputs compared.
Tensors are built from explicit NumPy data (never from the random generators), so the values printed
are the same in both libraries.

The one deliberate difference is the library's name: chainrule prints ``chainrule.Size``,
``chainrule.float64``, ``chainrule.return_types.max``. The comparison reads it as ``torch.``; and
because the length of ``dtype=...`` decides where a tensor's line breaks, chainrule is made to print
PyTorch's dtype names here (as tests/test_format.py does).
"""
import contextlib
import io

import numpy as np
import pytest
import torch

import chainrule

# PyTorch's own modules call its deprecated torch.jit.script when they are built.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:torch")

A = (np.arange(12, dtype=np.float32).reshape(3, 4) % 5 + 1) / 7
B = np.arange(1, 9, dtype=np.float32).reshape(4, 2) / 5
IMAGES = (np.arange(2 * 3 * 6 * 6, dtype=np.float32).reshape(2, 3, 6, 6) % 7) / 7


@pytest.fixture(autouse=True)
def _pytorch_dtype_names_and_default_print_options(monkeypatch):
    monkeypatch.setattr(chainrule.dtypes, "dtype_name", lambda dtype: "torch." + ("bool" if dtype == np.bool_ else np.dtype(dtype).name))
    yield
    chainrule.set_printoptions(profile="default")
    torch.set_printoptions(profile="default")


def printed(code, library):
    """What ``code`` prints with ``torch`` bound to ``library``: a statement's output, or an
    expression's ``str`` and ``repr``. ``x`` (3, 4) and ``w`` (4, 2) require grad; ``images`` is
    (2, 3, 6, 6)."""
    names = dict(
        torch=library, nn=library.nn, F=library.nn.functional, np=np,
        x=library.tensor(A, requires_grad=True), w=library.tensor(B, requires_grad=True),
        images=library.tensor(IMAGES, requires_grad=True),
    )
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        try:
            value = eval(code, names)
        except SyntaxError:
            exec(code, names)
            return output.getvalue()
    return output.getvalue() + str(value) + "\n" + repr(value)


def assert_prints_as_pytorch(code):
    theirs = printed(code, torch)
    ours = printed(code, chainrule).replace("chainrule.", "torch.")
    assert ours == theirs, f"{code}\n--- PyTorch:\n{theirs}\n--- chainrule:\n{ours}"


# ----------------------------------------------------------------------------- print(model): every layer's extra_repr
LAYERS = [
    "nn.Linear(3, 4)", "nn.Linear(3, 4, bias=False)", "nn.Bilinear(2, 3, 4, bias=False)", "nn.Identity()", "nn.Identity(54, unused='x')",
    "nn.LazyLinear(4)",
    "nn.Conv1d(2, 4, 3)", "nn.Conv2d(3, 8, (3, 5), stride=2, padding=1)",
    "nn.Conv2d(4, 8, 3, stride=(2, 1), padding=(1, 2), dilation=2, groups=2, bias=False, padding_mode='reflect')",
    "nn.Conv2d(3, 8, 3, padding='same')", "nn.Conv2d(3, 8, 3, padding='valid')", "nn.Conv2d(3, 8, 3, padding_mode='circular', padding=1)",
    "nn.Conv2d(3, 8, [3, 3], stride=[2, 2], padding=[1, 1], dilation=[1, 1])", "nn.Conv3d(2, 4, 3, stride=2)",
    "nn.ConvTranspose2d(3, 8, 3, stride=2, padding=1, output_padding=1)", "nn.ConvTranspose2d(4, 8, 3, groups=2, bias=False, dilation=2)",
    "nn.ConvTranspose1d(2, 4, 3, output_padding=0)", "nn.ConvTranspose3d(2, 4, 3, stride=2, output_padding=1)", "nn.LazyConv2d(8, 3)",
    "nn.BatchNorm1d(4)", "nn.BatchNorm2d(4, eps=1e-3, momentum=0.01)", "nn.BatchNorm2d(4, affine=False)",
    "nn.BatchNorm2d(4, track_running_stats=False)", "nn.BatchNorm3d(4, momentum=None)", "nn.LazyBatchNorm2d()", "nn.SyncBatchNorm(4)",
    "nn.LayerNorm(4)", "nn.LayerNorm([4, 5])", "nn.LayerNorm((4,), eps=1e-6, elementwise_affine=False)", "nn.LayerNorm(4, bias=False)",
    "nn.GroupNorm(2, 4)", "nn.GroupNorm(2, 4, eps=1e-3, affine=False)", "nn.InstanceNorm2d(4)",
    "nn.InstanceNorm1d(4, affine=True, track_running_stats=True)", "nn.LocalResponseNorm(3, alpha=1e-3, beta=0.5, k=2.)",
    "nn.RMSNorm(4)", "nn.RMSNorm([4], eps=1e-6, elementwise_affine=False)",
    "nn.Dropout()", "nn.Dropout(0.3)", "nn.Dropout(p=0.2, inplace=True)", "nn.Dropout2d(0.1)", "nn.Dropout1d()", "nn.Dropout3d(0.4, True)",
    "nn.AlphaDropout(0.2)", "nn.FeatureAlphaDropout(0.3)",
    "nn.MaxPool2d(2)", "nn.MaxPool2d(3, stride=2, padding=1, dilation=2, return_indices=True, ceil_mode=True)", "nn.MaxPool2d((2, 3))",
    "nn.MaxPool2d([2, 2])", "nn.MaxPool1d(3, 1, 1)", "nn.MaxPool3d(2, ceil_mode=True)",
    "nn.AvgPool2d(2)", "nn.AvgPool2d(3, stride=1, padding=1, ceil_mode=True, count_include_pad=False, divisor_override=2)",
    "nn.AvgPool1d(3, 2, 1, True, False)", "nn.AvgPool3d(2)",
    "nn.AdaptiveAvgPool2d(1)", "nn.AdaptiveAvgPool2d((1, 1))", "nn.AdaptiveAvgPool2d((None, 7))", "nn.AdaptiveAvgPool1d(5)",
    "nn.AdaptiveMaxPool2d((2, 2), return_indices=True)", "nn.AdaptiveMaxPool3d((1, None, 2))",
    "nn.LPPool2d(2, 3)", "nn.LPPool1d(1.5, 2, stride=1, ceil_mode=True)", "nn.FractionalMaxPool2d(2, output_size=3)",
    "nn.FractionalMaxPool2d(3, output_ratio=0.5)", "nn.MaxUnpool2d(2)", "nn.MaxUnpool1d(3, stride=2, padding=1)",
    "nn.Embedding(10, 3)", "nn.Embedding(10, 3, padding_idx=0)", "nn.Embedding(10, 3, padding_idx=-1)", "nn.Embedding(10, 3, max_norm=1.0)",
    "nn.Embedding(10, 3, max_norm=2, norm_type=1., scale_grad_by_freq=True, sparse=True)",
    "nn.Embedding.from_pretrained(torch.ones(3, 2), freeze=False, padding_idx=1)",
    "nn.EmbeddingBag(10, 3)", "nn.EmbeddingBag(10, 3, mode='sum', padding_idx=2)",
    "nn.RNN(4, 8)", "nn.RNN(4, 8, num_layers=2, nonlinearity='relu', bias=False, batch_first=True, dropout=0.5, bidirectional=True)",
    "nn.LSTM(4, 8)", "nn.LSTM(4, 8, num_layers=2, batch_first=True, dropout=0.2, bidirectional=True)", "nn.LSTM(4, 8, proj_size=3)",
    "nn.GRU(4, 8, 3, batch_first=True)", "nn.GRU(4, 8, bidirectional=True, bias=False)",
    "nn.RNNCell(4, 8, bias=False, nonlinearity='relu')", "nn.LSTMCell(4, 8)", "nn.GRUCell(4, 8, bias=False)",
    "nn.TransformerEncoderLayer(8, 2)",
    "nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0, batch_first=True, norm_first=True, activation='gelu')",
    "nn.TransformerEncoderLayer(8, 2, 16, activation=nn.GELU())", "nn.TransformerDecoderLayer(8, 2, 16)",
    "nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16), 2, norm=nn.LayerNorm(8), enable_nested_tensor=False)",
    "nn.TransformerDecoder(nn.TransformerDecoderLayer(8, 2, 16), 1)",
    "nn.Transformer(d_model=8, nhead=2, num_encoder_layers=1, num_decoder_layers=1, dim_feedforward=16, batch_first=True)",
    "nn.MultiheadAttention(8, 2)", "nn.MultiheadAttention(8, 2, dropout=0.1, bias=False, batch_first=True)",
    "nn.MultiheadAttention(8, 2, kdim=4, vdim=6)",
    "nn.ReLU()", "nn.ReLU(inplace=True)", "nn.ReLU6(True)", "nn.LeakyReLU()", "nn.LeakyReLU(0.2, inplace=True)", "nn.ELU(alpha=0.5)",
    "nn.ELU(0.5, True)", "nn.CELU(2.)", "nn.SELU(True)", "nn.GELU()", "nn.GELU(approximate='tanh')", "nn.SiLU()", "nn.Mish()",
    "nn.Sigmoid()", "nn.Tanh()", "nn.Softmax()", "nn.Softmax(dim=1)", "nn.LogSoftmax(dim=1)", "nn.Softmin(0)", "nn.Softmax2d()",
    "nn.Hardtanh()", "nn.Hardtanh(-2, 2)", "nn.Hardtanh(min_val=0., max_val=6., inplace=True)", "nn.Hardsigmoid()", "nn.Hardswish(True)",
    "nn.Hardshrink(0.3)", "nn.Softshrink(1.)", "nn.Tanhshrink()", "nn.Softsign()", "nn.Softplus(beta=2, threshold=10)",
    "nn.Threshold(0.1, 20., True)", "nn.PReLU()", "nn.PReLU(num_parameters=3)", "nn.PReLU(3, init=0.1)", "nn.RReLU(0.1, 0.3, True)",
    "nn.GLU(dim=1)", "nn.LogSigmoid()", "nn.CosineSimilarity(dim=0, eps=1e-6)", "nn.PairwiseDistance(p=1., eps=1e-3, keepdim=True)",
    "nn.Flatten()", "nn.Flatten(0, -1)", "nn.Unflatten(1, (2, 3))", "nn.Unflatten(1, torch.Size([2, 3]))",
    "nn.Upsample(scale_factor=2)", "nn.Upsample(scale_factor=2.0, mode='bilinear', align_corners=True)",
    "nn.Upsample(size=(4, 4), mode='nearest')", "nn.Upsample(scale_factor=(2, 3), mode='bicubic')", "nn.UpsamplingNearest2d(scale_factor=2)",
    "nn.UpsamplingBilinear2d(size=(4, 4))", "nn.PixelShuffle(2)", "nn.PixelUnshuffle(3)", "nn.ChannelShuffle(2)",
    "nn.Fold(output_size=4, kernel_size=2, dilation=1, padding=1, stride=2)", "nn.Unfold((2, 3), dilation=2, padding=1, stride=(1, 2))",
    "nn.ZeroPad2d((1, 2, 3, 4))", "nn.ConstantPad1d(2, 3.5)", "nn.ReflectionPad2d(2)", "nn.ReplicationPad3d(1)", "nn.CircularPad1d((1, 0))",
    "nn.MSELoss()", "nn.MSELoss(reduction='sum')", "nn.L1Loss(reduction='none')",
    "nn.CrossEntropyLoss(weight=torch.ones(3), ignore_index=1, reduction='sum', label_smoothing=0.1)", "nn.NLLLoss(ignore_index=0)",
    "nn.BCELoss(weight=torch.ones(2))", "nn.BCEWithLogitsLoss(pos_weight=torch.ones(2))", "nn.SmoothL1Loss(beta=0.5)",
    "nn.HuberLoss(delta=2.)", "nn.KLDivLoss(reduction='batchmean', log_target=True)", "nn.CosineEmbeddingLoss(margin=0.5)",
    "nn.TripletMarginLoss(margin=2., p=1.)", "nn.CTCLoss(blank=1, zero_infinity=True)", "nn.GaussianNLLLoss(full=True, eps=1e-3)",
    "nn.AdaptiveLogSoftmaxWithLoss(16, 10, [4, 6])",
]


@pytest.mark.parametrize("code", LAYERS)
def test_a_layer_prints_as_pytorch_prints_it(code):
    assert_prints_as_pytorch(code)


# ----------------------------------------------------------------------------- containers and models
MODELS = [
    "nn.Sequential()", "nn.ModuleList()", "nn.ModuleDict()",
    "nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2)), "
    "nn.ModuleList([nn.Tanh(), nn.Linear(1, 1)]), nn.ModuleDict({'a': nn.ReLU(), 'b': nn.Linear(2, 2)}))",
    "nn.Sequential(*[nn.Linear(2, 2) for _ in range(12)])",
    "nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 2), nn.Linear(2, 2), nn.Linear(2, 3)])",
    "nn.ModuleList([nn.Sequential(nn.Linear(1, 1), nn.ReLU()) for _ in range(3)])",
    "nn.Sequential(__import__('collections').OrderedDict([('fc1', nn.Linear(2, 3)), ('act', nn.ReLU())]))",
    "nn.Sequential(nn.Linear(1, 2), nn.ReLU(), nn.Linear(2, 1))[0:2]",
    "nn.ParameterList([nn.Parameter(torch.ones(2, 3)), nn.Parameter(torch.ones(4, dtype=torch.float64))])",
    "nn.ParameterDict({'a': nn.Parameter(torch.ones(2)), 'b': nn.Parameter(torch.ones(1, 2), requires_grad=False)})",
    """class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.fc = nn.Sequential(nn.Linear(16, 8), nn.ReLU())
        self.blocks = nn.ModuleList([nn.Linear(8, 8) for _ in range(3)])
        self.heads = nn.ModuleDict({'cls': nn.Linear(8, 2)})
        self.scale = nn.Parameter(torch.ones(3))
        self.register_buffer('running', torch.zeros(2))
        self.register_module('unused', None)

    def extra_repr(self):
        return 'first line\\nsecond line'

class Residual(nn.Sequential):
    pass

print(Net())
print(Residual(Net(), nn.Identity()))""",
    "m = nn.LazyLinear(4)\nm(torch.ones(2, 3))\nprint(m)",
    "nn.utils.parametrizations.weight_norm(nn.Linear(2, 3))",
    "nn.utils.spectral_norm(nn.Linear(2, 3))",
]


@pytest.mark.parametrize("code", MODELS)
def test_a_model_prints_as_pytorch_prints_it(code):
    assert_prints_as_pytorch(code)


# ----------------------------------------------------------------------------- print(optimizer)
PARAMETERS = "[torch.ones(2, 2, requires_grad=True)]"
OPTIMIZERS = [
    f"torch.optim.SGD({PARAMETERS}, lr=0.1)",
    f"torch.optim.SGD({PARAMETERS}, lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-4)",
    f"torch.optim.Adam({PARAMETERS})",
    f"torch.optim.Adam({PARAMETERS}, lr=1e-3, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.01, amsgrad=True)",
    f"torch.optim.Adam({PARAMETERS}, lr=torch.tensor(0.01), foreach=False, maximize=True)",
    f"torch.optim.AdamW({PARAMETERS}, 1e-3, (0.9, 0.95), 1e-8, 0.05)",
    f"torch.optim.RMSprop({PARAMETERS}, lr=0.01, alpha=0.9, momentum=0.5, centered=True)",
    f"torch.optim.Adagrad({PARAMETERS}, lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1)",
    f"torch.optim.Adadelta({PARAMETERS}, rho=0.95)", f"torch.optim.Adamax({PARAMETERS})",
    f"torch.optim.NAdam({PARAMETERS}, momentum_decay=0.005, decoupled_weight_decay=True)", f"torch.optim.RAdam({PARAMETERS})",
    f"torch.optim.ASGD({PARAMETERS}, lambd=1e-3, t0=10)", f"torch.optim.Rprop({PARAMETERS}, etas=(0.4, 1.3))",
    f"torch.optim.LBFGS({PARAMETERS}, lr=0.5, history_size=10, line_search_fn='strong_wolfe')",
    "torch.optim.SGD([{'params': [torch.ones(2, requires_grad=True)]}, "
    "{'params': [torch.ones(2, requires_grad=True)], 'lr': 1e-2}], lr=0.1, momentum=0.9)",
    """p = torch.tensor([1., 2.], requires_grad=True)
optimizer = torch.optim.Adam([p], lr=0.1)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, 1, gamma=0.5)
(p * p).sum().backward()
optimizer.step()
scheduler.step()
print(optimizer)
print(optimizer.state_dict())
print(scheduler.get_last_lr())""",
]


@pytest.mark.parametrize("code", OPTIMIZERS)
def test_an_optimizer_prints_as_pytorch_prints_it(code):
    assert_prints_as_pytorch(code)


# ----------------------------------------------------------------------------- results of operations: grad_fn=<...>
RESULTS = [
    "x + 1", "x * 2", "x - w.sum()", "x / 3", "x.mean()", "x.sum()", "x.sum(0)", "x.mean(1)", "x.view(12)", "x.reshape(2, 6)", "x.t()",
    "x.T", "x @ w", "x.mm(w)", "F.linear(x, w.t(), w[0])", "nn.Linear(4, 2)(x).grad_fn.name()", "x.softmax(1)", "F.log_softmax(x, 1)",
    "x.relu()", "torch.sigmoid(x)", "torch.tanh(x)", "x.exp()", "x.log()", "x ** 2", "x.abs()", "-x", "x[0]", "x[:, 1]", "x[0, 0]",
    "x.unsqueeze(0)", "x.permute(1, 0)", "x.flatten()", "x.expand(2, 3, 4)", "torch.cat([x, x])", "torch.stack([x, x])",
    "x.sqrt()", "x.var()", "F.mse_loss(x, x.detach() * 2)", "F.cross_entropy(x, torch.tensor([0, 1, 2]))",
    "F.binary_cross_entropy_with_logits(x, x.detach() / 2)", "x.double()", "torch.where(x > 0.5, x, x * 0)", "x.clamp(0.2, 0.8)",
    "F.conv2d(images, torch.ones(2, 3, 3, 3))", "F.max_pool2d(images, 2)", "F.avg_pool2d(images, 2)",
    "nn.BatchNorm2d(3)(images).grad_fn.name()", "nn.LayerNorm(4)(x).grad_fn.name()", "F.dropout(x, 0.5, training=False)",
    "(x * 1).add_(1)", "(x * 1).relu_()", "x.detach()", "x.data", "x.max(1)", "x.min(0)", "x.sort(1)", "x.topk(2)", "torch.max(x, 1)",
    "torch.median(x, 1)", "x.cummax(1)", "torch.std_mean(x)", "x.split(2, 1)", "x.unbind(0)",
    "torch.tensor([[1e-10, 1e10]], requires_grad=True) * 1",
    "torch.tensor([float('inf'), 1.], dtype=torch.float64, requires_grad=True) + 0",
    "torch.zeros(0, 3, requires_grad=True, dtype=torch.float64) * 2",
    "torch.view_as_complex(x.reshape(3, 2, 2))", "torch.view_as_complex(x.reshape(3, 2, 2)) * 1j", "torch.polar(x, w.sum())",
    "torch.view_as_real(torch.complex(x, -x))", "(x * (1 - 2j)).abs()", "(x * 1j).angle()", "(x + 1j).conj()", "(x * 1j).real",
    "(x * 1j).imag", "torch.fft.rfft(x)", "torch.fft.fft(x, dim=0)", "torch.fft.irfft(torch.fft.rfft(x))",
]


@pytest.mark.parametrize("code", RESULTS)
def test_a_result_prints_its_grad_fn_as_pytorch_does(code):
    assert_prints_as_pytorch(code)


# ----------------------------------------------------------------------------- shapes, dtypes, devices, parameters, grads
DESCRIPTIONS = [
    "x.shape", "x.size()", "x.size(0)", "x.shape[1:]", "x.shape + (1,)", "torch.Size([])", "torch.tensor(5).shape", "f'{x.shape}'",
    "x.dtype", "torch.int32", "torch.bool", "torch.float16", "f'{x.dtype}'", "x.device", "torch.device('cpu')",
    "torch.finfo(torch.float32)", "torch.iinfo(torch.uint8)", "torch.complex64", "torch.cdouble", "torch.finfo(torch.complex64)",
    "torch.tensor([1 + 2j, -3.25j]).dtype", "torch.tensor(2j).item()", "torch.tensor([[1 + 2j]]).tolist()",
    "x.grad", "x.sum().backward()\nprint(x.grad)\nprint(w.grad)", "x.is_leaf", "(x * 2).is_leaf",
    "nn.Parameter(torch.ones(3))", "nn.Parameter(torch.ones(2, 2), requires_grad=False)",
    "nn.Parameter(torch.tensor(np.float64(np.pi)))", "nn.Parameter(torch.zeros(0, 2))",
    "y = x * 2\ny.retain_grad()\ny.sum().backward()\nprint(y.grad)",
    "class Ours(torch.Tensor):\n    pass\nprint(torch.tensor([[1., 2.], [3., 4.]], requires_grad=True).as_subclass(Ours))",
    "torch.autograd.grad((x * x).sum(), x)", "x.tolist()", "x.sum().item()", "x[0, 0].item()",
    "torch.nn.utils.rnn.pack_sequence([torch.tensor([1., 2.]), torch.tensor([3.])])",
    "torch.distributions.Normal(torch.zeros(2), torch.ones(2))",
    "fwAD = torch.autograd.forward_ad\nwith fwAD.dual_level():\n    print(fwAD.make_dual(torch.tensor([1., 2.]), torch.tensor([3., 4.])) * 2)",
    "torch.set_default_dtype(torch.float64)\nprint(torch.tensor([1.5]), torch.tensor([1.5], dtype=torch.float32), torch.tensor([]))\n"
    "torch.set_default_dtype(torch.float32)",
]


@pytest.mark.parametrize("code", DESCRIPTIONS)
def test_a_description_prints_as_pytorch_prints_it(code):
    assert_prints_as_pytorch(code)


# ----------------------------------------------------------------------------- set_printoptions
OPTIONS = [
    dict(precision=2), dict(precision=0), dict(precision=8), dict(threshold=5), dict(threshold=5, edgeitems=1),
    dict(threshold=5, edgeitems=0), dict(linewidth=40), dict(linewidth=120), dict(sci_mode=True), dict(sci_mode=False),
    dict(profile="short"), dict(profile="full"), dict(profile="short", precision=6), dict(edgeitems=5, threshold=10),
]
VALUES = [
    np.linspace(-3, 3, 24, dtype=np.float32).reshape(4, 6),
    np.geomspace(1e-6, 1e9, 1500),
    np.arange(2000).reshape(40, 50),
    np.arange(30, dtype=np.float32).reshape(2, 3, 5) / 8,
    np.array([1.0, -0.0, np.nan, np.inf, -np.inf], dtype=np.float32),
    np.float32(0.123456789),
]


@pytest.mark.parametrize("options", OPTIONS, ids=repr)
def test_print_options_change_every_print_as_in_pytorch(options):
    torch.set_printoptions(**options)
    chainrule.set_printoptions(**options)
    for values in VALUES:
        for requires_grad in (False, values.dtype.kind == "f"):
            theirs = repr(torch.tensor(values, requires_grad=requires_grad))
            ours = repr(chainrule.tensor(values, requires_grad=requires_grad))
            assert ours == theirs, options


def test_the_default_profile_restores_every_option_and_sci_mode_resets_on_every_call():
    for library in (torch, chainrule):
        library.set_printoptions(precision=2, threshold=3, edgeitems=1, linewidth=30, sci_mode=True)
        library.set_printoptions(profile="default")
    assert repr(chainrule.tensor(np.geomspace(1, 100, 5))) == repr(torch.tensor(np.geomspace(1, 100, 5)))


# ----------------------------------------------------------------------------- seeded fuzz
DTYPES = ["float32", "float64", "float16", "int8", "int16", "int32", "int64", "uint8", "bool"]


def random_options(rng):
    """A few of set_printoptions' arguments, each present with chance 1/4."""
    choices = dict(
        precision=lambda: int(rng.integers(0, 9)), threshold=lambda: float(rng.choice([0, 5, 50, 1000, np.inf])),
        edgeitems=lambda: int(rng.integers(0, 5)), linewidth=lambda: int(rng.integers(20, 160)),
        sci_mode=lambda: bool(rng.random() < 0.5), profile=lambda: str(rng.choice(["default", "short", "full"])),
    )
    return {name: draw() for name, draw in choices.items() if rng.random() < 0.25}


def random_values(rng):
    """An array of 0 to 5 dimensions (some empty, some over 1000 elements) of any dtype, its floats of
    one magnitude from 1e-12 to 1e12 or of mixed magnitudes, whole or not, with NaN, inf and -0."""
    shape = tuple(int(rng.choice([0, 1, 2, 3, 4, 7, 12, 60])) for _ in range(rng.integers(0, 6)))
    while np.prod(shape) > 20000:
        shape = shape[:-1]
    dtype = DTYPES[rng.integers(len(DTYPES))]
    if dtype == "bool":
        return rng.random(shape) > 0.5
    if dtype[0] in "iu":
        info = np.iinfo(dtype)
        high = min(int(info.max), int(rng.choice([9, 1000, 10**6, info.max])))
        return rng.integers(max(int(info.min), -high), high, shape, dtype=dtype, endpoint=True)
    exponent = rng.integers(-12, 12) if rng.random() < 0.6 else rng.integers(-12, 12, shape)
    values = rng.standard_normal(shape) * 10.0**exponent
    if rng.random() < 0.3:
        values = np.round(values)
    if rng.random() < 0.2 and values.size:
        flat = values.reshape(-1)
        flat[rng.integers(0, flat.size, 2)] = rng.choice([np.nan, np.inf, -np.inf, -0.0, 0.0], 2)
    with np.errstate(over="ignore"):
        return np.asarray(values).astype(dtype)


@pytest.mark.parametrize("seed", range(300))
def test_random_tensors_print_as_in_pytorch(seed):
    rng = np.random.default_rng(seed)
    options, values = random_options(rng), random_values(rng)
    requires_grad = values.dtype.kind == "f" and rng.random() < 0.4
    transposed = values.ndim >= 2 and rng.random() < 0.2
    torch.set_printoptions(**options)
    chainrule.set_printoptions(**options)
    theirs = torch.tensor(values, requires_grad=requires_grad)
    ours = chainrule.tensor(values, requires_grad=requires_grad)
    if transposed:
        theirs, ours = theirs.transpose(0, 1), ours.transpose(0, 1)
    assert repr(ours) == repr(theirs), (values.shape, values.dtype, options)
    assert str(ours) == str(theirs)


def random_complex_values(rng):
    """complex64 or complex128 values whose real and imaginary parts are drawn as ``random_values``'
    floats (one magnitude or mixed, whole or not, NaN, inf, -0), each part on its own."""
    while (real := random_values(rng)).dtype.kind != "f":
        pass
    imag = random_values(rng).astype(np.float64)
    imag = np.resize(imag, real.shape) if imag.size else np.zeros(real.shape)
    return (real + 1j * imag).astype(np.complex128 if rng.random() < 0.5 else np.complex64)


@pytest.mark.parametrize("seed", range(150))
def test_random_complex_tensors_print_as_in_pytorch(seed):
    rng = np.random.default_rng(100_000 + seed)
    options, values = random_options(rng), random_complex_values(rng)
    requires_grad = rng.random() < 0.3
    torch.set_printoptions(**options)
    chainrule.set_printoptions(**options)
    theirs = torch.tensor(values, requires_grad=requires_grad)
    ours = chainrule.tensor(values, requires_grad=requires_grad)
    assert repr(ours) == repr(theirs), (values.shape, values.dtype, options)
