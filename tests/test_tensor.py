"""The Tensor object: creation, attributes, conversions, repr, in-place rules."""
import warnings

import numpy as np
import pytest
import torch

import chainrule


def test_dtype_inference_matches_torch():
    for data in [1.0, [1.0, 2.0], 3, [1, 2], True, [[1, 2], [3, 4]], np.float64(2.0), np.arange(3)]:
        ours = chainrule.tensor(data)
        theirs = torch.tensor(data)
        assert str(ours.dtype) == str(theirs.dtype).replace("torch.", "chainrule."), data
        assert tuple(ours.shape) == tuple(theirs.shape)


def test_legacy_constructor_is_float32():
    assert chainrule.Tensor([1, 2]).dtype == chainrule.float32
    assert chainrule.Tensor(2, 3).shape == (2, 3)


def test_factories():
    assert chainrule.zeros(2, 3).shape == (2, 3) and chainrule.zeros((2, 3)).dtype == chainrule.float32
    assert chainrule.ones(2, dtype=chainrule.float64).dtype == chainrule.float64
    assert chainrule.full((2,), 7).dtype == chainrule.int64
    assert chainrule.arange(5).dtype == chainrule.int64 and chainrule.arange(0, 1, 0.25).dtype == chainrule.float32
    np.testing.assert_allclose(chainrule.linspace(0, 1, 5)._array, [0, 0.25, 0.5, 0.75, 1])
    np.testing.assert_array_equal(chainrule.eye(2)._array, np.eye(2))
    assert chainrule.randint(0, 10, (3, 4)).dtype == chainrule.int64
    x = chainrule.randn(3, requires_grad=True)
    assert x.requires_grad and x.is_leaf
    assert chainrule.zeros_like(x).shape == (3,) and chainrule.rand_like(x).dtype == chainrule.float32
    array = np.arange(3.0)
    shared = chainrule.from_numpy(array)
    array[0] = 10
    assert shared[0].item() == 10 and shared.dtype == chainrule.float64


def test_manual_seed_reproduces_random_tensors():
    chainrule.manual_seed(1)
    first = chainrule.randn(4)
    chainrule.manual_seed(1)
    np.testing.assert_array_equal(first._array, chainrule.randn(4)._array)
    assert not np.array_equal(first._array, chainrule.randn(4)._array)


def test_attributes_and_conversions():
    x = chainrule.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert x.shape == (2, 3 - 1) and x.size() == (2, 2) and x.size(1) == 2 and x.ndim == 2 and x.numel() == 4
    assert repr(x.shape) == "chainrule.Size([2, 2])"
    assert x.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert x.T.tolist() == [[1.0, 3.0], [2.0, 4.0]]
    assert len(x) == 2 and [row.tolist() for row in x] == [[1.0, 2.0], [3.0, 4.0]]
    assert x.long().dtype == chainrule.int64 and x.double().dtype == chainrule.float64
    assert x.int().dtype == chainrule.int32 and x.bool().dtype == chainrule.bool
    assert x.to(chainrule.float64).dtype == chainrule.float64 and x.type_as(x.long()).dtype == chainrule.int64
    assert np.asarray(x).shape == (2, 2)
    assert chainrule.tensor(2.5).item() == 2.5 and isinstance(chainrule.tensor(3).item(), int)


def test_item_on_many_elements_is_an_error():
    with pytest.raises(RuntimeError, match="4 elements cannot be converted"):
        chainrule.ones(2, 2).item()


def test_requires_grad_rules():
    with pytest.raises(RuntimeError, match="floating point"):
        chainrule.tensor([1, 2], requires_grad=True)
    w = chainrule.tensor(1.0, requires_grad=True)
    y = w * 2
    assert not y.is_leaf
    with pytest.raises(RuntimeError, match="leaf variables"):
        y.requires_grad = False
    x = chainrule.tensor(1.0).requires_grad_()
    assert x.requires_grad


def test_numpy_refuses_tensors_that_require_grad():
    w = chainrule.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="detach"):
        w.numpy()
    assert w.detach().numpy().tolist() == [1.0]


def test_repr_like_pytorch():
    assert repr(chainrule.tensor([1.0, 2.0], requires_grad=True)) == "tensor([1., 2.], requires_grad=True)"
    assert repr(chainrule.tensor([1.5, 2.0])) == "tensor([1.5000, 2.0000])"
    assert repr(chainrule.tensor(3.0)) == "tensor(3.)"
    assert repr(chainrule.tensor([1, 2])) == "tensor([1, 2])"
    assert repr(chainrule.tensor([1.0], dtype=chainrule.float64)) == "tensor([1.], dtype=chainrule.float64)"
    w = chainrule.tensor(2.0, requires_grad=True)
    assert repr(w * 3) == "tensor(6., grad_fn=<MulBackward0>)"
    assert repr(chainrule.tensor([True, False])) == "tensor([ True, False])"
    assert repr(chainrule.tensor([[1.0, 2.0], [3.0, 4.0]])) == "tensor([[1., 2.],\n        [3., 4.]])"


def test_data_is_a_tensor_without_history_sharing_memory():
    w = chainrule.tensor([1.0, 2.0], requires_grad=True)
    data = w.data
    assert isinstance(data, chainrule.Tensor) and not data.requires_grad
    data[0] = 5.0
    assert w[0].item() == 5.0
    w.data = w.data - 0.5
    assert w.is_leaf and w.requires_grad and w.tolist() == [4.5, 1.5]


def test_in_place_on_leaf_that_requires_grad_needs_no_grad():
    w = chainrule.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        w.add_(1.0)
    with chainrule.no_grad():
        w.sub_(0.5)
    assert w.tolist() == [0.5]


def test_in_place_after_save_is_detected_at_backward():
    x = chainrule.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()
    y.mul_(2)  # exp saved its output, which has now changed
    with pytest.raises(RuntimeError, match="modified by an inplace operation.*ExpBackward"):
        y.sum().backward()


def test_in_place_on_intermediate_is_recorded_like_torch():
    def run(lib, values):
        x = lib.tensor(values, requires_grad=True)
        y = x * 2
        y.add_(1)
        y.mul_(x)
        (y * y).sum().backward()
        return y.detach(), x.grad

    ours = run(chainrule, [1.0, -2.0])
    theirs = run(torch, [1.0, -2.0])
    np.testing.assert_allclose(ours[0]._array, theirs[0].numpy())
    np.testing.assert_allclose(ours[1]._array, theirs[1].numpy())


def test_in_place_updates_bump_version():
    x = chainrule.zeros(2)
    before = x._version
    x.add_(1).mul_(3)
    assert x._version == before + 2 and x.tolist() == [3.0, 3.0]
    x.zero_()
    assert x.tolist() == [0.0, 0.0]
    x.fill_(2.5)
    x.clamp_(max=1.0)
    assert x.tolist() == [1.0, 1.0]
    x.copy_(chainrule.tensor([4.0, 5.0]))
    assert x.tolist() == [4.0, 5.0]
    with pytest.raises(RuntimeError, match="can't be cast"):
        chainrule.tensor([1, 2]).add_(0.5)


def test_normal_and_uniform_fill_in_place():
    x = chainrule.empty(10_000).normal_(2.0, 0.5)
    assert abs(x._array.mean() - 2.0) < 0.05 and abs(x._array.std() - 0.5) < 0.05
    u = chainrule.empty(10_000).uniform_(-1, 1)
    assert u._array.min() >= -1 and u._array.max() < 1


def test_detach_and_clone():
    w = chainrule.tensor([1.0, 2.0], requires_grad=True)
    d = w.detach()
    assert not d.requires_grad and d.is_leaf
    c = w.clone()
    assert c.grad_fn is not None
    (c * 3).sum().backward()
    assert w.grad.tolist() == [3.0, 3.0]


def test_course_device_idiom_runs_on_cpu():
    device = chainrule.device("cuda" if chainrule.cuda.is_available() else "cpu")
    assert repr(device) == "device(type='cpu')" and device.type == "cpu"
    model = chainrule.nn.Linear(2, 1).to(device)
    x = chainrule.ones(3, 2).to(device)
    assert model(x).shape == (3, 1) and x.device == "cpu"
    with pytest.raises(AssertionError, match="Torch not compiled with CUDA enabled"):
        x.to("cuda")


def test_dtypes_print_and_compare_as_pytorch_and_numpy_takes_them():
    import pickle

    x = chainrule.ones(2)
    assert str(x.dtype) == "chainrule.float32" == repr(chainrule.float32)
    assert x.dtype is chainrule.float32 and isinstance(x.dtype, chainrule.dtype)
    assert x.dtype == np.float32 and np.dtype("float32") == x.dtype and x.dtype != chainrule.float64
    assert chainrule.float32.is_floating_point and not chainrule.int64.is_floating_point
    assert chainrule.int8.is_signed and not chainrule.uint8.is_signed and chainrule.float16.itemsize == 2
    assert torch.float32.is_floating_point and torch.int8.is_signed  # the same attributes as PyTorch's
    assert np.zeros(2, dtype=chainrule.int32).dtype == np.int32
    assert pickle.loads(pickle.dumps(chainrule.float64)) is chainrule.float64
    assert {chainrule.float32: "f"}[x._array.dtype] == "f"


def test_module_load_copies_into_the_parameter_or_gives_the_value_itself_as_pytorch():
    for library in (chainrule, torch):
        target, value = library.zeros(3, requires_grad=True), library.arange(3.0)
        with library.no_grad():
            loaded = target.module_load(value)
        assert loaded is not target and loaded.tolist() == target.tolist() == [0.0, 1.0, 2.0] and not loaded.requires_grad
        assigned = target.module_load(value * 2, assign=True)
        assert assigned.tolist() == [0.0, 2.0, 4.0] and not assigned.requires_grad


def test_float_of_a_tensor_requiring_grad_warns_once_as_pytorch(monkeypatch):
    import math

    from chainrule import caller_warnings

    monkeypatch.setattr(caller_warnings, "_given", set())
    loss = chainrule.tensor(2.0, requires_grad=True) * 1.5
    with pytest.warns(UserWarning, match="Converting a tensor with requires_grad=True to a scalar") as caught:
        assert math.exp(loss) == pytest.approx(math.exp(3.0))
    assert caught[0].filename == __file__
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        float(loss)  # once per process
        assert loss.item() == 3.0 and int(loss) == 3
        monkeypatch.setattr(caller_warnings, "_given", set())
        float(loss.detach())  # no grad: no warning
        with chainrule.no_grad():
            float(loss)  # nor under no_grad, as in PyTorch (LBFGS reads its loss there)


def test_a_meta_tensor_keeps_shape_and_dtype_without_values_as_pytorchs():
    for lib in (chainrule, torch):
        layer = lib.nn.Linear(2, 3).to("meta")
        assert layer.weight.is_meta and str(layer.weight.device) == "meta" and layer.weight.requires_grad
        assert isinstance(layer.weight, lib.nn.Parameter) and tuple(layer.weight.shape) == (3, 2)
        x = lib.ones(2, dtype=lib.float64).to("meta")
        assert (x * 2).is_meta and x.dtype == lib.float64 and not lib.ones(2).is_meta
        with pytest.raises(NotImplementedError, match="no data"):
            x.tolist()
        with pytest.raises(RuntimeError):
            x.sum().item()
        with pytest.raises(TypeError, match="numpy"):
            x.numpy()
        assert repr(x).replace("torch.", "chainrule.") == "tensor(..., device='meta', size=(2,), dtype=chainrule.float64)"
    assert repr(chainrule.nn.Linear(2, 3).to("meta").weight.data) == "tensor(..., device='meta', size=(3, 2))"


def test_named_results_and_classes_print_as_pytorchs():
    x = [[1.0, 3.0], [2.0, 0.0]]
    for call in (lambda lib: lib.max(lib.tensor(x), 1), lambda lib: lib.tensor(x).sort(1), lambda lib: lib.linalg.svd(lib.eye(2))):
        assert repr(call(chainrule)).replace("chainrule", "torch") == repr(call(torch))
    result = chainrule.max(chainrule.tensor(x), 1)
    values, indices = result
    assert result.values is values and type(result) is chainrule.return_types.max
    import pickle

    assert pickle.loads(pickle.dumps(result)).indices.tolist() == [1, 0]
    for ours, theirs in ((type(chainrule.ones(1)), torch.Tensor), (chainrule.Size, torch.Size), (chainrule.dtype, torch.dtype), (chainrule.device, torch.device)):
        assert repr(ours).replace("chainrule", "torch") == repr(theirs)


def test_top_level_in_place_functions_and_factories_writing_into_out():
    for lib in (chainrule, torch):
        x = lib.tensor([0.0, 1.0, -2.0])
        assert lib.sin_(x) is x and lib.exp_(x) is x
        y = lib.tensor([-1.0, 0.5, 2.0])
        assert lib.clamp_min(y, 0).tolist() == [0.0, 0.5, 2.0] and lib.clamp_max(y, 1).tolist() == [-1.0, 0.5, 1.0]
        lib.clamp_min_(y, 0)
        lib.zero_(x)
        lib.fill_(y, 3.0)
        assert x.tolist() == [0.0, 0.0, 0.0] and y.tolist() == [3.0, 3.0, 3.0]
        out = lib.empty(2, 2)
        assert lib.ones(2, 2, out=out) is out and out.tolist() == [[1.0, 1.0], [1.0, 1.0]]
        assert lib.arange(3, out=lib.empty(5)).tolist() == [0.0, 1.0, 2.0]  # resized to the result


def test_slices_sums_and_repeats_of_a_size_are_sizes_as_in_pytorch():
    for lib in (chainrule, torch):
        shape = lib.zeros(2, 3, 4).shape
        for derived in (shape[1:], shape[::2], shape + (5,), (1,) + shape, shape + shape, shape * 2, 2 * shape):
            assert type(derived) is lib.Size
        assert shape[1:] == (3, 4) and (1,) + shape == (1, 2, 3, 4) and type(shape[0]) is int
        with pytest.raises(TypeError):
            shape + [1]
