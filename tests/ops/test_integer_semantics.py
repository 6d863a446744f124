"""Integer, bool and dtype-promotion semantics of the elementwise operators, against PyTorch.

Every operator and function meets every pair of operands: tensors with dimensions and 0-d tensors
of each dtype, and Python numbers, on both sides. Where PyTorch computes, chainrule must give the
same values in the same dtype (integers wrap as PyTorch's do); where PyTorch refuses, chainrule must
raise the same exception type. PyTorch's argument-parsing TypeErrors (``torch.maximum(x, 2)``) are
left out: they check argument kinds, not integer semantics.
"""
import operator
import warnings

import numpy as np
import pytest
import torch

import chainrule

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]
LEFT_VALUES, RIGHT_VALUES = [-7, 5, 3, 0], [2, -3, 4, 5]  # no zero divisor on the right; uint8 wraps the negatives


def _tensor(library, values, dtype, dimensionless):
    """values as a tensor of dtype (through PyTorch's conversion, so that uint8 wraps -7 to 249 in both)."""
    data = torch.tensor(values).to(getattr(torch, dtype))
    data = data[1] if dimensionless else data
    return data.clone() if library is torch else chainrule.tensor(data.numpy().copy())


def _operands(values, numbers):
    """(name, make(library)) for each kind of operand."""
    tensors = [
        (f"{dtype}{'[]' if dimensionless else '[4]'}", lambda lib, d=dtype, z=dimensionless: _tensor(lib, values, d, z))
        for dtype in DTYPES
        for dimensionless in (False, True)
    ]
    return tensors + [(repr(number), lambda lib, n=number: n) for number in numbers]


LEFT = _operands(LEFT_VALUES, [False, -7, 2.5])
RIGHT = _operands(RIGHT_VALUES, [True, 3, -2, 2.5])


def _in_place(symbol):
    def operation(lib, x, y):
        if not isinstance(x, (torch.Tensor, chainrule.Tensor)):
            raise _NotApplicable
        namespace = {"x": x, "y": y}
        exec(f"x {symbol}= y", namespace)
        return namespace["x"]

    return operation


class _NotApplicable(Exception):
    """An in-place operator on a number: not a case."""


BINARY = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv, "//": operator.floordiv,
    "%": operator.mod, "**": operator.pow, "&": operator.and_, "|": operator.or_, "^": operator.xor,
    "<<": operator.lshift, ">>": operator.rshift, "<": operator.lt, "==": operator.eq, ">=": operator.ge,
}
OPERATIONS = {symbol: (lambda f: lambda lib, x, y: f(x, y))(function) for symbol, function in BINARY.items()}
OPERATIONS.update({
    "true_divide": lambda lib, x, y: lib.true_divide(x, y),
    "div_trunc": lambda lib, x, y: lib.div(x, y, rounding_mode="trunc"),
    "div_floor": lambda lib, x, y: lib.div(x, y, rounding_mode="floor"),
    "fmod": lambda lib, x, y: lib.fmod(x, y),
    "atan2": lambda lib, x, y: lib.atan2(x, y),
    "maximum": lambda lib, x, y: lib.maximum(x, y),
    "clamp_min": lambda lib, x, y: lib.clamp(x, min=y),
    "clamp_max": lambda lib, x, y: lib.clamp(x, max=y),
    "where": lambda lib, x, y: lib.where(lib.tensor([True, False, True, False]), x, y),
    "add_alpha": lambda lib, x, y: lib.add(x, y, alpha=2),
    "sub_alpha": lambda lib, x, y: lib.sub(x, y, alpha=2),
    "result_type": lambda lib, x, y: str(lib.result_type(x, y)).split(".")[-1],
})
IN_PLACE = {f"{symbol}=": _in_place(symbol) for symbol in ["+", "-", "*", "/", "//", "%", "**", "&", "|", "^", "<<", ">>"]}


def _outcome(operation, library, left, right):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return "value", operation(library, left(library), right(library))
        except _NotApplicable:
            raise
        except Exception as error:  # noqa: BLE001 - the exception type is what is compared
            return "error", error


def _described(value):
    if isinstance(value, (torch.Tensor, chainrule.Tensor)):
        return str(value.dtype).split(".")[-1], np.asarray(value.numpy())
    return value, None


def _differences(operation, in_place=False):
    """The cases where chainrule and PyTorch disagree, as readable lines."""
    found = []
    for (left_name, left), (right_name, right) in [(a, b) for a in LEFT for b in RIGHT]:
        try:
            theirs, ours = _outcome(operation, torch, left, right), _outcome(operation, chainrule, left, right)
        except _NotApplicable:
            continue
        case = f"{left_name} op {right_name}: torch {theirs[1]!r:.80} / chainrule {ours[1]!r:.80}"
        if theirs[0] == "error":
            if isinstance(theirs[1], TypeError) and "invalid combination" in str(theirs[1]) or "must be Tensor" in str(theirs[1]):
                continue  # PyTorch's argument parsing refuses a number here: chainrule accepts it
            agreed = ours[0] == "error" and (in_place or type(ours[1]) is type(theirs[1]))
        else:
            (their_dtype, their_values), (our_dtype, our_values) = _described(theirs[1]), _described(ours[1]) if ours[0] == "value" else (None, None)
            agreed = ours[0] == "value" and their_dtype == our_dtype and (
                their_values is None
                or (their_values.shape == our_values.shape and np.allclose(
                    their_values.astype(float), our_values.astype(float), rtol=1e-3, equal_nan=True))
            )
        if not agreed:
            found.append(case)
    return found


@pytest.mark.parametrize("name", list(OPERATIONS))
def test_every_pair_of_operands_gives_pytorchs_values_dtype_or_error(name):
    differences = _differences(OPERATIONS[name])
    if name in ("**",):  # a bool tensor to the Python power True: PyTorch copies it (exponent 1), see the report
        differences = [case for case in differences if not case.startswith(("bool[4] op True", "bool[] op True"))]
    assert not differences, "\n".join(differences[:10])


@pytest.mark.parametrize("name", list(IN_PLACE))
def test_in_place_operators_give_pytorchs_values_or_refuse(name):
    differences = [case for case in _differences(IN_PLACE[name], in_place=True)
                   if "op True" not in case]
    assert not differences, "\n".join(differences[:10])


def test_in_place_integer_results_of_another_sign_are_cast_as_in_pytorch():
    ours, theirs = chainrule.tensor([250, 3], dtype=chainrule.uint8), torch.tensor([250, 3], dtype=torch.uint8)
    ours += chainrule.tensor([10, -4], dtype=chainrule.int8)
    theirs += torch.tensor([10, -4], dtype=torch.int8)
    assert ours.tolist() == theirs.tolist() == [4, 255]


# ----------------------------------------------------------------------------- numbers that do not fit the dtype
@pytest.mark.parametrize(("dtype", "number"), [("uint8", -1), ("uint8", 300), ("int8", 200), ("int8", -300),
                                                ("int16", 2**40 + 3), ("int32", 2**40 + 3), ("int64", 2**63), ("uint8", 2**64 - 1)])
@pytest.mark.parametrize("symbol", ["+", "*", "==", "<", "&", "//"])
def test_a_python_int_outside_the_dtype_wraps_around_as_in_pytorch(dtype, number, symbol):
    ours = BINARY[symbol](chainrule.tensor([1, 5, 7], dtype=getattr(chainrule, dtype)), number)
    theirs = BINARY[symbol](torch.tensor([1, 5, 7], dtype=getattr(torch, dtype)), number)
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    assert ours.tolist() == theirs.tolist()


def test_an_int_beyond_64_bits_is_refused_with_overflow_error():
    for library in (torch, chainrule):
        with pytest.raises(OverflowError):
            library.tensor([1], dtype=library.uint8) + 2**64


def test_integer_arithmetic_wraps_silently():
    for dtype, values, scale in [("int8", [100, -100], 3), ("uint8", [200, 5], 2), ("int16", [2**15 - 1], 2),
                                 ("int32", [2**31 - 1], 2), ("int64", [2**63 - 1], 2)]:
        ours = chainrule.tensor(values, dtype=getattr(chainrule, dtype)) * scale + 1
        theirs = torch.tensor(values, dtype=getattr(torch, dtype)) * scale + 1
        assert ours.tolist() == theirs.tolist(), dtype


# ----------------------------------------------------------------------------- division
def test_true_division_reads_integer_operands_of_another_sign_as_they_are():
    data = chainrule.tensor([249, 6], dtype=chainrule.uint8)
    assert (data / chainrule.tensor(-3, dtype=chainrule.int8)).tolist() == [-83.0, -2.0]
    assert (data / -2).tolist() == [-124.5, -3.0]
    assert (-6 / data).dtype == chainrule.float32
    assert chainrule.atan2(data, chainrule.tensor(-3, dtype=chainrule.int8)).tolist() == pytest.approx(
        torch.atan2(torch.tensor([249, 6], dtype=torch.uint8), torch.tensor(-3, dtype=torch.int8)).tolist())


def test_truncating_division_of_large_integers_is_exact():
    values = [2**62 + 1, -(2**62) - 3, -7, 7, -8]
    for divisor in (3, -3, -1):
        ours = chainrule.div(chainrule.tensor(values), divisor, rounding_mode="trunc")
        theirs = torch.div(torch.tensor(values), divisor, rounding_mode="trunc")
        assert ours.tolist() == theirs.tolist() and ours.dtype == chainrule.int64


@pytest.mark.parametrize("call", [
    lambda lib: lib.tensor([1, 2]) // 0,
    lambda lib: lib.tensor([1, 2]) % lib.tensor([0, 1]),
    lambda lib: lib.fmod(lib.tensor([1, 2]), 0),
    lambda lib: lib.div(lib.tensor([1, 2]), 0, rounding_mode="trunc"),
    lambda lib: lib.tensor([1, 2], dtype=lib.uint8).remainder(lib.tensor(0, dtype=lib.uint8)),
])
def test_integer_division_by_zero_raises_pytorchs_error(call):
    for library in (torch, chainrule):
        with pytest.raises(RuntimeError, match="ZeroDivisionError"):
            call(library)


def test_a_rounding_mode_pytorch_does_not_know_raises_runtime_error():
    with pytest.raises(RuntimeError, match="rounding_mode"):
        chainrule.div(chainrule.tensor([1.0]), 2, rounding_mode="round")


def test_two_numbers_make_a_tensor_as_in_pytorch():
    for call in (lambda lib: lib.add(2, 3), lambda lib: lib.mul(2.0, 3), lambda lib: lib.add(True, True),
                 lambda lib: lib.true_divide(1, 2), lambda lib: lib.sub(-7, 3, alpha=2)):
        ours, theirs = call(chainrule), call(torch)
        assert ours.item() == theirs.item() and str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]


# ----------------------------------------------------------------------------- pow
def test_integers_to_negative_tensor_powers_give_truncated_reciprocals():
    base, exponent = [2, 1, -1, 0, -2, -1, 3], [-1, -2, -3, -1, -2, -4, 2]
    for dtype in ("int64", "int8", "uint8"):
        ours = chainrule.tensor(base).to(getattr(chainrule, dtype)) ** chainrule.tensor(exponent)
        theirs = torch.tensor(base).to(getattr(torch, dtype)) ** torch.tensor(exponent)
        assert ours.tolist() == theirs.tolist() and str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    assert (2 ** chainrule.tensor([-1, 2])).tolist() == [0, 4]
    assert (chainrule.tensor([True, False]) ** chainrule.tensor([-1, 2], dtype=chainrule.int8)).tolist() == [1, 0]


@pytest.mark.parametrize("dtype", ["bool", "uint8", "int32", "int64"])
def test_integers_to_a_negative_number_power_raise_runtime_error(dtype):
    for library in (torch, chainrule):
        with pytest.raises(RuntimeError, match="Integers to negative integer powers are not allowed"):
            library.tensor([1, 2]).to(getattr(library, dtype)) ** -1


# ----------------------------------------------------------------------------- add and sub with alpha
def test_alpha_multiplies_after_promotion():
    ours = chainrule.sub(chainrule.tensor([5], dtype=chainrule.int8), chainrule.tensor([253], dtype=chainrule.uint8), alpha=2)
    theirs = torch.sub(torch.tensor([5], dtype=torch.int8), torch.tensor([253], dtype=torch.uint8), alpha=2)
    assert ours.tolist() == theirs.tolist() == [-501] and ours.dtype == chainrule.int16
    ours = chainrule.add(chainrule.tensor([3], dtype=chainrule.uint8), chainrule.tensor([True]), alpha=2)
    assert ours.tolist() == [5] and ours.dtype == chainrule.uint8
    assert chainrule.add(chainrule.tensor([True, False]), chainrule.tensor([False, False]), alpha=2).tolist() == [True, False]


@pytest.mark.parametrize(("call", "message"), [
    (lambda lib: lib.add(lib.tensor([1, 2]), 1, alpha=0.5), "alpha must not be a floating point number"),
    (lambda lib: lib.sub(lib.tensor([1, 2]), lib.tensor([1, 2]), alpha=2.5), "alpha must not be a floating point number"),
    (lambda lib: lib.add(lib.tensor([1.0]), 2, alpha=True), "Boolean alpha only supported for Boolean results"),
])
def test_alpha_of_the_wrong_kind_is_refused(call, message):
    for library in (torch, chainrule):
        with pytest.raises(RuntimeError, match=message):
            call(library)


def test_alpha_scales_the_gradient():
    data, other = torch.tensor([1.0, -2.0], requires_grad=True), torch.tensor([0.5, 3.0], requires_grad=True)
    ours_data, ours_other = (chainrule.tensor(t.detach().numpy(), requires_grad=True) for t in (data, other))
    chainrule.sub(ours_data, ours_other, alpha=3).sum().backward()
    torch.sub(data, other, alpha=3).sum().backward()
    assert ours_data.grad.tolist() == data.grad.tolist() and ours_other.grad.tolist() == other.grad.tolist()
    assert chainrule.autograd.gradcheck(lambda a, b: chainrule.add(a, b, alpha=-2.5),
                                        (chainrule.randn(3, dtype=chainrule.float64, requires_grad=True),
                                         chainrule.randn(3, dtype=chainrule.float64, requires_grad=True)))


# ----------------------------------------------------------------------------- bools
@pytest.mark.parametrize("call", [
    lambda lib: lib.tensor([True, False]) - lib.tensor([True, True]),
    lambda lib: lib.tensor([True, False]) - 1,
    lambda lib: 1 - lib.tensor([True, False]),
    lambda lib: 1.0 - lib.tensor([True, False]),
    lambda lib: lib.tensor([1.0, 2.0]) - lib.tensor([True, False]),
    lambda lib: lib.tensor([1.0, 2.0]) - True,
    lambda lib: -lib.tensor([True]),
    lambda lib: +lib.tensor([True]),
])
def test_subtracting_or_negating_bools_is_refused_with_advice(call):
    for library in (torch, chainrule):
        with pytest.raises(RuntimeError, match="`~` or `logical_not\\(\\)`|`\\^` or `logical_xor\\(\\)`|`\\+` operator"):
            call(library)


@pytest.mark.parametrize("name", ["abs", "floor", "ceil", "trunc", "round", "frac"])
def test_rounding_and_abs_of_bools_are_refused(name):
    for library in (torch, chainrule):
        with pytest.raises(NotImplementedError):
            getattr(library, name)(library.tensor([True, False]))


def test_frac_of_integers_is_refused_and_floor_of_integers_copies():
    for library in (torch, chainrule):
        with pytest.raises(NotImplementedError):
            library.frac(library.tensor([1, 2]))
    assert chainrule.floor(chainrule.tensor([3, -2])).tolist() == [3, -2]


def test_shifts_compute_in_the_promoted_dtype():
    mask = chainrule.tensor([True, False, True])
    assert (mask << 2).tolist() == [4, 0, 4] and (mask << 2).dtype == chainrule.int64
    assert (1 << mask).tolist() == [2, 1, 2]
    shifted = mask << chainrule.tensor([1, 2, 3], dtype=chainrule.uint8)
    assert shifted.tolist() == [2, 0, 8] and shifted.dtype == chainrule.uint8
    for library in (torch, chainrule):
        with pytest.raises(NotImplementedError):
            library.tensor([True]) << library.tensor([True])


def test_invert_of_a_float_tensor_raises_type_error():
    for library in (torch, chainrule):
        with pytest.raises(TypeError, match="only implemented on integer and Boolean"):
            ~library.tensor([1.0])


def test_in_place_bitwise_into_a_bool_tensor_refuses_integer_results():
    for library in (torch, chainrule):
        mask = library.tensor([True, False])
        with pytest.raises(RuntimeError, match="can't be cast"):
            mask &= library.tensor([1, 0], dtype=library.uint8)
    mask = chainrule.tensor([True, False])
    mask |= chainrule.tensor([False, True])
    assert mask.tolist() == [True, True]


# ----------------------------------------------------------------------------- clamp and where
@pytest.mark.parametrize(("data", "bound"), [
    ("float32", "float64[]"), ("float16", "int64[]"), ("uint8", "int8[]"), ("int8", "int16[4]"),
    ("bool", "uint8[4]"), ("int32", "float32[]"), ("float32", "float64[4]"),
])
@pytest.mark.parametrize("side", ["min", "max"])
def test_clamp_promotes_with_its_tensor_bounds_as_pytorch(data, bound, side):
    bound_dtype, dimensionless = bound.split("[")[0], bound.endswith("[]")
    ours = chainrule.clamp(_tensor(chainrule, LEFT_VALUES, data, False), **{side: _tensor(chainrule, RIGHT_VALUES, bound_dtype, dimensionless)})
    theirs = torch.clamp(_tensor(torch, LEFT_VALUES, data, False), **{side: _tensor(torch, RIGHT_VALUES, bound_dtype, dimensionless)})
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    np.testing.assert_allclose(ours.numpy().astype(float), theirs.numpy().astype(float))


def test_clamp_sends_the_gradient_to_a_bound_of_another_dtype():
    data = torch.tensor([-1.0, 0.5, 2.0], requires_grad=True)
    low = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
    ours_data = chainrule.tensor([-1.0, 0.5, 2.0], requires_grad=True)
    ours_low = chainrule.tensor(0.0, dtype=chainrule.float64, requires_grad=True)
    result = chainrule.clamp(ours_data, min=ours_low)
    assert result.dtype == chainrule.float32
    result.sum().backward()
    torch.clamp(data, min=low).sum().backward()
    assert ours_data.grad.tolist() == data.grad.tolist()
    assert ours_low.grad.item() == low.grad.item() and ours_low.grad.dtype == chainrule.float64
    assert chainrule.autograd.gradcheck(
        lambda x, lo: chainrule.clamp(x, min=lo),
        (chainrule.tensor([-1.0, 0.3, 2.0], dtype=chainrule.float64, requires_grad=True),
         chainrule.tensor(0.1, dtype=chainrule.float64, requires_grad=True)))


def test_where_reads_a_uint8_condition_with_pytorchs_warning():
    chainrule.set_warn_always(True)  # PyTorch warns once per process: here every time
    try:
        with pytest.warns(UserWarning, match="uint8 condition"):
            ours = chainrule.where(chainrule.tensor([1, 0], dtype=chainrule.uint8), 1.0, 2.0)
    finally:
        chainrule.set_warn_always(False)
    assert ours.tolist() == [1.0, 2.0]
    for library in (torch, chainrule):
        with pytest.raises(RuntimeError, match="boolean tensor, but got a tensor with dtype Long"):
            library.where(library.tensor([1, 0]), 1.0, 2.0)
