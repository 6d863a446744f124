"""autograd.graph: nodes and edges, and hooks on what the nodes save for backward, against PyTorch."""
import numpy as np
import pytest
import torch

import chainrule
from chainrule.autograd import graph
from tests.autograd.test_function import MyExp


def _step(lib, x, w, b):
    """A small network's loss: a layer, tanh, exp and a sum (the values every node saves)."""
    return (lib.nn.functional.linear(x, w, b).tanh().exp() * x.sum()).sum()


def _inputs(lib, rng_seed=0):
    rng = np.random.default_rng(rng_seed)
    x, w, b = (rng.standard_normal(shape) for shape in ((4, 3), (2, 3), (2,)))
    return [lib.tensor(value, requires_grad=True) for value in (x, w, b)]


def test_hooks_see_every_saved_tensor_and_gradients_are_unchanged():
    eager = _inputs(chainrule)
    _step(chainrule, *eager).backward()
    packed, unpacked = [], []

    def pack(tensor):
        packed.append(tensor)
        return ("kept", tensor.detach().clone())

    def unpack(kept):
        unpacked.append(kept)
        assert kept[0] == "kept"
        return kept[1]

    hooked = _inputs(chainrule)
    with graph.saved_tensors_hooks(pack, unpack):
        loss = _step(chainrule, *hooked)
    assert packed and not unpacked
    assert all(isinstance(tensor, chainrule.Tensor) for tensor in packed)
    loss.backward()
    assert len(unpacked) == len(packed)  # each saved tensor read once by its backward
    theirs = _inputs(torch)
    _step(torch, *theirs).backward()
    for plain, ours, oracle in zip(eager, hooked, theirs):
        np.testing.assert_array_equal(ours.grad.numpy(), plain.grad.numpy())
        np.testing.assert_allclose(ours.grad.numpy(), oracle.grad.numpy(), rtol=1e-12)


def test_a_saved_tensor_can_wait_on_disk(tmp_path):
    """The tutorial's use: pack writes each saved tensor to a file, unpack reads it back."""
    names = iter(range(1000))

    def pack(tensor):
        path = tmp_path / f"{next(names)}.pt"
        chainrule.save(tensor.detach(), path)
        return path

    def unpack(path):
        return chainrule.load(path)

    plain, hooked = _inputs(chainrule), _inputs(chainrule)
    _step(chainrule, *plain).backward()
    with graph.saved_tensors_hooks(pack, unpack):
        loss = _step(chainrule, *hooked)
    assert len(list(tmp_path.iterdir())) > 0
    loss.backward()
    for a, b in zip(plain, hooked):
        np.testing.assert_array_equal(a.grad.numpy(), b.grad.numpy())


def test_the_innermost_hooks_apply_and_each_tensor_keeps_the_hooks_it_was_saved_with():
    seen = []
    x = chainrule.tensor([1.0, 2.0], requires_grad=True)
    with graph.saved_tensors_hooks(lambda t: ("outer", t), lambda p: seen.append(p[0]) or p[1]):
        first = x.exp()
        with graph.saved_tensors_hooks(lambda t: ("inner", t), lambda p: seen.append(p[0]) or p[1]):
            second = x.sin()
    (first.sum() + second.sum()).backward()
    assert sorted(seen) == ["inner", "outer"]
    np.testing.assert_allclose(x.grad.numpy(), np.exp([1.0, 2.0]) + np.cos([1.0, 2.0]), rtol=1e-6)


def test_a_custom_function_saving_its_output_gets_it_back_linked_for_double_backward():
    x = chainrule.tensor([0.5, 1.0], requires_grad=True)
    with graph.saved_tensors_hooks(lambda t: t.detach().clone(), lambda t: t):
        y = MyExp.apply(x)
    (grad,) = chainrule.autograd.grad(y.sum(), x, create_graph=True)
    (second,) = chainrule.autograd.grad(grad.sum(), x)
    np.testing.assert_allclose(second.numpy(), np.exp([0.5, 1.0]), rtol=1e-6)


def test_a_retained_graph_unpacks_again_and_a_freed_one_refuses():
    count = []
    x = chainrule.tensor([1.0, 2.0], requires_grad=True)
    with graph.saved_tensors_hooks(lambda t: t, lambda t: count.append(1) or t):
        y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    assert len(count) == 4 and x.grad.tolist() == [4.0, 8.0]
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()


def _written_into_zeros(lib, b, key, value):
    c = lib.zeros(3)
    c[key] = value
    return c


@pytest.mark.parametrize(
    "make",
    [
        lambda lib, b: b[0] * 1,
        lambda lib, b: b[0].clone(),
        lambda lib, b: b.sum(),
        lambda lib, b: b[[0, 1]],
        lambda lib, b: b[b > 0],
        lambda lib, b: b.gather(0, lib.tensor([0, 1])),
        lambda lib, b: b.index_select(0, lib.tensor([0, 1])),
        lambda lib, b: lib.zeros(3).index_put((lib.tensor([0, 1]),), b[:2]),
        lambda lib, b: lib.zeros(3).scatter(0, lib.tensor([0, 1]), b[:2]),
        lambda lib, b: _written_into_zeros(lib, b, 1, b[0]),
        lambda lib, b: _written_into_zeros(lib, b, slice(1, None), b[:2]),
        lambda lib, b: _written_into_zeros(lib, b, [1, 2], b[[1, 1]]),
        lambda lib, b: b.clone().index_fill(0, lib.tensor([1]), 5.0),
    ],
)
def test_a_second_backward_through_a_freed_graph_refuses_where_pytorchs_does(make):
    """Nodes that saved indices or a mask (PyTorch saves them as tensors) and CopySlices (which lets
    go of the function it wraps) refuse a second backward; nodes that saved nothing run again."""
    outcomes = []
    for lib in (torch, chainrule):
        b = lib.tensor([0.5, -1.0, 2.0], requires_grad=True)
        y = make(lib, b)
        y.sum().backward()
        try:
            y.sum().backward()
            outcomes.append("ran again")
        except RuntimeError as error:
            assert "second time" in str(error)
            outcomes.append("refused")
    assert outcomes[1] == outcomes[0]


def test_unpack_must_give_a_tensor():
    x = chainrule.tensor([1.0], requires_grad=True)
    with graph.saved_tensors_hooks(lambda t: 3, lambda packed: packed):
        y = x.exp()
    with pytest.raises(TypeError, match="unpack_hook expected to be a Tensor but got result of type int"):
        y.sum().backward()


def test_disabled_hooks_raise_the_given_message():
    with graph.disable_saved_tensors_hooks("not while the cache is filled"):
        with pytest.raises(RuntimeError, match="not while the cache is filled"):
            with graph.saved_tensors_hooks(lambda t: t, lambda t: t):
                pass
    with graph.saved_tensors_hooks(lambda t: t, lambda t: t):  # allowed again after the block
        pass


def test_save_on_cpu_trains_as_without_it():
    plain, hooked = _inputs(chainrule), _inputs(chainrule)
    _step(chainrule, *plain).backward()
    with graph.save_on_cpu(pin_memory=False):
        loss = _step(chainrule, *hooked)
    loss.backward()
    for a, b in zip(plain, hooked):
        np.testing.assert_array_equal(a.grad.numpy(), b.grad.numpy())


def test_a_compiled_step_runs_eagerly_under_the_hooks_and_compiled_after():
    model = chainrule.nn.Linear(3, 1)
    seen = []

    @chainrule.compile
    def step(x):
        loss = model(x).square().sum()
        loss.backward()
        return loss

    x = chainrule.ones(2, 3)
    step(x)
    step(x)
    with graph.saved_tensors_hooks(lambda t: seen.append(t.shape) or t, lambda t: t):
        step(x)
    assert seen  # the replayed program would have called no hook
    assert step.eager_reason is None  # later calls replay again


def test_nodes_edges_and_versions_as_in_pytorch():
    for lib in (chainrule, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * 2
        assert isinstance(y.grad_fn, lib.autograd.graph.Node)
        edge = lib.autograd.graph.get_gradient_edge(y)
        assert edge.node is y.grad_fn and edge.output_nr == 0
        leaf_edge = lib.autograd.graph.get_gradient_edge(x)
        assert leaf_edge.node.name() == "torch::autograd::AccumulateGrad" if lib is torch else "AccumulateGrad"
        with pytest.raises(RuntimeError):
            lib.autograd.graph.get_gradient_edge(lib.tensor([1.0]))
        z = x * x  # saves x
        with lib.no_grad():
            lib.autograd.graph.increment_version(x)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            z.sum().backward()


def test_a_saved_output_changed_again_in_place_raises_without_a_name():
    """``(w * 2).sigmoid_().mul_(2)``: sigmoid_ saved its output, which mul_ then changes; PyTorch
    refuses the backward whether or not the tensor has a name (nn.Sequential(ReLU(inplace=True),
    Dropout(inplace=True)) in training)."""
    for lib in (chainrule, torch):
        w = lib.ones(3, dtype=lib.float64, requires_grad=True)
        for chain in (lambda: (w * 2).sigmoid_().mul_(2), lambda: lib.relu_(w * 2).mul_(2),
                      lambda: lib.nn.functional.dropout(lib.relu_(w * 2), 0.5, True, inplace=True)):
            with pytest.raises(RuntimeError, match="modified by an inplace operation"):
                chain().sum().backward()


def test_an_embedding_s_indices_changed_in_place_before_backward_raise():
    """A decoder's input buffer overwritten after the lookup (``inp[0] = 4``): the rows read are
    no longer the indices, so backward refuses, as PyTorch's (rather than sending the gradient
    to the new rows)."""
    for lib in (chainrule, torch):
        embedding = lib.nn.Embedding(5, 3)
        indices = lib.tensor([1, 2])
        out = embedding(indices)
        indices[0] = 4
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            out.sum().backward()


def _hooked_run(lib):
    """A backward with a tensor hook, node pre-hooks and hooks (on a product and on a leaf's
    AccumulateGrad) and retain_grad, recording what each hook saw in order."""
    log = []
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    y.register_hook(lambda grad: log.append(("tensor hook", grad.tolist())))
    y.grad_fn.register_prehook(lambda grads: log.append(("prehook", [grad.tolist() for grad in grads])))
    y.grad_fn.register_hook(
        lambda grad_inputs, grad_outputs: log.append(
            ("hook", [None if grad is None else grad.tolist() for grad in grad_inputs], [grad.tolist() for grad in grad_outputs])
        )
    )
    accumulator = y.grad_fn.next_functions[0][0]
    accumulator.register_prehook(lambda grads: log.append(("leaf prehook", [grad.tolist() for grad in grads])))
    accumulator.register_hook(lambda grad_inputs, grad_outputs: log.append(("leaf hook", grad_inputs, [grad.tolist() for grad in grad_outputs])))
    y.retain_grad()
    y.exp().sum().backward()
    return log, x.grad.tolist(), y.grad.tolist()


def test_node_hooks_see_what_pytorchs_see_in_the_same_order():
    ours, theirs = _hooked_run(chainrule), _hooked_run(torch)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-6)
    np.testing.assert_allclose(ours[2], theirs[2], rtol=1e-6)
    assert [entry[0] for entry in ours[0]] == [entry[0] for entry in theirs[0]]
    for mine, oracle in zip(ours[0], theirs[0]):
        assert str(mine[1:]).count("None") == str(oracle[1:]).count("None")  # the constant 3 gets no gradient
        flat = lambda entry: [v for part in entry[1:] for item in part if item is not None for v in np.ravel(item)]  # noqa: E731
        np.testing.assert_allclose(flat(mine), flat(oracle), rtol=1e-6)


@pytest.mark.parametrize("lib", [chainrule, torch], ids=["chainrule", "torch"])
def test_node_hooks_replace_gradients_and_their_handles_remove_them(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    pre = y.grad_fn.register_prehook(lambda grads: (grads[0] * 10,))
    y.grad_fn.register_hook(lambda grad_inputs, grad_outputs: (grad_inputs[0] + 1, None))
    y.sum().backward(retain_graph=True)
    assert x.grad.tolist() == [31.0, 31.0]
    pre.remove()
    x.grad = None
    y.sum().backward()
    assert x.grad.tolist() == [4.0, 4.0]
    assert y.grad_fn.metadata == {}


@pytest.mark.parametrize(
    ("register", "error", "message"),
    [
        (lambda node: node.register_hook(lambda grad_inputs, grad_outputs: (grad_inputs[0], grad_inputs[0])), RuntimeError, "None gradient"),
        (lambda node: node.register_prehook(lambda grads: 5), TypeError, "expected tuple, but hook returned 'int'"),
    ],
)
def test_a_node_hook_returning_the_wrong_thing_is_refused_as_in_pytorch(register, error, message):
    for lib in (chainrule, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * 3
        register(y.grad_fn)
        with pytest.raises(error, match=message):
            y.sum().backward()


def test_a_compiled_step_with_a_node_hook_runs_eagerly_and_calls_it():
    model = chainrule.nn.Linear(3, 1)
    calls = []

    @chainrule.compile
    def step(x):
        loss = model(x).square().sum()
        loss.grad_fn.register_hook(lambda grad_inputs, grad_outputs: calls.append(1))
        loss.backward()
        return loss

    with pytest.warns(UserWarning, match="runs eagerly"):
        for _ in range(3):
            step(chainrule.ones(2, 3))
    assert len(calls) == 3


def _multi_hook_log(lib):
    a = lib.ones(2, requires_grad=True)
    b = lib.ones(2, requires_grad=True) * 3
    c = lib.ones(2, requires_grad=True)
    log = []
    handle = lib.autograd.graph.register_multi_grad_hook(
        (a, b, c), lambda grads: log.append([None if grad is None else grad.tolist() for grad in grads])
    )
    (a * 2 + b * b).sum().backward(retain_graph=True)
    (a * 5).sum().backward()
    handle.remove()
    (a * 2).sum().backward()
    first = []
    lib.autograd.graph.register_multi_grad_hook((a, c), lambda grad: first.append(grad.tolist()), mode="any")
    (a * 2 + c * 3).sum().backward()
    return log, first


def test_multi_grad_hooks_fire_once_per_pass_as_pytorchs():
    assert _multi_hook_log(chainrule) == _multi_hook_log(torch)
    with pytest.raises(ValueError, match="mode"):
        chainrule.autograd.graph.register_multi_grad_hook((chainrule.ones(1, requires_grad=True),), print, mode="some")


def _mutation_allowed(lib):
    """Saved tensors changed in place inside allow_mutation_on_saved_tensors: backward uses the
    values they had when saved (a clone's, a leaf's, through a view), double backward included."""
    allow = lib.autograd.graph.allow_mutation_on_saved_tensors
    with allow():
        a = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        b = a.clone()
        out = (b**2).sum()
        b.sin_()
        out.backward()
        first = a.grad.tolist()
    with allow():
        c = lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64, requires_grad=True)
        d = c * 1
        out = (d**3).sum()
        d[:2].mul_(5)
        (g,) = lib.autograd.grad(out, c, create_graph=True)
        g.sum().backward()
        second = c.grad.tolist()
    return first, second


def test_allow_mutation_on_saved_tensors_backward_sees_the_saved_values():
    assert _mutation_allowed(chainrule) == _mutation_allowed(torch)


def test_allow_mutation_on_saved_tensors_refuses_nesting_and_backward_outside():
    for lib in (torch, chainrule):
        allow = lib.autograd.graph.allow_mutation_on_saved_tensors
        with pytest.raises(RuntimeError, match="cannot be nested"):
            with allow():
                with allow():
                    pass
        with allow():
            x = lib.ones(2, requires_grad=True)
            out = (x.clone() ** 2).sum()
        with pytest.raises(AssertionError, match="outside of the 'allow_mutation_on_saved_tensors' context"):
            out.backward()
        with pytest.raises(RuntimeError, match="no hooks"):
            with lib.autograd.graph.disable_saved_tensors_hooks("no hooks"):
                with allow():
                    pass


def test_disable_saved_tensors_hooks_refuses_hooks_in_force_and_decorates():
    for lib in (torch, chainrule):
        graph_module = lib.autograd.graph
        with graph_module.saved_tensors_hooks(lambda t: t, lambda t: t) as entered:
            assert entered is None
            with pytest.raises(RuntimeError, match="not with hooks"):
                with graph_module.disable_saved_tensors_hooks("not with hooks"):
                    pass

        @graph_module.disable_saved_tensors_hooks("refused in here")
        def enter_hooks():
            with graph_module.saved_tensors_hooks(lambda t: t, lambda t: t):
                pass

        with pytest.raises(RuntimeError, match="refused in here"):
            enter_hooks()
        with graph_module.saved_tensors_hooks(lambda t: t, lambda t: t):  # allowed again after each
            pass


def _packs_and_unpacks(lib):
    """What saved_tensors_hooks see: no Python number (x * 2's 2, a NumPy scalar), each tensor
    unpacked once per backward (pow's input), and a pack hook may not change its input in place."""
    x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
    packed, unpacked = [], []
    with lib.autograd.graph.saved_tensors_hooks(lambda t: (packed.append(tuple(t.shape)), t)[1],
                                                lambda t: (unpacked.append(tuple(t.shape)), t)[1]):
        y = (x * 2 + x / 3 + x * np.float64(4) + x * 0 + x.pow(2) + 2**x + x * lib.tensor(5.0, dtype=lib.float64)).sum()
    y.backward()
    with lib.autograd.graph.saved_tensors_hooks(lambda t: t.mul_(2), lambda t: t):
        with pytest.raises(RuntimeError, match="pack hook is modifying its input in place"):
            x.exp()
    return sorted(packed), sorted(unpacked), x.grad.tolist()


def test_saved_tensors_hooks_see_what_pytorchs_see():
    assert _packs_and_unpacks(chainrule) == _packs_and_unpacks(torch)


def test_switches_of_how_backward_runs_are_accepted_as_pytorchs():
    for lib in (torch, chainrule):
        for switch in (lib.autograd.set_multithreading_enabled, lib.autograd.grad_mode.enforce_grad_layout_policy):
            with switch(False) as entered:
                assert entered is None
            switch(True)

            @switch(False)
            def double(x):
                return x * 2

            x = lib.ones(2, requires_grad=True)
            double(x).sum().backward()
            assert x.grad.tolist() == [2.0, 2.0]
            with pytest.raises(TypeError, match="must be bool"):
                switch("no")


def _second_order_through_unpacked_copies(lib):
    """An unpacked value takes the place in the graph its tensor had when packed, as PyTorch's
    SavedVariable gives it: a hook that returns copies, or a saved tensor changed in place after
    packing, leaves create_graph its path to the inputs."""
    results = []
    x = lib.tensor([0.5, 1.5], dtype=lib.float64, requires_grad=True)
    with lib.autograd.graph.saved_tensors_hooks(lambda t: t.detach().clone(), lambda t: t):
        y = (x.sin() * x * (x * 3).exp()).sum()
    (g,) = lib.autograd.grad(y, x, create_graph=True)
    g.sum().backward()
    results.append((g.tolist(), x.grad.tolist()))
    a = lib.tensor([0.5, 1.5], dtype=lib.float64, requires_grad=True)
    b = a * 2
    with lib.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t):
        y = (b * b).sum()
    b.mul_(3)
    (g,) = lib.autograd.grad(y, a, create_graph=True)
    g.sum().backward()
    results.append((g.tolist(), a.grad.tolist()))
    return results


def test_unpacked_values_keep_the_history_of_what_was_packed():
    np.testing.assert_allclose(_second_order_through_unpacked_copies(chainrule), _second_order_through_unpacked_copies(torch), rtol=1e-12)


def test_grad_with_respect_to_gradient_edges_as_pytorch():
    """(``get_gradient_edge(b)`` as an input: the gradient arriving there, b itself unneeded)"""
    results = []
    for lib in (chainrule, torch):
        a = lib.tensor([0.5, -1.0, 2.0], requires_grad=True)
        b = a * 2
        c = b.exp()
        edge = lib.autograd.graph.get_gradient_edge(b)
        (at_edge,) = lib.autograd.grad(c.sum(), edge, retain_graph=True)
        at_both = lib.autograd.grad(c.sum(), (edge, a))
        with pytest.raises(RuntimeError, match="materialize_grads cannot be used when the given input is a GradientEdge"):
            lib.autograd.grad((a * 3).sum(), [edge], materialize_grads=True)
        results.append([at_edge.tolist()] + [each.tolist() for each in at_both])
    np.testing.assert_allclose(results[0], results[1], rtol=1e-6)  # (exp of float32: an ulp apart)
