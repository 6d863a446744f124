"""The structure of a checkpoint as JSON: the data ``torch.load(weights_only=True)`` loads.

``Encoder`` turns a saved object into a JSON-ready tree and collects its arrays under entry names;
``Decoder`` rebuilds the object from that tree. Numbers, strings, booleans and None are themselves;
everything else is a one-key dict that names its kind (a tensor's adds ``requires_grad``):

- containers: ``{"dict": [[key, value], ...]}``, ``{"ordered_dict": ...}`` (with ``"attributes"``,
  a dict, where it has some: a state dict's ``_metadata``), ``{"counter": ...}`` (a key is a node
  too, so int and tuple keys come back as they were), ``{"list": [...]}``,
  ``{"tuple": [...]}``, ``{"set": [...]}``, ``{"size": [...]}`` (a ``Size``);
- arrays: ``{"tensor": entry, "requires_grad": bool}``, ``{"parameter": entry, "requires_grad": bool}``,
  ``{"ndarray": entry}``, ``{"numpy_scalar": entry}``; tensors saved together that share memory
  (a tensor and its views, ``{"t": t, "row": t[1]}``) add ``"view": [shape, strides, offset, number]``
  (the number tells two tensors of one layout apart) and
  name one entry, their memory, flat (format version 4), so that they share it again once loaded,
  with their strides and offsets, as PyTorch's storages do;
- values: ``{"bytes": base64}``, ``{"bytearray": base64}``, ``{"complex": [real, imag]}``,
  ``{"device": "cuda:1"}``, ``{"dtype": "float32"}``.

These are the types PyTorch's weights-only unpickler rebuilds (with NumPy arrays and scalars, which
chainrule stores as data too), matched by exact type: a subclass (a defaultdict, a namedtuple, an
IntEnum, a Tensor subclass) or any other object (a frozenset, a Module, a string array, a list that
contains itself) raises ``NotPlainData``, and ``save`` pickles the object instead, which
``load`` refuses under ``weights_only=True``, as ``torch.load`` does.
"""
import base64
import binascii
import collections
import json

import numpy

from chainrule import dtypes
from chainrule.backend import as_array, memory_owner, strided_view, to_numpy
from chainrule.memory_layout import keep_copied_layout
from chainrule.device import device
from chainrule.nn.parameter import Parameter
from chainrule.tensor import Size, Tensor, tensor_from_array

_SCALARS = (bool, int, float, str, type(None))

# The containers of key-value pairs, by node kind; matched by exact type.
_MAPPINGS = {"dict": dict, "ordered_dict": collections.OrderedDict, "counter": collections.Counter}
_KIND_OF_MAPPING = {mapping: kind for kind, mapping in _MAPPINGS.items()}
_SEQUENCES = {"list": list, "tuple": tuple, "set": set, "size": Size}
_KIND_OF_SEQUENCE = {sequence: kind for kind, sequence in _SEQUENCES.items()}
_BINARY = {"bytes": bytes, "bytearray": bytearray}
_KIND_OF_BINARY = {binary: kind for kind, binary in _BINARY.items()}

#: chainrule's dtypes by the name a checkpoint stores (``float32``, ``bool``, ``bfloat16``).
DTYPES_BY_NAME = {repr(value).rpartition(".")[2]: value for value in vars(dtypes).values() if isinstance(value, dtypes.dtype)}

# The dtypes a checkpoint stores, with their safetensors names: numbers and booleans only.
# (complex128, which safetensors has no code for, is stored as its float64 pairs: safetensors_file.py)
STORABLE_DTYPES = {
    "bool": "BOOL",
    "uint8": "U8",
    "int8": "I8",
    "uint16": "U16",
    "int16": "I16",
    "uint32": "U32",
    "int32": "I32",
    "uint64": "U64",
    "int64": "I64",
    "float16": "F16",
    "float32": "F32",
    "float64": "F64",
    "complex64": "C64",
}


class NotPlainData(Exception):
    """The object holds something the JSON structure can't: ``save`` pickles it instead."""


class Malformed(Exception):
    """What is wrong with a file being read; ``load`` turns it into a ValueError naming the file."""


def is_storable(array):
    return isinstance(array, numpy.ndarray) and (array.dtype.name in STORABLE_DTYPES or array.dtype == numpy.complex128)


def entry_name(path, taken):
    """A readable, unused entry name for the value at ``path``: the dotted keys, as a state dict names it."""
    name = ".".join(path) or "obj"
    candidate, count = name, 1
    while candidate in taken or candidate == "__metadata__":
        count += 1
        candidate = f"{name}#{count}"
    return candidate


class Encoder:
    """Turns an object into a JSON-ready tree, collecting its arrays in ``arrays`` (entry -> array)."""

    def __init__(self):
        self.arrays = {}
        self.entry_of = {}  # id(tensor or array) -> entry, so a shared tensor is stored once
        self.open_containers = set()  # ids of the containers being encoded, to notice a cycle
        self.tensor_nodes = []  # (tensor, its node, the node's kind), for share_memory

    def encode(self, value, path=()):
        kind = type(value)
        if kind is Tensor or kind is Parameter:
            node_kind = "tensor" if kind is Tensor else "parameter"
            node = {node_kind: self.store(value, to_numpy(value._array), path), "requires_grad": value.requires_grad}
            self.tensor_nodes.append((value, node, node_kind))
            return node
        if kind is numpy.ndarray:
            return {"ndarray": self.store(value, value, path)}
        if isinstance(value, numpy.generic):
            return {"numpy_scalar": self.store(value, numpy.asarray(value), path)}
        if kind in _SCALARS:
            return value
        if kind in _KIND_OF_BINARY:
            return {_KIND_OF_BINARY[kind]: base64.b64encode(value).decode("ascii")}
        if kind is complex:
            return {"complex": [value.real, value.imag]}
        if kind is device:
            return {"device": str(value)}
        if kind is dtypes.dtype or issubclass(kind, dtypes.DtypeWithoutArrays):
            return {"dtype": repr(value).rpartition(".")[2]}
        if kind in _KIND_OF_MAPPING or kind in _KIND_OF_SEQUENCE:
            if id(value) in self.open_containers:
                raise NotPlainData(f"{_where(path)} contains itself")
            self.open_containers.add(id(value))
            try:
                return self.encode_container(value, path)
            finally:
                self.open_containers.discard(id(value))
        raise NotPlainData(f"{_where(path)} is a {type(value).__name__}")

    def encode_container(self, value, path):
        kind = type(value)
        if kind in _KIND_OF_MAPPING:
            pairs = [[self.encode(key, path + ("<key>",)), self.encode(item, path + (str(key),))] for key, item in value.items()]
            node = {_KIND_OF_MAPPING[kind]: pairs}
            if kind is collections.OrderedDict and vars(value):  # a state dict's _metadata (its modules' versions)
                node["attributes"] = self.encode(dict(vars(value)), path + ("<attributes>",))
            return node
        return {_KIND_OF_SEQUENCE[kind]: [self.encode(item, path + (str(index),)) for index, item in enumerate(value)]}

    def store(self, owner, array, path):
        entry = self.entry_of.get(id(owner))
        if entry is None:
            if not is_storable(array):
                raise NotPlainData(f"{_where(path)} holds {array.dtype} values (a checkpoint stores numbers and booleans)")
            entry = self.entry_of[id(owner)] = entry_name(path, self.arrays)
            self.arrays[entry] = array
        return entry

    def share_memory(self):
        """Make the tensors that share memory (two or more different tensors of one array's memory,
        of its dtype) name one entry, that memory flat, with each one's place in it: ``"view"``.
        True when some do (the file is then of format version 4)."""
        groups = {}  # id(owner) -> (owner, members)
        for tensor, node, kind in self.tensor_nodes:
            array = tensor._array
            if type(array) is numpy.ndarray:
                owner = memory_owner(array)
                groups.setdefault(id(owner), (owner, []))[1].append((tensor, node, kind))
        shared = False
        for owner, members in groups.values():
            if len({id(tensor) for tensor, _, _ in members}) < 2:
                continue
            places = [_place_in(owner, tensor._array) for tensor, _, _ in members]
            memory = _flat_memory(owner)
            if memory is None or None in places or not is_storable(memory):
                continue  # another dtype's view of it, or memory in no plain order: each stored on its own
            storage = entry_name(("storage", members[0][1][members[0][2]]), self.arrays)
            self.arrays[storage] = memory
            number = {}  # each tensor's own number, so that two of one layout stay two tensors
            for (tensor, node, kind), place in zip(members, places):
                self.arrays.pop(node[kind], None)
                node[kind], node["view"] = storage, place + [number.setdefault(id(tensor), len(number))]
            shared = True
        return shared


def _flat_memory(owner):
    """The memory of the array ``owner`` (which holds its own) as a 1-D array in memory order, or None."""
    if owner.flags.c_contiguous:
        return owner.reshape(-1)
    if owner.flags.f_contiguous:
        return owner.reshape(-1, order="F")
    return None


def _place_in(owner, array):
    """``[shape, strides, offset]`` of ``array`` in the memory of ``owner``, in elements, or None
    where it is no plain view of it (another dtype, strides that are no whole number of elements)."""
    itemsize = owner.itemsize
    start = array.__array_interface__["data"][0] - owner.__array_interface__["data"][0]
    if array.dtype != owner.dtype or start % itemsize or any(stride % itemsize for stride in array.strides):
        return None
    return [list(array.shape), [stride // itemsize for stride in array.strides], start // itemsize]


# The node kinds of format version 2, what chainrule read before the other types were data.
_VERSION_2_KINDS = {"dict", "list", "tuple", "tensor", "ndarray", "numpy_scalar", "requires_grad"}


def format_version(structure, shares_memory=False):
    """``"2"`` when ``structure`` uses only what a version-2 reader knows (so that an older
    chainrule still reads a plain dict of tensors), ``"4"`` when tensors in it share memory
    (``Encoder.share_memory`` said so), else ``"3"``."""
    if shares_memory:
        return "4"
    waiting = [structure]
    while waiting:
        node = waiting.pop()
        if isinstance(node, list):
            waiting.extend(node)
        elif isinstance(node, dict):
            if not set(node) <= _VERSION_2_KINDS:
                return "3"
            if "dict" in node:
                if any(type(key) not in (str, int) for key, _ in node["dict"]):
                    return "3"
                waiting.extend(item for _, item in node["dict"])
            else:
                waiting.extend(node.get("list", node.get("tuple", ())))
    return "2"


def _where(path):
    return "obj" + "".join(f"[{key!r}]" for key in path)


class Decoder:
    """Rebuilds the saved object from its tree; ``arrays`` maps entry names to the stored arrays.

    The tree comes from a file, so every node is checked: an unknown kind, a missing entry or a
    value of the wrong type raises ``Malformed``; nothing the tree names is imported or called
    except the constructors above.
    """

    def __init__(self, arrays):
        self.arrays = arrays
        self.loaded = {}  # entry -> tensor or array, so shared references stay shared
        self.memories = {}  # entry -> the writable flat memory that tensors sharing it view

    def decode(self, node):
        if type(node) in _SCALARS:
            return node
        if not isinstance(node, dict) or len(node) not in (1, 2, 3):
            raise Malformed(f"its structure has an unknown node {str(node)[:80]!r}")
        requires_grad = node.get("requires_grad") is True
        if "view" in node:
            return self.view(node, requires_grad)
        if "tensor" in node:
            return self.entry(node["tensor"], lambda array: _as_tensor(array, requires_grad))
        if "parameter" in node:
            return self.entry(node["parameter"], lambda array: _as_parameter(array, requires_grad))
        if "ordered_dict" in node and set(node) == {"ordered_dict", "attributes"}:
            return self.ordered_dict_with_attributes(node)
        if len(node) != 1:
            raise Malformed(f"its structure has an unknown node kind {sorted(node)!r}")
        ((kind, value),) = node.items()
        if kind == "ndarray":
            return self.entry(value, lambda array: array)
        if kind == "numpy_scalar":
            return self.entry(value, lambda array: array[()])
        if kind in _MAPPINGS and isinstance(value, list):
            mapping = _MAPPINGS[kind]()
            for pair in value:
                key, item = self.pair(pair)
                mapping[key] = item
            return mapping
        if kind in _SEQUENCES and isinstance(value, list):
            return _SEQUENCES[kind](self.decode(item) for item in value)
        if kind in _BINARY and isinstance(value, str):
            try:
                return _BINARY[kind](base64.b64decode(value.encode("ascii"), validate=True))
            except (binascii.Error, UnicodeEncodeError) as error:
                raise Malformed(f"its structure has {kind} that are not base64 ({error})") from error
        if kind == "complex" and isinstance(value, list) and len(value) == 2 and all(type(part) in (int, float) for part in value):
            return complex(*value)
        if kind == "device" and isinstance(value, str):
            return device(value)
        if kind == "dtype" and value in DTYPES_BY_NAME:
            return DTYPES_BY_NAME[value]
        if kind in _MAPPINGS or kind in _SEQUENCES or kind in _BINARY or kind in ("ndarray", "numpy_scalar", "complex", "device", "dtype"):
            raise Malformed(f"its structure has a {kind} node it can't read: {str(node)[:80]!r}")
        raise Malformed(f"its structure has an unknown node kind {sorted(node)!r}")

    def ordered_dict_with_attributes(self, node):
        """An OrderedDict and its attributes (only those PyTorch's unpickler restores: data, by name)."""
        mapping = self.decode({"ordered_dict": node["ordered_dict"]})
        attributes = self.decode(node["attributes"])
        if type(attributes) is not dict or not all(type(name) is str and name.isidentifier() for name in attributes):
            raise Malformed("its structure gives an OrderedDict attributes that are not a dict of names")
        vars(mapping).update(attributes)
        return mapping

    def pair(self, pair):
        if not isinstance(pair, list) or len(pair) != 2:
            raise Malformed(f"its structure has a dict item {str(pair)[:80]!r} that is not a [key, value] pair")
        if not (type(pair[0]) in _SCALARS or isinstance(pair[0], dict)):
            raise Malformed(f"its structure has a dict key of type {type(pair[0]).__name__}")
        key = self.decode(pair[0])
        try:
            hash(key)
        except TypeError as error:
            raise Malformed(f"its structure has a dict key of type {type(key).__name__}, which can't be a key") from error
        return key, self.decode(pair[1])

    def view(self, node, requires_grad):
        """A tensor (or Parameter) viewing memory it shares with others saved with it."""
        kinds = [kind for kind in ("tensor", "parameter") if kind in node]
        if len(kinds) != 1 or set(node) != {kinds[0], "requires_grad", "view"}:
            raise Malformed(f"its structure has an unknown node kind {sorted(node)!r}")
        entry, place = node[kinds[0]], node["view"]
        key = (entry, json.dumps(place))
        if key not in self.loaded:
            if not isinstance(entry, str) or entry not in self.arrays:
                raise Malformed(f"its structure refers to a missing entry {str(entry)[:80]!r}")
            if entry not in self.memories:
                self.memories[entry] = numpy.array(self.arrays[entry]).reshape(-1)  # one writable copy, shared
            array = _viewed(self.memories[entry], place)
            tensor = Parameter(tensor_from_array(array), requires_grad=requires_grad) if kinds[0] == "parameter" else _as_tensor(array, requires_grad)
            keep_copied_layout(tensor)
            self.loaded[key] = tensor
        return self.loaded[key]

    def entry(self, entry, build):
        if not isinstance(entry, str) or entry not in self.arrays:
            raise Malformed(f"its structure refers to a missing entry {str(entry)[:80]!r}")
        if entry not in self.loaded:
            self.loaded[entry] = build(self.arrays[entry])
        return self.loaded[entry]


def _viewed(memory, place):
    """The view ``place`` (``[shape, strides, offset, number]`` in elements) of the flat ``memory``,
    checked to lie inside it."""
    if not (isinstance(place, list) and len(place) == 4 and all(isinstance(part, list) for part in place[:2])
            and type(place[2]) is int and type(place[3]) is int and len(place[0]) == len(place[1])
            and all(type(number) is int for number in place[0] + place[1])):
        raise Malformed(f"its structure has a view it can't read: {str(place)[:80]!r}")
    shape, strides, offset, _ = place
    last = offset + sum((size - 1) * stride for size, stride in zip(shape, strides) if size)
    if min(shape, default=1) < 0 or min(strides, default=0) < 0 or offset < 0 or (0 not in shape and last >= memory.size):
        raise Malformed(f"its structure has a view {str(place)[:80]!r} outside the {memory.size} elements it views")
    return strided_view(memory, tuple(shape), tuple(strides), offset)


def _as_tensor(array, requires_grad):
    result = tensor_from_array(as_array(array))
    if requires_grad:
        result.requires_grad = True
    return result


def _as_parameter(array, requires_grad):
    return Parameter(tensor_from_array(as_array(array)), requires_grad=requires_grad)
