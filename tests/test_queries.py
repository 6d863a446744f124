"""Questions asked of a tensor (is_signed, itemsize, nbytes, get_device, is_nonzero...), small
conversions, and sum_to_size: answers and errors compared with PyTorch's."""
import numpy as np
import pytest
import torch

import chainrule
from tests.ops.oracle import OpCase, table_test
from tests.ops.second_order import second_order_test
from hypothesis import strategies as st

DTYPES = ["float32", "float64", "float16", "int64", "int32", "int16", "int8", "uint8", "bool"]


@pytest.mark.parametrize("dtype", DTYPES)
def test_answers_match_pytorch(dtype):
    ours = chainrule.zeros(2, 3, dtype=getattr(chainrule, dtype))
    theirs = torch.zeros(2, 3, dtype=getattr(torch, dtype))
    assert ours.is_signed() == theirs.is_signed() == chainrule.is_signed(ours)
    assert ours.itemsize == theirs.itemsize
    assert ours.nbytes == theirs.nbytes
    assert ours.ndimension() == theirs.ndimension() == 2
    assert ours.get_device() == theirs.get_device() == chainrule.get_device(ours) == -1


@pytest.mark.parametrize("name", ["short", "byte", "char"])
def test_conversions_match_pytorch(name):
    data = [1.7, -0.5, 3.0]
    if name == "byte":
        data = [1.7, 0.5, 3.0]
    ours, theirs = getattr(chainrule.tensor(data), name)(), getattr(torch.tensor(data), name)()
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    np.testing.assert_array_equal(ours._array, theirs.numpy())


def test_is_nonzero_is_the_bool_of_one_element():
    for value in ([1], [0.0], [[True]], 2.5):
        assert chainrule.tensor(value).is_nonzero() == torch.tensor(value).is_nonzero()
        assert chainrule.is_nonzero(chainrule.tensor(value)) == torch.is_nonzero(torch.tensor(value))
    for value in ([], [1, 2]):
        amount = "no values" if not value else "more than one value"
        for lib in (chainrule, torch):
            with pytest.raises(RuntimeError, match=f"Boolean value of Tensor with {amount} is ambiguous"):
                lib.tensor(value).is_nonzero()


SUM_TO_SIZE = [((2, 3), (1, 3)), ((2, 3), (3,)), ((2, 3, 4), (3, 1)), ((2, 3), (2, 3)), ((2, 1, 4), (1, 1)), ((4,), ())]

CASES = [
    OpCase(f"sum_to_size{target}", lambda x, target=target: x.sum_to_size(target), lambda x, target=target: x.sum_to_size(target), st.just((shape,)))
    for shape, target in SUM_TO_SIZE
]
test_sum_to_size = table_test(CASES, max_examples=2)
test_sum_to_size_second_order = second_order_test(CASES, max_examples=2)


def test_sum_to_size_takes_sizes_as_arguments_and_refuses_what_does_not_broadcast():
    np.testing.assert_array_equal(chainrule.ones(2, 3).sum_to_size(1, 3)._array, [[2.0, 2.0, 2.0]])
    for lib in (chainrule, torch):
        with pytest.raises(RuntimeError, match=r"size \{?\[2, 2\]\}? is not expandable to size \{?\[2, 3\]"):
            lib.ones(2, 3).sum_to_size(2, 2)


# ----------------------------------------------------------------------------- inference tensors, layout, subclasses
def test_tensors_made_in_inference_mode_are_inference_tensors_as_in_pytorch():
    answers = []
    for lib in (chainrule, torch):
        x = lib.ones(2, requires_grad=True)
        with lib.inference_mode():
            made, computed, enabled = lib.ones(2), x * 2, lib.is_inference_mode_enabled()
            with lib.inference_mode(False):
                normal = lib.ones(1)
        answers.append((made.is_inference(), computed.is_inference(), lib.is_inference(made), x.is_inference(),
                        (made + 1).is_inference(), normal.is_inference(), enabled, lib.is_inference_mode_enabled(),
                        computed.requires_grad))
        with pytest.raises(RuntimeError, match="Setting requires_grad=True on inference tensor outside InferenceMode"):
            made.requires_grad_()
    assert answers[0] == answers[1] == (True, True, True, False, False, False, True, False, False)


def test_inference_mode_as_a_decorator_marks_what_the_function_makes():
    @chainrule.inference_mode()
    def evaluate(x):
        return x * 2

    @chainrule.inference_mode
    def evaluate_bare(x):
        return x + 1

    x = chainrule.ones(2, requires_grad=True)
    assert evaluate(x).is_inference() and evaluate_bare(x).is_inference()
    assert not chainrule.is_inference_mode_enabled() and chainrule.is_grad_enabled()


@pytest.mark.parametrize("make", [
    lambda lib: lib.ones(2, 3, 4), lambda lib: lib.ones(2, 3, 4).permute(2, 0, 1), lambda lib: lib.tensor(1.0),
    lambda lib: lib.ones(2, 3, 4).transpose(0, 1), lambda lib: lib.ones(2, 1, 3), lambda lib: lib.ones(1, 1).t(),
    lambda lib: lib.ones(2, 1).t(), lambda lib: lib.ones(3, 4)[:, ::2],
])
def test_dim_order_matches_pytorch(make):
    assert make(chainrule).dim_order() == make(torch).dim_order()


def test_as_subclass_gives_the_same_values_as_an_instance_of_the_subclass():
    class Marked(chainrule.Tensor):
        def describe(self):
            return f"marked {self.shape[0]}"

    x = chainrule.ones(2, requires_grad=True)
    y = x * 2
    alias = y.as_subclass(Marked)
    assert type(alias) is Marked and alias.describe() == "marked 2" and alias.tolist() == [2.0, 2.0]
    assert alias.grad_fn.name() == torch.ones(1, requires_grad=True).mul(2).as_subclass(torch.Tensor).grad_fn.name()
    (alias * 3).sum().backward()
    assert x.grad.tolist() == [6.0, 6.0]
    with pytest.raises(TypeError, match="subclass of Tensor"):
        y.as_subclass(int)


def test_bfloat16_is_refused_with_the_reason():
    with pytest.raises(TypeError, match="NumPy.*has no bfloat16"):
        chainrule.ones(2).bfloat16()


def test_bfloat16_can_be_named_compared_and_asked_about_but_holds_no_tensor():
    """Code that only mentions torch.bfloat16 (a table of dtypes, autocast's dtype, finfo) runs as
    with PyTorch; making a bfloat16 tensor, or converting a module, is refused and changes nothing."""
    import pickle

    import torch

    assert repr(chainrule.bfloat16) == "chainrule.bfloat16" and str(torch.bfloat16) == "torch.bfloat16"
    assert chainrule.bfloat16 == chainrule.bfloat16 and chainrule.bfloat16 != chainrule.float16
    assert chainrule.ones(1).dtype != chainrule.bfloat16 and not chainrule.ones(1).dtype == chainrule.bfloat16
    assert {chainrule.float32: 0, chainrule.bfloat16: 1}[chainrule.bfloat16] == 1
    assert pickle.loads(pickle.dumps(chainrule.bfloat16)) is chainrule.bfloat16
    assert (chainrule.bfloat16.itemsize, chainrule.bfloat16.is_floating_point) == (torch.bfloat16.itemsize, torch.bfloat16.is_floating_point)
    ours, theirs = chainrule.finfo(chainrule.bfloat16), torch.finfo(torch.bfloat16)
    for name in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution"):
        assert getattr(ours, name) == getattr(theirs, name), name
    assert repr(ours) == repr(theirs)
    with chainrule.autocast("cpu", dtype=chainrule.bfloat16):  # no warning: PyTorch's CPU autocast takes it
        pass
    model = chainrule.nn.Linear(2, 2)
    before = model.weight.detach().clone()
    for refused in (lambda: chainrule.zeros(2, dtype=chainrule.bfloat16), lambda: chainrule.ones(2).to(chainrule.bfloat16), model.bfloat16):
        with pytest.raises(TypeError, match="bfloat16 is not supported: NumPy.*use float16"):
            refused()
    assert model.weight.dtype == chainrule.float32 and chainrule.equal(model.weight, before)


@pytest.mark.parametrize(("a", "b"), [((2, 3), (2, 3)), ((2, 3), (3, 2)), ((), ()), ((0,), (0, 1))])
def test_is_same_size_matches_pytorch(a, b):
    expected = torch.is_same_size(torch.zeros(a), torch.zeros(b))
    assert chainrule.is_same_size(chainrule.zeros(a), chainrule.zeros(b)) is expected
    assert chainrule.zeros(a).is_same_size(chainrule.zeros(b)) is expected
    with pytest.raises(TypeError, match="other"):
        chainrule.is_same_size(chainrule.zeros(a), 1)


def test_typename_names_tensors_by_type_and_everything_else_by_module_and_name():
    assert chainrule.typename(chainrule.zeros(2)) == "chainrule.FloatTensor"
    assert chainrule.typename(chainrule.zeros(2, dtype=chainrule.int64)) == "chainrule.LongTensor"
    assert chainrule.typename(chainrule.nn.Parameter(chainrule.zeros(1))) == "chainrule.FloatTensor"
    linear = chainrule.nn.Linear(1, 1)
    assert chainrule.typename(linear) == chainrule.typename(chainrule.nn.Linear) == f"{type(linear).__module__}.Linear"
    assert chainrule.typename(3) == torch.typename(3) == "int"
    assert chainrule.typename(len) == torch.typename(len) == "len"
    assert chainrule.typename(test_typename_names_tensors_by_type_and_everything_else_by_module_and_name) == torch.typename(
        test_typename_names_tensors_by_type_and_everything_else_by_module_and_name
    )


def test_data_ptr_is_the_address_of_the_first_element_as_in_pytorch():
    for lib in (chainrule, torch):
        x = lib.arange(6.0).reshape(2, 3)
        assert x.t().data_ptr() == x.data_ptr() == x.const_data_ptr() == x[0].data_ptr()
        assert x[:, 1].data_ptr() - x.data_ptr() == x.element_size()
        assert x[1:].data_ptr() - x.data_ptr() == x.stride(0) * x.element_size()
        assert x.clone().data_ptr() != x.data_ptr() and lib.empty(0).data_ptr() == 0
    assert chainrule.nn.Linear(2, 2).to("meta").weight.data_ptr() == 0


def test_storage_kind_questions_have_pytorchs_cpu_answers():
    for lib in (chainrule, torch):
        x = lib.ones(2)
        assert (x.is_cpu, x.is_sparse, x.is_sparse_csr, x.is_quantized, x.is_mkldnn, x.is_pinned(), x.is_shared()) == (
            True, False, False, False, False, False, False
        )
    assert not chainrule.nn.Linear(2, 2).to("meta").weight.is_cpu


def test_pin_memory_raises_pytorchs_error_on_a_machine_without_an_accelerator():
    for lib in (chainrule, torch):
        with pytest.raises(RuntimeError, match="Cannot access accelerator device when none is available"):
            lib.ones(2).pin_memory()


def test_assert_as_a_function_as_pytorchs():
    for lib in (chainrule, torch):
        lib._assert(True, "never")
        lib._assert(lib.tensor([True]), "never")
        for falsy in (False, lib.tensor(False), 0):
            with pytest.raises(AssertionError, match="^input size must be 224$"):
                lib._assert(falsy, "input size must be 224")
        with pytest.raises(RuntimeError):  # a tensor of several elements has no truth value
            lib._assert(lib.tensor([True, False]), "x")


def test_assert_async_and_torch_torch_as_pytorchs():
    for lib in (torch, chainrule):
        x = lib.tensor([0.5, 2.0])
        assert lib._assert_async((x >= 0).all(), "never") is None and lib.torch is lib
        for arguments, words in [(((x < 0).all(), "must be negative"), "must be negative"),
                                 ((lib.tensor(0),), "Expected Tensor with single nonzero value, but got zero"),
                                 ((lib.tensor([1, 1]),), "more than one value is ambiguous")]:
            with pytest.raises(RuntimeError, match=words):
                lib._assert_async(*arguments)
