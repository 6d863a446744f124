"""interpolate in every mode: the op table (gradcheck in float64, PyTorch's values and gradients),
random geometries against PyTorch in float32, second derivatives, node names and errors."""
import warnings

import numpy as np
import pytest
import torch
from hypothesis import strategies as st

import chainrule
from tests.ops.oracle import library_case, table_test


def shapes(dims, min_side=1, max_side=6):
    """(N, C, *size) with batch 1 or 2, 1 to 3 channels."""
    side = st.integers(min_side, max_side)
    return st.tuples(st.integers(1, 2), st.integers(1, 3), *[side] * dims).map(lambda shape: (shape,))


def resize(**arguments):
    return lambda lib, x: lib.nn.functional.interpolate(x, **arguments)


CASES = [
    library_case("nearest_exact_1d", resize(size=7, mode="nearest-exact"), shapes(1)),
    library_case("nearest_exact_2d_down", resize(size=(2, 3), mode="nearest-exact"), shapes(2, 3)),
    library_case("nearest_exact_scale", resize(scale_factor=1.7, mode="nearest-exact"), shapes(2)),
    library_case("nearest_3d", resize(scale_factor=(2, 1.5, 0.7), mode="nearest"), shapes(3, 2, 4)),
    library_case("nearest_exact_3d", resize(size=(3, 5, 2), mode="nearest-exact"), shapes(3, 1, 4)),
    library_case("trilinear", resize(scale_factor=1.6, mode="trilinear"), shapes(3, 1, 4)),
    library_case("trilinear_corners_down", resize(size=(2, 3, 4), mode="trilinear", align_corners=True), shapes(3, 2, 5)),
    library_case("trilinear_recompute", resize(scale_factor=(0.6, 1.5, 2.3), mode="trilinear", recompute_scale_factor=True), shapes(3, 2, 4)),
    library_case("area_1d", resize(size=3, mode="area"), shapes(1, 3, 8)),
    library_case("area_2d_scale", resize(scale_factor=0.6, mode="area"), shapes(2, 2, 8)),
    library_case("area_3d", resize(size=(2, 3, 1), mode="area"), shapes(3, 3, 5)),
    library_case("bicubic_up", resize(scale_factor=2.3, mode="bicubic"), shapes(2)),
    library_case("bicubic_down", resize(size=(2, 3), mode="bicubic"), shapes(2, 3)),
    library_case("bicubic_corners", resize(size=(5, 7), mode="bicubic", align_corners=True), shapes(2)),
    library_case("bicubic_scale_kept", resize(scale_factor=(1.7, 0.6), mode="bicubic", recompute_scale_factor=False), shapes(2, 3)),
    library_case("bilinear_antialias", resize(size=(3, 2), mode="bilinear", antialias=True), shapes(2, 4, 9)),
    library_case("bicubic_antialias", resize(scale_factor=0.45, mode="bicubic", antialias=True), shapes(2, 5, 9)),
    library_case("bilinear_antialias_corners", resize(size=(2, 3), mode="bilinear", antialias=True, align_corners=True), shapes(2, 5, 9)),
]

test_op = table_test(CASES, max_examples=4)


def _random_call(rng):
    """A random mode, input shape and output geometry (size or scale factors, align_corners,
    recompute_scale_factor), avoiding PyTorch's own inconsistencies (see below)."""
    mode = str(rng.choice(["nearest", "nearest-exact", "linear", "bilinear", "trilinear", "bicubic", "area", "bilinear-aa", "bicubic-aa"]))
    antialias = mode.endswith("-aa")
    mode = mode.removesuffix("-aa")
    dims = {"linear": 1, "bilinear": 2, "trilinear": 3, "bicubic": 2}.get(mode, int(rng.integers(1, 4)))
    shape = (int(rng.integers(1, 3)), int(rng.integers(1, 4))) + tuple(int(v) for v in rng.integers(1, 12, dims))
    arguments = dict(mode=mode, antialias=antialias)
    if mode in ("linear", "bilinear", "trilinear", "bicubic") and rng.random() < 0.7:
        arguments["align_corners"] = bool(rng.random() < 0.5)
    if rng.random() < 0.5:
        arguments["size"] = tuple(int(v) for v in rng.integers(1, 15, dims))
        outs = arguments["size"]
    else:
        factors = tuple(float(np.round(rng.uniform(0.3, 3.5), 3)) for _ in range(dims))
        arguments["scale_factor"] = factors if rng.random() < 0.5 else factors[0]
        if rng.random() < 0.6:
            arguments["recompute_scale_factor"] = bool(rng.random() < 0.5)
        outs = tuple(int(s * (factors[0] if isinstance(arguments["scale_factor"], float) else f)) for s, f in zip(shape[2:], factors))
    return shape, arguments, outs


def _pytorch_gradient_is_its_forwards_adjoint(shape, arguments, outs):
    """PyTorch's backward kernels special-case sizes that its forward kernels do not, when a scale
    factor other than out / in reaches them: nearest (1-d, 3-d) reads out = in and out = 2 in as
    copies, bicubic copies when no size changes, antialiasing filters a dimension whose size
    stays. There chainrule's gradient is the adjoint of the forward (checked by gradcheck)."""
    if "scale_factor" not in arguments or arguments.get("recompute_scale_factor"):
        return True
    kept = [s == o for s, o in zip(shape[2:], outs)]
    doubled = [2 * s == o for s, o in zip(shape[2:], outs)]
    if arguments["mode"] == "nearest" and len(shape) != 4 and any(k or d for k, d in zip(kept, doubled)):
        return False
    if arguments["mode"] == "bicubic" and not arguments["antialias"] and all(kept):
        return False
    return not (arguments["antialias"] and any(kept))


@pytest.mark.parametrize("seed", range(8))
def test_random_geometries_match_pytorch_in_float32(seed):
    rng = np.random.default_rng(seed)
    checked = 0
    while checked < 40:
        shape, arguments, outs = _random_call(rng)
        if min(outs) < 1 or (arguments["antialias"] and outs[-1] == 1):  # PyTorch's antialiasing
            continue  # copies the first row to every row of an output one wide
        checked += 1
        x = rng.standard_normal(shape)
        results = []
        for lib in (chainrule, torch):
            input = lib.tensor(x, dtype=lib.float32, requires_grad=True)
            output = lib.nn.functional.interpolate(input, **arguments)
            weights = np.random.default_rng(seed).standard_normal(tuple(output.shape))
            (output * lib.tensor(weights, dtype=lib.float32)).sum().backward()
            results.append((np.asarray(output.detach().numpy()), np.asarray(input.grad.numpy())))
        (ours, our_grad), (theirs, their_grad) = results
        message = f"{shape} {arguments}"
        assert ours.shape == theirs.shape, message
        np.testing.assert_allclose(ours, theirs, atol=1e-5, rtol=1e-4, err_msg=message)
        if _pytorch_gradient_is_its_forwards_adjoint(shape, arguments, outs):
            np.testing.assert_allclose(our_grad, their_grad, atol=1e-5, rtol=1e-4, err_msg=message)


@pytest.mark.parametrize("seed", range(4))
def test_random_geometries_pass_gradcheck(seed):
    rng = np.random.default_rng(100 + seed)
    checked = 0
    while checked < 12:
        shape, arguments, outs = _random_call(rng)
        if min(outs) < 1 or np.prod(shape) > 300 or np.prod(shape[:2]) * np.prod(outs) > 300:
            continue  # (gradcheck's cost: two calls per input element, two backward passes per output element)
        checked += 1
        x = chainrule.tensor(rng.standard_normal(shape), requires_grad=True)
        assert chainrule.autograd.gradcheck(lambda t: chainrule.nn.functional.interpolate(t, **arguments), [x], eps=1e-6, atol=1e-5, rtol=1e-3)


@pytest.mark.parametrize(
    "arguments, shape",
    [
        (dict(scale_factor=2.1), (1, 1, 5)),  # 1-d nearest, out = 2 in
        (dict(scale_factor=(2.1, 1.1, 1.5)), (1, 2, 3, 5, 4)),  # 3-d nearest, out = 2 in and out = in
        (dict(scale_factor=1.16, mode="bicubic"), (1, 2, 4, 4)),  # bicubic, no size changes
        (dict(scale_factor=(1.34, 0.6), mode="bilinear", antialias=True), (1, 2, 2, 10)),  # antialiased, a size stays
    ],
)
def test_pytorch_special_cases_follow_its_forward(arguments, shape):
    """Where PyTorch's backward kernels read a geometry otherwise than its forward kernels (see
    ``_pytorch_gradient_is_its_forwards_adjoint``), the values are PyTorch's and the gradient is
    theirs' adjoint."""
    x = np.random.default_rng(0).standard_normal(shape)
    ours = chainrule.nn.functional.interpolate(chainrule.tensor(x), **arguments)
    theirs = torch.nn.functional.interpolate(torch.tensor(x), **arguments)
    np.testing.assert_allclose(ours._array, theirs.numpy(), atol=1e-12)
    input = chainrule.tensor(x, requires_grad=True)
    assert chainrule.autograd.gradcheck(lambda t: chainrule.nn.functional.interpolate(t, **arguments), [input])


@pytest.mark.parametrize("size, mode", [((2, 451), "nearest"), ((3, 257), "nearest"), ((2, 700), "nearest-exact"), ((2, 150), "nearest-exact")])
def test_nearest_along_long_dimensions_matches_pytorch(size, mode):
    """Past 256 inputs along a dimension the gradient sums runs of outputs (reduceat), and places
    them when some inputs are never read."""
    x = np.random.default_rng(0).standard_normal((2, 1, 3, 300))
    weights = np.random.default_rng(1).standard_normal((2, 1) + size)
    results = []
    for lib in (chainrule, torch):
        input = lib.tensor(x, requires_grad=True)
        output = lib.nn.functional.interpolate(input, size=size, mode=mode)
        (output * lib.tensor(weights)).sum().backward()
        results.append((np.asarray(output.detach().numpy()), np.asarray(input.grad.numpy())))
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, atol=1e-12)


def test_node_names_as_pytorch():
    for shape, arguments in [
        ((1, 1, 4, 4), dict(size=3)),
        ((1, 1, 4), dict(size=3, mode="nearest-exact")),
        ((1, 1, 4, 4, 4), dict(size=3, mode="trilinear")),
        ((1, 1, 4, 4), dict(size=3, mode="bicubic")),
        ((1, 1, 4, 4), dict(size=3, mode="bilinear", antialias=True)),
    ]:
        names = [
            type(lib.nn.functional.interpolate(lib.zeros(*shape, requires_grad=True), **arguments).grad_fn).__name__
            for lib in (chainrule, torch)
        ]
        assert names[0] == names[1], arguments


@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda F, lib: F.interpolate(lib.randn(1, 1, 4), scale_factor=2, mode="bilinear"), NotImplementedError, "Got 3D input, but bilinear mode needs 4D input"),
        (lambda F, lib: F.interpolate(lib.randn(1, 1, 4, 4), scale_factor=2, mode="linear"), NotImplementedError, "Got 4D input, but linear mode needs 3D input"),
        (lambda F, lib: F.interpolate(lib.randn(1, 1, 4, 4), scale_factor=2, mode="trilinear"), NotImplementedError, "trilinear mode needs 5D input"),
        (lambda F, lib: F.interpolate(lib.randn(1, 1, 4, 4, 4), scale_factor=2, mode="bicubic"), NotImplementedError, r"\(got 5D\).*\(got bicubic\)"),
        (lambda F, lib: F.interpolate(lib.randn(1, 4), scale_factor=2), NotImplementedError, r"Only 3D, 4D and 5D input Tensors supported \(got 2D\)"),
        (lambda F, lib: F.interpolate(lib.randn(1, 1, 4, 4), scale_factor=2, mode="cubic"), NotImplementedError, r"\(got cubic\)"),
        (lambda F, lib: F.interpolate(lib.randn(1, 1, 4, 4), scale_factor=2, antialias=True), ValueError, "Anti-alias option is restricted"),
        (lambda F, lib: F.interpolate(lib.randn(1, 1, 4, 4, 4), size=2, mode="trilinear", antialias=True), ValueError, "Anti-alias"),
        (lambda F, lib: F.interpolate(lib.randn(1, 1, 4, 4), size=3, mode="area", align_corners=False), ValueError, "align_corners option"),
        (lambda F, lib: F.interpolate(lib.randn(1, 1, 4, 4), size=3, mode="nearest-exact", align_corners=True), ValueError, "align_corners option"),
        (lambda F, lib: F.interpolate(lib.randn(1, 1, 4, 4), scale_factor=0.1), RuntimeError, r"greater than 0.*input \(H: 4, W: 4\) output \(H: 0, W: 0\)"),
        (lambda F, lib: F.interpolate(lib.randn(1, 1, 4, 4)), ValueError, "either size or scale_factor"),
        (lambda F, lib: F.interpolate(lib.randn(1, 1, 4, 4), size=3, scale_factor=2), ValueError, "only one of size or scale_factor"),
        (lambda F, lib: F.interpolate(lib.randn(1, 1, 4, 4), size=3, recompute_scale_factor=True), ValueError, "not meaningful"),
        (lambda F, lib: F.interpolate(lib.randn(1, 1, 4, 4), size=(3, 3, 3)), ValueError, "same number of spatial dimensions"),
        (lambda F, lib: F.interpolate(lib.randn(1, 1, 4, 4), scale_factor=(2, 2, 2)), ValueError, "scale_factor of shape"),
        (lambda F, lib: F.interpolate(lib.randn(1, 1, 4, 4), size=(3.0, 3)), TypeError, "expected size to be one of int"),
        (lambda F, lib: F.interpolate(lib.randn(1, 1, 4, 4), size=3, mode="lanczos"), ValueError, "Lanczos mode requires antialias=True"),
        (lambda F, lib: F.interpolate(lib.arange(16).reshape(1, 1, 4, 4), size=3, mode="bilinear"), NotImplementedError, "floating-point"),
    ],
)
def test_errors_as_pytorch(call, error, words):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(error):
            call(torch.nn.functional, torch)
        with pytest.raises(error, match=words):
            call(chainrule.nn.functional, chainrule)
