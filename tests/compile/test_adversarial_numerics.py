"""chainrule.compile against eager execution where the VALUES flowing through a training step
turn special after the recording: the recording call sees ordinary numbers, later calls (same
shapes) see inf, -inf, nan of both signs, -0.0, subnormals, numbers that overflow in exp or
square, exact zeros at kinks, ties, constant rows and all-masked rows, then ordinary numbers again.

Operations take value-dependent fast paths (``selected`` in ops/elementwise.py, ``max_shift`` in
ops/reduce.py) and the simplifier rewrites the recorded program (broadcasts dropped, products
reused, branches folded, results written in place): the replay must give the same bits (NaN sign
and -0.0 included) and the same exceptions as eager, or fall back to eager with a warning.

Each case builds fresh state from the same seed, runs eagerly
and compiled once, and compares bit for bit each call's result or exception, the input's gradient,
and the parameters and their gradients after it."""
import collections
import warnings

import numpy as np
import pytest

import chainrule as torch
import chainrule.nn.functional as F
from chainrule import nn
from tests.compile.bitwise import assert_identical

F32 = np.float32
INF = np.inf
NAN = np.nan
NNAN = -np.nan  # the sign bit set
TINY = F32(1e-45)  # the smallest float32 subnormal
BIG = F32(3e38)


def _arr(t):
    return np.array(t.detach().numpy(), copy=True)


def _snap(value):
    if isinstance(value, torch.Tensor):
        return _arr(value)
    if isinstance(value, (list, tuple)):
        return tuple(_snap(item) for item in value)
    if isinstance(value, dict):
        return {key: _snap(item) for key, item in value.items()}
    return value


def _a(values, shape=(2, 4)):
    return np.resize(np.array(values, dtype=F32), shape)


def _payload_nan(shape=(2, 4), negative=False):
    """nan with a non-default payload (and sign)."""
    bits = np.full(shape, 0x7FC12345 | (0x80000000 if negative else 0), dtype=np.uint32)
    return bits.view(F32)


def _ordinary(seed, shape=(2, 4)):
    return np.random.default_rng(seed).standard_normal(shape).astype(F32)


def specials(shape=(2, 4)):
    """Special-valued arrays of ``shape`` (the 8-element patterns repeated to fill it)."""
    rows = [
        [INF, -INF, NAN, NNAN, -0.0, 0.0, TINY, BIG],
        [-0.0] * 8,
        [0.0] * 8,
        [1.0, 1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 2.0],  # ties, constant rows
        [100.0, -100.0, 1e20, -1e20, BIG, -BIG, TINY, -TINY],  # overflow in exp / square
        [INF, INF, INF, INF, -INF, -INF, -INF, -INF],  # rows of infinities
        [NAN, NAN, NAN, NAN, 1.0, 2.0, 3.0, 4.0],  # a row of nan
        [NNAN, 0.0, -0.0, INF, -INF, 1.0, -1.0, 2.0],
        [-1.0, 0.0, 1.0, -6.0, 6.0, 3.0, -3.0, 0.5],  # the kinks of hardtanh/relu6/hardswish
        [0.0, 2.0, 3.0, -1.0, -0.0, 0.0, 5.0, 1.0],  # one zero in a row, two in the next (prod)
        [5.0, -INF, 5.0, 2.0, NNAN, NAN, -0.0, 0.0],  # ties beside -inf; nan of both signs together
    ]
    out = [_a(r, shape) for r in rows]
    out.append(_payload_nan(shape, negative=True))
    return out


def sequence(shape=(2, 4)):
    """Ordinary values first (the recording), then the special values, then ordinary again."""
    return [_ordinary(0, shape), _ordinary(1, shape)] + specials(shape) + [_ordinary(2, shape), _ordinary(3, shape)]


# ------------------------------------------------------------------------------------ harness
def _run(build, values, compiled):
    torch.manual_seed(0)
    step, params = build()
    if compiled:
        step = torch.compile(step)
    log = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for value in values:
            arrays = value if isinstance(value, tuple) else (value,)
            tensors = [torch.tensor(arrays[0].copy(), requires_grad=True)] + [
                torch.tensor(a.copy()) for a in arrays[1:]
            ]
            try:
                result = ("ok", _snap(step(*tensors)))
            except Exception as error:  # noqa: BLE001 - compared with eager's
                result = ("raised", type(error).__name__, str(error))
            grad = tensors[0].grad
            state = [(_arr(p), None if p.grad is None else _arr(p.grad)) for p in params]
            log.append((result, None if grad is None else _arr(grad), state))
    return log, [str(w.message) for w in caught]


def check(build, values):
    eager, eager_messages = _run(build, values, compiled=False)
    compiled, messages = _run(build, values, compiled=True)
    extra = collections.Counter(messages) - collections.Counter(eager_messages)
    assert sum(extra.values()) <= 1, extra  # at most one fall-back warning beyond eager's own
    for index, (mine, theirs) in enumerate(zip(compiled, eager)):
        assert_identical(mine, theirs, f"call {index}")


def _weights(shape=(2, 4), seed=7):
    """Fixed, non-uniform output weights, so each element's gradient differs."""
    return torch.tensor(np.asarray(np.random.default_rng(seed).standard_normal(shape), dtype=F32))


def unary(fn, shape=(2, 4), param=None):
    """A step computing ``fn(x)`` (or ``fn(x, p)`` with a parameter ``p``), a weighted sum of it,
    and its backward, with the parameter updated by SGD."""

    def build():
        p = None if param is None else nn.Parameter(torch.tensor(np.asarray(param, dtype=F32)))
        with torch.no_grad():  # the output's shape, for weights of that shape
            probe = fn(torch.zeros(*shape)) if p is None else fn(torch.zeros(*shape), p)
        weights = _weights(tuple((probe[0] if isinstance(probe, tuple) else probe).shape))
        params = [] if p is None else [p]
        opt = torch.optim.SGD(params, lr=0.1) if params else None

        def step(x):
            if opt is not None:
                opt.zero_grad()
            y = fn(x) if p is None else fn(x, p)
            if isinstance(y, tuple):
                y = y[0]
            loss = (y * weights).sum()
            loss.backward()
            if opt is not None:
                opt.step()
            return y, loss

        return step, params

    return build


# ------------------------------------------------------------------------------------ activations
ACTIVATIONS = {
    "relu": F.relu,
    "leaky_relu": lambda x: F.leaky_relu(x, 0.1),
    "elu": F.elu,
    "elu_alpha": lambda x: F.elu(x, alpha=0.5),
    "selu": F.selu,
    "celu": lambda x: F.celu(x, alpha=2.0),
    "gelu": F.gelu,
    "gelu_tanh": lambda x: F.gelu(x, approximate="tanh"),
    "silu": F.silu,
    "mish": F.mish,
    "softplus": F.softplus,
    "softplus_beta_threshold": lambda x: F.softplus(x, beta=2.0, threshold=1.0),
    "hardtanh": F.hardtanh,
    "hardtanh_range": lambda x: F.hardtanh(x, -0.5, 0.5),
    "relu6": F.relu6,
    "hardswish": F.hardswish,
    "hardsigmoid": F.hardsigmoid,
    "tanhshrink": F.tanhshrink,
    "softsign": F.softsign,
    "logsigmoid": F.logsigmoid,
    "rrelu_eval": lambda x: F.rrelu(x, training=False),
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "hardshrink": F.hardshrink,
    "softshrink": F.softshrink,
    "threshold": lambda x: F.threshold(x, 0.5, -1.0),
    "abs": torch.abs,
    "sqrt": torch.sqrt,
    "rsqrt": torch.rsqrt,
    "exp": torch.exp,
    "log": torch.log,
    "log1p": torch.log1p,
    "expm1": torch.expm1,
    "square": torch.square,
    "reciprocal": torch.reciprocal,
    "sign": lambda x: torch.sign(x) * x,
    "pow2": lambda x: x ** 2,
    "pow3": lambda x: x ** 3,
    "pow_half": lambda x: x ** 0.5,
    "pow_neg_frac": lambda x: torch.pow(x, -1.5),
    "pow_zero": lambda x: torch.pow(x, 0.0),
    "pow_one": lambda x: torch.pow(x, 1.0),
    "rpow": lambda x: 2.0 ** x,
    "div_by_x": lambda x: 1.0 / x,
    "clamp_min": lambda x: torch.clamp(x, min=0.0),
    "clamp_both": lambda x: torch.clamp(x, -1.0, 1.0),
    "clamp_nan_bound": lambda x: torch.clamp(x, min=float("nan")),
    "nan_to_num": torch.nan_to_num,
    "where_nan": lambda x: torch.where(x > 0, x, torch.full_like(x, float("nan"))),
    "where_x_x2": lambda x: torch.where(x > 0, x.sqrt(), x * x),
    "atan2_x_1": lambda x: torch.atan2(x, torch.ones_like(x)),
    "atan2_1_x": lambda x: torch.atan2(torch.ones_like(x), x),
    "atan2_x_x": lambda x: torch.atan2(x, x),
    "x_times_x": lambda x: x * x,
    "x_div_x": lambda x: x / x,
    "erf": torch.erf,
    "lgamma": torch.lgamma,
}


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation(name):
    check(unary(ACTIVATIONS[name]), sequence())


def test_activation_inplace_relu():
    check(unary(lambda x: F.relu(x * 1.0, inplace=True)), sequence())


def test_prelu():
    check(unary(lambda x, w: F.prelu(x, w), param=[0.25, -0.5, 0.0, 2.0]), sequence())


def test_prelu_single():
    check(unary(lambda x, w: F.prelu(x, w), param=[0.25]), sequence())


@pytest.mark.parametrize("name", ["maximum", "minimum", "fmax", "fmin", "atan2", "pow", "div", "mul_l2"])
def test_binary_with_parameter(name):
    fn = {
        "maximum": torch.maximum,
        "minimum": torch.minimum,
        "fmax": torch.fmax,
        "fmin": torch.fmin,
        "atan2": torch.atan2,
        "pow": lambda x, p: torch.pow(x, p),  # negative base, fractional exponent
        "div": lambda x, p: p / x,
        "mul_l2": lambda x, p: x * p + (p * p).sum(),
    }[name]
    param = [[0.5, -1.5, 2.0, 0.0], [-0.0, 1.0, 3.0, -2.0]]
    check(unary(fn, param=param), sequence())


# ------------------------------------------------------------------------------------ softmax & co
SOFTMAXES = {
    "softmax_last": lambda x: F.softmax(x, dim=-1),
    "softmax_first": lambda x: F.softmax(x, dim=0),
    "log_softmax": lambda x: F.log_softmax(x, dim=-1),
    "logsumexp": lambda x: torch.logsumexp(x, dim=1),
    "logsumexp_all": lambda x: torch.logsumexp(x, dim=(0, 1)),
    "softmin": lambda x: F.softmin(x, dim=-1),
    "masked_softmax": lambda x: F.softmax(x.masked_fill(x < 0.5, float("-inf")), dim=-1),
}


@pytest.mark.parametrize("name", sorted(SOFTMAXES))
def test_softmax(name):
    check(unary(SOFTMAXES[name]), sequence())


# ------------------------------------------------------------------------------------ reductions
REDUCTIONS = {
    "sum": lambda x: x.sum(),
    "sum_dim": lambda x: x.sum(1),
    "mean": lambda x: x.mean(0),
    "prod": lambda x: x.prod(),
    "prod_dim": lambda x: x.prod(1),
    "amax": lambda x: x.amax(1),
    "amin": lambda x: x.amin(0),
    "amax_all": lambda x: x.amax(),
    "max_dim": lambda x: x.max(1)[0],
    "max_all": lambda x: x.max(),
    "min_dim_idx": lambda x: x.min(1)[0] + x.min(1)[1].float(),
    "argmax": lambda x: x * x.argmax(1, keepdim=True).float(),
    "median": lambda x: x.median(1)[0],
    "median_all": lambda x: x.median(),
    "sort": lambda x: x.sort(1)[0],
    "sort_desc": lambda x: torch.sort(x, dim=1, descending=True)[0],
    "topk": lambda x: x.topk(2, dim=1)[0],
    "var": lambda x: x.var(1),
    "var_c0": lambda x: x.var(1, correction=0),
    "std": lambda x: x.std(1),
    "std_all": lambda x: x.std(),
    "cumsum": lambda x: x.cumsum(1),
    "cumprod": lambda x: x.cumprod(1),
    "norm_fro": lambda x: x.norm(),
    "vector_norm_2": lambda x: torch.linalg.vector_norm(x, dim=1),
    "vector_norm_inf": lambda x: torch.linalg.vector_norm(x, ord=float("inf"), dim=1),
    "vector_norm_ninf": lambda x: torch.linalg.vector_norm(x, ord=float("-inf"), dim=1),
    "vector_norm_0": lambda x: torch.linalg.vector_norm(x, ord=0, dim=1) * x.sum(),
    "vector_norm_3": lambda x: torch.linalg.vector_norm(x, ord=3, dim=1),
    "vector_norm_1": lambda x: torch.linalg.vector_norm(x, ord=1),
    "normalize": lambda x: F.normalize(x, dim=1),
    "dist": lambda x: torch.dist(x[0], x[1]),
    "dist_inf": lambda x: torch.dist(x[0], x[1], p=float("inf")),
    "cdist": lambda x: torch.cdist(x.reshape(2, 2, 2)[0], x.reshape(2, 2, 2)[1]),
    "cdist_inf": lambda x: torch.cdist(x.reshape(2, 2, 2)[0], x.reshape(2, 2, 2)[1], p=float("inf")),
    "cdist_0": lambda x: torch.cdist(x.reshape(2, 2, 2)[0], x.reshape(2, 2, 2)[1], p=0.0) * x.sum(),
    "pdist": lambda x: F.pdist(x.reshape(4, 2)),
    "normalize_p1": lambda x: F.normalize(x, p=1.0, dim=0),
    "kthvalue": lambda x: x.kthvalue(2, dim=1)[0],
    "nanmean": lambda x: x.nanmean(1) if hasattr(x, "nanmean") else x.mean(1),
    "cummax": lambda x: x.cummax(1)[0],
    "logcumsumexp": lambda x: x.logcumsumexp(1),
    "cdist_1": lambda x: torch.cdist(x.reshape(2, 2, 2)[0], x.reshape(2, 2, 2)[1], p=1.0),
    "pairwise_distance": lambda x: F.pairwise_distance(x[:1], x[1:]),
    "cosine_similarity": lambda x: F.cosine_similarity(x[:1], x[1:]),
    "layer_norm": lambda x: F.layer_norm(x, (4,)),
    "group_norm": lambda x: F.group_norm(x.reshape(2, 4, 1), 2),
    "batch_norm_train": lambda x: F.batch_norm(x, None, None, training=True),
    "instance_norm": lambda x: F.instance_norm(x.reshape(2, 2, 2)),
    "mean_sq_l2": lambda x: x.mean() + (x * x).sum() * 0.01,
}


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
def test_reduction(name):
    check(unary(REDUCTIONS[name]), sequence())


@pytest.mark.parametrize("kind", ["layer", "batch", "group"])
def test_norm_modules_constant_input(kind):
    """Norm layers with affine parameters trained through constant inputs (variance 0)."""

    def build():
        layer = {"layer": nn.LayerNorm(4), "batch": nn.BatchNorm1d(4), "group": nn.GroupNorm(2, 4)}[kind]
        opt = torch.optim.SGD(layer.parameters(), lr=0.1)
        weights = _weights()

        def step(x):
            opt.zero_grad()
            y = layer(x)
            loss = (y * weights).sum()
            loss.backward()
            opt.step()
            out = (y, loss)
            if kind == "batch":
                out = out + (layer.running_mean * 1.0, layer.running_var * 1.0)
            return out

        return step, list(layer.parameters())

    check(build, sequence())


# ------------------------------------------------------------------------------------ losses
def _target(seed, shape=(2, 4)):
    return _ordinary(seed + 100, shape)


def loss_case(fn, target_of=None, shape=(2, 4), target_specials=True):
    """Inputs (x, target): special values in x, then (if ``target_specials``) in the target."""
    target_of = target_of or (lambda seed: _target(seed, shape))
    values = [(_ordinary(0, shape), target_of(0)), (_ordinary(1, shape), target_of(1))]
    values += [(s, target_of(2)) for s in specials(shape)]
    if target_specials:
        values += [(_ordinary(3, shape), s) for s in specials(shape)]
    values += [(_ordinary(4, shape), target_of(4)), (_ordinary(5, shape), target_of(5))]

    def build():
        def step(x, t):
            loss = fn(x, t)
            loss.backward()
            return loss

        return step, []

    return build, values


def _probabilities(seed, shape=(2, 4)):
    return np.random.default_rng(seed).uniform(0.0, 1.0, shape).astype(F32)


def _signs(seed, shape=(2, 4)):
    return np.where(np.random.default_rng(seed).uniform(size=shape) < 0.5, -1.0, 1.0).astype(F32)


CLASSES = torch.tensor(np.array([1, 3]))
CLASSES_IGNORED = torch.tensor(np.array([-100, -100]))
COSINE_Y = torch.tensor(np.array([1.0, -1.0], dtype=F32))
RANKING_Y = torch.tensor(np.array([1.0, -1.0, 1.0, -1.0] * 2, dtype=F32).reshape(2, 4))
POS_WEIGHT = torch.tensor(np.array([1.0, 2.0, 0.5, 3.0], dtype=F32))

LOSSES = {
    "mse": (lambda x, t: F.mse_loss(x, t), None),
    "mse_sum": (lambda x, t: F.mse_loss(x, t, reduction="sum"), None),
    "mse_none": (lambda x, t: F.mse_loss(x, t, reduction="none").sum(), None),
    "l1": (lambda x, t: F.l1_loss(x, t), None),
    "smooth_l1": (lambda x, t: F.smooth_l1_loss(x, t), None),
    "smooth_l1_beta0": (lambda x, t: F.smooth_l1_loss(x, t, beta=0.0), None),
    "huber": (lambda x, t: F.huber_loss(x, t, delta=0.5), None),
    "bce_logits": (lambda x, t: F.binary_cross_entropy_with_logits(x, t), _probabilities),
    "bce_logits_pos_weight": (lambda x, t: F.binary_cross_entropy_with_logits(x, t, pos_weight=POS_WEIGHT), _probabilities),
    "bce": (lambda x, t: F.binary_cross_entropy(torch.sigmoid(x), t), _probabilities),
    "cross_entropy": (lambda x, t: F.cross_entropy(x, CLASSES) + 0.0 * t.sum(), None),
    "cross_entropy_smoothing": (lambda x, t: F.cross_entropy(x, CLASSES, label_smoothing=0.1) + 0.0 * t.sum(), None),
    "cross_entropy_probs": (lambda x, t: F.cross_entropy(x, F.softmax(t, dim=1)), None),
    "cross_entropy_ignored": (lambda x, t: F.cross_entropy(x, CLASSES_IGNORED) + 0.0 * t.sum(), None),
    "nll": (lambda x, t: F.nll_loss(F.log_softmax(x, dim=1), CLASSES), None),
    "nll_raw": (lambda x, t: F.nll_loss(x, CLASSES), None),
    "kl_div": (lambda x, t: F.kl_div(F.log_softmax(x, dim=1), t, reduction="batchmean"), _probabilities),
    "kl_div_log_target": (lambda x, t: F.kl_div(x, t, reduction="sum", log_target=True), None),
    "cosine_embedding": (lambda x, t: F.cosine_embedding_loss(x, t, COSINE_Y), None),
    "triplet": (lambda x, t: F.triplet_margin_loss(x, t, t.flip(0)), None),
    "margin_ranking": (lambda x, t: F.margin_ranking_loss(x, t, RANKING_Y, margin=0.5), None),
    "soft_margin": (lambda x, t: F.soft_margin_loss(x, t), _signs),
    "multilabel_soft_margin": (lambda x, t: F.multilabel_soft_margin_loss(x, t), _probabilities),
    "poisson_nll_log": (lambda x, t: F.poisson_nll_loss(x, t, log_input=True), _probabilities),
    "poisson_nll": (lambda x, t: F.poisson_nll_loss(x, t, log_input=False), _probabilities),
    "poisson_nll_full": (lambda x, t: F.poisson_nll_loss(x, t, log_input=True, full=True), lambda s: _probabilities(s) * 4),
    "hinge_embedding": (lambda x, t: F.hinge_embedding_loss(x, t), _signs),
    "gaussian_nll": (lambda x, t: F.gaussian_nll_loss(x, t, torch.ones(2, 4)), None),
}


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_loss(name):
    fn, target_of = LOSSES[name]
    build, values = loss_case(fn, target_of)
    check(build, values)


# ------------------------------------------------------------------------------------ training
def _model_step(opt_kind, clip=None, penalty=0.0, error_if_nonfinite=False):
    def build():
        model = nn.Sequential(nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 2))
        params = list(model.parameters())
        opt = {
            "sgd": lambda: torch.optim.SGD(params, lr=0.1),
            "sgd_momentum": lambda: torch.optim.SGD(params, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
            "adam": lambda: torch.optim.Adam(params, lr=0.01),
            "adamw_amsgrad": lambda: torch.optim.AdamW(params, lr=0.01, amsgrad=True),
            "rmsprop": lambda: torch.optim.RMSprop(params, lr=0.01, momentum=0.5, centered=True),
            "adagrad": lambda: torch.optim.Adagrad(params, lr=0.1),
        }[opt_kind]()

        def step(x):
            opt.zero_grad()
            out = model(x)
            loss = (out * out).mean()
            if penalty:
                loss = loss + penalty * sum((p * p).sum() for p in params)
            loss.backward()
            norm = None
            if clip is not None:
                norm = nn.utils.clip_grad_norm_(params, 1.0, norm_type=clip, error_if_nonfinite=error_if_nonfinite)
            opt.step()
            return loss, out, norm

        return step, params

    return build


@pytest.mark.parametrize("opt_kind", ["sgd", "sgd_momentum", "adam", "adamw_amsgrad", "rmsprop", "adagrad"])
def test_optimizer_with_special_inputs(opt_kind):
    check(_model_step(opt_kind), sequence())


@pytest.mark.parametrize("clip", [2.0, float("inf"), 1.0])
def test_clip_grad_norm(clip):
    check(_model_step("sgd", clip=clip), sequence())


@pytest.mark.parametrize("clip", [2.0, float("inf")])
def test_clip_grad_norm_error_if_nonfinite(clip):
    check(_model_step("sgd", clip=clip, error_if_nonfinite=True), sequence())


@pytest.mark.parametrize("opt_kind", ["sgd", "adam"])
def test_l2_penalty(opt_kind):
    check(_model_step(opt_kind, penalty=0.01), sequence())


def test_l2_penalty_scalar_broadcast_drop():
    """(p * p).sum() per parameter and the gradient of a 0-d loss broadcast back: the simplifier
    drops the broadcast; special values in the parameter must give the same products."""

    def build():
        w = nn.Parameter(torch.tensor(_ordinary(9)))
        opt = torch.optim.SGD([w], lr=0.5)

        def step(x):
            opt.zero_grad()
            loss = (w * x).sum() + 0.5 * (w * w).sum() + (x * x).sum()
            loss.backward()
            opt.step()
            return loss

        return step, [w]

    check(build, sequence())


def test_clip_grad_value():
    def build():
        w = nn.Parameter(torch.tensor(_ordinary(9)))
        opt = torch.optim.SGD([w], lr=0.5, momentum=0.9)

        def step(x):
            opt.zero_grad()
            loss = (w * x).sum()
            loss.backward()
            nn.utils.clip_grad_value_([w], 0.5)
            opt.step()
            return loss

        return step, [w]

    check(build, sequence())


# ------------------------------------------------------------------------------------ large arrays
# ``selected`` (ops/elementwise.py) takes a product, kept when finite, above SMALL_SELECTION (512)
# elements, and ``where`` below: 2 x 320 elements take the product path on ordinary values and
# ``where`` on special ones.
LARGE = (2, 320)


def _large_sequence():
    base = sequence(LARGE)
    spiked = _ordinary(5, LARGE)
    spiked[1, 7] = INF  # one infinity among ordinary values
    negzero = _ordinary(6, LARGE)
    negzero[:, ::3] = -0.0
    return base[:2] + [spiked, negzero] + base[2:]


LARGE_OPS = {
    "relu": F.relu,
    "hardtanh": F.hardtanh,
    "relu6": F.relu6,
    "hardswish": F.hardswish,
    "hardsigmoid": F.hardsigmoid,
    "threshold": lambda x: F.threshold(x, 0.1, 20.0),
    "hardshrink": F.hardshrink,
    "softshrink": F.softshrink,
    "where": lambda x: torch.where(x > 0, x * 2, x.exp()),
    "clamp": lambda x: torch.clamp(x, -0.5, 0.5),
    "maximum": lambda x: torch.maximum(x, x.flip(1)),
    "fmin": lambda x: torch.fmin(x, x.flip(0)),
    "nan_to_num": torch.nan_to_num,
    "amax": lambda x: x.amax(1),
    "max_dim": lambda x: x.max(1)[0],
    "median": lambda x: x.median(1)[0],
    "sort": lambda x: x.sort(1)[0],
    "masked_fill": lambda x: x.masked_fill(x > 1, 0.0),
    "softmax": lambda x: F.softmax(x, dim=1),
    "logsumexp": lambda x: torch.logsumexp(x, dim=1),
    "relu_square_sum": lambda x: F.relu(x) * F.relu(x),
}


@pytest.mark.parametrize("name", sorted(LARGE_OPS))
def test_large_selection(name):
    check(unary(LARGE_OPS[name], shape=LARGE), _large_sequence())


def test_large_relu_model_adam():
    """A ReLU layer of > 512 outputs trained by Adam, the inputs turning special."""

    def build():
        model = nn.Sequential(nn.Linear(4, 160), nn.ReLU(), nn.Linear(160, 1))
        opt = torch.optim.Adam(model.parameters(), lr=0.01)

        def step(x):
            opt.zero_grad()
            loss = model(x).square().mean()
            loss.backward()
            opt.step()
            return loss

        return step, list(model.parameters())

    check(build, sequence((8, 4)))


# ------------------------------------------------------------------------------------ class targets that change
CLASS_TARGETS = [
    np.array([1, 3]), np.array([0, 2]),
    np.array([-100, 2]), np.array([-100, -100]),  # some rows ignored, every row ignored
    np.array([3, 3]), np.array([4, 0]), np.array([-1, 0]),  # out of range: an error
    np.array([2, 1]), np.array([0, 0]),
]


def _class_values():
    values = []
    for index, target in enumerate(CLASS_TARGETS):
        values.append((_ordinary(index), target))
    for special in specials():
        values.append((special, np.array([1, -100])))
    values.append((_ordinary(50), np.array([1, 2])))
    return values


CLASS_LOSSES = {
    "cross_entropy": lambda x, t: F.cross_entropy(x, t),
    "cross_entropy_smoothing": lambda x, t: F.cross_entropy(x, t, label_smoothing=0.2),
    "cross_entropy_sum": lambda x, t: F.cross_entropy(x, t, reduction="sum"),
    "cross_entropy_weight": lambda x, t: F.cross_entropy(x, t, weight=POS_WEIGHT),
    "nll": lambda x, t: F.nll_loss(F.log_softmax(x, dim=1), t),
    "nll_ignore_0": lambda x, t: F.nll_loss(x, t.clamp(min=0), ignore_index=0),
}


@pytest.mark.parametrize("name", sorted(CLASS_LOSSES))
def test_class_targets_changing(name):
    fn = CLASS_LOSSES[name]

    def build():
        def step(x, t):
            loss = fn(x, t)
            loss.backward()
            return loss

        return step, []

    check(build, _class_values())


# ------------------------------------------------------------------------------------ special Python floats
# A Python float handed to an operation inside the step (a bound, a slope, a fill value) is written
# into the program as a literal: a nan with its sign bit set (or a payload) must stay that nan.
SIGNED_NAN = -float("nan")
PAYLOAD_NAN = float(np.frombuffer(np.uint64(0x7FFC000000000000).tobytes(), dtype=np.float64)[0])
FLOAT_CONSTANTS = {
    "add": lambda x: x + SIGNED_NAN,
    "mul": lambda x: x * SIGNED_NAN,
    "rsub": lambda x: SIGNED_NAN - x,
    "div": lambda x: x / SIGNED_NAN,
    "full_like": lambda x: x * torch.full_like(x, SIGNED_NAN),
    "masked_fill": lambda x: x.masked_fill(x > 0, SIGNED_NAN),
    "where_scalar": lambda x: torch.where(x > 0, x, SIGNED_NAN),
    "where_negzero": lambda x: torch.where(x > 0, x, -0.0),
    "nan_to_num": lambda x: torch.nan_to_num(x, nan=-0.0, posinf=5e-324, neginf=-1e-45),
    "nan_to_num_posinf_nan": lambda x: torch.nan_to_num(x, posinf=SIGNED_NAN),
    "pow_negzero": lambda x: x.pow(-0.0),
    "mul_negzero": lambda x: x * -0.0,
    "lerp": lambda x: torch.lerp(x, x * 2, SIGNED_NAN),
    "tiny": lambda x: x * 1e-310,
    "clamp_min": lambda x: torch.clamp(x, min=SIGNED_NAN),
    "clamp_max": lambda x: torch.clamp(x, max=SIGNED_NAN),
    "clamp_payload": lambda x: torch.clamp(x, min=PAYLOAD_NAN),
    "threshold_value": lambda x: F.threshold(x, 0.0, SIGNED_NAN),
    "leaky_relu_slope": lambda x: F.leaky_relu(x, SIGNED_NAN),
    "elu_alpha": lambda x: F.elu(x, alpha=SIGNED_NAN),
    "hardtanh_min": lambda x: F.hardtanh(x, SIGNED_NAN, 1.0),
    "addcmul_value": lambda x: torch.addcmul(x, x, x, value=SIGNED_NAN),
    "softplus_beta": lambda x: F.softplus(x, beta=SIGNED_NAN),
}


@pytest.mark.parametrize(
    "name",
    sorted(FLOAT_CONSTANTS),
)
def test_special_python_float_constant(name):
    check(unary(FLOAT_CONSTANTS[name]), sequence())


def _float_argument_step(fn):
    """A step taking a Python float argument beside the input."""

    def build():
        weights = _weights()

        def step(x, value):
            y = fn(x, value)
            loss = (y * weights).sum()
            loss.backward()
            return y, loss

        return step, []

    return build


def _run_with_floats(build, values, floats, compiled):
    torch.manual_seed(0)
    step, _ = build()
    if compiled:
        step = torch.compile(step)
    log = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for array, value in zip(values, floats):
            x = torch.tensor(array.copy(), requires_grad=True)
            try:
                result = ("ok", _snap(step(x, value)))
            except Exception as error:  # noqa: BLE001
                result = ("raised", type(error).__name__, str(error))
            log.append((result, None if x.grad is None else _arr(x.grad)))
    return log, [str(w.message) for w in caught]


@pytest.mark.parametrize(
    "name",
    ["mul", "clamp_min", "mul_no_nan_sign_flip"],
)
def test_python_float_argument_nan_sign(name):
    fn = {"mul": lambda x, v: x * v, "clamp_min": lambda x, v: torch.clamp(x, min=v)}.get(name, lambda x, v: x * v)
    values = [_ordinary(i) for i in range(7)]
    floats = [1.5, float("nan"), SIGNED_NAN, float("nan"), -0.0, SIGNED_NAN, float("inf")]
    if name == "mul_no_nan_sign_flip":
        floats = [1.5, float("nan"), 2.0, float("inf"), -0.0, 0.0, -float("inf")]
    eager, eager_messages = _run_with_floats(_float_argument_step(fn), values, floats, False)
    compiled, messages = _run_with_floats(_float_argument_step(fn), values, floats, True)
    extra = collections.Counter(messages) - collections.Counter(eager_messages)
    assert sum(extra.values()) <= 1, extra
    for index, (mine, theirs) in enumerate(zip(compiled, eager)):
        assert_identical(mine, theirs, f"call {index}")


# ------------------------------------------------------------------------------------ steps that look at the values
def _guarded_step(kind):
    """Training steps whose Python control flow reads the values: a nan-loss skip, a clip whose
    total norm decides the step, a GradScaler skipping non-finite gradients."""

    def build():
        model = nn.Linear(4, 2)
        params = list(model.parameters())
        opt = torch.optim.SGD(params, lr=0.1, momentum=0.9)
        scaler = torch.amp.GradScaler("cpu", init_scale=4.0, growth_interval=2) if kind == "scaler" else None

        def step(x):
            opt.zero_grad()
            loss = model(x).square().mean()
            if kind == "skip_nan":
                if torch.isfinite(loss):
                    loss.backward()
                    opt.step()
                return loss
            if kind == "clip_then_check":
                loss.backward()
                norm = nn.utils.clip_grad_norm_(params, 1.0)
                if norm.isfinite().all():
                    opt.step()
                return loss, norm
            if kind == "where_loss":
                loss = torch.where(torch.isfinite(loss), loss, torch.zeros_like(loss))
                loss.backward()
                opt.step()
                return loss
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
            return loss, scaler.get_scale()

        return step, params

    return build


@pytest.mark.parametrize("kind", ["skip_nan", "clip_then_check", "where_loss", "scaler"])
def test_value_reading_steps(kind):
    check(_guarded_step(kind), sequence())
