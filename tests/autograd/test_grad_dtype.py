"""Tensor.grad_dtype and the checks of assigning .grad, against PyTorch."""
import gc

import pytest
import torch

import chainrule
from chainrule.tensor import CHOSEN_GRAD_DTYPES


def outcome(action):
    try:
        result = action()
    except Exception as error:  # noqa: BLE001 (type and words are compared)
        return type(error), str(error).split(".")[0]
    return str(result).replace("torch", "L").replace("chainrule", "L")


@pytest.mark.parametrize("assigned", ["float64", "float16", "int64", "float32"])
def test_assigning_grad_of_another_dtype_is_refused_as_in_pytorch(assigned):
    def attempt(library):
        leaf = library.ones(2, requires_grad=True)
        leaf.grad = library.ones(2, dtype=getattr(library, assigned))
        return leaf.grad.dtype

    assert outcome(lambda: attempt(chainrule)) == outcome(lambda: attempt(torch))


def test_assigning_grad_of_another_size_is_refused_as_in_pytorch():
    def attempt(library):
        library.ones(2, requires_grad=True).grad = library.ones(3)

    assert outcome(lambda: attempt(chainrule)) == outcome(lambda: attempt(torch))


@pytest.mark.parametrize("chosen", ["float64", "float16", None])
def test_backward_accumulates_in_the_chosen_grad_dtype(chosen):
    def run(library):
        leaf = library.tensor([1.0, 2.0], requires_grad=True)
        leaf.grad_dtype = None if chosen is None else getattr(library, chosen)
        (leaf * leaf).sum().backward()
        (leaf * 3).sum().backward()
        if chosen is None:
            leaf.grad = library.zeros(2, dtype=library.float64)  # None allows any dtype
        return leaf.grad_dtype, leaf.grad.dtype, leaf.grad.tolist()

    assert outcome(lambda: run(chainrule)) == outcome(lambda: run(torch))


def test_grad_dtype_belongs_to_leaves():
    for library in (torch, chainrule):
        leaf = library.ones(2, requires_grad=True)
        result = leaf * 2
        assert outcome(lambda: result.grad_dtype) == (RuntimeError, "grad_dtype can only be accessed on leaf tensors")
        with pytest.raises(RuntimeError, match="grad_dtype can only be set on leaf tensors"):
            result.grad_dtype = library.float64
        assert str(library.ones(1).grad_dtype) == str(library.float32).replace("torch", library.__name__)


def test_a_chosen_grad_dtype_is_forgotten_with_its_tensor():
    leaf = chainrule.ones(2, requires_grad=True)
    leaf.grad_dtype = chainrule.float64
    assert leaf in CHOSEN_GRAD_DTYPES
    leaf.grad_dtype = chainrule.float32  # back to its own: nothing kept
    assert leaf not in CHOSEN_GRAD_DTYPES
    leaf.grad_dtype = None
    count = len(CHOSEN_GRAD_DTYPES)
    del leaf
    gc.collect()
    assert len(CHOSEN_GRAD_DTYPES) == count - 1
