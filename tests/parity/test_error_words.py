"""Errors say PyTorch's words first: each call raises in PyTorch and in chainrule, the same type
(or a subclass of it), and chainrule's message is PyTorch's, whole, followed by nothing or by
chainrule's advice (`` (what to do)``). Scripts print caught errors (``print(e)``), and tests match
them (``pytest.raises(match=...)``): both see PyTorch's sentence where it is expected.

The cases are those teaching code met (Tensor Puzzles' bool masks multiplied, ``mean()`` of
integers, the taxi notebook's ``torch.mm`` of a 3-D tensor...) and their neighbours: the kernel
each form of a bool product reaches, what each check of dimensions says.
"""
import copy
import re

import numpy as np
import pytest
import torch

import chainrule

B = "bool"


def ones(lib, *shape, dtype=None):
    return lib.ones(*shape, dtype=getattr(lib, dtype) if dtype else None)


def integers(lib):
    return lib.tensor([[3, -1], [4, 2]])


def _optimizer(lib):
    return lib.optim.SGD([lib.nn.Parameter(lib.ones(2))], lr=0.1)


CASES = {
    # matrix products of bools: PyTorch names the kernel the product reaches
    "bool 1-D @ 1-D": lambda lib: ones(lib, 3, dtype=B) @ ones(lib, 3, dtype=B),
    "bool 2-D @ 2-D": lambda lib: ones(lib, 2, 3, dtype=B) @ ones(lib, 3, 2, dtype=B),
    "bool 2-D @ 1-D": lambda lib: ones(lib, 2, 3, dtype=B) @ ones(lib, 3, dtype=B),
    "bool 1-D @ 2-D": lambda lib: ones(lib, 3, dtype=B) @ ones(lib, 3, 2, dtype=B),
    "bool 3-D @ 3-D": lambda lib: ones(lib, 1, 2, 3, dtype=B) @ ones(lib, 1, 3, 2, dtype=B),
    "bool 4-D @ 2-D": lambda lib: ones(lib, 2, 2, 2, 3, dtype=B) @ ones(lib, 3, 2, dtype=B),
    "bool 4-D @ 1-D": lambda lib: ones(lib, 2, 2, 2, 3, dtype=B) @ ones(lib, 3, dtype=B),
    "bool 2-D @ 3-D": lambda lib: ones(lib, 2, 3, dtype=B) @ ones(lib, 2, 3, 2, dtype=B),
    "bool mm": lambda lib: lib.mm(ones(lib, 2, 3, dtype=B), ones(lib, 3, 2, dtype=B)),
    "bool mv": lambda lib: lib.mv(ones(lib, 2, 3, dtype=B), ones(lib, 3, dtype=B)),
    "bool addmm": lambda lib: lib.addmm(ones(lib, 2, 2, dtype=B), ones(lib, 2, 3, dtype=B), ones(lib, 3, 2, dtype=B)),
    "bool addmv": lambda lib: lib.addmv(ones(lib, 2, dtype=B), ones(lib, 2, 3, dtype=B), ones(lib, 3, dtype=B)),
    "bool addbmm": lambda lib: lib.addbmm(ones(lib, 2, 2, dtype=B), ones(lib, 1, 2, 3, dtype=B), ones(lib, 1, 3, 2, dtype=B)),
    "bool linear": lambda lib: lib.nn.functional.linear(ones(lib, 5, 2, 3, dtype=B), ones(lib, 4, 3, dtype=B)),
    # numbers of dimensions
    "matmul of a 0-d": lambda lib: lib.matmul(lib.ones(()), lib.ones(3)),
    "mm of a 3-D": lambda lib: lib.mm(lib.ones(2, 3, 4), lib.ones(4, 5)),
    "mm of a 1-D": lambda lib: lib.mm(lib.ones(3, 4), lib.ones(4)),
    "bmm of a 2-D": lambda lib: lib.bmm(lib.ones(3, 4), lib.ones(1, 4, 2)),
    "dot of a 2-D": lambda lib: lib.dot(lib.ones(3, 1), lib.ones(3)),
    "dot of a 0-d": lambda lib: lib.dot(lib.ones(3), lib.ones(())),
    "outer of a 2-D": lambda lib: lib.outer(lib.ones(3), lib.ones(3, 1)),
    "addmm of a 3-D": lambda lib: lib.addmm(lib.ones(2, 2), lib.ones(2, 3, 1), lib.ones(3, 2)),
    "addr of a 2-D": lambda lib: lib.addr(lib.ones(2, 2), lib.ones(2, 1), lib.ones(2)),
    "mv of a 3-D": lambda lib: lib.mv(lib.ones(2, 3, 4), lib.ones(4)),
    "mv of two 1-D": lambda lib: lib.mv(lib.ones(4), lib.ones(4)),
    "addmv of a 2-D input": lambda lib: lib.addmv(lib.ones(3, 1), lib.ones(3, 4), lib.ones(4)),
    "linear of a 0-d": lambda lib: lib.nn.functional.linear(lib.ones(()), lib.ones(4, 1)),
    "linear with a 3-D weight": lambda lib: lib.nn.functional.linear(lib.ones(2, 3), lib.ones(1, 4, 3)),
    # floating point only
    "mean of integers": lambda lib: integers(lib).mean(),
    "mean of bools along a dim": lambda lib: integers(lib).bool().mean(0),
    "mean to an integer dtype": lambda lib: lib.ones(3).mean(dtype=lib.long),
    "nanmean of integers": lambda lib: integers(lib).nanmean(),
    "nanmean to an integer dtype": lambda lib: lib.ones(3).nanmean(dtype=lib.long),
    "std of integers": lambda lib: integers(lib).std(),
    "var_mean of integers": lambda lib: lib.var_mean(integers(lib)),
    "norm of integers": lambda lib: integers(lib).norm(),
    "matrix_norm of integers": lambda lib: lib.linalg.matrix_norm(integers(lib)),
    "softmax of integers": lambda lib: lib.softmax(integers(lib), 0),
    "log_softmax of integers, last dim": lambda lib: lib.log_softmax(integers(lib), 1),
    "pdist of integers": lambda lib: lib.nn.functional.pdist(integers(lib)),
    "normal_ of integers": lambda lib: integers(lib).normal_(),
    "uniform_ of integers": lambda lib: integers(lib).uniform_(),
    "exponential_ of bytes": lambda lib: integers(lib).to(lib.uint8).exponential_(),
    "cauchy_ of int32": lambda lib: integers(lib).int().cauchy_(),
    "log_normal_ of integers": lambda lib: integers(lib).log_normal_(),
    "frac of integers": lambda lib: integers(lib).frac(),
    "hypot of integers": lambda lib: lib.hypot(integers(lib), integers(lib)),
    # values
    "heaviside of two dtypes": lambda lib: lib.heaviside(integers(lib), lib.tensor([0.5])),
    "bincount of negatives": lambda lib: lib.bincount(lib.tensor([3, -1])),
    "integer ** -1": lambda lib: integers(lib) ** -1,
    "deepcopy of a result": lambda lib: copy.deepcopy(lib.ones(3, requires_grad=True) * 2),
    "format of a 1-element tensor": lambda lib: "{:.4f}".format(lib.tensor([2.5])),
    "format of a Parameter": lambda lib: format(lib.nn.Parameter(lib.tensor(2.5)), ".2f"),
    "from_numpy of a NumPy number": lambda lib: lib.from_numpy(np.float64(3.0)),
    "max_unpool2d to an impossible size": lambda lib: lib.nn.MaxUnpool2d(2)(
        *lib.nn.MaxPool2d(2, return_indices=True)(lib.ones(1, 2, 4, 4)), output_size=[1, 2, 7, 7]
    ),
    "max_unpool1d to an output_size of 4 sizes": lambda lib: lib.nn.MaxUnpool1d(2)(
        *lib.nn.MaxPool1d(2, return_indices=True)(lib.ones(1, 2, 4)), output_size=[1, 2, 3, 4]
    ),
    "ReduceLROnPlateau mode": lambda lib: lib.optim.lr_scheduler.ReduceLROnPlateau(_optimizer(lib), mode="maxx"),
    "ReduceLROnPlateau threshold_mode": lambda lib: lib.optim.lr_scheduler.ReduceLROnPlateau(_optimizer(lib), threshold_mode="x"),
    "ReduceLROnPlateau factor": lambda lib: lib.optim.lr_scheduler.ReduceLROnPlateau(_optimizer(lib), factor=1.0),
}


def raised(call, lib):
    with pytest.raises(Exception) as caught:
        call(lib)
    return caught.value


@pytest.mark.parametrize("call", CASES.values(), ids=CASES.keys())
def test_an_error_says_pytorchs_words_then_advice(call):
    theirs, ours = raised(call, torch), raised(call, chainrule)
    assert isinstance(ours, type(theirs)), f"PyTorch raises {type(theirs).__name__}, chainrule {type(ours).__name__}: {ours}"
    expected, message = str(theirs), str(ours).replace("chainrule", "torch")
    advice = message[len(expected):]
    assert message.startswith(expected) and (not advice or re.match(r" \(", advice)), (
        f"PyTorch says:   {expected}\nchainrule says: {message}"
    )
