"""gather, scatter, index_add and index_copy at their edges, as PyTorch: a 0-d input read as a 1-D
one of one element, an empty index of any shape (nothing read or written), index dtypes."""
import pytest
import torch

import chainrule


def _ops(lib, x):
    one, zero = lib.tensor(2.5), lib.tensor(0)
    return {
        "gather": lambda: lib.gather(x, 0, zero),
        "gather_of_one": lambda: lib.gather(x, 0, zero.reshape(1)),
        "scatter": lambda: lib.scatter(x, 0, zero, one),
        "scatter_value": lambda: lib.scatter(x, 0, zero, value=2.5),
        "scatter_add": lambda: lib.scatter_add(x, 0, zero, one),
        "scatter_reduce": lambda: lib.scatter_reduce(x, -1, zero, one, "prod"),
        "index_add": lambda: lib.index_add(x, 0, zero.reshape(1), one, alpha=2),
        "index_copy": lambda: lib.index_copy(x, 0, zero.reshape(1), one),
        "method_scatter_": lambda: x.detach().clone().scatter_(0, zero, one),
    }


@pytest.mark.parametrize("name", list(_ops(torch, torch.tensor(1.0))))
def test_a_0d_input_is_read_as_one_element(name):
    results = []
    for lib in (chainrule, torch):
        x = lib.tensor(1.5, requires_grad=True)
        y = _ops(lib, x)[name]()
        if y.requires_grad:
            y.backward()
        results.append((tuple(y.shape), y.item(), None if x.grad is None else x.grad.item()))
    assert results[0] == results[1]


@pytest.mark.parametrize(
    "call",
    [
        lambda lib, x, empty: lib.gather(x, 0, empty),
        lambda lib, x, empty: lib.gather(x, 1, empty.reshape(0, 1, 1)),
        lambda lib, x, empty: x.scatter(0, empty, lib.zeros(2, 2)),
        lambda lib, x, empty: x.scatter(0, empty.reshape(0, 4), lib.zeros(0, 4)),
        lambda lib, x, empty: x.scatter_add(1, empty, lib.zeros(2, 2)),
        lambda lib, x, empty: x.scatter_reduce(0, empty, lib.zeros(2, 2), "mean"),
        lambda lib, x, empty: x.scatter(0, empty, 3.0),
    ],
)
def test_an_empty_index_of_any_shape_reads_and_writes_nothing(call):
    results = []
    for lib in (chainrule, torch):
        x = lib.ones(2, 2, requires_grad=True)
        y = call(lib, x, lib.tensor((), dtype=lib.int64))
        (y.sum() * 2).backward()
        results.append((y.tolist(), tuple(y.shape), x.grad.tolist()))
    assert results[0] == results[1]


@pytest.mark.parametrize("name", ["gather", "scatter", "scatter_add"])
def test_an_index_narrower_than_int32_is_refused_as_in_pytorch(name):
    for lib in (chainrule, torch):
        call = getattr(lib, name)
        arguments = (lib.zeros(3, 3), 0, lib.zeros(1, 3, dtype=lib.int16)) + (() if name == "gather" else (lib.ones(1, 3),))
        with pytest.raises(RuntimeError, match="Expected dtype int32/int64 for index"):
            call(*arguments)
        assert call(*arguments[:2], arguments[2].int(), *arguments[3:]).shape == (1 if name == "gather" else 3, 3)


@pytest.mark.parametrize("index_shape", [(0,), (0, 2)])
def test_src_of_a_scatter_that_writes_nothing_stays_in_the_graph(index_shape):
    """(max_unpool of an empty batch scatters with an empty index: its input's gradient is zeros.
    PyTorch's own backward fails here, its ScatterBackward0 returning a gradient of the index's
    shape; the forward's requires_grad is compared, and chainrule's gradient is the zeros it means)"""
    for lib in (chainrule, torch):
        src = lib.ones(2, 2, requires_grad=True)
        out = lib.zeros(2, 2).scatter(0, lib.zeros(index_shape, dtype=lib.int64), src)
        assert out.requires_grad and out.tolist() == [[0.0, 0.0], [0.0, 0.0]]
    src = chainrule.ones(2, 2, requires_grad=True)
    chainrule.zeros(2, 2).scatter(0, chainrule.zeros(index_shape, dtype=chainrule.int64), src).sum().backward()
    assert src.grad.tolist() == [[0.0, 0.0], [0.0, 0.0]]
