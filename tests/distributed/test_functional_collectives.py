"""torch.distributed._functional_collectives on one process, against PyTorch's with gloo and world size 1."""

import numpy as np
import pytest
import torch
import torch.distributed._functional_collectives as torch_funcol

import chainrule
import chainrule.distributed as dist
import chainrule.distributed._functional_collectives as funcol
from tests.distributed.misuse import error_of


def collectives(library, functional, group):
    x = library.arange(12.0).reshape(4, 3)
    mesh = library.distributed.device_mesh.init_device_mesh("cpu", (1, 1), mesh_dim_names=("ring", "ulysses"))
    return {
        "all_reduce": functional.all_reduce(x, "sum", group),
        "all_reduce max": functional.all_reduce(x, "MAX", mesh["ring"]),
        "all_reduce avg": functional.all_reduce(x, "avg", (mesh, 1)),
        "all_reduce by name": functional.all_reduce(x, "sum", group.group_name),
        "all_gather dim 0": functional.all_gather_single(x, 0, group),
        "all_gather dim -1": functional.all_gather_single(x, -1, group),
        "reduce_scatter": functional.reduce_scatter_single(x, "sum", 1, group),
        "all_to_all": functional.all_to_all_single(x, None, None, group),
        "all_to_all splits": functional.all_to_all_single(x, [4], [4], group),
        "all_to_all autograd": functional.all_to_all_single_autograd(x, [4], [4], group),
        "broadcast": functional.broadcast(x, 0, group),
        "permute": functional.permute_tensor(x.reshape(-1), [0], group),
    }


def test_results_are_pytorchs(torch_group, one_process_group):
    ours, theirs = collectives(chainrule, funcol, one_process_group), collectives(torch, torch_funcol, torch_group)
    for name, result in ours.items():
        assert type(result).__name__ == type(theirs[name]).__name__, name
        assert result.shape == theirs[name].shape and np.array_equal(result.tolist(), theirs[name].tolist()), name
        assert repr(result).replace("chainrule", "torch") == repr(theirs[name]), name


def test_the_input_is_left_unchanged_and_the_result_waits_to_a_plain_tensor(one_process_group):
    x = chainrule.tensor([1.0, 2.0])
    result = funcol.all_reduce(x, "sum", one_process_group)
    assert isinstance(result, funcol.AsyncCollectiveTensor) and result is not x
    result.add_(1)
    assert x.tolist() == [1.0, 2.0]
    for plain in (result.wait(), funcol.wait_tensor(result), result.trigger_wait(), result + 0, result * 1):
        assert type(plain) is chainrule.Tensor
    assert funcol.wait_tensor(x) is x and result.tolist() == [2.0, 3.0]


def gradients(library, functional, group):
    x = library.arange(6.0).reshape(2, 3).requires_grad_()
    weight = library.arange(6.0).reshape(2, 3) + 1
    found = []
    for collective in (
        lambda: functional.all_reduce(x * 2, "sum", group),
        lambda: functional.all_gather_single(x, 1, group),
        lambda: functional.reduce_scatter_single(x, "sum", 0, group),
        lambda: functional.all_to_all_single(x, [2], [2], group),
    ):
        x.grad = None
        (collective() * weight).sum().backward()
        found.append(x.grad.tolist())
    return found


def test_gradients_are_pytorchs(torch_group, one_process_group):
    assert gradients(chainrule, funcol, one_process_group) == gradients(torch, torch_funcol, torch_group)
    x = chainrule.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="all_reduce backward only supports 'sum' reduction, got 'max'"):
        funcol.all_reduce(x, "max", one_process_group).sum().backward()


def test_misuse_raises_pytorchs_errors(torch_group, one_process_group):
    found = {}
    for library, functional, process_group in ((chainrule, funcol, one_process_group), (torch, torch_funcol, torch_group)):
        x = library.ones(3, 4)
        mesh = library.distributed.device_mesh.init_device_mesh("cpu", (1, 1), mesh_dim_names=("a", "b"))
        found[library] = [
            error_of(call)
            for call in (
                lambda: functional.all_reduce(x, "mean", process_group),
                lambda: functional.all_reduce(x, "sum", 3),
                lambda: functional.all_reduce(x, "sum", (mesh, "a")),
                lambda: functional.all_reduce(x, "sum", mesh),
                lambda: functional.all_reduce(x, "sum", "7"),
                lambda: functional.all_to_all_single(x, [3], None, process_group),
                lambda: functional.all_to_all_single(x, [3.0], [3], process_group),
            )
        ]
    assert found[chainrule] == found[torch]


def test_deprecations_warn_as_pytorchs(one_process_group):
    x = chainrule.ones(2, 2)
    with pytest.warns(FutureWarning, match="all_gather_tensor` is deprecated"):
        funcol.all_gather_tensor(x, 0, one_process_group)
    with pytest.warns(FutureWarning, match="reduce_scatter_tensor` is deprecated"):
        funcol.reduce_scatter_tensor(x, "sum", 0, one_process_group)
    with pytest.warns(FutureWarning, match="ranks \\+ tag as process group identifier has been deprecated"):
        assert funcol.all_reduce(x, "sum", [0]).tolist() == x.tolist()
    with pytest.raises(ValueError, match="chainrule's one group is all 1 processes"), pytest.warns(FutureWarning):
        funcol.all_reduce(x, "sum", [1])


def test_in_place_all_to_all_single(one_process_group):
    output = chainrule.zeros(4, 2)
    dist.all_to_all_single(output, chainrule.arange(8.0).reshape(4, 2))
    assert output.tolist() == [[0.0, 1.0], [2.0, 3.0], [4.0, 5.0], [6.0, 7.0]]
    assert dist.all_to_all_single(output, chainrule.ones(4, 2), [4], [4], async_op=True).wait()
    assert output.tolist() == [[1.0, 1.0]] * 4
    with pytest.raises(RuntimeError, match="Split sizes doesn't match total dim 0 size"):
        dist.all_to_all_single(output, chainrule.ones(4, 2), [4], [3])
    with pytest.raises(RuntimeError, match="Number of tensor splits not equal to group size"):
        dist.all_to_all_single(output, chainrule.ones(4, 2), [2, 2], [4])
    gathered = [chainrule.zeros(())]
    dist.all_gather(gathered, chainrule.tensor(3.0))  # a 0-d tensor stays 0-d on its way
    assert gathered[0].tolist() == 3.0
