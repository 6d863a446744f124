"""F.pad in every mode (constant, reflect, replicate, circular) against PyTorch: values, gradients,
errors; ``constant_pad_nd`` (ConstantPadNdBackward0); and conv's padding='same' with an even
kernel, which pads the input first and then convolves, as PyTorch does."""
import warnings

import numpy as np
import pytest
import torch

import chainrule
from chainrule.autograd import gradcheck, gradgradcheck

MODES = ("constant", "reflect", "replicate", "circular")
SIZES = (3, 4, 2)  # the padded dimensions' sizes, the last first


def _input_shape(dims, batched):
    return ((2,) if batched else ()) + (2,) + SIZES[:dims][::-1]


def _pads(dims):
    """Amounts from -3 to 6 on every side: cropping, padding past the size, and 0."""
    rng = np.random.default_rng(dims)
    fixed = [(0, 0) * dims, (1, 1) * dims, (5, 5) * dims, (-1, 2) * dims, (2, -1) * dims]
    return fixed + [tuple(int(amount) for amount in rng.integers(-3, 7, 2 * dims)) for _ in range(30)]


def _run(function, *args, **kwargs):
    try:
        return function(*args, **kwargs), None
    except Exception as error:  # noqa: BLE001 (the error is compared with PyTorch's)
        return None, error


def _circular_wraps_cropped_twice(shape, pad):
    """Circular padding that, after cropping one side, wraps more than what is left: PyTorch reads
    uninitialized memory there (its result is garbage), chainrule raises."""
    for pair in range(len(pad) // 2):
        before, after, size = pad[2 * pair], pad[2 * pair + 1], shape[-1 - pair]
        left = size - max(-before, 0) - max(-after, 0)
        if max(before, after) <= size and max(before, after) > left and left + before + after >= 0:
            return True
    return False


CASES = [
    (mode, dims, batched, pad)
    for mode in MODES
    for dims in (1, 2, 3)
    for batched in (True, False)
    for pad in _pads(dims)
]


@pytest.mark.parametrize("mode, dims, batched, pad", CASES)
def test_pad_matches_pytorch(mode, dims, batched, pad):
    shape = _input_shape(dims, batched)
    if mode == "circular" and _circular_wraps_cropped_twice(shape, pad):
        pytest.skip("PyTorch's result reads uninitialized memory here; see test_circular_wrapping_a_cropped_input")
    values = np.random.default_rng(7).standard_normal(shape).astype(np.float32)
    theirs_input, ours_input = torch.tensor(values, requires_grad=True), chainrule.tensor(values, requires_grad=True)
    theirs, their_error = _run(torch.nn.functional.pad, theirs_input, pad, mode=mode)
    ours, our_error = _run(chainrule.nn.functional.pad, ours_input, pad, mode=mode)
    if their_error is not None or our_error is not None:
        assert type(our_error) is type(their_error), (their_error, our_error)
        return
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert ours.dtype == chainrule.float32
    np.testing.assert_array_equal(ours.detach().numpy(), theirs.detach().numpy())
    if 0 in theirs.shape:
        return
    weights = np.random.default_rng(8).standard_normal(theirs.shape).astype(np.float32)
    (theirs * torch.tensor(weights)).sum().backward()
    (ours * chainrule.tensor(weights)).sum().backward()
    if mode == "reflect" and dims == 3 and min(pad) < 0:
        return  # PyTorch's ReflectionPad3d backward is wrong with crops (its own gradcheck fails); see below
    np.testing.assert_allclose(ours_input.grad.numpy(), theirs_input.grad.numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("pad", [(1, 2, 0, 1, 2, 0), (-1, 3, 2, -1, 1, 1), (5, 0, 0, 4, -1, 1)])
def test_pad_gradients_by_finite_differences(mode, pad):
    shape = (1, 2, 2, 3, 4)
    if mode == "reflect":
        pad = tuple(min(amount, size - 1) for amount, size in zip(pad, (4, 4, 3, 3, 2, 2)))
    if mode == "circular":
        pad = tuple(max(amount, 0) for amount in pad)
        pad = tuple(min(amount, size) for amount, size in zip(pad, (4, 4, 3, 3, 2, 2)))
    x = chainrule.tensor(np.random.default_rng(3).standard_normal(shape), requires_grad=True)
    padded = lambda x: chainrule.nn.functional.pad(x, pad, mode=mode)  # noqa: E731
    assert gradcheck(padded, (x,), eps=1e-6, atol=1e-6)
    # pad is linear, so its second order is its backward's own linearity: PyTorch's fast check of it
    # (directions drawn at random) finds a wrong one, in a tenth of the time of every element's
    assert gradgradcheck(padded, (x,), eps=1e-6, atol=1e-6, fast_mode=True)


def test_replicate_pads_past_the_input_size():
    """PyTorch repeats an edge any number of times: (5, 5) onto 3 elements."""
    x = chainrule.tensor([[[1.0, 2.0, 3.0]]], requires_grad=True)
    out = chainrule.nn.functional.pad(x, (5, 5), mode="replicate")
    assert out.tolist() == [[[1.0] * 6 + [2.0] + [3.0] * 6]]
    out.sum().backward()
    assert x.grad.tolist() == [[[6.0, 1.0, 6.0]]]


def test_conv3d_same_replicate_with_a_large_dilation():
    """Conv3d(padding='same', padding_mode='replicate') pads dilation · (k - 1) / 2 on each side:
    more than the input's size here, which replicate padding allows."""
    chainrule.manual_seed(0)
    ours = chainrule.nn.Conv3d(2, 3, 3, padding="same", padding_mode="replicate", dilation=(4, 3, 5))
    theirs = torch.nn.Conv3d(2, 3, 3, padding="same", padding_mode="replicate", dilation=(4, 3, 5))
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(ours.weight.detach().numpy()))
        theirs.bias.copy_(torch.tensor(ours.bias.detach().numpy()))
    values = np.random.default_rng(0).standard_normal((1, 2, 3, 2, 4)).astype(np.float32)
    our_input, their_input = chainrule.tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)
    our_output, their_output = ours(our_input), theirs(their_input)
    np.testing.assert_allclose(our_output.detach().numpy(), their_output.detach().numpy(), rtol=1e-5, atol=1e-5)
    our_output.square().sum().backward()
    their_output.square().sum().backward()
    np.testing.assert_allclose(our_input.grad.numpy(), their_input.grad.numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=1e-4, atol=1e-3)


ERRORS = [
    ("reflect", (1, 1, 3), (3, 0)),
    ("reflect", (1, 1, 3), (0, 4)),
    ("reflect", (1, 1, 2, 3), (1, 1, 2, 1)),
    ("reflect", (1, 1, 2, 2, 3), (0, 1, 0, 2, 0, 0)),
    ("reflect", (1, 1, 2, 2, 3), (0, 0, 0, 0, 2, 0)),
    ("reflect", (1, 1, 3), (-2, -1)),
    ("replicate", (1, 1, 3), (-4, 0)),
    ("reflect", (1, 1, 2, 3), (-1, -2, -1, -1)),
    ("replicate", (1, 1, 2, 3), (-1, -3, 0, 0)),
    ("reflect", (1, 0, 3), (1, 1)),
    ("replicate", (0, 3), (1, 1)),
    ("replicate", (1, 1, 0, 3), (1, 1, 0, 0)),
    ("circular", (1, 1, 3), (5, 5)),
    ("circular", (1, 1, 3), (0, 4)),
    ("circular", (1, 1, 3), (-2, -2)),
    ("circular", (1, 1, 2, 2, 3), (1, 1, 1, 1, 4, 1)),
]


@pytest.mark.parametrize("mode, shape, pad", ERRORS)
def test_pad_errors_match_pytorch(mode, shape, pad):
    _, their_error = _run(torch.nn.functional.pad, torch.ones(shape), pad, mode=mode)
    _, our_error = _run(chainrule.nn.functional.pad, chainrule.ones(shape), pad, mode=mode)
    assert their_error is not None and type(our_error) is type(their_error)
    assert str(our_error).startswith(str(their_error)), (str(their_error), str(our_error))


@pytest.mark.parametrize("mode", ("reflect", "replicate", "circular"))
def test_empty_batch_pads(mode):
    assert tuple(chainrule.nn.functional.pad(chainrule.ones(0, 2, 3), (1, 2), mode=mode).shape) == (0, 2, 6)


def test_circular_wrapping_a_cropped_input():
    """(-2, 3) crops 2 of 4 elements and would wrap the 2 left 3 times past the end: PyTorch reads
    memory it never wrote; chainrule refuses with PyTorch's message for wrapping more than once."""
    with pytest.raises(RuntimeError, match="Padding value causes wrapping around more than once"):
        chainrule.nn.functional.pad(chainrule.ones(1, 1, 4), (-2, 3), mode="circular")


def test_circular_crops_before_wrapping_and_reflect_after():
    x = chainrule.tensor([[[0.0, 1.0, 2.0]]])
    assert chainrule.nn.functional.pad(x, (-1, 2), mode="circular").tolist() == [[[1.0, 2.0, 1.0, 2.0]]]
    assert chainrule.nn.functional.pad(x, (-1, 2), mode="reflect").tolist() == [[[1.0, 2.0, 1.0, 0.0]]]
    assert chainrule.nn.functional.pad(x, (-1, 2), mode="replicate").tolist() == [[[1.0, 2.0, 2.0, 2.0]]]


# ----------------------------------------------------------------------------- constant_pad_nd
@pytest.mark.parametrize("shape, pad", [((2, 3), (1, 2)), ((2, 3), (-1, 2, 1, -1)), ((2, 3, 4), (0, 0, 2, 0, -1, 1)), ((), ())])
@pytest.mark.parametrize("value", [0, 2.5])
def test_constant_pad_nd_matches_pytorch(shape, pad, value):
    values = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    theirs_input, ours_input = torch.tensor(values, requires_grad=True), chainrule.tensor(values, requires_grad=True)
    theirs, ours = torch.constant_pad_nd(theirs_input, pad, value), chainrule.constant_pad_nd(ours_input, pad, value)
    np.testing.assert_array_equal(ours.detach().numpy(), theirs.detach().numpy())
    assert ours.grad_fn.name() == theirs.grad_fn.name() == "ConstantPadNdBackward0"
    weights = np.random.default_rng(2).standard_normal(theirs.shape).astype(np.float32)
    (theirs * torch.tensor(weights)).sum().backward()
    (ours * chainrule.tensor(weights)).sum().backward()
    np.testing.assert_array_equal(ours_input.grad.numpy(), theirs_input.grad.numpy())
    double = chainrule.tensor(values.astype(np.float64), requires_grad=True)
    assert gradcheck(lambda x: chainrule.constant_pad_nd(x, pad, value), (double,))
    assert gradgradcheck(lambda x: chainrule.constant_pad_nd(x, pad, value), (double,))


@pytest.mark.parametrize("dtype, value", [("int64", 2.7), ("bool", 1), ("float64", -1)])
def test_constant_pad_nd_keeps_the_dtype(dtype, value):
    theirs = torch.constant_pad_nd(torch.ones(2, 3, dtype=getattr(torch, dtype)), (1, 1), value)
    ours = chainrule.constant_pad_nd(chainrule.ones(2, 3, dtype=getattr(chainrule, dtype)), (1, 1), value)
    assert str(ours.dtype) == str(theirs.dtype).replace("torch", "chainrule")
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("shape, pad", [((2, 3), (1,)), ((2, 3), (1, 1, 1, 1, 1, 1)), ((2, 3), (-2, -2)), ((2, 3), (-4, 1)), ((2, 3), (2, -5))])
def test_constant_pad_nd_errors_match_pytorch(shape, pad):
    _, their_error = _run(torch.constant_pad_nd, torch.ones(shape), pad)
    _, our_error = _run(chainrule.constant_pad_nd, chainrule.ones(shape), pad)
    assert their_error is not None and type(our_error) is type(their_error)
    spaceless = lambda error: str(error).replace(" ", "")  # noqa: E731 (PyTorch's text lacks two spaces)
    assert spaceless(our_error).startswith(spaceless(their_error)), (str(their_error), str(our_error))


def test_functional_pad_constant_is_constant_pad_nd():
    x = chainrule.ones(1, 2, 3, requires_grad=True)
    assert chainrule.nn.functional.pad(x, (1, 1)).grad_fn.name() == "ConstantPadNdBackward0"


# ----------------------------------------------------------------------------- conv padding='same'
def _node_names(output):
    """The names along the first input's path: the node, then each first next function."""
    names, node = [], output.grad_fn
    while node is not None:
        names.append(node.name().replace("torch::autograd::", ""))
        node = node.next_functions[0][0] if node.next_functions else None
    return names


@pytest.mark.parametrize(
    "spatial, kernel, dilation, batched",
    [(1, (2,), (1,), True), (1, (4,), (1,), False), (2, (2, 4), (1, 1), True), (2, (3, 2), (2, 3), False), (2, (3, 3), (1, 2), True), (3, (2, 3, 2), (1, 1, 3), True)],
)
def test_conv_same_pads_then_convolves_as_pytorch(spatial, kernel, dilation, batched):
    shape = ((2,) if batched else ()) + (3,) + (5, 6, 4)[:spatial]
    values = np.random.default_rng(4).standard_normal(shape).astype(np.float32)
    weight = np.random.default_rng(5).standard_normal((2, 3) + kernel).astype(np.float32)
    results = []
    for library in (torch, chainrule):
        x, w = library.tensor(values, requires_grad=True), library.tensor(weight, requires_grad=True)
        convolve = getattr(library.nn.functional, f"conv{spatial}d")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            library.set_warn_always(True)  # a warning given once per process: given every time here
            try:
                y = convolve(x, w, padding="same", dilation=dilation)
            finally:
                library.set_warn_always(False)
        (y * y).sum().backward()
        results.append((y, x.grad, w.grad, _node_names(y), [str(each.message) for each in caught]))
    (theirs, their_input_grad, their_weight_grad, their_names, their_warnings), (ours, *rest) = results
    our_input_grad, our_weight_grad, our_names, our_warnings = rest
    assert our_names == their_names
    assert [each.replace("torch::autograd::", "") for each in our_names[-1:]] == ["AccumulateGrad"]
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(our_input_grad.numpy(), their_input_grad.numpy(), rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(our_weight_grad.numpy(), their_weight_grad.numpy(), rtol=1e-4, atol=1e-3)
    their_same = [message for message in their_warnings if "padding='same'" in message]
    our_same = [message for message in our_warnings if "padding='same'" in message]
    assert bool(our_same) == bool(their_same)
    assert all(message.startswith(their_same[0].split(" (Triggered")[0]) for message in our_same)


def test_conv_same_even_kernel_next_functions():
    x, w = chainrule.ones(1, 2, 5, 5, requires_grad=True), chainrule.ones(3, 2, 2, 4, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y = chainrule.nn.functional.conv2d(x, w, padding="same")
    assert y.grad_fn.name() == "ConvolutionBackward0"
    assert [node.name() if node else None for node, _ in y.grad_fn.next_functions] == ["ConstantPadNdBackward0", "torch::autograd::AccumulateGrad", None]
    assert y.grad_fn.next_functions[0][0].next_functions[0][0].name() == "torch::autograd::AccumulateGrad"



@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("value", [None, 0, 0.0, 1.5])
def test_modes_that_copy_the_input_refuse_a_fill_value_as_pytorch(mode, value):
    """Only None or 0 is accepted as ``value`` by the modes that read the input (PyTorch's check)."""
    data = np.arange(6.0).reshape(1, 2, 3)
    if value is not None and value != 0:
        with pytest.raises(RuntimeError, match=f'Padding mode "{mode}" doesn\'t take in value argument'):
            torch.nn.functional.pad(torch.tensor(data), (1, 1), mode=mode, value=value)
        with pytest.raises(RuntimeError, match=f'Padding mode "{mode}" doesn\'t take in value argument'):
            chainrule.nn.functional.pad(chainrule.tensor(data), (1, 1), mode=mode, value=value)
    else:
        result = chainrule.nn.functional.pad(chainrule.tensor(data), (1, 1), mode=mode, value=value)
        expected = torch.nn.functional.pad(torch.tensor(data), (1, 1), mode=mode, value=value)
        np.testing.assert_array_equal(result.numpy(), expected.numpy())


@pytest.mark.parametrize(
    "pad, mode",
    [((1,), "reflect"), ((1,), "constant"), ((1.5, 1), "constant"), ((True, 1), "constant"), ((np.int64(1), 1), "constant")],
    ids=["odd_reflect", "odd_constant", "float_amount", "bool_amount", "numpy_int_amount"],
)
def test_pad_checks_its_amounts_first_as_pytorch(pad, mode):
    """An odd number of amounts is PyTorch's RuntimeError in every mode; a float or bool amount its TypeError."""
    outcomes = []
    for lib in (chainrule, torch):
        try:
            outcomes.append(tuple(lib.nn.functional.pad(lib.zeros(1, 2, 3), pad, mode=mode).shape))
        except (RuntimeError, TypeError) as error:
            outcomes.append(type(error))
    assert outcomes[0] == outcomes[1]


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular", "constant"])
def test_changing_the_input_in_place_before_backward_is_refused_where_pytorch_saved_it(mode):
    """PyTorch's ReflectionPad/ReplicationPad nodes keep the input (``_saved_self``), so writing into it
    before backward is its "modified by an inplace operation" error (torch-audiomentations'
    ``samples[i] = lowpass(samples[i])`` meets it); circular and constant padding keep nothing."""
    outcomes = {}
    for lib in (chainrule, torch):
        x = lib.arange(12.0).reshape(2, 1, 6).requires_grad_()
        signal = x * 2
        padded = lib.nn.functional.pad(signal[0], (2, 3), mode=mode)
        kept = getattr(padded.grad_fn, "_saved_self", None)
        signal[0] = padded[..., 2:-3] + 1  # the padded input changed in place
        try:
            padded.sum().backward()
            outcomes[lib.__name__] = (kept is not None, x.grad.tolist())
        except RuntimeError as error:
            assert "modified by an inplace operation" in str(error)
            outcomes[lib.__name__] = (kept is not None, "refused")
    assert outcomes["chainrule"] == outcomes["torch"]
    saves_the_input = mode in ("reflect", "replicate")
    assert outcomes["chainrule"][0] == saves_the_input and (outcomes["chainrule"][1] == "refused") == saves_the_input


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_saved_tensors_hooks_see_what_pytorchs_padding_saves(mode):
    packed = {}
    for lib in (chainrule, torch):
        shapes = []
        x = lib.ones(2, 3, 5, requires_grad=True)
        with lib.autograd.graph.saved_tensors_hooks(lambda saved: shapes.append(tuple(saved.shape)) or saved, lambda saved: saved):
            padded = lib.nn.functional.pad(x, (2, 1), mode=mode)
        padded.sum().backward()
        packed[lib.__name__] = shapes
    assert packed["chainrule"] == packed["torch"] == ([(2, 3, 5)] if mode != "circular" else [])
