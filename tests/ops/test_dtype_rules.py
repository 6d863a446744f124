"""PyTorch's dtype rules for operands: dimensionless operands keep the other's dtype within a
category, and integer inputs of floating functions give float32."""
import numpy as np
import pytest
import torch

import chainrule


def test_dimensionless_operands_do_not_promote_within_a_category():
    data = chainrule.tensor([1.0, 2.0, 3.0])
    assert (data - chainrule.tensor(np.float64(2.0))).dtype == chainrule.float32
    assert (chainrule.tensor([1, 2], dtype=chainrule.int32) + chainrule.tensor(3)).dtype == chainrule.int32
    weight = chainrule.tensor(2.0, dtype=chainrule.float64, requires_grad=True)
    (data * weight).sum().backward()
    assert weight.grad.item() == 6.0 and weight.grad.dtype == chainrule.float64


def test_integer_inputs_of_float_functions_give_float32():
    for name in ["exp", "log", "log1p", "sqrt", "sin", "cos", "tan", "sigmoid", "tanh"]:
        assert getattr(chainrule, name)(chainrule.tensor([1, 2])).dtype == chainrule.float32, name
    assert chainrule.tensor([1, 2, 3]).clamp(min=1.5).tolist() == [1.5, 2.0, 3.0]


@pytest.mark.parametrize("input_dtype", ["bool", "int32", "float32"])
@pytest.mark.parametrize("bounds", [("float64", "float32"), ("float32", "float64"), ("float64", "int64"), ("int8", "int64")])
@pytest.mark.parametrize("zero_d", [(True, False), (False, True), (True, True), (False, False)])
def test_clamp_promotes_its_three_operands_at_once_as_pytorch(input_dtype, bounds, zero_d):
    """A 0-d bound counts only from a higher category than the tensors with dimensions, whichever
    bound it is (clamp(int32, 0-d float64, float32) is float32)."""
    def dtype_of(lib):
        low, high = (lib.zeros(() if dims else (4,), dtype=getattr(lib, name)) for name, dims in zip(bounds, zero_d))
        return str(lib.clamp(lib.ones(4, dtype=getattr(lib, input_dtype)), low, high).dtype).split(".")[1]

    assert dtype_of(chainrule) == dtype_of(torch)


_DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]


@pytest.mark.parametrize("first", _DTYPES)
@pytest.mark.parametrize("second", _DTYPES)
def test_promote_types_and_can_cast_match_pytorch(first, second):
    ours = [getattr(chainrule, name) for name in (first, second)]
    theirs = [getattr(torch, name) for name in (first, second)]
    assert repr(chainrule.promote_types(*ours)).split(".")[1] == repr(torch.promote_types(*theirs)).split(".")[1]
    assert chainrule.can_cast(*ours) == torch.can_cast(*theirs)


def _operands():
    """Every category of operand in pairs of (chainrule, torch): tensors with dimensions and 0-d of
    each dtype, and the Python numbers."""
    pairs = [
        (chainrule.zeros(shape, dtype=getattr(chainrule, name)), torch.zeros(shape, dtype=getattr(torch, name)))
        for name in _DTYPES
        for shape in [(), (2,)]
    ]
    return pairs + [(number, number) for number in (True, 3, 2.5)]


def test_result_type_matches_pytorch_for_every_pair_of_operands():
    operands = _operands()
    mismatches = []
    for ours_a, theirs_a in operands:
        for ours_b, theirs_b in operands:
            ours = repr(chainrule.result_type(ours_a, ours_b)).split(".")[1]
            theirs = repr(torch.result_type(theirs_a, theirs_b)).split(".")[1]
            computed = ours_a + ours_b if isinstance(ours_a, chainrule.Tensor) or isinstance(ours_b, chainrule.Tensor) else None
            if ours != theirs or (computed is not None and repr(computed.dtype).split(".")[1] != ours):
                mismatches.append((theirs_a, theirs_b, ours, theirs))
    assert not mismatches, mismatches[:5]


def test_result_type_follows_the_default_dtype():
    chainrule.set_default_dtype(chainrule.float64)
    try:
        assert chainrule.result_type(2, 3.0) == chainrule.float64
        assert chainrule.result_type(chainrule.tensor([1, 2]), 0.5) == chainrule.float64
    finally:
        chainrule.set_default_dtype(chainrule.float32)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda lib: lib.promote_types(1, lib.float32), "type1"),
        (lambda lib: lib.can_cast(lib.float32, "float32"), "to"),
        (lambda lib: lib.result_type(lib.zeros(1), "x"), "other"),
        (lambda lib: lib.result_type([1], lib.zeros(1)), "tensor"),
    ],
)
def test_bad_arguments_raise_pytorchs_type_error_naming_the_argument(call, message):
    with pytest.raises(TypeError):
        call(torch)
    with pytest.raises(TypeError, match=message):
        call(chainrule)


@pytest.mark.parametrize(
    "call",
    [
        lambda lib: lib.clamp(lib.arange(5.0), lib.tensor(1.0), 3),
        lambda lib: lib.clamp(lib.arange(5), lib.tensor(1.5), 3),
        lambda lib: lib.arange(5.0).clamp(min=1, max=lib.tensor(3.0)),
        lambda lib: lib.arange(5.0).clamp_(lib.tensor(1.0), 3),
        lambda lib: lib.clamp(lib.arange(5.0), lib.tensor([1.0]), 3),
        lambda lib: lib.clamp(lib.arange(5.0), lib.tensor(1.0, requires_grad=True), 3),
    ],
)
def test_clamp_reads_a_0d_tensor_beside_a_number_as_a_number_as_pytorch(call):
    outcomes = []
    for lib in (torch, chainrule):
        try:
            result = call(lib)
            outcomes.append((result.tolist(), str(result.dtype).split(".")[1]))
        except TypeError:
            outcomes.append("TypeError")
    assert outcomes[1] == outcomes[0]


NUMPY_SETTINGS = {
    "softplus beta": lambda lib, x: lib.nn.functional.softplus(x, beta=np.log(2.0)),
    "clamp min": lambda lib, x: lib.clamp(x, min=np.float64(0.5)),
    "clamp_min method": lambda lib, x: x.clamp_min(np.float64(-0.5)),
    "elu alpha": lambda lib, x: lib.nn.functional.elu(x, alpha=np.float64(0.5)),
    "softshrink": lambda lib, x: lib.nn.functional.softshrink(x, np.float64(0.5)),
    "addcmul value": lambda lib, x: lib.addcmul(x, x, x, value=np.float64(0.5)),
    "normalize eps": lambda lib, x: lib.nn.functional.normalize(x, eps=np.float64(1e-6)),
    "huber delta": lambda lib, x: lib.nn.functional.huber_loss(x, x * 2, delta=np.float64(0.5)),
    "cross_entropy smoothing": lambda lib, x: lib.nn.functional.cross_entropy(x, lib.tensor([0, 1]), label_smoothing=np.float64(0.1)),
    "vector_norm ord": lambda lib, x: lib.linalg.vector_norm(x, ord=np.float64(3.0)),
    "cosine_similarity eps": lambda lib, x: lib.nn.functional.cosine_similarity(x, x + 1, eps=np.float64(1e-6)),
    "sum dim": lambda lib, x: x.sum(np.int64(1)),
}


@pytest.mark.parametrize("name", sorted(NUMPY_SETTINGS))
@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_an_operations_setting_given_as_a_numpy_number_is_read_as_the_number(name, dtype):
    """nflows passes ``beta=np.log(2) / ...`` to a spline's softplus: PyTorch reads a NumPy float64
    as the number it holds, and a float32 input gives a float32 result (NumPy made it float64)."""
    results = []
    for lib in (chainrule, torch):
        x = lib.tensor([[0.25, -1.5, 2.0], [1.0, 0.5, -0.75]], dtype=getattr(lib, dtype), requires_grad=dtype == "float32")
        result = NUMPY_SETTINGS[name](lib, x)
        results.append((str(result.dtype).split(".")[-1], result.detach().float().numpy()))
    assert results[0][0] == results[1][0]
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=2e-3 if dtype == "float16" else 1e-6)


@pytest.mark.parametrize("pair", [
    (np.float64(1.5), 0), (np.int32(1), 0), (np.float16(0.5), 0), (1.5j, 0), (1.5, 1j), ("tensor", np.float64(2.5)),
], ids=["np.float64", "np.int32", "np.float16", "complex", "float and complex", "tensor and np.float64"])
def test_where_reads_numbers_as_pytorch(pair):
    """torch.where(mask, np.mean(x), 0): a NumPy number is the Python number it holds; a complex one is taken."""
    results = []
    for lib in (chainrule, torch):
        first, second = (lib.tensor([1.0, 2.0]) if value == "tensor" else value for value in pair)
        result = lib.where(lib.tensor([True, False]), first, second)
        results.append((str(result.dtype).split(".")[-1], result.tolist()))
    assert results[0] == results[1]
