"""The structure of a checkpoint as JSON: nested dicts, lists and tuples around tensors and numbers.

``Encoder`` turns a saved object into a JSON-ready tree and collects its arrays under entry names;
``Decoder`` rebuilds the object from that tree. Every container and reference is a one-key dict that
names its kind: ``{"dict": [[key, value], ...]}`` (keys keep their type, so int keys come back as
ints), ``{"list": [...]}``, ``{"tuple": [...]}``, ``{"tensor": entry, "requires_grad": bool}``,
``{"ndarray": entry}``, ``{"numpy_scalar": entry}``; numbers, strings, booleans and None are
themselves.

Only numeric and bool arrays are data. Anything else (a Module, a string array, a key that is a
tuple, a list that contains itself) raises ``NotPlainData``, and ``save`` pickles the object instead.
"""
import numpy

from chainrule.backend import as_array, to_numpy
from chainrule.tensor import Tensor, tensor_from_array

_SCALARS = (bool, int, float, str, type(None))

# The dtypes a checkpoint stores, with their safetensors names: numbers and booleans only.
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
}


class NotPlainData(Exception):
    """The object holds something the JSON structure can't: ``save`` pickles it instead."""


class Malformed(Exception):
    """What is wrong with a file being read; ``load`` turns it into a ValueError naming the file."""


def is_storable(array):
    return isinstance(array, numpy.ndarray) and array.dtype.name in STORABLE_DTYPES


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

    def encode(self, value, path=()):
        if isinstance(value, Tensor):
            return {"tensor": self.store(value, to_numpy(value.array), path), "requires_grad": value.requires_grad}
        if isinstance(value, numpy.ndarray):
            return {"ndarray": self.store(value, value, path)}
        if isinstance(value, numpy.generic):
            return {"numpy_scalar": self.store(value, numpy.asarray(value), path)}
        if isinstance(value, _SCALARS):
            return value
        if isinstance(value, (dict, list, tuple)):
            if id(value) in self.open_containers:
                raise NotPlainData(f"{_where(path)} contains itself")
            self.open_containers.add(id(value))
            try:
                return self.encode_container(value, path)
            finally:
                self.open_containers.discard(id(value))
        raise NotPlainData(f"{_where(path)} is a {type(value).__name__}")

    def encode_container(self, value, path):
        if isinstance(value, dict):
            for key in value:
                if type(key) not in (str, int):
                    raise NotPlainData(f"{_where(path)} has a key {key!r} of type {type(key).__name__}")
            return {"dict": [[key, self.encode(item, path + (str(key),))] for key, item in value.items()]}
        kind = "tuple" if isinstance(value, tuple) else "list"
        return {kind: [self.encode(item, path + (str(index),)) for index, item in enumerate(value)]}

    def store(self, owner, array, path):
        entry = self.entry_of.get(id(owner))
        if entry is None:
            if not is_storable(array):
                raise NotPlainData(f"{_where(path)} holds {array.dtype} values (a checkpoint stores numbers and booleans)")
            entry = self.entry_of[id(owner)] = entry_name(path, self.arrays)
            self.arrays[entry] = array
        return entry


def _where(path):
    return "obj" + "".join(f"[{key!r}]" for key in path)


class Decoder:
    """Rebuilds the saved object from its tree; ``arrays`` maps entry names to the stored arrays."""

    def __init__(self, arrays):
        self.arrays = arrays
        self.loaded = {}  # entry -> tensor or array, so shared references stay shared

    def decode(self, node):
        if isinstance(node, _SCALARS):
            return node
        if not isinstance(node, dict) or len(node) not in (1, 2):
            raise Malformed(f"its structure has an unknown node {str(node)[:80]!r}")
        if "tensor" in node:
            return self.entry(node["tensor"], lambda array: _as_tensor(array, node.get("requires_grad") is True))
        if "ndarray" in node:
            return self.entry(node["ndarray"], lambda array: array)
        if "numpy_scalar" in node:
            return self.entry(node["numpy_scalar"], lambda array: array[()])
        if "dict" in node and isinstance(node["dict"], list):
            return {self.key(pair): self.decode(pair[1]) for pair in node["dict"]}
        for kind, build in (("list", list), ("tuple", tuple)):
            if kind in node and isinstance(node[kind], list):
                return build(self.decode(item) for item in node[kind])
        raise Malformed(f"its structure has an unknown node kind {sorted(node)!r}")

    def key(self, pair):
        if not isinstance(pair, list) or len(pair) != 2:
            raise Malformed(f"its structure has a dict item {str(pair)[:80]!r} that is not a [key, value] pair")
        if type(pair[0]) not in (str, int):
            raise Malformed(f"its structure has a dict key of type {type(pair[0]).__name__}")
        return pair[0]

    def entry(self, entry, build):
        if entry not in self.loaded:
            if not isinstance(entry, str) or entry not in self.arrays:
                raise Malformed(f"its structure refers to a missing entry {entry!r}")
            self.loaded[entry] = build(self.arrays[entry])
        return self.loaded[entry]


def _as_tensor(array, requires_grad):
    result = tensor_from_array(as_array(array))
    if requires_grad:
        result.requires_grad = True
    return result
