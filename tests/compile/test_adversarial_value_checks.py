"""chainrule.compile against eager execution where library functions check or read tensor VALUES
in Python (outside an Op's forward/backward): the first (recorded) call has values that pass the
check, later calls with the same shapes have values that should raise, or that change what the
Python code decides. Compiled must raise the same error (type and message start) or give the same
bits as eager, or fall back to eager with a warning; never a stale result or nan."""
import functools
import warnings

import numpy as np
import pytest

import chainrule as torch
import chainrule.nn.functional as F
from chainrule import nn
from tests.compile.bitwise import assert_identical


def _arr(t):
    return np.array(t.detach().numpy(), copy=True)


def _snap(value):
    if isinstance(value, torch.Tensor):
        return _arr(value)
    if isinstance(value, (list, tuple)):
        return tuple(_snap(item) for item in value)
    if isinstance(value, dict):
        return {key: _snap(item) for key, item in value.items()}
    if isinstance(value, np.ndarray):
        return value.copy()
    return value


def _outcome(call, value):
    try:
        out = call(*value) if isinstance(value, tuple) else call(value)
    except Exception as error:  # noqa: BLE001 - the exception is what is compared
        return ("raised", type(error).__name__, str(error)[:30])
    return _snap(out)


def _run(build, values, compiled):
    torch.manual_seed(0)
    call = build(torch.compile if compiled else (lambda function: function))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [_outcome(call, value) for value in values]


def _check(build, values):
    eager = _run(build, values, False)
    assert_identical(_run(build, values, False), eager, "eager again")  # eager is deterministic
    assert_identical(_run(build, values, True), eager, "compiled")


CASES = {}


def case(values):
    def register(build):
        CASES[build.__name__] = (build, values)
        return build

    return register


def t(*values, dtype=None):
    return torch.tensor(list(values) if len(values) != 1 or not isinstance(values[0], list) else values[0], dtype=dtype)


def L(*values):
    return torch.tensor(list(values), dtype=torch.int64)


def _scores():
    return torch.randn(3, 4, requires_grad=True)


def _loss_step(compile, loss_of, shape=(3, 4)):
    """A compiled step: loss_of(input with grad, *values), backward; returns the loss and grad."""
    x = torch.randn(*shape, requires_grad=True)

    @compile
    def step(*values):
        x.grad = None
        loss = loss_of(x, *values)
        loss.backward()
        return loss, x.grad

    return step


# ----------------------------------------------------------------------------- losses with target checks
@case([t(0.2, 0.5, 0.9), t(0.2, 1.5, 0.9), t(-0.1, 0.5, 0.5), t(0.1, 0.2, 0.3)])
def bce_input_range(compile):
    w = torch.randn(3, requires_grad=True)

    @compile
    def step(p):
        loss = F.binary_cross_entropy(p * w.sigmoid() / w.sigmoid(), torch.tensor([0.0, 1.0, 1.0]))
        loss.backward()
        return loss

    return step


@case([L(0, 1, 2), L(0, 5, 1), L(-1, 0, 0), L(3, 2, 1), L(0, -100, 1)])
def nll_loss_target_range(compile):
    return _loss_step(compile, lambda x, y: F.nll_loss(F.log_softmax(x, 1), y))


@case([L(0, 1, 2), L(0, -100, 1), L(-100, -100, -100), L(3, 2, 1), L(1, 1, 7)])
def cross_entropy_ignore_index(compile):
    return _loss_step(compile, lambda x, y: F.cross_entropy(x, y))


@case([L(0, 1, 2), L(0, 1, 1), L(1, 1, 1), L(0, 9, 1)])
def cross_entropy_ignore_index_1_weighted(compile):
    w = torch.tensor([1.0, 2.0, 3.0, 4.0])
    return _loss_step(compile, lambda x, y: F.cross_entropy(x, y, weight=w, ignore_index=1, label_smoothing=0.1))


@case([t([[0.25] * 4] * 3), t([[1.0, 0, 0, 0]] * 3), t([[-1.0, 2, 0, 0]] * 3)])
def cross_entropy_probabilities(compile):
    return _loss_step(compile, lambda x, y: F.cross_entropy(x, y, label_smoothing=0.2))


@case([t([[0.25] * 4] * 3), t([[0.0, 0.0, 0.5, 0.5]] * 3), t([[-1.0, 2, 0, 0]] * 3)])
def kl_div_targets(compile):
    return _loss_step(compile, lambda x, y: F.kl_div(F.log_softmax(x, 1), y, reduction="batchmean"))


@case([t([[1.0, 2, 0, 3]] * 3), t([[0.0, 0, 0, 9]] * 3), t([[-1.0, 2, 0, 0]] * 3)])
def poisson_nll_loss_targets(compile):
    return _loss_step(compile, lambda x, y: F.poisson_nll_loss(x, y, log_input=True, full=True))


@case([t([[1.0, 2, 0.5, 3]] * 3), t([[1.0, 2, 0.0, 3]] * 3), t([[1.0, -2, 0.5, 3]] * 3), t([[1.0, 2, 0.5, 3]] * 3)])
def gaussian_nll_loss_var(compile):
    return _loss_step(compile, lambda x, v: F.gaussian_nll_loss(x, torch.zeros(3, 4), v))


@case([L(0, 1, 3), L(0, 4, 1), L(-1, 0, 0), L(3, 3, 3)])
def multi_margin_loss_target_range(compile):
    return _loss_step(compile, lambda x, y: F.multi_margin_loss(x, y))


@case([L(0, 1, 3), L(3, 2, 1), L(1, 1, 1)])
def multi_margin_loss_target_values(compile):
    return _loss_step(compile, lambda x, y: F.multi_margin_loss(x, y, p=2, weight=torch.tensor([1.0, 2.0, 3.0, 4.0])))


@case([L(*[0, 1, -1, 0] * 3).reshape(3, 4), L(*[3, 2, -1, 0] * 3).reshape(3, 4), L(*[3, 5, -1, 0] * 3).reshape(3, 4),
       L(*[0, -2, -1, 0] * 3).reshape(3, 4)])
def multilabel_margin_loss_targets(compile):
    return _loss_step(compile, lambda x, y: F.multilabel_margin_loss(x, y))


@case([L(0, 1, 2), L(2, 2, 0), L(0, 1, 9)])
def adaptive_log_softmax_targets(compile):
    torch.manual_seed(1)
    module = nn.AdaptiveLogSoftmaxWithLoss(4, 6, cutoffs=[2])
    x = torch.randn(3, 4)

    @compile
    def step(y):
        out = module(x, y)
        out.loss.backward()
        return out.output, out.loss

    return step


def _ctc_step(compile):
    torch.manual_seed(2)
    logits = torch.randn(6, 2, 5, requires_grad=True)

    @compile
    def step(targets, input_lengths, target_lengths):
        logits.grad = None
        loss = F.ctc_loss(F.log_softmax(logits, 2), targets, input_lengths, target_lengths)
        loss.backward()
        return loss, logits.grad

    return step


@case([(L(1, 2, 3, 1, 1, 2).reshape(2, 3), L(6, 5), L(3, 2)),
       (L(4, 2, 3, 1, 1, 2).reshape(2, 3), L(6, 6), L(3, 3)),
       (L(1, 2, 3, 1, 1, 2).reshape(2, 3), L(6, 4), L(1, 2)),
       (L(1, 2, 3, 1, 1, 2).reshape(2, 3), L(7, 5), L(3, 2)),
       (L(1, 2, 3, 1, 1, 2).reshape(2, 3), L(6, 5), L(-1, 2)),
       (L(1, 2, 7, 1, 1, 2).reshape(2, 3), L(6, 5), L(3, 2)),
       (L(1, 2, 3, 1, 1, 2).reshape(2, 3), L(6, 5), L(3, 4))])
def ctc_loss_lengths_and_labels(compile):
    return _ctc_step(compile)


# ----------------------------------------------------------------------------- embeddings, one_hot
@case([L(0, 1, 2), L(2, 2, 0), L(0, 1, 9), L(3, -1, 0)])
def embedding_padding_idx(compile):
    weight = torch.randn(5, 3, requires_grad=True)

    @compile
    def step(i):
        weight.grad = None
        out = F.embedding(i, weight, padding_idx=2)
        out.sum().backward()
        return out, weight.grad

    return step


@case([L(0, 1, 2), L(2, 2, 0), L(4, 3, 3), L(0, 1, 2)])
def embedding_max_norm(compile):
    torch.manual_seed(3)
    weight = torch.randn(5, 3) * 3
    weight.requires_grad_()

    @compile
    def step(i):
        out = F.embedding(i, weight, max_norm=1.0)
        out.sum().backward()
        return out, weight, weight.grad

    return step


@case([(L(0, 1, 2, 3), L(0, 2)), (L(3, 1, 2, 0), L(0, 3)), (L(0, 1, 2, 3), L(2, 1)), (L(0, 1, 2, 9), L(0, 2)),
       (L(0, 1, 2, 3), L(1, 2))])
def embedding_bag_offsets(compile):
    weight = torch.randn(10, 3, requires_grad=True)

    @compile
    def step(i, offsets):
        out = F.embedding_bag(i, weight, offsets, mode="sum")
        out.sum().backward()
        return out

    return step


@case([L(0, 1, 2), L(2, 1, 0), L(2, 2, 2), L(0, 0, 2)])
def one_hot_inferred_classes(compile):
    return compile(lambda i: F.one_hot(i) * 2)


@case([L(0, 1, 2), L(2, 1, 0), L(3, 1, 0), L(-1, 0, 0)])
def one_hot_fixed_classes(compile):
    return compile(lambda i: F.one_hot(i, 3) * 2)


# ----------------------------------------------------------------------------- counting and statistics
@case([L(0, 1, 2), L(2, 2, 2), L(0, 0, 0), L(0, 1, 3), L(0, -1, 1)])
def bincount_same_length(compile):
    return compile(lambda i: torch.bincount(i, minlength=3) * 2)


@case([t(0.0, 1.0, 2.0), t(0.0, 2.0, 4.0), t(1.0, 1.0, 1.0), t(-5.0, 0.0, 5.0)])
def histc_data_range(compile):
    return compile(lambda x: torch.histc(x * 1.0, bins=4))


@case([t(0.0, 1.0, 2.0), t(0.0, 2.0, 4.0), t(-5.0, 0.0, 5.0)])
def histogram_data_range(compile):
    return compile(lambda x: tuple(torch.histogram(x * 1.0, bins=4)))


@case([t(0.5, 0.25), t(0.1, 0.9), t(0.5, 1.5), t(-0.5, 0.5)])
def quantile_q_tensor(compile):
    x = torch.tensor([1.0, 5.0, 2.0, 8.0])
    return compile(lambda q: torch.quantile(x, q))


@case([L(1, 2, 1), L(2, 2, 2), L(0, 3, 1)])
def cov_fweights(compile):
    x = torch.tensor([[1.0, 2.0, 4.0], [0.0, 3.0, 1.0]])
    return compile(lambda w: torch.cov(x, fweights=w))


@case([L(1, 2, 1), L(1, -2, 1)])
def cov_negative_fweights(compile):
    x = torch.tensor([[1.0, 2.0, 4.0], [0.0, 3.0, 1.0]])
    return compile(lambda w: torch.cov(x, fweights=w))


@case([L(1, 2), L(2, 1), L(0, 3), L(-1, 4)])
def repeat_interleave_tensor_repeats(compile):
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    return compile(lambda r: torch.repeat_interleave(x, r) * 2)


@case([L(1, 3), L(2, 3), L(0, 1)])
def tensor_split_tensor_indices(compile):
    x = torch.arange(6.0)
    return compile(lambda i: tuple(part * 2 for part in torch.tensor_split(x, i)))


@case([t(True, False, True), t(False, True, True), t(True, True, False)])
def masked_select_same_count(compile):
    x = torch.tensor([1.0, 2.0, 3.0])
    return compile(lambda m: torch.masked_select(x, m) * 2)


@case([t(1.0, 0.0, 1.0), t(0.0, 1.0, 1.0)])
def nonzero_same_count(compile):
    return compile(lambda m: torch.nonzero(m) * 2)


@case([t(1.0, 3.0, 1.0), t(2.0, 2.0, 5.0), t(4.0, 5.0, 4.0)])
def unique_same_count(compile):
    return compile(lambda x: torch.unique(x) * 2)


# ----------------------------------------------------------------------------- indexing out of range
@case([L(0, 2), L(2, 1), L(0, 3), L(-1, 0), L(-4, 0)])
def index_select_range(compile):
    x = torch.randn(3, 2, requires_grad=True)
    return compile(lambda i: torch.index_select(x, 0, i) * 2)


@case([L(0, 2, 1, 0).reshape(2, 2), L(0, 3, 1, 0).reshape(2, 2), L(0, -1, 1, 0).reshape(2, 2), L(1, 1, 1, 0).reshape(2, 2)])
def gather_range(compile):
    x = torch.randn(2, 3, requires_grad=True)
    return compile(lambda i: torch.gather(x, 1, i) * 2)


@case([L(0, 2, 1, 0).reshape(2, 2), L(0, 3, 1, 0).reshape(2, 2), L(0, -1, 1, 0).reshape(2, 2), L(1, 1, 1, 0).reshape(2, 2)])
def scatter_add_range(compile):
    src = torch.ones(2, 2)
    return compile(lambda i: torch.zeros(2, 3).scatter_add(1, i, src))


@case([L(0, 2), L(2, 1), L(0, 3), L(-4, 0)])
def index_add_range(compile):
    return compile(lambda i: torch.zeros(3, 2).index_add(0, i, torch.ones(2, 2)))


@case([L(0, 2), L(1, 1), L(0, 3), L(-4, 0)])
def getitem_tensor_index(compile):
    x = torch.randn(3, 2, requires_grad=True)
    return compile(lambda i: x[i] * 2)


@case([L(0, 2), L(1, 1), L(0, 3)])
def index_put_accumulate(compile):
    v = torch.tensor([1.0, 2.0])
    return compile(lambda i: torch.zeros(3).index_put((i,), v, accumulate=True))


@case([L(0, 2), L(1, 1), L(0, 5)])
def take_range(compile):
    x = torch.randn(2, 2)
    return compile(lambda i: torch.take(x, i) * 2)


# ----------------------------------------------------------------------------- elementwise with tensor arguments
@case([(t(0.0), t(1.0)), (t(0.5), t(0.2)), (t(-1.0), t(2.0))])
def clamp_tensor_bounds(compile):
    x = torch.tensor([-2.0, 0.3, 0.7, 3.0])
    return compile(lambda lo, hi: torch.clamp(x, lo, hi))


@case([t(True, False), t(False, False), t(True, True)])
def where_and_masked_fill(compile):
    x = torch.tensor([1.0, 2.0])
    return compile(lambda m: (torch.where(m, x, -x), x.masked_fill(m, 7.0)))


@case([L(3, 2), L(3, 0), L(-3, 2), L(0, 0)])
def integer_division(compile):
    a = L(7, -7)
    return compile(lambda b: (torch.div(a, b, rounding_mode="floor"), torch.remainder(a, b)))


@case([L(2, 1), L(0, 3), L(-1, 2)])
def integer_power(compile):
    a = L(3, 2)
    return compile(lambda e: a ** e)


@case([t(1.0, 2.0, 3.0), t(1.0, 0.0, 3.0), t(0.0, 0.0, 3.0)])
def prod_and_cumprod_zeros(compile):
    w = torch.ones(3, requires_grad=True)

    @compile
    def step(x):
        w.grad = None
        (x * w).prod().backward()
        g1 = w.grad
        w.grad = None
        (x * w).cumprod(0).sum().backward()
        return g1, w.grad

    return step


@case([t(0.5, 2.0), t(20.0, -3.5), t(1e-3, 50.0)])
def special_series(compile):
    q = torch.tensor([1.0, 2.0])
    return compile(lambda x: (torch.special.digamma(x), torch.special.polygamma(1, x), torch.lgamma(x),
                              torch.special.zeta(x.abs() + 1.5, q)))


@case([t(0.5, 2.0), t(20.0, 3.5), t(1e-3, 50.0)])
def special_gammainc(compile):
    y = torch.tensor([1.0, 2.0])
    return compile(lambda x: (torch.special.gammainc(x, y), torch.special.gammaincc(x, y)))


@case([t(1.0, 0.5), t(float("nan"), 0.5), t(1.0, 0.5)])
def max_pool_nan(compile):
    x = torch.randn(1, 1, 4, 4, requires_grad=True)

    @compile
    def step(v):
        x.grad = None
        y = F.max_pool2d(x * v.repeat(8).reshape(1, 1, 4, 4), 2)
        y.sum().backward()
        return y, x.grad

    return step


# ----------------------------------------------------------------------------- comparisons read into Python
@case([t(1.0, 2.0), t(1.0, 2.5), t(1.0, 2.0)])
def allclose_and_equal(compile):
    b = torch.tensor([1.0, 2.0])
    return compile(lambda a: (a * 2, torch.allclose(a, b), torch.equal(a, b)))


# ----------------------------------------------------------------------------- creation with 0-d tensor arguments
@case([t(4.0), t(2.0), t(6.0)])
def linspace_0d_tensor(compile):
    return compile(lambda end: torch.linspace(0.0, end, 4) * 2)


@case([L(4)[0], L(3)[0], L(5)[0]])
def arange_0d_tensor(compile):
    return compile(lambda end: torch.arange(end) * 2)


@case([t(1.0), t(-1.0), t(2.0)])
def pad_value(compile):
    x = torch.ones(2, 2)
    return compile(lambda v: F.pad(x, (1, 1), value=float(v)))


# ----------------------------------------------------------------------------- random arguments
@case([t(0.2, 0.8), t(0.0, 1.0), t(0.5, 1.5), t(-0.1, 0.5)])
def bernoulli_p(compile):
    return compile(lambda p: torch.bernoulli(p))


@case([t(0.2, 0.8), t(0.5, 1.5)])
def bernoulli_p_float_arg(compile):
    return compile(lambda p: torch.bernoulli(torch.zeros(2), p=0.5) + p)


@case([t([[1.0, 2.0, 3.0]]), t([[0.0, 0.0, 3.0]]), t([[1.0, -2.0, 3.0]]), t([[0.0, 0.0, 0.0]]), t([[1.0, float("inf"), 3.0]])])
def multinomial_weights(compile):
    return compile(lambda w: torch.multinomial(w, 2))


@case([t(1.0, 2.0), t(0.0, 2.0), t(-1.0, 2.0)])
def normal_std_tensor(compile):
    return compile(lambda s: torch.normal(torch.zeros(2), s))


@case([t(1.0), t(-1.0), t(2.0)])
def normal_std_0d(compile):
    return compile(lambda s: torch.normal(0.0, s, (2,)))


# ----------------------------------------------------------------------------- distributions' validate_args
@case([t(1.0, 2.0), t(0.5, 0.1), t(-1.0, 2.0), t(1.0, 0.0)])
def normal_distribution_scale(compile):
    return compile(lambda s: torch.distributions.Normal(torch.zeros(2), s, validate_args=True).log_prob(torch.ones(2)))


@case([t(0.3, 0.2), t(0.0, 1.0), t(1.5, 0.2)])
def bernoulli_distribution_probs(compile):
    return compile(lambda p: torch.distributions.Bernoulli(probs=p, validate_args=True).log_prob(torch.ones(2)))


@case([t(0.0, 1.0), t(1.0, 0.0), t(0.5, 1.0)])
def bernoulli_distribution_value(compile):
    p = torch.tensor([0.3, 0.6])
    return compile(lambda v: torch.distributions.Bernoulli(probs=p, validate_args=True).log_prob(v))


@case([L(0, 1), L(2, 1), L(3, 1), L(-1, 0)])
def categorical_value(compile):
    p = torch.tensor([0.2, 0.3, 0.5])
    return compile(lambda v: torch.distributions.Categorical(probs=p, validate_args=True).log_prob(v))


@case([t(0.2, 0.3, 0.5), t(0.1, 0.1, 0.8), t(-0.2, 0.7, 0.5)])
def categorical_probs(compile):
    v = L(0, 2)
    return compile(lambda p: torch.distributions.Categorical(probs=p, validate_args=True).log_prob(v))


@case([t(5.0, 5.0), t(3.0, 7.0), t(-1.0, 2.0)])
def binomial_total_count(compile):
    p, v = torch.tensor([0.5, 0.5]), torch.tensor([1.0, 2.0])
    return compile(lambda n: torch.distributions.Binomial(n, probs=p, validate_args=True).log_prob(v))


@case([t(5.0, 5.0), t(3.0, 7.0)])
def binomial_sample(compile):
    p = torch.tensor([0.5, 0.5])
    return compile(lambda n: torch.distributions.Binomial(n, probs=p).sample())


@case([t(1.0, 2.0), t(3.0, 0.5), t(2.0, 2.0)])
def binomial_kl(compile):
    p = torch.distributions.Binomial(torch.tensor([2.0, 2.0]), probs=torch.tensor([0.3, 0.5]))
    q = torch.tensor([0.4, 0.4])
    return compile(lambda n: torch.distributions.kl_divergence(p, torch.distributions.Binomial(n, probs=q)))


@case([t(1.0), t(-1.0), t(3.0)])
def uniform_low_high(compile):
    hi, v = torch.tensor(2.0), torch.tensor(1.5)
    return compile(lambda lo: torch.distributions.Uniform(lo, hi, validate_args=True).log_prob(v))


@case([t(4.0), t(5.0), t(1.5), t(0.5)])
def wishart_df(compile):
    eye = torch.eye(2)
    return compile(lambda df: torch.distributions.Wishart(df, covariance_matrix=eye, validate_args=True).log_prob(eye))


@case([t(1.0, 2.0), t(1.0, -2.0)])
def dirichlet_concentration(compile):
    v = torch.tensor([0.3, 0.7])
    return compile(lambda c: torch.distributions.Dirichlet(c, validate_args=True).log_prob(v))


# ----------------------------------------------------------------------------- nn.init, clipping, optimizers
@case([t(1.0), t(2.0), t(0.5)])
def trunc_normal_init(compile):
    w = torch.empty(50)

    @compile
    def step(s):
        nn.init.trunc_normal_(w, std=1.0, a=-1.0, b=1.0)
        return w * s

    return step


@case([t(1.0, 2.0), t(float("inf"), 1.0), t(float("nan"), 1.0), t(3.0, 4.0)])
def clip_grad_norm_error_if_nonfinite(compile):
    w = torch.ones(2, requires_grad=True)

    @compile
    def step(g):
        w.grad = None
        (w * g).sum().backward()
        total = nn.utils.clip_grad_norm_([w], 1.0, error_if_nonfinite=True)
        return total, w.grad

    return step


@case([t(1.0, 2.0), t(float("inf"), 1.0), t(3.0, 4.0)])
def clip_grad_norm_nonfinite_allowed(compile):
    w = torch.ones(2, requires_grad=True)

    @compile
    def step(g):
        w.grad = None
        (w * g).sum().backward()
        total = nn.utils.clip_grad_norm_([w], 1.0)
        return total, w.grad

    return step


@case([t(0.1), t(0.5), t(-0.1), t(0.2)])
def sgd_tensor_lr(compile):
    w = torch.ones(2, requires_grad=True)
    lr = torch.tensor(0.1)
    opt = torch.optim.SGD([w], lr=lr)

    @compile
    def step(value):
        with torch.no_grad():
            lr.copy_(value)
        opt.zero_grad()
        (w * w).sum().backward()
        opt.step()
        return w

    return step


@case([t(0.1), t(0.5), t(0.2)])
def adam_tensor_lr(compile):
    w = torch.ones(2, requires_grad=True)
    lr = torch.tensor(0.1)
    opt = torch.optim.Adam([w], lr=lr)

    @compile
    def step(value):
        with torch.no_grad():
            lr.copy_(value)
        opt.zero_grad()
        (w * w).sum().backward()
        opt.step()
        return w

    return step


@case([t(1.0, 2.0), t(float("inf"), 1.0), t(3.0, 4.0)])
def grad_scaler_found_inf(compile):
    w = torch.ones(2, requires_grad=True)
    opt = torch.optim.SGD([w], lr=0.1)
    scaler = torch.amp.GradScaler("cpu", init_scale=4.0)

    @compile
    def step(g):
        opt.zero_grad()
        scaler.scale((w * g).sum()).backward()
        scaler.step(opt)
        scaler.update()
        return w, torch.tensor(scaler.get_scale())

    return step


# ----------------------------------------------------------------------------- linear algebra
@case([t([[2.0, 1.0], [1.0, 3.0]]), t([[1.0, 2.0], [2.0, 4.0]]), t([[0.0, 0.0], [0.0, 0.0]]), t([[4.0, 1.0], [1.0, 2.0]])])
def lu_factor_singular(compile):
    return compile(lambda a: tuple(torch.linalg.lu_factor(a * 1.0)))


@case([t([[2.0, 1.0], [1.0, 3.0]]), t([[0.0, 0.0], [0.0, 0.0]]), t([[4.0, 1.0], [1.0, 2.0]])])
def lu_factor_ex_check_errors(compile):
    return compile(lambda a: tuple(torch.linalg.lu_factor_ex(a * 1.0, check_errors=True)))


@case([t([[2.0, 1.0], [1.0, 3.0]]), t([[0.0, 0.0], [0.0, 0.0]]), t([[4.0, 1.0], [1.0, 2.0]])])
def ldl_factor_singular(compile):
    return compile(lambda a: tuple(torch.linalg.ldl_factor(a * 1.0)))


@case([t([[2.0, 1.0], [1.0, 3.0]]), t([[1.0, 2.0], [2.0, 4.0]]), t([[-1.0, 0.0], [0.0, 1.0]])])
def cholesky_and_inv(compile):
    return compile(lambda a: (torch.linalg.cholesky_ex(a).L, torch.linalg.inv_ex(a).inverse))


@case([t([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]), t([[1.0, 2.0], [2.0, 4.0], [3.0, 6.0]]), t([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])])
def lstsq_rank(compile):
    b = torch.tensor([[1.0], [2.0], [3.0]])
    return compile(lambda a: tuple(torch.linalg.lstsq(a, b, driver="gelsd")))


@case([t([[2.0, 1.0], [1.0, 3.0]]), t([[1.0, 2.0], [2.0, 4.0]])])
def det_singular_backward(compile):
    w = torch.ones(2, 2, requires_grad=True)

    @compile
    def step(a):
        w.grad = None
        torch.linalg.det(a * w).backward()
        return w.grad

    return step


@case([L(2)[0], L(1)[0], L(0)[0]])
def tensordot_tensor_dims(compile):
    a, b = torch.ones(2, 2), torch.arange(4.0).reshape(2, 2)
    return compile(lambda d: torch.tensordot(a, b, d) * 1.0)


# ----------------------------------------------------------------------------- sequences, attention
@case([L(3, 2), L(3, 1), L(2, 3), L(3, 0)])
def pack_padded_sequence_lengths(compile):
    x = torch.randn(3, 2, 2, requires_grad=True)
    return compile(lambda n: nn.utils.rnn.pack_padded_sequence(x, n).data * 2)


@case([t([[True, False], [False, False]]), t([[True, True], [False, False]]), t([[False, False], [False, False]])])
def attention_blocked_rows(compile):
    q = torch.randn(1, 2, 3, requires_grad=True)
    k, v = torch.randn(1, 2, 3), torch.randn(1, 2, 3)

    @compile
    def step(mask):
        q.grad = None
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=~mask)
        out.sum().backward()
        return out, q.grad

    return step


@case([t([[0.0, float("-inf")], [0.0, 0.0]]), t([[0.0, 0.0], [0.0, 0.0]]), t([[0.0, float("-inf")], [0.0, 0.0]])])
def transformer_causal_mask(compile):
    torch.manual_seed(4)
    layer = nn.TransformerEncoderLayer(4, 2, 8, dropout=0.0, batch_first=True)
    x = torch.randn(1, 2, 4)
    return compile(lambda m: layer(x, src_mask=m))



# ----------------------------------------------------------------------------- more: *_ex factorizations, packing, in-place Python maps
_SINGULAR = [t([[2.0, 1.0], [1.0, 3.0]]), t([[1.0, 2.0], [2.0, 4.0]]), t([[0.0, 0.0], [0.0, 0.0]]), t([[4.0, 1.0], [1.0, 2.0]])]


@case(_SINGULAR)
def inv_ex_singular(compile):
    return compile(lambda a: tuple(torch.linalg.inv_ex(a * 1.0)))


@case(_SINGULAR)
def cholesky_ex_not_positive_definite(compile):
    return compile(lambda a: tuple(torch.linalg.cholesky_ex(a * 1.0)))


@case(_SINGULAR)
def solve_ex_singular(compile):
    b = torch.tensor([[1.0], [2.0]])
    return compile(lambda a: tuple(torch.linalg.solve_ex(a * 1.0, b)))


@case(_SINGULAR)
def inv_ex_check_errors(compile):
    return compile(lambda a: tuple(torch.linalg.inv_ex(a * 1.0, check_errors=True)))


@case(_SINGULAR)
def ldl_factor_ex_check_errors(compile):
    return compile(lambda a: tuple(torch.linalg.ldl_factor_ex(a * 1.0, check_errors=True)))


@case(_SINGULAR)
def lu_factor_ex_info(compile):
    return compile(lambda a: tuple(torch.linalg.lu_factor_ex(a * 1.0)))


@case([L(3, 2), L(2, 3), L(3, 1), L(1, 3)])
def pack_padded_sequence_unsorted(compile):
    x = torch.randn(3, 2, 2, requires_grad=True)
    return compile(lambda n: tuple(nn.utils.rnn.pack_padded_sequence(x, n, enforce_sorted=False)))


@case([L(3, 2), L(2, 1), L(3, 3)])
def unpad_sequence_lengths(compile):
    x = torch.randn(3, 2, 2)
    return compile(lambda n: tuple(s * 2 for s in nn.utils.rnn.unpad_sequence(x, n)))


@case([L(3, 2), L(3, 1), L(2, 2)])
def packed_lstm(compile):
    torch.manual_seed(5)
    lstm = nn.LSTM(2, 3)
    x = torch.randn(3, 2, 2)

    @compile
    def step(n):
        out, _ = lstm(nn.utils.rnn.pack_padded_sequence(x, n))
        padded, lengths = nn.utils.rnn.pad_packed_sequence(out)
        padded.sum().backward()
        return padded, lengths, lstm.weight_ih_l0.grad

    return step


@case([t(1.0, 2.0), t(3.0, -1.0), t(1.0, 2.0)])
def apply_python_callable(compile):
    return compile(lambda x: (x * 1.0).apply_(lambda v: v * v + 1.0) * 2)


@case([t(1.0, 2.0), t(3.0, -1.0)])
def map_python_callable(compile):
    y = torch.tensor([10.0, 20.0])
    return compile(lambda x: (x * 1.0).map_(y, lambda a, b: a * b + 1.0) * 2)


@case([t([[False, False]]), t([[False, True]]), t([[True, True]]), t([[False, False]])])
def multi_head_attention_key_padding(compile):
    torch.manual_seed(6)
    mha = nn.MultiheadAttention(4, 2, batch_first=True)
    x = torch.randn(1, 2, 4)
    return compile(lambda mask: mha(x, x, x, key_padding_mask=mask))


@case([t([[0.0, 1.0], [2.0, 3.0]]), t([[0.0, 5.0], [2.0, -3.0]])])
def histogramdd_data_range(compile):
    return compile(lambda x: torch.histogramdd(x * 1.0, bins=[2, 2])[0])


@case([L(0, 2), L(0, 3), L(-4, 0)])
def index_fill_range(compile):
    return compile(lambda i: torch.zeros(3, 2).index_fill(0, i, 1.0))


@case([t(3.0, 4.0), t(0.0, 0.0), t(1.0, 1.0)])
def normalize_zero(compile):
    return compile(lambda x: F.normalize(x.reshape(1, 2) * 1.0))



@case(_SINGULAR)
def solve_ex_result_only(compile):
    b = torch.tensor([[1.0], [2.0]])
    return compile(lambda a: torch.linalg.solve_ex(a * 1.0, b).result * 2)


@case([t(1.0, 2.0), t(0.0, 2.0), t(-1.0, 2.0), t(3.0, 2.0)])
def detect_anomaly_nan_gradient(compile):
    w = torch.ones(2, requires_grad=True)

    @compile
    def step(x):
        w.grad = None
        with torch.autograd.detect_anomaly():
            (x * w).sqrt().sum().backward()
        return w.grad

    return step



@case([t([[0.1, 0.2], [0.0, 0.3]]), t([[5.0, 2.0], [1.0, 9.0]]), t([[0.0, 0.0], [0.0, 0.0]])])
def matrix_exp_scaling(compile):
    w = torch.ones(2, 2, requires_grad=True)

    @compile
    def step(a):
        w.grad = None
        out = torch.linalg.matrix_exp(a * w)
        out.sum().backward()
        return out, w.grad

    return step


@case([t(1.0, 2.0), t(1.0, 2.5), t(1.0, 2.0)])
def assert_close_values(compile):
    b = torch.tensor([1.0, 2.0])

    def check(a):
        torch.testing.assert_close(a * 1.0, b)
        return a * 2

    return compile(check)


@case([t(1.0, 2.0), t(100.0, -3.0), t(1e-6, 1e-6)])
def adafactor_relative_step(compile):
    w = torch.ones(2, 2, requires_grad=True)
    opt = torch.optim.Adafactor([w])

    @compile
    def step(g):
        opt.zero_grad()
        (w * g).sum().backward()
        opt.step()
        return w

    return step


@case([t([[4.0, 1.0, 0.0], [1.0, 3.0, 0.0], [0.0, 0.0, 1.0]]), t([[1.0, 0.0, 0.0], [0.0, 5.0, 1.0], [0.0, 1.0, 2.0]])])
def lobpcg_values(compile):
    return compile(lambda a: torch.lobpcg(a * 1.0, k=1)[0])



@case([t(1.0, 2.0), t(5.0, -3.0), t(0.0, 0.0)])
def lbfgs_line_search(compile):
    w = torch.ones(2, requires_grad=True)
    opt = torch.optim.LBFGS([w], lr=1.0, max_iter=4, line_search_fn="strong_wolfe")

    @compile
    def step(target):
        def closure():
            opt.zero_grad()
            loss = ((w - target) ** 2).sum()
            loss.backward()
            return loss

        return opt.step(closure), w

    return step


@case([t(0.5, 2.0), t(float("nan"), -3.0), t(0.1, 0.2)])
def clip_grad_value(compile):
    w = torch.ones(2, requires_grad=True)

    @compile
    def step(g):
        w.grad = None
        (w * g).sum().backward()
        nn.utils.clip_grad_value_([w], 1.0)
        return w.grad

    return step


@case([t(1.0, 2.0, 3.0, 4.0), t(0.0, 0.0, 0.0, 0.0), t(-1.0, 5.0, 2.0, 0.5)])
def spectral_norm_power_iteration(compile):
    torch.manual_seed(7)
    layer = nn.utils.parametrizations.spectral_norm(nn.Linear(4, 3))

    @compile
    def step(x):
        out = layer(x.reshape(1, 4))
        out.sum().backward()
        return out, layer.parametrizations.weight.original.grad

    return step


@pytest.mark.parametrize("name", sorted(CASES))
def test_value_checks_match_eager(name):
    build, values = CASES[name]
    _check(build, values)
