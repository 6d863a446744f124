"""A sweep of the default dtype and of device arguments against PyTorch (the oracle):
``set_default_dtype`` / ``get_default_dtype`` (float64, float16 and back; integer, bool and
non-dtype arguments refused) and what the default decides: ``tensor()`` of Python floats and of
mixed int/float lists (NumPy arrays and NumPy scalars keep their dtype), the floating factories
(``zeros`` / ``ones`` / ``empty`` / ``rand`` / ``randn`` / ``arange`` of floats / ``linspace`` /
``logspace`` / ``full`` of a float / ``eye`` / ``Tensor()``), Python-scalar promotion
(``int_tensor * 2.5``, ``int_tensor / 2``, ``result_type``), ``promote_types``, ``finfo()``, the
parameters and buffers of layers built under it (``Linear``, ``Conv2d``, ``BatchNorm``, ``LSTM``...)
and an optimizer's scalar state; the deprecated ``set_default_tensor_type`` (and its warning);
``torch.device`` objects (``'cpu'``, ``'cpu:0'``, ``device('cpu', 0)``, ``.type`` / ``.index``,
equality, hashing, ``str`` / ``repr``, pickling, bad names), ``tensor.device`` / ``is_cpu`` /
``get_device()``, the ``device=`` keyword of every factory, ``*_like`` and ``new_*`` method and
layer constructor, ``set_default_device`` / ``get_default_device`` and ``with torch.device(...)``,
the argument forms of ``Tensor.to`` (device, dtype, other tensor, ``(device, dtype)``, keywords,
``non_blocking``, ``copy``) and when it returns ``self``, ``.cpu()`` / ``.float()`` / ``.type()``,
``Module.to`` / ``.cpu()`` / ``.double()`` / ``.half()`` returning the module with the same
Parameter objects, CUDA's absence (``cuda.is_available()`` False, the AssertionError of ``.cuda()``
and ``.to('cuda')``), ``pin_memory`` / ``is_pinned``, ``is_floating_point`` / ``is_tensor``, the
attributes of dtypes (``is_floating_point``, ``is_signed``, ``itemsize``), the error types PyTorch
raises for bad input, the warnings it gives, and float64 gradients through dtype and device moves.

Each test runs the same code with ``torch`` and with ``chainrule`` and compares values, dtypes,
shapes, devices, identities or exception types. Every test leaves the default dtype float32 and the
default device unset, whatever happens inside. Tests marked ``xfail(strict=True, reason="BUG: ...")``
are differences found: each turns into an XPASS failure the day it is fixed, and the mark must go.

Not swept (chainrule leaves them out on purpose, see tests/parity/test_names.py): complex dtypes
(PyTorch's default complex dtype follows the default float dtype), ``empty_strided`` and the other
raw-memory factories.
"""
import copy
import pickle
import warnings

import numpy as np
import pytest
import torch

import chainrule
from tests.parity.sweep import assert_same, bug, bundle, outcome, plain, raises_as_torch, same_in_both


# --- this file's own helpers --------------------------------------------------------------------

@pytest.fixture(autouse=True)
def restore_defaults():
    """Whatever a test does, the default dtype is float32 and no default device is set after it."""
    yield
    for L in (torch, chainrule):
        L.set_default_dtype(L.float32)
        L.set_default_device(None)


def name(dtype):
    """A dtype as a string both libraries spell the same: 'float64'."""
    return str(dtype).split(".")[-1]


def info(t):
    """A tensor's dtype, shape and device, as one string (for tensors whose values are random,
    uninitialized or absent)."""
    return f"{name(t.dtype)} {tuple(t.shape)} {t.device}"


def under(dtype_name, run):
    """``run(L)`` with ``L``'s default dtype set to ``L.<dtype_name>``, restored afterwards."""
    def wrapped(L):
        L.set_default_dtype(getattr(L, dtype_name))
        try:
            return run(L)
        finally:
            L.set_default_dtype(L.float32)
    return wrapped


def with_default_device(device, run):
    """``run(L)`` with ``L.set_default_device(device)``, unset afterwards."""
    def wrapped(L):
        try:
            L.set_default_device(device)
            return run(L)
        finally:
            L.set_default_device(None)
    return wrapped


def _inside_device(L, device, run):
    """``run()`` inside ``with L.device(device):``."""
    with L.device(device):
        return run()


def warning_categories(run):
    """The categories of the warnings ``run()`` gives, each every time (PyTorch's once-per-process
    warnings too: ``set_warn_always(True)`` while it runs)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for L in (torch, chainrule):
            L.set_warn_always(True)
        try:
            run()
        finally:
            for L in (torch, chainrule):
                L.set_warn_always(False)
    return sorted({warning.category.__name__ for warning in caught})


# --- the default dtype: values, dtypes and shapes -----------------------------------------------

DEFAULT_DTYPE_CASES = {
    "get_default_dtype": lambda L: [name(L.get_default_dtype()), L.get_default_dtype() is L.float32,
                                    type(L.get_default_dtype()).__name__],
    "set_get_round_trip": bundle(
        under("float64", lambda L: [name(L.get_default_dtype()), L.get_default_dtype() is L.float64]),
        under("float16", lambda L: name(L.get_default_dtype())),
        lambda L: L.set_default_dtype(L.float32),
        lambda L: name(L.get_default_dtype()),
    ),
    "float64_tensor_of_python_numbers": under("float64", bundle(
        lambda L: L.tensor(1.5), lambda L: L.tensor([1, 2.5]), lambda L: L.tensor([[1, 2], [3.0, 4]]),
        lambda L: L.tensor([1, 2]), lambda L: L.tensor(True), lambda L: L.tensor([True, 2.5]),
        lambda L: L.tensor([True, 1]), lambda L: L.tensor([]), lambda L: L.tensor([[]]), lambda L: L.as_tensor(2.5),
        lambda L: L.tensor(1.5, dtype=L.float32), lambda L: L.tensor([1, 2], dtype=L.float16),
    )),
    "float64_legacy_constructors": under("float64", bundle(
        lambda L: L.Tensor([1, 2]), lambda L: info(L.Tensor(2, 3)), lambda L: L.Tensor(), lambda L: L.FloatTensor([1]),
        lambda L: L.DoubleTensor([1]), lambda L: L.scalar_tensor(1), lambda L: L.tensor(2) + 0,
    )),
    "float64_floating_factories": under("float64", bundle(
        lambda L: L.zeros(2), lambda L: L.ones(2, 3), lambda L: info(L.empty(2)), lambda L: L.eye(2),
        lambda L: L.full((2,), 1.5), lambda L: L.full((2,), 1), lambda L: L.full((2,), True),
        lambda L: L.arange(3), lambda L: L.arange(3.0), lambda L: L.arange(0, 1, 0.25), lambda L: L.arange(0, 3, 1),
        lambda L: L.arange(L.tensor(3)), lambda L: L.arange(L.tensor(3.0)),
        lambda L: L.linspace(0, 1, 5), lambda L: L.linspace(0, 10, 3, dtype=L.int64), lambda L: L.logspace(0, 2, 3, base=2),
        lambda L: L.zeros(0), lambda L: L.zeros(2, dtype=L.float32), lambda L: L.zeros_like(L.tensor([1, 2])),
        lambda L: L.ones_like(L.ones(1, dtype=L.float32)), lambda L: L.full_like(L.tensor([1]), 2.5),
    )),
    "float64_random_factories": under("float64", bundle(
        lambda L: info(L.rand(2)), lambda L: info(L.randn(2, 3)), lambda L: info(L.rand_like(L.zeros(2, dtype=L.float32))),
        lambda L: info(L.randn_like(L.zeros(2))), lambda L: info(L.normal(0.0, 1.0, (2,))),
        lambda L: info(L.randint(0, 3, (2,))), lambda L: info(L.randperm(3)), lambda L: info(L.bernoulli(L.full((2,), 0.5))),
        lambda L: info(L.multinomial(L.tensor([0.5, 0.5]), 1)), lambda L: info(L.empty(2).uniform_()),
    )),
    "float16_factories": under("float16", bundle(
        lambda L: L.zeros(2), lambda L: L.tensor(1.5), lambda L: L.tensor([1.5, 2]), lambda L: L.arange(0.0, 1.0, 0.5),
        lambda L: L.linspace(0, 1, 3), lambda L: L.full((1,), 1.5), lambda L: L.eye(2), lambda L: L.tensor([1 / 3]).item(),
    )),
    "float64_numpy_input_keeps_its_dtype": under("float64", bundle(
        lambda L: L.tensor(np.ones(2, dtype=np.float32)), lambda L: L.as_tensor(np.ones(2, dtype=np.float32)),
        lambda L: L.from_numpy(np.ones(2, dtype=np.float16)), lambda L: L.tensor(np.ones(2, dtype=np.int32)),
        lambda L: L.tensor(np.float32(1.5)), lambda L: L.tensor([np.float32(1.5)]), lambda L: L.tensor(np.float16(1)),
        lambda L: L.tensor(np.int32(2)),
    )),
    "float32_numpy_float64_input": bundle(
        lambda L: L.tensor(np.ones(2)), lambda L: L.tensor(np.float64(1.5)), lambda L: L.tensor([np.float64(1.5)]),
        lambda L: L.tensor([1, np.float64(2)]), lambda L: L.tensor(np.array(1.5)), lambda L: L.as_tensor(np.arange(3.0)),
    ),
    "float64_scalar_promotion": under("float64", bundle(
        lambda L: L.tensor([1, 2]) * 2.5, lambda L: 2.5 * L.tensor([1]), lambda L: L.tensor([1, 2]) / 2,
        lambda L: L.tensor(3) / 2, lambda L: L.tensor([1, 2]) / L.tensor([2, 2]), lambda L: L.tensor([1, 2]).true_divide(3),
        lambda L: L.tensor([1, 2], dtype=L.int32) * 2.5, lambda L: L.tensor([1, 2], dtype=L.uint8) + 0.5,
        lambda L: L.tensor([True]) * 1.5, lambda L: L.tensor([1, 2]) ** 0.5, lambda L: L.tensor([1, 2]) ** -1.0,
        lambda L: L.tensor([1, 2], dtype=L.float32) * 2.5, lambda L: L.tensor([1, 2], dtype=L.float16) * 2.5,
        lambda L: L.tensor([1]) + L.tensor(0.5, dtype=L.float32), lambda L: L.tensor([1]) + L.tensor(0.5),
        lambda L: L.div(L.tensor([3]), 2, rounding_mode="floor"), lambda L: L.tensor([1, 2]) // 2,
    )),
    "float64_int_to_float_functions": under("float64", bundle(
        lambda L: L.tensor(3).sqrt(), lambda L: L.tensor([1, 2]).sin(), lambda L: L.tensor([1, 2]).exp(),
        lambda L: L.sigmoid(L.tensor([1, 2])), lambda L: L.tensor([1, 2]).float(), lambda L: L.tensor([1, 2]).to(L.get_default_dtype()),
        lambda L: L.where(L.tensor([True, False]), 1.0, 0.0), lambda L: L.where(L.tensor([True]), L.tensor([1]), 0.5),
        lambda L: L.clamp(L.tensor([1, 2]), 0.5, 1.5), lambda L: L.nn.functional.softmax(L.tensor([1, 2.0]), 0),
        lambda L: L.nn.functional.one_hot(L.tensor([1]), 3),
    )),
    "float64_reductions": under("float64", bundle(
        lambda L: L.tensor([1, 2]).sum(), lambda L: L.tensor([True, True]).sum(), lambda L: L.tensor([1.5]).sum(),
        lambda L: L.tensor([1.5], dtype=L.float32).sum(), lambda L: L.tensor([1, 2]).mean(dtype=L.float32),
        lambda L: L.tensor([1, 2]).sum(dtype=L.float64), lambda L: L.tensor([1.0, 2.0]).prod(),
    )),
    "float16_scalar_promotion": under("float16", bundle(
        lambda L: L.tensor([1, 2]) / 2, lambda L: L.tensor([1, 2]) * 2.5, lambda L: L.tensor([1.0, 2.0], dtype=L.float32) * 2.5,
        lambda L: L.tensor(1) * 2.5, lambda L: L.tensor([3]).sqrt(),
    )),
    "new_methods_keep_the_tensors_dtype": under("float64", bundle(
        lambda L: L.ones(2, dtype=L.float32).new_zeros(2), lambda L: L.ones(2, dtype=L.int64).new_ones(2),
        lambda L: L.ones(2, dtype=L.float32).new_tensor(1.5), lambda L: L.ones(1, dtype=L.int32).new_full((2,), 7),
        lambda L: info(L.ones(1, dtype=L.int32).new_empty(2)), lambda L: L.tensor([1, 2]).new_tensor([1.5]),
        lambda L: L.tensor([1, 2]).new_full((1,), 2.5),
    )),
    "result_type_float64": under("float64", bundle(
        lambda L: name(L.result_type(L.tensor([1]), 2.5)), lambda L: name(L.result_type(1, 2.5)),
        lambda L: name(L.result_type(L.tensor([1], dtype=L.float16), 2.5)), lambda L: name(L.result_type(L.tensor([True]), 2.5)),
        lambda L: name(L.result_type(L.tensor(1.0, dtype=L.float32), L.tensor([1]))),
        lambda L: name(L.promote_types(L.int64, L.float32)), lambda L: name(L.promote_types(L.int64, L.float16)),
    )),
    "result_type_float32": bundle(
        lambda L: name(L.result_type(L.tensor([1]), 2.5)), lambda L: name(L.result_type(1, 2.5)),
        lambda L: name(L.result_type(True, 1)), lambda L: name(L.result_type(L.tensor([1], dtype=L.int8), 1000)),
        lambda L: name(L.result_type(L.tensor(1.0, dtype=L.float64), L.tensor([1.0]))),
    ),
    "promote_types": lambda L: [name(L.promote_types(a, b)) for a, b in [
        (L.int64, L.float32), (L.int32, L.float16), (L.bool, L.int8), (L.uint8, L.int8), (L.float16, L.float64),
        (L.int64, L.bool), (L.uint8, L.bool), (L.bool, L.bool), (L.float32, L.float32), (L.int8, L.int16)]],
    "can_cast": lambda L: [L.can_cast(L.float64, L.int32), L.can_cast(L.int32, L.float64), L.can_cast(L.bool, L.int8),
                           L.can_cast(L.float32, L.float16), L.can_cast(L.int64, L.bool)],
    "finfo_follows_the_default": bundle(
        lambda L: [L.finfo().eps, L.finfo().bits, name(L.finfo().dtype)],
        under("float64", lambda L: [L.finfo().eps, L.finfo().bits, name(L.finfo().dtype)]),
        under("float16", lambda L: [L.finfo().eps, L.finfo().max]),
    ),
    "parameter_under_float64": under("float64", bundle(
        lambda L: info(L.nn.Parameter(L.randn(2))), lambda L: info(L.nn.Parameter(L.randn(2, dtype=L.float32))),
        lambda L: info(L.nn.Parameter()),
    )),
}


@pytest.mark.parametrize("run", list(DEFAULT_DTYPE_CASES.values()), ids=list(DEFAULT_DTYPE_CASES))
def test_default_dtype(run):
    same_in_both(run)


def _params_and_buffers(module):
    return {key: info(value) for key, value in module.state_dict().items()}


LAYER_CASES = {
    "Linear": lambda L: L.nn.Linear(2, 3), "Linear_no_bias": lambda L: L.nn.Linear(2, 3, bias=False),
    "Conv2d": lambda L: L.nn.Conv2d(1, 2, 3), "ConvTranspose2d": lambda L: L.nn.ConvTranspose2d(1, 1, 2),
    "Conv1d": lambda L: L.nn.Conv1d(2, 2, 2), "BatchNorm1d": lambda L: L.nn.BatchNorm1d(3),
    "BatchNorm2d": lambda L: L.nn.BatchNorm2d(2), "LayerNorm": lambda L: L.nn.LayerNorm(3),
    "GroupNorm": lambda L: L.nn.GroupNorm(1, 2), "InstanceNorm1d": lambda L: L.nn.InstanceNorm1d(2, affine=True, track_running_stats=True),
    "Embedding": lambda L: L.nn.Embedding(3, 2), "LSTM": lambda L: L.nn.LSTM(2, 3), "GRU": lambda L: L.nn.GRU(2, 3),
    "MultiheadAttention": lambda L: L.nn.MultiheadAttention(4, 2), "PReLU": lambda L: L.nn.PReLU(),
    "Bilinear": lambda L: L.nn.Bilinear(2, 2, 1),
}


@pytest.mark.parametrize("dtype", ["float64", "float16"])
@pytest.mark.parametrize("build", list(LAYER_CASES.values()), ids=list(LAYER_CASES))
def test_layer_parameters_follow_the_default_dtype(build, dtype):
    same_in_both(under(dtype, lambda L: _params_and_buffers(build(L))))


LAYER_KEYWORD_CASES = {
    "dtype_keyword_wins_over_default": under("float64", bundle(
        lambda L: info(L.nn.Linear(2, 2, dtype=L.float32).weight), lambda L: info(L.nn.Linear(2, 2, device="cpu").weight),
        lambda L: info(L.nn.Conv2d(1, 1, 1, device="cpu", dtype=L.float16).weight),
        lambda L: _params_and_buffers(L.nn.BatchNorm1d(2, device="cpu", dtype=L.float32)),
        lambda L: info(L.nn.Embedding(2, 2, device="cpu").weight), lambda L: info(L.nn.LayerNorm(2, device="cpu", dtype=L.float32).weight),
    )),
    "device_keyword_forms": bundle(
        lambda L: info(L.nn.Linear(2, 2, device="cpu").weight), lambda L: info(L.nn.Linear(2, 2, device=L.device("cpu")).bias),
        lambda L: info(L.nn.Conv2d(1, 1, 1, device="cpu:0").weight), lambda L: info(L.nn.LSTM(2, 2, device="cpu").weight_hh_l0),
        lambda L: _params_and_buffers(L.nn.BatchNorm2d(2, device=L.device("cpu", 0))),
    ),
    "float64_forward": under("float64", bundle(
        lambda L: info(L.nn.Linear(2, 3)(L.ones(4, 2))), lambda L: info(L.nn.Conv2d(1, 1, 2)(L.ones(1, 1, 3, 3))),
        lambda L: info(L.nn.BatchNorm1d(2)(L.ones(3, 2))), lambda L: info(L.nn.functional.dropout(L.ones(2), 0.0)),
    )),
    "float64_init": under("float64", bundle(
        lambda L: info(L.nn.init.xavier_uniform_(L.empty(2, 2))), lambda L: info(L.nn.init.zeros_(L.empty(2))),
    )),
}


@pytest.mark.parametrize("run", list(LAYER_KEYWORD_CASES.values()), ids=list(LAYER_KEYWORD_CASES))
def test_layer_keywords(run):
    same_in_both(run)


def _adam_state(L):
    model = L.nn.Linear(2, 1)
    optimizer = L.optim.Adam(model.parameters())
    model(L.ones(1, 2)).sum().backward()
    optimizer.step()
    state = optimizer.state[model.weight]
    return [info(state["exp_avg"]), info(state["exp_avg_sq"])]


def _adam_step_dtype(L):
    model = L.nn.Linear(2, 1)
    optimizer = L.optim.Adam(model.parameters())
    model(L.ones(1, 2)).sum().backward()
    optimizer.step()
    return info(optimizer.state[model.weight]["step"])


def test_optimizer_state_under_float64():
    same_in_both(under("float64", _adam_state))


def test_optimizer_step_count_float32():
    same_in_both(_adam_step_dtype)


def test_optimizer_step_count_follows_the_default_dtype():
    same_in_both(under("float64", _adam_step_dtype))


def test_float64_list_with_numpy_float32_scalar():
    same_in_both(under("float64", lambda L: L.tensor([1, np.float32(2)])))


@bug("torch.set_default_dtype(torch.bfloat16) is accepted (tensor(1.5) is then bfloat16); chainrule raises TypeError")
def test_set_default_dtype_bfloat16():
    same_in_both(under("bfloat16", lambda L: [name(L.get_default_dtype()), name(L.tensor(1.5).dtype)]))


# --- set_default_tensor_type (deprecated) -------------------------------------------------------

def _set_default_tensor_type(t):
    def run(L):
        try:
            L.set_default_tensor_type(t(L) if callable(t) else t)
            return [name(L.get_default_dtype()), info(L.tensor(1.5)), info(L.zeros(1))]
        finally:
            L.set_default_dtype(L.float32)
    return run


TENSOR_TYPE_CASES = {
    "DoubleTensor": _set_default_tensor_type(lambda L: L.DoubleTensor),
    "name_string": _set_default_tensor_type("torch.DoubleTensor"),
    "FloatTensor": _set_default_tensor_type(lambda L: L.FloatTensor),
    "HalfTensor": _set_default_tensor_type(lambda L: L.HalfTensor),
}


@pytest.mark.parametrize("run", list(TENSOR_TYPE_CASES.values()), ids=list(TENSOR_TYPE_CASES))
def test_set_default_tensor_type(run):
    same_in_both(run)


# --- devices ------------------------------------------------------------------------------------

DEVICE_CASES = {
    "device_str_repr": lambda L: [(str(d), repr(d), d.type, d.index) for d in (
        L.device("cpu"), L.device("cpu:0"), L.device("cpu", 0), L.device("cpu:1"), L.device("cuda"), L.device("cuda", 1),
        L.device("cuda:2"), L.device("meta"), L.device("mps"), L.device(L.device("cpu:0")))],
    "device_format": lambda L: [f"{L.device('cpu')}", "{}".format(L.device("cpu:0")), f"{L.zeros(1).device}"],
    "device_equality_between_devices": lambda L: [
        L.device("cpu") == L.device("cpu"), L.device("cpu:0") == L.device("cpu"), L.device("cpu", 0) == L.device("cpu:0"),
        L.device("cuda") == L.device("cuda:0"), L.device("cuda", 0) == L.device("cuda:0"), L.device("cpu") == 1,
        L.device("cpu") == None, L.device("cpu") != L.device("cuda")],  # noqa: E711 - the comparison is what is tested
    "device_hash": lambda L: [hash(L.device("cpu")) == hash(L.device("cpu")), len({L.device("cpu"), L.device("cpu"), L.device("cpu:0")}),
                              bool(L.device("cpu"))],
    "device_copy_pickle": lambda L: [repr(copy.deepcopy(L.device("cpu"))), repr(copy.copy(L.device("cuda", 1))),
                                     repr(pickle.loads(pickle.dumps(L.device("cpu:0"))))],
    "tensor_device": lambda L: [repr(L.zeros(2).device), L.zeros(2).device == L.device("cpu"), L.zeros(2).device.type,
                                L.zeros(2).device.index, type(L.zeros(2).device).__name__, L.zeros(2).is_cpu, L.zeros(2).is_cuda,
                                L.zeros(2).is_meta, L.zeros(2).get_device(), str(L.nn.Linear(1, 1).weight.device)],
    "factory_on_cpu_index_is_dropped": lambda L: [str(L.zeros(2, device="cpu:0").device), str(L.zeros(2, device="cpu:1").device),
                                                  str(L.ones(2).to("cpu:1").device)],
    "cuda_absent": lambda L: [L.cuda.is_available(), type(L.cuda.is_available()).__name__, L.cuda.device_count(),
                              L.cuda.is_initialized(), L.cuda.manual_seed(0), L.cuda.manual_seed_all(0), L.cuda.empty_cache(),
                              L.cuda.memory_allocated(), L.backends.cudnn.is_available(), L.backends.mps.is_available(),
                              L.accelerator.is_available(), L.accelerator.current_accelerator()],
    "default_device_cpu": bundle(
        lambda L: repr(L.get_default_device()), lambda L: type(L.get_default_device()).__name__,
        with_default_device("cpu", lambda L: [repr(L.get_default_device()), info(L.zeros(2)), info(L.nn.Linear(1, 1).weight)]),
        with_default_device(None, lambda L: repr(L.get_default_device())),
    ),
    "default_device_device_object": lambda L: with_default_device(
        L.device("cpu"), lambda L: [repr(L.get_default_device()), info(L.ones(1))])(L),
    "with_device_cpu": lambda L: _inside_device(L, "cpu", lambda: [info(L.zeros(2)), info(L.nn.Linear(1, 1).weight)]),
    "pinning": lambda L: [L.zeros(2).is_pinned(), L.nn.Parameter(L.ones(1)).is_pinned()],
    "dataloader_pin_memory_still_yields": lambda L: [
        batch for batch in L.utils.data.DataLoader(L.utils.data.TensorDataset(L.arange(4.0)), batch_size=2, pin_memory=True)],
    "as_tensor_identity": lambda L: (lambda t: [L.as_tensor(t) is t, L.as_tensor(t, dtype=L.float32) is t,
                                                L.as_tensor(t, device="cpu") is t, L.as_tensor(t, dtype=L.float64) is t,
                                                L.asarray(t) is t])(L.ones(2)),
}


@pytest.mark.parametrize("run", list(DEVICE_CASES.values()), ids=list(DEVICE_CASES))
def test_devices(run):
    same_in_both(run)


def test_device_keywords():
    same_in_both(lambda L: [repr(L.device(type="cpu", index=0)), repr(L.device(type="cuda"))])


@bug("torch.device('cpu') == 'cpu' is False (a device equals only devices); chainrule's device is a str subclass, "
     "so it is True (device.py class device(str))")
def test_device_is_not_equal_to_its_string():
    same_in_both(lambda L: [L.device("cpu") == "cpu", "cpu:0" == L.device("cpu:0"), L.zeros(1).device == "cpu",
                            L.device("cpu") in {"cpu": 1}])


@bug("isinstance(torch.device('cpu'), str) is False; chainrule's device is a str subclass (device.py)")
def test_device_is_not_a_string():
    same_in_both(lambda L: isinstance(L.device("cpu"), str))


def test_default_device_keeps_its_index():
    same_in_both(with_default_device("cpu:0", lambda L: repr(L.get_default_device())))


def test_set_default_device_cuda_is_lazy():
    same_in_both(with_default_device("cuda", lambda L: "accepted"))


def test_with_device_cuda_is_lazy():
    same_in_both(lambda L: _inside_device(L, "cuda", lambda: "entered"))


def test_factory_on_meta_device():
    same_in_both(lambda L: [info(L.zeros(2, device="meta")), info(L.empty(2, 3, device="meta"))])


def test_layer_on_meta_device():
    same_in_both(lambda L: info(L.nn.Linear(2, 2, device="meta").weight))


def test_is_pinned_with_device_argument():
    same_in_both(lambda L: L.zeros(1).is_pinned("cpu"))


# --- the device= keyword of every factory -------------------------------------------------------

DEVICE_FORMS = {
    "str": lambda L: "cpu", "str_index": lambda L: "cpu:0", "device": lambda L: L.device("cpu"),
    "device_index": lambda L: L.device("cpu", 0),
}

# each gives a tensor; those marked random (or uninitialized) are compared by dtype, shape and device only
FACTORIES = {
    "zeros": (lambda L, d: L.zeros(2, 3, device=d), False),
    "ones": (lambda L, d: L.ones((2,), device=d), False),
    "empty": (lambda L, d: L.empty(2, device=d), True),
    "full": (lambda L, d: L.full((2,), 1.5, device=d), False),
    "eye": (lambda L, d: L.eye(2, 3, device=d), False),
    "arange": (lambda L, d: L.arange(0, 1, 0.25, device=d), False),
    "range": (lambda L, d: L.range(0, 2, device=d), False),
    "linspace": (lambda L, d: L.linspace(0, 1, 3, device=d), False),
    "logspace": (lambda L, d: L.logspace(0, 1, 3, device=d), False),
    "tensor": (lambda L, d: L.tensor([1.0, 2.0], device=d), False),
    "as_tensor": (lambda L, d: L.as_tensor([1, 2], device=d), False),
    "asarray": (lambda L, d: L.asarray([1.0], device=d), False),
    "scalar_tensor": (lambda L, d: L.scalar_tensor(1.5, device=d), False),
    "tril_triu_indices": (lambda L, d: L.cat([L.tril_indices(3, 3, device=d), L.triu_indices(3, 3, 1, device=d)], 1), False),
    "rand": (lambda L, d: L.rand(2, device=d), True),
    "randn": (lambda L, d: L.randn(2, dtype=L.float64, device=d), True),
    "randint": (lambda L, d: L.randint(3, (2,), device=d), True),
    "randperm": (lambda L, d: L.randperm(3, device=d), True),
    "normal": (lambda L, d: L.normal(0.0, 1.0, (2,), device=d), True),
    "windows": (lambda L, d: L.cat([L.hann_window(4, device=d), L.hamming_window(4, device=d), L.bartlett_window(4, device=d),
                                    L.blackman_window(4, device=d), L.kaiser_window(4, device=d)]), False),
    "zeros_like": (lambda L, d: L.zeros_like(L.ones(2, dtype=L.int32), device=d), False),
    "ones_like": (lambda L, d: L.ones_like(L.ones(2), device=d), False),
    "full_like": (lambda L, d: L.full_like(L.ones(2), 3, device=d), False),
    "empty_like": (lambda L, d: L.empty_like(L.ones(2), device=d), True),
    "rand_like": (lambda L, d: L.rand_like(L.ones(2), device=d), True),
    "randn_like": (lambda L, d: L.randn_like(L.ones(2, dtype=L.float64), device=d), True),
    "randint_like": (lambda L, d: L.randint_like(L.ones(2), 3, device=d), True),
    "new_zeros": (lambda L, d: L.ones(2, dtype=L.float64).new_zeros(3, device=d), False),
    "new_ones": (lambda L, d: L.ones(2).new_ones((3,), device=d), False),
    "new_empty": (lambda L, d: L.ones(2).new_empty(3, device=d), True),
    "new_full": (lambda L, d: L.ones(2).new_full((3,), 2.0, device=d), False),
    "new_tensor": (lambda L, d: L.ones(2, dtype=L.float64).new_tensor([1, 2], device=d, dtype=L.float32), False),
    "legacy_FloatTensor": (lambda L, d: L.FloatTensor(2, device=d), True),
    "requires_grad_with_device": (lambda L, d: L.zeros((2,), dtype=L.float64, device=d, requires_grad=True), False),
    "generator_device": (lambda L, d: L.rand(2, generator=L.Generator(device=d)), True),
}


def _on_every_device_form(factory, random):
    def run(L):
        results = []
        for form in DEVICE_FORMS.values():
            t = factory(L, form(L))
            results.append(info(t) if random else [t, str(t.device), t.requires_grad])
        return results
    return run


@pytest.mark.parametrize("factory,random", list(FACTORIES.values()), ids=list(FACTORIES))
def test_device_keyword_of_factories(factory, random):
    same_in_both(_on_every_device_form(factory, random))


# --- Tensor.to / .cpu / .type: argument forms, result and identity ------------------------------

def _moved(move, dtype="float32"):
    """What ``move(L, x)`` gives for a leaf x that requires grad: whether it is x itself, its dtype,
    shape and device, its values, and whether it is a leaf that requires grad."""
    def run(L):
        x = L.tensor([1.5, -2.0], dtype=getattr(L, dtype), requires_grad=True)
        y = move(L, x)
        return [y is x, info(y), y.detach(), y.requires_grad, y.is_leaf]
    return run


TO_CASES = {
    "to_cpu": lambda L, x: x.to("cpu"),
    "to_device_object": lambda L, x: x.to(L.device("cpu")),
    "to_device_keyword": lambda L, x: x.to(device="cpu"),
    "to_same_dtype": lambda L, x: x.to(L.float32),
    "to_same_dtype_keyword": lambda L, x: x.to(dtype=L.float32),
    "to_float64": lambda L, x: x.to(L.float64),
    "to_float16": lambda L, x: x.to(L.float16),
    "to_int64": lambda L, x: x.to(L.int64),
    "to_bool": lambda L, x: x.to(L.bool),
    "to_device_and_dtype": lambda L, x: x.to("cpu", L.float64),
    "to_device_and_same_dtype": lambda L, x: x.to(L.device("cpu"), L.float32),
    "to_device_dtype_keywords": lambda L, x: x.to(device="cpu", dtype=L.float64),
    "to_copy_same_dtype": lambda L, x: x.to(dtype=L.float32, copy=True),
    "to_device_copy": lambda L, x: x.to("cpu", copy=True),
    "to_dtype_positional_flags": lambda L, x: x.to(L.float32, False, True),
    "to_device_dtype_positional_non_blocking": lambda L, x: x.to("cpu", L.float64, True),
    "to_other_tensor_float64": lambda L, x: x.to(L.zeros(1, dtype=L.float64)),
    "to_other_tensor_same": lambda L, x: x.to(L.zeros(1)),
    "to_other_tensor_int": lambda L, x: x.to(L.zeros(1, dtype=L.int64)),
    "to_other_tensor_non_blocking": lambda L, x: x.to(L.zeros(1), non_blocking=True),
    "to_non_blocking": lambda L, x: x.to("cpu", non_blocking=True),
    "to_dtype_non_blocking": lambda L, x: x.to(L.float64, non_blocking=True),
    "to_memory_format": lambda L, x: x.to(memory_format=L.preserve_format),
    "to_nothing": lambda L, x: x.to(),
    "to_none": lambda L, x: x.to(None),
    "to_none_keywords": lambda L, x: x.to(device=None, dtype=None),
    "to_python_float_type": lambda L, x: x.to(float),
    "to_int_copy_false": lambda L, x: x.to(L.int32, copy=False),
    "cpu": lambda L, x: x.cpu(),
    "cpu_memory_format": lambda L, x: x.cpu(memory_format=L.preserve_format),
    "float": lambda L, x: x.float(),
    "double": lambda L, x: x.double(),
    "half": lambda L, x: x.half(),
    "type_dtype": lambda L, x: x.type(L.float32),
    "type_float64": lambda L, x: x.type(L.float64),
    "type_legacy_name": lambda L, x: x.type("torch.DoubleTensor"),
    "type_legacy_class": lambda L, x: x.type(L.FloatTensor),
    "type_as": lambda L, x: x.type_as(L.zeros(1, dtype=L.float64)),
}


@pytest.mark.parametrize("move", list(TO_CASES.values()), ids=list(TO_CASES))
def test_to_forms(move):
    same_in_both(_moved(move))


def test_to_cpu_with_index_copies():
    same_in_both(_moved(lambda L, x: x.to("cpu:0")))


def test_to_device_object_with_index_copies():
    same_in_both(_moved(lambda L, x: x.to(L.device("cpu", 0))))


def test_to_cpu_with_index_new_memory():
    same_in_both(lambda L: (lambda x: (x.to("cpu:0").add_(1), x)[1])(L.ones(2)))


def test_as_tensor_device_with_index_copies():
    same_in_both(lambda L: (lambda t: L.as_tensor(t, device=L.device("cpu", 0)) is t)(L.ones(2)))


def test_to_memory_sharing():
    same_in_both(bundle(
        lambda L: (lambda x: (x.to("cpu").add_(1), x)[1])(L.ones(2)),
        lambda L: (lambda x: (x.to(L.float32).add_(1), x)[1])(L.ones(2)),
        lambda L: (lambda x: (x.to("cpu", copy=True).add_(1), x)[1])(L.ones(2)),
        lambda L: (lambda x: (x.cpu().add_(1), x)[1])(L.ones(2)),
        lambda L: (lambda x: (x.to(L.float64).add_(1), x)[1])(L.ones(2)),
    ))


def test_parameter_to():
    same_in_both(lambda L: (lambda p: [type(p.to(L.float64)).__name__, type(p.to("cpu")).__name__, p.to("cpu") is p,
                                       p.cpu() is p, type(p.double()).__name__, p.to(L.float32) is p])(L.nn.Parameter(L.ones(2))))


# --- Module.to / .cpu / .double / .half ---------------------------------------------------------

def _module_moved(move):
    def run(L):
        module = L.nn.Sequential(L.nn.Linear(2, 3), L.nn.BatchNorm1d(3))
        weight = module[0].weight
        result = move(L, module)
        return [result is module, module[0].weight is weight, type(module[0].weight).__name__,
                module[0].weight.requires_grad, module[0].weight.is_leaf, _params_and_buffers(module)]
    return run


MODULE_TO_CASES = {
    "to_cpu": lambda L, m: m.to("cpu"),
    "to_cpu_index": lambda L, m: m.to("cpu:0"),
    "to_device_object": lambda L, m: m.to(L.device("cpu")),
    "to_device_keyword": lambda L, m: m.to(device="cpu"),
    "cpu": lambda L, m: m.cpu(),
    "to_float64": lambda L, m: m.to(L.float64),
    "to_device_and_dtype": lambda L, m: m.to("cpu", L.float64),
    "to_keywords": lambda L, m: m.to(device="cpu", dtype=L.float64),
    "to_non_blocking": lambda L, m: m.to("cpu", non_blocking=True),
    "to_positional_non_blocking": lambda L, m: m.to("cpu", L.float64, True),
    "to_tensor": lambda L, m: m.to(L.zeros(1, dtype=L.float64)),
    "to_nothing": lambda L, m: m.to(),
    "to_none": lambda L, m: m.to(None),
    "double": lambda L, m: m.double(),
    "float": lambda L, m: m.float(),
    "half": lambda L, m: m.half(),
    "to_float16": lambda L, m: m.to(L.float16),
    "type_float64": lambda L, m: m.type(L.float64),
    "to_empty_cpu": lambda L, m: m.to_empty(device="cpu"),
}


@pytest.mark.parametrize("move", list(MODULE_TO_CASES.values()), ids=list(MODULE_TO_CASES))
def test_module_to(move):
    same_in_both(_module_moved(move))


def test_module_to_keeps_grads_and_int_buffers():
    same_in_both(bundle(
        lambda L: (lambda m: (m(L.ones(1, 2)).sum().backward(), m.to(L.float64), m.weight.grad)[2])(L.nn.Linear(2, 1)),
        lambda L: (lambda m: (m(L.ones(1, 2)).sum().backward(), m.cpu(), m.weight.grad)[2])(L.nn.Linear(2, 1)),
        lambda L: (lambda m: (m.register_buffer("b", L.ones(1, dtype=L.int64)), m.register_buffer("c", L.ones(1)),
                              m.to(L.float64), [info(m.b), info(m.c)])[3])(L.nn.Module()),
    ))


# --- dtype objects and queries ------------------------------------------------------------------

DTYPE_NAMES = ["float32", "float64", "float16", "bfloat16", "int8", "uint8", "int16", "int32", "int64", "bool"]

QUERY_CASES = {
    "dtype_attributes": lambda L: [(n, getattr(L, n).is_floating_point, getattr(L, n).is_signed, getattr(L, n).itemsize,
                                    getattr(L, n).is_complex) for n in DTYPE_NAMES],
    "dtype_aliases": lambda L: [L.float is L.float32, L.double is L.float64, L.half is L.float16, L.long is L.int64,
                                L.int is L.int32, L.short is L.int16, L.float == L.float32, hash(L.float32) == hash(L.float32)],
    "dtype_repr_isinstance": lambda L: [repr(L.float32).split(".")[-1], str(L.float64).split(".")[-1], repr(L.bool).split(".")[-1],
                                        isinstance(L.float32, L.dtype), type(L.int64).__name__],
    "dtype_pickle_copy": lambda L: [pickle.loads(pickle.dumps(L.float64)) is L.float64, copy.deepcopy(L.int32) is L.int32],
    "is_floating_point": lambda L: [L.is_floating_point(L.ones(1)), L.is_floating_point(L.ones(1, dtype=L.int64)),
                                    L.is_floating_point(L.ones(1, dtype=L.float16)), L.is_floating_point(L.tensor(True)),
                                    L.ones(1, dtype=L.float64).is_floating_point(), L.is_floating_point(L.zeros(0)),
                                    under("float64", lambda L: L.is_floating_point(L.tensor(1.5)))(L)],
    "is_tensor": lambda L: [L.is_tensor(L.ones(1)), L.is_tensor(1.0), L.is_tensor(np.ones(1)),
                            L.is_tensor(L.nn.Parameter(L.ones(1))), L.is_tensor([L.ones(1)]), L.is_tensor(None),
                            L.is_tensor(L.ones(1).float())],
    "is_complex_is_nonzero": lambda L: [L.is_complex(L.ones(1)), L.ones(1).is_complex(), L.is_nonzero(L.tensor([1.0])),
                                        L.is_nonzero(L.tensor(0))],
    "iinfo_finfo": lambda L: [L.iinfo(L.int64).max, L.iinfo(L.uint8).min, L.finfo(L.float16).eps, L.finfo(L.float64).tiny,
                              L.finfo(L.float32).bits],
}


@pytest.mark.parametrize("run", list(QUERY_CASES.values()), ids=list(QUERY_CASES))
def test_dtype_queries(run):
    same_in_both(run)


@bug("torch.float32 == 'float32' is False (a dtype equals only dtypes); chainrule's dtypes are NumPy dtypes, "
     "which equal their names")
def test_dtype_not_equal_to_its_name():
    same_in_both(lambda L: L.float32 == "float32")


@bug("torch.float64 == numpy.float64 is False; chainrule's dtypes are NumPy dtypes, which equal NumPy's scalar types")
def test_dtype_not_equal_to_numpy_type():
    same_in_both(lambda L: L.float64 == np.float64)


# --- bad input: PyTorch's exception type --------------------------------------------------------

RAISES_CASES = {
    # set_default_dtype / set_default_tensor_type
    "set_default_dtype_int64": under("int64", lambda L: None),
    "set_default_dtype_int32": under("int32", lambda L: None),
    "set_default_dtype_bool": under("bool", lambda L: None),
    "set_default_dtype_uint8": under("uint8", lambda L: None),
    "set_default_dtype_string": lambda L: L.set_default_dtype("float64"),
    "set_default_dtype_numpy_type": lambda L: L.set_default_dtype(np.float64),
    "set_default_dtype_python_float": lambda L: L.set_default_dtype(float),
    "set_default_dtype_none": lambda L: L.set_default_dtype(None),
    "set_default_dtype_no_argument": lambda L: L.set_default_dtype(),
    "get_default_dtype_argument": lambda L: L.get_default_dtype(L.float32),
    "set_default_tensor_type_LongTensor": _set_default_tensor_type(lambda L: L.LongTensor),
    "set_default_tensor_type_long_name": _set_default_tensor_type("torch.LongTensor"),
    "set_default_tensor_type_dtype": _set_default_tensor_type(lambda L: L.float64),
    "set_default_tensor_type_cuda_name": _set_default_tensor_type("torch.cuda.FloatTensor"),
    # device objects
    "device_unknown_type": lambda L: L.device("gpu"),
    "device_upper_case": lambda L: L.device("CPU"),
    "device_bad_index": lambda L: L.device("cpu:x"),
    "device_negative_index": lambda L: L.device("cpu", -1),
    "device_index_twice": lambda L: L.device("cpu:0", 0),
    "device_bare_int": lambda L: L.device(0),
    # CUDA on a machine without it
    "cuda_method": lambda L: L.zeros(2).cuda(),
    "to_cuda": lambda L: L.zeros(2).to("cuda"),
    "to_cuda_index": lambda L: L.zeros(2).to("cuda:0"),
    "to_cuda_device_object": lambda L: L.zeros(2).to(L.device("cuda")),
    "to_cuda_with_dtype": lambda L: L.zeros(2).to("cuda", L.float64),
    "to_cuda_keyword": lambda L: L.zeros(2).to(device="cuda", non_blocking=True),
    "tensor_on_cuda": lambda L: L.tensor([1.0], device="cuda"),
    "zeros_on_cuda": lambda L: L.zeros(2, device="cuda"),
    "zeros_like_on_cuda": lambda L: L.zeros_like(L.ones(1), device="cuda"),
    "new_zeros_on_cuda": lambda L: L.ones(1).new_zeros(2, device="cuda"),
    "module_cuda": lambda L: L.nn.Linear(2, 2).cuda(),
    "module_to_cuda": lambda L: L.nn.Linear(2, 2).to("cuda"),
    "layer_built_on_cuda": lambda L: L.nn.Linear(2, 2, device="cuda"),
    "default_device_cuda_then_factory": with_default_device("cuda", lambda L: L.zeros(2)),
    "with_device_cuda_factory": lambda L: _inside_device(L, "cuda", lambda: L.zeros(2)),
    "cuda_current_device": lambda L: L.cuda.current_device(),
    "cuda_get_device_name": lambda L: L.cuda.get_device_name(),
    "cuda_synchronize": lambda L: L.cuda.synchronize(),
    "pin_memory_method": lambda L: L.zeros(2).pin_memory(),
    # other devices and bad device arguments
    "to_mps": lambda L: L.zeros(2).to("mps"),
    "to_unknown_device": lambda L: L.zeros(2).to("banana"),
    "to_dtype_name_string": lambda L: L.zeros(2).to("float64"),
    "zeros_unknown_device": lambda L: L.zeros(2, device="banana"),
    "zeros_device_int": lambda L: L.zeros(2, device=0),
    "zeros_device_negative_int": lambda L: L.zeros(2, device=-1),
    "module_to_unknown_device": lambda L: L.nn.Linear(2, 2).to("banana"),
    "module_to_int_dtype": lambda L: L.nn.Linear(2, 2).to(L.int64),
    "set_default_device_unknown": with_default_device("banana", lambda L: None),
    "set_default_device_int": with_default_device(0, lambda L: None),
    "meta_tensor_to_cpu": lambda L: L.ones(2).to("meta").to("cpu"),
    "meta_tensor_item": lambda L: L.ones(1).to("meta").item(),
    # queries
    "is_floating_point_number": lambda L: L.is_floating_point(1.5),
    "is_floating_point_list": lambda L: L.is_floating_point([1.5]),
    "promote_types_string": lambda L: L.promote_types(L.float32, "float64"),
    "mean_of_int_under_float64": under("float64", lambda L: L.tensor([1, 2]).mean()),
    # argument forms PyTorch refuses
    "to_two_dtypes": lambda L: L.zeros(2).to(L.float32, L.float64),
    "to_two_devices": lambda L: L.zeros(2).to("cpu", "cuda"),
    "to_numpy_dtype": lambda L: L.zeros(2).to(np.float64),
    "to_dtype_keyword_string": lambda L: L.zeros(2).to(dtype="float64"),
    "to_int_device_index": lambda L: L.zeros(2).to(0),
    "cuda_non_blocking": lambda L: L.zeros(2).cuda(non_blocking=True),
    "zeros_device_float": lambda L: L.zeros(2, device=1.5),
    "zeros_dtype_string": lambda L: L.zeros(2, dtype="float32"),
    "zeros_dtype_numpy_type": lambda L: L.zeros(2, dtype=np.float64),
    "empty_pin_memory": lambda L: L.empty(2, pin_memory=True),
    "zeros_pin_memory": lambda L: L.zeros(2, pin_memory=True),
    "tensor_pin_memory": lambda L: L.tensor([1.0], pin_memory=True),
    "device_no_argument": lambda L: L.device(),
    "device_none": lambda L: L.device(None),
}


@pytest.mark.parametrize("run", list(RAISES_CASES.values()), ids=list(RAISES_CASES))
def test_raises_as_torch(run):
    raises_as_torch(run)


RAISES_BUGS = {
    "device_len": ("len(torch.device('cpu')) raises TypeError; chainrule's device is a str subclass: 3",
                   lambda L: len(L.device("cpu"))),
}


@pytest.mark.parametrize("run", [pytest.param(run, marks=bug(reason)) for reason, run in RAISES_BUGS.values()],
                         ids=list(RAISES_BUGS))
def test_raises_as_torch_bugs(run):
    raises_as_torch(run)


# --- warnings -----------------------------------------------------------------------------------

WARNING_CASES = {
    "set_default_tensor_type_deprecated": lambda L: _set_default_tensor_type(lambda L: L.DoubleTensor)(L),
    "set_default_dtype_silent": under("float64", lambda L: L.tensor(1.5)),
    "tensor_of_a_tensor": lambda L: L.tensor(L.ones(2)),
    "range_deprecated": lambda L: L.range(0, 2),
    "dataloader_pin_memory_without_accelerator": lambda L: list(
        L.utils.data.DataLoader(L.utils.data.TensorDataset(L.arange(4.0)), batch_size=2, pin_memory=True)),
    "to_cpu_silent": lambda L: (L.ones(2).to("cpu", non_blocking=True), L.ones(2).cpu(), L.ones(2).to(L.float64, copy=True)),
    "module_to_silent": lambda L: L.nn.Linear(2, 2).to("cpu").double().cpu(),
    "set_default_device_cpu_silent": with_default_device("cpu", lambda L: L.zeros(1)),
}


@pytest.mark.parametrize("run", list(WARNING_CASES.values()), ids=list(WARNING_CASES))
def test_warnings(run):
    assert warning_categories(lambda: run(chainrule)) == warning_categories(lambda: run(torch))


def test_is_pinned_device_argument_warns():
    assert warning_categories(lambda: chainrule.zeros(1).is_pinned("cpu")) == warning_categories(
        lambda: torch.zeros(1).is_pinned("cpu"))


# --- gradients (float64) ------------------------------------------------------------------------

D = [[0.3, -1.2, 2.0, 0.7], [1.5, 0.0, -0.4, 2.2]]
W = [[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]]  # exact in float16 too


def grad_of(function, data=D, dtype="float64"):
    """The gradient of ``sum(W * function(x))``, so misrouting shows."""
    def run(L):
        x = L.tensor(data, dtype=getattr(L, dtype), requires_grad=True)
        y = function(x, L)
        (y.to(L.float64) * L.tensor(W, dtype=L.float64)).sum().backward()
        return x.grad
    return run


def _linear_under_float64(L):
    """A layer built under default float64, its weights set, the gradients of its parameters and input."""
    layer = L.nn.Linear(4, 3)
    with L.no_grad():
        layer.weight.copy_(L.tensor([[0.1, -0.2, 0.3, 0.4], [0.5, 0.6, -0.7, 0.8], [-0.9, 1.0, 1.1, 1.2]]))
        layer.bias.copy_(L.tensor([0.1, 0.2, 0.3]))
    x = L.tensor(D, requires_grad=True)
    (layer(x) ** 2).sum().backward()
    return [layer.weight.grad, layer.bias.grad, x.grad]


def _module_double_grads(L):
    """A float32 layer made float64 by ``.double()``, then trained one backward in float64."""
    layer = L.nn.Linear(4, 2)
    with L.no_grad():
        layer.weight.copy_(L.tensor([[0.5, -1.0, 0.25, 2.0], [1.5, 0.0, -0.5, 1.0]]))
        layer.bias.zero_()
    layer.double()
    x = L.tensor(D, dtype=L.float64, requires_grad=True)
    (layer(x).tanh() * L.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=L.float64)).sum().backward()
    return [layer.weight.grad, layer.bias.grad, x.grad]


GRAD_CASES = {
    "to_float32_and_back": grad_of(lambda x, L: (x.to(L.float32) * 3.0).to(L.float64)),
    "to_float16": grad_of(lambda x, L: x.to(L.float16) * 2.0, data=[[0.5, -1.0, 2.0, 0.25], [1.5, 0.0, -0.5, 2.0]]),
    "float_double_chain": grad_of(lambda x, L: x.float().double().float() ** 2),
    "to_cpu_and_cpu": grad_of(lambda x, L: x.to("cpu").cpu() * x.to(L.device("cpu"))),
    "to_copy": grad_of(lambda x, L: x.to("cpu", copy=True) * 2.0 + x.to(dtype=L.float64, copy=True)),
    "to_device_and_dtype": grad_of(lambda x, L: x.to("cpu", L.float32).exp()),
    "to_other_tensor": grad_of(lambda x, L: x.to(L.zeros(1)).sin()),
    "type_and_type_as": grad_of(lambda x, L: x.type(L.float32) * x.type_as(L.zeros(1, dtype=L.float32))),
    "from_float32_leaf": grad_of(lambda x, L: x.double() ** 3, dtype="float32"),
    "python_scalar_under_float64": under("float64", grad_of(lambda x, L: x * 2.5 + L.tensor(0.5) * x ** 2)),
    "tensor_of_floats_under_float64": under("float64", lambda L: (lambda x: ((x * x).sum().backward(), x.grad)[1])(
        L.tensor([1.5, -0.25], requires_grad=True))),
    "linear_built_under_float64": under("float64", _linear_under_float64),
    "module_double": _module_double_grads,
}


@pytest.mark.parametrize("run", list(GRAD_CASES.values()), ids=list(GRAD_CASES))
def test_same_gradients(run):
    same_in_both(run, rtol=1e-6, atol=1e-9)
