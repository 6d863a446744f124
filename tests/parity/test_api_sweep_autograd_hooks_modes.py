"""A sweep of autograd hooks and grad modes against PyTorch (the oracle):
``torch.autograd.graph.saved_tensors_hooks`` (which tensors ``pack_hook`` gets and how often,
how often ``unpack_hook`` runs, hooks that change the saved values, nesting, hooks that raise or
return what is not a tensor), ``save_on_cpu``, ``disable_saved_tensors_hooks``, ``Node.register_hook``
and ``Node.register_prehook`` on ``grad_fn`` (their arguments, replaced gradients, ``handle.remove``),
``Tensor.register_hook`` on leaves and intermediates (returning None or a tensor, the order of
several hooks, removal, tensors that do not require grad), ``register_post_accumulate_grad_hook``,
``retain_grad`` and the warning on reading ``.grad`` of a non-leaf, a second ``backward`` without
``retain_graph``, ``backward(inputs=...)``, non-scalar ``backward`` without a gradient,
``torch.autograd.grad`` (``allow_unused``, ``materialize_grads``, ``grad_outputs``,
``retain_graph``, ``create_graph``, inputs not in the graph), ``torch.inference_mode`` (as block
and decorator, ``is_inference``, inference tensors used by autograd later, nested ``enable_grad``),
``no_grad`` / ``enable_grad`` / ``set_grad_enabled`` as blocks, decorators and functions and their
nesting, ``is_grad_enabled``, ``set_detect_anomaly`` / ``detect_anomaly`` (NaN in backward),
``requires_grad_`` on non-leaves, ``detach_`` on views and ``.data`` assignment.

Each test runs the same code with ``torch`` and with ``chainrule`` and compares values, dtypes,
shapes, flags, call logs, warning categories or exception types. Tests marked
``xfail(strict=True, reason="BUG: ...")`` are differences found: each turns into an XPASS failure
the day it is fixed, and the mark must go.
"""
import warnings

import pytest
import torch

import chainrule
from tests.parity.sweep import assert_same, bug, bundle, fail_kind, outcome, plain, raises_as_torch, same_in_both, warning_categories

NAN = float("nan")
INF = float("inf")


def leaf(L, data=(1.0, 2.0, 3.0), dtype=None):
    """A float64 leaf that requires grad."""
    return L.tensor(list(data) if isinstance(data, tuple) else data, dtype=dtype or L.float64, requires_grad=True)


# --- saved tensors hooks ------------------------------------------------------------------------

def packed_log(op):
    """Run ``op(x, y, L)`` under logging saved_tensors_hooks, then backward: what ``pack_hook`` got
    (shape, dtype, is x, is y, requires_grad; as a sorted list, the order being PyTorch's codegen's), how
    often ``unpack_hook`` ran, and the gradients."""
    def run(L):
        x = leaf(L, (1.0, 2.0))
        y = leaf(L, (3.0, 4.0))
        packed, unpacked = [], []

        def pack(tensor):
            packed.append((tuple(tensor.shape), str(tensor.dtype).split(".")[-1], tensor is x, tensor is y, tensor.requires_grad))
            return tensor

        def unpack(tensor):
            unpacked.append(tuple(tensor.shape))
            return tensor

        with L.autograd.graph.saved_tensors_hooks(pack, unpack):
            out = op(x, y, L)
        out.sum().backward()
        return sorted(packed), len(unpacked), x.grad, y.grad
    return run


PACK_CASES = {
    "mul_saves_both_inputs": packed_log(lambda x, y, L: x * y),
    "div_saves_both_inputs": packed_log(lambda x, y, L: x / y),
    "add_saves_nothing": packed_log(lambda x, y, L: x + y),
    "sum_saves_nothing": packed_log(lambda x, y, L: (x - y).sum()),
    "exp_saves_its_output": packed_log(lambda x, y, L: (x + y).exp()),
    "sin_saves_its_input": packed_log(lambda x, y, L: x.sin() + y),
    "tanh_saves_its_output": packed_log(lambda x, y, L: (x - y).tanh()),
    "relu_saves_its_output": packed_log(lambda x, y, L: (y - x).relu()),
    "matmul_saves_both": packed_log(lambda x, y, L: x.reshape(1, 2) @ y.reshape(2, 1)),
    "pow_scalar_packs_once": packed_log(lambda x, y, L: x.pow(2) + y),
    "mul_by_python_scalar_packs_nothing": packed_log(lambda x, y, L: x * 2 + y),
    "broadcast_mul": packed_log(lambda x, y, L: x.reshape(2, 1) * y),
    "max_saves_input_and_result": packed_log(lambda x, y, L: x.max() + y),
    "prod_saves_input_and_result": packed_log(lambda x, y, L: x.prod() + y),
    "softmax_saves_output": packed_log(lambda x, y, L: L.softmax(x, 0) + y),
    "clamp_saves_input": packed_log(lambda x, y, L: x.clamp(0, 1.5) + y),
    "mean_cat_save_nothing": packed_log(lambda x, y, L: L.cat([x, y]).mean()),
    "where_saves_condition": packed_log(lambda x, y, L: L.where(x > 1.5, x, y)),
    "index_saves_indices": packed_log(lambda x, y, L: x[L.tensor([1, 1])] + y),
    "float32_input": packed_log(lambda x, y, L: x.float().sin() * y),
}

def _module_packs(L):
    """How many tensors, of how many elements each, common layers pack (float32, as a model runs)."""
    result = []
    for make, shape in ((lambda: L.nn.Linear(3, 2), (4, 3)), (lambda: L.nn.Linear(3, 2, bias=False), (4, 3)),
                        (lambda: L.nn.ReLU(), (4, 3)), (lambda: L.nn.Sigmoid(), (4, 3)), (lambda: L.nn.Tanh(), (4, 3)),
                        (lambda: L.nn.GELU(), (4, 3)), (lambda: L.nn.Softplus(), (4, 3)), (lambda: L.nn.LeakyReLU(), (4, 3)),
                        (lambda: L.nn.Dropout(0.5).eval(), (4, 3)), (lambda: L.nn.Conv1d(4, 2, 2), (1, 4, 3))):
        module = make()
        x = L.ones(*shape, requires_grad=True)
        packed = []
        with L.autograd.graph.saved_tensors_hooks(lambda t: (packed.append((t.numel(), str(t.dtype).split(".")[-1])), t)[1],
                                                  lambda t: t):
            out = module(x)
        out.sum().backward()
        result.append(sorted(packed))
    return result


PACK_CASES["nn_layers"] = _module_packs

PACK_BUGS = {
    "where_saves_condition": "torch.where(cond, x, y) under saved_tensors_hooks: PyTorch packs the bool condition; "
                             "chainrule calls pack_hook with nothing",
    "clamp_saves_input": "x.clamp(0, 1.5) under saved_tensors_hooks: PyTorch packs the input x; chainrule calls "
                         "pack_hook with nothing",
    "index_saves_indices": "x[index_tensor] under saved_tensors_hooks: PyTorch packs the int64 index tensor; "
                           "chainrule calls pack_hook with nothing",
}


@pytest.mark.parametrize("name", [pytest.param(name, marks=bug(PACK_BUGS[name])) if name in PACK_BUGS else name
                                  for name in PACK_CASES])
def test_saved_tensors_hooks_pack_and_unpack(name):
    same_in_both(PACK_CASES[name], rtol=1e-6, atol=1e-7)


def _hooks_change_saved_values(L):
    """unpack_hook returning other values changes the gradients computed from them."""
    x = leaf(L, (1.0, 2.0))
    with L.autograd.graph.saved_tensors_hooks(lambda t: t * 1, lambda t: t * 10):
        y = x * x
    y.sum().backward()
    return x.grad


def _pack_returns_a_non_tensor(L):
    """pack_hook may return anything (here a tuple); unpack_hook turns it back."""
    x = leaf(L, (1.0, 2.0))
    store = []

    def pack(tensor):
        store.append(tensor.detach().clone())
        return ("slot", len(store) - 1)

    with L.autograd.graph.saved_tensors_hooks(pack, lambda key: store[key[1]]):
        y = (x.sin() * x).sum()
    y.backward()
    return x.grad, len(store)


def _nested_hooks_innermost_applies(L):
    log = []
    x = leaf(L, (1.0, 2.0))
    def logging(word):
        return lambda t: (log.append(word), t)[1]

    with L.autograd.graph.saved_tensors_hooks(logging("outer pack"), logging("outer unpack")):
        a = x.sin()
        with L.autograd.graph.saved_tensors_hooks(logging("inner pack"), logging("inner unpack")):
            b = a.cos()
        c = b.exp()
    c.sum().backward()
    return log, x.grad


def _hooks_apply_when_saved_not_when_backward_runs(L):
    log = []
    x = leaf(L, (1.0, 2.0))
    y = x.sin()
    with L.autograd.graph.saved_tensors_hooks(lambda t: (log.append("pack"), t)[1], lambda t: (log.append("unpack"), t)[1]):
        y.sum().backward()
    return log, x.grad


def _unpack_on_each_backward(L):
    log = []
    x = leaf(L, (1.0, 2.0))
    with L.autograd.graph.saved_tensors_hooks(lambda t: (log.append("pack"), t)[1], lambda t: (log.append("unpack"), t)[1]):
        y = x.sin().sum()
    y.backward(retain_graph=True)
    y.backward()
    return log, x.grad


def _pack_runs_without_grad_mode(L):
    """What pack_hook computes is not recorded: the mode inside it is no-grad."""
    modes = []
    x = leaf(L, (1.0, 2.0))

    def pack(tensor):
        modes.append(L.is_grad_enabled())
        return tensor * 1

    with L.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        y = x.sin()
    return modes, y.requires_grad


def _no_pack_without_grad(L):
    """Nothing is saved, so nothing packed, under no_grad or for tensors not requiring grad."""
    log = []
    with L.autograd.graph.saved_tensors_hooks(lambda t: (log.append("pack"), t)[1], lambda t: t):
        L.tensor([1.0, 2.0]).sin()
        with L.no_grad():
            leaf(L).sin()
    return log


def _custom_function_save_for_backward(L):
    log = []

    class Square(L.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return 2 * x * grad

    x = leaf(L, (1.0, 2.0))
    with L.autograd.graph.saved_tensors_hooks(lambda t: (log.append(("pack", tuple(t.shape))), t)[1],
                                              lambda t: (log.append(("unpack", tuple(t.shape))), t)[1]):
        y = Square.apply(x)
    y.sum().backward()
    return log, x.grad


def _save_on_cpu_gradients(L):
    x = leaf(L, (0.5, 1.5, -2.0))
    with L.autograd.graph.save_on_cpu():
        y = (x.exp() * x.sin()).sum()
    y.backward()
    return x.grad


def _save_on_cpu_pin_memory_false(L):
    x = leaf(L, (0.5, 1.5))
    with L.autograd.graph.save_on_cpu(pin_memory=False):
        y = (x * x.tanh()).sum()
    y.backward()
    return x.grad


def _hooks_is_context_manager_returning(L):
    hooks = L.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t)
    with hooks as entered:
        pass
    return entered is None


def _packs_during_create_graph(L):
    """Under the hooks, the nodes that a create_graph backward records save through them too."""
    log = []
    x = leaf(L)
    with L.autograd.graph.saved_tensors_hooks(lambda t: (log.append(["pack", tuple(t.shape)]), t)[1],
                                              lambda t: (log.append(["unpack"]), t)[1]):
        y = (x.exp() * x).sum()
        (g,) = L.autograd.grad(y, x, create_graph=True)
    g.sum().backward()
    return sorted(log), x.grad


def _saved_values_changed_after_packing(L):
    """The hooks own what they packed: a later in-place change is not looked for."""
    x = leaf(L)
    a = x * 1
    with L.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t):
        y = a.sin()
    with L.no_grad():
        a.mul_(2)
    y.sum().backward()
    return x.grad


SAVED_HOOKS_CASES = {
    "packs_during_create_graph": _packs_during_create_graph,
    "changed_after_packing_not_checked": _saved_values_changed_after_packing,
    "unpack_changes_gradients": _hooks_change_saved_values,
    "pack_returns_non_tensor": _pack_returns_a_non_tensor,
    "nested_innermost_applies": _nested_hooks_innermost_applies,
    "hooks_at_save_time_only": _hooks_apply_when_saved_not_when_backward_runs,
    "unpack_on_each_backward": _unpack_on_each_backward,
    "pack_runs_in_no_grad": _pack_runs_without_grad_mode,
    "no_pack_without_grad": _no_pack_without_grad,
    "custom_function_save_for_backward": _custom_function_save_for_backward,
    "save_on_cpu_gradients": _save_on_cpu_gradients,
    "save_on_cpu_pin_memory_false": _save_on_cpu_pin_memory_false,
    "enter_returns_none": _hooks_is_context_manager_returning,
}


SAVED_HOOKS_BUGS = {}


@pytest.mark.parametrize("name", [pytest.param(name, marks=bug(SAVED_HOOKS_BUGS[name])) if name in SAVED_HOOKS_BUGS else name
                                  for name in SAVED_HOOKS_CASES])
def test_saved_tensors_hooks_behaviour(name):
    same_in_both(SAVED_HOOKS_CASES[name], rtol=1e-7, atol=1e-9)


def _pack_raises(L):
    def pack(tensor):
        raise ValueError("no")

    x = leaf(L)
    with L.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        x.sin()


def _unpack_raises(L):
    def unpack(tensor):
        raise KeyError("gone")

    x = leaf(L)
    with L.autograd.graph.saved_tensors_hooks(lambda t: t, unpack):
        y = x.sin().sum()
    y.backward()


def _unpack_returns_non_tensor(L):
    x = leaf(L)
    with L.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: 3):
        y = x.sin().sum()
    y.backward()


def _pack_modifies_in_place(L):
    x = leaf(L)
    with L.autograd.graph.saved_tensors_hooks(lambda t: t.mul_(2), lambda t: t):
        x.exp()


def _disabled_hooks_refuse(L):
    with L.autograd.graph.disable_saved_tensors_hooks("not here"):
        with L.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t):
            pass


def _disable_inside_active_hooks(L):
    with L.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t):
        with L.autograd.graph.disable_saved_tensors_hooks("not here"):
            pass


def _second_backward_after_unpack_free(L):
    x = leaf(L)
    with L.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t):
        y = x.sin().sum()
    y.backward()
    y.backward()


SAVED_HOOKS_RAISES = {
    "pack_raises_value_error": _pack_raises,
    "unpack_raises_key_error": _unpack_raises,
    "unpack_returns_non_tensor": _unpack_returns_non_tensor,
    "pack_modifies_in_place": _pack_modifies_in_place,
    "disabled_hooks_refuse": _disabled_hooks_refuse,
    "disable_inside_active_hooks": _disable_inside_active_hooks,
    "second_backward_after_unpack": _second_backward_after_unpack_free,
}

SAVED_HOOKS_RAISES_BUGS = {}


@pytest.mark.parametrize("name", [pytest.param(name, marks=bug(SAVED_HOOKS_RAISES_BUGS[name]))
                                  if name in SAVED_HOOKS_RAISES_BUGS else name for name in SAVED_HOOKS_RAISES])
def test_saved_tensors_hooks_raise_as_torch(name):
    raises_as_torch(SAVED_HOOKS_RAISES[name])


def test_disable_saved_tensors_hooks_restores_on_exit():
    def run(L):
        with L.autograd.graph.disable_saved_tensors_hooks("not here"):
            pass
        log = []
        x = leaf(L, (1.0, 2.0))
        with L.autograd.graph.saved_tensors_hooks(lambda t: (log.append("pack"), t)[1], lambda t: t):
            x.sin()
        return log
    same_in_both(run)


# --- node hooks on grad_fn ----------------------------------------------------------------------

def _node_hook_arguments(L):
    seen = []
    x = leaf(L, (1.0, 2.0))
    w = leaf(L, (3.0, 4.0))
    y = x * w
    y.grad_fn.register_hook(lambda grad_inputs, grad_outputs: seen.append(
        [type(grad_inputs).__name__, len(grad_inputs), list(grad_inputs), type(grad_outputs).__name__, list(grad_outputs)]))
    (y * L.tensor([1.0, 10.0], dtype=L.float64)).sum().backward()
    return seen


def _node_hook_replaces_grad_inputs(L):
    x = leaf(L, (1.0, 2.0))
    w = leaf(L, (3.0, 4.0))
    y = x * w
    y.grad_fn.register_hook(lambda grad_inputs, grad_outputs: (grad_inputs[0] * 0, grad_inputs[1] * 2))
    y.sum().backward()
    return x.grad, w.grad


def _node_hook_returning_none_keeps(L):
    x = leaf(L, (1.0, 2.0))
    y = x.exp()
    y.grad_fn.register_hook(lambda grad_inputs, grad_outputs: None)
    y.sum().backward()
    return x.grad


def _node_hook_grad_input_none_for_constant(L):
    seen = []
    x = leaf(L, (1.0, 2.0))
    c = L.tensor([5.0, 6.0], dtype=L.float64)
    y = x * c
    y.grad_fn.register_hook(lambda grad_inputs, grad_outputs: seen.append([each is None for each in grad_inputs]))
    y.sum().backward()
    return seen, x.grad


def _node_prehook_replaces_grad_outputs(L):
    seen = []
    x = leaf(L, (1.0, 2.0))
    y = x.exp()
    y.grad_fn.register_prehook(lambda grad_outputs: (seen.append([type(grad_outputs).__name__, list(grad_outputs)]),
                                                     (grad_outputs[0] * 3,))[1])
    y.sum().backward()
    return seen, x.grad


def _node_prehook_none_keeps(L):
    x = leaf(L, (1.0, 2.0))
    y = x.exp()
    y.grad_fn.register_prehook(lambda grad_outputs: None)
    y.sum().backward()
    return x.grad


def _node_hooks_order_and_chaining(L):
    log = []
    x = leaf(L, (1.0, 2.0))
    y = x.sin()
    y.grad_fn.register_prehook(lambda g: (log.append("pre1"), (g[0] + 1,))[1])
    y.grad_fn.register_prehook(lambda g: (log.append(["pre2", list(g)]), (g[0] * 2,))[1])
    y.grad_fn.register_hook(lambda gi, go: (log.append(["post1", list(go)]), (gi[0] * 10,))[1])
    y.grad_fn.register_hook(lambda gi, go: log.append(["post2", list(gi)]))
    y.sum().backward()
    return log, x.grad


def _node_hook_handle_remove(L):
    x = leaf(L, (1.0, 2.0))
    y = x.exp()
    handle = y.grad_fn.register_hook(lambda gi, go: (gi[0] * 100,))
    pre = y.grad_fn.register_prehook(lambda g: (g[0] * 7,))
    handle.remove()
    pre.remove()
    handle.remove()  # a second remove is harmless
    y.sum().backward()
    return x.grad


def _node_hooks_on_accumulate_grad(L):
    log = []
    x = leaf(L, (1.0, 2.0))
    y = x * 3
    node = y.grad_fn.next_functions[0][0]
    node.register_prehook(lambda g: (log.append(["pre", list(g)]), (g[0] + 1,))[1])
    node.register_hook(lambda gi, go: log.append(["post", len(gi), list(go)]))
    y.sum().backward()
    return type(node).__name__, log, x.grad


def _node_hooks_when_node_is_not_reached(L):
    log = []
    x = leaf(L, (1.0, 2.0))
    a = x.sin()
    b = x.cos()
    b.grad_fn.register_hook(lambda gi, go: log.append("b"))
    a.sum().backward()
    return log


def _node_hook_returns_none_gradient(L):
    x = leaf(L)
    y = x.exp()
    y.grad_fn.register_hook(lambda gi, go: (None,))
    y.sum().backward()
    return x.grad is None


def _node_prehook_returns_none_gradient(L):
    x = leaf(L)
    y = x.exp()
    y.grad_fn.register_prehook(lambda go: (None,))
    y.sum().backward()
    return x.grad is None


def _nodes_are_graph_nodes(L):
    x = leaf(L)
    y = x.exp()
    return (isinstance(y.grad_fn, L.autograd.graph.Node), isinstance(y.grad_fn.next_functions[0][0], L.autograd.graph.Node),
            y.grad_fn.name(), type(y.grad_fn.register_hook(lambda gi, go: None)).__name__)


def _node_hooks_run_on_each_backward(L):
    log = []
    x = leaf(L, (1.0, 2.0))
    y = x.exp()
    y.grad_fn.register_hook(lambda gi, go: log.append(list(gi)))
    y.grad_fn.register_prehook(lambda go: log.append(list(go)))
    z = (y * 2).sum()
    z.backward(retain_graph=True)
    z.backward()
    return log


def _grad_inputs_count(ops):
    """For each op, how many grad_inputs and grad_outputs its grad_fn's hook gets, and which are None."""
    def run(L):
        log = []
        for op in ops:
            x = leaf(L, (1.0, 2.0, 3.0, 4.0))
            out = op(x, L)
            out.grad_fn.register_hook(lambda gi, go: log.append([[g is None for g in gi], [g is None for g in go]]))
            out.sum().backward()
        return log
    return run


def _hook_replaces_grad_of_sum_over_dim(L):
    x = leaf(L, (1.0, 2.0, 3.0, 4.0))
    y = x.reshape(2, 2).sum(1)
    y.grad_fn.register_hook(lambda gi, go: (gi[0] * 2,))
    y.sum().backward()
    return x.grad


def _custom_function_node_hooks(L):
    class Double(L.autograd.Function):
        @staticmethod
        def forward(ctx, t):
            return t * 2

        @staticmethod
        def backward(ctx, grad):
            return grad * 2

    log = []
    x = leaf(L)
    y = Double.apply(x)
    y.grad_fn.register_hook(lambda gi, go: log.append([len(gi), list(go)]))
    y.grad_fn.register_prehook(lambda go: (go[0] * 10,))
    y.sum().backward()
    return log, x.grad


def _tensor_hook_before_node_prehook(L):
    """A tensor's hooks run before its grad_fn's prehooks, whichever was registered first."""
    results = []
    for tensor_first in (True, False):
        x = leaf(L)
        y = x * 2
        if tensor_first:
            y.register_hook(lambda g: g * 2)
        y.grad_fn.register_prehook(lambda go: (go[0] + 1,))
        if not tensor_first:
            y.register_hook(lambda g: g * 2)
        y.sum().backward()
        results.append(x.grad)
    return results


def _leaf_hook_before_accumulate_grad_prehook(L):
    """On a leaf too: its tensor hooks run before its AccumulateGrad node's prehooks."""
    x = leaf(L)
    x.register_hook(lambda g: g * 2)
    y = x * 1
    y.grad_fn.next_functions[0][0].register_prehook(lambda go: (go[0] + 1,))
    y.sum().backward()
    return x.grad


def _prehook_none_for_unused_outputs(L):
    log = []
    x = leaf(L, (1.0, 2.0))
    a, _ = x.split(1)
    c, _ = x.unbind()
    a.grad_fn.register_prehook(lambda go: log.append([None if g is None else g.tolist() for g in go]))
    c.grad_fn.register_prehook(lambda go: log.append([None if g is None else g.tolist() for g in go]))
    (a * 3 + c).sum().backward()
    return log, x.grad


NODE_HOOK_CASES = {
    "grad_inputs_of_ops_with_many_inputs": _grad_inputs_count([
        lambda x, L: L.nn.functional.linear(x.reshape(2, 2), x.reshape(2, 2), x[:2]),
        lambda x, L: L.add(x, x, alpha=2), lambda x, L: x * x, lambda x, L: x.exp()]),
    "grad_inputs_of_ops_taking_dims_or_sizes": _grad_inputs_count([
        lambda x, L: x.reshape(2, 2).sum(1), lambda x, L: x.mean(0, keepdim=True), lambda x, L: x.reshape(2, 2),
        lambda x, L: x[1:3], lambda x, L: L.softmax(x, 0), lambda x, L: x.split(2)[0], lambda x, L: x.clamp(0, 2)]),
    "grad_inputs_of_where_cat_stack": _grad_inputs_count([
        lambda x, L: L.where(x > 2, x, 0.0), lambda x, L: L.cat([x, x]), lambda x, L: L.stack([x, x])]),
    "hook_replaces_grad_of_sum_over_dim": _hook_replaces_grad_of_sum_over_dim,
    "custom_function_node_hooks": _custom_function_node_hooks,
    "tensor_hook_before_node_prehook": _tensor_hook_before_node_prehook,
    "leaf_hook_before_accumulate_grad_prehook": _leaf_hook_before_accumulate_grad_prehook,
    "prehook_none_for_unused_outputs": _prehook_none_for_unused_outputs,
    "hook_returns_none_gradient": _node_hook_returns_none_gradient,
    "prehook_returns_none_gradient": _node_prehook_returns_none_gradient,
    "nodes_are_graph_nodes": _nodes_are_graph_nodes,
    "hooks_run_on_each_backward": _node_hooks_run_on_each_backward,
    "hook_arguments": _node_hook_arguments,
    "hook_replaces_grad_inputs": _node_hook_replaces_grad_inputs,
    "hook_returning_none_keeps": _node_hook_returning_none_keeps,
    "hook_grad_input_none_for_constant": _node_hook_grad_input_none_for_constant,
    "prehook_replaces_grad_outputs": _node_prehook_replaces_grad_outputs,
    "prehook_none_keeps": _node_prehook_none_keeps,
    "hooks_order_and_chaining": _node_hooks_order_and_chaining,
    "handle_remove": _node_hook_handle_remove,
    "accumulate_grad_node_hooks": _node_hooks_on_accumulate_grad,
    "hooks_of_unreached_node": _node_hooks_when_node_is_not_reached,
}

NODE_HOOK_BUGS = {}


@pytest.mark.parametrize("name", [pytest.param(name, marks=bug(NODE_HOOK_BUGS[name])) if name in NODE_HOOK_BUGS else name
                                  for name in NODE_HOOK_CASES])
def test_node_hooks(name):
    same_in_both(NODE_HOOK_CASES[name], rtol=1e-7, atol=1e-9)


def _node_hook_wrong_count(L):
    y = leaf(L).exp()
    y.grad_fn.register_hook(lambda gi, go: (gi[0], gi[0]))
    y.sum().backward()


def _node_prehook_wrong_shape(L):
    y = leaf(L).exp()
    y.grad_fn.register_prehook(lambda g: (L.ones(5, dtype=L.float64),))
    y.sum().backward()


def _node_hook_returns_tensor_not_tuple(L):
    y = leaf(L).exp()
    y.grad_fn.register_hook(lambda gi, go: gi[0])
    y.sum().backward()


def _node_hook_changes_dtype(L):
    y = leaf(L).exp()
    y.grad_fn.register_hook(lambda gi, go: (gi[0].float(),))
    y.sum().backward()


def _node_hook_returns_list(L):
    y = leaf(L).exp()
    y.grad_fn.register_hook(lambda gi, go: [gi[0] * 2])
    y.sum().backward()


def _node_prehook_returns_tensor(L):
    y = leaf(L).exp()
    y.grad_fn.register_prehook(lambda go: go[0] * 2)
    y.sum().backward()


def _node_hook_returns_empty_tuple(L):
    y = leaf(L).exp()
    y.grad_fn.register_hook(lambda gi, go: ())
    y.sum().backward()


def _node_hook_raises(L):
    def hook(gi, go):
        raise ValueError("no")

    y = leaf(L).exp()
    y.grad_fn.register_hook(hook)
    y.sum().backward()


NODE_HOOK_RAISES = {
    "hook_changes_dtype": _node_hook_changes_dtype,
    "hook_returns_list": _node_hook_returns_list,
    "prehook_returns_tensor": _node_prehook_returns_tensor,
    "hook_returns_empty_tuple": _node_hook_returns_empty_tuple,
    "hook_raises_value_error": _node_hook_raises,
    "hook_wrong_count": _node_hook_wrong_count,
    "prehook_wrong_shape": _node_prehook_wrong_shape,
    "hook_returns_tensor_not_tuple": _node_hook_returns_tensor_not_tuple,
}


NODE_HOOK_RAISES_BUGS = {}


@pytest.mark.parametrize("name", [pytest.param(name, marks=bug(NODE_HOOK_RAISES_BUGS[name]))
                                  if name in NODE_HOOK_RAISES_BUGS else name for name in NODE_HOOK_RAISES])
def test_node_hooks_raise_as_torch(name):
    raises_as_torch(NODE_HOOK_RAISES[name])


# --- Tensor.register_hook ----------------------------------------------------------------------

def _leaf_hook_returns_none(L):
    seen = []
    x = leaf(L, (1.0, 2.0))
    x.register_hook(lambda g: seen.append(g.clone()))
    (x * x).sum().backward()
    return seen, x.grad


def _leaf_hook_replaces_grad(L):
    x = leaf(L, (1.0, 2.0))
    x.register_hook(lambda g: g * 0 + 7)
    (x * x).sum().backward()
    return x.grad


def _intermediate_hook_replaces_upstream(L):
    x = leaf(L, (1.0, 2.0))
    y = x * 3
    y.register_hook(lambda g: g * 2)
    y.exp().sum().backward()
    return x.grad, y.grad is None


def _several_hooks_order(L):
    log = []
    x = leaf(L, (1.0, 2.0))
    y = x.sin()
    y.register_hook(lambda g: (log.append(["first", g]), g + 1)[1])
    y.register_hook(lambda g: (log.append(["second", g]), g * 10)[1])
    y.register_hook(lambda g: log.append(["third", g]))
    y.sum().backward()
    return log, x.grad


def _hook_called_once_with_summed_grad(L):
    seen = []
    x = leaf(L, (1.0, 2.0))
    y = x * 2
    y.register_hook(lambda g: seen.append(g.clone()))
    (y * 3 + y.exp()).sum().backward()
    return seen


def _hook_handle_remove(L):
    x = leaf(L, (1.0, 2.0))
    handle = x.register_hook(lambda g: g * 100)
    other = x.register_hook(lambda g: g + 1)
    handle.remove()
    (x * x).sum().backward()
    return x.grad, type(handle).__name__ == type(other).__name__


def _hook_on_leaf_and_retain_grad_order(L):
    """retain_grad's gradient is the one after the tensor's hooks, whichever came first."""
    x = leaf(L, (1.0, 2.0))
    y = x * 2
    y.retain_grad()
    y.register_hook(lambda g: g * 5)
    y.sum().backward()
    return y.grad, x.grad


def _hook_on_leaf_used_twice(L):
    seen = []
    x = leaf(L, (1.0, 2.0))
    x.register_hook(lambda g: seen.append(g.clone()))
    (x * x.sin()).sum().backward()
    return len(seen), seen, x.grad


def _hook_on_each_backward(L):
    seen = []
    x = leaf(L, (1.0, 2.0))
    x.register_hook(lambda g: seen.append(g.clone()))
    y = (x * 2).sum()
    y.backward(retain_graph=True)
    y.backward()
    return seen, x.grad


def _hook_in_autograd_grad(L):
    seen = []
    x = leaf(L, (1.0, 2.0))
    y = x * x
    y.register_hook(lambda g: (seen.append(g.clone()), g * 2)[1])
    (g,) = L.autograd.grad(y.sum(), x)
    return seen, g, x.grad is None


def _leaf_hook_grad_mode(L):
    modes = []
    x = leaf(L, (1.0, 2.0))
    x.register_hook(lambda g: modes.append((L.is_grad_enabled(), g.requires_grad)))
    (x * x).sum().backward()
    return modes


def _hook_on_float32_grad_dtype(L):
    seen = []
    x = L.tensor([1.0, 2.0], requires_grad=True)
    x.register_hook(lambda g: seen.append(str(g.dtype).split(".")[-1]))
    (x * x).sum().backward()
    return seen, x.grad


def _hook_on_0d_and_broadcast(L):
    seen = []
    x = L.tensor(2.0, dtype=L.float64, requires_grad=True)
    x.register_hook(lambda g: seen.append(g))
    (x * L.tensor([1.0, 2.0, 3.0], dtype=L.float64)).sum().backward()
    return seen, x.grad


def _leaf_hook_in_autograd_grad(L):
    x = leaf(L)
    x.register_hook(lambda g: g * 2)
    return L.autograd.grad((x * x).sum(), x)


def _hook_on_view(L):
    seen = []
    x = leaf(L)
    v = x[:2]
    v.register_hook(lambda g: seen.append(g.clone()))
    (v * v).sum().backward()
    return seen, x.grad


def _leaf_hook_with_existing_grad(L):
    """The hook sees the new gradient, not what .grad already held."""
    seen = []
    x = leaf(L)
    x.grad = L.ones(3, dtype=L.float64)
    x.register_hook(lambda g: seen.append(g.clone()))
    (x * x).sum().backward()
    return seen, x.grad


def _non_leaf_input_hook_in_autograd_grad(L):
    x = leaf(L)
    y = x * 2
    y.register_hook(lambda g: g * 2)
    return L.autograd.grad((y * y).sum(), y)


def _hook_not_called_outside_backward_inputs(L):
    seen = []
    x, w = leaf(L), leaf(L)
    x.register_hook(lambda g: seen.append(1))
    (x * w).sum().backward(inputs=[w])
    return seen, w.grad


TENSOR_HOOK_CASES = {
    "non_leaf_input_hook_in_autograd_grad": _non_leaf_input_hook_in_autograd_grad,
    "hook_not_called_outside_backward_inputs": _hook_not_called_outside_backward_inputs,
    "leaf_hook_with_existing_grad": _leaf_hook_with_existing_grad,
    "leaf_hook_in_autograd_grad": _leaf_hook_in_autograd_grad,
    "hook_on_view": _hook_on_view,
    "leaf_hook_returns_none": _leaf_hook_returns_none,
    "leaf_hook_replaces_grad": _leaf_hook_replaces_grad,
    "intermediate_hook_replaces_upstream": _intermediate_hook_replaces_upstream,
    "several_hooks_order": _several_hooks_order,
    "hook_once_with_summed_grad": _hook_called_once_with_summed_grad,
    "hook_handle_remove": _hook_handle_remove,
    "hook_and_retain_grad_order": _hook_on_leaf_and_retain_grad_order,
    "hook_on_leaf_used_twice": _hook_on_leaf_used_twice,
    "hook_on_each_backward": _hook_on_each_backward,
    "hook_in_autograd_grad": _hook_in_autograd_grad,
    "hook_grad_mode": _leaf_hook_grad_mode,
    "hook_float32_grad_dtype": _hook_on_float32_grad_dtype,
    "hook_0d_broadcast": _hook_on_0d_and_broadcast,
}

TENSOR_HOOK_BUGS = {}


@pytest.mark.parametrize("name", [pytest.param(name, marks=bug(TENSOR_HOOK_BUGS[name])) if name in TENSOR_HOOK_BUGS else name
                                  for name in TENSOR_HOOK_CASES])
def test_tensor_hooks(name):
    same_in_both(TENSOR_HOOK_CASES[name], rtol=1e-7, atol=1e-9)


def _hook_wrong_shape(L):
    x = leaf(L, (1.0, 2.0))
    x.register_hook(lambda g: L.ones(3, dtype=L.float64))
    (x * x).sum().backward()


def _post_accumulate_hook_returns_a_tensor(L):
    x = leaf(L)
    x.register_post_accumulate_grad_hook(lambda t: t.grad * 2)
    (x * x).sum().backward()


def _hook_changes_dtype(L, non_leaf):
    x = leaf(L)
    y = x * 2 if non_leaf else x
    y.register_hook(lambda g: g.float())
    (y * y).sum().backward()


def _hook_raises(L):
    def hook(grad):
        raise ValueError("no")

    x = leaf(L)
    x.register_hook(hook)
    (x * x).sum().backward()


TENSOR_HOOK_RAISES = {
    "leaf_hook_changes_dtype": lambda L: _hook_changes_dtype(L, False),
    "non_leaf_hook_changes_dtype": lambda L: _hook_changes_dtype(L, True),
    "hook_raises_value_error": _hook_raises,
    "hook_on_tensor_not_requiring_grad": lambda L: L.tensor([1.0, 2.0]).register_hook(lambda g: g),
    "hook_on_int_tensor": lambda L: L.tensor([1, 2]).register_hook(lambda g: g),
    "hook_returns_wrong_shape": _hook_wrong_shape,
    "post_accumulate_hook_on_non_leaf": lambda L: (leaf(L) * 2).register_post_accumulate_grad_hook(lambda t: None),
    "post_accumulate_hook_not_requiring_grad": lambda L: L.tensor([1.0]).register_post_accumulate_grad_hook(lambda t: None),
    "retain_grad_not_requiring_grad": lambda L: L.tensor([1.0]).retain_grad(),
    "post_accumulate_hook_returns_tensor": _post_accumulate_hook_returns_a_tensor,
}


@pytest.mark.parametrize("run", list(TENSOR_HOOK_RAISES.values()), ids=list(TENSOR_HOOK_RAISES))
def test_tensor_hooks_raise_as_torch(run):
    raises_as_torch(run)


# --- register_post_accumulate_grad_hook ---------------------------------------------------------

def _post_accumulate_sees_grad(L):
    seen = []
    x = leaf(L, (1.0, 2.0))
    x.register_post_accumulate_grad_hook(lambda t: seen.append([t is x, t.grad.clone()]))
    (x * x).sum().backward()
    (x * 3).sum().backward()
    return seen


def _post_accumulate_changes_grad_and_remove(L):
    x = leaf(L, (1.0, 2.0))
    handle = x.register_post_accumulate_grad_hook(lambda t: (t.grad.mul_(2), None)[1])
    (x * x).sum().backward()
    first = x.grad.clone()
    handle.remove()
    calls = []
    x.register_post_accumulate_grad_hook(lambda t: calls.append(1))
    x.grad = None
    (x * 5).sum().backward()
    return first, x.grad, len(calls)


def _post_accumulate_after_tensor_hook(L):
    log = []
    x = leaf(L, (1.0, 2.0))
    x.register_post_accumulate_grad_hook(lambda t: log.append(["post", t.grad.clone()]))
    x.register_hook(lambda g: (log.append(["hook", g.clone()]), g * 2)[1])
    (x * x).sum().backward()
    return log


def _post_accumulate_can_zero_grad(L):
    """An optimizer-in-backward pattern: the hook steps and clears the gradient."""
    x = leaf(L, (1.0, 2.0))

    def step(tensor):
        with L.no_grad():
            tensor -= 0.5 * tensor.grad
        tensor.grad = None

    x.register_post_accumulate_grad_hook(step)
    (x * x).sum().backward()
    return x.detach(), x.grad is None


def _post_accumulate_not_called_by_autograd_grad(L):
    calls = []
    x = leaf(L, (1.0, 2.0))
    x.register_post_accumulate_grad_hook(lambda t: calls.append(1))
    L.autograd.grad((x * x).sum(), x)
    return calls


def _post_accumulate_on_parameter(L):
    seen = []
    layer = L.nn.Linear(2, 1).double()
    with L.no_grad():
        layer.weight.copy_(L.tensor([[1.0, -2.0]], dtype=L.float64))
        layer.bias.fill_(0.5)
    for name, parameter in layer.named_parameters():
        parameter.register_post_accumulate_grad_hook(lambda p, name=name: seen.append([name, p.grad.clone()]))
    layer(L.tensor([[3.0, 4.0]], dtype=L.float64)).sum().backward()
    return sorted(seen, key=lambda each: each[0])


POST_ACCUMULATE_CASES = {
    "sees_accumulated_grad": _post_accumulate_sees_grad,
    "changes_grad_and_remove": _post_accumulate_changes_grad_and_remove,
    "after_tensor_hooks": _post_accumulate_after_tensor_hook,
    "can_step_and_clear": _post_accumulate_can_zero_grad,
    "not_called_by_autograd_grad": _post_accumulate_not_called_by_autograd_grad,
    "on_parameters": _post_accumulate_on_parameter,
}


@pytest.mark.parametrize("run", list(POST_ACCUMULATE_CASES.values()), ids=list(POST_ACCUMULATE_CASES))
def test_post_accumulate_grad_hooks(run):
    same_in_both(run, rtol=1e-7, atol=1e-9)


# --- retain_grad and .grad of non-leaves --------------------------------------------------------

def _retain_grad_values(L):
    x = leaf(L, (1.0, 2.0))
    y = x * 3
    z = y.exp()
    y.retain_grad()
    x.retain_grad()  # a no-op on a leaf
    z.sum().backward()
    return y.grad, x.grad, y.retains_grad, x.retains_grad, z.retains_grad, y.is_leaf


def _retain_grad_accumulates(L):
    x = leaf(L, (1.0, 2.0))
    y = x * 3
    y.retain_grad()
    s = (y * y).sum()
    s.backward(retain_graph=True)
    s.backward()
    return y.grad


def _retain_grad_twice_is_harmless(L):
    x = leaf(L, (1.0, 2.0))
    y = x.sin()
    y.retain_grad()
    y.retain_grad()
    y.sum().backward()
    return y.grad


def _retain_grad_on_view(L):
    x = leaf(L, (1.0, 2.0, 3.0))
    v = x[1:]
    v.retain_grad()
    (v * v).sum().backward()
    return v.grad, x.grad


def _retain_grad_then_in_place(L):
    x = leaf(L)
    y = x * 2
    y.retain_grad()
    y.mul_(3)
    (y * y).sum().backward()
    return y.grad, x.grad


def _retain_grad_on_view_then_in_place(L):
    x = leaf(L)
    y = x * 2
    v = y[:2]
    v.retain_grad()
    v.mul_(3)
    (y * 1).sum().backward()
    return v.grad is None, x.grad


def _retain_grad_filled_by_autograd_grad(L):
    x = leaf(L)
    y = x * 2
    y.retain_grad()
    L.autograd.grad((y * y).sum(), x)
    return y.grad, x.grad is None


RETAIN_CASES = {
    "retain_grad_filled_by_autograd_grad": _retain_grad_filled_by_autograd_grad,
    "retain_grad_then_in_place": _retain_grad_then_in_place,
    "retain_grad_on_view_then_in_place": _retain_grad_on_view_then_in_place,
    "retain_grad_values": _retain_grad_values,
    "retain_grad_accumulates": _retain_grad_accumulates,
    "retain_grad_twice": _retain_grad_twice_is_harmless,
    "retain_grad_on_view": _retain_grad_on_view,
}


RETAIN_BUGS = {}


@pytest.mark.parametrize("name", [pytest.param(name, marks=bug(RETAIN_BUGS[name])) if name in RETAIN_BUGS else name
                                  for name in RETAIN_CASES])
def test_retain_grad(name):
    same_in_both(RETAIN_CASES[name], rtol=1e-7, atol=1e-9)


# --- register_multi_grad_hook -------------------------------------------------------------------

def _multi_grad_hook_all(L):
    log = []
    x, y, z = leaf(L), leaf(L, (4.0, 5.0, 6.0)), leaf(L)
    L.autograd.graph.register_multi_grad_hook([x, y, z], lambda grads: log.append(list(grads)))
    (x * y).sum().backward()
    return log


def _multi_grad_hook_any(L):
    """Called once, with one gradient (which one comes first is the engine's order, not compared)."""
    log = []
    x, y = leaf(L), leaf(L, (4.0, 5.0, 6.0))
    L.autograd.graph.register_multi_grad_hook((x, y), lambda grad: log.append(grad), mode="any")
    (x * y * 2).sum().backward()
    return len(log), tuple(log[0].shape)


def _multi_grad_hook_remove(L):
    log = []
    x = leaf(L)
    handle = L.autograd.graph.register_multi_grad_hook([x], lambda grads: log.append(len(grads)))
    (x * x).sum().backward()
    handle.remove()
    (x * x).sum().backward()
    return log


MULTI_GRAD_HOOK_CASES = {
    "all": _multi_grad_hook_all,
    "any": _multi_grad_hook_any,
    "remove": _multi_grad_hook_remove,
}


@pytest.mark.parametrize("run", list(MULTI_GRAD_HOOK_CASES.values()), ids=list(MULTI_GRAD_HOOK_CASES))
def test_multi_grad_hook(run):
    same_in_both(run, rtol=1e-7, atol=1e-9)


def test_multi_grad_hook_bad_mode_raises_as_torch():
    raises_as_torch(lambda L: L.autograd.graph.register_multi_grad_hook([leaf(L)], lambda grads: None, mode="some"))


GRAD_ACCESS_WARNINGS = {
    "non_leaf_grad_warns": lambda L: (lambda y: y.grad)(leaf(L) * 2),
    "leaf_grad_silent": lambda L: leaf(L).grad,
    "retained_non_leaf_silent": lambda L: (lambda y: (y.retain_grad(), y.grad)[1])(leaf(L) * 2),
    "no_grad_tensor_grad_silent": lambda L: L.tensor([1.0]).grad,
    "detached_grad_silent": lambda L: (leaf(L) * 2).detach().grad,
}


@pytest.mark.parametrize("run", list(GRAD_ACCESS_WARNINGS.values()), ids=list(GRAD_ACCESS_WARNINGS))
def test_grad_access_warnings(run):
    expected = warning_categories(lambda: run(torch))
    actual = warning_categories(lambda: run(chainrule))
    assert actual[0] == expected[0]
    assert (actual[1] is None) == (expected[1] is None)


# --- backward: retain_graph, inputs, gradient ---------------------------------------------------

def _backward_twice_without_saved_tensors(L):
    """Nodes that saved nothing can run again without retain_graph."""
    x = leaf(L, (1.0, 2.0))
    y = (x + 1).sum()
    y.backward()
    y.backward()
    return x.grad


def _backward_retain_graph_accumulates(L):
    x = leaf(L, (1.0, 2.0))
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    return x.grad


def _backward_inputs_only(L):
    x = leaf(L, (1.0, 2.0))
    w = leaf(L, (3.0, 4.0))
    (x * w).sum().backward(inputs=[x])
    return x.grad, w.grad is None


def _backward_inputs_tensor(L):
    x = leaf(L, (1.0, 2.0))
    w = leaf(L, (3.0, 4.0))
    (x * w).sum().backward(inputs=w)
    return x.grad is None, w.grad


def _backward_inputs_non_leaf(L):
    x = leaf(L, (1.0, 2.0))
    y = x * 3
    (y * y).sum().backward(inputs=[y])
    return y.grad, x.grad is None


def _autograd_backward_inputs(L):
    x = leaf(L, (1.0, 2.0))
    w = leaf(L, (3.0, 4.0))
    L.autograd.backward([(x * w).sum(), (x * x).sum()], inputs=(w,))
    return x.grad is None, w.grad


def _autograd_backward_grad_tensors(L):
    x = leaf(L, (1.0, 2.0))
    y = x * 2
    L.autograd.backward(y, grad_tensors=L.tensor([1.0, 10.0], dtype=L.float64))
    return x.grad


def _backward_gradient_argument(L):
    x = leaf(L, (1.0, 2.0))
    (x.exp()).backward(L.tensor([2.0, 3.0], dtype=L.float64))
    y = leaf(L, (1.0, 2.0))
    (y * y).backward(gradient=L.tensor([1.0, -1.0], dtype=L.float64))
    return x.grad, y.grad


def _backward_scalar_0d_and_size1(L):
    x = leaf(L, (1.0, 2.0))
    (x.sum() * 2).backward()
    y = leaf(L, (3.0,))
    (y * y).backward()
    return x.grad, y.grad


def _backward_accumulates_into_existing_grad(L):
    x = leaf(L, (1.0, 2.0))
    x.grad = L.tensor([100.0, 200.0], dtype=L.float64)
    (x * x).sum().backward()
    return x.grad


def _backward_returns_none(L):
    x = leaf(L, (1.0, 2.0))
    return x.sum().backward()


def _backward_create_graph_grad_requires_grad(L):
    x = leaf(L, (1.0, 2.0))
    (x ** 3).sum().backward(create_graph=True)
    first = x.grad.requires_grad
    g = x.grad
    x.grad = None
    g.sum().backward()
    return first, x.grad


def _backward_gradient_other_dtype(L):
    x = leaf(L)
    (x * 2).backward(L.tensor([1.0, 2.0, 3.0], dtype=L.float32))
    return x.grad


def _backward_inside_no_grad(L):
    x = leaf(L)
    s = (x * x).sum()
    with L.no_grad():
        s.backward()
    return x.grad


def _autograd_backward_keywords(L):
    x = leaf(L)
    L.autograd.backward(tensors=(x * x).sum(), grad_tensors=None, retain_graph=None, create_graph=False, inputs=[x])
    return x.grad


BACKWARD_CASES = {
    "autograd_backward_keywords": _autograd_backward_keywords,
    "gradient_other_dtype_cast": _backward_gradient_other_dtype,
    "backward_inside_no_grad": _backward_inside_no_grad,
    "twice_without_saved_tensors": _backward_twice_without_saved_tensors,
    "retain_graph_accumulates": _backward_retain_graph_accumulates,
    "inputs_list": _backward_inputs_only,
    "inputs_single_tensor": _backward_inputs_tensor,
    "inputs_non_leaf": _backward_inputs_non_leaf,
    "autograd_backward_inputs": _autograd_backward_inputs,
    "autograd_backward_grad_tensors": _autograd_backward_grad_tensors,
    "gradient_argument": _backward_gradient_argument,
    "scalar_0d_and_size1": _backward_scalar_0d_and_size1,
    "accumulates_into_existing_grad": _backward_accumulates_into_existing_grad,
    "returns_none": _backward_returns_none,
    "create_graph_second_order": _backward_create_graph_grad_requires_grad,
}


@pytest.mark.parametrize("run", list(BACKWARD_CASES.values()), ids=list(BACKWARD_CASES))
def test_backward(run):
    same_in_both(run, rtol=1e-7, atol=1e-9)


def _second_backward(L):
    x = leaf(L)
    y = (x * x).sum()
    y.backward()
    y.backward()


def _second_backward_python_scalar_mul(L):
    x = leaf(L)
    y = (x * 2).sum()
    y.backward()
    y.backward()


def _second_autograd_grad(L):
    x = leaf(L)
    y = x.exp().sum()
    L.autograd.grad(y, x)
    L.autograd.grad(y, x)


BACKWARD_RAISES = {
    "second_backward": _second_backward,
    "second_backward_scalar_mul": _second_backward_python_scalar_mul,
    "second_autograd_grad": _second_autograd_grad,
    "non_scalar_without_gradient": lambda L: (leaf(L) * 2).backward(),
    "empty_without_gradient": lambda L: (leaf(L, []) * 2).backward(),
    "gradient_wrong_shape": lambda L: (leaf(L) * 2).backward(L.ones(2, dtype=L.float64)),
    "not_requiring_grad": lambda L: L.tensor([1.0]).sum().backward(),
    "inputs_empty_list": lambda L: (leaf(L) * 2).sum().backward(inputs=[]),
    "inputs_not_requiring_grad": lambda L: (leaf(L) * 2).sum().backward(inputs=[L.tensor([1.0])]),
    "autograd_backward_non_scalar": lambda L: L.autograd.backward([leaf(L) * 2]),
    "gradient_python_float": lambda L: (leaf(L) * 2).sum().backward(2.0),
    "gradient_shape_1_for_0d": lambda L: (leaf(L) * 2).sum().backward(L.tensor([2.0], dtype=L.float64)),
    "backward_of_no_grad_result": lambda L: _sum_under_no_grad(L).backward(),
}


def _sum_under_no_grad(L):
    x = leaf(L)
    with L.no_grad():
        return (x * x).sum()


BACKWARD_RAISES_BUGS = {}


@pytest.mark.parametrize("name", [pytest.param(name, marks=bug(BACKWARD_RAISES_BUGS[name]))
                                  if name in BACKWARD_RAISES_BUGS else name for name in BACKWARD_RAISES])
def test_backward_raises_as_torch(name):
    raises_as_torch(BACKWARD_RAISES[name])


# --- torch.autograd.grad ------------------------------------------------------------------------

def _grad_returns_tuple(L):
    x = leaf(L, (1.0, 2.0))
    result = L.autograd.grad((x * x).sum(), x)
    return type(result).__name__, len(result), result[0], x.grad is None


def _grad_allow_unused(L):
    x = leaf(L, (1.0, 2.0))
    unused = leaf(L, (5.0,))
    gx, gu = L.autograd.grad((x * x).sum(), [x, unused], allow_unused=True)
    return gx, gu is None


def _grad_materialize(L):
    x = leaf(L, (1.0, 2.0))
    unused = leaf(L, (5.0, 6.0, 7.0))
    gx, gu = L.autograd.grad((x * x).sum(), (x, unused), materialize_grads=True)
    return gx, gu


def _grad_materialize_with_allow_unused(L):
    x = leaf(L, (1.0, 2.0))
    unused = leaf(L, (5.0,), dtype=L.float32)
    return L.autograd.grad((x * x).sum(), (x, unused), allow_unused=True, materialize_grads=True)


def _grad_outputs_non_scalar(L):
    x = leaf(L, (1.0, 2.0))
    return L.autograd.grad(x * x, x, grad_outputs=L.tensor([1.0, 10.0], dtype=L.float64))


def _grad_outputs_list_of_outputs(L):
    x = leaf(L, (1.0, 2.0))
    return L.autograd.grad([x * x, x.sum()], [x], grad_outputs=[L.ones(2, dtype=L.float64), L.tensor(3.0, dtype=L.float64)])


def _grad_outputs_none_for_scalar(L):
    x = leaf(L, (1.0, 2.0))
    return L.autograd.grad([(x * x).sum()], [x], grad_outputs=[None])


def _grad_retain_graph(L):
    x = leaf(L, (1.0, 2.0))
    y = x.exp().sum()
    first = L.autograd.grad(y, x, retain_graph=True)
    second = L.autograd.grad(y, x)
    return first, second


def _grad_create_graph(L):
    x = leaf(L, (1.0, 2.0))
    (g,) = L.autograd.grad((x ** 3).sum(), x, create_graph=True)
    (h,) = L.autograd.grad(g.sum(), x)
    return g.requires_grad, g, h


def _grad_without_create_graph_no_grad_fn(L):
    x = leaf(L, (1.0, 2.0))
    (g,) = L.autograd.grad((x ** 3).sum(), x)
    return g.requires_grad, g.grad_fn is None


def _grad_create_graph_keeps_graph(L):
    """retain_graph defaults to create_graph."""
    x = leaf(L, (1.0, 2.0))
    y = (x ** 3).sum()
    L.autograd.grad(y, x, create_graph=True)
    return L.autograd.grad(y, x)


def _grad_wrt_non_leaf(L):
    x = leaf(L, (1.0, 2.0))
    y = x * 3
    z = (y * y).sum()
    return L.autograd.grad(z, y)


def _grad_of_output_wrt_itself(L):
    x = leaf(L, (1.0, 2.0))
    return L.autograd.grad(x, x, grad_outputs=L.tensor([4.0, 5.0], dtype=L.float64))


def _grad_unused_because_detached(L):
    x = leaf(L, (1.0, 2.0))
    return L.autograd.grad((x.detach() * x).sum(), x)


def _grad_allow_unused_non_leaf(L):
    x = leaf(L, (1.0, 2.0))
    y = x * 3
    other = x * 4
    gy, go = L.autograd.grad((y * y).sum(), [y, other], allow_unused=True)
    return gy, go is None


def _grad_is_grads_batched(L):
    x = leaf(L, (1.0, 2.0))
    y = x * x
    return L.autograd.grad(y, x, grad_outputs=L.eye(2, dtype=L.float64), is_grads_batched=True)


def _grad_keywords(L):
    x = leaf(L)
    return L.autograd.grad(outputs=(x * x).sum(), inputs=x, grad_outputs=None, retain_graph=None, create_graph=False,
                           allow_unused=None)


def _grad_outputs_requiring_grad(L):
    x = leaf(L)
    v = L.ones(3, dtype=L.float64, requires_grad=True)
    (g,) = L.autograd.grad(x * x, x, grad_outputs=v, create_graph=True)
    (g * x).sum().backward()
    return v.grad, x.grad


AUTOGRAD_GRAD_CASES = {
    "keywords": _grad_keywords,
    "grad_outputs_requiring_grad": _grad_outputs_requiring_grad,
    "returns_tuple": _grad_returns_tuple,
    "allow_unused": _grad_allow_unused,
    "materialize_grads": _grad_materialize,
    "materialize_with_allow_unused": _grad_materialize_with_allow_unused,
    "grad_outputs_non_scalar": _grad_outputs_non_scalar,
    "grad_outputs_list": _grad_outputs_list_of_outputs,
    "grad_outputs_none_for_scalar": _grad_outputs_none_for_scalar,
    "retain_graph": _grad_retain_graph,
    "create_graph": _grad_create_graph,
    "no_create_graph_no_grad_fn": _grad_without_create_graph_no_grad_fn,
    "create_graph_retains_graph": _grad_create_graph_keeps_graph,
    "wrt_non_leaf": _grad_wrt_non_leaf,
    "output_wrt_itself": _grad_of_output_wrt_itself,
    "input_used_only_detached": _grad_unused_because_detached,
    "allow_unused_non_leaf": _grad_allow_unused_non_leaf,
    "is_grads_batched": _grad_is_grads_batched,
}


@pytest.mark.parametrize("run", list(AUTOGRAD_GRAD_CASES.values()), ids=list(AUTOGRAD_GRAD_CASES))
def test_autograd_grad(run):
    same_in_both(run, rtol=1e-7, atol=1e-9)


AUTOGRAD_GRAD_RAISES = {
    "unused_input": lambda L: L.autograd.grad((leaf(L) * 2).sum(), [leaf(L)]),
    "input_not_requiring_grad": lambda L: (lambda x: L.autograd.grad((leaf(L) * x).sum(), x))(L.tensor([1.0, 2.0, 3.0])),
    "output_not_requiring_grad": lambda L: L.autograd.grad(L.tensor([1.0]).sum(), leaf(L)),
    "non_scalar_without_grad_outputs": lambda L: (lambda x: L.autograd.grad(x * 2, x))(leaf(L)),
    "grad_outputs_wrong_shape": lambda L: (lambda x: L.autograd.grad(x * 2, x, grad_outputs=L.ones(2, dtype=L.float64)))(leaf(L)),
    "materialize_without_allow_unused": lambda L: (lambda x: L.autograd.grad(x.sum(), x, allow_unused=False,
                                                                               materialize_grads=True))(leaf(L)),
    "empty_inputs": lambda L: L.autograd.grad((leaf(L) * 2).sum(), []),
}


@pytest.mark.parametrize("run", list(AUTOGRAD_GRAD_RAISES.values()), ids=list(AUTOGRAD_GRAD_RAISES))
def test_autograd_grad_raises_as_torch(run):
    raises_as_torch(run)


# --- inference_mode -----------------------------------------------------------------------------

def _inference_tensors(L):
    x = leaf(L, (1.0, 2.0))
    before = L.is_inference_mode_enabled()
    with L.inference_mode():
        inside = L.is_inference_mode_enabled(), L.is_grad_enabled()
        y = x * 2
        z = L.ones(2)
    return (before, inside, L.is_inference_mode_enabled(), y.is_inference(), y.requires_grad, y.grad_fn is None,
            z.is_inference(), x.is_inference(), y)


def _inference_mode_false(L):
    x = leaf(L, (1.0, 2.0))
    with L.inference_mode(False):
        y = x * 2
        mode = L.is_inference_mode_enabled()
    with L.inference_mode(mode=False):
        z = x * 3
    return mode, y.is_inference(), y.requires_grad, z.requires_grad


def _inference_mode_decorator(L):
    @L.inference_mode()
    def with_parens(t):
        return t * 2, L.is_inference_mode_enabled()

    @L.inference_mode
    def without_parens(t):
        return t * 3, L.is_grad_enabled()

    x = leaf(L, (1.0, 2.0))
    a, inside_a = with_parens(x)
    b, inside_b = without_parens(x)
    return a.is_inference(), inside_a, b.is_inference(), inside_b, a.requires_grad, L.is_inference_mode_enabled()


def _inference_mode_nested_enable_grad(L):
    x = leaf(L, (1.0, 2.0))
    with L.inference_mode():
        with L.enable_grad():
            mode = L.is_grad_enabled()
            y = x * 2
            inference = L.is_inference_mode_enabled()
    return mode, inference, y.requires_grad, y.is_inference()


def _inference_mode_nested_false(L):
    x = leaf(L, (1.0, 2.0))
    with L.inference_mode():
        with L.inference_mode(False):
            y = x * 2
            flags = L.is_inference_mode_enabled(), L.is_grad_enabled()
    return flags, y.is_inference(), y.requires_grad


def _inference_tensor_usable_without_grad(L):
    with L.inference_mode():
        t = L.tensor([1.0, 2.0])
    u = t * 3 + 1
    with L.no_grad():
        v = t.exp()
    return u, u.is_inference(), v.is_inference(), t.clone().is_inference()


def _inference_tensor_clone_in_autograd(L):
    with L.inference_mode():
        t = L.tensor([1.0, 2.0], dtype=L.float64)
    w = leaf(L, (3.0, 4.0))
    (t.clone() * w).sum().backward()
    return w.grad


def _inference_tensor_added_in_autograd(L):
    """add saves nothing, so an inference tensor may take part."""
    with L.inference_mode():
        t = L.tensor([1.0, 2.0], dtype=L.float64)
    w = leaf(L, (3.0, 4.0))
    (t + w).sum().backward()
    return w.grad


def _inference_mode_exits_on_exception(L):
    try:
        with L.inference_mode():
            raise ValueError
    except ValueError:
        pass
    return L.is_inference_mode_enabled(), L.is_grad_enabled()


def _in_place_on_leaf_inside_inference_mode(L):
    """Inside inference mode a leaf that requires grad may change in place."""
    x = leaf(L)
    with L.inference_mode():
        x.add_(1)
    return x.detach(), x.requires_grad, x.is_leaf, x.is_inference()


def _views_made_in_inference_mode(L):
    plain_tensor = L.tensor([1.0, 2.0])
    x = leaf(L)
    with L.inference_mode():
        v = plain_tensor[0:1]
        w = x[0:2]
    v.add_(1)
    return v.is_inference(), plain_tensor, w.is_inference(), w.requires_grad, w.grad_fn is None


def _inference_tensor_flags(L):
    with L.inference_mode():
        t = L.ones(2)
        r = L.ones(2, requires_grad=True)
    return t.is_leaf, t.grad_fn is None, t.requires_grad, r.requires_grad, r.is_inference()


def _inference_tensors_derived(L):
    with L.inference_mode():
        t = L.ones(2)
        r = L.ones(2)
        r.requires_grad_()
    with L.inference_mode():
        t.add_(1)
    return (t, t.view(2).is_inference(), t.detach().is_inference(), (t + 0).is_inference(), L.ones_like(t).is_inference(),
            r.requires_grad)


INFERENCE_CASES = {
    "derived_tensors": _inference_tensors_derived,
    "views_made_inside": _views_made_in_inference_mode,
    "inference_tensor_flags": _inference_tensor_flags,
    "in_place_on_leaf_inside": _in_place_on_leaf_inside_inference_mode,
    "tensors_made_inside": _inference_tensors,
    "mode_false": _inference_mode_false,
    "decorator": _inference_mode_decorator,
    "nested_enable_grad": _inference_mode_nested_enable_grad,
    "nested_false": _inference_mode_nested_false,
    "usable_without_grad": _inference_tensor_usable_without_grad,
    "clone_in_autograd": _inference_tensor_clone_in_autograd,
    "added_in_autograd": _inference_tensor_added_in_autograd,
    "exits_on_exception": _inference_mode_exits_on_exception,
}


@pytest.mark.parametrize("run", list(INFERENCE_CASES.values()), ids=list(INFERENCE_CASES))
def test_inference_mode(run):
    same_in_both(run, rtol=1e-7, atol=1e-9)


def _inference_tensor(L, dtype=None):
    with L.inference_mode():
        return L.tensor([1.0, 2.0], dtype=dtype or L.float64)


INFERENCE_RAISES = {
    "inference_tensor_saved_for_backward": lambda L: (_inference_tensor(L) * leaf(L, (3.0, 4.0))).sum().backward(),
    "in_place_outside_inference_mode": lambda L: _inference_tensor(L).add_(1),
    "requires_grad_then_backward": lambda L: (lambda t: (t.requires_grad_(), (t * t).sum().backward()))(_inference_tensor(L)),
}


@pytest.mark.parametrize("run", list(INFERENCE_RAISES.values()), ids=list(INFERENCE_RAISES))
def test_inference_mode_raises_as_torch(run):
    raises_as_torch(run)


# --- no_grad / enable_grad / set_grad_enabled ---------------------------------------------------

def _grad_modes_nesting(L):
    x = leaf(L, (1.0, 2.0))
    log = [L.is_grad_enabled()]
    with L.no_grad():
        log.append(L.is_grad_enabled())
        a = x * 2
        with L.enable_grad():
            log.append(L.is_grad_enabled())
            b = x * 2
            with L.set_grad_enabled(False):
                log.append(L.is_grad_enabled())
                c = x * 2
            log.append(L.is_grad_enabled())
        log.append(L.is_grad_enabled())
    log.append(L.is_grad_enabled())
    return log, a.requires_grad, b.requires_grad, c.requires_grad, b.grad_fn is not None


def _grad_mode_decorators(L):
    @L.no_grad()
    def off(t):
        return t * 2

    @L.no_grad
    def off_bare(t):
        return t * 2

    @L.enable_grad()
    def on(t):
        return t * 2

    @L.set_grad_enabled(False)
    def set_off(t):
        return t * 2

    x = leaf(L, (1.0, 2.0))
    with L.no_grad():
        turned_on = on(x).requires_grad
    return off(x).requires_grad, off_bare(x).requires_grad, turned_on, set_off(x).requires_grad, L.is_grad_enabled()


def _set_grad_enabled_function(L):
    x = leaf(L, (1.0, 2.0))
    L.set_grad_enabled(False)
    try:
        y = x * 2
        inside = L.is_grad_enabled()
    finally:
        L.set_grad_enabled(True)
    return inside, y.requires_grad, L.is_grad_enabled()


def _set_grad_enabled_context_values(L):
    x = leaf(L, (1.0, 2.0))
    with L.set_grad_enabled(True):
        a = x * 2
    with L.set_grad_enabled(mode=False):
        b = x * 2
    with L.no_grad():
        with L.set_grad_enabled(True):
            c = x * 2
    return a.requires_grad, b.requires_grad, c.requires_grad


def _no_grad_restores_after_exception(L):
    try:
        with L.no_grad():
            raise ValueError
    except ValueError:
        pass
    after_block = L.is_grad_enabled()

    @L.no_grad()
    def boom():
        raise KeyError

    try:
        boom()
    except KeyError:
        pass
    return after_block, L.is_grad_enabled()


def _no_grad_in_place_on_leaf(L):
    x = leaf(L, (1.0, 2.0))
    with L.no_grad():
        x.mul_(3)
        x[0] = 10.0
    (x * x).sum().backward()
    return x.is_leaf, x.requires_grad, x.grad


def _no_grad_creation_keeps_requires_grad(L):
    with L.no_grad():
        a = L.tensor([1.0], requires_grad=True)
        b = L.zeros(2, requires_grad=True)
        p = L.nn.Parameter(L.ones(2))
    return a.requires_grad, b.requires_grad, p.requires_grad, a.is_leaf


def _no_grad_on_method_and_class(L):
    class Model:
        @L.no_grad()
        def predict(self, t):
            return t * 2

    x = leaf(L, (1.0, 2.0))
    return Model().predict(x).requires_grad, Model.predict.__name__


def _no_grad_enter_returns(L):
    with L.no_grad() as entered:
        pass
    return entered is None


def _is_grad_enabled_in_backward(L):
    modes = []

    class Probe(L.autograd.Function):
        @staticmethod
        def forward(ctx, t):
            modes.append(("forward", L.is_grad_enabled()))
            return t * 2

        @staticmethod
        def backward(ctx, grad):
            modes.append(("backward", L.is_grad_enabled()))
            return grad * 2

    x = leaf(L, (1.0, 2.0))
    Probe.apply(x).sum().backward()
    y = leaf(L, (1.0, 2.0))
    Probe.apply(y).sum().backward(create_graph=True)
    return modes


def _decorators_keep_name_and_doc(L):
    def make(decorator):
        @decorator
        def function():
            """doc"""
        return function.__name__, function.__doc__
    return [make(L.no_grad()), make(L.enable_grad()), make(L.set_grad_enabled(False)), make(L.inference_mode()),
            L.is_grad_enabled()]


def _reused_no_grad_object(L):
    x = leaf(L)
    off = L.no_grad()
    with off:
        a = x * 2
    with off:
        b = x * 2
    return a.requires_grad, b.requires_grad, L.is_grad_enabled()


def _inference_mode_inside_no_grad(L):
    with L.no_grad():
        with L.inference_mode():
            inner = L.is_grad_enabled(), L.is_inference_mode_enabled()
        middle = L.is_grad_enabled(), L.is_inference_mode_enabled()
    return inner, middle, L.is_grad_enabled()


def _no_grad_then_enable_grad_in_inference_mode(L):
    with L.inference_mode():
        with L.no_grad():
            with L.enable_grad():
                inner = L.is_grad_enabled(), L.is_inference_mode_enabled()
            middle = L.is_grad_enabled()
    return inner, middle


def _grad_modes_called_on_functions(L):
    return L.no_grad()(lambda: L.is_grad_enabled())(), L.enable_grad()(lambda: L.is_grad_enabled())()


GRAD_MODE_CASES = {
    "called_on_functions": _grad_modes_called_on_functions,
    "decorators_keep_name_and_doc": _decorators_keep_name_and_doc,
    "reused_no_grad_object": _reused_no_grad_object,
    "inference_mode_inside_no_grad": _inference_mode_inside_no_grad,
    "no_grad_enable_grad_in_inference_mode": _no_grad_then_enable_grad_in_inference_mode,
    "nesting": _grad_modes_nesting,
    "decorators": _grad_mode_decorators,
    "set_grad_enabled_function": _set_grad_enabled_function,
    "set_grad_enabled_context": _set_grad_enabled_context_values,
    "restores_after_exception": _no_grad_restores_after_exception,
    "in_place_on_leaf_under_no_grad": _no_grad_in_place_on_leaf,
    "creation_keeps_requires_grad": _no_grad_creation_keeps_requires_grad,
    "decorated_method": _no_grad_on_method_and_class,
    "no_grad_enter_returns_none": _no_grad_enter_returns,
    "grad_mode_in_forward_and_backward": _is_grad_enabled_in_backward,
}


@pytest.mark.parametrize("run", list(GRAD_MODE_CASES.values()), ids=list(GRAD_MODE_CASES))
def test_grad_modes(run):
    same_in_both(run, rtol=1e-7, atol=1e-9)


GRAD_MODE_RAISES = {
    "in_place_on_leaf_outside_no_grad": lambda L: leaf(L).mul_(2),
    "set_item_on_leaf": lambda L: leaf(L).__setitem__(0, 1.0),
    "set_grad_enabled_no_argument": lambda L: L.set_grad_enabled(),
    "set_grad_enabled_int": lambda L: L.set_grad_enabled(0),
}


@pytest.mark.parametrize("run", list(GRAD_MODE_RAISES.values()), ids=list(GRAD_MODE_RAISES))
def test_grad_modes_raise_as_torch(run):
    raises_as_torch(run)


# --- anomaly detection --------------------------------------------------------------------------

def _nan_backward(L):
    """sqrt at 0 times 0: the backward of SqrtBackward0 makes 0 * inf = NaN."""
    x = L.tensor([0.0, 4.0], dtype=L.float64, requires_grad=True)
    (x.sqrt() * 0).sum().backward()
    return x.grad


def _anomaly_flags(L):
    flags = [L.is_anomaly_enabled()]
    with L.autograd.set_detect_anomaly(True):
        flags.append([L.is_anomaly_enabled(), L.is_anomaly_check_nan_enabled()])
    flags.append(L.is_anomaly_enabled())
    with L.autograd.detect_anomaly(check_nan=False):
        flags.append([L.is_anomaly_enabled(), L.is_anomaly_check_nan_enabled()])
    flags.append([L.is_anomaly_enabled(), L.is_anomaly_check_nan_enabled()])
    return flags


def _anomaly_function_form(L):
    L.autograd.set_detect_anomaly(True)
    try:
        inside = L.is_anomaly_enabled()
    finally:
        L.autograd.set_detect_anomaly(False)
    return inside, L.is_anomaly_enabled()


def _nan_without_anomaly(L):
    return _nan_backward(L)


def _nan_with_anomaly_check_nan_false(L):
    with L.autograd.detect_anomaly(check_nan=False):
        return _nan_backward(L)


def _anomaly_clean_backward(L):
    with L.autograd.detect_anomaly():
        x = leaf(L, (1.0, 4.0))
        (x.sqrt() * x).sum().backward()
    return x.grad


def _nan_in_forward_is_not_anomaly(L):
    with L.autograd.set_detect_anomaly(True):
        x = L.tensor([-1.0, 4.0], dtype=L.float64, requires_grad=True)
        y = x.log()
        (y * 0 + x).sum().backward()
    return x.grad


def _anomaly_nested(L):
    with L.autograd.detect_anomaly():
        with L.autograd.set_detect_anomaly(False):
            inner = L.is_anomaly_enabled()
        outer = L.is_anomaly_enabled(), L.is_anomaly_check_nan_enabled()
    return inner, outer, L.is_anomaly_enabled()


ANOMALY_CASES = {
    "nested": _anomaly_nested,
    "flags": _anomaly_flags,
    "function_form": _anomaly_function_form,
    "nan_without_anomaly": _nan_without_anomaly,
    "nan_with_check_nan_false": _nan_with_anomaly_check_nan_false,
    "clean_backward": _anomaly_clean_backward,
    "nan_in_forward_not_checked": _nan_in_forward_is_not_anomaly,
}


@pytest.mark.parametrize("run", list(ANOMALY_CASES.values()), ids=list(ANOMALY_CASES))
def test_anomaly_detection(run):
    same_in_both(run, rtol=1e-7, atol=1e-9)


def _nan_with_detect_anomaly(L):
    with L.autograd.detect_anomaly():
        _nan_backward(L)


def _nan_with_set_detect_anomaly(L):
    with L.autograd.set_detect_anomaly(True):
        _nan_backward(L)


def _nan_with_anomaly_in_autograd_grad(L):
    with L.autograd.detect_anomaly():
        x = L.tensor([0.0, 4.0], dtype=L.float64, requires_grad=True)
        L.autograd.grad((x.sqrt() * 0).sum(), x)


def _nan_from_custom_function_with_anomaly(L):
    class Bad(L.autograd.Function):
        @staticmethod
        def forward(ctx, t):
            return t * 1

        @staticmethod
        def backward(ctx, grad):
            return grad * NAN

    with L.autograd.detect_anomaly():
        Bad.apply(leaf(L)).sum().backward()


ANOMALY_RAISES = {
    "detect_anomaly": _nan_with_detect_anomaly,
    "set_detect_anomaly": _nan_with_set_detect_anomaly,
    "autograd_grad": _nan_with_anomaly_in_autograd_grad,
    "custom_function": _nan_from_custom_function_with_anomaly,
}


@pytest.mark.parametrize("run", list(ANOMALY_RAISES.values()), ids=list(ANOMALY_RAISES))
def test_anomaly_raises_as_torch(run):
    raises_as_torch(run)
    assert not torch.is_anomaly_enabled() and not chainrule.is_anomaly_enabled()


def test_detect_anomaly_warns_like_torch():
    def run(L):
        with L.autograd.detect_anomaly():
            pass
    assert warning_categories(lambda: run(chainrule))[0] == warning_categories(lambda: run(torch))[0]


# --- requires_grad_, detach_, .data -------------------------------------------------------------

def _requires_grad_on_leaves(L):
    a = L.tensor([1.0, 2.0])
    returned = a.requires_grad_()
    b = L.tensor([1.0]).requires_grad_(False)
    c = leaf(L).requires_grad_(True)
    h = L.tensor([1.0], dtype=L.float16).requires_grad_()
    return returned is a, a.requires_grad, a.is_leaf, b.requires_grad, c.requires_grad, h.requires_grad


def _requires_grad_true_on_non_leaf(L):
    y = leaf(L) * 2
    returned = y.requires_grad_(True)
    return returned is y, y.requires_grad, y.is_leaf


def _requires_grad_on_no_grad_result(L):
    with L.no_grad():
        y = leaf(L) * 2
    y.requires_grad_()
    (y * y).sum().backward()
    return y.is_leaf, y.grad


def _detach_in_place(L):
    x = leaf(L, (1.0, 2.0))
    y = x * 2
    returned = y.detach_()
    return returned is y, y.requires_grad, y.grad_fn is None, y.is_leaf, y


def _detach_shares_storage(L):
    x = leaf(L, (1.0, 2.0))
    d = x.detach()
    d[0] = 5.0
    return x, d.requires_grad, d.is_leaf


def _detach_in_place_of_detached(L):
    """detach() gives a tensor that is not a view: detach_ on it is allowed."""
    x = leaf(L, (1.0, 2.0))
    d = x.detach()
    d.detach_()
    return d.requires_grad, d


def _data_reads(L):
    x = leaf(L, (1.0, 2.0))
    d = x.data
    d.mul_(3)
    return x.detach(), d.requires_grad, d.is_leaf, x.requires_grad


def _data_assignment_keeps_flags(L):
    x = leaf(L, (1.0, 2.0))
    x.data = L.tensor([5.0, 6.0, 7.0], dtype=L.float64)
    (x * x).sum().backward()
    return x.requires_grad, x.is_leaf, tuple(x.shape), x.grad


def _data_change_untracked_by_version(L):
    """Changing ``.data`` in place escapes the version check: backward uses the new values."""
    x = leaf(L, (1.0, 2.0))
    y = x * x
    x.data.mul_(10)
    y.sum().backward()
    return x.grad


def _data_assignment_on_non_leaf(L):
    x = leaf(L, (1.0, 2.0))
    y = x * 2
    y.data = L.tensor([0.0, 0.0], dtype=L.float64)
    return y, y.requires_grad, y.grad_fn is not None


def _data_assignment_on_parameter(L):
    p = L.nn.Parameter(L.ones(2, dtype=L.float64))
    p.data = L.tensor([3.0, 4.0], dtype=L.float64)
    (p * p).sum().backward()
    return type(p).__name__, p.grad, p.requires_grad


def _data_assignment_dtype(L):
    x = leaf(L, (1.0, 2.0))
    x.data = L.tensor([1.0, 2.0], dtype=L.float32)
    return str(x.dtype).split(".")[-1], x.requires_grad


def _detach_in_place_on_leaf(L):
    x = leaf(L)
    x.detach_()
    return x.requires_grad, x.is_leaf, x.grad_fn is None


def _data_of_non_leaf(L):
    y = leaf(L) * 2
    d = y.data
    return d.requires_grad, d.is_leaf, d.grad_fn is None, d


def _data_assignment_of_tensor_requiring_grad(L):
    x = leaf(L)
    x.data = leaf(L, (5.0, 6.0))
    return x.requires_grad, x.is_leaf, x


def _data_assignment_shares_storage(L):
    x = leaf(L, (0.0, 0.0))
    source = L.zeros(3, dtype=L.float64)
    x.data = source
    source[0] = 5.0
    return x.detach()


REQUIRES_GRAD_CASES = {
    "data_assignment_shares_storage": _data_assignment_shares_storage,
    "detach_in_place_on_leaf": _detach_in_place_on_leaf,
    "data_of_non_leaf": _data_of_non_leaf,
    "data_assignment_of_tensor_requiring_grad": _data_assignment_of_tensor_requiring_grad,
    "requires_grad_on_leaves": _requires_grad_on_leaves,
    "requires_grad_true_on_non_leaf": _requires_grad_true_on_non_leaf,
    "requires_grad_on_no_grad_result": _requires_grad_on_no_grad_result,
    "detach_in_place": _detach_in_place,
    "detach_shares_storage": _detach_shares_storage,
    "detach_in_place_of_detached": _detach_in_place_of_detached,
    "data_reads": _data_reads,
    "data_assignment_keeps_flags": _data_assignment_keeps_flags,
    "data_change_untracked": _data_change_untracked_by_version,
    "data_assignment_on_non_leaf": _data_assignment_on_non_leaf,
    "data_assignment_on_parameter": _data_assignment_on_parameter,
    "data_assignment_dtype": _data_assignment_dtype,
}


@pytest.mark.parametrize("run", list(REQUIRES_GRAD_CASES.values()), ids=list(REQUIRES_GRAD_CASES))
def test_requires_grad_detach_data(run):
    same_in_both(run, rtol=1e-7, atol=1e-9)


def _detach_view_of_leaf(L):
    x = leaf(L, (1.0, 2.0, 3.0))
    x[1:].detach_()


def _detach_view_of_non_leaf(L):
    y = leaf(L, (1.0, 2.0, 3.0)) * 2
    y.view(3).detach_()


REQUIRES_GRAD_RAISES = {
    "requires_grad_false_on_non_leaf": lambda L: (leaf(L) * 2).requires_grad_(False),
    "requires_grad_attr_false_on_non_leaf": lambda L: setattr(leaf(L) * 2, "requires_grad", False),
    "requires_grad_attr_true_on_non_leaf": lambda L: setattr(leaf(L) * 2, "requires_grad", True),
    "detach_view_of_plain_tensor": lambda L: L.tensor([1.0, 2.0, 3.0])[1:].detach_(),
    "requires_grad_on_int": lambda L: L.tensor([1, 2]).requires_grad_(),
    "requires_grad_on_bool": lambda L: L.tensor([True]).requires_grad_(),
    "tensor_int_requires_grad": lambda L: L.tensor([1, 2], requires_grad=True),
    "detach_view_of_leaf": _detach_view_of_leaf,
    "detach_view_of_non_leaf": _detach_view_of_non_leaf,
    "data_assignment_not_tensor": lambda L: setattr(leaf(L), "data", [1.0, 2.0]),
    "data_assignment_int_on_requiring_grad": lambda L: setattr(leaf(L), "data", L.tensor([1, 2])),
    "grad_assignment_wrong_shape": lambda L: setattr(leaf(L), "grad", L.ones(5, dtype=L.float64)),
    "grad_assignment_wrong_dtype": lambda L: setattr(leaf(L), "grad", L.ones(3, dtype=L.float32)),
}


REQUIRES_GRAD_RAISES_BUGS = {}


@pytest.mark.parametrize("name", [pytest.param(name, marks=bug(REQUIRES_GRAD_RAISES_BUGS[name]))
                                  if name in REQUIRES_GRAD_RAISES_BUGS else name for name in REQUIRES_GRAD_RAISES])
def test_requires_grad_detach_data_raise_as_torch(name):
    raises_as_torch(REQUIRES_GRAD_RAISES[name])


# --- public names -------------------------------------------------------------------------------

NAMES = [
    "autograd.graph.saved_tensors_hooks", "autograd.graph.save_on_cpu", "autograd.graph.disable_saved_tensors_hooks",
    "autograd.graph.register_multi_grad_hook", "autograd.graph.Node", "autograd.graph.Node.register_hook",
    "autograd.graph.Node.register_prehook", "autograd.set_grad_enabled", "autograd.no_grad", "autograd.enable_grad",
    "autograd.inference_mode", "autograd.detect_anomaly", "autograd.set_detect_anomaly", "autograd.grad_mode.no_grad",
    "autograd.grad_mode.inference_mode", "is_inference_mode_enabled", "is_anomaly_check_nan_enabled",
    "Tensor.register_post_accumulate_grad_hook", "Tensor.retains_grad", "Tensor.is_inference",
    "autograd.graph.allow_mutation_on_saved_tensors", "autograd.set_multithreading_enabled",
    "autograd.grad_mode.enforce_grad_layout_policy",
]
MISSING_NAMES = {}


def _lookup(root, dotted):
    for part in dotted.split("."):
        root = getattr(root, part)
    return root


@pytest.mark.parametrize("name", NAMES + [pytest.param(name, marks=bug(reason)) for name, reason in MISSING_NAMES.items()])
def test_public_names_exist(name):
    assert _lookup(torch, name) is not None
    assert _lookup(chainrule, name) is not None
