"""Tensor repr: character for character what PyTorch prints, over many random tensors.

The one deliberate difference is the module name in ``dtype=``: ``chainrule.float64`` where PyTorch
prints ``torch.float64``. Its length decides where a line breaks, so the comparison has chainrule
print PyTorch's name.
"""
import numpy as np
import pytest
import torch

import chainrule


@pytest.fixture(autouse=True)
def _default_print_options(monkeypatch):
    monkeypatch.setattr(chainrule.dtypes, "dtype_name", lambda dtype: "torch." + ("bool" if dtype == np.bool_ else dtype.name))
    yield
    chainrule.set_printoptions(profile="default")
    torch.set_printoptions(profile="default")


def torch_repr(array, requires_grad=False):
    theirs = torch.from_numpy(np.array(array))
    if requires_grad:
        theirs.requires_grad_(True)
    return repr(theirs)


def our_repr(array, requires_grad=False):
    return repr(chainrule.tensor(np.array(array), requires_grad=requires_grad))


def random_array(rng, case):
    """One random array of a kind chosen by ``case``: shapes from 0-d to 4-d (empty and long ones
    included), ints, bools, and floats of tiny, huge, mixed and whole magnitudes with NaN and inf."""
    ndim = case % 5
    long = case % 7 == 0
    shape = tuple(int(rng.integers(0, 4) if case % 11 == 0 else rng.integers(1, 5)) for _ in range(ndim))
    if long and ndim:
        shape = (int(rng.integers(1001, 2500)),) if ndim == 1 else shape[:-2] + (int(rng.integers(20, 60)), 40)
    kind = case % 6
    if kind == 0:
        return rng.integers(-(10 ** int(rng.integers(1, 12))), 10**6, shape).astype(rng.choice(["int64", "int32", "uint8", "int16"]))
    if kind == 1:
        return rng.random(shape) > 0.5
    scale = 10.0 ** rng.integers(-12, 12, shape)
    values = rng.standard_normal(shape) * (scale if kind == 2 else 10.0 ** rng.integers(-6, 10))
    if kind == 3:
        values = np.round(values)
    if kind == 4 and values.size:
        flat = values.reshape(-1)
        flat[rng.integers(0, flat.size, 3)] = rng.choice([np.nan, np.inf, -np.inf, 0.0], 3)
    return values.astype(rng.choice(["float32", "float64", "float16"]) if kind != 5 else "float32")


@pytest.mark.parametrize("case", range(400))
def test_repr_matches_pytorch_on_random_tensors(case):
    with np.errstate(over="ignore"):
        array = random_array(np.random.default_rng(case), case)
    requires_grad = array.dtype.kind == "f" and case % 3 == 0  # the suffix may move to its own line
    assert our_repr(array, requires_grad) == torch_repr(array, requires_grad)


@pytest.mark.parametrize(
    "array",
    [
        np.float32(3.5),
        np.array([], dtype=np.float32),
        np.zeros((0, 3), dtype=np.int64),
        np.zeros((2, 0), dtype=np.float64),
        np.array([1e-5, 1.0], dtype=np.float32),
        np.array([1e9, 1.0], dtype=np.float32),
        np.array([np.nan, 1.0, -np.inf], dtype=np.float32),
        np.array([0.0, -0.0], dtype=np.float32),
        np.array([123456789.0], dtype=np.float64),
        np.array([True, False]),
    ],
    ids=repr,
)
def test_repr_matches_pytorch_on_edge_cases(array):
    assert our_repr(array) == torch_repr(array)
    assert our_repr(array, requires_grad=array.dtype.kind == "f") == torch_repr(array, requires_grad=array.dtype.kind == "f")


def test_scientific_notation_is_decided_by_the_shown_elements_only():
    array = np.concatenate([np.full(3, 1.5), np.full(2000, 1e-9), np.full(3, 2.5)]).astype(np.float32)
    assert "e-" not in our_repr(array)
    assert our_repr(array) == torch_repr(array)


def scale_function(library):
    """The same custom Function in either library: its grad_fn prints as ``<LongNamedScaleFunctionBackward>``."""

    class LongNamedScaleFunction(library.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad_output):
            return grad_output * 2

    return LongNamedScaleFunction


@pytest.mark.parametrize("size", [1, 5, 9, 10, 12, 30])
def test_grad_fn_moves_to_its_own_line_where_pytorch_moves_it(size):
    values = np.linspace(-1, 1, size).astype(np.float32)
    ours = repr(scale_function(chainrule).apply(chainrule.tensor(values, requires_grad=True)))
    theirs = repr(scale_function(torch).apply(torch.tensor(values, requires_grad=True)))
    assert ours == theirs


@pytest.mark.parametrize(
    "options",
    [
        dict(precision=2),
        dict(precision=8),
        dict(threshold=5),
        dict(threshold=5, edgeitems=1),
        dict(threshold=5, edgeitems=0),
        dict(linewidth=40),
        dict(sci_mode=True),
        dict(sci_mode=False),
        dict(profile="short"),
        dict(profile="full"),
        dict(profile="short", precision=6),
    ],
    ids=repr,
)
def test_set_printoptions_is_honoured_as_pytorch_honours_it(options):
    chainrule.set_printoptions(**options)
    torch.set_printoptions(**options)
    rng = np.random.default_rng(0)
    for array in (
        rng.standard_normal((4, 6)).astype(np.float32),
        (rng.standard_normal(1500) * 1e5).astype(np.float64),
        np.arange(2000).reshape(40, 50),
        rng.standard_normal((3, 500, 2)).astype(np.float32),
        np.float32(0.123456789),
    ):
        assert our_repr(array) == torch_repr(array), options


def test_print_options_round_trip_and_the_context_manager_restores_them():
    chainrule.set_printoptions(precision=2, linewidth=100)
    assert chainrule.get_printoptions() == dict(precision=2, threshold=1000, edgeitems=3, linewidth=100, sci_mode=None)
    with chainrule.printoptions(precision=6):
        assert repr(chainrule.tensor(1 / 3)) == "tensor(0.333333)"
    assert repr(chainrule.tensor(1 / 3)) == "tensor(0.33)"


def test_an_unknown_profile_changes_nothing_as_in_pytorch():
    try:
        for lib in (chainrule, torch):
            lib.set_printoptions(precision=2)
            lib.set_printoptions(profile="long", threshold=5)
        assert repr(chainrule.arange(10.0) / 3) == repr(torch.arange(10.0) / 3)
    finally:
        for lib in (chainrule, torch):
            lib.set_printoptions(profile="default")


def test_printing_switches_to_scientific_like_pytorch():
    for values in [[0.1, 100.1235], [1.0, 1001.0], [0.0, 1500.0], [1e-5, 1.0]]:
        assert repr(chainrule.tensor(values)) == repr(torch.tensor(values))


def test_lines_break_where_pytorchs_break_though_chainrule_names_itself():
    """``dtype=chainrule.float64`` is four columns longer than ``dtype=torch.float64``: the suffix
    is measured as PyTorch's text, so the line structure is PyTorch's."""
    values = [1.0, 0.125, 81.0, 9.7656e-04]
    ours = repr(chainrule.tensor(values, dtype=chainrule.float64)).replace("chainrule.", "torch.")
    assert ours == repr(torch.tensor(values, dtype=torch.float64))
