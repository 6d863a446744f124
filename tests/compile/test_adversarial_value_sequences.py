"""chainrule.compile against eager execution over SEQUENCES of five calls with the same shapes and
dtypes (so the recording is replayed) whose VALUES turn adversarial after the recording: ties,
nan, inf, zeros of both signs, negatives, subnormals, zero integer divisors, integer overflow,
float16 overflow, bool masks flipping.  Each op sits in a small forward + backward (when it is
differentiable); the forward values, the exceptions (type and message start) and the input
gradients must be the same bits as eager's, or the compiled function falls back to eager with at
most one warning.

Aimed at what test_adversarial_numerics.py / test_adversarial_value_checks.py leave out: integer
division and remainder (tensor and scalar divisors, negatives, zero), wraparound in int8/int32/int64,
bool tensors in arithmetic, float16 arithmetic, two-input gradients at the special points (pow,
atan2, hypot, division, clamp with tensor bounds, where), index-returning reductions with ties and
nan, and loss reduction variants."""
import collections
import warnings

import numpy as np
import pytest

import chainrule as torch
import chainrule.nn.functional as F
from tests.compile.bitwise import assert_identical

F32 = np.float32
F16 = np.float16
I64 = np.int64
INF = np.inf
NAN = np.nan
TINY = F32(1e-45)


def _arr(t):
    return np.array(t.detach().numpy(), copy=True)


def _snap(value):
    if isinstance(value, torch.Tensor):
        return _arr(value)
    if isinstance(value, (list, tuple)):
        return tuple(_snap(item) for item in value)
    return value


def f(*rows, dtype=F32, shape=(2, 4)):
    return np.resize(np.array(rows, dtype=dtype), shape)


def o(seed, shape=(2, 4), dtype=F32, scale=1.0):
    return (np.random.default_rng(seed).standard_normal(shape) * scale).astype(dtype)


def i(*rows, dtype=I64, shape=(2, 4)):
    return np.resize(np.array(rows, dtype=dtype), shape)


def b(*rows, shape=(2, 4)):
    return np.resize(np.array(rows, dtype=bool), shape)


# ------------------------------------------------------------------------------------ harness
def _weights(shape):
    """Non-uniform weights made by recorded operations (a tensor() inside the step is not)."""
    n = int(np.prod(shape)) if shape else 1
    return (torch.arange(n, dtype=torch.float32) * 0.375 - 1.25).reshape(shape)


def _flat(out):
    """Named-tuple results (max, sort, ...) as plain tuples of their tensors."""
    if isinstance(out, tuple):
        return tuple(x for item in out for x in (_flat(item) if isinstance(item, tuple) else (item,)))
    return (out,)


def _run(fn, calls, compiled, grad):
    torch.manual_seed(0)

    def step(*ts):
        outs = _flat(fn(*ts))
        if grad:
            loss = None
            for item in outs:
                if isinstance(item, torch.Tensor) and item.requires_grad:
                    term = (item.float() * _weights(tuple(item.shape))).sum()
                    loss = term if loss is None else loss + term
            if loss is not None:
                loss.backward()
        return outs

    if compiled:
        step = torch.compile(step)
    log = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for arrays in calls:
            arrays = arrays if isinstance(arrays, tuple) else (arrays,)
            ts = []
            for index, a in enumerate(arrays):
                want = grad and np.issubdtype(a.dtype, np.floating) and index < grad
                ts.append(torch.tensor(a.copy(), requires_grad=bool(want)))
            try:
                result = ("ok", _snap(step(*ts)))
            except Exception as error:  # noqa: BLE001 - compared with eager's
                result = ("raised", type(error).__name__, str(error)[:40])
            grads = tuple(None if t.grad is None else _arr(t.grad) for t in ts)
            log.append((result, grads))
    return log, [str(w.message) for w in caught]


def check(fn, calls, grad=1):
    """``grad``: how many leading (floating) inputs require grad; 0 for no backward."""
    assert len(calls) == 5
    eager, eager_messages = _run(fn, calls, False, grad)
    compiled, messages = _run(fn, calls, True, grad)
    extra = collections.Counter(messages) - collections.Counter(eager_messages)
    assert sum(extra.values()) <= 1, extra
    for index, (mine, theirs) in enumerate(zip(compiled, eager)):
        assert_identical(mine, theirs, f"call {index}")
    return eager


CASES = {}


def case(name, calls, grad=1):
    def register(fn):
        CASES[name] = (fn, calls, grad)
        return fn

    return register


def add(name, fn, calls, grad=1):
    CASES[name] = (fn, calls, grad)


# ------------------------------------------------------------------------------------ integers
POS = i([7, 9, 12, 5], [3, 8, 20, 6])
POS_D = i([2, 3, 5, 4], [1, 7, 3, 2])
NEG = i([-7, 7, -7, 7], [-1, 0, -9, 9])
NEG_D = i([2, -2, -2, 3], [3, -4, 4, -4])
ZERO_D = i([2, 0, 3, 1], [1, 1, 1, 1])
INT_CALLS = [(POS, POS_D), (NEG, NEG_D), (POS, ZERO_D), (NEG, POS_D), (NEG, -NEG_D)]

add("int_floordiv_op", lambda a, d: a // d, INT_CALLS, 0)
add("int_remainder_op", lambda a, d: a % d, INT_CALLS, 0)
add("int_floor_divide", torch.floor_divide, INT_CALLS, 0)
add("int_remainder", torch.remainder, INT_CALLS, 0)
add("int_fmod", torch.fmod, INT_CALLS, 0)
add("int_div_trunc", lambda a, d: torch.div(a, d, rounding_mode="trunc"), INT_CALLS, 0)
add("int_div_floor", lambda a, d: torch.div(a, d, rounding_mode="floor"), INT_CALLS, 0)
add("int_true_div", lambda a, d: a / d, INT_CALLS, 0)
add("int_true_div_zero_numer", lambda a, d: (a * 0) / d, INT_CALLS, 0)
add("int_scalar_floordiv_neg", lambda a, d: (a // -3, a % -3, torch.fmod(a, -3)), INT_CALLS, 0)
add("int_divisor_row_sum", lambda a, d: a // d.sum(1, keepdim=True), [
    (POS, POS_D), (NEG, NEG_D), (POS, i([1, -1, 2, -2], [1, 1, 1, 1])), (NEG, POS_D), (NEG, -POS_D)], 0)
add("int_divisor_0d", lambda a, d: (a // d[0, 1], a % d[1, 0]), INT_CALLS, 0)
add("int_remainder_float_divisor", lambda a, d: a % (d.float() * 0.5), INT_CALLS, 0)

BIG64 = i([2 ** 62, -(2 ** 62), 2 ** 63 - 1, -(2 ** 63)], [3, -3, 2 ** 40, 1])
add("int64_wraparound", lambda a, d: (a * d, a + a, a - d, -a, a.abs(), a.sum(1), a.cumsum(1), a.prod(1)), [
    (POS, POS_D), (BIG64, POS_D), (BIG64, NEG_D), (NEG, NEG_D), (BIG64, BIG64)], 0)
I8 = np.int8
add("int8_wraparound", lambda a, d: (a * d, a + d, -a, a.abs(), a * 2, a.sum(1), a // d), [
    (i([1, 2, 3, 4], dtype=I8), i([1, 2, 1, 2], dtype=I8)),
    (i([100, -128, 127, -100], dtype=I8), i([2, 1, 1, 2], dtype=I8)),
    (i([-128, -128, 127, 64], dtype=I8), i([-1, 1, 2, 2], dtype=I8)),
    (i([5, 6, 7, 8], dtype=I8), i([3, 3, 3, 3], dtype=I8)),
    (i([-128, 3, 4, 5], dtype=I8), i([0, 1, 1, 1], dtype=I8))], 0)
I32 = np.int32
add("int32_sum_overflow", lambda a, d: (a.sum(), a.sum(1), a * d, a.cumsum(1), a.max(1)[0], a.float()), [
    (i([1, 2, 3, 4], dtype=I32), i([1, 2, 3, 4], dtype=I32)),
    (i([2 ** 31 - 1, 2 ** 31 - 1, 5, 7], dtype=I32), i([2, 3, 4, 5], dtype=I32)),
    (i([-(2 ** 31), -1, 2 ** 30, 2 ** 30], dtype=I32), i([-1, 2, 2, 2], dtype=I32)),
    (i([1, 2, 3, 4], dtype=I32), i([0, 0, 0, 0], dtype=I32)),
    (i([16777217, 16777219, 2 ** 31 - 1, -3], dtype=I32), i([1, 1, 1, 1], dtype=I32))], 0)
add("int_pow_tensor_exponent", lambda a, d: a ** d, [
    (POS, POS_D), (NEG, POS_D), (POS, NEG_D), (BIG64, POS_D), (NEG, i([0, 0, 0, 0], [63, 64, 2, 1]))], 0)
add("int_pow_scalar", lambda a, d: (a ** 2, a ** 3, 2 ** d.abs()), [
    (POS, POS_D), (NEG, NEG_D), (BIG64, POS_D), (i([3037000500, -3037000500, 0, 1], [1, 2, 3, 4]), POS_D), (NEG, POS_D)], 0)
add("int_mixed_float_grad", lambda x, a: (x * a, x / a, x // a, a / x), [
    (o(0), POS_D), (o(1), ZERO_D), (f([0.0, -0.0, 1.0, -1.0], [INF, -INF, NAN, 2.0]), NEG_D),
    (o(2), POS_D), (f([-0.0] * 4, [0.0] * 4), i([0, 0, 0, 0], [-1, 1, 0, 0]))])
add("int_bitwise_shifts", lambda a, d: (a & d, a | d, a ^ d, ~a, a << d.abs(), a >> d.abs()), [
    (POS, POS_D), (NEG, NEG_D), (BIG64, POS_D), (NEG, i([63, 0, 1, 2], [64, 65, 0, 1])), (POS, POS_D)], 0)
add("int_argmax_ties", lambda a, d: (a.argmax(1), a.argmin(0), a.max(1)[1], a.sort(1)[1], a.topk(2, 1)[1]), [
    (POS, POS_D), (i([3, 3, 3, 3], [1, 2, 2, 1]), POS_D), (NEG, POS_D),
    (i([-(2 ** 63), 2 ** 63 - 1, -(2 ** 63), 2 ** 63 - 1]), POS_D), (i([0] * 8), POS_D)], 0)

# ------------------------------------------------------------------------------------ bool
M1 = b([True, False, True, False], [False, False, True, True])
M2 = b([True, True, False, False], [True, False, True, False])
MT = b([True] * 4)
MF = b([False] * 4)
BOOL_CALLS = [(o(0), M1, M2), (o(1), MT, MT), (o(2), MF, MF), (f([NAN, -0.0, INF, -INF], [0.0, 1.0, -1.0, NAN]), M1, MF),
              (o(3), M2, M1)]
add("bool_arithmetic", lambda x, m, n: (m + n, m * n, (m + n).sum(), m.sum(1), m.float().mean(), m & n, m | n, m ^ n, ~m,
                                        m.int() - n.int(), m * 3, m + 0.5), BOOL_CALLS)
add("bool_times_float_grad", lambda x, m, n: (x * m, m * x - x * n, x / (m + n + 0.0), x.masked_fill(m, 0.0)), BOOL_CALLS)
add("bool_sub_raises", lambda x, m, n: (x * m, m - n), BOOL_CALLS)
add("bool_where_and_mean", lambda x, m, n: (torch.where(m, x, -x), x[m].sum() if False else (x * m).sum() / m.sum(),
                                            torch.where(m & n, x.exp(), x.log())), BOOL_CALLS)
add("bool_neg_raises", lambda x, m, n: (x + m, -m), BOOL_CALLS)
add("bool_any_all_in_arith", lambda x, m, n: (x * m.any(1, keepdim=True), x * m.all(), m.cumsum(1), m.int().argmax(1), m.sum() * x), BOOL_CALLS)

# ------------------------------------------------------------------------------------ float16 / float64
H_CALLS = [o(0), o(1, scale=3.0), f([300.0, -300.0, 70000.0, -70000.0], [255.9, 256.0, 1e-6, -1e-8]),
           f([12.0, 11.0, 65504.0, -65504.0], [6e-8, -6e-8, 0.0, -0.0]), o(2)]
add("half_mul_overflow", lambda x: (x.half() * x.half(), x.half() + x.half(), x.half() / 1e-3), H_CALLS)
add("half_exp_sum_overflow", lambda x: (x.half().exp(), x.half().sum(1), x.half().mean(), x.half().cumsum(1)), H_CALLS)
add("half_softmax", lambda x: (F.softmax(x.half(), 1), F.log_softmax(x.half(), 0), torch.logsumexp(x.half(), 1)), H_CALLS)
add("half_activations", lambda x: (F.relu6(x.half()), F.gelu(x.half(), approximate="tanh"), torch.sigmoid(x.half()),
                                   F.softplus(x.half(), beta=2.0, threshold=5.0), F.mish(x.half())), H_CALLS)
add("half_cast_roundtrip", lambda x: (x.half().float(), x.half().double(), (x.half() - x.half()).float() * x,
                                      x.half().half().float() + x), H_CALLS)
add("half_square_norm", lambda x: (x.half().norm(), x.half().pow(2).sum(1), x.half().var(1)), H_CALLS)
D_CALLS = [o(0), f([1e-308, -1e-308, 5e-324, -5e-324], [1e308, -1e308, 0.0, -0.0], dtype=np.float64),
           f([1e-310, 2e-310, 1e-320, 4e-324], [1.0, 2.0, 3.0, 4.0], dtype=np.float64), o(1), o(2)]
D_CALLS = [c.astype(np.float64) for c in D_CALLS]
add("double_subnormals", lambda x: (x * 1e-10, x / 1e300, x.sqrt(), x.log(), 1.0 / x, x.float(), x.exp()), D_CALLS)
add("float_subnormals", lambda x: (x * 1e-30, x / 3e38, x.sqrt(), x.rsqrt(), x * x, x.log(), x.reciprocal()), [
    o(0), f([TINY, -TINY, 1e-40, -1e-40], [1.17e-38, 1.18e-38, 0.0, -0.0]), o(1),
    f([1e-38, 2e-45, -3e-45, 5e-39], [1.0, -1.0, 1e-20, -1e-20]), o(2)])

# ------------------------------------------------------------------------------------ float division & rounding
FX = [o(0), o(1), f([1.0, -1.0, 0.0, -0.0], [INF, -INF, NAN, 5.0]), f([-7.0, 7.0, -7.0, 7.5], [-0.0, 0.0, 1e-45, -3.0]), o(2)]
FD = [o(5), f([0.0, -0.0, 0.0, -0.0], [2.0, -2.0, 0.5, 1.0]), f([0.0, 0.0, -0.0, -0.0], [INF, -INF, NAN, 0.0]),
      f([2.0, -2.0, -2.0, 2.0], [INF, -INF, 3.0, -0.0]), o(6)]
FLOAT_PAIRS = list(zip(FX, FD))
add("float_div_two_grads", lambda x, y: (x / y, torch.div(x, y, rounding_mode="trunc"), torch.true_divide(y, x)), FLOAT_PAIRS, 2)
add("float_floordiv", lambda x, y: (x // y, torch.floor_divide(x, y), torch.div(x, y, rounding_mode="floor")), FLOAT_PAIRS, 2)
add("float_remainder_fmod", lambda x, y: (x % y, torch.remainder(x, y), torch.fmod(x, y)), FLOAT_PAIRS, 2)
add("float_scalar_div_zero", lambda x, y: (x / 0.0, x / -0.0, x // 0.0, x % 0.0, torch.fmod(x, -0.0), x % -2.5, x // -2.5),
    FLOAT_PAIRS, 1)
add("rounding", lambda x, y: (x.floor(), x.ceil(), x.round(), x.trunc(), x.frac(), torch.round(x * 10, decimals=1) if True else x,
                              x.sign(), x.signbit() if hasattr(x, "signbit") else x, torch.fix(x) if hasattr(torch, "fix") else x),
    [(o(0), o(1)), (f([0.5, 1.5, 2.5, -0.5], [-1.5, -2.5, -0.0, 0.0]), o(1)), (f([INF, -INF, NAN, -0.4], [0.49999997, -0.49999997, 1e-45, -1e-45]), o(1)),
     (f([8388609.0, -8388609.0, 2.5e8, 0.05], [0.15, 0.25, 0.35, -0.25]), o(1)), (o(2), o(1))])
add("pow_two_grads", lambda x, y: (torch.pow(x, y), x ** y.abs(), torch.float_power(x, y)), [
    (o(0) ** 2 + 0.5, o(1)), (f([-8.0, -2.0, -0.0, 0.0], [-1.0, 0.0, 2.0, -3.0]), f([1 / 3, 0.5, -1.0, -2.0], [INF, 0.0, -0.0, 0.5])),
    (f([0.0, 0.0, -0.0, -0.0], [1.0, 1.0, -1.0, NAN]), f([0.0, 2.0, 3.0, 0.5], [NAN, INF, INF, 0.0])),
    (f([-2.0, -2.0, -2.0, -2.0], [2.0, 2.0, 0.5, 0.5]), f([2.0, 3.0, 2.5, -1.0], [200.0, -200.0, -200.0, 200.0])),
    (o(2) ** 2 + 0.5, o(3))], 2)
add("pow_scalar_base_and_exp", lambda x, y: ((-2.0) ** x, 0.0 ** x, x ** -2, x ** 0.5, x ** -0.5, x ** 3.5, torch.pow(x, 0)), FLOAT_PAIRS)
add("atan2_hypot_two_grads", lambda x, y: (torch.atan2(x, y), torch.hypot(x, y), torch.copysign(x, y),
                                           torch.logaddexp(x, y), torch.logaddexp2(x, y)), [
    (o(0), o(1)), (f([0.0, -0.0, 0.0, -0.0], [INF, -INF, INF, NAN]), f([0.0, 0.0, -0.0, -0.0], [INF, INF, -INF, 1.0])),
    (f([-INF, -INF, INF, 1.0], [3.0, 3.0, -3.0, 0.0]), f([-INF, INF, INF, -INF], [3.0, -3.0, -3.0, 0.0])),
    (f([1e-45, -1e-45, 1e20, -1e20], [NAN, -0.0, 5.0, -5.0]), f([1e-45, 1e-45, 1e20, 1e20], [NAN, 0.0, 5.0, 5.0])), (o(2), o(3))], 2)
add("xlogy_family", lambda x, y: (torch.xlogy(x, y), torch.special.xlog1py(x, y), torch.special.xlogy(x, y.abs())), [
    (o(0), o(1) ** 2 + 0.1), (f([0.0, -0.0, 0.0, 1.0], [0.0, NAN, 2.0, -1.0]), f([0.0, 0.0, -1.0, 0.0], [NAN, 0.0, INF, -1.0])),
    (f([0.0] * 4, [1.0] * 4), f([-1.0, -2.0, INF, -INF], [0.0, -0.0, 1e-45, -1.0])), (f([NAN] * 4, [INF] * 4), f([0.0] * 8)),
    (o(2), o(3) ** 2 + 0.1)], 2)
add("log_sqrt_negatives", lambda x, y: (x.log2(), x.log10(), torch.log1p(x - 1), torch.logit(x), torch.logit(x, eps=0.25),
                                        x.sqrt(), torch.special.entr(x) if hasattr(torch.special, "entr") else x, torch.sinc(x)),
    [(o(0).__abs__() * 0.3, o(1)), (f([-1.0, -0.0, 0.0, 1.0], [0.5, 0.25, 0.75, 2.0]), o(1)),
     (f([-INF, INF, NAN, -1e-45], [1e-45, 0.9999999, 1.0, 0.0]), o(1)), (o(2), o(1)), (o(3).__abs__() * 0.3, o(1))])

# ------------------------------------------------------------------------------------ clamp / where
add("clamp_scalar_min_gt_max", lambda x, y: (torch.clamp(x, min=1.0, max=-1.0), x.clamp(0.5, 0.5), x.clip(-0.0, 0.0),
                                             F.hardtanh(x, 0.5, 0.5), F.threshold(x, 0.0, 0.0)), FLOAT_PAIRS)
add("clamp_tensor_bounds_three_grads", lambda x, lo, hi: (torch.clamp(x, lo, hi), torch.clamp(x, min=lo), torch.clamp(x, max=hi)), [
    (o(0), f([-1.0] * 8), f([1.0] * 8)), (o(1), f([1.0] * 8), f([-1.0] * 8)),
    (f([0.5, 0.5, NAN, 0.0], [-0.0, 2.0, INF, -INF]), f([0.5, NAN, 0.0, -0.0], [0.0, 2.0, INF, -INF]), f([0.5, 0.0, NAN, 0.0], [-0.0, 2.0, INF, -INF])),
    (o(2), f([0.0] * 8), f([0.0] * 8)), (o(3), o(4), o(5))], 3)
add("where_nan_two_grads", lambda x, y: (torch.where(x > y, x, y), torch.where(x == x, x, torch.zeros_like(x)),
                                         torch.where(y.isnan(), x.sqrt(), y.log()), torch.maximum(x, y), torch.fmin(x, y)), [
    (o(0), o(1)), (f([NAN, 1.0, -0.0, 0.0], [2.0, 2.0, NAN, -INF]), f([1.0, NAN, 0.0, -0.0], [2.0, -2.0, NAN, -INF])),
    (f([1.0] * 8), f([1.0] * 8)), (f([-1.0, -4.0, 4.0, 0.0], [NAN, NAN, 1.0, 1.0]), f([NAN, -1.0, NAN, 0.0], [1.0, NAN, NAN, -0.0])),
    (o(2), o(3))], 2)
add("nan_handling", lambda x: (torch.nan_to_num(x, nan=0.5, posinf=2.0, neginf=-2.0), x.nansum(1), torch.nansum(x),
                               x.nanmedian(1)[0], x.isnan().sum(), x.isinf(), x.isfinite()), [
    o(0), f([NAN, 1.0, 2.0, NAN], [NAN] * 4), f([INF, -INF, NAN, 0.0], [1.0, 1.0, 1.0, 1.0]), o(1), f([-0.0] * 8)])

# ------------------------------------------------------------------------------------ ordering with ties and nan
ORD = [o(0), f([1.0, 1.0, 2.0, 2.0], [NAN, 1.0, NAN, 0.0]), f([-0.0, 0.0, 0.0, -0.0], [INF, -INF, INF, -INF]),
       f([3.0] * 4, [NAN, -NAN, 5.0, 5.0]), o(1)]
add("max_min_dim_indices", lambda x: (x.max(1), x.min(0), x.argmax(1), x.argmin(1), x.argmax(), torch.aminmax(x, dim=1)), ORD)
add("max_min_all_ties", lambda x: (x.max(), x.min(), x.amax((0, 1)), torch.max(x, x.flip(1)), torch.min(x, x.flip(0))), ORD)
add("sort_stable_indices", lambda x: (torch.sort(x, 1, stable=True), torch.sort(x, 0, descending=True, stable=True),
                                      x.argsort(1), torch.msort(x)), ORD)
add("topk_variants", lambda x: (x.topk(2, 1), x.topk(3, 1, largest=False), x.topk(1, 0), x.topk(2, 1, sorted=False)[0].sort(1)[0]), ORD)
add("kthvalue_median", lambda x: (x.kthvalue(1, 1), x.kthvalue(4, 1), x.kthvalue(2, 0, keepdim=True), x.median(1), x.median(0),
                                  x.median(), torch.quantile(x, 0.5, dim=1)), ORD)
add("cummax_cummin", lambda x: (x.cummax(1), x.cummin(1), x.cummax(0), torch.cummin(x, 0)), ORD)
add("cumsum_cumprod_logcumsumexp", lambda x: (x.cumsum(0), x.cumprod(0), x.logcumsumexp(0), x.cumsum(1).exp()), [
    o(0), f([-INF] * 4, [0.0, -INF, INF, -INF]), f([0.0, 2.0, 0.0, -0.0], [-0.0, INF, 0.0, NAN]),
    f([INF, -INF, 1e30, -1e30], [INF, INF, 1e30, 1e30]), o(1)])
add("softmax_neg_inf_rows", lambda x: (F.softmax(x, 1), F.log_softmax(x, 1), torch.logsumexp(x, 1, keepdim=True),
                                       F.softmin(x, 0), F.gumbel_softmax if False else F.softmax(x.double(), 0)), [
    o(0), f([-INF] * 4, [1.0, -INF, -INF, -INF]), f([INF, -INF, 0.0, 0.0], [-INF] * 4), f([1e30, -1e30, 0.0, 0.0], [NAN, 0.0, 0.0, 0.0]), o(1)])
add("unique_consecutive_like_sort_ties", lambda x: (x.sort(1)[0].diff(dim=1), (x.sort(1)[0] == x.sort(1)[0].roll(1, 1)).sum()), ORD)

# ------------------------------------------------------------------------------------ activations at their kinks
ACT = [o(0), f([-1.0, 0.0, 1.0, 6.0], [-0.0, 3.0, -3.0, 0.5]), f([20.0, 20.0001, 10.0, 10.00001], [-20.0, 1.0, 0.49999997, 0.50000006]),
       f([INF, -INF, NAN, -NAN], [1e-45, -1e-45, 88.8, -104.0]), o(1, scale=5.0)]
add("activations_kinks", lambda x: (F.threshold(x, 0.5, 0.5), F.threshold(x, -0.0, -1.0), F.hardtanh(x, -0.0, 0.0),
                                    F.relu6(x), F.softplus(x, beta=0.5, threshold=10.0), F.softplus(x, beta=-1.0),
                                    F.gelu(x, approximate="tanh"), F.mish(x), F.elu(x, alpha=-1.0), F.celu(x, 0.5),
                                    F.leaky_relu(x, -2.0), F.hardshrink(x, 0.0), F.softshrink(x, 0.0)), ACT)
add("activations_inplace_on_clone", lambda x: (F.relu(x.clone(), inplace=True), F.hardtanh(x * 1.0, -1.0, 1.0, inplace=True),
                                               F.leaky_relu(x + 0.0, 0.3, inplace=True), F.elu(x * 2.0, inplace=True),
                                               F.threshold(x - 0.0, 1.0, 2.0, inplace=True), F.relu6(x * 1.0, inplace=True)), ACT)
add("activations_double", lambda x: (F.gelu(x.double()), F.gelu(x.double(), approximate="tanh"), F.silu(x.double()),
                                     F.softplus(x.double(), beta=3.0, threshold=2.0), F.logsigmoid(x.double()),
                                     torch.special.expit(x.double()), torch.special.erfinv(x.double().tanh())), ACT)

# ------------------------------------------------------------------------------------ losses and reductions
CLS = torch.tensor(i([0, 3], shape=(2,)))
CLASS_WEIGHT = torch.tensor(np.array([1.0, 0.0, 2.0, 0.5], F32))
ELEMENT_WEIGHT = torch.tensor(np.array([0.5, 2.0, 0.0, 1.0], F32))
LOSS_CALLS = [(o(0), o(1)), (f([INF, -INF, 0.0, -0.0], [NAN, 1.0, 1.0, 1.0]), o(1)),
              (f([1.0] * 8), f([1.0] * 8)), (f([100.0, -100.0, 1e20, -1e20], [0.5, 0.5, 0.5, 0.5]), f([1.0, 0.0, 1.0, 0.0], [0.5] * 4)),
              (o(2), o(3))]
for _reduction in ("none", "sum", "mean"):
    add(f"regression_losses_{_reduction}", lambda x, t, r=_reduction: (
        F.mse_loss(x, t, reduction=r), F.l1_loss(x, t, reduction=r), F.smooth_l1_loss(x, t, reduction=r, beta=0.5),
        F.huber_loss(x, t, reduction=r, delta=0.0 if False else 2.0), F.soft_margin_loss(x, t.detach().sign(), reduction=r)), LOSS_CALLS, 2)
    add(f"classification_losses_{_reduction}", lambda x, t, r=_reduction: (
        F.cross_entropy(x, CLS, reduction=r, label_smoothing=0.2),
        F.nll_loss(F.log_softmax(x, 1), CLS, reduction=r, weight=CLASS_WEIGHT),
        F.binary_cross_entropy_with_logits(x, t.sigmoid(), reduction=r, weight=ELEMENT_WEIGHT),
        F.kl_div(F.log_softmax(x, 1), F.softmax(t, 1), reduction="batchmean" if r == "mean" else r)), LOSS_CALLS, 2)
add("binary_cross_entropy_range", lambda x, t: (
    F.binary_cross_entropy(torch.sigmoid(x), t.sigmoid(), reduction="none"), F.binary_cross_entropy(torch.sigmoid(x), t.sigmoid())),
    LOSS_CALLS, 2)
add("cross_entropy_class_targets_sequence", lambda x, c: (F.cross_entropy(x, c, reduction="none"), F.cross_entropy(x, c, reduction="sum"),
                                                          F.cross_entropy(x, c), F.nll_loss(x, c, reduction="mean")), [
    (o(0), i([0, 3], shape=(2,))), (o(1), i([-100, -100], shape=(2,))), (f([-INF] * 4, [1.0] * 4), i([1, 2], shape=(2,))),
    (o(2), i([3, 5], shape=(2,))), (o(3), i([-1, 0], shape=(2,)))])
add("variance_correction_ties", lambda x: (x.var(1, correction=4), x.std(1, correction=5), torch.var_mean(x, 0), torch.std_mean(x, 1),
                                           x.var(0, unbiased=True)), [
    o(0), f([1.0] * 8), f([1e20, -1e20, 1e20, -1e20], [NAN, 0.0, 0.0, 0.0]), f([-0.0] * 8), o(1)])
add("prod_with_zeros_dims", lambda x: (x.prod(0), x.prod(1, keepdim=True), x.prod(), x.abs().log().sum()), [
    o(0), f([0.0, 2.0, 3.0, 4.0], [0.0, 0.0, 1.0, 1.0]), f([-0.0, -0.0, -0.0, -0.0], [INF, 0.0, 1.0, 1.0]),
    f([1e30, 1e30, 1e-30, 1e-30], [NAN, 0.0, 2.0, 2.0]), o(1)])


# ------------------------------------------------------------------------------------ identities a simplifier may fold
IDENT = [o(0), f([-0.0, 0.0, NAN, -NAN], [INF, -INF, 1e-45, -1e-45]), f([-0.0] * 8),
         f([3e38, -3e38, 1.7e38, -1.7e38], [1e20, -1e20, 1e-20, -1e-20]), o(1)]
add("identities_add_sub_zero", lambda x: (x + 0.0, 0.0 + x, x - 0.0, x + torch.zeros_like(x), x - torch.zeros_like(x),
                                          x + (-0.0), x - x, x + (-x), -(-x), x * 0.0, x * 0, 0.0 * x), IDENT)
add("identities_mul_div_one", lambda x: (x * 1.0, x / 1.0, x * torch.ones_like(x), x ** 1, x ** 1.0, x * -1.0, x / -1.0,
                                         (x * 2.0) / 2.0, (x * 2.0) - x, x * 0.5 * 2.0, x * 3.0 / 3.0), IDENT)
add("identities_round_trips", lambda x: (x.exp().log(), x.sqrt() ** 2, x.abs().abs(), x.relu().relu(), torch.maximum(x, x),
                                         torch.minimum(x, x), x.clamp(-float("inf"), float("inf")), torch.where(x > 0, x, x),
                                         x.double().float(), x.half().float(), x.sum(1, keepdim=True).expand(2, 4) - x,
                                         x.reshape(8).reshape(2, 4), x.t().t(), x.flip(0).flip(0)), IDENT)
add("casts_of_specials", lambda x: (x.bool(), x.int(), x.long(), x.to(torch.int8), x.round().long(), x.bool().float() * x,
                                    (x != 0).sum(), x.ne(x), x.eq(-x), x.ge(0.0), x.lt(-0.0)), IDENT)
add("int_identities", lambda a, d: (a * 1, a // 1, a % 1, a + 0, a - a, a * 0, a // a.abs().clamp(min=1), -(-a), a ** 1, a ** 0,
                                    a.abs() // -1), INT_CALLS + [], 0)
add("comparisons_to_arith", lambda x: ((x > 0).float() * x, (x > 0) * 2.0 - 1.0, (x == x.max(1, keepdim=True)[0]).float(),
                                       (x.isnan() | (x < 0)).long().cumsum(1), x.gt(0).logical_and(x.lt(1)).sum(0)), ORD)

# ------------------------------------------------------------------------------------ in-place forms and summation order
add("inplace_int_division", lambda a, d: (a.clone().floor_divide_(d), a.clone().remainder_(d), a.clone().fmod_(d),
                                          a.clone().mul_(d).add_(d, alpha=-3), a.clone().div_(d, rounding_mode="trunc")), INT_CALLS, 0)
add("inplace_float_chain", lambda x, y: (x.clone().clamp_(0.5, -0.5), x.clone().addcdiv_(y, y, value=2.0),
                                         x.clone().addcmul_(y, x, value=-1.0), (x * 1.0).div_(y), (x + 0.0).pow_(2.5),
                                         x.clone().masked_fill_(y > 0, float("nan")), x.clone().lerp_(y, 0.5)), FLOAT_PAIRS, 2)
_BIG = (37, 129)
SUMS = [o(0, _BIG), o(1, _BIG, scale=1e6), np.resize(np.array([1e8, 1.0, -1e8, 3.0, 1e-3, -0.0], F32), _BIG),
        np.resize(np.array([3e38, 3e38, -3e38, -3e38, 1.0], F32), _BIG), o(2, _BIG)]
add("summation_order", lambda x: (x.sum(), x.sum(0), x.sum(1), x.mean(), x.t().sum(0), x.cumsum(1)[:, -1], (x * x).sum(1),
                                  x.norm(dim=0), x.logsumexp(0), x.var(), x @ x.t()[:, :5], x.half().sum(1)), SUMS)
add("half_matmul_and_dtype_softmax", lambda x: (x.half() @ x.half().t(), F.softmax(x.half(), 1, dtype=torch.float32),
                                                F.log_softmax(x.half(), 0, dtype=torch.float64), x.half().prod(1)), H_CALLS)

# ------------------------------------------------------------------------------------ the tests
@pytest.mark.parametrize("name", sorted(CASES))
def test_value_sequence(name):
    fn, calls, grad = CASES[name]
    check(fn, calls, grad)
