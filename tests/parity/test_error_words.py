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
import warnings

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


def matrix(lib):
    return lib.arange(6.0).reshape(2, 3)


def leaf(lib, *shape):
    return lib.ones(*(shape or (3,)), requires_grad=True)


def linear(lib):
    return lib.nn.Linear(3, 2)


def set_item(x, key, value):
    x[key] = value


def modified_output(lib):
    """A tensor backward needs, changed in place before it runs (the version counter's error)."""
    y = leaf(lib).exp()
    y.add_(1)
    y.sum().backward()


def legacy_function(lib):
    class Legacy(lib.autograd.Function):
        def forward(self, x):
            return x

        def backward(self, grad):
            return grad

    with warnings.catch_warnings():  # PyTorch warns of the instance first
        warnings.simplefilter("ignore", DeprecationWarning)
        Legacy()(leaf(lib))


def function_without_forward(lib):
    class OnlyBackward(lib.autograd.Function):
        @staticmethod
        def backward(ctx, grad):
            return grad

    OnlyBackward.apply(leaf(lib))


def set_grad_of_another_dtype(lib):
    leaf(lib).grad = lib.ones(3, dtype=lib.float64)


def dataset(lib):
    return lib.utils.data.TensorDataset(lib.arange(5.0))


MORE_CASES = {
    # shapes and indexing
    "permute with too few dims": lambda lib: matrix(lib).permute(1),
    "permute with a repeated dim": lambda lib: matrix(lib).permute(0, 0),
    "movedim repeated": lambda lib: lib.ones(2, 3, 4).movedim((0, 0), (1, 2)),
    "cat of an empty list": lambda lib: lib.cat([]),
    "cat of a tensor instead of a list": lambda lib: lib.cat(lib.ones(2, 3), lib.ones(2, 3)),
    "cat of a list with a number": lambda lib: lib.cat([lib.ones(2), 3]),
    "narrow negative length": lambda lib: matrix(lib).narrow(1, 0, -1),
    "select of a 0-d": lambda lib: lib.tensor(1.0).select(0, 0),
    "index_select with float index": lambda lib: matrix(lib).index_select(0, lib.tensor([0.0])),
    "index_select out of range": lambda lib: matrix(lib).index_select(0, lib.tensor([2])),
    "index_select with a list": lambda lib: matrix(lib).index_select(0, [0]),
    "gather out of range": lambda lib: matrix(lib).gather(1, lib.tensor([[0], [3]])),
    "gather index of different dims": lambda lib: matrix(lib).gather(1, lib.tensor([0, 1])),
    "scatter index of different dims": lambda lib: lib.zeros(2, 3).scatter(1, lib.tensor([0, 1]), 1.0),
    "scatter_add with float index": lambda lib: lib.zeros(2, 3).scatter_add(1, lib.tensor([[0.0], [1.0]]), lib.ones(2, 1)),
    "scatter_add src smaller than index": lambda lib: lib.zeros(2, 3).scatter_add(1, lib.zeros(2, 2, dtype=lib.long), lib.ones(2, 1)),
    "index_add with float index": lambda lib: lib.zeros(3, 2).index_add(0, lib.tensor([0.0]), lib.ones(1, 2)),
    "index_add source of another dtype": lambda lib: lib.zeros(3, 2).index_add(0, lib.tensor([0]), lib.ones(1, 2, dtype=lib.float64)),
    "index_fill with float index": lambda lib: lib.zeros(3, 2).index_fill(0, lib.tensor([0.0]), 1.0),
    "masked_fill with an int mask": lambda lib: matrix(lib).masked_fill(lib.ones(2, 3, dtype=lib.long), 0.0),
    "masked_scatter with float mask": lambda lib: matrix(lib).masked_scatter(lib.ones(2, 3), lib.ones(6)),
    "bool mask of the wrong shape": lambda lib: matrix(lib)[lib.ones(3, dtype=lib.bool)],
    "float index": lambda lib: matrix(lib)[1.0],
    "advanced indices not broadcastable": lambda lib: matrix(lib)[lib.tensor([0, 1]), lib.tensor([0, 1, 2])],
    "slice with zero step": lambda lib: matrix(lib)[::0],
    "setitem of the wrong shape": lambda lib: set_item(matrix(lib), 0, lib.ones(4)),
    "repeat with negative": lambda lib: matrix(lib).repeat(-1, 1),
    "diagonal same dims": lambda lib: matrix(lib).diagonal(0, 0, 0),
    "fill_ with a 1-D tensor": lambda lib: lib.ones(3).fill_(lib.ones(2)),
    "clamp of no bounds": lambda lib: lib.ones(2).clamp(),
    "expand to fewer dims": lambda lib: matrix(lib).expand(3),
    "view with -2": lambda lib: matrix(lib).view(-2, 3),
    "reshape to float sizes": lambda lib: matrix(lib).reshape((3.0, 2)),
    "index of a 0-d with a tensor": lambda lib: lib.tensor(1.0)[lib.tensor([0])],
    # layers
    "Linear of a 0-d": lambda lib: lib.nn.Linear(3, 2)(lib.ones(())),
    "Linear of integers": lambda lib: lib.nn.Linear(3, 2)(lib.ones(4, 3, dtype=lib.long)),
    "linear with a bias of the wrong size": lambda lib: lib.nn.functional.linear(lib.ones(4, 3), lib.ones(2, 3), lib.ones(5)),
    "linear with a bias of more dimensions": lambda lib: lib.nn.functional.linear(lib.ones(4, 3), lib.ones(2, 3), lib.ones(4, 1, 2)),
    "addmm with an input that does not expand": lambda lib: lib.addmm(lib.ones(3), lib.ones(4, 3), lib.ones(3, 2)),
    "Conv2d of a 2-D input": lambda lib: lib.nn.Conv2d(3, 8, 3)(lib.ones(8, 8)),
    "Conv1d of a 4-D input": lambda lib: lib.nn.Conv1d(4, 8, 3)(lib.ones(2, 4, 10, 10)),
    "Conv2d groups not dividing in": lambda lib: lib.nn.Conv2d(3, 8, 3, groups=2),
    "Conv2d groups not dividing out": lambda lib: lib.nn.Conv2d(4, 6, 3, groups=4),
    "conv2d bias of the wrong size": lambda lib: lib.nn.functional.conv2d(lib.ones(1, 3, 8, 8), lib.ones(8, 3, 3, 3), lib.ones(4)),
    "MaxPool2d kernel larger than input": lambda lib: lib.nn.MaxPool2d(5)(lib.ones(1, 1, 3, 3)),
    "MaxPool2d pad over half the kernel": lambda lib: lib.nn.MaxPool2d(2, padding=2)(lib.ones(1, 1, 8, 8)),
    "MaxPool2d of a 2-D input": lambda lib: lib.nn.MaxPool2d(2)(lib.ones(4, 4)),
    "MaxPool1d of a 1-D input": lambda lib: lib.nn.MaxPool1d(2)(lib.ones(4)),
    "AvgPool1d of a 1-D input": lambda lib: lib.nn.AvgPool1d(2)(lib.ones(4)),
    "AdaptiveAvgPool2d of a 1-D input": lambda lib: lib.nn.AdaptiveAvgPool2d(2)(lib.ones(4)),
    "BatchNorm2d of a 3-D input": lambda lib: lib.nn.BatchNorm2d(3)(lib.ones(3, 5, 5)),
    "Embedding of float indices": lambda lib: lib.nn.Embedding(5, 3)(lib.tensor([1.0, 2.0])),
    "one_hot of a class too large": lambda lib: lib.nn.functional.one_hot(lib.tensor([0, 3]), num_classes=3),
    "one_hot of floats": lambda lib: lib.nn.functional.one_hot(lib.tensor([0.0, 1.0])),
    "LSTM of a 4-D input": lambda lib: lib.nn.LSTM(4, 8)(lib.ones(5, 2, 3, 4)),
    "RNN of a 1-D input": lambda lib: lib.nn.RNN(4, 8)(lib.ones(4)),
    "LSTM given one state": lambda lib: lib.nn.LSTM(4, 8)(lib.ones(5, 2, 4), lib.zeros(1, 2, 8)),
    "LSTM unbatched with 3-D states": lambda lib: lib.nn.LSTM(4, 8)(lib.ones(5, 4), (lib.zeros(1, 2, 8), lib.zeros(1, 2, 8))),
    "cross_entropy of a one-hot long target": lambda lib: lib.nn.functional.cross_entropy(lib.ones(4, 3), lib.zeros(4, 3, dtype=lib.long)),
    "cross_entropy of probabilities of the wrong shape": lambda lib: lib.nn.functional.cross_entropy(lib.ones(4, 3), lib.ones(4, 2)),
    "CrossEntropyLoss of integers": lambda lib: lib.nn.CrossEntropyLoss()(lib.ones(4, 3, dtype=lib.long), lib.tensor([0, 1, 2, 0])),
    "register_buffer of a dotted name": lambda lib: linear(lib).register_buffer("a.b", lib.ones(2)),
    "register_buffer of a number": lambda lib: linear(lib).register_buffer("b", 3),
    "register_parameter of a tensor": lambda lib: linear(lib).register_parameter("p", lib.ones(2)),
    "add_module of a dotted name": lambda lib: linear(lib).add_module("a.b", lib.nn.ReLU()),
    "a tensor assigned to a parameter": lambda lib: setattr(linear(lib), "weight", lib.ones(2, 3)),
    "load_state_dict missing a key": lambda lib: linear(lib).load_state_dict({"weight": lib.ones(2, 3)}),
    "load_state_dict of a list": lambda lib: linear(lib).load_state_dict([1, 2]),
    "a Module without forward": lambda lib: lib.nn.Module()(lib.ones(2)),
    "Parameter of integers": lambda lib: lib.nn.Parameter(lib.tensor([1, 2])),
    # training
    "autograd.backward given fewer gradients": lambda lib: lib.autograd.backward(
        [(leaf(lib) * 2).sum(), (leaf(lib) * 3).sum()], [lib.tensor(1.0)]
    ),
    "autograd.grad of a number": lambda lib: (lambda x: lib.autograd.grad((x * 2).sum(), [1.0]))(leaf(lib)),
    "backward of a non-scalar": lambda lib: (leaf(lib) * 2).backward(),
    "a saved tensor changed in place": modified_output,
    "a Function without forward": function_without_forward,
    "a legacy Function called": legacy_function,
    "detach_ of a view": lambda lib: leaf(lib, 2, 3)[0].detach_(),
    "a gradient of another dtype": set_grad_of_another_dtype,
    "SGD with a str lr": lambda lib: lib.optim.SGD([lib.nn.Parameter(lib.ones(2))], lr="0.1"),
    "SGD given a tensor": lambda lib: lib.optim.SGD(lib.nn.Parameter(lib.ones(2)), lr=0.1),
    "DataLoader with num_workers -1": lambda lib: lib.utils.data.DataLoader(dataset(lib), num_workers=-1),
    "DataLoader with prefetch_factor and no workers": lambda lib: lib.utils.data.DataLoader(dataset(lib), prefetch_factor=2),
    "Dataset without __getitem__": lambda lib: lib.utils.data.Dataset()[0],
    "ConcatDataset index out of range": lambda lib: lib.utils.data.ConcatDataset([dataset(lib), dataset(lib)])[-11],
}

ROUND_TWO = {  # the second round of probes: operations on values, making tensors, the rarer layers
    "eq of shapes that do not broadcast": lambda lib: lib.ones(3) == lib.ones(2),
    "lt of shapes that do not broadcast": lambda lib: lib.lt(lib.ones(3), lib.ones(2)),
    "bmm of batches of two sizes": lambda lib: lib.bmm(lib.ones(2, 3, 4), lib.ones(3, 4, 5)),
    "sum over a repeated dim": lambda lib: matrix(lib).sum((0, 0)),
    "max of an empty tensor": lambda lib: lib.ones(0).max(),
    "max along an empty dim": lambda lib: lib.ones(0, 3).max(0),
    "argmax of an empty tensor": lambda lib: lib.ones(0).argmax(),
    "topk of k too large": lambda lib: lib.ones(3).topk(4),
    "kthvalue of k too large": lambda lib: lib.ones(3).kthvalue(4),
    "add_ to integers with a float alpha": lambda lib: integers(lib).add_(integers(lib), alpha=0.5),
    "bitwise_and of floats": lambda lib: lib.bitwise_and(lib.ones(3), lib.ones(3)),
    "& of floats": lambda lib: lib.ones(3) & lib.ones(3),
    "<< of floats": lambda lib: lib.ones(3) << 1,
    "gcd of floats": lambda lib: lib.gcd(lib.ones(3), lib.ones(3)),
    "isclose with a negative rtol": lambda lib: lib.isclose(lib.ones(3), lib.ones(3), rtol=-1.0),
    "softplus of integers": lambda lib: lib.nn.functional.softplus(lib.tensor([1, 2])),
    "selu of integers": lambda lib: lib.nn.functional.selu(lib.tensor([1, 2])),
    "gelu of integers": lambda lib: lib.nn.functional.gelu(lib.tensor([1, 2])),
    "gelu with an unknown approximation": lambda lib: lib.nn.functional.gelu(lib.ones(3), approximate="fast"),
    "NLLLoss of a class out of range": lambda lib: lib.nn.NLLLoss()(lib.zeros(2, 3), lib.tensor([0, 3])),
    "cross_entropy of a class out of range": lambda lib: lib.nn.functional.cross_entropy(lib.ones(4, 3), lib.tensor([0, 1, 3, 0])),
    "kl_div of a long target": lambda lib: lib.nn.functional.kl_div(lib.zeros(4, 3), lib.zeros(4, 3, dtype=lib.long), reduction="batchmean"),
    "huber_loss with a negative delta": lambda lib: lib.nn.functional.huber_loss(lib.ones(3), lib.zeros(3), delta=-1.0),
    "smooth_l1_loss with a negative beta": lambda lib: lib.nn.functional.smooth_l1_loss(lib.ones(3), lib.zeros(3), beta=-1.0),
    "gaussian_nll_loss with var of a wrong size": lambda lib: lib.nn.functional.gaussian_nll_loss(lib.ones(4, 3), lib.ones(4, 3), lib.ones(4, 2)),
    "multilabel_margin_loss of a float target": lambda lib: lib.nn.functional.multilabel_margin_loss(lib.ones(4, 3), lib.zeros(4, 3)),
    "MultiheadAttention with a mask of the wrong shape": lambda lib: lib.nn.MultiheadAttention(8, 2)(
        lib.ones(5, 2, 8), lib.ones(5, 2, 8), lib.ones(5, 2, 8), attn_mask=lib.zeros(4, 4)
    ),
    "MultiheadAttention with keys and values of two lengths": lambda lib: lib.nn.MultiheadAttention(8, 2)(
        lib.ones(5, 2, 8), lib.ones(6, 2, 8), lib.ones(4, 2, 8)
    ),
    "MultiheadAttention of an unbatched query and batched keys": lambda lib: lib.nn.MultiheadAttention(8, 2)(
        lib.ones(5, 8), lib.ones(5, 2, 8), lib.ones(5, 2, 8)
    ),
    "multinomial of negative probabilities": lambda lib: lib.multinomial(lib.tensor([0.5, -0.1, 0.6]), 1),
    "multinomial of probabilities summing to 0": lambda lib: lib.multinomial(lib.zeros(3), 1),
    "multinomial of a 3-D tensor": lambda lib: lib.multinomial(lib.ones(2, 2, 2), 1),
    "tensor of a list holding None": lambda lib: lib.tensor([1.0, None]),
    "split of a 0-d tensor": lambda lib: lib.tensor(1.0).split(1),
    "chunk of a 0-d tensor": lambda lib: lib.tensor(1.0).chunk(2),
    "a tensor made on device 'gpu'": lambda lib: lib.ones(2, device="gpu"),
    "to('gpu')": lambda lib: lib.ones(2).to("gpu"),
    "finfo of an integer dtype": lambda lib: lib.finfo(lib.int64),
    "iinfo of bool": lambda lib: lib.iinfo(lib.bool),
    "iinfo of a floating dtype": lambda lib: lib.iinfo(lib.float32),
    "set_default_dtype of an integer dtype": lambda lib: lib.set_default_dtype(lib.int64),
    "tensor with dtype given as a str": lambda lib: lib.tensor([1, 2], dtype="float32"),
    "zeros with dtype given as a str": lambda lib: lib.zeros(2, dtype="float32"),
    "to() a dtype's name, read as a device": lambda lib: lib.ones(2).to("float32"),
    "a device index with a leading zero": lambda lib: lib.device("cpu:01"),
    "solve of batches that do not broadcast": lambda lib: lib.linalg.solve(lib.ones(2, 2, 2), lib.ones(3, 2, 1)),
    "int() of a complex tensor": lambda lib: int(lib.tensor(1 + 2j)),
    "float() of a complex tensor": lambda lib: float(lib.tensor(1 + 2j)),
    "empty_like of None": lambda lib: lib.empty_like(None),
    "zeros_like of a NumPy array": lambda lib: lib.zeros_like(np.ones(2)),
    "broadcast_tensors of a list": lambda lib: lib.broadcast_tensors(lib.ones(2), [1, 2]),
    "from_numpy of a longdouble array": lambda lib: lib.from_numpy(np.ones(2, np.longdouble)),
    "cumsum with dtype given as a str": lambda lib: lib.cumsum(lib.ones(2), 0, dtype="float32"),
    "cumprod with dtype given as a number": lambda lib: lib.ones(2).cumprod(0, dtype=5),
    "tensor of a complex number with a floating dtype": lambda lib: lib.tensor([1, 1j], dtype=lib.float32),
    "tensor of a complex number with an integer dtype": lambda lib: lib.tensor([[2j]], dtype=lib.int64),
    "broadcast_shapes of a negative size": lambda lib: lib.broadcast_shapes((-1,), (3,)),
    "MultiheadAttention with values of another size than vdim": lambda lib: lib.nn.MultiheadAttention(8, 2, kdim=4, vdim=4)(
        lib.ones(5, 2, 8), lib.ones(5, 2, 4), lib.ones(5, 2, 6)
    ),
    "Parameter of a list": lambda lib: lib.nn.Parameter([1.0, 2.0]),
    "Buffer of a NumPy array": lambda lib: lib.nn.Buffer(np.ones(2)),
    "unfold with a kernel larger than the input": lambda lib: lib.nn.functional.unfold(lib.ones(1, 1, 3, 3), 4, stride=2),
    "fold of columns that are not the windows": lambda lib: lib.nn.functional.fold(lib.ones(1, 4, 5), (3, 3), 2),
    "fold of rows that are not channels times the kernel": lambda lib: lib.nn.functional.fold(lib.ones(1, 3, 4), (3, 3), 2),
    "fold of no columns": lambda lib: lib.nn.functional.fold(lib.ones(1, 4, 0), (1, 1), 2),
    "linalg.cross of vectors of size 2": lambda lib: lib.linalg.cross(lib.ones(2), lib.ones(2)),
    "cross of shapes whose first size-3 dims differ": lambda lib: lib.cross(lib.ones(5, 3), lib.ones(3, 5), dim=1),
    "searchsorted with a negative sorter index": lambda lib: lib.searchsorted(lib.tensor([1, 2, 3]), 2.5, sorter=lib.tensor([-1, 1, 2])),
    "searchsorted with a sorter index past the end": lambda lib: lib.searchsorted(lib.tensor([1, 2, 3]), 2.5, sorter=lib.tensor([0, 1, 3])),
    "repeat_interleave of a matrix of counts": lambda lib: lib.repeat_interleave(lib.arange(4).reshape(2, 2)),
    "repeat_interleave of float counts": lambda lib: lib.repeat_interleave(lib.arange(4.0)),
    "repeat_interleave of a negative count": lambda lib: lib.repeat_interleave(lib.tensor([1, -1])),
    "stack of a generator": lambda lib: lib.stack(tensor for tensor in [lib.ones(2)]),
    "cat of an iterator": lambda lib: lib.cat(iter([lib.ones(2)])),
    "save into a tensor (arguments swapped)": lambda lib: lib.save("foo", lib.ones(2)),
    "narrow from a float tensor": lambda lib: lib.arange(9).view(3, 3).narrow(0, lib.tensor(0.0), 1),
    "narrow from a 1-D tensor": lambda lib: lib.arange(9).view(3, 3).narrow(0, lib.tensor([0]), 1),
    "tensor_split by a 2-D tensor": lambda lib: lib.tensor_split(lib.ones(10), lib.tensor([[1]]), 0),
    "view as a wider dtype from an odd offset": lambda lib: lib.zeros(4, 4, 3, dtype=lib.int16)[:, :, 1:].view(lib.int32),
    "view as a wider dtype with an odd stride": lambda lib: lib.zeros(4, 4, 2, dtype=lib.int16).as_strided((4, 4, 2), (2, 1, 1)).view(lib.int32),
    "resize_ into channels_last of a 2-D size": lambda lib: lib.ones(4).resize_((2, 2), memory_format=lib.channels_last),
    "del of an element": lambda lib: lib.ones(3).__delitem__(0),
    "del of a tensor's data": lambda lib: delattr(lib.ones(3), "data"),
    "unravel_index with the shape as a tensor": lambda lib: lib.unravel_index(lib.tensor([1]), lib.tensor([1, 2, 3])),
    "unravel_index with a float size": lambda lib: lib.unravel_index(lib.tensor([1]), (2.0, 3)),
    "affine_grid of a wrong theta for a size given as a list": lambda lib: lib.nn.functional.affine_grid(
        lib.ones(1, 3, 3), [1, 1, 4, 4], False
    ),
}


def raised(call, lib):
    with pytest.raises(Exception) as caught:
        call(lib)
    return caught.value


@pytest.mark.parametrize("call", [*CASES.values(), *MORE_CASES.values(), *ROUND_TWO.values()], ids=[*CASES, *MORE_CASES, *ROUND_TWO])
def test_an_error_says_pytorchs_words_then_advice(call):
    theirs, ours = raised(call, torch), raised(call, chainrule)
    assert isinstance(ours, type(theirs)), f"PyTorch raises {type(theirs).__name__}, chainrule {type(ours).__name__}: {ours}"
    expected, message = str(theirs), str(ours).replace("chainrule", "torch")
    advice = message[len(expected):]
    assert message.startswith(expected) and (not advice or re.match(r"\s\(", advice)), (
        f"PyTorch says:   {expected}\nchainrule says: {message}"
    )
