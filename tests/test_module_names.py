"""Module-level names that course code uses, checked against PyTorch: constants, legacy typed
constructors, finfo/iinfo, device and backend switches, tensor queries, format specs."""
import contextlib
import math
import warnings

import numpy as np
import pytest
import torch

import chainrule
from chainrule.legacy_types import convert_type


def test_constants_are_pythons_floats_as_in_pytorch():
    for name in ("pi", "e", "inf", "nan"):
        ours, theirs = getattr(chainrule, name), getattr(torch, name)
        assert type(ours) is type(theirs) is float
        assert ours == theirs or (math.isnan(ours) and math.isnan(theirs))


LEGACY = ["FloatTensor", "DoubleTensor", "HalfTensor", "LongTensor", "IntTensor", "ShortTensor", "CharTensor", "ByteTensor", "BoolTensor"]


@pytest.mark.parametrize("name", LEGACY)
@pytest.mark.parametrize("data", [[1, 0, 2], [[1.7, -1.7]], [True, False], (2, 3), np.array([1.5, 0.0])], ids=repr)
def test_legacy_constructors_convert_data_as_pytorch_does(name, data):
    if name == "ByteTensor" and np.min(data) < 0:
        pytest.skip("PyTorch refuses negative values for uint8; NumPy wraps them")
    ours, theirs = getattr(chainrule, name)(data), getattr(torch, name)(data)
    assert str(ours.dtype) == str(theirs.dtype).replace("torch.", "chainrule.")
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("name", LEGACY)
def test_legacy_constructors_with_sizes_make_uninitialized_tensors(name):
    for sizes in [(3,), (2, 3), (chainrule.Size([2, 3]),), ()]:
        ours = getattr(chainrule, name)(*sizes)
        theirs = getattr(torch, name)(*[torch.Size(s) if isinstance(s, chainrule.Size) else s for s in sizes])
        assert tuple(ours.shape) == tuple(theirs.shape) and str(ours.dtype) == str(theirs.dtype).replace("torch.", "chainrule.")


def test_legacy_constructors_read_sizes_as_pytorch_does():
    """A size may be an integer tensor of one element or a NumPy integer (Fleuret's course prologue:
    ``input.new(n, 1, 14, 14)`` with ``n`` a tensor); floats, bools and longer tensors are not sizes."""

    def run(L):
        n = L.tensor(4)
        shapes = [tuple(L.zeros(3).new(2, n).shape), tuple(L.Tensor(2, n).shape), tuple(L.FloatTensor(2, n).shape),
                  tuple(L.LongTensor(n, 1).shape), tuple(L.Tensor(np.int64(2), 3).shape), tuple(L.Tensor(2, L.tensor([2])).shape)]
        refused = []
        for call in (lambda: L.Tensor(2, L.tensor(2.0)), lambda: L.Tensor(True, 2), lambda: L.FloatTensor(-1, n),
                     lambda: L.Tensor(2, L.tensor([2, 3]))):
            try:
                call()
            except (TypeError, RuntimeError) as error:
                refused.append(type(error).__name__)
        return shapes, refused

    assert run(chainrule) == run(torch)


def test_torch_functional_names_nn_functional_f_as_pytorchs_module_does():
    pooled = chainrule.functional.F.avg_pool2d(chainrule.ones(1, 1, 4, 4), kernel_size=2)
    assert chainrule.functional.F is chainrule.nn.functional and tuple(pooled.shape) == (1, 1, 2, 2)
    assert torch.functional.F is torch.nn.functional
    with pytest.raises(AttributeError):
        chainrule.functional.no_such_name


def test_isinstance_asks_the_dtype_as_pytorchs_metaclass_does():
    x = chainrule.FloatTensor([1, 2])
    assert isinstance(x, chainrule.FloatTensor) and isinstance(x, chainrule.Tensor)
    assert not isinstance(x, chainrule.DoubleTensor) and not isinstance([1.0], chainrule.FloatTensor)
    assert isinstance(chainrule.nn.Parameter(chainrule.zeros(2)), chainrule.FloatTensor)
    assert isinstance(chainrule.tensor([1, 2]), chainrule.LongTensor)
    assert not issubclass(chainrule.FloatTensor, chainrule.Tensor)
    assert chainrule.LongTensor.dtype == chainrule.int64
    assert repr(chainrule.FloatTensor) == "<class 'chainrule.FloatTensor'>"


def test_a_legacy_constructor_shares_a_tensor_of_its_dtype_and_refuses_another():
    x = chainrule.tensor([1.0, 2.0])
    shared = chainrule.FloatTensor(x)
    shared[0] = 5.0
    assert x[0].item() == 5.0
    with pytest.raises(TypeError, match="to\\(chainrule.float32\\)"):
        chainrule.FloatTensor(chainrule.tensor([1, 2]))
    with pytest.raises(TypeError, match="sequence"):
        chainrule.FloatTensor(3.5)
    with pytest.raises(RuntimeError, match="negative dimension"):
        chainrule.FloatTensor(-1)
    with pytest.raises(RuntimeError, match="cuda"):
        chainrule.FloatTensor([1.0], device="cuda")


@pytest.mark.parametrize("target", ["torch.LongTensor", "torch.DoubleTensor", "torch.BoolTensor", "chainrule.IntTensor"])
def test_type_converts_by_legacy_name_or_class_as_pytorch(target):
    values = [1.5, -2.0, 0.0]
    theirs = torch.tensor(values).type(target.replace("chainrule.", "torch."))
    for ours in (convert_type(chainrule.tensor(values), target), convert_type(chainrule.tensor(values), getattr(chainrule, target.split(".")[1]))):
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
        assert convert_type(ours) == theirs.type().replace("torch.", "chainrule.")


def test_type_refuses_an_unknown_name_with_pytorchs_error():
    with pytest.raises(ValueError, match="invalid type: 'torch.Foo'"):
        convert_type(chainrule.tensor([1.0]), "torch.Foo")


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_finfo_has_pytorchs_attributes_and_values(dtype):
    ours, theirs = chainrule.finfo(getattr(chainrule, dtype)), torch.finfo(getattr(torch, dtype))
    for attribute in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution", "dtype"):
        assert getattr(ours, attribute) == getattr(theirs, attribute), attribute
    assert repr(ours) == repr(theirs)


def test_finfo_without_argument_describes_the_default_dtype():
    assert chainrule.finfo().eps == torch.finfo().eps


@pytest.mark.parametrize("dtype", ["uint8", "int8", "int16", "int32", "int64"])
def test_iinfo_has_pytorchs_attributes_and_values(dtype):
    ours, theirs = chainrule.iinfo(getattr(chainrule, dtype)), torch.iinfo(getattr(torch, dtype))
    for attribute in ("bits", "min", "max", "dtype"):
        assert getattr(ours, attribute) == getattr(theirs, attribute), attribute
    assert repr(ours) == repr(theirs)


def test_finfo_and_iinfo_refuse_the_other_kind():
    with pytest.raises(TypeError, match="iinfo"):
        chainrule.finfo(chainrule.int32)
    with pytest.raises(TypeError, match="finfo"):
        chainrule.iinfo(chainrule.float32)


def test_device_and_backend_switches_read_as_on_a_machine_without_gpu():
    assert chainrule.accelerator.is_available() is torch.accelerator.is_available() is False
    assert chainrule.accelerator.device_count() == 0 and chainrule.accelerator.current_accelerator() is None
    assert chainrule.backends.mps.is_available() is False
    assert chainrule.backends.cudnn.enabled is True
    chainrule.backends.cudnn.benchmark = True
    chainrule.backends.cudnn.deterministic = True
    assert chainrule.backends.cudnn.benchmark and chainrule.backends.cudnn.deterministic
    chainrule.backends.cudnn.benchmark = chainrule.backends.cudnn.deterministic = False


def test_default_device_is_the_cpu_and_only_the_cpu_can_be_set():
    assert chainrule.get_default_device() == "cpu" and chainrule.get_default_device().type == "cpu"
    chainrule.set_default_device("cpu")
    chainrule.set_default_device(None)
    chainrule.set_default_device("cuda")  # accepted, as PyTorch accepts it without CUDA
    try:
        with pytest.raises(AssertionError, match="Torch not compiled with CUDA enabled"):  # PyTorch's, at the first tensor made
            chainrule.zeros(1)
    finally:
        chainrule.set_default_device(None)


def test_default_dtype_round_trips():
    chainrule.set_default_dtype(chainrule.float64)
    try:
        assert chainrule.get_default_dtype() == chainrule.float64 and chainrule.tensor(1.0).dtype == chainrule.float64
    finally:
        chainrule.set_default_dtype(chainrule.float32)


def test_tensor_queries_as_functions():
    assert chainrule.is_tensor(chainrule.zeros(1)) and not chainrule.is_tensor([1.0])
    assert chainrule.is_tensor(chainrule.nn.Parameter(chainrule.zeros(1)))
    assert chainrule.is_floating_point(chainrule.zeros(1)) and not chainrule.is_floating_point(chainrule.tensor([1]))
    assert chainrule.numel(chainrule.zeros(2, 3)) == torch.numel(torch.zeros(2, 3)) == 6
    with pytest.raises(TypeError, match="must be Tensor, not list"):
        chainrule.numel([1, 2])


@pytest.mark.parametrize(
    "values, spec",
    [(3.14159, ".3f"), (2.0, ""), (2.0, ".1e"), (3, "d"), (3, ".2f"), (True, ""), (True, "d"), (-7.25, ">10.2f")],
    ids=repr,
)
def test_format_spec_on_a_0d_tensor_formats_its_number_as_pytorch(values, spec):
    assert format(chainrule.tensor(values), spec) == format(torch.tensor(values), spec)


def test_format_spec_on_a_tensor_with_dimensions_is_refused_as_pytorch_refuses_it():
    assert format(chainrule.tensor([2.0]), "") == str(chainrule.tensor([2.0])) == "tensor([2.])"
    with pytest.raises(TypeError, match="Tensor.__format__"):
        format(torch.tensor([2.5]), ".2f")
    with pytest.raises(TypeError, match="Tensor.__format__.*0-d"):
        format(chainrule.tensor([2.5]), ".2f")


def test_format_spec_on_a_tensor_in_the_graph_formats_its_value():
    loss = chainrule.tensor(2.0, requires_grad=True) * 2
    assert format(loss, ".1f") == "4.0"


@pytest.mark.parametrize("function", ["allclose", "isclose", "equal"])
def test_closeness_functions_agree_with_pytorch(function):
    pairs = [([1.0, 2.0], [1.0, 2.0 + 1e-6]), ([1.0, np.nan], [1.0, np.nan]), ([1.0, 2.0], [1.0, 2.1]), ([0.0], [1e-9])]
    for a, b in pairs:
        ours = getattr(chainrule, function)(chainrule.tensor(a), chainrule.tensor(b))
        theirs = getattr(torch, function)(torch.tensor(a), torch.tensor(b))
        if function == "isclose":
            np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
        else:
            assert ours == theirs


@pytest.mark.parametrize(
    "call",
    [
        ("new_tensor", ([1.5, 2.7],), {}),
        ("new_tensor", ([1, 2],), {"dtype": "float64"}),
        ("new_zeros", (2, 3), {}),
        ("new_zeros", ((2, 3),), {"dtype": "int32"}),
        ("new_ones", ([2],), {}),
        ("new_ones", (2,), {"requires_grad": True}),
        ("new_full", ((2,), 3.5), {}),
        ("new_full", ([2, 1], -1), {}),
        ("new_empty", (0,), {}),
    ],
    ids=repr,
)
@pytest.mark.parametrize("source", [[1, 2], [1.0, 2.0]], ids=["int64", "float32"])
def test_new_factories_take_the_dtype_of_their_tensor_as_pytorch(call, source):
    from chainrule import new_factories

    name, args, options = call

    def ours():
        dtype_options = {key: getattr(chainrule, value) if key == "dtype" else value for key, value in options.items()}
        return getattr(new_factories, name)(chainrule.tensor(source), *args, **dtype_options)

    def theirs():
        dtype_options = {key: getattr(torch, value) if key == "dtype" else value for key, value in options.items()}
        return getattr(torch.tensor(source), name)(*args, **dtype_options)

    if options.get("requires_grad") and isinstance(source[0], int):
        for make in (ours, theirs):
            with pytest.raises(RuntimeError, match="(?i)only tensors of floating point"):
                make()
        return
    ours, theirs = ours(), theirs()
    assert str(ours.dtype) == str(theirs.dtype).replace("torch.", "chainrule.") and tuple(ours.shape) == tuple(theirs.shape)
    assert ours.requires_grad == theirs.requires_grad
    if name != "new_empty":
        np.testing.assert_array_equal(ours.detach().numpy(), theirs.detach().numpy())


def test_new_full_wants_its_size_as_a_tuple_as_pytorch():
    from chainrule import new_factories

    with pytest.raises(TypeError, match="tuple of ints"):
        torch.tensor([1]).new_full(2, 3)
    with pytest.raises(TypeError, match="tuple of ints"):
        new_factories.new_full(chainrule.tensor([1]), 2, 3)


@pytest.mark.parametrize(
    "args", [("foo",), ("cuda:x",), ("cpu", -1), ("cuda:1",), ("cpu:0",), ("CPU",), ("cuda", 2), ("cuda:0", 1), ("mps",), ("cuda:-1",), (" cpu",), ("cpu:",)]
)
def test_device_names_are_parsed_and_refused_as_pytorchs(args):
    try:
        expected = repr(torch.device(*args))
    except RuntimeError as error:
        with pytest.raises(RuntimeError) as raised:
            chainrule.device(*args)
        assert str(raised.value) == str(error)
    else:
        assert repr(chainrule.device(*args)) == expected


def test_backend_switches_read_and_restore_as_pytorchs():
    for lib in (chainrule, torch):
        assert lib.backends.cuda.matmul.allow_tf32 is False and lib.backends.cuda.is_built() in (False, torch.backends.cuda.is_built())
        with lib.backends.cudnn.flags(enabled=True, deterministic=True, allow_tf32=False):
            assert lib.backends.cudnn.deterministic is True and lib.backends.cudnn.allow_tf32 is False
        assert lib.backends.cudnn.deterministic is False and lib.backends.cudnn.allow_tf32 is True
        with lib.backends.cuda.sdp_kernel(enable_flash=False) if lib is chainrule else contextlib.nullcontext():
            if lib is chainrule:
                assert not lib.backends.cuda.flash_sdp_enabled() and lib.backends.cuda.math_sdp_enabled()
        assert lib.backends.cuda.flash_sdp_enabled()
    chainrule.backends.cuda.matmul.allow_tf32 = True  # nanoGPT's first lines
    chainrule.backends.cuda.matmul.allow_tf32 = False


def test_set_default_tensor_type_sets_the_default_dtype_as_pytorch(monkeypatch):
    import chainrule.caller_warnings

    monkeypatch.setattr(chainrule.caller_warnings, "_given", set())
    with pytest.warns(UserWarning, match="set_default_tensor_type\\(\\) is deprecated"):  # once per process, as PyTorch
        chainrule.set_default_tensor_type("torch.DoubleTensor")
    try:
        for lib in (chainrule, torch):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                lib.set_default_tensor_type("torch.DoubleTensor")
                assert lib.tensor([1.0]).dtype == lib.float64
                lib.set_default_tensor_type(lib.FloatTensor)
                assert lib.get_default_dtype() == lib.float32
                for refused in ("torch.LongTensor", "torch.cuda.FloatTensor"):
                    with pytest.raises(TypeError):
                        lib.set_default_tensor_type(refused)
                assert lib.get_default_dtype() == lib.float32
    finally:
        chainrule.set_default_dtype(chainrule.float32)
        torch.set_default_dtype(torch.float32)


def test_tensor_new_is_the_legacy_constructor_of_its_dtype():
    for lib in (chainrule, torch):
        floats, longs = lib.ones(2, requires_grad=True), lib.ones(2, dtype=lib.int64)
        assert floats.new().shape == (0,) and floats.new().dtype == lib.float32
        assert floats.new(2, 3).shape == (2, 3) and floats.new(lib.Size([4])).shape == (4,)
        assert floats.new([1, 2]).tolist() == [1.0, 2.0] and longs.new([1.5]).tolist() == [1]
        assert not floats.new(2).requires_grad
        shared = lib.zeros(3)
        assert floats.new(shared).data_ptr() == shared.data_ptr()
        with pytest.raises(TypeError):
            floats.new(longs)
