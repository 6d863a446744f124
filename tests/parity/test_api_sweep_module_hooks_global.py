"""A sweep of module hook machinery against PyTorch (the oracle): the hooks of every module
(``torch.nn.modules.module.register_module_forward_pre_hook``, ``register_module_forward_hook`` with
``with_kwargs`` and ``always_call``, ``register_module_full_backward_hook``,
``register_module_full_backward_pre_hook``, the legacy ``register_module_backward_hook`` and the
registration hooks ``register_module_buffer_registration_hook`` / ``_module_`` / ``_parameter_``),
their order against each module's own hooks and in nested containers, their handles (``remove``,
``with`` blocks, removal from inside a hook); a module's own hooks with ``prepend=True``,
``with_kwargs=True`` (kwargs in and out), ``always_call=True`` when ``forward``, a forward hook or a
pre-hook raises, hooks returning replacement inputs (tuple, single value, list) and outputs, hooks
added or removed while hooks run, hooks on a module called twice; full backward hooks and pre-hooks
(float64 ``grad_input`` / ``grad_output`` and the ``.grad`` they lead to) on modules with several
inputs and outputs, non-tensor inputs and outputs, keyword tensors, inputs that do not require grad,
outputs left unused, lists and dicts returned, ``retain_graph`` / ``autograd.grad``, hooks added or
removed between forward and backward, the errors of wrong-length replacements, and the errors
PyTorch raises for in-place changes of what a hooked module takes or returns; the state dict hooks
(``register_state_dict_pre_hook`` / ``register_state_dict_post_hook`` / ``_register_state_dict_hook``
order and return values, ``register_load_state_dict_pre_hook`` arguments, ``error_msgs`` and
``missing_keys``, ``register_load_state_dict_post_hook`` editing ``incompatible_keys`` with and
without ``strict``); and ``torch.utils.hooks.RemovableHandle`` itself (ids and registry order,
``extra_dict``, weak references, pickling, ``next_id``), with PyTorch's warning categories.

What ``tests/parity/test_api_sweep_module_api.py`` already checks (a module's own forward pre-hook
replacement, with_kwargs + prepend, always_call when forward raises, handle remove / with, the basic
full backward hook and pre-hook, the basic state dict hooks) is not repeated.

Each test runs the same code with ``torch`` and with ``chainrule`` and compares values, dtypes,
shapes, call logs, warning categories or exception types. Tests marked
``xfail(strict=True, reason="BUG: ...")`` are differences found: each turns into an XPASS failure
the day it is fixed, and the mark must go.
"""
import pickle
import warnings
from collections import OrderedDict

import pytest
import torch

import chainrule
from tests.parity.sweep import bug, fail_kind, outcome, raises_as_torch, same_in_both, warning_categories


@pytest.fixture(autouse=True)
def _fresh_global_backward_hook_kind():
    """PyTorch remembers for good whether the global backward hooks are full or legacy
    (``_global_is_full_backward_hook`` is never reset when they are removed): each test starts with
    neither, and the state of the process is put back afterwards."""
    saved = {}
    for library in (torch, chainrule):
        namespace = library.nn.modules.module
        if hasattr(namespace, "_global_is_full_backward_hook"):
            saved[namespace] = namespace._global_is_full_backward_hook
            namespace._global_is_full_backward_hook = None
    yield
    for namespace, value in saved.items():
        namespace._global_is_full_backward_hook = value


def G(L):
    """Where PyTorch keeps the hooks of every module: ``torch.nn.modules.module``."""
    return L.nn.modules.module


def leaf(L, data=(1.0, 2.0), dtype=None):
    """A float64 leaf that requires grad."""
    return L.tensor(list(data), dtype=dtype or L.float64, requires_grad=True)


def name(module):
    return type(module).__name__


def linear(L, weights=((1.0, 2.0), (3.0, -1.0)), bias=(0.5, -0.5)):
    """A float64 Linear with fixed weights."""
    model = L.nn.Linear(len(weights[0]), len(weights), dtype=L.float64)
    with L.no_grad():
        model.weight.copy_(L.tensor(weights, dtype=L.float64))
        model.bias.copy_(L.tensor(bias, dtype=L.float64))
    return model


def module_of(L, forward):
    """A module whose forward is ``forward(self, *args, **kwargs)``."""
    return type("Custom", (L.nn.Module,), {"forward": forward})()


def grads_seen(log):
    """A hook that logs its ``grad_input`` / ``grad_output`` tuples (None kept) and returns None."""
    def hook(module, *grads):
        log.append([name(module)] + [[None if g is None else g.detach().clone() for g in each] for each in grads])
    return hook


# --- the hooks of every module: forward -----------------------------------------------------------

def _global_order_in_sequential(L):
    log = []
    model = L.nn.Sequential(L.nn.Linear(2, 2), L.nn.ReLU())
    model[0].register_forward_pre_hook(lambda m, a: log.append(("own pre", name(m))), prepend=True)
    model[0].register_forward_hook(lambda m, a, o: log.append(("own post", name(m))), prepend=True)
    with G(L).register_module_forward_pre_hook(lambda m, a: log.append(("global pre", name(m)))), \
            G(L).register_module_forward_hook(lambda m, a, o: log.append(("global post", name(m)))):
        model(L.ones(1, 2))
    log.append("removed")
    model(L.ones(1, 2))
    return log


def _global_pre_hook_replaces_input(L):
    model = L.nn.Identity()
    with G(L).register_module_forward_pre_hook(lambda m, a: a[0] * 2):
        single = model(L.tensor([1.0, 2.0]))
    with G(L).register_module_forward_pre_hook(lambda m, a: (a[0] + 1,)):
        as_tuple = model(L.tensor([1.0, 2.0]))
    with G(L).register_module_forward_pre_hook(lambda m, a: [a[0], a[0]]):
        as_list = model(L.tensor([1.0, 2.0]))
    return single, as_tuple, type(as_list).__name__, as_list


def _global_pre_then_own_pre_chain(L):
    model = L.nn.Identity()
    model.register_forward_pre_hook(lambda m, a: (a[0] + 1,), prepend=True)
    with G(L).register_module_forward_pre_hook(lambda m, a: (a[0] * 10,)):
        return model(L.tensor([1.0, 2.0]))


def _global_forward_hook_replaces_output_for_own_hook(L):
    seen = []
    model = L.nn.Identity()
    model.register_forward_hook(lambda m, a, o: (seen.append(o.tolist()), o + 1)[1])
    with G(L).register_module_forward_hook(lambda m, a, o: o * 3):
        out = model(L.tensor([1.0, 2.0]))
    return seen, out


def _global_forward_hook_with_kwargs(L):
    seen = []

    def forward(self, x, scale=1.0):
        return x * scale

    model = module_of(L, forward)

    def hook(m, args, kwargs, output):
        seen.append((len(args), dict(kwargs), output.tolist()))
        return output - 1

    with G(L).register_module_forward_hook(hook, with_kwargs=True):
        out = model(L.tensor([1.0, 2.0]), scale=3.0)
    return seen, out


def _global_hooks_see_loss_and_functional_modules(L):
    names = []
    with G(L).register_module_forward_hook(lambda m, a, o: names.append(name(m))):
        loss = L.nn.MSELoss()(L.nn.Tanh()(L.zeros(2)), L.ones(2))
        L.nn.functional.relu(L.ones(1))  # a function, not a module
    return names, loss


def _global_always_call_when_forward_raises(L):
    log = []

    def forward(self, x):
        raise ValueError("boom")

    model = module_of(L, forward)
    model.register_forward_hook(lambda m, a, o: log.append(("own", o)), always_call=True)
    with G(L).register_module_forward_hook(lambda m, a, o: log.append(("global", o)), always_call=True), \
            G(L).register_module_forward_hook(lambda m, a, o: log.append("global normal")):
        result = fail_kind(lambda: model(L.ones(1)))
    return result, log


def _global_always_call_runs_once_without_error(L):
    log = []
    with G(L).register_module_forward_hook(lambda m, a, o: log.append(name(m)), always_call=True):
        L.nn.Sequential(L.nn.ReLU())(L.ones(1))
    return log


def _global_hook_removes_itself(L):
    log = []
    handles = []

    def hook(m, a, o):
        log.append(name(m))
        handles[0].remove()

    handles.append(G(L).register_module_forward_hook(hook))
    try:
        L.nn.Sequential(L.nn.ReLU(), L.nn.Tanh())(L.ones(1))
    finally:
        handles[0].remove()
    return log


def _global_hook_registered_inside_a_forward(L):
    log = []
    handles = []

    class Outer(L.nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = L.nn.ReLU()

        def forward(self, x):
            handles.append(G(L).register_module_forward_hook(lambda m, a, o: log.append(name(m))))
            return self.inner(x)

    try:
        Outer()(L.ones(1))
    finally:
        for handle in handles:
            handle.remove()
    return log


def _global_hooks_under_no_grad(L):
    log = []
    with G(L).register_module_forward_pre_hook(lambda m, a: log.append(L.is_grad_enabled())), L.no_grad():
        out = L.nn.Linear(1, 1)(L.ones(1))
    return log, out.requires_grad


def _global_pre_hook_gets_tuple_of_args(L):
    seen = []
    with G(L).register_module_forward_pre_hook(lambda m, a: seen.append((type(a).__name__, len(a)))):
        L.nn.Bilinear(1, 1, 1)(L.ones(1, 1), L.ones(1, 1))
        L.nn.Identity()(input=L.ones(1))
    return seen


GLOBAL_FORWARD_CASES = {
    "order_in_sequential_global_before_own_prepended": _global_order_in_sequential,
    "pre_hook_replaces_input_single_tuple_list": _global_pre_hook_replaces_input,
    "global_pre_then_own_pre": _global_pre_then_own_pre_chain,
    "global_forward_hook_output_seen_by_own": _global_forward_hook_replaces_output_for_own_hook,
    "forward_hook_with_kwargs": _global_forward_hook_with_kwargs,
    "loss_modules_not_functions": _global_hooks_see_loss_and_functional_modules,
    "always_call_when_forward_raises": _global_always_call_when_forward_raises,
    "always_call_runs_once_without_error": _global_always_call_runs_once_without_error,
    "hook_removes_itself": _global_hook_removes_itself,
    "registered_inside_a_forward": _global_hook_registered_inside_a_forward,
    "under_no_grad": _global_hooks_under_no_grad,
    "pre_hook_args_tuple_keyword_only_call": _global_pre_hook_gets_tuple_of_args,
}


@pytest.mark.parametrize("name", list(GLOBAL_FORWARD_CASES))
def test_global_forward_hooks(name):
    same_in_both(GLOBAL_FORWARD_CASES[name])


def test_global_always_call_with_kwargs_when_forward_raises():
    def run(L):
        counts = []

        def forward(self, x):
            raise ValueError("boom")

        with G(L).register_module_forward_hook(lambda *a: counts.append(len(a)), with_kwargs=True, always_call=True):
            fail_kind(lambda: module_of(L, forward)(L.ones(1)))
        return counts

    same_in_both(run)


def test_global_always_call_hook_raising_warns_and_forward_error_wins():
    def run(L):
        def forward(self, x):
            raise ValueError("boom")

        def hook(m, a, o):
            raise KeyError("hook")

        with G(L).register_module_forward_hook(hook, always_call=True):
            return warning_categories(lambda: fail_kind(lambda: module_of(L, forward)(L.ones(1))))

    same_in_both(run)


def _global_hook_raising_propagates(L):
    with G(L).register_module_forward_hook(lambda m, a, o: 1 / 0):
        L.nn.ReLU()(L.ones(1))


def registered(register):
    """``register(L)`` called, and the handle it gives (if any) removed again: a registration that
    should raise does not leave a hook behind for every later module when it does not."""
    def run(L):
        handle = register(L)
        if hasattr(handle, "remove"):
            handle.remove()
    return run


GLOBAL_RAISES = {
    "pre_hook_keyword_with_kwargs": registered(lambda L: G(L).register_module_forward_pre_hook(lambda m, a: None, with_kwargs=True)),
    "forward_hook_prepend": registered(lambda L: G(L).register_module_forward_hook(lambda m, a, o: None, prepend=True)),
    "forward_hook_positional_with_kwargs": registered(lambda L: G(L).register_module_forward_hook(lambda m, a, o: None, True)),
    "hook_raising_propagates": _global_hook_raising_propagates,
}


@pytest.mark.parametrize("run", list(GLOBAL_RAISES.values()), ids=list(GLOBAL_RAISES))
def test_global_registration_errors(run):
    raises_as_torch(run)


# --- the hooks of every module: backward --------------------------------------------------------

def _global_full_backward_hooks_in_sequential(L):
    log = []
    model = L.nn.Sequential(linear(L), L.nn.Tanh())
    x = leaf(L)
    with G(L).register_module_full_backward_hook(grads_seen(log)):
        model(x).sum().backward()
    return log, x.grad


def _global_full_backward_hook_input_without_grad(L):
    log = []
    model = L.nn.Sequential(linear(L), L.nn.Tanh())
    with G(L).register_module_full_backward_hook(grads_seen(log)):
        categories, _ = warning_categories(lambda: model(L.tensor([1.0, 2.0], dtype=L.float64)).sum().backward())
    return categories, log, model[0].weight.grad


def _global_then_own_backward_order(L):
    log = []
    model = linear(L)
    model.register_full_backward_hook(lambda m, gi, go: log.append("own"))
    model.register_full_backward_pre_hook(lambda m, go: log.append("own pre"))
    with G(L).register_module_full_backward_hook(lambda m, gi, go: log.append("global")), \
            G(L).register_module_full_backward_pre_hook(lambda m, go: log.append("global pre")):
        model(leaf(L)).sum().backward()
    return log


def _global_backward_pre_hook_scales_grad_output(L):
    x = leaf(L)
    with G(L).register_module_full_backward_pre_hook(lambda m, go: (go[0] * 10,)):
        linear(L)(x).sum().backward()
    return x.grad


def _global_backward_hook_replaces_grad_input(L):
    x = leaf(L)
    model = L.nn.Sequential(linear(L), L.nn.Sigmoid())
    with G(L).register_module_full_backward_hook(lambda m, gi, go: (gi[0] * 2,) if isinstance(m, L.nn.Linear) else None):
        model(x).sum().backward()
    return x.grad, model[0].weight.grad


def _global_backward_hook_removed_before_forward(L):
    log = []
    handle = G(L).register_module_full_backward_hook(lambda m, gi, go: log.append(name(m)))
    handle.remove()
    x = leaf(L)
    linear(L)(x).sum().backward()
    return log, x.grad


GLOBAL_BACKWARD_CASES = {
    "full_hooks_in_sequential": _global_full_backward_hooks_in_sequential,
    "full_hook_when_input_needs_no_grad": _global_full_backward_hook_input_without_grad,
    "global_before_own": _global_then_own_backward_order,
    "pre_hook_scales_grad_output": _global_backward_pre_hook_scales_grad_output,
    "hook_replaces_grad_input": _global_backward_hook_replaces_grad_input,
    "removed_before_forward": _global_backward_hook_removed_before_forward,
}


@pytest.mark.parametrize("run", list(GLOBAL_BACKWARD_CASES.values()), ids=list(GLOBAL_BACKWARD_CASES))
def test_global_backward_hooks(run):
    same_in_both(run)


def test_global_legacy_backward_hook():
    def run(L):
        log = []
        x = leaf(L)
        model = L.nn.Sequential(L.nn.Tanh())
        with G(L).register_module_backward_hook(lambda m, gi, go: log.append((name(m), len(gi), len(go)))):
            categories, _ = warning_categories(lambda: model(x).sum().backward())
        return categories, log, x.grad

    same_in_both(run)


def test_global_legacy_after_full_backward_hook_raises():
    def run(L):
        with G(L).register_module_full_backward_hook(lambda m, gi, go: None):
            G(L).register_module_backward_hook(lambda m, gi, go: None)

    raises_as_torch(run)


# --- registration hooks of every module -----------------------------------------------------------

def _buffer_registration(L):
    log = []

    def hook(module, key, tensor):
        log.append((name(module), key, None if tensor is None else tensor.tolist()))
        return None if tensor is None else tensor * 2

    with G(L).register_module_buffer_registration_hook(hook):
        model = L.nn.Module()
        model.register_buffer("a", L.ones(1))
        model.register_buffer("b", None)
        model.a = L.full((1,), 3.0)  # assigning over a buffer registers it again
        model.register_buffer("c", L.ones(1), persistent=False)
        L.nn.BatchNorm1d(1)
    return log, model.a, model.c, list(model.state_dict())


def _module_registration(L):
    log = []

    def hook(parent, key, child):
        log.append((name(parent), key, None if child is None else name(child)))
        return L.nn.Tanh() if key == "swap" else None

    with G(L).register_module_module_registration_hook(hook):
        model = L.nn.Module()
        model.first = L.nn.ReLU()
        model.add_module("swap", L.nn.ReLU())
        model.register_module("third", None)
        model.first = None
        L.nn.Sequential(L.nn.ELU())
    return log, name(model.swap), model.first


def _parameter_registration(L):
    log = []

    def hook(module, key, param):
        log.append((name(module), key, tuple(param.shape)))
        return L.nn.Parameter(L.zeros(2)) if key == "p" else None

    with G(L).register_module_parameter_registration_hook(hook):
        model = L.nn.Module()
        model.p = L.nn.Parameter(L.ones(3))
        model.register_parameter("q", L.nn.Parameter(L.ones(1)))
        model.register_parameter("r", None)
        L.nn.Linear(2, 1)
    return log, tuple(model.p.shape), [key for key, _ in model.named_parameters()]


def test_global_buffer_registration_hook():
    same_in_both(_buffer_registration)


def test_global_module_registration_hook():
    same_in_both(_module_registration)


def test_global_parameter_registration_hook():
    same_in_both(_parameter_registration)


# --- a module's own forward hooks -----------------------------------------------------------------

def _scale_module(L):
    def forward(self, x, scale=1.0, *, shift=0.0):
        return x * scale + shift
    return module_of(L, forward)


def _prepend_order_pre_hooks_mixed_with_kwargs(L):
    log = []
    model = L.nn.Identity()
    model.register_forward_pre_hook(lambda m, a: log.append("a"))
    model.register_forward_pre_hook(lambda m, a, k: log.append("b kwargs"), with_kwargs=True)
    model.register_forward_pre_hook(lambda m, a: log.append("c prepended"), prepend=True)
    model.register_forward_pre_hook(lambda m, a, k: log.append("d prepended kwargs"), prepend=True, with_kwargs=True)
    model.register_forward_hook(lambda m, a, o: log.append("post"))
    model.register_forward_hook(lambda m, a, k, o: log.append("post prepended kwargs"), prepend=True, with_kwargs=True)
    model(L.ones(1))
    return log


def _pre_hook_kwargs_in_and_out(L):
    seen = []
    model = _scale_module(L)

    def pre(m, args, kwargs):
        seen.append((len(args), sorted(kwargs)))
        if args:
            return (args[0] + 1, *args[1:]), {**kwargs, "shift": 100.0}
        return (), {**kwargs, "x": kwargs["x"] * 10}

    model.register_forward_pre_hook(pre, with_kwargs=True)
    model.register_forward_pre_hook(lambda m, args: seen.append([a.tolist() if hasattr(a, "tolist") else a for a in args]))
    return seen, model(L.tensor([1.0]), 2.0), model(x=L.tensor([1.0]), scale=3.0)


def _pre_hook_returns_list_as_args(L):
    model = _scale_module(L)
    model.register_forward_pre_hook(lambda m, args, kwargs: ([args[0], 5.0], {}), with_kwargs=True)
    return model(L.tensor([1.0]), shift=7.0)


def _pre_hook_returns_none_keeps_and_tuple_of_two(L):
    model = _scale_module(L)
    model.register_forward_pre_hook(lambda m, args: None)
    model.register_forward_pre_hook(lambda m, args: (args[0], 4.0))
    return model(L.tensor([1.0, 2.0]))


def _forward_hook_args_and_kwargs_kept_apart(L):
    seen = []
    model = _scale_module(L)
    model.register_forward_hook(lambda m, args, out: seen.append(("plain", len(args))))
    model.register_forward_hook(lambda m, args, kwargs, out: seen.append(("kwargs", len(args), sorted(kwargs))), with_kwargs=True)
    model(L.tensor([1.0]), 2.0, shift=1.0)
    model(x=L.tensor([1.0]))
    return seen


def _forward_hook_returns_tuple_replaces_output(L):
    model = L.nn.Identity()
    model.register_forward_hook(lambda m, a, o: (o, o * 2))
    model.register_forward_hook(lambda m, a, o: None)
    out = model(L.tensor([1.0]))
    return type(out).__name__, out


def _forward_hook_sees_replaced_args(L):
    seen = []
    model = L.nn.Identity()
    model.register_forward_pre_hook(lambda m, a: a[0] * 5)
    model.register_forward_hook(lambda m, a, o: seen.append((a[0].tolist(), o.tolist())))
    model(L.tensor([1.0]))
    return seen


def _hooks_on_module_called_twice(L):
    log = []
    model = L.nn.Tanh()
    model.register_forward_pre_hook(lambda m, a: log.append(("pre", a[0].tolist())))
    model.register_forward_hook(lambda m, a, o: log.append(("post", round(o.item(), 6))))
    model(model(L.tensor([1.0])))
    return log


def _hook_removes_a_later_hook_in_the_same_call(L):
    log = []
    model = L.nn.Identity()
    handles = {}
    model.register_forward_hook(lambda m, a, o: (log.append("first"), handles["second"].remove()))
    handles["second"] = model.register_forward_hook(lambda m, a, o: log.append("second"))
    model(L.ones(1))
    log.append("again")
    model(L.ones(1))
    return log


def _hook_adds_a_hook_in_the_same_call(L):
    log = []
    model = L.nn.Identity()
    model.register_forward_pre_hook(lambda m, a: (log.append("pre"), m.register_forward_pre_hook(lambda m2, a2: log.append("added")))[0])
    model(L.ones(1))
    log.append("again")
    model(L.ones(1))
    return log


def _pre_hook_removes_itself(L):
    log = []
    model = L.nn.Identity()
    handles = []
    handles.append(model.register_forward_pre_hook(lambda m, a: (log.append("once"), handles[0].remove())[0]))
    model(L.ones(1))
    model(L.ones(1))
    return log, len(model._forward_pre_hooks)


def _always_call_after_a_raising_forward_hook(L):
    log = []
    model = L.nn.Identity()
    model.register_forward_hook(lambda m, a, o: log.append("always first"), always_call=True)
    model.register_forward_hook(lambda m, a, o: 1 / 0)
    model.register_forward_hook(lambda m, a, o: log.append("normal after"))
    model.register_forward_hook(lambda m, a, o: log.append(("always after", o.tolist())), always_call=True)
    return fail_kind(lambda: model(L.ones(1))), log


def _always_call_with_kwargs_when_forward_raises(L):
    log = []

    def forward(self, x, scale=1.0):
        raise ValueError("boom")

    model = module_of(L, forward)
    model.register_forward_hook(lambda m, a, k, o: log.append((len(a), dict(k), o)), with_kwargs=True, always_call=True)
    return fail_kind(lambda: model(L.ones(1), scale=2.0)), log


def _always_call_hook_replacement_is_discarded_on_error(L):
    def forward(self, x):
        raise ValueError("boom")

    model = module_of(L, forward)
    model.register_forward_hook(lambda m, a, o: L.ones(1), always_call=True)
    return fail_kind(lambda: model(L.ones(1)))


def _forward_hooks_run_under_no_grad_and_inference(L):
    log = []
    model = L.nn.Linear(1, 1)
    model.register_forward_hook(lambda m, a, o: log.append(o.requires_grad))
    with L.no_grad():
        model(L.ones(1))
    with L.inference_mode():
        model(L.ones(1))
    model(L.ones(1))
    return log


def _hook_shared_by_two_modules(L):
    log = []

    def hook(m, a, o):
        log.append(name(m))

    model = L.nn.Sequential(L.nn.ReLU(), L.nn.Tanh())
    handles = [model[0].register_forward_hook(hook), model[1].register_forward_hook(hook)]
    model(L.ones(1))
    handles[0].remove()
    model(L.ones(1))
    return log


def _hooks_of_a_submodule_used_in_two_places(L):
    log = []
    shared = L.nn.ReLU()
    shared.register_forward_hook(lambda m, a, o: log.append(a[0].tolist()))
    model = L.nn.Sequential(shared, L.nn.Identity(), shared)
    model(L.tensor([-1.0, 2.0]))
    return log


def _hook_added_inside_forward(L):
    log = []

    def forward(self, x):
        self.register_forward_hook(lambda m, a, o: log.append("added in forward"))
        return x

    model = module_of(L, forward)
    model.register_forward_pre_hook(lambda m, a: None)
    model(L.ones(1))
    return log


def _hook_removed_inside_forward(L):
    log = []
    handles = []

    def forward(self, x):
        handles[0].remove()
        return x

    model = module_of(L, forward)
    handles.append(model.register_forward_hook(lambda m, a, o: log.append("removed in forward")))
    model(L.ones(1))
    return log


OWN_FORWARD_CASES = {
    "prepend_order_mixed_with_kwargs": _prepend_order_pre_hooks_mixed_with_kwargs,
    "pre_hook_kwargs_in_and_out": _pre_hook_kwargs_in_and_out,
    "pre_hook_kwargs_returns_list_args": _pre_hook_returns_list_as_args,
    "pre_hook_none_keeps_tuple_of_two_replaces": _pre_hook_returns_none_keeps_and_tuple_of_two,
    "forward_hook_args_and_kwargs_apart": _forward_hook_args_and_kwargs_kept_apart,
    "forward_hook_tuple_replaces_output": _forward_hook_returns_tuple_replaces_output,
    "forward_hook_sees_replaced_args": _forward_hook_sees_replaced_args,
    "module_called_twice": _hooks_on_module_called_twice,
    "remove_later_hook_in_same_call": _hook_removes_a_later_hook_in_the_same_call,
    "add_hook_in_same_call": _hook_adds_a_hook_in_the_same_call,
    "pre_hook_removes_itself": _pre_hook_removes_itself,
    "always_call_after_raising_hook": _always_call_after_a_raising_forward_hook,
    "always_call_with_kwargs_forward_raises": _always_call_with_kwargs_when_forward_raises,
    "always_call_replacement_discarded": _always_call_hook_replacement_is_discarded_on_error,
    "no_grad_and_inference_mode": _forward_hooks_run_under_no_grad_and_inference,
    "hook_shared_by_two_modules": _hook_shared_by_two_modules,
    "submodule_used_twice": _hooks_of_a_submodule_used_in_two_places,
    "hook_added_inside_forward": _hook_added_inside_forward,
    "hook_removed_inside_forward": _hook_removed_inside_forward,
}

@pytest.mark.parametrize("name", list(OWN_FORWARD_CASES))
def test_own_forward_hooks(name):
    same_in_both(OWN_FORWARD_CASES[name])


def test_always_call_runs_when_a_pre_hook_raises():
    def run(L):
        log = []
        model = L.nn.Identity()
        model.register_forward_pre_hook(lambda m, a: 1 / 0)
        model.register_forward_hook(lambda m, a, o: log.append(("always", o)), always_call=True)
        return fail_kind(lambda: model(L.ones(1))), log

    same_in_both(run)


@pytest.mark.parametrize("with_kwargs", [False, True], ids=["plain", "with_kwargs"])
def test_always_call_hook_raising_while_forward_raises_warns(with_kwargs):
    def run(L):
        def forward(self, x):
            raise ValueError("boom")

        model = module_of(L, forward)
        model.register_forward_hook((lambda m, a, k, o: 1 / 0) if with_kwargs else (lambda m, a, o: 1 / 0),
                                    with_kwargs=with_kwargs, always_call=True)
        return warning_categories(lambda: fail_kind(lambda: model(L.ones(1))))

    same_in_both(run)


OWN_RAISES = {
    "pre_hook_with_kwargs_returns_triple": lambda L: (lambda m: (m.register_forward_pre_hook(
        lambda m, a, k: (a, k, None), with_kwargs=True), m(L.ones(1))))(L.nn.Identity()),
    "pre_hook_with_kwargs_returns_tensor": lambda L: (lambda m: (m.register_forward_pre_hook(
        lambda m, a, k: a[0], with_kwargs=True), m(L.ones(1))))(L.nn.Identity()),
    "forward_hook_positional_prepend": lambda L: L.nn.Identity().register_forward_hook(lambda m, a, o: None, True),
    "forward_pre_hook_positional_prepend": lambda L: L.nn.Identity().register_forward_pre_hook(lambda m, a: None, True),
    "forward_hook_raises_propagates": lambda L: (lambda m: (m.register_forward_hook(lambda m, a, o: {}[0]), m(L.ones(1))))(
        L.nn.Identity()),
    "pre_hook_bad_arity": lambda L: (lambda m: (m.register_forward_pre_hook(lambda m: None), m(L.ones(1))))(L.nn.Identity()),
    "hook_with_kwargs_wrong_arity": lambda L: (lambda m: (m.register_forward_hook(lambda m, a, o: None, with_kwargs=True),
                                                          m(L.ones(1))))(L.nn.Identity()),
}


@pytest.mark.parametrize("run", list(OWN_RAISES.values()), ids=list(OWN_RAISES))
def test_own_forward_hook_errors(run):
    raises_as_torch(run)


# --- a module's own full backward hooks ------------------------------------------------------------

def _two_inputs(L):
    def forward(self, x, y):
        return x * y
    return module_of(L, forward)


def _backward_two_inputs_replace_second(L):
    log = []
    model = _two_inputs(L)
    model.register_full_backward_hook(grads_seen(log))
    model.register_full_backward_hook(lambda m, gi, go: (gi[0], gi[1] * 0 + 7))
    x, y = leaf(L), leaf(L, (3.0, -4.0))
    model(x, y).sum().backward()
    return log, x.grad, y.grad


def _backward_input_without_grad(L):
    log = []
    model = _two_inputs(L)
    model.register_full_backward_hook(grads_seen(log))
    x = leaf(L)
    model(x, L.tensor([3.0, -4.0], dtype=L.float64)).sum().backward()
    return log, x.grad


def _backward_forward_sees_requires_grad(L):
    log = []

    def forward(self, x, y):
        log.append([x.requires_grad, y.requires_grad])
        return x * y

    model = module_of(L, forward)
    model.register_full_backward_hook(lambda m, gi, go: None)
    model(leaf(L), L.ones(2, dtype=L.float64))
    return log


def _backward_non_tensor_input(L):
    log = []

    def forward(self, x, power):
        return x ** power

    model = module_of(L, forward)
    model.register_full_backward_hook(grads_seen(log))
    x = leaf(L)
    model(x, 3).sum().backward()
    return log, x.grad


def _backward_non_tensor_input_first(L):
    log = []

    def forward(self, power, x):
        return x ** power

    model = module_of(L, forward)
    model.register_full_backward_hook(grads_seen(log))
    model.register_full_backward_hook(lambda m, gi, go: tuple(None if g is None else g * 2 for g in gi))
    x = leaf(L)
    model(2, x).sum().backward()
    return log, x.grad


def _backward_keyword_tensor_not_in_grad_input(L):
    log = []

    def forward(self, x, *, y):
        return x * y

    model = module_of(L, forward)
    model.register_full_backward_hook(grads_seen(log))
    x, y = leaf(L), leaf(L, (3.0, 5.0))
    model(x, y=y).sum().backward()
    return log, x.grad, y.grad


def _two_outputs(L):
    def forward(self, x):
        return x * 2, x ** 2
    return module_of(L, forward)


def _backward_two_outputs(L):
    log = []
    model = _two_outputs(L)
    model.register_full_backward_hook(grads_seen(log))
    model.register_full_backward_pre_hook(grads_seen(log))
    x = leaf(L)
    a, b = model(x)
    (a * 3 + b).sum().backward()
    return log, x.grad


def _backward_pre_hook_replaces_one_of_two_outputs(L):
    model = _two_outputs(L)
    model.register_full_backward_pre_hook(lambda m, go: (go[0], go[1] * 10))
    x = leaf(L)
    a, b = model(x)
    (a + b).sum().backward()
    return x.grad


def _backward_output_with_non_tensor(L):
    log = []

    def forward(self, x):
        return x * 2, "label", x * 3

    model = module_of(L, forward)
    model.register_full_backward_hook(grads_seen(log))
    x = leaf(L)
    a, label, b = model(x)
    (a + b).sum().backward()
    return log, label, x.grad


def _backward_hook_on_identity(L):
    log = []
    model = L.nn.Identity()
    model.register_full_backward_hook(grads_seen(log))
    model.register_full_backward_hook(lambda m, gi, go: (gi[0] + 1,))
    x = leaf(L)
    (model(x) * 3).sum().backward()
    return log, x.grad


def _backward_called_twice(L):
    log = []
    model = linear(L)
    model.register_full_backward_hook(grads_seen(log))
    x = leaf(L)
    model(model(x)).sum().backward()
    return log, x.grad, model.weight.grad


def _backward_called_twice_in_parallel(L):
    log = []
    model = L.nn.Tanh()
    model.register_full_backward_pre_hook(lambda m, go: log.append(go[0].tolist()))
    x = leaf(L)
    (model(x) * 2 + model(x * 3)).sum().backward()
    return sorted(log), x.grad


def _backward_retain_graph_twice(L):
    log = []
    model = linear(L)
    model.register_full_backward_hook(lambda m, gi, go: log.append("hook"))
    model.register_full_backward_pre_hook(lambda m, go: log.append("pre"))
    x = leaf(L)
    out = model(x).sum()
    out.backward(retain_graph=True)
    out.backward()
    return log, x.grad


def _backward_through_autograd_grad(L):
    log = []
    model = L.nn.Tanh()
    model.register_full_backward_hook(grads_seen(log))
    x = leaf(L)
    (grad,) = L.autograd.grad(model(x).sum(), x)
    return log, grad, x.grad


def _backward_prepend_order(L):
    log = []
    model = linear(L)
    model.register_full_backward_hook(lambda m, gi, go: log.append("hook a"))
    model.register_full_backward_hook(lambda m, gi, go: log.append("hook b prepended"), prepend=True)
    model.register_full_backward_pre_hook(lambda m, go: log.append("pre a"))
    model.register_full_backward_pre_hook(lambda m, go: log.append("pre b prepended"), prepend=True)
    model(leaf(L)).sum().backward()
    return log


def _backward_pre_hook_chain(L):
    model = linear(L)
    model.register_full_backward_pre_hook(lambda m, go: (go[0] + 1,))
    model.register_full_backward_pre_hook(lambda m, go: (go[0] * 3,))
    x = leaf(L)
    model(x).sum().backward()
    return x.grad, model.weight.grad


def _backward_hook_removed_after_forward(L):
    log = []
    model = linear(L)
    handle = model.register_full_backward_hook(lambda m, gi, go: log.append("removed after forward"))
    x = leaf(L)
    out = model(x)
    handle.remove()
    out.sum().backward()
    return log


def _backward_hook_added_after_forward(L):
    log = []
    model = linear(L)
    model.register_full_backward_hook(lambda m, gi, go: log.append("at forward"))
    x = leaf(L)
    out = model(x)
    model.register_full_backward_hook(lambda m, gi, go: log.append("added after forward"))
    out.sum().backward()
    return log


def _backward_hook_first_added_after_forward(L):
    log = []
    model = linear(L)
    x = leaf(L)
    out = model(x)
    model.register_full_backward_hook(lambda m, gi, go: log.append("added after forward"))
    out.sum().backward()
    return log, x.grad


def _backward_hooks_not_set_up_under_no_grad(L):
    log = []
    model = linear(L)
    model.register_full_backward_hook(lambda m, gi, go: log.append("hook"))
    with L.no_grad():
        out = model(leaf(L))
    return log, out.requires_grad


def _backward_no_input_requires_grad(L):
    log = []
    model = linear(L)
    model.register_full_backward_hook(grads_seen(log))
    model.register_full_backward_hook(lambda m, gi, go: (None,))
    categories, _ = warning_categories(lambda: model(L.tensor([1.0, 2.0], dtype=L.float64)).sum().backward())
    return categories, log, model.weight.grad


def _backward_unused_output(L):
    log = []
    model = _two_outputs(L)
    model.register_full_backward_hook(grads_seen(log))
    x = leaf(L)
    a, _ = model(x)
    a.sum().backward()
    return log, x.grad


def _backward_pre_hook_sees_unused_output(L):
    log = []
    model = _two_outputs(L)
    model.register_full_backward_pre_hook(grads_seen(log))
    x = leaf(L)
    _, b = model(x)
    b.sum().backward()
    return log, x.grad


def _backward_hook_float32_dtypes(L):
    log = []
    model = L.nn.Linear(2, 1)
    model.register_full_backward_hook(lambda m, gi, go: log.append([str(g.dtype).split(".")[-1] for g in (*gi, *go)]))
    model(L.ones(1, 2, requires_grad=True)).sum().backward()
    return log


def _backward_hook_args_are_tuples(L):
    log = []
    model = L.nn.Tanh()
    model.register_full_backward_hook(lambda m, gi, go: log.append((type(gi).__name__, type(go).__name__, m is model)))
    model.register_full_backward_pre_hook(lambda m, go: log.append((type(go).__name__,)))
    model(leaf(L)).sum().backward()
    return log


def _backward_hook_returns_list(L):
    model = linear(L)
    model.register_full_backward_hook(lambda m, gi, go: [gi[0] * 5])
    x = leaf(L)
    model(x).sum().backward()
    return x.grad


def _forward_hook_output_change_with_backward_hook(L):
    log = []
    model = linear(L)
    model.register_forward_hook(lambda m, a, o: o * 2)
    model.register_full_backward_pre_hook(lambda m, go: log.append(go[0].tolist()))
    x = leaf(L)
    (model(x) * 3).sum().backward()
    return log, x.grad


def _pre_hook_input_change_with_backward_hook(L):
    log = []
    model = linear(L)
    model.register_forward_pre_hook(lambda m, a: a[0] * 2)
    model.register_full_backward_hook(grads_seen(log))
    x = leaf(L)
    model(x).sum().backward()
    return log, x.grad


def _backward_hook_on_container(L):
    log = []
    model = L.nn.Sequential(linear(L), L.nn.Tanh(), linear(L, ((1.0, 1.0),), (0.0,)))
    for module in model.modules():
        module.register_full_backward_hook(lambda m, gi, go: log.append(name(m)))
    x = leaf(L)
    model(x).sum().backward()
    return log, x.grad


OWN_BACKWARD_CASES = {
    "two_inputs_replace_second": _backward_two_inputs_replace_second,
    "input_without_grad": _backward_input_without_grad,
    "keyword_tensor_not_in_grad_input": _backward_keyword_tensor_not_in_grad_input,
    "two_outputs": _backward_two_outputs,
    "pre_hook_replaces_one_of_two": _backward_pre_hook_replaces_one_of_two_outputs,
    "identity_module": _backward_hook_on_identity,
    "module_called_twice_nested": _backward_called_twice,
    "module_called_twice_in_parallel": _backward_called_twice_in_parallel,
    "retain_graph_twice": _backward_retain_graph_twice,
    "autograd_grad": _backward_through_autograd_grad,
    "prepend_order": _backward_prepend_order,
    "pre_hook_chain": _backward_pre_hook_chain,
    "added_after_forward_when_none_at_forward": _backward_hook_first_added_after_forward,
    "no_grad_forward": _backward_hooks_not_set_up_under_no_grad,
    "no_input_requires_grad_returns_none_tuple": _backward_no_input_requires_grad,
    "float32_dtypes": _backward_hook_float32_dtypes,
    "hook_arguments_are_tuples": _backward_hook_args_are_tuples,
    "hook_returns_list": _backward_hook_returns_list,
    "forward_hook_changes_output": _forward_hook_output_change_with_backward_hook,
    "pre_hook_changes_input": _pre_hook_input_change_with_backward_hook,
    "container_and_children": _backward_hook_on_container,
    "unused_output": _backward_unused_output,
    "pre_hook_sees_unused_output": _backward_pre_hook_sees_unused_output,
    "non_tensor_input": _backward_non_tensor_input,
    "non_tensor_input_first": _backward_non_tensor_input_first,
    "output_with_non_tensor": _backward_output_with_non_tensor,
    "removed_after_forward": _backward_hook_removed_after_forward,
    "added_after_forward": _backward_hook_added_after_forward,
    "forward_sees_requires_grad_of_inputs": _backward_forward_sees_requires_grad,
}

@pytest.mark.parametrize("name", list(OWN_BACKWARD_CASES))
def test_own_full_backward_hooks(name):
    same_in_both(OWN_BACKWARD_CASES[name])


def _returns(L, kind):
    def forward(self, x):
        return [x * 2] if kind == "list" else {"y": x * 2}
    return module_of(L, forward)


@pytest.mark.parametrize("kind", ["list", "dict"])
def test_full_backward_hook_on_output_not_tensor_or_tuple_warns(kind):
    def run(L):
        model = _returns(L, kind)
        model.register_full_backward_hook(lambda m, gi, go: None)
        return warning_categories(lambda: model(leaf(L)))[0]

    same_in_both(run)


@pytest.mark.parametrize("kind", ["list", "dict"])
def test_full_backward_hook_on_output_not_tensor_or_tuple_calls(kind):
    def run(L):
        log = []
        model = _returns(L, kind)
        model.register_full_backward_hook(lambda m, gi, go: log.append("hook"))
        model.register_full_backward_pre_hook(lambda m, go: log.append("pre"))
        x = leaf(L)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = model(x)
        (out[0] if kind == "list" else out["y"]).sum().backward()
        return log, x.grad

    same_in_both(run)


def _no_input_requires_grad_hook_returns_tensor(L):
    model = linear(L)
    model.register_full_backward_hook(lambda m, gi, go: (L.ones(2, dtype=L.float64),))
    model(L.tensor([1.0, 2.0], dtype=L.float64)).sum().backward()


BACKWARD_RAISES = {
    "hook_returns_too_many": lambda L: (lambda m, x: (m.register_full_backward_hook(lambda m, gi, go: (gi[0], gi[0])),
                                                      m(x).sum().backward()))(linear(L), leaf(L)),
    "pre_hook_returns_too_many": lambda L: (lambda m, x: (m.register_full_backward_pre_hook(lambda m, go: (go[0], go[0])),
                                                          m(x).sum().backward()))(linear(L), leaf(L)),
    "hook_raises": lambda L: (lambda m, x: (m.register_full_backward_hook(lambda m, gi, go: 1 / 0),
                                            m(x).sum().backward()))(linear(L), leaf(L)),
    "legacy_then_full_on_one_module": lambda L: (lambda m: (m.register_backward_hook(lambda *a: None),
                                                            m.register_full_backward_hook(lambda *a: None)))(linear(L)),
    "full_then_legacy_on_one_module": lambda L: (lambda m: (m.register_full_backward_hook(lambda *a: None),
                                                            m.register_backward_hook(lambda *a: None)))(linear(L)),
    "no_input_requires_grad_hook_returns_tensor": _no_input_requires_grad_hook_returns_tensor,
}


@pytest.mark.parametrize("name", list(BACKWARD_RAISES))
def test_full_backward_hook_errors(name):
    raises_as_torch(BACKWARD_RAISES[name])


# --- in-place changes around a module with full backward hooks ------------------------------------

def _inplace_on_hooked_output(L):
    model = linear(L)
    model.register_full_backward_hook(lambda m, gi, go: None)
    out = model(leaf(L))
    out.add_(1)
    out.sum().backward()


def _inplace_relu_with_backward_hook(L):
    model = L.nn.ReLU(inplace=True)
    model.register_full_backward_hook(lambda m, gi, go: None)
    x = leaf(L, (-1.0, 2.0))
    model(x * 1).sum().backward()


def _inplace_relu_after_hooked_module(L):
    first = linear(L)
    first.register_full_backward_pre_hook(lambda m, go: None)
    model = L.nn.Sequential(first, L.nn.ReLU(inplace=True))
    model(leaf(L)).sum().backward()


def _inplace_on_output_of_global_hooked_module(L):
    with G(L).register_module_full_backward_hook(lambda m, gi, go: None):
        out = linear(L)(leaf(L))
        out.mul_(2)


INPLACE_RAISES = {
    "inplace_on_hooked_output": _inplace_on_hooked_output,
    "relu_inplace_with_backward_hook": _inplace_relu_with_backward_hook,
    "relu_inplace_after_hooked_module": _inplace_relu_after_hooked_module,
    "inplace_on_output_global_hook": _inplace_on_output_of_global_hooked_module,
}

@pytest.mark.parametrize("name", list(INPLACE_RAISES))
def test_inplace_after_backward_hooks_raises(name):
    raises_as_torch(INPLACE_RAISES[name])


def test_inplace_allowed_with_forward_hooks_only():
    def run(L):
        model = linear(L)
        model.register_forward_hook(lambda m, a, o: None)
        model.register_forward_pre_hook(lambda m, a: None)
        x = leaf(L)
        out = model(x)
        out.add_(1)
        L.nn.ReLU(inplace=True)(out).sum().backward()
        return x.grad

    same_in_both(run)


def test_inplace_in_forward_hook_on_output_without_backward_hooks():
    def run(L):
        model = linear(L)
        model.register_forward_hook(lambda m, a, o: o.mul_(2))
        x = leaf(L)
        out = model(x)
        out.sum().backward()
        return out, x.grad

    same_in_both(run)


# --- state dict hooks ------------------------------------------------------------------------------

def _state_dict_hook_order(L):
    log = []
    model = L.nn.Sequential(L.nn.Linear(1, 1), L.nn.Sequential(L.nn.Linear(1, 1)))
    for key, module in model.named_modules():
        module.register_state_dict_pre_hook(lambda m, prefix, keep_vars, key=key: log.append(("pre", key, prefix)))
        module.register_state_dict_post_hook(lambda m, sd, prefix, meta, key=key: log.append(("post", key, prefix, len(sd))))
    model.state_dict()
    return log


def _state_dict_post_hook_sees_metadata_and_keep_vars(L):
    log = []
    model = L.nn.Sequential(L.nn.BatchNorm1d(1))
    model[0].register_state_dict_post_hook(lambda m, sd, prefix, meta: log.append(
        (prefix, dict(meta), sorted(type(v).__name__ for v in sd.values()))))
    model.state_dict(keep_vars=True)
    model.state_dict(prefix="top.")
    return log


def _state_dict_private_hook_replacement(L):
    model = L.nn.Sequential(L.nn.Linear(1, 1))
    model[0]._register_state_dict_hook(lambda m, sd, prefix, meta: OrderedDict((k.upper(), v) for k, v in sd.items()))
    model._register_state_dict_hook(lambda m, sd, prefix, meta: None)
    return list(model.state_dict())


def _state_dict_hooks_removed(L):
    log = []
    model = L.nn.Linear(1, 1)
    handles = [model.register_state_dict_pre_hook(lambda *a: log.append("pre")),
               model.register_state_dict_post_hook(lambda *a: log.append("post")),
               model._register_state_dict_hook(lambda *a: log.append("private"))]
    model.state_dict()
    for handle in handles:
        handle.remove()
    model.state_dict()
    return log


def _load_pre_hook_arguments(L):
    log = []
    model = L.nn.Sequential(L.nn.Linear(1, 1))

    def hook(module, state_dict, prefix, local_metadata, strict, missing, unexpected, errors):
        log.append((module is model[0], sorted(state_dict), prefix, dict(local_metadata), strict,
                    list(missing), list(unexpected), list(errors)))

    model[0].register_load_state_dict_pre_hook(hook)
    model.load_state_dict(model.state_dict())
    model.load_state_dict({"0.weight": L.ones(1, 1), "0.bias": L.ones(1), "x": L.ones(1)}, strict=False)
    return log


def _load_pre_hook_adds_missing_key(L):
    model = L.nn.Linear(1, 1)
    model.register_load_state_dict_pre_hook(lambda m, sd, prefix, meta, strict, missing, unexpected, errors: missing.append("made.up"))
    return list(model.load_state_dict(model.state_dict(), strict=False))


def _load_pre_hook_on_parent_renames_for_child(L):
    model = L.nn.Sequential(L.nn.Linear(1, 1))

    def rename(m, sd, prefix, *rest):
        for key in [k for k in sd if k.startswith("old.")]:
            sd["0." + key[4:]] = sd.pop(key)

    model.register_load_state_dict_pre_hook(rename)
    result = model.load_state_dict({"old.weight": L.full((1, 1), 2.0), "old.bias": L.full((1,), 3.0)})
    return list(result), model[0].weight, model[0].bias


def _load_private_pre_hook_forms(L):
    log = []
    model = L.nn.Linear(1, 1)
    model._register_load_state_dict_pre_hook(lambda sd, prefix, *rest: log.append(("plain", len(rest))))
    model._register_load_state_dict_pre_hook(lambda m, sd, prefix, *rest: log.append(("with module", m is model, len(rest))),
                                             with_module=True)
    model.load_state_dict(model.state_dict())
    return log


def _load_post_hook_order_and_keys(L):
    log = []
    model = L.nn.Sequential(L.nn.Linear(1, 1), L.nn.Sequential(L.nn.Linear(1, 1)))
    for key, module in model.named_modules():
        module.register_load_state_dict_post_hook(
            lambda m, keys, key=key: log.append((key, list(keys.missing_keys), list(keys.unexpected_keys), type(keys).__name__)))
    model.load_state_dict({"0.weight": L.ones(1, 1), "1.0.bias": L.ones(1), "junk": L.ones(1)}, strict=False)
    return log


def _load_post_hook_adds_unexpected_not_strict(L):
    model = L.nn.Linear(1, 1)
    model.register_load_state_dict_post_hook(lambda m, keys: keys.unexpected_keys.append("extra"))
    return list(model.load_state_dict(model.state_dict(), strict=False))


def _load_post_hook_clears_for_strict(L):
    model = L.nn.Sequential(L.nn.Linear(1, 1))
    model[0].register_load_state_dict_post_hook(lambda m, keys: keys.missing_keys.clear())
    result = model.load_state_dict({"0.weight": L.full((1, 1), 4.0)})
    return list(result), model[0].weight


def _load_hooks_removed(L):
    log = []
    model = L.nn.Linear(1, 1)
    handles = [model.register_load_state_dict_pre_hook(lambda *a: log.append("pre")),
               model.register_load_state_dict_post_hook(lambda *a: log.append("post"))]
    model.load_state_dict(model.state_dict())
    with handles[0], handles[1]:
        pass
    model.load_state_dict(model.state_dict())
    return log


STATE_DICT_CASES = {
    "pre_and_post_order_nested": _state_dict_hook_order,
    "post_hook_metadata_keep_vars_prefix": _state_dict_post_hook_sees_metadata_and_keep_vars,
    "private_hook_replacement_child_and_none": _state_dict_private_hook_replacement,
    "state_dict_hooks_removed": _state_dict_hooks_removed,
    "load_pre_hook_arguments": _load_pre_hook_arguments,
    "load_pre_hook_adds_missing_key": _load_pre_hook_adds_missing_key,
    "load_pre_hook_on_parent_renames_for_child": _load_pre_hook_on_parent_renames_for_child,
    "load_private_pre_hook_forms": _load_private_pre_hook_forms,
    "load_post_hook_order_and_keys": _load_post_hook_order_and_keys,
    "load_post_hook_adds_unexpected_not_strict": _load_post_hook_adds_unexpected_not_strict,
    "load_post_hook_clears_for_strict": _load_post_hook_clears_for_strict,
    "load_hooks_removed": _load_hooks_removed,
}

STATE_DICT_BUGS = {}


@pytest.mark.parametrize("name", [pytest.param(key, marks=bug(STATE_DICT_BUGS[key])) if key in STATE_DICT_BUGS else key
                                  for key in STATE_DICT_CASES])
def test_state_dict_hooks(name):
    same_in_both(STATE_DICT_CASES[name])


def _same_function_public_then_private(L):
    model = L.nn.Linear(1, 1)

    def hook(m, sd, prefix, meta):
        return None

    model.register_state_dict_post_hook(hook)
    model._register_state_dict_hook(hook)


STATE_DICT_RAISES = {
    "post_hook_returns_a_value": lambda L: (lambda m: (m.register_state_dict_post_hook(lambda m, sd, p, meta: {}),
                                                       m.state_dict()))(L.nn.Linear(1, 1)),
    "load_pre_hook_error_msg_not_strict": lambda L: (lambda m: (m.register_load_state_dict_pre_hook(
        lambda m, sd, p, meta, strict, missing, unexpected, errors: errors.append("bad")),
        m.load_state_dict(m.state_dict(), strict=False)))(L.nn.Linear(1, 1)),
    "load_post_hook_adds_missing_strict": lambda L: (lambda m: (m.register_load_state_dict_post_hook(
        lambda m, keys: keys.missing_keys.append("extra")), m.load_state_dict(m.state_dict())))(L.nn.Linear(1, 1)),
    "load_post_hook_returns_a_value": lambda L: (lambda m: (m.register_load_state_dict_post_hook(lambda m, keys: keys),
                                                            m.load_state_dict(m.state_dict())))(L.nn.Linear(1, 1)),
    "load_pre_hook_raises": lambda L: (lambda m: (m.register_load_state_dict_pre_hook(lambda *a: {}["x"]),
                                                  m.load_state_dict(m.state_dict())))(L.nn.Linear(1, 1)),
    "same_function_public_then_private": _same_function_public_then_private,
}

@pytest.mark.parametrize("name", list(STATE_DICT_RAISES))
def test_state_dict_hook_errors(name):
    raises_as_torch(STATE_DICT_RAISES[name])


# --- RemovableHandle --------------------------------------------------------------------------------

def _handle_ids_follow_registry_order(L):
    model = L.nn.Identity()
    first = model.register_forward_hook(lambda m, a, o: None)
    second = model.register_forward_hook(lambda m, a, o: None, prepend=True)
    third = model.register_forward_hook(lambda m, a, o: None, with_kwargs=True, always_call=True)
    return (second.id > first.id, third.id > second.id,
            list(model._forward_hooks) == [second.id, first.id, third.id],
            dict(model._forward_hooks_with_kwargs) == {third.id: True},
            dict(model._forward_hooks_always_called) == {third.id: True})


def _handle_remove_clears_flags(L):
    model = L.nn.Identity()
    handle = model.register_forward_hook(lambda m, a, k, o: None, with_kwargs=True, always_call=True)
    pre = model.register_forward_pre_hook(lambda m, a, k: None, with_kwargs=True)
    handle.remove()
    pre.remove()
    return (len(model._forward_hooks), len(model._forward_hooks_with_kwargs), len(model._forward_hooks_always_called),
            len(model._forward_pre_hooks), len(model._forward_pre_hooks_with_kwargs))


def _handle_ids_unique_across_kinds(L):
    model = L.nn.Linear(1, 1)
    handles = [model.register_forward_pre_hook(lambda *a: None), model.register_forward_hook(lambda *a: None),
               model.register_full_backward_hook(lambda *a: None), model.register_full_backward_pre_hook(lambda *a: None),
               model.register_state_dict_pre_hook(lambda *a: None), model.register_load_state_dict_post_hook(lambda *a: None),
               L.ones(1, requires_grad=True).register_hook(lambda g: None)]
    with G(L).register_module_forward_hook(lambda *a: None) as global_handle:
        handles.append(global_handle)
    ids = [handle.id for handle in handles]
    return len(set(ids)), ids == sorted(ids), [type(handle).__name__ for handle in handles]


def _handle_with_returns_itself(L):
    model = L.nn.Identity()
    handle = model.register_forward_hook(lambda m, a, o: o + 1)
    with handle as entered:
        inside = model(L.ones(1))
    return entered is handle, inside, model(L.ones(1))


def _handle_direct_construction(L):
    RemovableHandle = L.utils.hooks.RemovableHandle
    hooks, extra, other = OrderedDict(), OrderedDict(), OrderedDict()
    one = RemovableHandle(hooks, extra_dict=extra)
    hooks[one.id], extra[one.id] = "hook", True
    two = RemovableHandle(hooks, extra_dict=[extra, other])
    hooks[two.id], extra[two.id], other[two.id] = "hook", True, True
    one.remove()
    after_one = (list(hooks.values()), len(extra), len(other))
    two.remove()
    two.remove()
    return after_one, (len(hooks), len(extra), len(other))


def _handle_outlives_its_registry(L):
    model = L.nn.Identity()
    handle = model.register_forward_hook(lambda m, a, o: None)
    del model
    handle.remove()
    return True


def _handle_pickles_with_its_registry(L):
    hooks = OrderedDict()
    handle = L.utils.hooks.RemovableHandle(hooks)
    hooks[handle.id] = "hook"
    hooks_back, handle_back = pickle.loads(pickle.dumps((hooks, handle)))
    handle_back.remove()
    return len(hooks), len(hooks_back), handle_back.id == handle.id


def _next_id_counts(L):
    RemovableHandle = L.utils.hooks.RemovableHandle
    handle = RemovableHandle(OrderedDict())
    return RemovableHandle.next_id == handle.id + 1


HANDLE_CASES = {
    "ids_follow_registry_order_prepend_flags": _handle_ids_follow_registry_order,
    "remove_clears_flag_registries": _handle_remove_clears_flags,
    "ids_unique_and_increasing_across_kinds": _handle_ids_unique_across_kinds,
    "with_returns_itself": _handle_with_returns_itself,
    "direct_construction_extra_dict_forms": _handle_direct_construction,
    "outlives_its_registry": _handle_outlives_its_registry,
    "pickles_with_its_registry": _handle_pickles_with_its_registry,
    "next_id": _next_id_counts,
}

@pytest.mark.parametrize("name", list(HANDLE_CASES))
def test_removable_handle(name):
    same_in_both(HANDLE_CASES[name])


def test_removable_handle_of_a_plain_dict_raises():
    raises_as_torch(lambda L: L.utils.hooks.RemovableHandle({}))
