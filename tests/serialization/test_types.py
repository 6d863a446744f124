"""The Python types a checkpoint keeps: those torch.load(weights_only=True) rebuilds come back as
themselves, from a chainrule save and from a file real PyTorch wrote; those it refuses are refused
with its error."""
import collections
import enum
import io
import math
import pickle
import re
import warnings

import pytest
import torch

import chainrule


class Colour(enum.Enum):
    RED = 1


Point = collections.namedtuple("Point", "x y")


def values(lib):
    """One of each type PyTorch's weights-only unpickler loads, built with ``lib`` (torch or chainrule)."""
    return {
        "parameter": lib.nn.Parameter(lib.ones(2)),
        "frozen_parameter": lib.nn.Parameter(lib.ones(2), requires_grad=False),
        "tensor": lib.tensor([1.0, 2.0]),
        "leaf": lib.tensor([1.0], requires_grad=True),
        "ordered": collections.OrderedDict([("b", 1), ("a", lib.zeros(1))]),
        "counter": collections.Counter("abracadabra"),
        "size": lib.Size([2, 3]),
        "device": lib.device("cpu"),
        "gpu": lib.device("cuda", 1),
        "float32": lib.float32,
        "int64": lib.int64,
        "bool_dtype": lib.bool,
        "bfloat16": lib.bfloat16,
        "set": {1, "two", (3, 4)},
        "empty_set": set(),
        "tuple_keys": {(1, 2): "pair", (): "empty", 1.5: "float", None: "none", True: "bool", -7: "int"},
        "tuple": (1, (2.5, "three"), None),
        "none": None,
        "bool": False,
        "int": 10**30,
        "float": -1e-300,
        "inf": math.inf,
        "str": "résumé ✓",
        "bytes": b"\x00\xff\x80",
        "bytearray": bytearray(b"ab"),
        "complex": 1.5 - 2j,
        "nested": {"layers": [{"weight": lib.ones(2, 2), "shape": lib.Size([2, 2])}], "flags": (True, None)},
    }


# What PyTorch's weights-only unpickler refuses, and the global its error names.
REFUSED = {
    "frozenset": (frozenset({1, 2}), "frozenset"),
    "defaultdict": (collections.defaultdict(int, a=1), "collections.defaultdict"),
    "namedtuple": (Point(1, 2), "tests.serialization.test_types.Point"),
    "enum": (Colour.RED, "tests.serialization.test_types.Colour"),
    "range": (range(3), "range"),
    "slice": (slice(1, 2), "slice"),
    "type": (int, "int"),
    "ellipsis": (..., "Ellipsis"),
}


def pytorch_type_name(value):
    """The type's name, the same for a torch value and its chainrule twin."""
    if isinstance(value, (torch.dtype, chainrule.dtype)):
        return "dtype"
    return type(value).__name__


def assert_same(loaded, original, where="obj"):
    assert pytorch_type_name(loaded) == pytorch_type_name(original), f"{where}: {type(loaded)} instead of {type(original)}"
    if isinstance(original, (torch.Tensor, chainrule.Tensor)):
        assert loaded.requires_grad == original.requires_grad, where
        assert loaded.tolist() == original.tolist(), where
    elif isinstance(original, dict):
        assert list(loaded) == list(original), f"{where}: keys"
        for key in original:
            assert_same(loaded[key], original[key], f"{where}[{key!r}]")
    elif isinstance(original, (list, tuple)) and not isinstance(original, (torch.Size, chainrule.Size)):
        assert len(loaded) == len(original), where
        for index, (mine, theirs) in enumerate(zip(loaded, original)):
            assert_same(mine, theirs, f"{where}[{index}]")
    elif isinstance(original, (torch.device, torch.dtype)):
        assert str(loaded).removeprefix("chainrule.") == str(original).removeprefix("torch."), where
    else:
        assert loaded == original, where


def round_trip(obj, **load_args):
    buffer = io.BytesIO()
    chainrule.save(obj, buffer)
    return chainrule.load(io.BytesIO(buffer.getvalue()), **load_args)


def saved_by_pytorch(obj, zip_format=True):
    buffer = io.BytesIO()
    torch.save(obj, buffer, _use_new_zipfile_serialization=zip_format)
    return buffer.getvalue()


@pytest.mark.parametrize("name", list(values(chainrule)))
def test_each_type_pytorch_loads_by_default_round_trips_as_data(name):
    original = values(chainrule)[name]
    assert_same(round_trip({"value": original})["value"], original)
    assert_same(round_trip(original), original)


def test_the_types_match_what_pytorch_gives_for_the_same_objects():
    theirs = torch.load(io.BytesIO(saved_by_pytorch(values(torch))))
    ours = round_trip(values(chainrule))
    for name in theirs:
        assert pytorch_type_name(ours[name]) == pytorch_type_name(theirs[name]), name
    assert ours["parameter"].requires_grad and not ours["frozen_parameter"].requires_grad
    assert ours["float32"] is chainrule.float32 and ours["bfloat16"] is chainrule.bfloat16
    assert ours["gpu"] == chainrule.device("cuda:1") and ours["gpu"].index == 1


def test_a_whole_state_dict_keeps_its_ordered_dict_and_parameters_stay_shared():
    model = chainrule.nn.Linear(3, 2)
    checkpoint = {"model": model.state_dict(), "params": list(model.parameters()), "same": model.weight}
    loaded = round_trip(checkpoint)
    assert type(loaded["model"]) is collections.OrderedDict and list(loaded["model"]) == ["weight", "bias"]
    assert type(loaded["params"][0]) is chainrule.nn.Parameter and loaded["params"][0] is loaded["same"]


@pytest.mark.parametrize("zip_format", [True, False], ids=["zip", "stream"])
def test_files_pytorch_writes_load_with_the_same_types_as_in_pytorch(zip_format):
    content = saved_by_pytorch(values(torch), zip_format)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch's own load warns about the stream format's protocol
        theirs = torch.load(io.BytesIO(content))
    ours = chainrule.load(io.BytesIO(content))
    assert_same(ours, theirs)
    assert type(ours["parameter"]) is chainrule.nn.Parameter and type(ours["size"]) is chainrule.Size
    assert ours["bool_dtype"] is chainrule.bool and ours["bfloat16"] is chainrule.bfloat16


def pytorch_refusal(obj):
    """The ``Unsupported global`` sentence of PyTorch's own refusal of ``obj``."""
    with pytest.raises(pickle.UnpicklingError) as refusal:
        torch.load(io.BytesIO(saved_by_pytorch({"x": obj})))
    return re.search(r"Unsupported global: GLOBAL \S+ was not an allowed global by default\.", str(refusal.value)).group(0)


@pytest.mark.parametrize("name", list(REFUSED))
def test_what_pytorch_refuses_is_refused_with_its_error_and_loads_with_weights_only_false(name):
    obj, shown = REFUSED[name]
    sentence = pytorch_refusal(obj)
    assert sentence == f"Unsupported global: GLOBAL {shown} was not an allowed global by default."
    buffer = io.BytesIO()
    chainrule.save({"w": chainrule.ones(2), "x": obj}, buffer)
    with pytest.raises(pickle.UnpicklingError, match=r"(?s)Weights only load failed\..*weights_only=False.*WeightsUnpickler error: " + re.escape(sentence)):
        chainrule.load(io.BytesIO(buffer.getvalue()))
    assert chainrule.load(io.BytesIO(buffer.getvalue()), weights_only=False)["x"] == obj
    with pytest.raises(pickle.UnpicklingError, match=r"(?s)Weights only load failed\..*WeightsUnpickler error: " + re.escape(sentence)):
        chainrule.load(io.BytesIO(saved_by_pytorch({"x": obj})))  # a file PyTorch wrote: the same words


class Tagged(dict):
    """A user's dict subclass."""


def test_subclasses_of_the_plain_types_are_pickled_not_flattened():
    for obj in (collections.defaultdict(list), Point(1, 2), Tagged(a=1)):
        buffer = io.BytesIO()
        chainrule.save(obj, buffer)
        with pytest.raises(pickle.UnpicklingError, match="Weights only load failed"):
            chainrule.load(io.BytesIO(buffer.getvalue()))


def test_a_checkpoint_of_chainrule_0_2_still_loads():
    """The structure of the checkpoints written before these types were data: str and int keys as
    themselves, tensors by entry."""
    import json

    import safetensors.numpy
    import numpy as np

    structure = {"dict": [["epoch", 3], [7, {"tuple": [1.5, None]}], ["w", {"requires_grad": True, "tensor": "w"}]]}
    content = safetensors.numpy.save({"w": np.ones(2, np.float32)}, metadata={"format": "chainrule.checkpoint", "version": "2", "object": json.dumps(structure)})
    loaded = chainrule.load(io.BytesIO(content))
    assert loaded["epoch"] == 3 and loaded[7] == (1.5, None) and loaded["w"].requires_grad


@pytest.mark.parametrize(
    "node, reason",
    [
        ({"dtype": "os.system"}, "dtype node it can't read"),
        ({"device": 3}, "device node it can't read"),
        ({"bytes": "%%%"}, "not base64"),
        ({"complex": [1, "2"]}, "complex node it can't read"),
        ({"set": [{"list": []}]}, "unhashable"),
        ({"dict": [[{"list": [1]}, 2]]}, "can't be a key"),
        ({"size": {"a": 1}}, "size node it can't read"),
    ],
)
def test_malformed_nodes_of_the_new_types_are_refused(node, reason):
    import json

    import safetensors.numpy

    content = safetensors.numpy.save({}, metadata={"format": "chainrule.checkpoint", "version": "2", "object": json.dumps(node)})
    with pytest.raises(ValueError, match=f"(?s)is not a checkpoint chainrule can read: .*{reason}.*Nothing was loaded"):
        chainrule.load(io.BytesIO(content))


def test_a_state_dicts_metadata_survives_as_in_pytorch():
    """torch.save keeps the ``_metadata`` (each module's version) a state dict carries as an attribute."""
    model = chainrule.nn.Sequential(chainrule.nn.Linear(2, 2), chainrule.nn.BatchNorm1d(2))
    loaded = round_trip(model.state_dict())
    assert loaded._metadata == model.state_dict()._metadata and loaded._metadata["1"] == {"version": 2}
    twin = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.BatchNorm1d(2))
    from_pytorch = chainrule.load(io.BytesIO(saved_by_pytorch(twin.state_dict())))
    assert from_pytorch._metadata == twin.state_dict()._metadata
    assert str(model.load_state_dict(from_pytorch)) == "<All keys matched successfully>"


def test_a_plain_dict_of_tensors_stays_readable_by_older_chainrule():
    """Format version 2 unless the new kinds are used, so a checkpoint of plain dicts still loads in
    a chainrule that predates them (which names version 3 as one a newer chainrule reads)."""
    import json
    import struct

    def version(obj):
        buffer = io.BytesIO()
        chainrule.save(obj, buffer)
        content = buffer.getvalue()
        return json.loads(content[8 : 8 + struct.unpack("<Q", content[:8])[0]])["__metadata__"]["version"]

    assert version({"w": chainrule.ones(2), 3: [1.5, (None, "s")]}) == "2"
    assert version({"w": chainrule.ones(2), "s": {1}}) == "3"
    assert version({(1, 2): 3}) == "3"
    assert version(chainrule.nn.Linear(2, 2).state_dict()) == "3"  # an OrderedDict
    assert version({"m": chainrule.nn.Linear(2, 2)}) == "2"  # pickled, as version 2 pickled it


def test_tensors_saved_together_that_share_memory_share_it_again_once_loaded():
    """A tensor and its views (a row, a column, the transpose, a flat view) come back viewing one
    memory with their strides and offsets, as PyTorch's storages do; a Parameter and the state
    dict's tensor of the same values come back as two objects sharing it."""
    def run(lib):
        t = lib.arange(12.0).reshape(3, 4)
        weight = lib.nn.Parameter(lib.ones(2, 2))
        buffer = io.BytesIO()
        lib.save({"t": t, "flat": t.view(-1), "row": t[1], "column": t[:, 2], "transposed": t.t(), "w": weight, "wd": weight.detach()}, buffer)
        buffer.seek(0)
        loaded = lib.load(buffer)
        loaded["flat"][0] = 100.0
        loaded["row"].mul_(2)
        loaded["wd"][0, 0] = 5.0
        return (
            loaded["t"].tolist(), loaded["column"].tolist(), loaded["column"].stride(), loaded["column"].storage_offset(),
            loaded["transposed"].stride(), loaded["transposed"].is_contiguous(), type(loaded["w"]).__name__,
            loaded["w"][0, 0].item(), loaded["wd"] is loaded["w"],
        )

    assert run(chainrule) == run(torch)
