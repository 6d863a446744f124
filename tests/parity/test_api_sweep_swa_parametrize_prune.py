"""A sweep of weight averaging, parametrizations and pruning against PyTorch (the oracle):
``optim.swa_utils`` (``AveragedModel`` with the default running mean, ``avg_fn``, ``multi_avg_fn``,
``get_ema_avg_fn`` / ``get_ema_multi_avg_fn`` / ``get_swa_avg_fn`` / ``get_swa_multi_avg_fn``,
``use_buffers``, the ``n_averaged`` buffer, several ``update_parameters`` steps compared exactly;
``SWALR`` with ``anneal_strategy`` cos / linear, ``anneal_epochs``, per-group ``swa_lr``, its
``get_last_lr`` sequence and state dict; ``update_bn`` over loaders of tensors, tuples, lists and a
``DataLoader``), ``nn.utils.parametrize`` (``register_parametrization`` with custom modules,
``right_inverse`` and several originals, ``unsafe``, chained parametrizations, buffers,
``is_parametrized``, ``remove_parametrizations`` with ``leave_parametrized`` True / False,
``cached()``, ``type_before_parametrizations``, ``transfer_parametrizations_and_params``, names,
state dicts, reprs, deepcopy and pickling), ``nn.utils.parametrizations`` (``weight_norm`` with
``dim``, ``spectral_norm`` after seeded forward calls in train and eval mode, ``orthogonal`` with
each map and ``use_trivialization``), the older ``nn.utils.weight_norm`` / ``remove_weight_norm``
and ``nn.utils.spectral_norm`` / ``remove_spectral_norm`` (``weight_g`` / ``weight_v`` /
``weight_orig`` / ``weight_u`` names and values), ``nn.utils.prune`` (``l1_unstructured`` with an
int or float amount, seeded ``random_unstructured`` / ``random_structured``, ``ln_structured`` with
``n`` and ``dim``, ``global_unstructured``, ``identity``, ``custom_from_mask``, repeated pruning,
``remove``, ``is_pruned``, the ``weight_orig`` / ``weight_mask`` names, the forward pre-hook),
``nn.utils.fusion`` (``fuse_conv_bn_eval`` / ``fuse_linear_bn_eval`` / the ``*_weights`` forms),
``nn.utils.skip_init`` and ``nn.utils.stateless.functional_call``; the error types PyTorch raises
for bad input, the warnings it gives, and float64 gradients through the parametrized weights.

Each test runs the same code with ``torch`` and with ``chainrule`` and compares values, dtypes,
shapes, names or exception types. Tests marked ``xfail(strict=True, reason="BUG: ...")`` are
differences found: each turns into an XPASS failure the day it is fixed, and the mark must go.
"""
import copy
import pickle
import warnings

import numpy as np
import pytest
import torch
import torch.nn.utils.prune  # noqa: F401 - PyTorch does not import it with torch.nn.utils

import chainrule
from tests.parity.sweep import assert_same, bug, bundle, fail_kind, outcome, plain, raises_as_torch, same_in_both

INF = float("inf")


def grouped(cases, groups):
    """One test per group: ``run(L)`` gives ``[name, result]`` for each named case of the group. Every
    case is in exactly one group."""
    named = [name for names in groups.values() for name in names]
    assert sorted(named) == sorted(cases), sorted(set(named).symmetric_difference(cases))
    return {group: (lambda names: lambda L: [[name, cases[name](L)] for name in names])(names)
            for group, names in groups.items()}


def raises_as_torch_each(cases):
    """``raises_as_torch`` for each named case, the failing case's name in the message."""
    for name, run in cases.items():
        try:
            raises_as_torch(run)
        except AssertionError as error:
            raise AssertionError(f"{name}: {error}") from None


# --- shared modules and data ----------------------------------------------------------------------

W34 = [[0.5, -1.2, 0.3, 2.0], [-0.1, 0.8, -1.5, 0.05], [1.1, -0.4, 0.9, -0.7]]
W33 = [[0.5, -1.2, 0.3], [-0.1, 0.8, -1.5], [1.1, -0.4, 0.9]]
B3 = [0.1, -0.2, 0.3]
X4 = [[0.2, -0.3, 1.0, 0.5], [1.5, 0.0, -0.7, 0.3]]
X3 = [[0.2, -0.3, 1.0], [1.5, 0.0, -0.7], [-0.4, 0.6, 0.1]]
BATCHES = [
    [[0.1, 0.2, 0.3], [1.0, -1.0, 0.5], [0.3, 0.8, -0.2]],
    [[-0.5, 0.4, 1.2], [0.9, 0.1, 0.0]],
    [[2.0, -0.3, 0.7], [0.2, 0.2, 0.2], [-1.0, 0.6, 0.4], [0.0, 1.1, -0.9]],
]


def linear(L, weight=W34, bias=B3, dtype=None):
    """A Linear holding the given values (``bias=None``: without one)."""
    w = L.tensor(weight, dtype=dtype)
    m = L.nn.Linear(w.shape[1], w.shape[0], bias=bias is not None, dtype=dtype)
    with L.no_grad():
        m.weight.copy_(w)
        if bias is not None:
            m.bias.copy_(L.tensor(bias, dtype=dtype))
    return m


def names(m):
    return [[n for n, _ in m.named_parameters()], [n for n, _ in m.named_buffers()]]


def sd(m):
    return [[k, v] for k, v in m.state_dict().items()]


def P(L):
    return L.nn.utils.parametrize


def PZ(L):
    return L.nn.utils.parametrizations


def prune(L):
    return L.nn.utils.prune


def swa(L):
    return L.optim.swa_utils


# --- custom parametrizations, one class per library ----------------------------------------------

def symmetric(L):
    class Symmetric(L.nn.Module):
        def forward(self, X):
            return X.triu() + X.triu(1).transpose(-1, -2)
    return Symmetric()


def scaled(L, factor=2.0):
    class Scale(L.nn.Module):
        def forward(self, X):
            return X * factor

        def right_inverse(self, X):
            return X / factor
    return Scale()


def first_two_columns(L):
    class FirstTwo(L.nn.Module):
        def forward(self, X):
            return X[:, :2]
    return FirstTwo()


def to_double(L):
    class ToDouble(L.nn.Module):
        def forward(self, X):
            return X.double()
    return ToDouble()


def to_list(L):
    class ToList(L.nn.Module):
        def forward(self, X):
            return X.tolist()
    return ToList()


def split_sum(L):
    class SplitSum(L.nn.Module):
        def forward(self, A, B):
            return A + B

        def right_inverse(self, X):
            return X * 0.25, X * 0.75
    return SplitSum()


def bad_inverse(L):
    """Forward is the identity, right_inverse changes the shape."""
    class BadInverse(L.nn.Module):
        def forward(self, X):
            return X

        def right_inverse(self, X):
            return X[:2]
    return BadInverse()


def counting(L, calls):
    class Counting(L.nn.Module):
        def forward(self, X):
            calls.append(1)
            return X * 3.0
    return Counting()


def parametrized(L, *parametrizations, weight=W33, tensor_name="weight", **kwargs):
    m = linear(L, weight)
    for each in parametrizations:
        P(L).register_parametrization(m, tensor_name, each(L), **kwargs)
    return m


# --- swa_utils helpers ----------------------------------------------------------------------------

def swa_net(L, dtype=None):
    L.manual_seed(0)
    return L.nn.Sequential(L.nn.Linear(3, 4, dtype=dtype), L.nn.BatchNorm1d(4, dtype=dtype), L.nn.ReLU(),
                           L.nn.Linear(4, 2, dtype=dtype))


def swa_steps(L, steps=3, dtype=None, **kwargs):
    """An AveragedModel of a model whose weights and buffers move at each of ``steps`` updates."""
    model = swa_net(L, dtype)
    averaged = swa(L).AveragedModel(model, **kwargs)
    for k in range(steps):
        with L.no_grad():
            for i, p in enumerate(model.parameters()):
                p.mul_(-0.7).add_(0.3 * (k + 1) + 0.01 * i)
            for b in model.buffers():
                b.add_(k + 2)
        averaged.update_parameters(model)
    return averaged


def swa_state(L, **kwargs):
    """The averaged model's state dict (its forward is compared, to a tolerance, among the values)."""
    return sd(swa_steps(L, **kwargs))


def swa_seen_n(L):
    seen = []

    def average(averaged, current, n):
        seen.append((isinstance(n, L.Tensor), str(n.dtype).split(".")[-1], tuple(n.shape), int(n)))
        return averaged * 0.5 + current * 0.5

    averaged = swa_steps(L, steps=3, avg_fn=average)
    return [seen, sd(averaged)]


def swalr_lrs(L, steps=8, groups=1, *args, **kwargs):
    params = [L.nn.Parameter(L.zeros(2)) for _ in range(groups)]
    opt = L.optim.SGD([{"params": [p], "lr": 1.0 + g} for g, p in enumerate(params)], lr=1.0)
    sched = swa(L).SWALR(opt, *args, **kwargs)
    lrs = [sched.get_last_lr()]
    for _ in range(steps):
        opt.step()
        sched.step()
        lrs.append(sched.get_last_lr())
    return lrs + [[g["lr"] for g in opt.param_groups], [g["swa_lr"] for g in opt.param_groups]]


def swalr_state_round_trip(L):
    def make():
        opt = L.optim.SGD([L.nn.Parameter(L.zeros(2))], lr=0.5)
        return opt, swa(L).SWALR(opt, swa_lr=0.05, anneal_epochs=4, anneal_strategy="linear")
    opt, sched = make()
    for _ in range(2):
        opt.step()
        sched.step()
    state = sched.state_dict()
    opt2, sched2 = make()
    opt2.param_groups[0]["lr"] = opt.param_groups[0]["lr"]
    sched2.load_state_dict(state)
    lrs = []
    for _ in range(3):
        opt2.step()
        sched2.step()
        lrs.append(sched2.get_last_lr())
    return [sorted(state), state["_anneal_strategy"], state["anneal_epochs"], state["base_lrs"], state["last_epoch"],
            state["_last_lr"], lrs, sched2.anneal_func(0.25)]


def bn_model(L):
    L.manual_seed(0)
    return L.nn.Sequential(L.nn.Linear(3, 4), L.nn.BatchNorm1d(4, momentum=0.3), L.nn.ReLU(), L.nn.Linear(4, 4),
                           L.nn.BatchNorm1d(4))


def update_bn_run(L, form, train=False):
    model = bn_model(L)
    model.train(train)
    xs = [L.tensor(b) for b in BATCHES]
    loader = {
        "tensors": xs,
        "tuples": [(x, L.zeros(len(x))) for x in xs],
        "lists": [[x, 0] for x in xs],
        "dataloader": L.utils.data.DataLoader(L.utils.data.TensorDataset(L.tensor(sum(BATCHES, [])), L.arange(9)),
                                              batch_size=3),
    }[form]
    result = swa(L).update_bn(loader, model)
    return [result, model.training, model[1].momentum, model[4].momentum, sd(model)]


def update_bn_conv(L):
    L.manual_seed(0)
    model = L.nn.Sequential(L.nn.Conv2d(2, 3, 1), L.nn.Sequential(L.nn.BatchNorm2d(3, affine=False)))
    L.manual_seed(1)
    loader = [L.randn(2, 2, 3, 3) for _ in range(3)]
    swa(L).update_bn(loader, model)
    return sd(model)


def update_bn_averaged(L):
    averaged = swa_steps(L, steps=2)
    swa(L).update_bn([L.tensor(b) for b in BATCHES], averaged)
    return sd(averaged)


def update_bn_no_bn(L):
    L.manual_seed(0)
    model = L.nn.Sequential(L.nn.Linear(3, 2))
    model.eval()
    return [swa(L).update_bn([L.tensor(BATCHES[0])], model), model.training, sd(model)]


# --- averaged values, compared exactly -----------------------------------------------------------

_SWA = {
    "default_running_mean": lambda L: swa_state(L),
    "default_float64": lambda L: swa_state(L, dtype=L.float64),
    "default_one_step_copies": lambda L: swa_state(L, steps=1),
    "default_five_steps": lambda L: swa_state(L, steps=5),
    "avg_fn_ema": lambda L: swa_state(L, avg_fn=swa(L).get_ema_avg_fn(0.9)),
    "avg_fn_swa": lambda L: swa_state(L, avg_fn=swa(L).get_swa_avg_fn()),
    "use_buffers_default": lambda L: swa_state(L, use_buffers=True),
    "use_buffers_avg_fn_ema": lambda L: swa_state(L, use_buffers=True, avg_fn=swa(L).get_ema_avg_fn(0.5)),
    "device_keyword": lambda L: swa_state(L, device="cpu"),
    "avg_fn_sees_n_averaged": swa_seen_n,
    "swa_avg_fn_direct": bundle(
        lambda L: swa(L).get_swa_avg_fn()(L.tensor([1.0, 2.0]), L.tensor([4.0, -1.0]), 2),
        lambda L: swa(L).get_swa_avg_fn()(L.tensor([1.0, 2.0]), L.tensor([4.0, -1.0]), L.tensor(2)),
        lambda L: swa(L).get_ema_avg_fn(0.25)(L.tensor([1.0, 2.0]), L.tensor([4.0, -1.0]), 7),
        lambda L: swa(L).get_ema_avg_fn(0.25)(L.tensor([1, 2]), L.tensor([4, -1]), 7),
    ),
    "ema_multi_decay_0_and_1": bundle(lambda L: swa_state(L, multi_avg_fn=swa(L).get_ema_multi_avg_fn(0.0)),
                                      lambda L: swa_state(L, multi_avg_fn=swa(L).get_ema_multi_avg_fn(1.0))),
    "ema_multi_avg_fn_int_direct": lambda L: (lambda a: (swa(L).get_ema_multi_avg_fn(0.5)(a, [L.tensor([4, -1])], None), a)[1])(
        [L.tensor([1, 2])]),
}


SWA_CASES = grouped(_SWA, {
    "default_running_mean": ["default_running_mean", "default_float64", "default_one_step_copies", "default_five_steps",
                             "device_keyword"],
    "avg_fn": ["avg_fn_ema", "avg_fn_swa", "avg_fn_sees_n_averaged"],
    "use_buffers": ["use_buffers_default", "use_buffers_avg_fn_ema"],
    "avg_fns_called_directly": ["swa_avg_fn_direct", "ema_multi_avg_fn_int_direct", "ema_multi_decay_0_and_1"],
})


@pytest.mark.parametrize("run", list(SWA_CASES.values()), ids=list(SWA_CASES))
def test_swa_exact(run):
    same_in_both(run, rtol=0, atol=0)


# The multi_avg_fn paths go through lerp: PyTorch's CPU kernel rounds weight * (end - start) + start once
# (a fused multiply-add), chainrule twice, so they agree to an ulp (an exact comparison is among the bugs below).
_SWA_LERP = {
    "multi_avg_fn_ema": lambda L: swa_state(L, multi_avg_fn=swa(L).get_ema_multi_avg_fn(0.9)),
    "multi_avg_fn_ema_default_decay": lambda L: swa_state(L, multi_avg_fn=swa(L).get_ema_multi_avg_fn()),
    "multi_avg_fn_swa": lambda L: swa_state(L, multi_avg_fn=swa(L).get_swa_multi_avg_fn()),
    "multi_avg_fn_swa_float64": lambda L: swa_state(L, dtype=L.float64, multi_avg_fn=swa(L).get_swa_multi_avg_fn()),
    "use_buffers_multi_ema": lambda L: swa_state(L, use_buffers=True, multi_avg_fn=swa(L).get_ema_multi_avg_fn(0.75)),
    "multi_avg_fn_direct_in_place": bundle(
        lambda L: (lambda a: (swa(L).get_swa_multi_avg_fn()(a, [L.tensor([4.0, -1.0]), L.tensor(3.0)], L.tensor(3)), a)[1])(
            [L.tensor([1.0, 2.0]), L.tensor(0.5)]),
        lambda L: (lambda a: (swa(L).get_swa_multi_avg_fn()(a, [L.tensor([4.0, -1.0])], 1), a)[1])([L.tensor([1.0, 2.0])]),
        lambda L: (lambda a: (swa(L).get_ema_multi_avg_fn(0.6)(a, [L.tensor([4.0, -1.0])], None), a)[1])([L.tensor([1.0, 2.0])]),
    ),
}


SWA_LERP_CASES = grouped(_SWA_LERP, {
    "multi_avg_fn_models": ["multi_avg_fn_ema", "multi_avg_fn_ema_default_decay", "multi_avg_fn_swa",
                            "multi_avg_fn_swa_float64", "use_buffers_multi_ema"],
    "multi_avg_fn_called_directly": ["multi_avg_fn_direct_in_place"],
})


@pytest.mark.parametrize("run", list(SWA_LERP_CASES.values()), ids=list(SWA_LERP_CASES))
def test_swa_lerp_to_an_ulp(run):
    same_in_both(run, rtol=3e-7, atol=0)


# --- values, names, dtypes and shapes ------------------------------------------------------------

def register_report(L, m):
    return [type(m).__name__, m.weight, names(m), sd(m), P(L).is_parametrized(m), P(L).is_parametrized(m, "weight"),
            P(L).is_parametrized(m, "bias"), type(m.parametrizations).__name__, type(m.parametrizations.weight).__name__,
            type(m.parametrizations.weight.original).__name__, len(m.parametrizations.weight),
            m.parametrizations.weight.original.requires_grad, m(L.tensor(X3))]


def right_inverse_assign(L):
    m = parametrized(L, scaled)
    original = m.parametrizations.weight.original
    before = [original.clone(), m.weight]
    m.weight = L.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]])
    return before + [m.parametrizations.weight.original is original, original, m.weight, names(m)]


def remove_report(L, leave, *parametrizations):
    m = parametrized(L, *parametrizations)
    original = m.parametrizations.weight.original
    P(L).remove_parametrizations(m, "weight", leave_parametrized=leave)
    return [type(m).__name__, m.weight, m.weight is original, type(m.weight).__name__, m.weight.requires_grad, names(m),
            sd(m), hasattr(m, "parametrizations"), P(L).is_parametrized(m)]


def split_report(L):
    m = parametrized(L, split_sum)
    return [names(m), sd(m), m.weight, m.parametrizations.weight.is_tensor, m.parametrizations.weight.ntensors,
            type(m.parametrizations.weight.original0).__name__, m.parametrizations.weight.original1.requires_grad]


def split_remove(L):
    m = parametrized(L, split_sum)
    P(L).remove_parametrizations(m, "weight")
    return [type(m).__name__, names(m), m.weight, type(m.weight).__name__, m.weight.requires_grad]


def cached_counts(L):
    calls = []
    m = parametrized(L, lambda L: counting(L, calls), unsafe=True)
    counts = [len(calls)]
    m.weight, m.weight
    counts.append(len(calls))
    with P(L).cached():
        first = m.weight
        second = m.weight
        m(L.tensor(X3))
        counts.append(len(calls))
        same = first is second
    m.weight
    counts.append(len(calls))
    return [counts, same, first]


def chained(L):
    m = parametrized(L, symmetric, scaled)
    return [m.weight, m.parametrizations.weight.original, len(m.parametrizations.weight), repr(m), sd(m)]


def buffer_parametrized(L):
    bn = L.nn.BatchNorm1d(3)
    with L.no_grad():
        bn.running_mean.copy_(L.tensor([1.0, -2.0, 3.0]))
    P(L).register_parametrization(bn, "running_mean", scaled(L, 4.0))
    bn.eval()
    return [type(bn).__name__, names(bn), sd(bn), bn.running_mean, type(bn.parametrizations.running_mean.original).__name__,
            bn(L.tensor(X3))]


def two_tensors_remove_one(L):
    m = linear(L, W33)
    P(L).register_parametrization(m, "weight", symmetric(L))
    P(L).register_parametrization(m, "bias", scaled(L))
    P(L).remove_parametrizations(m, "weight")
    return [type(m).__name__, P(L).is_parametrized(m), P(L).is_parametrized(m, "bias"), names(m), m.bias, m.weight]


def train_mode_follows(L):
    m = linear(L, W33)
    m.eval()
    p = symmetric(L)
    P(L).register_parametrization(m, "weight", p)
    m.train()
    return [p.training, m.parametrizations.weight[0].training]


def eval_at_register(L):
    m = linear(L, W33)
    m.eval()
    p = symmetric(L)
    P(L).register_parametrization(m, "weight", p)
    return p.training


def transfer(L):
    source = parametrized(L, symmetric)
    target = linear(L, [[9.0, 8.0, 7.0], [6.0, 5.0, 4.0], [3.0, 2.0, 1.0]], [0.0, 0.0, 0.0])
    P(L).transfer_parametrizations_and_params(source, target)
    return [type(target).__name__, target.parametrizations.weight.original is source.parametrizations.weight.original,
            target.weight, names(target)]


def transfer_creates(L):
    source = parametrized(L, symmetric)
    target = L.nn.Identity()
    P(L).transfer_parametrizations_and_params(source, target, "weight")
    return [type(target).__name__, target.weight, names(target)]


def deepcopied(L):
    m = parametrized(L, symmetric)
    c = copy.deepcopy(m)
    with L.no_grad():
        m.parametrizations.weight.original.mul_(2.0)
    return [type(c).__name__, c.weight, names(c), P(L).is_parametrized(c), m.weight]


def load_into_parametrized(L):
    source = parametrized(L, symmetric)
    target = parametrized(L, symmetric, weight=[[9.0, 8.0, 7.0], [6.0, 5.0, 4.0], [3.0, 2.0, 1.0]])
    result = target.load_state_dict(source.state_dict())
    return [list(result.missing_keys), list(result.unexpected_keys), target.weight]


def module_with(L, cls, *args, seed=0, **kwargs):
    L.manual_seed(seed)
    return getattr(L.nn, cls)(*args, **kwargs)


def pwn(L, dim=0, m=None):
    m = linear(L) if m is None else m
    PZ(L).weight_norm(m, dim=dim) if dim != "default" else PZ(L).weight_norm(m)
    return [type(m).__name__, names(m), sd(m), m.weight, m(L.tensor(X4)) if isinstance(m, L.nn.Linear) else None]


def pwn_conv(L):
    m = module_with(L, "Conv1d", 2, 3, 2)
    PZ(L).weight_norm(m)
    return [names(m), sd(m), m.weight, m(L.arange(10.0).reshape(1, 2, 5) / 10)]


def pwn_loads_old_keys(L):
    old = linear(L)
    L.nn.utils.weight_norm(old)
    with L.no_grad():
        old.weight_g.mul_(L.tensor([[2.0], [0.5], [1.5]]))
    new = linear(L, [[1.0] * 4] * 3)
    PZ(L).weight_norm(new)
    result = new.load_state_dict(old.state_dict())
    return [list(result.missing_keys), list(result.unexpected_keys), new.weight, sd(new)]


def pwn_remove(L):
    m = linear(L)
    PZ(L).weight_norm(m)
    with L.no_grad():
        m.parametrizations.weight.original0.mul_(2.0)
    P(L).remove_parametrizations(m, "weight")
    return [type(m).__name__, names(m), m.weight, type(m.weight).__name__]


def old_wn(L, dim=0):
    m = linear(L)
    L.nn.utils.weight_norm(m, dim=dim) if dim != "default" else L.nn.utils.weight_norm(m)
    return [names(m), sd(m), m.weight, type(m.weight).__name__, m.weight.requires_grad, m(L.tensor(X4))]


def old_wn_recompute(L):
    m = linear(L)
    L.nn.utils.weight_norm(m, name="weight")
    with L.no_grad():
        m.weight_g.mul_(L.tensor([[2.0], [0.5], [1.5]]))
        m.weight_v.add_(0.25)
    before = m.weight.clone()
    out = m(L.tensor(X4))
    return [before, m.weight, out]


def old_wn_remove(L):
    m = linear(L)
    L.nn.utils.weight_norm(m)
    with L.no_grad():
        m.weight_g.mul_(3.0)
    result = L.nn.utils.remove_weight_norm(m)
    return [result is m, names(m), m.weight, type(m.weight).__name__, len(m._forward_pre_hooks)]


def old_wn_bias(L):
    m = linear(L)
    L.nn.utils.weight_norm(m, name="bias")
    return [names(m), sd(m), m.bias]


def spectral_linear(L, train_calls=3, eval_calls=0, **kwargs):
    m = linear(L)
    L.manual_seed(0)
    PZ(L).spectral_norm(m, **kwargs)
    m.train()
    for _ in range(train_calls):
        m(L.tensor(X4))
    m.eval()
    out = [m(L.tensor(X4)) for _ in range(eval_calls)]
    return [type(m).__name__, names(m), sd(m), m.weight, out]


def spectral_module(L, cls, *args, old=False, **kwargs):
    m = module_with(L, cls, *args)
    L.manual_seed(1)
    (L.nn.utils.spectral_norm if old else PZ(L).spectral_norm)(m, **kwargs)
    return [names(m), [[k, tuple(v.shape)] for k, v in m.state_dict().items()]]


def spectral_bias(L):
    m = linear(L)
    PZ(L).spectral_norm(m, "bias")
    return [names(m), sd(m), m.bias]


def old_spectral(L, train_calls=3, eval_calls=0, **kwargs):
    m = linear(L)
    L.manual_seed(0)
    result = L.nn.utils.spectral_norm(m, **kwargs)
    before = m.weight.clone()
    m.train()
    for _ in range(train_calls):
        m(L.tensor(X4))
    m.eval()
    out = [m(L.tensor(X4)) for _ in range(eval_calls)]
    return [result is m, before, names(m), sd(m), m.weight, type(m.weight).__name__, out]


def old_spectral_remove(L):
    m = linear(L)
    L.manual_seed(0)
    L.nn.utils.spectral_norm(m)
    m(L.tensor(X4))
    m(L.tensor(X4))
    L.nn.utils.remove_spectral_norm(m)
    return [names(m), m.weight, type(m.weight).__name__, len(m._forward_pre_hooks)]


def is_orthogonal(L, Q):
    n, k = Q.shape[-2:]
    if n < k:
        Q = Q.mT
        k = n
    return bool((Q.mT @ Q).allclose(L.eye(k, dtype=Q.dtype), atol=1e-5))


def orth(L, weight=W33, **kwargs):
    m = linear(L, weight, [0.0] * len(weight))
    L.manual_seed(0)
    PZ(L).orthogonal(m, **kwargs)
    return [type(m).__name__, names(m), [[k, tuple(v.shape)] for k, v in m.state_dict().items()], tuple(m.weight.shape),
            is_orthogonal(L, m.weight), m.weight]


W53 = [[0.5, -1.2, 0.3], [-0.1, 0.8, -1.5], [1.1, -0.4, 0.9], [0.2, 0.3, -0.6], [0.7, 0.1, 0.4]]
W35 = [list(row) for row in zip(*W53)]


def orth_assign(L):
    m = linear(L, W33, [0.0] * 3)
    PZ(L).orthogonal(m)
    Q = L.tensor([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
    m.weight = Q
    return [m.weight, is_orthogonal(L, m.weight)]


def orth_after_step(L):
    m = linear(L, W33, [0.0] * 3)
    PZ(L).orthogonal(m, orthogonal_map="cayley")
    with L.no_grad():
        m.parametrizations.weight.original.add_(L.tensor(W33) * 0.1)
    return [is_orthogonal(L, m.weight), m.weight]


# prune helpers
W_PRUNE = [[0.5, -1.2, 0.3, 2.0], [-0.1, 0.8, -1.5, 0.05], [1.1, -0.4, 0.9, -0.7]]


def pruned(L, method, *args, **kwargs):
    m = linear(L, W_PRUNE)
    result = getattr(prune(L), method)(m, "weight", *args, **kwargs)
    hook = list(m._forward_pre_hooks.values())
    return [result is m, names(m), sd(m), m.weight, type(hook[0]).__name__ if hook else None, prune(L).is_pruned(m),
            m(L.tensor(X4))]


def pruned_twice(L, *steps):
    m = linear(L, W_PRUNE)
    for method, kwargs in steps:
        getattr(prune(L), method)(m, "weight", **kwargs)
    hooks = list(m._forward_pre_hooks.values())
    return [len(hooks), type(hooks[0]).__name__, len(hooks[0]) if hasattr(hooks[0], "__len__") else None,
            [type(each).__name__ for each in hooks[0]] if hasattr(hooks[0], "__iter__") else None, m.weight_mask, m.weight]


def pruned_random(L, method, *args, **kwargs):
    m = linear(L, W_PRUNE)
    L.manual_seed(5)
    getattr(prune(L), method)(m, "weight", *args, **kwargs)
    return [m.weight_mask, m.weight]


def prune_conv(L, **kwargs):
    m = module_with(L, "Conv2d", 2, 4, 2)
    prune(L).ln_structured(m, "weight", **kwargs)
    return [m.weight_mask, names(m)]


def prune_hook_recomputes(L):
    m = linear(L, W_PRUNE)
    prune(L).l1_unstructured(m, "weight", amount=4)
    with L.no_grad():
        m.weight_orig.fill_(1.0)
    stale = m.weight.clone()
    out = m(L.tensor(X4))
    return [stale, m.weight, out]


def prune_remove(L):
    m = linear(L, W_PRUNE)
    prune(L).l1_unstructured(m, "weight", amount=0.5)
    original = m.weight_orig
    result = prune(L).remove(m, "weight")
    return [result is m, names(m), sd(m), m.weight, m.weight is original, type(m.weight).__name__, prune(L).is_pruned(m),
            len(m._forward_pre_hooks)]


def prune_global(L, **kwargs):
    a = linear(L, W_PRUNE)
    b = linear(L, [[0.2, -0.05, 3.0, 0.6], [0.01, -0.9, 0.45, 1.3]], [0.0, 0.0])
    prune(L).global_unstructured([(a, "weight"), (b, "weight"), (b, "bias")], **{"pruning_method": prune(L).L1Unstructured,
                                                                                 **kwargs})
    return [a.weight_mask, b.weight_mask, b.bias_mask, names(a), names(b),
            type(list(b._forward_pre_hooks.values())[0]).__name__]


def prune_global_importance(L):
    a = linear(L, W_PRUNE)
    b = linear(L, [[0.2, -0.05, 3.0, 0.6], [0.01, -0.9, 0.45, 1.3]], [0.0, 0.0])
    scores = {(a, "weight"): L.arange(12.0).reshape(3, 4)}
    prune(L).global_unstructured([(a, "weight"), (b, "weight")], pruning_method=prune(L).L1Unstructured,
                                 importance_scores=scores, amount=6)
    return [a.weight_mask, b.weight_mask]


def prune_global_twice(L):
    a = linear(L, W_PRUNE)
    prune(L).l1_unstructured(a, "weight", amount=3)
    prune(L).global_unstructured([(a, "weight")], pruning_method=prune(L).L1Unstructured, amount=0.5)
    hooks = list(a._forward_pre_hooks.values())
    return [a.weight_mask, len(hooks), type(hooks[0]).__name__, len(hooks[0])]


def prune_nested_is_pruned(L):
    L.manual_seed(0)
    model = L.nn.Sequential(L.nn.Linear(3, 2), L.nn.Sequential(L.nn.Linear(2, 2)))
    before = prune(L).is_pruned(model)
    prune(L).identity(model[1][0], "bias")
    return [before, prune(L).is_pruned(model), prune(L).is_pruned(model[0]), names(model)]


def prune_method_direct(L):
    t = L.tensor(W_PRUNE)
    return [prune(L).L1Unstructured(amount=5).prune(t),
            prune(L).L1Unstructured(0.25).compute_mask(t, default_mask=L.ones_like(t)),
            prune(L).LnStructured(amount=1, n=1, dim=0).compute_mask(t, L.ones_like(t)),
            prune(L).CustomFromMask(L.tensor([[1.0, 0.0, 1.0, 0.0]] * 3)).prune(t),
            prune(L).Identity().prune(t),
            prune(L).L1Unstructured(2).prune(t, importance_scores=L.arange(12.0).reshape(3, 4)),
            prune(L).L1Unstructured.PRUNING_TYPE, prune(L).LnStructured.PRUNING_TYPE, prune(L).CustomFromMask.PRUNING_TYPE,
            prune(L).RandomStructured.PRUNING_TYPE]


def prune_hook_attributes(L):
    m = linear(L, W_PRUNE)
    prune(L).ln_structured(m, "weight", amount=0.5, n=2, dim=1)
    hook = list(m._forward_pre_hooks.values())[0]
    return [hook._tensor_name, hook.amount, hook.n, hook.dim, hook.PRUNING_TYPE]


def prune_load_state_dict(L):
    m = linear(L, W_PRUNE)
    prune(L).l1_unstructured(m, "weight", amount=5)
    target = linear(L, [[1.0] * 4] * 3)
    prune(L).identity(target, "weight")
    result = target.load_state_dict(m.state_dict())
    target(L.tensor(X4))
    return [list(result.missing_keys), list(result.unexpected_keys), target.weight_mask, target.weight]


def prune_float64(L):
    m = linear(L, W_PRUNE, dtype=L.float64)
    prune(L).l1_unstructured(m, "weight", amount=3)
    return [m.weight_mask, m.weight]


def prune_custom_mask(L, mask):
    m = linear(L, W_PRUNE)
    prune(L).custom_from_mask(m, "weight", mask=mask(L))
    return [names(m), m.weight_mask, m.weight, type(list(m._forward_pre_hooks.values())[0]).__name__]


# fusion helpers
def conv_bn(L, bias=True, affine=True, transpose=False, dtype=None):
    L.manual_seed(0)
    conv = (L.nn.ConvTranspose2d if transpose else L.nn.Conv2d)(2, 3, 2, bias=bias, dtype=dtype)
    bn = L.nn.BatchNorm2d(3, affine=affine, dtype=dtype)
    with L.no_grad():
        bn.running_mean.copy_(L.tensor([0.5, -0.2, 0.1]))
        bn.running_var.copy_(L.tensor([2.0, 0.5, 1.5]))
        if affine:
            bn.weight.copy_(L.tensor([1.5, -0.5, 0.8]))
            bn.bias.copy_(L.tensor([0.1, 0.2, -0.3]))
    conv.eval()
    bn.eval()
    return conv, bn


def fused_conv(L, **kwargs):
    conv, bn = conv_bn(L, **kwargs)
    fused = L.nn.utils.fuse_conv_bn_eval(conv, bn, transpose=kwargs.get("transpose", False))
    L.manual_seed(3)
    x = L.randn(1, 2, 4, 4, dtype=kwargs.get("dtype"))
    return [type(fused).__name__, fused is conv, fused.weight, fused.bias, type(fused.weight).__name__,
            fused.weight.requires_grad, fused.bias.requires_grad, fused(x), bn(conv(x)), conv.weight, fused.training]


def linear_bn(L, features=3, bias=True):
    m = linear(L, W34, B3 if bias else None)
    bn = L.nn.BatchNorm1d(features)
    with L.no_grad():
        bn.running_mean.copy_(L.tensor([0.5, -0.2, 0.1][:features]))
        bn.running_var.copy_(L.tensor([2.0, 0.5, 1.5][:features]))
        bn.weight.copy_(L.tensor([1.5, -0.5, 0.8][:features]))
        bn.bias.copy_(L.tensor([0.1, 0.2, -0.3][:features]))
    m.eval()
    bn.eval()
    return m, bn


def fused_linear(L, features=3, **kwargs):
    m, bn = linear_bn(L, features, **kwargs)
    fused = L.nn.utils.fuse_linear_bn_eval(m, bn)
    x = L.tensor(X4)
    reference = bn(m(x)) if features == 3 else (m(x) - bn.running_mean) / (bn.running_var + bn.eps).sqrt() * bn.weight + bn.bias
    return [type(fused).__name__, fused.weight, fused.bias, fused(x), reference, fused.bias.requires_grad]


def fuse_weights_direct(L):
    w = L.tensor(W34).reshape(3, 4, 1, 1)
    rm, rv = L.tensor([0.5, -0.2, 0.1]), L.tensor([2.0, 0.5, 1.5])
    a = L.nn.utils.fuse_conv_bn_weights(w, None, rm, rv, 1e-3, None, None)
    b = L.nn.utils.fuse_conv_bn_weights(w, L.tensor(B3), rm, rv, 1e-5, L.tensor([1.5, -0.5, 0.8]), L.tensor([0.1, 0.2, -0.3]))
    c = L.nn.utils.fuse_linear_bn_weights(L.tensor(W34), L.tensor(B3), rm, rv, 1e-5, L.tensor([1.5, -0.5, 0.8]),
                                          L.tensor([0.1, 0.2, -0.3]))
    return [type(a).__name__, list(a), type(a[0]).__name__, a[0].requires_grad, a[1].requires_grad, list(b), list(c)]


def skip_init_report(L, *args, **kwargs):
    L.manual_seed(7)
    m = L.nn.utils.skip_init(L.nn.Linear, *args, **kwargs)
    after = L.rand(3)
    return [type(m).__name__, names(m), [[k, str(v.dtype).split(".")[-1], tuple(v.shape)] for k, v in m.state_dict().items()],
            m.weight.requires_grad, type(m.weight).__name__, after, m.in_features, m.out_features]


def fc(L, params, args, kwargs=None, **options):
    m = linear(L)
    out = L.nn.utils.stateless.functional_call(m, params(L), args(L), kwargs, **options)
    return [out, m.weight, names(m)]


def fc_buffers(L):
    L.manual_seed(0)
    model = L.nn.Sequential(L.nn.Linear(3, 3), L.nn.BatchNorm1d(3))
    model.eval()
    replaced = {"1.running_mean": L.tensor([1.0, 2.0, 3.0]), "1.running_var": L.tensor([4.0, 1.0, 0.25])}
    out = L.nn.utils.stateless.functional_call(model, replaced, L.tensor(X3))
    return [out, model[1].running_mean, model(L.tensor(X3))]


def fc_module_kwargs(L):
    class Affine(L.nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = L.nn.Parameter(L.tensor(2.0))

        def forward(self, x, shift=0.0):
            return x * self.scale + shift
    m = Affine()
    return [L.nn.utils.stateless.functional_call(m, {"scale": L.tensor(-3.0)}, (L.tensor([1.0, 2.0]),), {"shift": 1.0}),
            L.nn.utils.stateless.functional_call(m, {}, L.tensor([1.0, 2.0]), {"shift": 0.5}),
            m.scale]


def fc_tied(L):
    class Tied(L.nn.Module):
        def __init__(self):
            super().__init__()
            self.a = L.nn.Linear(2, 2, bias=False)
            self.b = L.nn.Linear(2, 2, bias=False)
            self.b.weight = self.a.weight

        def forward(self, x):
            return self.b(self.a(x))
    L.manual_seed(0)
    m = Tied()
    w = L.tensor([[1.0, 2.0], [3.0, 4.0]])
    x = L.tensor([[1.0, -1.0]])
    return [L.nn.utils.stateless.functional_call(m, {"a.weight": w}, (x,)),
            L.nn.utils.stateless.functional_call(m, {"a.weight": w}, (x,), tie_weights=False),
            names(m)]


W_BATCH = [[[0.5, -1.2, 0.3], [-0.1, 0.8, -1.5], [1.1, -0.4, 0.9], [0.2, 0.3, -0.6]],
           [[1.0, 0.2, 0.0], [0.3, 1.0, 0.1], [0.0, 0.4, 1.0], [0.7, -0.2, 0.5]]]


def orth_batched(L, wide=False, **kwargs):
    class Holder(L.nn.Module):
        def __init__(self):
            super().__init__()
            w = L.tensor(W_BATCH)
            self.w = L.nn.Parameter(w.mT.contiguous() if wide else w)
    m = Holder()
    L.manual_seed(0)
    PZ(L).orthogonal(m, "w", **kwargs)
    return [[[k, tuple(v.shape)] for k, v in m.state_dict().items()], is_orthogonal(L, m.w[0]), is_orthogonal(L, m.w[1]), m.w]


def psn_remove(L):
    m = linear(L)
    L.manual_seed(0)
    PZ(L).spectral_norm(m)
    m(L.tensor(X4))
    expected = m.weight.detach().clone()
    P(L).remove_parametrizations(m, "weight")
    return [type(m).__name__, names(m), m.weight, expected]


def register_frozen(L):
    m = linear(L, W33)
    m.weight.requires_grad_(False)
    P(L).register_parametrization(m, "weight", symmetric(L))
    PZ(L).weight_norm(m, "bias")
    return [m.parametrizations.weight.original.requires_grad, m.weight.requires_grad, names(m),
            m.parametrizations.bias.original0.requires_grad, type(m.parametrizations.bias.original1).__name__]


def pwn_on_buffer(L):
    bn = L.nn.BatchNorm1d(3)
    with L.no_grad():
        bn.running_var.copy_(L.tensor([1.0, 2.0, 3.0]))
    PZ(L).weight_norm(bn, "running_var", dim=None)
    return [names(bn), bn.running_var, bn.parametrizations.running_var.original0]


def cached_nested(L):
    m = parametrized(L, scaled)
    with P(L).cached():
        with P(L).cached():
            inner = m.weight
        outer = m.weight
    after = m.weight
    return [inner is outer, outer is after, after]


def remove_on_buffer(L):
    bn = L.nn.BatchNorm1d(3)
    P(L).register_parametrization(bn, "running_mean", scaled(L))
    P(L).remove_parametrizations(bn, "running_mean", leave_parametrized=False)
    return [type(bn).__name__, names(bn), type(bn.running_mean).__name__, bn.running_mean]


def swalr_adam_last_epoch(L):
    p = L.nn.Parameter(L.zeros(2))
    opt = L.optim.Adam([p], lr=0.01)
    sched = swa(L).SWALR(opt, swa_lr=0.001, anneal_epochs=2)
    lrs = []
    for _ in range(3):
        opt.step()
        sched.step()
        lrs.append(sched.get_last_lr())
    opt2 = L.optim.SGD([{"params": [L.nn.Parameter(L.zeros(1))], "lr": 1.0, "initial_lr": 1.0}], lr=1.0)
    sched2 = swa(L).SWALR(opt2, swa_lr=0.1, anneal_epochs=4, last_epoch=3)
    resumed = [sched2.get_last_lr()]
    for _ in range(3):
        opt2.step()
        sched2.step()
        resumed.append(sched2.get_last_lr())
    return [lrs, sched.last_epoch, sched.base_lrs, resumed, sched2.last_epoch]


def averaged_requires_grad(L):
    L.manual_seed(0)
    m = L.nn.Linear(2, 2)
    m.bias.requires_grad_(False)
    a = swa(L).AveragedModel(m)
    return [[p.requires_grad for p in a.parameters()], a.n_averaged.requires_grad, a.n_averaged]


def update_bn_device(L):
    model = L.nn.Sequential(L.nn.BatchNorm1d(3))
    swa(L).update_bn([L.tensor(b) for b in BATCHES], model, device="cpu")
    return sd(model)


def prune_keeps_parameter_object(L):
    m = linear(L, W_PRUNE)
    weight = m.weight
    prune(L).identity(m, "weight")
    return [m.weight_orig is weight, type(m.weight).__name__, m.weight.requires_grad, m.weight.grad_fn is not None,
            m.weight_mask.requires_grad, str(m.weight_mask.dtype).split(".")[-1]]


def warning_kinds(run):
    """The categories of the warnings ``run(L)`` gives, each once, sorted by name."""
    def go(L):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            run(L)
        return sorted({w.category.__name__ for w in caught})
    return go


def swalr_get_lr_directly(L):
    opt = L.optim.SGD([L.nn.Parameter(L.zeros(2))], lr=1.0)
    sched = swa(L).SWALR(opt, swa_lr=0.1)
    return sched.get_lr()


_VALUES = {
    # SWALR
    "swalr_cos_default": lambda L: swalr_lrs(L, steps=12, swa_lr=0.1),
    "swalr_linear_3_epochs": lambda L: swalr_lrs(L, swa_lr=0.05, anneal_epochs=3, anneal_strategy="linear"),
    "swalr_cos_5_epochs_two_groups": lambda L: swalr_lrs(L, groups=2, swa_lr=[0.1, 0.3], anneal_epochs=5),
    "swalr_anneal_epochs_0": lambda L: swalr_lrs(L, steps=3, swa_lr=0.2, anneal_epochs=0),
    "swalr_anneal_epochs_1_linear": lambda L: swalr_lrs(L, steps=3, swa_lr=0.2, anneal_epochs=1, anneal_strategy="linear"),
    "swalr_swa_lr_above_lr": lambda L: swalr_lrs(L, steps=4, swa_lr=2.0, anneal_epochs=2),
    "swalr_positional_args": lambda L: swalr_lrs(L, 5, 1, 0.5, 2, "linear"),
    "swalr_swa_lr_tuple": lambda L: swalr_lrs(L, steps=2, groups=2, swa_lr=(0.1, 0.2), anneal_epochs=2),
    "swalr_state_dict_round_trip": swalr_state_round_trip,
    "swalr_after_other_scheduler": lambda L: (lambda opt: (lambda first: (
        [first.step() or first.get_last_lr() for _ in range(3)],
        (lambda second: [second.step() or second.get_last_lr() for _ in range(4)])(
            swa(L).SWALR(opt, swa_lr=0.01, anneal_epochs=3)))[1:] + (
        [first.get_last_lr()],))(L.optim.lr_scheduler.StepLR(opt, 1, gamma=0.5)))(
        L.optim.SGD([L.nn.Parameter(L.zeros(1))], lr=1.0)),
    # update_bn
    "update_bn_tensors": lambda L: update_bn_run(L, "tensors"),
    "update_bn_tuples": lambda L: update_bn_run(L, "tuples"),
    "update_bn_lists_train_mode_kept": lambda L: update_bn_run(L, "lists", train=True),
    "update_bn_dataloader": lambda L: update_bn_run(L, "dataloader"),
    "update_bn_conv_nested": update_bn_conv,
    "update_bn_averaged_model": update_bn_averaged,
    "update_bn_no_batch_norm": update_bn_no_bn,
    # AveragedModel structure
    "averaged_model_structure": lambda L: (lambda a: [names(a), type(a.module).__name__, a.use_buffers, a.avg_fn, a.multi_avg_fn,
                                                      a.n_averaged, repr(a)])(swa(L).AveragedModel(swa_net(L))),
    "averaged_model_is_deep_copy": lambda L: (lambda model: (lambda a: (
        model[0].weight.data.fill_(5.0), [a.module[0].weight is model[0].weight, a.module[0].weight]))(
        swa(L).AveragedModel(model))[1])(swa_net(L)),
    "averaged_model_forward_train_eval": lambda L: (lambda a: [a(L.tensor(X3)), a.eval()(L.tensor(X3)), a.module.training])(
        swa_steps(L, steps=2)),
    "averaged_model_load_state_dict": lambda L: (lambda a, b: (b.load_state_dict(a.state_dict()), sd(b))[1])(
        swa_steps(L, steps=3), swa(L).AveragedModel(swa_net(L))),
    # parametrize
    "register_symmetric": lambda L: register_report(L, parametrized(L, symmetric)),
    "register_returns_module": lambda L: (lambda m: P(L).register_parametrization(m, "weight", symmetric(L)) is m)(linear(L, W33)),
    "register_repr": lambda L: repr(parametrized(L, symmetric)),
    "register_right_inverse_and_assign": right_inverse_assign,
    "register_unsafe_shape_change": lambda L: (lambda m: [m.weight, names(m), sd(m), L.nn.functional.linear(
        L.tensor(X4)[:, :2], m.weight, m.bias)])(parametrized(L, first_two_columns, weight=W34, unsafe=True)),
    "register_unsafe_dtype_change": lambda L: (lambda m: [m.weight, m.parametrizations.weight.original, m.parametrizations.weight.unsafe])(
        parametrized(L, to_double, unsafe=True)),
    "register_chained": chained,
    "register_on_buffer": buffer_parametrized,
    "register_split_originals": split_report,
    "register_split_remove_leave_parametrized": split_remove,
    "remove_leave_parametrized_true": lambda L: remove_report(L, True, symmetric),
    "remove_leave_parametrized_false": lambda L: remove_report(L, False, symmetric),
    "remove_right_inverse_leave_false": lambda L: remove_report(L, False, scaled),
    "remove_chained_leave_true": lambda L: remove_report(L, True, symmetric, scaled),
    "remove_one_of_two_tensors": two_tensors_remove_one,
    "cached_computes_once": cached_counts,
    "parametrization_takes_module_mode": eval_at_register,
    "parametrization_follows_train": train_mode_follows,
    "type_before_parametrizations": lambda L: [P(L).type_before_parametrizations(parametrized(L, symmetric)).__name__,
                                               P(L).type_before_parametrizations(linear(L)).__name__],
    "transfer_parametrizations": transfer,
    "transfer_parametrizations_creates_param": transfer_creates,
    "deepcopy_parametrized": deepcopied,
    "load_state_dict_parametrized": load_into_parametrized,
    "parametrizations_weight_original_attr": lambda L: (lambda m: [m.parametrizations["weight"].original,
                                                                   list(m.parametrizations.keys()),
                                                                   [type(each).__name__ for each in m.parametrizations.weight]])(
        parametrized(L, symmetric, scaled)),
    # parametrizations.weight_norm
    "pwn_dim0": lambda L: pwn(L, 0),
    "pwn_default_dim": lambda L: pwn(L, "default"),
    "pwn_dim1": lambda L: pwn(L, 1),
    "pwn_dim_none": lambda L: pwn(L, None),
    "pwn_dim_minus1_is_whole_tensor": lambda L: pwn(L, -1),
    "pwn_conv1d": pwn_conv,
    "pwn_loads_old_weight_g_weight_v": pwn_loads_old_keys,
    "pwn_remove": pwn_remove,
    "pwn_repr": lambda L: (lambda m: (PZ(L).weight_norm(m), repr(m))[1])(linear(L)),
    # old weight_norm
    "old_wn_dim0": lambda L: old_wn(L, 0),
    "old_wn_default": lambda L: old_wn(L, "default"),
    "old_wn_dim1": lambda L: old_wn(L, 1),
    "old_wn_dim_none": lambda L: old_wn(L, None),
    "old_wn_forward_recomputes": old_wn_recompute,
    "old_wn_remove": old_wn_remove,
    "old_wn_on_bias": old_wn_bias,
    # parametrizations.spectral_norm
    "psn_three_train_calls": lambda L: spectral_linear(L),
    "psn_no_calls": lambda L: spectral_linear(L, train_calls=0),
    "psn_eval_keeps_vectors": lambda L: spectral_linear(L, train_calls=2, eval_calls=2),
    "psn_n_power_iterations_3": lambda L: spectral_linear(L, n_power_iterations=3),
    "psn_dim1": lambda L: spectral_linear(L, dim=1),
    "psn_dim_minus1": lambda L: spectral_linear(L, dim=-1),
    "psn_eps": lambda L: spectral_linear(L, train_calls=1, eps=0.5),
    "psn_conv2d_shapes": lambda L: spectral_module(L, "Conv2d", 2, 3, 2),
    "psn_conv_transpose2d_dim1": lambda L: spectral_module(L, "ConvTranspose2d", 2, 3, 2),
    "psn_conv_transpose1d_dim1": lambda L: spectral_module(L, "ConvTranspose1d", 2, 5, 2),
    "psn_on_1d_bias": spectral_bias,
    # old spectral_norm
    "old_sn_three_train_calls": lambda L: old_spectral(L),
    "old_sn_eval": lambda L: old_spectral(L, train_calls=1, eval_calls=2),
    "old_sn_n_power_iterations_2_dim1": lambda L: old_spectral(L, n_power_iterations=2, dim=1),
    "old_sn_remove": old_spectral_remove,
    "old_sn_conv_transpose2d_dim1": lambda L: spectral_module(L, "ConvTranspose2d", 2, 3, 2, old=True),
    "old_sn_conv2d": lambda L: spectral_module(L, "Conv2d", 2, 3, 2, old=True),
    # orthogonal
    "orth_square_matrix_exp": lambda L: orth(L),
    "orth_square_cayley": lambda L: orth(L, orthogonal_map="cayley"),
    "orth_square_householder": lambda L: orth(L, orthogonal_map="householder"),
    "orth_tall_default_householder": lambda L: orth(L, W53),
    "orth_wide_default_householder": lambda L: orth(L, W35),
    "orth_tall_matrix_exp": lambda L: orth(L, W53, orthogonal_map="matrix_exp"),
    "orth_wide_cayley": lambda L: orth(L, W35, orthogonal_map="cayley"),
    "orth_no_trivialization_matrix_exp": lambda L: orth(L, orthogonal_map="matrix_exp", use_trivialization=False),
    "orth_no_trivialization_cayley_tall": lambda L: orth(L, W53, orthogonal_map="cayley", use_trivialization=False),
    "orth_assign_orthogonal": orth_assign,
    "orth_stays_orthogonal_after_step": orth_after_step,
    # prune
    "l1_unstructured_int": lambda L: pruned(L, "l1_unstructured", 3),
    "l1_unstructured_float": lambda L: pruned(L, "l1_unstructured", amount=0.35),
    "l1_unstructured_round_half_even": lambda L: pruned(L, "l1_unstructured", amount=0.125),
    "l1_unstructured_zero": lambda L: pruned(L, "l1_unstructured", amount=0),
    "l1_unstructured_all": lambda L: pruned(L, "l1_unstructured", amount=1.0),
    "l1_unstructured_importance": lambda L: pruned(L, "l1_unstructured", 4, importance_scores=L.arange(12.0).reshape(3, 4)),
    "l1_unstructured_bias": lambda L: (lambda m: (prune(L).l1_unstructured(m, "bias", 1), [names(m), m.bias, m.bias_mask])[1])(
        linear(L, W_PRUNE)),
    "l1_unstructured_float64": prune_float64,
    "random_unstructured_seeded": lambda L: pruned_random(L, "random_unstructured", amount=5),
    "random_unstructured_float": lambda L: pruned_random(L, "random_unstructured", 0.5),
    "random_structured_seeded": lambda L: pruned_random(L, "random_structured", amount=2, dim=1),
    "random_structured_dim0": lambda L: pruned_random(L, "random_structured", 0.34, 0),
    "ln_structured_l2_dim0": lambda L: pruned(L, "ln_structured", amount=1, n=2, dim=0),
    "ln_structured_l1_dim1_float": lambda L: pruned(L, "ln_structured", amount=0.5, n=1, dim=1),
    "ln_structured_inf_dim_minus1": lambda L: pruned(L, "ln_structured", amount=2, n=INF, dim=-1),
    "ln_structured_importance": lambda L: pruned(L, "ln_structured", 1, 2, 0,
                                                 importance_scores=L.tensor([[9.0] * 4, [0.1] * 4, [5.0] * 4])),
    "ln_structured_conv_dim0": lambda L: prune_conv(L, amount=2, n=2, dim=0),
    "ln_structured_conv_dim1_l1": lambda L: prune_conv(L, amount=1, n=1, dim=1),
    "identity": lambda L: pruned(L, "identity"),
    "custom_from_mask_float": lambda L: prune_custom_mask(L, lambda L: L.tensor([[1.0, 0.0, 1.0, 0.0]] * 3)),
    "custom_from_mask_bool": lambda L: prune_custom_mask(L, lambda L: L.tensor([[True, False, True, True]] * 3)),
    "prune_twice_l1": lambda L: pruned_twice(L, ("l1_unstructured", {"amount": 0.5}), ("l1_unstructured", {"amount": 0.5})),
    "prune_l1_then_ln_structured": lambda L: pruned_twice(L, ("l1_unstructured", {"amount": 4}),
                                                          ("ln_structured", {"amount": 1, "n": 1, "dim": 0})),
    "prune_three_times": lambda L: pruned_twice(L, ("identity", {}), ("l1_unstructured", {"amount": 2}),
                                                ("custom_from_mask", {"mask": L.tensor([[0.0, 1.0, 1.0, 1.0]] * 3)})),
    "prune_forward_pre_hook": prune_hook_recomputes,
    "prune_remove": prune_remove,
    "global_unstructured_int": lambda L: prune_global(L, amount=8),
    "global_unstructured_float": lambda L: prune_global(L, amount=0.3),
    "global_unstructured_importance": prune_global_importance,
    "global_unstructured_after_prune": prune_global_twice,
    "is_pruned_nested": prune_nested_is_pruned,
    "pruning_methods_direct": prune_method_direct,
    "prune_hook_attributes": prune_hook_attributes,
    "prune_load_state_dict": prune_load_state_dict,
    # fusion
    "fuse_conv_bn": lambda L: fused_conv(L),
    "fuse_conv_bn_no_bias": lambda L: fused_conv(L, bias=False),
    "fuse_conv_bn_no_affine": lambda L: fused_conv(L, affine=False),
    "fuse_conv_transpose_bn": lambda L: fused_conv(L, transpose=True),
    "fuse_conv_bn_float64": lambda L: fused_conv(L, dtype=L.float64),
    "fuse_linear_bn": lambda L: fused_linear(L),
    "fuse_linear_bn_no_bias": lambda L: fused_linear(L, bias=False),
    "fuse_linear_bn_one_feature": lambda L: fused_linear(L, features=1),
    "fuse_weights_direct": fuse_weights_direct,
    # skip_init
    "skip_init_positional": lambda L: skip_init_report(L, 3, 4),
    "skip_init_keywords_dtype": lambda L: skip_init_report(L, in_features=2, out_features=5, bias=False, dtype=L.float64),
    "skip_init_device_cpu": lambda L: skip_init_report(L, 3, 4, device="cpu"),
    # stateless.functional_call
    "functional_call_all_params": lambda L: fc(L, lambda L: {"weight": L.ones(3, 4), "bias": L.tensor([1.0, 2.0, 3.0])},
                                               lambda L: (L.tensor(X4),)),
    "functional_call_partial_single_arg": lambda L: fc(L, lambda L: {"bias": L.zeros(3)}, lambda L: L.tensor(X4)),
    "functional_call_strict_all_given": lambda L: fc(L, lambda L: {"weight": L.ones(3, 4), "bias": L.zeros(3)},
                                                     lambda L: (L.tensor(X4),), strict=True),
    "functional_call_buffers": fc_buffers,
    "functional_call_kwargs": fc_module_kwargs,
    "functional_call_tied": fc_tied,
    # warnings
    "warns_old_weight_norm": warning_kinds(lambda L: L.nn.utils.weight_norm(linear(L))),
    "warns_not_parametrizations_weight_norm": warning_kinds(lambda L: PZ(L).weight_norm(linear(L))),
    "warns_stateless_functional_call": warning_kinds(lambda L: L.nn.utils.stateless.functional_call(
        linear(L), {}, (L.tensor(X4),))),
    "warns_swalr_get_lr_outside_step": warning_kinds(swalr_get_lr_directly),
    "warns_not_swalr_steps": warning_kinds(lambda L: swalr_lrs(L, steps=3, swa_lr=0.1)),
    "warns_not_averaged_model": warning_kinds(lambda L: swa_steps(L, steps=2)),
    "warns_not_old_spectral_norm": warning_kinds(lambda L: old_spectral(L)),
    "warns_not_prune": warning_kinds(lambda L: pruned(L, "l1_unstructured", 3)),
    "warns_not_fuse": warning_kinds(lambda L: fused_conv(L)),
    "orth_batched_tall_householder": lambda L: orth_batched(L),
    "orth_batched_wide_cayley": lambda L: orth_batched(L, wide=True, orthogonal_map="cayley"),
    "orth_batched_tall_matrix_exp": lambda L: orth_batched(L, orthogonal_map="matrix_exp"),
    "psn_remove_parametrizations": psn_remove,
    "register_frozen_parameter": register_frozen,
    "pwn_on_buffer": pwn_on_buffer,
    "cached_nested": cached_nested,
    "remove_on_buffer_leave_false": remove_on_buffer,
    "swalr_adam_and_last_epoch": swalr_adam_last_epoch,
    "averaged_model_requires_grad": averaged_requires_grad,
    "update_bn_device_cpu": update_bn_device,
    "prune_keeps_parameter_object": prune_keeps_parameter_object,
    "swalr_get_lr_directly_value": swalr_get_lr_directly,
}


VALUE_CASES = grouped(_VALUES, {
    "swalr_schedules": ["swalr_cos_default", "swalr_linear_3_epochs", "swalr_anneal_epochs_0", "swalr_anneal_epochs_1_linear",
                        "swalr_swa_lr_above_lr"],
    "swalr_groups_and_arguments": ["swalr_cos_5_epochs_two_groups", "swalr_positional_args", "swalr_swa_lr_tuple",
                                   "swalr_adam_and_last_epoch"],
    "swalr_state_and_chaining": ["swalr_state_dict_round_trip", "swalr_after_other_scheduler", "swalr_get_lr_directly_value"],
    "update_bn_loaders": ["update_bn_tensors", "update_bn_tuples", "update_bn_lists_train_mode_kept", "update_bn_dataloader"],
    "update_bn_models": ["update_bn_conv_nested", "update_bn_averaged_model", "update_bn_no_batch_norm", "update_bn_device_cpu"],
    "averaged_model_structure": ["averaged_model_structure", "averaged_model_is_deep_copy", "averaged_model_requires_grad"],
    "averaged_model_forward_and_load": ["averaged_model_forward_train_eval", "averaged_model_load_state_dict"],
    "register_parametrization": ["register_symmetric", "register_returns_module", "register_repr"],
    "register_right_inverse": ["register_right_inverse_and_assign"],
    "register_unsafe": ["register_unsafe_shape_change", "register_unsafe_dtype_change"],
    "register_chained_buffer_frozen": ["register_chained", "register_on_buffer", "register_frozen_parameter"],
    "register_several_originals": ["register_split_originals", "register_split_remove_leave_parametrized"],
    "remove_parametrizations": ["remove_leave_parametrized_true", "remove_leave_parametrized_false",
                                "remove_right_inverse_leave_false"],
    "remove_parametrizations_more": ["remove_chained_leave_true", "remove_one_of_two_tensors", "remove_on_buffer_leave_false"],
    "cached": ["cached_computes_once", "cached_nested"],
    "parametrize_modes_and_types": ["parametrization_takes_module_mode", "parametrization_follows_train",
                                    "type_before_parametrizations", "parametrizations_weight_original_attr"],
    "transfer_parametrizations": ["transfer_parametrizations", "transfer_parametrizations_creates_param"],
    "parametrized_deepcopy_and_load": ["deepcopy_parametrized", "load_state_dict_parametrized"],
    "weight_norm_dims": ["pwn_dim0", "pwn_default_dim", "pwn_dim1", "pwn_dim_none", "pwn_dim_minus1_is_whole_tensor"],
    "weight_norm_modules": ["pwn_conv1d", "pwn_on_buffer", "pwn_repr"],
    "weight_norm_old_keys_and_remove": ["pwn_loads_old_weight_g_weight_v", "pwn_remove"],
    "old_weight_norm_dims": ["old_wn_dim0", "old_wn_default", "old_wn_dim1", "old_wn_dim_none"],
    "old_weight_norm_hook_and_remove": ["old_wn_forward_recomputes", "old_wn_remove", "old_wn_on_bias"],
    "spectral_norm_train_eval": ["psn_three_train_calls", "psn_no_calls", "psn_eval_keeps_vectors"],
    "spectral_norm_options": ["psn_n_power_iterations_3", "psn_dim1", "psn_dim_minus1", "psn_eps"],
    "spectral_norm_modules": ["psn_conv2d_shapes", "psn_conv_transpose2d_dim1", "psn_conv_transpose1d_dim1", "psn_on_1d_bias",
                              "psn_remove_parametrizations"],
    "old_spectral_norm": ["old_sn_three_train_calls", "old_sn_eval", "old_sn_n_power_iterations_2_dim1"],
    "old_spectral_norm_remove_and_modules": ["old_sn_remove", "old_sn_conv_transpose2d_dim1", "old_sn_conv2d"],
    "orthogonal_square": ["orth_square_matrix_exp", "orth_square_cayley", "orth_square_householder"],
    "orthogonal_rectangular": ["orth_tall_default_householder", "orth_wide_default_householder", "orth_tall_matrix_exp",
                               "orth_wide_cayley"],
    "orthogonal_no_trivialization": ["orth_no_trivialization_matrix_exp", "orth_no_trivialization_cayley_tall"],
    "orthogonal_batched": ["orth_batched_tall_householder", "orth_batched_wide_cayley", "orth_batched_tall_matrix_exp"],
    "orthogonal_assign_and_step": ["orth_assign_orthogonal", "orth_stays_orthogonal_after_step"],
    "l1_unstructured_amounts": ["l1_unstructured_int", "l1_unstructured_float", "l1_unstructured_round_half_even",
                                "l1_unstructured_zero", "l1_unstructured_all"],
    "l1_unstructured_options": ["l1_unstructured_importance", "l1_unstructured_bias", "l1_unstructured_float64"],
    "random_pruning_seeded": ["random_unstructured_seeded", "random_unstructured_float", "random_structured_seeded",
                              "random_structured_dim0"],
    "ln_structured": ["ln_structured_l2_dim0", "ln_structured_l1_dim1_float", "ln_structured_inf_dim_minus1",
                      "ln_structured_importance"],
    "ln_structured_conv": ["ln_structured_conv_dim0", "ln_structured_conv_dim1_l1"],
    "identity_and_custom_mask": ["identity", "custom_from_mask_float", "custom_from_mask_bool", "prune_keeps_parameter_object"],
    "repeated_pruning": ["prune_twice_l1", "prune_l1_then_ln_structured", "prune_three_times"],
    "prune_hook_and_remove": ["prune_forward_pre_hook", "prune_remove", "prune_hook_attributes"],
    "global_unstructured": ["global_unstructured_int", "global_unstructured_float", "global_unstructured_importance",
                            "global_unstructured_after_prune"],
    "prune_methods_and_state": ["is_pruned_nested", "pruning_methods_direct", "prune_load_state_dict"],
    "fuse_conv_bn": ["fuse_conv_bn", "fuse_conv_bn_no_bias", "fuse_conv_bn_no_affine"],
    "fuse_conv_transpose_and_float64": ["fuse_conv_transpose_bn", "fuse_conv_bn_float64"],
    "fuse_linear_bn": ["fuse_linear_bn", "fuse_linear_bn_no_bias", "fuse_linear_bn_one_feature", "fuse_weights_direct"],
    "skip_init": ["skip_init_positional", "skip_init_keywords_dtype", "skip_init_device_cpu"],
    "functional_call_params": ["functional_call_all_params", "functional_call_partial_single_arg",
                               "functional_call_strict_all_given"],
    "functional_call_buffers_kwargs_tied": ["functional_call_buffers", "functional_call_kwargs", "functional_call_tied"],
    "warnings_given": ["warns_old_weight_norm", "warns_stateless_functional_call", "warns_swalr_get_lr_outside_step"],
    "warnings_not_given": ["warns_not_parametrizations_weight_norm", "warns_not_swalr_steps", "warns_not_averaged_model",
                           "warns_not_old_spectral_norm", "warns_not_prune", "warns_not_fuse"],
})


@pytest.mark.parametrize("run", list(VALUE_CASES.values()), ids=list(VALUE_CASES))
def test_same_values(run):
    same_in_both(run)


# --- bad input: PyTorch's exception type ---------------------------------------------------------

def swalr_with(L, **kwargs):
    opt = L.optim.SGD([L.nn.Parameter(L.zeros(2))], lr=1.0)
    return swa(L).SWALR(opt, **kwargs)


_RAISES = {
    # swa_utils
    "averaged_model_both_fns": lambda L: swa(L).AveragedModel(swa_net(L), avg_fn=swa(L).get_ema_avg_fn(),
                                                              multi_avg_fn=swa(L).get_ema_multi_avg_fn()),
    "ema_multi_decay_above_1": lambda L: swa(L).get_ema_multi_avg_fn(1.5),
    "ema_avg_decay_negative": lambda L: swa(L).get_ema_avg_fn(-0.1),
    "swalr_bad_strategy": lambda L: swalr_with(L, swa_lr=0.1, anneal_strategy="exp"),
    "swalr_negative_epochs": lambda L: swalr_with(L, swa_lr=0.1, anneal_epochs=-1),
    "swalr_float_epochs": lambda L: swalr_with(L, swa_lr=0.1, anneal_epochs=2.0),
    "swalr_swa_lr_wrong_length": lambda L: swalr_with(L, swa_lr=[0.1, 0.2]),
    "swalr_no_swa_lr": lambda L: swalr_with(L),
    "swa_multi_int_tensor_n": lambda L: swa(L).get_swa_multi_avg_fn()([L.tensor([1, 2])], [L.tensor([4, -1])], L.tensor(1)),
    "use_buffers_multi_swa_int_buffer": lambda L: swa_steps(L, use_buffers=True, multi_avg_fn=swa(L).get_swa_multi_avg_fn()),
    "swa_multi_int_python_n": lambda L: swa(L).get_swa_multi_avg_fn()([L.tensor([1, 2])], [L.tensor([4, -1])], 1),
    # parametrize
    "register_missing_name": lambda L: P(L).register_parametrization(linear(L), "kernel", symmetric(L)),
    "register_shape_change_safe": lambda L: parametrized(L, first_two_columns, weight=W34),
    "register_dtype_change_safe": lambda L: parametrized(L, to_double),
    "register_returns_non_tensor": lambda L: parametrized(L, to_list),
    "register_second_shape_change": lambda L: parametrized(L, symmetric, first_two_columns),
    "assign_without_right_inverse": lambda L: setattr(parametrized(L, symmetric), "weight", L.ones(3, 3)),
    "remove_not_parametrized": lambda L: P(L).remove_parametrizations(linear(L), "weight"),
    "remove_other_name": lambda L: P(L).remove_parametrizations(parametrized(L, symmetric), "bias"),
    "remove_split_leave_false": lambda L: P(L).remove_parametrizations(parametrized(L, split_sum), "weight",
                                                                      leave_parametrized=False),
    "parametrization_list_empty": lambda L: P(L).ParametrizationList([], L.nn.Parameter(L.ones(2))),
    # parametrizations
    "psn_zero_power_iterations": lambda L: PZ(L).spectral_norm(linear(L), n_power_iterations=0),
    "psn_dim_out_of_range": lambda L: PZ(L).spectral_norm(linear(L), dim=2),
    "psn_missing_name": lambda L: PZ(L).spectral_norm(linear(L), "kernel"),
    "orth_1d": lambda L: PZ(L).orthogonal(linear(L), "bias"),
    "orth_bad_map": lambda L: PZ(L).orthogonal(linear(L, W33), orthogonal_map="qr"),
    "orth_missing_name": lambda L: PZ(L).orthogonal(linear(L, W33), "kernel"),
    "orth_assign_wrong_shape": lambda L: setattr(PZ(L).orthogonal(linear(L, W33)), "weight", L.eye(2)),
    "orth_assign_no_trivialization": lambda L: setattr(PZ(L).orthogonal(linear(L, W33), use_trivialization=False),
                                                       "weight", L.eye(3)),
    "old_wn_twice": lambda L: L.nn.utils.weight_norm(L.nn.utils.weight_norm(linear(L))),
    "old_wn_remove_missing": lambda L: L.nn.utils.remove_weight_norm(linear(L)),
    "old_sn_twice": lambda L: L.nn.utils.spectral_norm(L.nn.utils.spectral_norm(linear(L))),
    "old_sn_remove_missing": lambda L: L.nn.utils.remove_spectral_norm(linear(L)),
    "old_sn_zero_power_iterations": lambda L: L.nn.utils.spectral_norm(linear(L), n_power_iterations=0),
    "old_sn_no_bias": lambda L: L.nn.utils.spectral_norm(linear(L, bias=None), "bias"),
    # prune
    "prune_amount_too_big": lambda L: prune(L).l1_unstructured(linear(L), "weight", amount=13),
    "prune_amount_negative": lambda L: prune(L).l1_unstructured(linear(L), "weight", amount=-1),
    "prune_amount_above_1": lambda L: prune(L).l1_unstructured(linear(L), "weight", amount=1.5),
    "prune_amount_string": lambda L: prune(L).l1_unstructured(linear(L), "weight", amount="half"),
    "prune_importance_shape": lambda L: prune(L).l1_unstructured(linear(L), "weight", 1, importance_scores=L.ones(2, 2)),
    "ln_structured_1d": lambda L: prune(L).ln_structured(linear(L), "bias", amount=1, n=2, dim=0),
    "ln_structured_dim_out_of_range": lambda L: prune(L).ln_structured(linear(L), "weight", amount=1, n=2, dim=2),
    "ln_structured_too_many": lambda L: prune(L).ln_structured(linear(L), "weight", amount=4, n=2, dim=0),
    "random_structured_1d": lambda L: prune(L).random_structured(linear(L), "bias", amount=1, dim=0),
    "prune_missing_name": lambda L: prune(L).l1_unstructured(linear(L), "kernel", amount=1),
    "prune_remove_unpruned": lambda L: prune(L).remove(linear(L), "weight"),
    "custom_mask_wrong_shape": lambda L: prune(L).custom_from_mask(linear(L), "weight", mask=L.ones(2, 2)),
    "global_structured_method": lambda L: prune(L).global_unstructured([(linear(L), "weight")],
                                                                      pruning_method=prune(L).RandomStructured, amount=1),
    "global_not_iterable": lambda L: prune(L).global_unstructured(5, pruning_method=prune(L).L1Unstructured, amount=1),
    "global_importance_not_dict": lambda L: prune(L).global_unstructured([(linear(L), "weight")],
                                                                        pruning_method=prune(L).L1Unstructured,
                                                                        importance_scores=[1], amount=1),
    "global_amount_too_big": lambda L: prune(L).global_unstructured([(linear(L), "weight")],
                                                                   pruning_method=prune(L).L1Unstructured, amount=100),
    "container_add_wrong_name": lambda L: (lambda a, b: (setattr(a, "_tensor_name", "weight"), setattr(b, "_tensor_name", "bias"),
                                                         prune(L).PruningContainer(a).add_pruning_method(b)))(
        prune(L).Identity(), prune(L).Identity()),
    "container_add_non_method": lambda L: (lambda a: (setattr(a, "_tensor_name", "weight"),
                                                      prune(L).PruningContainer(a).add_pruning_method(5)))(prune(L).Identity()),
    # fusion
    "fuse_conv_training": lambda L: (lambda conv, bn: L.nn.utils.fuse_conv_bn_eval(conv.train(), bn))(*conv_bn(L)),
    "fuse_conv_bn_training": lambda L: (lambda conv, bn: L.nn.utils.fuse_conv_bn_eval(conv, bn.train()))(*conv_bn(L)),
    "fuse_linear_training": lambda L: (lambda m, bn: L.nn.utils.fuse_linear_bn_eval(m.train(), bn))(*linear_bn(L)),
    "fuse_linear_feature_mismatch": lambda L: (lambda m, bn: L.nn.utils.fuse_linear_bn_eval(m, bn))(
        linear(L).eval(), L.nn.BatchNorm1d(2).eval()),
    "fuse_no_running_stats": lambda L: (lambda conv, bn: L.nn.utils.fuse_conv_bn_eval(conv, bn))(
        conv_bn(L)[0], L.nn.BatchNorm2d(3, track_running_stats=False).eval()),
    # skip_init
    "skip_init_not_module_class": lambda L: L.nn.utils.skip_init(int),
    "skip_init_no_device_arg": lambda L: L.nn.utils.skip_init(L.nn.ReLU),
    # stateless.functional_call
    "functional_call_strict_missing": lambda L: L.nn.utils.stateless.functional_call(
        linear(L), {"weight": L.ones(3, 4)}, (L.tensor(X4),), strict=True),
    "functional_call_strict_unexpected": lambda L: L.nn.utils.stateless.functional_call(
        linear(L), {"weight": L.ones(3, 4), "bias": L.zeros(3), "extra": L.zeros(1)}, (L.tensor(X4),), strict=True),
    "functional_call_tied_conflict": lambda L: (lambda m: L.nn.utils.stateless.functional_call(
        m, {"0.weight": L.ones(2, 2), "1.weight": L.zeros(2, 2)}, (L.ones(1, 2),)))(
        (lambda a: L.nn.Sequential(a, a))(L.nn.Linear(2, 2))),
    "functional_call_wrong_shape": lambda L: L.nn.utils.stateless.functional_call(linear(L), {"weight": L.ones(2, 2)},
                                                                                 (L.tensor(X4),)),
}


RAISES_GROUPS = {
    "averaged_model_and_ema_args": ["averaged_model_both_fns", "ema_multi_decay_above_1", "ema_avg_decay_negative"],
    "swalr_args": ["swalr_bad_strategy", "swalr_negative_epochs", "swalr_float_epochs", "swalr_swa_lr_wrong_length",
                   "swalr_no_swa_lr"],
    "swa_multi_avg_fn_integers": ["swa_multi_int_tensor_n", "use_buffers_multi_swa_int_buffer", "swa_multi_int_python_n"],
    "register_checks": ["register_missing_name", "register_shape_change_safe", "register_dtype_change_safe",
                        "register_returns_non_tensor", "register_second_shape_change"],
    "parametrize_assign_and_remove": ["assign_without_right_inverse", "remove_not_parametrized", "remove_other_name",
                                      "remove_split_leave_false", "parametrization_list_empty"],
    "spectral_norm_args": ["psn_zero_power_iterations", "psn_dim_out_of_range", "psn_missing_name", "old_sn_twice",
                           "old_sn_remove_missing", "old_sn_zero_power_iterations", "old_sn_no_bias"],
    "orthogonal_args": ["orth_1d", "orth_bad_map", "orth_missing_name", "orth_assign_wrong_shape",
                        "orth_assign_no_trivialization"],
    "old_weight_norm": ["old_wn_twice", "old_wn_remove_missing"],
    "prune_amounts": ["prune_amount_too_big", "prune_amount_negative", "prune_amount_above_1", "prune_amount_string",
                      "prune_importance_shape"],
    "prune_structured": ["ln_structured_1d", "ln_structured_dim_out_of_range", "ln_structured_too_many", "random_structured_1d"],
    "prune_names_masks_containers": ["prune_missing_name", "prune_remove_unpruned", "custom_mask_wrong_shape",
                                     "container_add_wrong_name", "container_add_non_method"],
    "global_unstructured_args": ["global_structured_method", "global_not_iterable", "global_importance_not_dict",
                                 "global_amount_too_big"],
    "fusion": ["fuse_conv_training", "fuse_conv_bn_training", "fuse_linear_training", "fuse_linear_feature_mismatch",
               "fuse_no_running_stats"],
    "skip_init": ["skip_init_not_module_class", "skip_init_no_device_arg"],
    "functional_call": ["functional_call_strict_missing", "functional_call_strict_unexpected", "functional_call_tied_conflict",
                        "functional_call_wrong_shape"],
}
assert sorted(sum(RAISES_GROUPS.values(), [])) == sorted(_RAISES)
RAISES_CASES = {group: {name: _RAISES[name] for name in names} for group, names in RAISES_GROUPS.items()}


@pytest.mark.parametrize("cases", list(RAISES_CASES.values()), ids=list(RAISES_CASES))
def test_raises_as_torch(cases):
    raises_as_torch_each(cases)


# --- gradients (float64) -------------------------------------------------------------------------

XD = [[0.2, -0.3, 1.0, 0.5], [1.5, 0.1, -0.7, 0.3]]


def grads_of(build, leaves, x=XD):
    """Gradients of ``sum(w * m(x))`` (distinct ``w``) with respect to ``leaves(m)``, in float64."""
    def run(L):
        m = build(L)
        y = m(L.tensor(x, dtype=L.float64))
        w = L.tensor(np.arange(1, y.numel() + 1, dtype=np.float64).reshape(tuple(y.shape)))
        (y * w).sum().backward()
        return [leaf.grad for leaf in leaves(m)]
    return run


def lin64(L, weight=W34, bias=B3):
    return linear(L, weight, bias, dtype=L.float64)


def grad_spectral(L):
    m = lin64(L)
    L.manual_seed(0)
    PZ(L).spectral_norm(m)
    m(L.tensor(XD, dtype=L.float64))
    return m


def grad_old_spectral(L):
    m = lin64(L)
    L.manual_seed(0)
    L.nn.utils.spectral_norm(m)
    m(L.tensor(XD, dtype=L.float64))
    return m


def grad_averaged(L):
    model = swa_net(L, L.float64)
    averaged = swa(L).AveragedModel(model)
    averaged.update_parameters(model)
    averaged.eval()
    return averaged


def grad_functional_call(L):
    m = lin64(L)
    w = L.tensor(W34, dtype=L.float64, requires_grad=True) * 1.0
    w.retain_grad()
    b = L.tensor([0.5, 0.5, -1.0], dtype=L.float64, requires_grad=True)
    y = L.nn.utils.stateless.functional_call(m, {"weight": w, "bias": b}, (L.tensor(XD, dtype=L.float64),))
    (y * L.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=L.float64)).sum().backward()
    return [w.grad, b.grad, m.weight.grad]


def parametrized64(*parametrizations, weight=W33, **kwargs):
    def build(L):
        m = lin64(L, weight)
        for each in parametrizations:
            P(L).register_parametrization(m, "weight", each(L), **kwargs)
        return m
    return build


def orth64(weight=W33, **kwargs):
    def build(L):
        m = lin64(L, weight, [0.0] * len(weight))
        L.manual_seed(0)
        PZ(L).orthogonal(m, **kwargs)
        with L.no_grad():
            m.parametrizations.weight.original.add_(L.tensor(weight, dtype=L.float64) * 0.1)
        return m
    return build


def original(m):
    return [m.parametrizations.weight.original, m.bias]


GRAD_CASES = {
    "parametrize_symmetric": grads_of(parametrized64(symmetric), original, x=X3),
    "parametrize_chained": grads_of(parametrized64(symmetric, scaled), original, x=X3),
    "parametrize_split": grads_of(parametrized64(split_sum),
                                  lambda m: [m.parametrizations.weight.original0, m.parametrizations.weight.original1], x=X3),
    "pwn_dim0": grads_of(lambda L: PZ(L).weight_norm(lin64(L)),
                         lambda m: [m.parametrizations.weight.original0, m.parametrizations.weight.original1, m.bias]),
    "pwn_dim_none": grads_of(lambda L: PZ(L).weight_norm(lin64(L), dim=None),
                             lambda m: [m.parametrizations.weight.original0, m.parametrizations.weight.original1]),
    "old_wn_dim1": grads_of(lambda L: L.nn.utils.weight_norm(lin64(L), dim=1), lambda m: [m.weight_g, m.weight_v, m.bias]),
    "psn": grads_of(grad_spectral, original),
    "old_sn": grads_of(grad_old_spectral, lambda m: [m.weight_orig, m.bias]),
    "orth_matrix_exp": grads_of(orth64(), original, x=X3),
    "orth_cayley": grads_of(orth64(orthogonal_map="cayley"), original, x=X3),
    "orth_householder_tall": grads_of(orth64(W53, orthogonal_map="householder"), original, x=X3),
    "prune_l1": grads_of(lambda L: prune(L).l1_unstructured(lin64(L, W_PRUNE), "weight", 5), lambda m: [m.weight_orig, m.bias]),
    "prune_ln_structured": grads_of(lambda L: prune(L).ln_structured(lin64(L, W_PRUNE), "weight", 1, 2, 1),
                                    lambda m: [m.weight_orig]),
    "averaged_model": grads_of(grad_averaged, lambda a: list(a.parameters()), x=X3),
    "functional_call": grad_functional_call,
}


@pytest.mark.parametrize("run", list(GRAD_CASES.values()), ids=list(GRAD_CASES))
def test_same_gradients(run):
    same_in_both(run, rtol=1e-7, atol=1e-9)


# --- single differences, one test each -------------------------------------------------------------

def test_pwn_negative_dim():
    same_in_both(lambda L: pwn(L, -2))


def test_old_weight_norm_negative_dim():
    same_in_both(lambda L: old_wn(L, -2))


def test_psn_conv_transpose3d_default_dim():
    same_in_both(lambda L: spectral_module(L, "ConvTranspose3d", 2, 3, 1))


def test_old_sn_conv_transpose3d_default_dim():
    same_in_both(lambda L: spectral_module(L, "ConvTranspose3d", 2, 3, 1, old=True))


def test_orth_householder_no_trivialization():
    same_in_both(lambda L: orth(L, W53, orthogonal_map="householder", use_trivialization=False)[:5])


def test_register_second_bad_right_inverse():
    raises_as_torch(lambda L: parametrized(L, symmetric, bad_inverse))


class TorchDouble(torch.nn.Module):
    """A parametrization defined at module level, so that pickle can find it."""

    def forward(self, X):
        return X * 2.0


class ChainruleDouble(chainrule.nn.Module):
    def forward(self, X):
        return X * 2.0


def test_pickle_plain_parametrization_works():
    """The parametrization itself pickles in both: only the parametrized module is refused (next test)."""
    same_in_both(lambda L: pickle.loads(pickle.dumps((TorchDouble if L is torch else ChainruleDouble)()))(L.tensor([1.0, 2.0])))


def test_pickle_parametrized_module_raises():
    def run(L):
        m = linear(L, W33)
        P(L).register_parametrization(m, "weight", (TorchDouble if L is torch else ChainruleDouble)())
        return pickle.dumps(m)
    raises_as_torch(run)


def test_skip_init_not_a_class():
    raises_as_torch(lambda L: L.nn.utils.skip_init(lambda: None))


def test_linear_forward_follows_weight_shape():
    same_in_both(lambda L: parametrized(L, first_two_columns, weight=W34, unsafe=True)(L.tensor(X4)[:, :2]))


@bug("lerp (here through get_swa_multi_avg_fn / get_ema_multi_avg_fn): PyTorch's CPU kernel computes "
     "start + weight * (end - start) with one rounding (fused multiply-add), chainrule with two, so averaged float32 "
     "weights differ by an ulp (ops/elementwise.py Lerp.forward)")
def test_multi_avg_fn_exact():
    same_in_both(lambda L: swa_state(L, multi_avg_fn=swa(L).get_swa_multi_avg_fn()), rtol=0, atol=0)


def test_pwn_dim_out_of_range_raises():
    raises_as_torch(lambda L: PZ(L).weight_norm(linear(L), dim=2))


def test_old_weight_norm_dim_out_of_range_raises():
    raises_as_torch(lambda L: L.nn.utils.weight_norm(linear(L), dim=2))


def test_pruning_amount_helpers_that_custom_methods_call():
    same_in_both(lambda lib: (
        lib.nn.utils.prune._compute_nparams_toprune(amount=0.4, tensor_size=17),
        lib.nn.utils.prune._compute_nparams_toprune(amount=3, tensor_size=17),
        lib.nn.utils.prune._validate_pruning_amount_init(amount=0.34),
        fail_kind(lambda: lib.nn.utils.prune._validate_pruning_amount(amount=21, tensor_size=20)),
        fail_kind(lambda: lib.nn.utils.prune._validate_pruning_amount_init(amount=1.5)),
    ))
