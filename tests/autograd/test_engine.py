"""The backward pass: accumulation, freeing, reuse, deep graphs, higher order, grad()."""
import gc
import sys
import threading
import warnings

import numpy as np
import pytest
import torch

import chainrule
from chainrule.autograd import Function


def test_scalar_backward_fills_leaf_grads():
    w = chainrule.tensor(2.0, requires_grad=True)
    x = chainrule.tensor(3.0)
    loss = (w * x - 1.0) ** 2
    loss.backward()
    assert w.grad.item() == pytest.approx(2 * (2 * 3 - 1) * 3)
    assert x.grad is None  # no gradient where none was asked for


def test_non_scalar_backward_needs_a_gradient():
    w = chainrule.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar outputs"):
        (w * 2).backward()
    (w * 2).backward(chainrule.tensor([1.0, 10.0]))
    np.testing.assert_array_equal(w.grad._array, [2.0, 20.0])


def test_gradient_of_wrong_shape_is_refused():
    w = chainrule.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="Mismatch in shape"):
        (w * 2).backward(chainrule.tensor([1.0, 2.0, 3.0]))


def test_backward_on_tensor_without_grad_explains():
    with pytest.raises(RuntimeError, match="does not require grad"):
        chainrule.tensor(1.0).backward()


def test_grad_checks_the_outputs_before_the_inputs_as_pytorch():
    for lib in (torch, chainrule):
        x = lib.ones(3)
        with pytest.raises(RuntimeError, match="^element 0 of tensors does not require grad and does not have a grad_fn"):
            lib.autograd.grad((x * 2).sum(), x)


def test_gradients_accumulate_until_zeroed():
    w = chainrule.tensor(1.0, requires_grad=True)
    for _ in range(3):
        (w * 2).backward()
    assert w.grad.item() == 6.0
    w.grad.data.zero_()
    (w * 2).backward()
    assert w.grad.item() == 2.0


def test_second_backward_through_freed_graph_says_retain_graph():
    w = chainrule.tensor(1.0, requires_grad=True)
    loss = (w * 3.0) ** 2
    loss.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True") as error:
        loss.backward()
    assert "second time" in str(error.value)


def test_retain_graph_allows_a_second_backward():
    w = chainrule.tensor(1.0, requires_grad=True)
    loss = (w * 3.0) ** 2
    loss.backward(retain_graph=True)
    loss.backward()
    assert w.grad.item() == pytest.approx(36.0)


def test_reused_node_is_visited_once():
    calls = []

    class Double(Function):
        @staticmethod
        def forward(ctx, x):
            return x._array * 2

        @staticmethod
        def backward(ctx, grad_output):
            calls.append(1)
            return grad_output * 2

    a = chainrule.tensor(1.0, requires_grad=True)
    b = Double.apply(a)
    c = b + b
    d = c + c
    d.backward()
    assert a.grad.item() == 8.0
    assert len(calls) == 1


def test_diamond_graph_matches_torch():
    def f(lib, x):
        a = x * 2
        b = a.exp()
        c = a * b + b
        return (c * a).sum()

    x_ours = chainrule.tensor([0.5, -1.0], requires_grad=True)
    x_torch = torch.tensor([0.5, -1.0], requires_grad=True)
    f(chainrule, x_ours).backward()
    f(torch, x_torch).backward()
    np.testing.assert_allclose(x_ours.grad._array, x_torch.grad.numpy(), rtol=1e-6)


def test_deep_chain_needs_no_recursion():
    depth = 20_000
    x = chainrule.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(depth):
        y = y + 1e-6
    assert depth > sys.getrecursionlimit() * 10
    y.backward()
    assert x.grad.item() == 1.0


def test_graph_is_freed_after_backward():
    x = chainrule.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()
    node = y.grad_fn
    y.sum().backward()
    assert node._saved == ()  # the saved result was released, breaking the node <-> output cycle


def test_higher_order_gradients():
    x = chainrule.tensor(2.0, requires_grad=True)
    y = x ** 3
    (first,) = chainrule.autograd.grad(y, x, create_graph=True)
    assert first.item() == pytest.approx(12.0)  # 3 x^2
    (second,) = chainrule.autograd.grad(first, x, create_graph=True)
    assert second.item() == pytest.approx(12.0)  # 6 x
    (third,) = chainrule.autograd.grad(second, x)
    assert third.item() == pytest.approx(6.0)


def test_backward_with_create_graph_then_backward_again():
    x = chainrule.tensor(1.5, requires_grad=True)
    y = x.exp() * x
    y.backward(create_graph=True)
    first = x.grad
    assert first.requires_grad
    x.grad = None
    first.backward()
    expected = np.exp(1.5) * (1.5 + 2)  # d2/dx2 (x e^x) = e^x (x + 2)
    assert x.grad.item() == pytest.approx(expected, rel=1e-6)


def test_grad_leaves_dot_grad_alone_and_handles_non_leaves():
    x = chainrule.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    out = (h * h).sum()
    grad_x, grad_h = chainrule.autograd.grad(out, [x, h])
    np.testing.assert_allclose(grad_h._array, [6.0, 12.0])
    np.testing.assert_allclose(grad_x._array, [18.0, 36.0])
    assert x.grad is None


def test_grad_unused_input():
    x = chainrule.tensor(1.0, requires_grad=True)
    unused = chainrule.tensor(1.0, requires_grad=True)
    out = x * 2
    with pytest.raises(RuntimeError, match="allow_unused=True"):
        chainrule.autograd.grad(out, [x, unused], retain_graph=True)
    grads = chainrule.autograd.grad(out, [x, unused], allow_unused=True)
    assert grads[1] is None and grads[0].item() == 2.0


def test_backward_inputs_restricts_accumulation():
    a = chainrule.tensor(1.0, requires_grad=True)
    b = chainrule.tensor(2.0, requires_grad=True)
    (a * b).backward(inputs=[a])
    assert a.grad.item() == 2.0 and b.grad is None


def test_no_grad_records_nothing():
    w = chainrule.tensor([1.0], requires_grad=True)
    with chainrule.no_grad():
        y = w * 2
    assert y.grad_fn is None and not y.requires_grad

    @chainrule.no_grad()
    def evaluate():
        return w * 2

    assert evaluate().grad_fn is None
    with chainrule.no_grad():
        with chainrule.enable_grad():
            assert (w * 2).requires_grad
    with chainrule.set_grad_enabled(False):
        assert not chainrule.is_grad_enabled()
    assert chainrule.is_grad_enabled()


def test_grad_mode_is_per_thread():
    seen = []
    with chainrule.no_grad():
        thread = threading.Thread(target=lambda: seen.append(chainrule.is_grad_enabled()))
        thread.start()
        thread.join()
    assert seen == [True]


def test_result_requires_grad_if_any_input_does():
    w = chainrule.tensor(1.0, requires_grad=True)
    x = chainrule.tensor(2.0)
    assert (w * x).requires_grad and not (x * x).requires_grad
    assert (w * x).grad_fn is not None and (x * x).grad_fn is None


def test_hooks_on_leaves_and_intermediates():
    x = chainrule.tensor([1.0, 2.0], requires_grad=True)
    handle = x.register_hook(lambda grad: grad * 10)
    h = x * 2
    seen = []
    h.register_hook(lambda grad: seen.append(grad._array.copy()))
    h.sum().backward()
    np.testing.assert_array_equal(seen[0], [1.0, 1.0])
    np.testing.assert_array_equal(x.grad._array, [20.0, 20.0])
    handle.remove()
    x.grad = None
    (x * 2).sum().backward()
    np.testing.assert_array_equal(x.grad._array, [2.0, 2.0])


def test_retain_grad_keeps_intermediate_gradient():
    x = chainrule.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    h.retain_grad()
    assert h.retains_grad
    (h * h).sum().backward()
    np.testing.assert_allclose(h.grad._array, [6.0, 12.0])
    other = x * 3
    (other * other).sum().backward()
    assert other.grad is None


def test_leaves_never_share_a_gradient_array():
    a = chainrule.tensor(1.0, requires_grad=True)
    b = chainrule.tensor(1.0, requires_grad=True)
    (a + b).backward()
    a.grad.zero_()
    assert b.grad.item() == 1.0


def test_graph_is_collected_without_backward():
    x = chainrule.tensor([1.0], requires_grad=True)
    y = x.exp()
    node = y.grad_fn
    import weakref

    reference = weakref.ref(node)
    del y, node
    gc.collect()
    assert reference() is None


def test_create_graph_gradient_is_a_writable_copy():
    x = chainrule.tensor([1.0, 2.0], requires_grad=True)
    x.sum().backward(create_graph=True)  # sum's gradient is a broadcast (read-only) view
    x.grad.zero_()
    assert x.grad.tolist() == [0.0, 0.0]


def test_bitwise_operators_follow_pytorch():
    assert (~chainrule.tensor([1, 2])).tolist() == [-2, -3]
    assert (~chainrule.tensor([True, False])).tolist() == [False, True]
    assert (chainrule.tensor([6]) & chainrule.tensor([3])).tolist() == [2]


def test_grad_mode_decorators_without_parentheses():
    w = chainrule.ones(2, requires_grad=True)

    @chainrule.no_grad
    def frozen():
        return w * 2

    @chainrule.inference_mode(False)
    def tracked():
        return w * 2

    with chainrule.no_grad():
        assert tracked().requires_grad
    assert not frozen().requires_grad and chainrule.is_grad_enabled()



def _recorded_cases():
    """Operations whose backward formulas round carefully, as functions of two (6, 5) inputs."""
    F = chainrule.nn.functional
    return {
        "tanh": lambda x, y: x.tanh(),
        "sigmoid": lambda x, y: x.sigmoid(),
        "gelu": lambda x, y: F.gelu(x),
        "gelu_tanh": lambda x, y: F.gelu(x, approximate="tanh"),
        "softplus": lambda x, y: F.softplus(x),
        "mish": lambda x, y: F.mish(x),
        "sqrt": lambda x, y: (x.abs() + 0.5).sqrt(),
        "powf": lambda x, y: (x.abs() + 0.5) ** 1.7,
        "div": lambda x, y: x / (y.abs() + 0.5),
        "softmax": lambda x, y: F.softmax(x, 1),
        "log_softmax": lambda x, y: F.log_softmax(x, 1),
        "logsumexp": lambda x, y: chainrule.logsumexp(x, 1),
        "var": lambda x, y: x.var(1),
        "norm": lambda x, y: x.norm(dim=1),
        "layer_norm": lambda x, y: F.layer_norm(x, (5,)),
        "matmul": lambda x, y: x @ y.T,
        "ce": lambda x, y: F.cross_entropy(x, chainrule.tensor([0, 1, 2, 3, 4, 0])),
        "bce_logits": lambda x, y: F.binary_cross_entropy_with_logits(x, y.sigmoid()),
        "cumprod": lambda x, y: x.cumprod(1),
        "normalize": lambda x, y: F.normalize(x),
        "batch_norm": lambda x, y: F.batch_norm(x, None, None, training=True),
    }


@pytest.mark.parametrize("name", list(_recorded_cases()))
def test_a_recorded_backward_gives_the_plain_backwards_bits(name):
    """create_graph=True (jacrev, hessian, gradient penalties) must not change the first
    derivatives: PyTorch's are the same bits in both modes (tanh's 1 - y² once differed)."""
    rng = np.random.default_rng(0)
    x0, y0 = (rng.standard_normal((6, 5)).astype(np.float32) for _ in range(2))
    fn = _recorded_cases()[name]
    x, y = chainrule.tensor(x0, requires_grad=True), chainrule.tensor(y0, requires_grad=True)
    out = fn(x, y)
    seed = chainrule.tensor(rng.standard_normal(tuple(out.shape)).astype(np.float32))
    plain = chainrule.autograd.grad(out, [x, y], seed, allow_unused=True, retain_graph=True)
    recorded = chainrule.autograd.grad(out, [x, y], seed, allow_unused=True, create_graph=True)
    for a, b in zip(plain, recorded):
        if a is not None:
            np.testing.assert_array_equal(a.numpy(), b.detach().numpy())


@pytest.mark.parametrize("code", ["y = x.exp(); y.add_(1); y.sum().backward()", "z = x * 1; y = z * z; z.add_(1); y.sum().backward()"])
def test_a_changed_saved_tensor_is_named_in_pytorchs_words(code):
    def message(library):
        with pytest.raises(RuntimeError) as error:
            exec(code, {"x": library.ones(3, requires_grad=True)})  # noqa: S102
        return str(error.value)

    expected = message(torch).split(" instead")[0].replace("torch.", "chainrule.")
    assert message(chainrule).startswith(expected)


def test_backward_from_two_outputs_of_one_node_reaches_the_leaves():
    """autograd.backward([u, v], [gu, gv]) where u and v are outputs of one node (a custom Function
    with two outputs, split, unbind): the node runs once with both gradients, as in PyTorch."""

    def run(lib):
        class Split(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2, x * 3

            @staticmethod
            def backward(ctx, gu, gv):
                return gu * 2 + gv * 3

        x = lib.tensor([1.0, -2.0, 0.5], requires_grad=True)
        u, v = Split.apply(x)
        lib.autograd.backward([u, v], [lib.ones(3), lib.full((3,), 0.5)])
        w = lib.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        a, b = w.unbind(0)
        lib.autograd.backward([a, b], [lib.ones(2), lib.ones(2) * 2])
        return x.grad.numpy(), w.grad.numpy()

    for ours, theirs in zip(run(chainrule), run(torch)):
        np.testing.assert_array_equal(ours, theirs)


def _hooks_with_backward_inputs(lib):
    """backward(inputs=...) with hooks on the input leaf, its AccumulateGrad node and a non-leaf
    input that retains its gradient: each hook runs once, in PyTorch's order, and no .grad doubles."""
    log = []
    x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
    x.register_hook(lambda grad: (log.append("tensor"), grad * 2)[1])
    y = x * 3
    node = y.grad_fn.next_functions[0][0]
    node.register_prehook(lambda grads: (log.append("pre"), (grads[0] + 1,))[1])
    node.register_hook(lambda grad_inputs, grad_outputs: log.append("post"))
    x.register_post_accumulate_grad_hook(lambda tensor: log.append("post-accumulate"))
    (y * y).sum().backward(inputs=[x])
    z = x * 2
    z.retain_grad()
    z.grad_fn.register_prehook(lambda grads: log.append("z pre"))
    (z * z).sum().backward(inputs=[z])
    w = x * 2
    (w * w).sum().backward(inputs=[w])
    return log, x.grad.tolist(), z.grad.tolist(), w.retains_grad, w.grad.tolist()


def test_backward_with_inputs_runs_each_hook_once_in_pytorchs_order():
    assert _hooks_with_backward_inputs(chainrule) == _hooks_with_backward_inputs(torch)


def _no_gradient_arrived(lib):
    """A node none of whose outputs got a gradient (a prehook or a custom backward returned None)
    gives its inputs none: .grad stays None, as PyTorch's own nodes do."""
    class Blocks(lib.autograd.Function):
        @staticmethod
        def forward(ctx, t):
            return t * 2

        @staticmethod
        def backward(ctx, grad):
            return None

    x = lib.tensor([1.0, 2.0], requires_grad=True)
    Blocks.apply(x.exp()).sum().backward()
    w = lib.tensor([1.0, 2.0], requires_grad=True)
    y = w.sin()
    y.grad_fn.register_prehook(lambda grads: (None,))
    y.sum().backward()
    return x.grad is None, w.grad is None


def test_a_node_that_gets_no_gradient_sends_none():
    assert _no_gradient_arrived(chainrule) == _no_gradient_arrived(torch) == (True, True)


def _retain_grad_through_views_changed_in_place(lib):
    """retain_grad() follows a tensor to the node an in-place change through a view gives it (the
    base's CopySlices, the view's new node), as in PyTorch."""
    results = []
    for target in ("base", "view through itself", "view through its base"):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = x * 2
        view = y[:2]
        (y if target == "base" else view).retain_grad()
        view.mul_(3)
        ((view if target == "view through itself" else y) * 1).sum().backward()
        kept = y if target == "base" else view
        results.append((kept.retains_grad, None if kept.grad is None else kept.grad.tolist(), x.grad.tolist()))
    return results


def test_retain_grad_follows_in_place_changes_through_views():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert _retain_grad_through_views_changed_in_place(chainrule) == _retain_grad_through_views_changed_in_place(torch)


@pytest.mark.parametrize("gradient", [2.0, 2, [1.0]])
def test_a_gradient_that_is_no_tensor_is_refused_as_in_pytorch(gradient):
    for lib in (torch, chainrule):
        x = lib.ones(1, requires_grad=True)
        with pytest.raises(TypeError):
            (x * 2).sum().backward(gradient)


def test_a_callback_queued_during_backward_runs_once_every_node_has_run_as_pytorch():
    """Variable._execution_engine.queue_callback: from a hook, the callback runs at the end of the
    pass (every gradient in), one it queues runs too; outside a pass it is PyTorch's error."""
    for lib in (torch, chainrule):
        engine = lib.autograd.Variable._execution_engine
        calls = []
        x = lib.ones(2, requires_grad=True)

        def hook(grad):
            def first():
                calls.append(("first", x.grad is not None))
                engine.queue_callback(lambda: calls.append(("second", True)))

            engine.queue_callback(first)
            return grad

        y = x * 2
        y.register_hook(hook)
        y.sum().backward()
        assert calls == [("first", True), ("second", True)]
        with pytest.raises(RuntimeError, match="Final callbacks can only be installed during backward pass"):
            engine.queue_callback(lambda: None)


def test_a_backward_pass_in_another_thread_is_not_this_threads_as_pytorch():
    """The current backward pass is per thread: while another thread's pass waits in a hook, a
    callback queued here is refused (there is no pass in this thread), as PyTorch refuses it."""
    for lib in (torch, chainrule):
        engine = lib.autograd.Variable._execution_engine
        started, release = threading.Event(), threading.Event()
        y = lib.ones(2, requires_grad=True) * 2

        def hook(grad):
            started.set()
            release.wait(5)
            return grad

        y.register_hook(hook)
        other = threading.Thread(target=lambda: y.sum().backward())
        other.start()
        try:
            assert started.wait(5)
            with pytest.raises(RuntimeError, match="Final callbacks can only be installed during backward pass"):
                engine.queue_callback(lambda: None)
        finally:
            release.set()
            other.join()
