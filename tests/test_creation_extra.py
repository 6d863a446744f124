"""Factories added for PyTorch parity: logspace, the deprecated range (and its warning), asarray
(sharing memory as PyTorch does), the signal windows (hann_window...), and the global generator's
state (get_rng_state / set_rng_state)."""
import warnings

import numpy as np
import pytest
import torch

import chainrule


@pytest.mark.parametrize(
    "call",
    [
        lambda lib: lib.logspace(0, 2, 3),
        lambda lib: lib.logspace(-2, 2, steps=5, base=3.0),
        lambda lib: lib.logspace(0, 2, 3, dtype=lib.int64),
        lambda lib: lib.logspace(0, 1, 0),
        lambda lib: lib.logspace(0.5, 1.5, 4, dtype=lib.float64),
        lambda lib: lib.asarray([1, 2]),
        lambda lib: lib.asarray([1.0, 2.0]),
        lambda lib: lib.asarray(3.0),
        lambda lib: lib.asarray([[True]]),
        lambda lib: lib.asarray(np.arange(3.0)),
        lambda lib: lib.asarray([1, 2], dtype=lib.float64),
        *[
            (lambda lib, name=name, length=length, periodic=periodic: getattr(lib, name)(length, periodic))
            for name in ("hann_window", "hamming_window", "blackman_window", "bartlett_window", "kaiser_window")
            for length in (0, 1, 2, 5, 8)
            for periodic in (True, False)
        ],
        lambda lib: lib.hamming_window(6, True, 0.6, 0.4, dtype=lib.float64),
        lambda lib: lib.kaiser_window(7, False, 5.0),
        lambda lib: lib.hann_window(4, requires_grad=True).detach(),
        lambda lib: lib.blackman_window(window_length=5, periodic=False, dtype=lib.float64),
    ],
)
def test_values_and_dtypes_match_pytorch(call):
    ours, theirs = call(chainrule), call(torch)
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6, atol=1e-7)  # atol: a window's 0 is float32 noise there


@pytest.mark.parametrize("args, kwargs", [
    ((0, 3), {}), ((1, 4, 1.5), {}), ((0, 3), {"dtype": "int64"}), ((0, 1, 0.25), {"dtype": "float64"}), (("0-d", 2), {}),
])
def test_range_includes_the_end_and_warns_that_it_is_deprecated(args, kwargs):
    results = []
    for lib in (chainrule, torch):
        keywords = {key: getattr(lib, value) for key, value in kwargs.items()}
        given = [lib.tensor(0) if each == "0-d" else each for each in args]
        with pytest.warns(UserWarning, match="torch.range is deprecated and will be removed in a future release"):
            results.append(lib.range(*given, **keywords))
    ours, theirs = results
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_asarray_shares_memory_where_pytorch_does():
    array = np.arange(3.0)
    shared = chainrule.asarray(array)
    array[0] = 9.0
    assert shared._array[0] == 9.0
    copied = chainrule.asarray(array, copy=True)
    array[1] = 7.0
    assert copied._array[1] == 1.0
    x = chainrule.tensor([1.0, 2.0])
    assert chainrule.asarray(x) is x
    assert chainrule.asarray(x, dtype=chainrule.float64).dtype == chainrule.float64
    assert chainrule.asarray([1.0], requires_grad=True).requires_grad
    with pytest.raises(ValueError, match="copy=False"):
        chainrule.asarray([1.0, 2.0], copy=False)


def test_asarray_of_a_tensor_in_a_graph_as_pytorch_213():
    """requires_grad=False detaches (the same memory), True keeps the graph; left unsaid it is the
    tensor's own, with PyTorch's warning about that change."""
    outcomes = []
    for lib in (torch, chainrule):
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        b = a * 2
        detached, kept = lib.asarray(b, requires_grad=False), lib.asarray(b, requires_grad=True)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            lib.set_warn_always(True)  # PyTorch warns once per process otherwise
            try:
                unsaid = lib.asarray(b)
            finally:
                lib.set_warn_always(False)
        outcomes.append((
            detached.requires_grad, detached.data_ptr() == b.data_ptr(), kept is b, unsaid.requires_grad,
            type(unsaid.grad_fn).__name__, lib.asarray(a.detach(), requires_grad=True).is_leaf,
            any("unspecified requires_grad now defaults to obj.requires_grad" in str(w.message) for w in caught),
        ))
    assert outcomes[0] == outcomes[1]

def test_rng_state_replays_the_same_numbers():
    state = chainrule.get_rng_state()
    assert state.dtype == chainrule.uint8 and state.ndim == 1
    first = chainrule.rand(4)
    chainrule.set_rng_state(state)
    np.testing.assert_array_equal(chainrule.rand(4)._array, first._array)
    with pytest.raises(TypeError, match="set_rng_state expected a torch.ByteTensor"):
        chainrule.set_rng_state(chainrule.ones(3))
    with pytest.raises(RuntimeError, match="not a state from chainrule.get_rng_state"):
        chainrule.set_rng_state(chainrule.tensor([1, 2], dtype=chainrule.uint8))


@pytest.mark.parametrize("name", ["zeros", "ones", "empty", "rand", "randn"])
def test_factories_take_their_sizes_as_the_size_keyword_too_as_pytorch(name):
    ours, theirs = getattr(chainrule, name)(size=(2, 3)), getattr(torch, name)(size=(2, 3))
    assert tuple(ours.shape) == tuple(theirs.shape) == (2, 3)
    assert str(ours.dtype).split(".")[1] == str(theirs.dtype).split(".")[1]
    with pytest.raises(TypeError):
        getattr(chainrule, name)(2, size=(3,))


@pytest.mark.parametrize("value", [3, 2.5, True])
def test_scalar_tensor_is_a_0d_float_tensor_as_pytorch(value):
    ours, theirs = chainrule.scalar_tensor(value), torch.scalar_tensor(value)
    assert ours.shape == () and str(ours.dtype) == "chainrule.float32" and ours.item() == theirs.item()
    assert chainrule.scalar_tensor(value, dtype=chainrule.float64).dtype == chainrule.float64


@pytest.mark.parametrize("name", ["hann_window", "hamming_window", "blackman_window", "bartlett_window", "kaiser_window"])
def test_windows_refuse_what_pytorch_refuses(name):
    for lib in (chainrule, torch):
        with pytest.raises(RuntimeError, match=f"{name} requires non-negative window_length, got window_length=-1"):
            getattr(lib, name)(-1)
        with pytest.raises(RuntimeError, match=f"{name} expects floating point dtypes"):
            getattr(lib, name)(4, dtype=lib.int64)
    assert chainrule.hann_window(3, requires_grad=True).requires_grad


@pytest.mark.parametrize(
    "array", [np.array(["a", "b"]), np.array([None, 1], dtype=object), np.array([1, 2], dtype="datetime64[s]"), np.array(b"x")]
)
@pytest.mark.parametrize("make", ["tensor", "as_tensor", "from_numpy"])
def test_arrays_of_strings_objects_and_dates_are_refused_as_pytorch_refuses_them(array, make):
    for lib in (chainrule, torch):
        with pytest.raises(TypeError, match="can't convert np.ndarray of type numpy"):
            getattr(lib, make)(array)


@pytest.mark.parametrize("call", [lambda lib, t: lib.tensor(t), lambda lib, t: t.new_tensor(t)])
def test_a_tensor_made_from_a_tensor_warns_with_pytorchs_advice(call):
    messages = []
    for lib in (chainrule, torch):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            copy = call(lib, lib.ones(2, requires_grad=True))
        messages.append([str(warning.message) for warning in caught])
        assert not copy.requires_grad
        if lib is chainrule:
            assert [warning.filename for warning in caught] == [__file__]
    assert messages[0] == messages[1]


@pytest.mark.parametrize("value, dtype", [(-3, "uint8"), (1e5, "float16"), (300, "int8"), (2.7, "int64"), (float("nan"), "int32"), (True, "float32"), (-1, "uint8")])
def test_full_converts_its_value_as_pytorch(value, dtype):
    """full and full_like wrap, truncate or refuse a number that does not fit the dtype as PyTorch does."""
    results = []
    for lib in (chainrule, torch):
        try:
            results.append((lib.full((2,), value, dtype=getattr(lib, dtype)).tolist(),
                            lib.full_like(lib.zeros(2, dtype=getattr(lib, dtype)), value).tolist()))
        except RuntimeError as error:
            results.append(("RuntimeError", str(error).split(" (")[0].split(" without")[0]))
    assert results[0] == results[1]


def test_from_file_reads_raw_bytes_and_maps_them_when_shared(tmp_path):
    path = tmp_path / "values.bin"
    outcomes = []
    for lib in (torch, chainrule):
        np.arange(10, dtype=np.float64).tofile(path)
        copied = lib.from_file(str(path), shared=False, size=10, dtype=lib.float64)
        mapped = lib.from_file(str(path), shared=True, size=4, dtype=lib.float64)
        mapped[0] = 100.0  # written into the file
        copied[1] = 55.0  # not
        errors = []
        for call in (lambda: lib.from_file(str(path), size=100, dtype=lib.float64), lambda: lib.from_file(str(tmp_path / "none"), size=2)):
            with pytest.raises(RuntimeError) as raised:
                call()
            errors.append(str(raised.value).split(" (")[0])
        outcomes.append((copied.tolist(), np.fromfile(path)[:3].tolist(), lib.from_file(str(path), size=3).dtype == lib.float32,
                         tuple(lib.from_file(str(path)).shape), errors))
    assert outcomes[0] == outcomes[1]


def test_as_strided_scatter_native_channel_shuffle_and_to_sparse_coo_as_pytorch():
    results = []
    for lib in (torch, chainrule):
        x = lib.arange(8.0).reshape(1, 4, 2)
        results.append((
            lib.as_strided_scatter(lib.zeros(3, 3), lib.ones(2), (2,), (1,), 1).tolist(),
            lib.native_channel_shuffle(x, 2).tolist(), lib.nn.functional.native_channel_shuffle(x, 2).tolist(),
            lib.tensor([[0.0, 1.0], [2.0, 0.0]]).to_sparse_coo().to_dense().tolist(),
        ))
    assert results[0] == results[1]
