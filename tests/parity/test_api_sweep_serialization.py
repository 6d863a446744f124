"""A sweep of ``torch.save`` / ``torch.load`` against PyTorch (the oracle), for what
``tests/serialization`` does not already pin: every dtype's values and shapes (0-d, empty,
non-contiguous), nested containers compared with what PyTorch gives back, object identity and
storage sharing inside one checkpoint, Parameters and tensors that require grad (non-leaf ones too),
a model's and an optimizer's state dict (the ``step`` tensors), the weights-only refusal's exception
type, ``safe_globals`` as a context, ``get_unsafe_globals_in_checkpoint`` on a path, ``map_location``
as str / device / dict / callable on a file the library itself wrote, file objects (the position after
``save``, loading from the wrong position), ``pathlib.Path``, ``pickle_protocol``, ``mmap=True`` and a
missing file.

Each test runs the same code with ``torch`` and with ``chainrule`` and compares values, dtypes,
types or exception types. Tests marked ``xfail(strict=True, reason="BUG: ...")`` are differences
found: each turns into an XPASS failure the day it is fixed, and the mark must go.
"""
import collections
import inspect
import io
import pathlib
import pickle

import numpy as np
import pytest
import torch

import chainrule
from chainrule import serialization as cr_serialization
from tests.parity.sweep import outcome, raises_as_torch

LIBS = [torch, chainrule]


def plain(value):
    """A library-free description of ``value``: type names, dtypes, shapes, requires_grad, numbers."""
    if isinstance(value, (torch.nn.Parameter, chainrule.nn.Parameter)):
        return ("Parameter", value.requires_grad, plain(value.data))
    if isinstance(value, (torch.Tensor, chainrule.Tensor)):
        return ("Tensor", str(value.dtype).split(".")[-1], tuple(value.shape), value.requires_grad,
                value.detach().tolist())
    if isinstance(value, (torch.Size, chainrule.Size)):
        return ("Size", tuple(value))
    if isinstance(value, (torch.dtype, chainrule.dtype)):
        return ("dtype", str(value).split(".")[-1])
    if isinstance(value, (torch.device, chainrule.device)):
        return ("device", str(value))
    if isinstance(value, dict):
        return (type(value).__name__, [(plain(k), plain(v)) for k, v in value.items()])
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, [plain(each) for each in value])
    if isinstance(value, (set, frozenset)):
        return (type(value).__name__, sorted(map(repr, value)))
    return (type(value).__name__, value)


def same_in_both(run):
    expected = plain(run(torch))
    actual = plain(run(chainrule))
    assert actual == expected


def round_trip(lib, obj, **load_args):
    buffer = io.BytesIO()
    lib.save(obj, buffer)
    buffer.seek(0)
    return lib.load(buffer, **load_args)


@pytest.fixture(autouse=True)
def empty_allowlists():
    torch.serialization.clear_safe_globals()
    cr_serialization.clear_safe_globals()
    yield
    torch.serialization.clear_safe_globals()
    cr_serialization.clear_safe_globals()


class Config:
    """A user class: weights_only refuses it unless allowed."""

    def __init__(self, lr=0.1):
        self.lr = lr

    def __eq__(self, other):
        return type(other) is Config and other.lr == self.lr


Pair = collections.namedtuple("Pair", "a b")


# --- signatures -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["load"])
def test_signature_matches_pytorch(name):
    def params(fn):
        return [(p.name, p.kind) for p in inspect.signature(fn).parameters.values()]

    assert params(getattr(chainrule, name)) == params(getattr(torch, name))


def test_save_signature_and_defaults_match_pytorch():
    def params(fn):
        return [(p.name, p.kind, repr(p.default)) for p in inspect.signature(fn).parameters.values()]

    assert params(chainrule.save) == params(torch.save)


def test_save_returns_none():
    assert chainrule.save({"w": chainrule.ones(1)}, io.BytesIO()) is None


# --- dtypes, shapes ---------------------------------------------------------------------------

# bfloat16 is left out: chainrule (on NumPy) does not create bfloat16 tensors at all, by design.
DTYPES = ["float32", "float64", "float16", "int64", "int32", "int16", "int8", "uint8", "bool"]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(), (0,), (2, 3), (0, 4)], ids=["0d", "empty", "2x3", "0x4"])
def test_tensor_of_each_dtype_and_shape_round_trips(dtype, shape):
    def run(lib):
        values = np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape) * 7 - 3
        t = lib.tensor(values.tolist() if shape else float(values), dtype=getattr(lib, "float64"))
        t = t.to(getattr(lib, dtype))
        return round_trip(lib, {"t": t})["t"]

    same_in_both(run)


@pytest.mark.parametrize("dtype", ["int8", "uint8", "int16", "float16"])
def test_extreme_values_of_small_dtypes(dtype):
    def run(lib):
        info = lib.iinfo(getattr(lib, dtype)) if dtype != "float16" else lib.finfo(lib.float16)
        t = lib.tensor([info.min, info.max, 0], dtype=getattr(lib, dtype))
        return round_trip(lib, [t])[0]

    same_in_both(run)


def test_float16_inf_nan_and_subnormal_survive():
    def run(lib):
        t = lib.tensor([float("inf"), -float("inf"), 6e-8, -0.0], dtype=lib.float16)
        back = round_trip(lib, t)
        return back, lib.isnan(round_trip(lib, lib.tensor([float("nan")]))).tolist()

    same_in_both(run)


@pytest.mark.parametrize("make", [
    lambda lib: lib.arange(6.0).reshape(2, 3).t(),
    lambda lib: lib.arange(10.0)[::3],
    lambda lib: lib.arange(12.0).reshape(3, 4)[1:, 2:],
    lambda lib: lib.arange(4.0).expand(3, 4),
], ids=["transposed", "strided", "sliced", "expanded"])
def test_views_round_trip_with_values_and_shape(make):
    same_in_both(lambda lib: round_trip(lib, make(lib)))


@pytest.mark.xfail(strict=True, reason="BUG: a non-contiguous tensor loads contiguous in chainrule; PyTorch keeps its strides")
@pytest.mark.parametrize("make", [
    lambda lib: lib.arange(6.0).reshape(2, 3).t(),
    lambda lib: lib.arange(10.0)[::3],
], ids=["transposed", "strided"])
def test_is_contiguous_after_load(make):
    same_in_both(lambda lib: round_trip(lib, make(lib)).is_contiguous())


def test_loaded_tensor_is_writable_and_independent_of_the_original():
    def run(lib):
        t = lib.ones(3)
        back = round_trip(lib, t)
        back[0] = 5.0
        return t, back

    same_in_both(run)


# --- containers -------------------------------------------------------------------------------


def nested(lib):
    return {
        "layers": [(lib.ones(2), lib.zeros(1, dtype=lib.int64)), (lib.tensor(3.5),)],
        "ordered": collections.OrderedDict([("z", lib.tensor([True, False])), ("a", [1, 2.5, "x"])]),
        "keys": {1: "one", (2, 3): lib.tensor([2]), None: None},
        "set": {1, 2, "three"},
        "empty": ([], (), {}, set()),
        "size": lib.Size([2, 3]),
        "dtype": lib.float16,
        "device": lib.device("cpu"),
        "bytes": b"\x00\x01",
        "big": 2 ** 70,
    }


def test_nested_containers_come_back_as_in_pytorch():
    same_in_both(lambda lib: round_trip(lib, nested(lib)))


def test_top_level_list_and_tuple_of_tensors():
    same_in_both(lambda lib: (round_trip(lib, [lib.ones(2), lib.zeros(0)]), round_trip(lib, (lib.ones(1), 3))))


@pytest.mark.parametrize("obj", [3, 2.5, "text", None, True, [1, [2, [3]]], {"a": {"b": {"c": 1}}}],
                         ids=["int", "float", "str", "none", "bool", "deep-list", "deep-dict"])
def test_plain_python_objects_without_tensors(obj):
    same_in_both(lambda lib: round_trip(lib, obj))


def test_the_same_tensor_twice_loads_as_one_object():
    def run(lib):
        t = lib.ones(2)
        back = round_trip(lib, {"a": t, "b": t, "c": [t]})
        return back["a"] is back["b"], back["a"] is back["c"][0]

    same_in_both(run)


def test_a_view_and_its_base_share_memory_after_load():
    def run(lib):
        base = lib.zeros(4)
        back = round_trip(lib, {"base": base, "view": base[1:3]})
        back["base"][1] = 7.0
        return back["view"]

    same_in_both(run)


def test_namedtuple_is_refused_by_default_and_loads_as_itself_when_trusted():
    def run(lib):
        kind, error = outcome(lambda: round_trip(lib, Pair(lib.ones(1), 2)))
        back = round_trip(lib, Pair(lib.ones(1), 2), weights_only=False)
        return error.__name__ if kind == "raises" else kind, type(back).__name__, back.b

    same_in_both(run)


# --- Parameters, requires_grad ----------------------------------------------------------------


@pytest.mark.parametrize("requires_grad", [True, False])
def test_parameter_keeps_type_and_requires_grad(requires_grad):
    def run(lib):
        p = lib.nn.Parameter(lib.arange(3.0), requires_grad=requires_grad)
        back = round_trip(lib, {"p": p})["p"]
        return type(back).__name__, back.is_leaf, back

    same_in_both(run)


def test_a_leaf_that_requires_grad_loads_as_a_leaf_that_requires_grad_without_its_grad():
    def run(lib):
        t = lib.ones(2, requires_grad=True)
        (t * 3).sum().backward()
        back = round_trip(lib, t)
        return back, back.is_leaf, back.grad is None

    same_in_both(run)


def test_a_non_leaf_tensor_saves_and_loads():
    def run(lib):
        x = lib.ones(2, requires_grad=True)
        kind, value = outcome(lambda: round_trip(lib, x * 2))
        if kind == "raises":
            return kind, value.__name__
        return kind, plain(value), value.is_leaf, value.grad_fn is None

    same_in_both(run)


# --- model and optimizer state dicts ----------------------------------------------------------


def model(lib):
    lib.manual_seed(0)
    return lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.BatchNorm1d(4), lib.nn.ReLU(), lib.nn.Linear(4, 2))


def test_model_state_dict_round_trip():
    def run(lib):
        sd = round_trip(lib, model(lib).state_dict())
        return type(sd).__name__, list(sd), [plain(v)[:4] for v in sd.values()], hasattr(sd, "_metadata")

    same_in_both(run)


def test_model_state_dict_loads_back_into_a_fresh_model():
    def run(lib):
        m = model(lib)
        sd = round_trip(lib, m.state_dict())
        fresh = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.BatchNorm1d(4), lib.nn.ReLU(), lib.nn.Linear(4, 2))
        result = fresh.load_state_dict(sd)
        return list(result.missing_keys), list(result.unexpected_keys), [v for v in fresh.state_dict().values()]

    same_in_both(run)


@pytest.mark.parametrize("opt", ["SGD", "Adam", "AdamW", "RMSprop"])
def test_optimizer_state_dict_round_trip_keeps_step_tensors(opt):
    def run(lib):
        m = model(lib)
        kwargs = {"lr": 0.1, "momentum": 0.9} if opt == "SGD" else {"lr": 0.01}
        optimizer = getattr(lib.optim, opt)(m.parameters(), **kwargs)
        m(lib.ones(5, 3)).sum().backward()
        optimizer.step()
        sd = round_trip(lib, optimizer.state_dict())
        state = sd["state"]
        return (sorted(sd), list(state), [sorted(s) for s in state.values()],
                [plain(s.get("step")) for s in state.values()], sd["param_groups"][0]["lr"])

    same_in_both(run)


def test_optimizer_resumes_after_load_exactly_where_it_stopped():
    def train_step(lib, m, optimizer):
        optimizer.zero_grad()
        m(lib.ones(5, 3)).sum().backward()
        optimizer.step()

    def run(lib):
        m = model(lib)
        optimizer = lib.optim.Adam(m.parameters(), lr=0.01)
        for _ in range(2):
            train_step(lib, m, optimizer)
        checkpoint = round_trip(lib, {"model": m.state_dict(), "optim": optimizer.state_dict(), "epoch": 2})
        train_step(lib, m, optimizer)
        m2 = model(lib)
        m2.load_state_dict(checkpoint["model"])
        o2 = lib.optim.Adam(m2.parameters(), lr=0.01)
        o2.load_state_dict(checkpoint["optim"])
        train_step(lib, m2, o2)
        same = all(bool((a == b).all()) for a, b in zip(m.state_dict().values(), m2.state_dict().values()))
        return same, checkpoint["epoch"], type(o2.state_dict()["state"][0]["step"]).__name__

    same_in_both(run)


# --- weights_only -----------------------------------------------------------------------------


def test_weights_only_refusal_is_an_unpickling_error():
    def run(lib):
        return round_trip(lib, {"config": Config()})

    raises_as_torch(run)
    kind, error = outcome(lambda: run(chainrule))
    assert issubclass(error, pickle.UnpicklingError)


def test_weights_only_true_explicitly_refuses_too():
    raises_as_torch(lambda lib: round_trip(lib, [Config()], weights_only=True))


def test_weights_only_false_loads_a_user_class():
    assert round_trip(chainrule, {"c": Config(0.5)}, weights_only=False)["c"] == Config(0.5)


def test_safe_globals_context_allows_only_inside():
    def run(lib):
        buffer = io.BytesIO()
        lib.save({"c": Config(0.3)}, buffer)
        with lib.serialization.safe_globals([Config]):
            inside = lib.load(io.BytesIO(buffer.getvalue()))["c"].lr
            listed = Config in lib.serialization.get_safe_globals()
        after, error = outcome(lambda: lib.load(io.BytesIO(buffer.getvalue())))
        return inside, listed, after, error.__name__ if after == "raises" else None, lib.serialization.get_safe_globals()

    same_in_both(run)


def test_add_safe_globals_then_load():
    def run(lib):
        lib.serialization.add_safe_globals([Config])
        return round_trip(lib, [Config(0.7)])[0].lr, Config in lib.serialization.get_safe_globals()

    same_in_both(run)


def test_get_unsafe_globals_in_checkpoint_on_a_path(tmp_path):
    def run(lib):
        path = tmp_path / f"{lib.__name__}.pt"
        lib.save({"c": Config(), "w": lib.ones(1)}, path)
        return lib.serialization.get_unsafe_globals_in_checkpoint(str(path))

    same_in_both(run)


def test_get_unsafe_globals_in_checkpoint_of_plain_data_is_empty(tmp_path):
    def run(lib):
        path = tmp_path / f"{lib.__name__}.pt"
        lib.save({"w": lib.ones(1), "n": [1, 2]}, path)
        return lib.serialization.get_unsafe_globals_in_checkpoint(str(path))

    same_in_both(run)


# --- map_location -----------------------------------------------------------------------------


@pytest.mark.parametrize("location", [
    lambda lib: "cpu",
    lambda lib: lib.device("cpu"),
    lambda lib: {"cpu": "cpu"},
    lambda lib: (lambda storage, loc: storage),
    lambda lib: None,
], ids=["str", "device", "dict", "callable", "none"])
def test_map_location_to_the_cpu_on_the_librarys_own_file(location):
    same_in_both(lambda lib: round_trip(lib, {"w": lib.arange(3.0), "p": lib.nn.Parameter(lib.ones(1))},
                                        map_location=location(lib)))


def test_map_location_callable_is_called_with_cpu_location_on_own_file():
    def run(lib):
        seen = []
        round_trip(lib, {"w": lib.ones(2)}, map_location=lambda storage, loc: seen.append(loc) or storage)
        return seen

    same_in_both(run)


# --- files ------------------------------------------------------------------------------------


def test_bytesio_position_after_save_is_the_end():
    def run(lib):
        buffer = io.BytesIO()
        lib.save({"w": lib.ones(3)}, buffer)
        return buffer.tell() == len(buffer.getvalue()), buffer.tell() > 0

    same_in_both(run)


def test_save_appends_at_the_file_objects_position_and_load_reads_from_it():
    def run(lib):
        buffer = io.BytesIO()
        buffer.write(b"HEAD")
        lib.save({"w": lib.arange(2.0)}, buffer)
        buffer.seek(4)
        return lib.load(buffer)

    same_in_both(run)


def test_loading_from_the_end_of_a_buffer_raises_as_pytorch():
    def run(lib):
        buffer = io.BytesIO()
        lib.save({"w": lib.ones(3)}, buffer)
        return lib.load(buffer)

    raises_as_torch(run)


def test_pathlib_path_and_str(tmp_path):
    def run(lib):
        path = tmp_path / f"{lib.__name__}.pt"
        lib.save({"w": lib.ones(2)}, path)
        return lib.load(path), lib.load(str(path)), path.exists()

    same_in_both(run)


def test_save_to_an_open_file_and_load_from_it(tmp_path):
    def run(lib):
        path = tmp_path / f"{lib.__name__}.bin"
        with open(path, "wb") as handle:
            lib.save([lib.tensor([1, 2])], handle)
        with open(path, "rb") as handle:
            return lib.load(handle)

    same_in_both(run)


@pytest.mark.parametrize("protocol", [2, 4, pickle.HIGHEST_PROTOCOL])
def test_pickle_protocol_argument_round_trips(protocol):
    def run(lib):
        buffer = io.BytesIO()
        lib.save({"w": lib.ones(2), "s": "x"}, buffer, pickle_protocol=protocol)
        trusted = lib.load(io.BytesIO(buffer.getvalue()), weights_only=False)
        if protocol == 2:  # PyTorch's weights-only unpickler refuses protocol 4 and 5 (the FRAME opcode),
            return lib.load(io.BytesIO(buffer.getvalue())), trusted  # a PyTorch limit chainrule need not copy
        return trusted

    same_in_both(run)


def test_mmap_true_on_a_path(tmp_path):
    def run(lib):
        path = tmp_path / f"{lib.__name__}.pt"
        lib.save({"w": lib.arange(4.0), "n": 3}, path)
        return lib.load(path, mmap=True)

    same_in_both(run)


@pytest.mark.parametrize("as_path", [str, pathlib.Path], ids=["str", "Path"])
def test_missing_file_is_file_not_found(tmp_path, as_path):
    raises_as_torch(lambda lib: lib.load(as_path(tmp_path / "missing.pt")))


def test_a_directory_is_refused_as_pytorch(tmp_path):
    raises_as_torch(lambda lib: lib.load(tmp_path))


def test_a_file_of_random_bytes_raises_as_pytorch(tmp_path):
    path = tmp_path / "junk.pt"
    path.write_bytes(bytes(range(7, 200)))
    raises_as_torch(lambda lib: lib.load(path))


def test_an_empty_file_raises_as_pytorch(tmp_path):
    path = tmp_path / "empty.pt"
    path.write_bytes(b"")
    raises_as_torch(lambda lib: lib.load(path))
