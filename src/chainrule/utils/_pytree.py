"""``torch.utils._pytree``: nested containers ("pytrees") taken apart into their leaves and put
back together, as PyTorch's Python implementation does.

A pytree is a leaf (anything not registered: a tensor, a number, None, a string) or a node: a
tuple, list, dict, namedtuple, OrderedDict, defaultdict or deque, or a type given to
``register_pytree_node``, whose children are pytrees again::

    leaves, spec = tree_flatten({"a": [1, (2, 3)], "b": {"c": 4}})   # [1, 2, 3, 4]
    tree_unflatten([9, 8, 7, 6], spec)                                # {"a": [9, (8, 7)], "b": {"c": 6}}
    tree_map(lambda x: x * 2, {"a": (1, 2)})                          # {"a": (2, 4)}

``TreeSpec`` describes a tree's shape: the node's type, its ``context`` (a dict's keys, a
namedtuple's class) and a spec per child; a leaf's spec prints as ``*``. Every namedtuple class
counts as the type ``namedtuple``. Key paths (``tree_flatten_with_path``) name where a leaf lies:
``[0]`` in a sequence, ``['key']`` in a mapping, ``.field`` in a namedtuple.
"""
import dataclasses
import enum
import functools
import importlib
import json
import types
import warnings
from collections import OrderedDict, defaultdict, deque, namedtuple
from typing import Any, Callable, NamedTuple

from chainrule.return_types import StructSequence

__all__ = [
    "PyTree", "Context", "FlattenFn", "UnflattenFn", "DumpableContext", "ToDumpableContextFn", "FromDumpableContextFn",
    "PyTreeSpec", "TreeSpec", "LeafSpec", "keystr", "key_get", "register_pytree_node", "tree_is_leaf", "tree_flatten",
    "tree_flatten_with_path", "tree_unflatten", "tree_iter", "tree_leaves", "tree_leaves_with_path", "tree_structure",
    "tree_map", "tree_map_with_path", "tree_map_", "tree_map_only", "tree_map_only_", "tree_all", "tree_any",
    "tree_all_only", "tree_any_only", "treespec_dumps", "treespec_loads", "treespec_pprint", "is_namedtuple",
    "is_namedtuple_class", "is_namedtuple_instance", "is_structseq", "is_structseq_class", "is_structseq_instance",
]

# The type names PyTorch's annotations use, for code that imports them.
Context = Any
PyTree = Any
FlattenFn = Callable[[PyTree], "tuple[list[Any], Context]"]
UnflattenFn = Callable[[Any, Context], PyTree]
DumpableContext = Any
ToDumpableContextFn = Callable[[Context], DumpableContext]
FromDumpableContextFn = Callable[[DumpableContext], Context]

DEFAULT_TREESPEC_SERIALIZATION_PROTOCOL = 1
NO_SERIALIZED_TYPE_NAME_FOUND = "NO_SERIALIZED_TYPE_NAME_FOUND"


class NodeDef(NamedTuple):
    """How a registered type is taken apart (``flatten_fn``: node -> (children, context)) and put
    back (``unflatten_fn``: (children, context) -> node); ``flatten_with_keys_fn`` gives each child
    with its key, for key paths."""

    type: Any
    flatten_fn: Any
    unflatten_fn: Any
    flatten_with_keys_fn: Any = None


class _SerializeNodeDef(NamedTuple):
    """How a registered type's specs are written by ``treespec_dumps``: its name, and how its
    context becomes JSON (None: ``json.dumps`` of the context as it is)."""

    type: Any
    serialized_type_name: str
    to_dumpable_context: Any
    from_dumpable_context: Any


SUPPORTED_NODES = {}
SUPPORTED_SERIALIZED_TYPES = {}
SERIALIZED_TYPE_TO_PYTHON_TYPE = {}


def register_pytree_node(cls, flatten_fn, unflatten_fn, *, serialized_type_name=None, to_dumpable_context=None,
                         from_dumpable_context=None, flatten_with_keys_fn=None):
    """Make ``cls`` a node: ``flatten_fn(node)`` returns ``(children, context)`` and
    ``unflatten_fn(children, context)`` rebuilds it. ValueError if ``cls`` is registered already."""
    if cls in SUPPORTED_NODES:
        raise ValueError(f"{cls} is already registered as pytree node.")
    _register(cls, flatten_fn, unflatten_fn, serialized_type_name, to_dumpable_context, from_dumpable_context,
              flatten_with_keys_fn)


def _register(cls, flatten_fn, unflatten_fn, serialized_type_name=None, to_dumpable_context=None,
              from_dumpable_context=None, flatten_with_keys_fn=None):
    if (to_dumpable_context is None) ^ (from_dumpable_context is None):
        raise ValueError(f"Both to_dumpable_context and from_dumpable_context for {cls} must be None or registered.")
    SUPPORTED_NODES[cls] = NodeDef(cls, flatten_fn, unflatten_fn, flatten_with_keys_fn)
    name = NO_SERIALIZED_TYPE_NAME_FOUND if serialized_type_name is None else serialized_type_name
    SUPPORTED_SERIALIZED_TYPES[cls] = _SerializeNodeDef(cls, name, to_dumpable_context, from_dumpable_context)
    SERIALIZED_TYPE_TO_PYTHON_TYPE[name] = cls


# ----------------------------------------------------------------------------- key paths
@dataclasses.dataclass(frozen=True)
class SequenceKey:
    """The position of a child in a sequence: prints as ``[0]``."""

    idx: int

    def __str__(self):
        return f"[{self.idx!r}]"

    def get(self, sequence):
        return sequence[self.idx]


@dataclasses.dataclass(frozen=True)
class MappingKey:
    """The key of a child in a mapping: prints as ``['name']``."""

    key: Any

    def __str__(self):
        return f"[{self.key!r}]"

    def get(self, mapping):
        return mapping[self.key]


@dataclasses.dataclass(frozen=True)
class GetAttrKey:
    """The attribute holding a child (a namedtuple's field): prints as ``.name``."""

    name: str

    def __str__(self):
        return f".{self.name}"

    def get(self, obj):
        return getattr(obj, self.name)


def keystr(kp):
    """A key path printed: ``['a'][0].x``."""
    return "".join([str(key) for key in kp])


def key_get(obj, kp):
    """The value found by following the key path ``kp`` from ``obj``."""
    for key in kp:
        obj = key.get(obj)
    return obj


# ----------------------------------------------------------------------------- namedtuple and structseq
def is_namedtuple(obj):
    """Whether ``obj`` is a namedtuple, or a namedtuple class."""
    return is_namedtuple_class(obj if isinstance(obj, type) else type(obj))


def is_namedtuple_class(cls):
    """Whether ``cls`` is a namedtuple class (a tuple with ``_fields``, ``_make`` and ``_asdict``)."""
    return (
        isinstance(cls, type) and issubclass(cls, tuple) and isinstance(getattr(cls, "_fields", None), tuple)
        and all(type(field) is str for field in cls._fields)
        and callable(getattr(cls, "_make", None)) and callable(getattr(cls, "_asdict", None))
    )


def is_namedtuple_instance(obj):
    """Whether ``obj`` is an instance of a namedtuple class."""
    return is_namedtuple_class(type(obj))


def is_structseq(obj):
    """Whether ``obj`` is a C struct sequence (``time.struct_time``, ``os.stat_result``) or its class."""
    return is_structseq_class(obj if isinstance(obj, type) else type(obj))


def is_structseq_class(cls):
    """Whether ``cls`` is a C struct sequence class: a direct tuple subclass with ``n_fields``,
    ``n_sequence_fields`` and ``n_unnamed_fields`` that cannot be subclassed."""
    return (
        isinstance(cls, type) and cls.__bases__ == (tuple,)
        and all(isinstance(getattr(cls, name, None), int) for name in ("n_fields", "n_sequence_fields", "n_unnamed_fields"))
        and not cls.__flags__ & (1 << 10)  # Py_TPFLAGS_BASETYPE
    )


def is_structseq_instance(obj):
    """Whether ``obj`` is an instance of a C struct sequence class."""
    return is_structseq_class(type(obj))


# ----------------------------------------------------------------------------- the built-in nodes
def _sequence_with_keys(flatten):
    def with_keys(node):
        children, context = flatten(node)
        return [(SequenceKey(index), child) for index, child in enumerate(children)], context
    return with_keys


def _dict_flatten(node):
    return list(node.values()), list(node.keys())


def _mapping_with_keys(node):
    return [(MappingKey(key), value) for key, value in node.items()], _flatten_function(node)(node)[1]


def _namedtuple_with_keys(node):
    return [(GetAttrKey(field), value) for field, value in zip(node._fields, node)], type(node)


def _namedtuple_serialize(context):
    definition = SUPPORTED_SERIALIZED_TYPES.get(context)
    if definition is None or definition.serialized_type_name == NO_SERIALIZED_TYPE_NAME_FOUND:
        raise NotImplementedError(
            f"Can't serialize TreeSpec of namedtuple class {context} because we didn't register a "
            f"serializated_type_name. Please register using `_register_namedtuple`."
        )
    return definition.serialized_type_name


def _namedtuple_deserialize(dumpable_context):
    if dumpable_context not in SERIALIZED_TYPE_TO_PYTHON_TYPE:
        raise NotImplementedError(
            f"Can't deserialize TreeSpec of namedtuple class {dumpable_context} because we couldn't find a serializated name."
        )
    return SERIALIZED_TYPE_TO_PYTHON_TYPE[dumpable_context]


def _defaultdict_serialize(context):
    default_factory, keys = context
    return {"default_factory_module": default_factory.__module__, "default_factory_name": default_factory.__qualname__,
            "dict_context": keys}


def _defaultdict_deserialize(dumpable_context):
    module = importlib.import_module(dumpable_context["default_factory_module"])
    return [getattr(module, dumpable_context["default_factory_name"]), dumpable_context["dict_context"]]


# The keyed flattens under PyTorch's names: libraries register their own containers with them
# (transformers' ModelOutput, a dict, with ``flatten_with_keys_fn=_dict_flatten_with_keys``).
_tuple_flatten_with_keys = _sequence_with_keys(lambda node: (list(node), None))
_list_flatten_with_keys = _sequence_with_keys(lambda node: (node, None))
_dict_flatten_with_keys = _ordereddict_flatten_with_keys = _defaultdict_flatten_with_keys = _mapping_with_keys
_namedtuple_flatten_with_keys = _namedtuple_with_keys
_deque_flatten_with_keys = _sequence_with_keys(lambda node: (list(node), node.maxlen))

_register(tuple, lambda node: (list(node), None), lambda children, context: tuple(children), "builtins.tuple",
          flatten_with_keys_fn=_tuple_flatten_with_keys)
_register(list, lambda node: (node, None), lambda children, context: list(children), "builtins.list",
          flatten_with_keys_fn=_list_flatten_with_keys)
_register(dict, _dict_flatten, lambda children, keys: dict(zip(keys, children)), "builtins.dict",
          flatten_with_keys_fn=_dict_flatten_with_keys)
_register(namedtuple, lambda node: (list(node), type(node)), lambda children, cls: cls(*children),
          "collections.namedtuple", _namedtuple_serialize, _namedtuple_deserialize, _namedtuple_flatten_with_keys)
_register(StructSequence, lambda node: (list(node), type(node)), lambda children, cls: cls(children),
          "chainrule.return_types", flatten_with_keys_fn=_sequence_with_keys(lambda node: (list(node), type(node))))
_register(OrderedDict, _dict_flatten, lambda children, keys: OrderedDict(zip(keys, children)), "collections.OrderedDict",
          flatten_with_keys_fn=_ordereddict_flatten_with_keys)
_register(defaultdict, lambda node: (list(node.values()), [node.default_factory, list(node.keys())]),
          lambda children, context: defaultdict(context[0], zip(context[1], children)), "collections.defaultdict",
          _defaultdict_serialize, _defaultdict_deserialize, _defaultdict_flatten_with_keys)
_register(deque, lambda node: (list(node), node.maxlen), lambda children, maxlen: deque(children, maxlen=maxlen),
          "collections.deque", flatten_with_keys_fn=_deque_flatten_with_keys)

STANDARD_DICT_TYPES = frozenset({dict, OrderedDict, defaultdict})
BUILTIN_TYPES = frozenset({tuple, list, dict, namedtuple, OrderedDict, defaultdict, deque})


def _get_node_type(tree):
    """The registry key of ``tree``'s type: ``namedtuple`` for every namedtuple class, and
    ``StructSequence`` for every return type (PyTorch registers each of its own)."""
    if isinstance(tree, StructSequence):
        return StructSequence
    return namedtuple if is_namedtuple_class(type(tree)) else type(tree)


def _flatten_function(node):
    return SUPPORTED_NODES[_get_node_type(node)].flatten_fn


def tree_is_leaf(tree, is_leaf=None):
    """Whether ``tree`` is a leaf: of no registered type, or one ``is_leaf`` says is."""
    if is_leaf is not None and is_leaf(tree):
        return True
    return _get_node_type(tree) not in SUPPORTED_NODES


# ----------------------------------------------------------------------------- TreeSpec
class TreeSpec:
    """The shape of a pytree: the root's ``type`` (None for a leaf), its ``context`` and a spec per
    child; ``num_leaves``, ``num_nodes`` and ``num_children`` count them. Specs compare equal when
    the trees have the same shape, and ``unflatten(leaves)`` builds a tree of this shape."""

    __slots__ = ("type", "_context", "_children", "num_nodes", "num_leaves", "num_children")

    def __init__(self, type, context, children_specs):  # noqa: A002 (PyTorch's parameter name)
        self.type, self._context, self._children = type, context, children_specs
        if type is None:
            if context is not None:
                raise AssertionError("leaf node should not have a context")
            if children_specs:
                raise AssertionError("leaf node should not have children")
            self.num_nodes, self.num_leaves, self.num_children = 1, 1, 0
        else:
            self.num_nodes = 1 + sum(child.num_nodes for child in children_specs)
            self.num_leaves = sum(child.num_leaves for child in children_specs)
            self.num_children = len(children_specs)

    def __repr__(self, indent=0):
        if self.type is None:
            return "*"
        text = f"TreeSpec({self.type.__name__}, {self._context}, ["
        if self._children:
            indent += 2
            text += self._children[0].__repr__(indent) + ("," if self.num_children > 1 else "")
            text += ",".join(["\n" + " " * indent + child.__repr__(indent) for child in self._children[1:]])
        return text + "])"

    def __eq__(self, other):
        if self is other:
            return True
        if not isinstance(other, TreeSpec):
            return NotImplemented
        return str(self.type) == str(other.type) and self._context == other._context and self._children == other._children

    def __hash__(self):
        if self.type is defaultdict:
            context = (self._context[0], tuple(self._context[1]))
        elif self.type in (dict, OrderedDict):
            context = tuple(self._context)
        elif self.type is None or self.type in BUILTIN_TYPES:
            context = self._context
        else:  # a registered type's context may not be hashable: equal specs still hash alike
            context = None
        return hash((self.type, context, tuple(self._children)))

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self

    def __reduce__(self):
        return (TreeSpec, (self.type, self._context, self._children))

    @property
    def context(self):
        return self._context

    @property
    def children_specs(self):
        warnings.warn(
            "`treespec.children_specs` is deprecated. Use `treespec.child(index)` to access a single child, or "
            "`treespec.children()` to get all children.",
            FutureWarning,
            stacklevel=2,
        )
        return self._children

    def is_leaf(self):
        """Whether this is a leaf's spec."""
        return self.num_nodes == 1 and self.num_leaves == 1

    def children(self):
        """The specs of the children (a new list)."""
        return list(self._children)

    def child(self, index):
        """The spec of child ``index``."""
        return self._children[index]

    def flatten_up_to(self, tree):
        """The subtrees of ``tree`` found where this spec has its leaves; ValueError where ``tree``
        does not have this spec's shape down to there (a dict may stand for another kind of dict)."""
        subtrees = []
        self._flatten_up_to(tree, subtrees)
        return subtrees

    def _flatten_up_to(self, node, subtrees):
        if self.is_leaf():
            subtrees.append(node)
            return
        node_type = _get_node_type(node)
        if self.type not in BUILTIN_TYPES:
            if node_type != self.type:
                raise ValueError(f"Type mismatch; expected {self.type!r}, but got {node_type!r}.")
            children, context = SUPPORTED_NODES[node_type].flatten_fn(node)
            if len(children) != self.num_children:
                raise ValueError(f"Node arity mismatch; expected {self.num_children}, but got {len(children)}.")
            if context != self._context:
                raise ValueError(f"Node context mismatch for custom node type {self.type!r}.")
        else:
            both_dicts = self.type in STANDARD_DICT_TYPES and node_type in STANDARD_DICT_TYPES
            if not both_dicts and node_type != self.type:
                raise ValueError(f"Node type mismatch; expected {self.type!r}, but got {node_type!r}.")
            if len(node) != self.num_children:
                raise ValueError(f"Node arity mismatch; expected {self.num_children}, but got {len(node)}.")
            if both_dicts:
                expected = self._context if self.type is not defaultdict else self._context[1]
                missing, extra = set(expected) - set(node), set(node) - set(expected)
                if missing or extra:
                    message = (f"; missing key(s): {missing}" if missing else "") + (f"; extra key(s): {extra}" if extra else "")
                    raise ValueError(f"Node keys mismatch{message}.")
                children = [node[key] for key in expected]
            else:
                children, context = SUPPORTED_NODES[node_type].flatten_fn(node)
                if node_type is not deque and context != self._context:
                    raise ValueError(
                        f"Node context mismatch for node type {self.type!r}; expected {self._context!r}, but got {context!r}."
                    )
        for child, spec in zip(children, self._children):
            spec._flatten_up_to(child, subtrees)

    def unflatten(self, leaves):
        """The tree of this shape holding ``leaves`` (as many as ``num_leaves``) in order."""
        if not isinstance(leaves, (list, tuple)):
            leaves = list(leaves)
        if len(leaves) != self.num_leaves:
            raise ValueError(
                f"treespec.unflatten(leaves): `leaves` has length {len(leaves)} but the spec refers to a pytree that "
                f"holds {self.num_leaves} items ({self})."
            )
        if self.is_leaf():
            return leaves[0]
        children, start = [], 0
        for spec in self._children:
            children.append(spec.unflatten(leaves[start:start + spec.num_leaves]))
            start += spec.num_leaves
        return SUPPORTED_NODES[self.type].unflatten_fn(children, self._context)


PyTreeSpec = TreeSpec


class LeafSpec(TreeSpec):
    """A leaf's spec (prints as ``*``). PyTorch deprecates telling specs apart by this class, and
    making one warns as PyTorch's does: ask ``spec.is_leaf()``, make one with ``treespec_leaf()``."""

    __slots__ = ()

    def __init__(self):
        warnings.warn(
            "`isinstance(treespec, LeafSpec)` is deprecated, "
            "use `isinstance(treespec, TreeSpec) and treespec.is_leaf()` instead.",
            FutureWarning,
            stacklevel=2,
        )
        super().__init__(None, None, [])


with warnings.catch_warnings():  # chainrule's own leaf spec, which treespec_leaf() hands out
    warnings.simplefilter("ignore", FutureWarning)
    _LEAF_SPEC = LeafSpec()


def treespec_leaf():
    """A leaf's spec."""
    return _LEAF_SPEC


def treespec_tuple(iterable=(), /):
    """The spec of a tuple whose children have the specs ``iterable``."""
    children = list(iterable)
    if any(not isinstance(child, TreeSpec) for child in children):
        raise ValueError(f"Expected a tuple of TreeSpec values, got: {children!r}.")
    return TreeSpec(tuple, None, children)


def treespec_dict(mapping=(), /, **kwargs):
    """The spec of a dict whose values have the specs given."""
    specs = dict(mapping, **kwargs)
    if any(not isinstance(child, TreeSpec) for child in specs.values()):
        raise ValueError(f"Expected a dictionary of TreeSpec values, got: {specs!r}.")
    return TreeSpec(dict, list(specs.keys()), list(specs.values()))


# ----------------------------------------------------------------------------- flattening and mapping
def tree_flatten(tree, is_leaf=None):
    """``(leaves, spec)``: the leaves of ``tree`` in order, and the spec that puts them back."""
    leaves = []

    def spec_of(node):
        if tree_is_leaf(node, is_leaf=is_leaf):
            leaves.append(node)
            return _LEAF_SPEC
        node_type = _get_node_type(node)
        children, context = SUPPORTED_NODES[node_type].flatten_fn(node)
        return TreeSpec(node_type, context, [spec_of(child) for child in children])

    spec = spec_of(tree)
    return leaves, spec


def broadcast_to_and_flatten(tree, treespec, is_leaf=None):
    """``tree`` (a prefix of the tree ``treespec`` describes: a leaf stands for its whole
    subtree) as a list with one entry per leaf of ``treespec``, as PyTorch's (vmap's ``in_dims``
    and ``out_dims``); None where it is no such prefix."""
    if tree_is_leaf(tree, is_leaf=is_leaf):
        return [tree] * treespec.num_leaves
    node_type = _get_node_type(tree)
    if treespec.is_leaf() or node_type != treespec.type:
        return None
    children, context = SUPPORTED_NODES[node_type].flatten_fn(tree)
    if len(children) != treespec.num_children or context != treespec.context:
        return None
    flat = []
    for child, child_spec in zip(children, treespec.children()):
        child_flat = broadcast_to_and_flatten(child, child_spec, is_leaf=is_leaf)
        if child_flat is None:
            return None
        flat += child_flat
    return flat


_broadcast_to_and_flatten = broadcast_to_and_flatten  # PyTorch's (private) name

def tree_unflatten(leaves, treespec):
    """The tree of shape ``treespec`` holding ``leaves``: the inverse of ``tree_flatten``."""
    if not isinstance(treespec, TreeSpec):
        if not isinstance(leaves, TreeSpec):
            raise TypeError(f"Expected `treespec` to be an instance of PyTreeSpec but got item of type {type(treespec)}.")
        leaves, treespec = treespec, leaves  # PyTorch accepts the spec first too
    return treespec.unflatten(leaves)


def tree_iter(tree, is_leaf=None):
    """The leaves of ``tree``, one by one."""
    if tree_is_leaf(tree, is_leaf=is_leaf):
        yield tree
        return
    children, _ = _flatten_function(tree)(tree)
    for child in children:
        yield from tree_iter(child, is_leaf=is_leaf)


def tree_leaves(tree, is_leaf=None):
    """The leaves of ``tree``, as a list."""
    return list(tree_iter(tree, is_leaf=is_leaf))


def tree_structure(tree, is_leaf=None):
    """The spec of ``tree``."""
    return tree_flatten(tree, is_leaf=is_leaf)[1]


def tree_map(func, tree, *rests, is_leaf=None):
    """A tree of ``tree``'s shape whose leaves are ``func(leaf, *leaves of rests there)``; each of
    ``rests`` has ``tree``'s shape, or has it down to where ``tree`` has leaves."""
    leaves, spec = tree_flatten(tree, is_leaf=is_leaf)
    return spec.unflatten(map(func, leaves, *[spec.flatten_up_to(rest) for rest in rests]))


def tree_map_(func, tree, *rests, is_leaf=None):
    """``func`` called on each leaf (with the matching leaves of ``rests``) for its effect; returns ``tree``."""
    leaves, spec = tree_flatten(tree, is_leaf=is_leaf)
    deque(map(func, leaves, *[spec.flatten_up_to(rest) for rest in rests]), maxlen=0)
    return tree


def map_only(type_or_types_or_pred, /):
    """A decorator: the function applied to values of the given type(s), or for which the
    predicate holds; any other value is returned as it is."""
    if isinstance(type_or_types_or_pred, (type, tuple, types.UnionType)):
        def predicate(value):
            return isinstance(value, type_or_types_or_pred)
    elif callable(type_or_types_or_pred):
        predicate = type_or_types_or_pred
    else:
        raise TypeError("Argument must be a type, a tuple of types, or a callable.")

    def wrapper(func):
        @functools.wraps(func)
        def wrapped(value):
            return func(value) if predicate(value) else value
        return wrapped

    return wrapper


def tree_map_only(type_or_types_or_pred, /, func, tree, is_leaf=None):
    """``tree_map`` of ``func`` on the leaves of the given type(s) (or predicate); others stay."""
    return tree_map(map_only(type_or_types_or_pred)(func), tree, is_leaf=is_leaf)


def tree_map_only_(type_or_types_or_pred, /, func, tree, is_leaf=None):
    """``tree_map_`` of ``func`` on the leaves of the given type(s) (or predicate)."""
    return tree_map_(map_only(type_or_types_or_pred)(func), tree, is_leaf=is_leaf)


def tree_all(pred, tree, is_leaf=None):
    """Whether ``pred`` holds for every leaf."""
    return all(map(pred, tree_iter(tree, is_leaf=is_leaf)))


def tree_any(pred, tree, is_leaf=None):
    """Whether ``pred`` holds for some leaf."""
    return any(map(pred, tree_iter(tree, is_leaf=is_leaf)))


def tree_all_only(type_or_types, /, pred, tree, is_leaf=None):
    """Whether ``pred`` holds for every leaf of the given type(s)."""
    return all(pred(leaf) for leaf in tree_iter(tree, is_leaf=is_leaf) if isinstance(leaf, type_or_types))


def tree_any_only(type_or_types, /, pred, tree, is_leaf=None):
    """Whether ``pred`` holds for some leaf of the given type(s)."""
    return any(pred(leaf) for leaf in tree_iter(tree, is_leaf=is_leaf) if isinstance(leaf, type_or_types))


# ----------------------------------------------------------------------------- key paths of leaves
def _key_paths(key_path, tree, is_leaf):
    if is_leaf is not None and is_leaf(tree):
        yield key_path, tree
        return
    node_type = _get_node_type(tree)
    definition = SUPPORTED_NODES.get(node_type)
    if definition is None:
        yield key_path, tree
        return
    if definition.flatten_with_keys_fn is None:
        raise ValueError(
            f"Did not find a flatten_with_keys_fn for type: {node_type}. Please pass a flatten_with_keys_fn argument "
            f"to register_pytree_node."
        )
    keyed_children, _ = definition.flatten_with_keys_fn(tree)
    for key, child in keyed_children:
        yield from _key_paths((*key_path, key), child, is_leaf)


def tree_flatten_with_path(tree, is_leaf=None):
    """``([(key path, leaf), ...], spec)``: ``tree_flatten`` with where each leaf lies."""
    return list(_key_paths((), tree, is_leaf)), tree_flatten(tree, is_leaf)[1]


def tree_leaves_with_path(tree, is_leaf=None):
    """``[(key path, leaf), ...]`` for the leaves of ``tree``."""
    return list(_key_paths((), tree, is_leaf))


def tree_map_with_path(func, tree, *rests, is_leaf=None):
    """``tree_map`` whose ``func`` gets each leaf's key path first: ``func(path, leaf, *others)``."""
    keyed_leaves, spec = tree_flatten_with_path(tree, is_leaf)
    columns = list(zip(*keyed_leaves)) + [spec.flatten_up_to(rest) for rest in rests]
    return spec.unflatten(func(*values) for values in zip(*columns))


# ----------------------------------------------------------------------------- specs as text
class _EnumEncoder(json.JSONEncoder):
    """JSON of contexts, with enum members written as ``{"__enum__": true, "fqn": ..., "name": ...}``."""

    def default(self, obj):
        if isinstance(obj, enum.Enum):
            return {"__enum__": True, "fqn": f"{obj.__class__.__module__}:{obj.__class__.__qualname__}", "name": obj.name}
        return super().default(obj)


def _enum_from_json(obj):
    if "__enum__" not in obj:
        return obj
    module_name, _, class_name = obj["fqn"].partition(":")
    found = importlib.import_module(module_name)
    for attribute in class_name.split("."):
        found = getattr(found, attribute)
    return found[obj["name"]]


def _spec_to_json(spec):
    if spec.is_leaf():
        return {"type": None, "context": None, "children_spec": []}
    definition = SUPPORTED_SERIALIZED_TYPES.get(spec.type)
    if definition is None:
        raise NotImplementedError(f"Serializing {spec.type} in pytree is not registered.")
    if definition.serialized_type_name == NO_SERIALIZED_TYPE_NAME_FOUND:
        raise NotImplementedError(
            f"No registered serialization name for {spec.type} found. Please update your _register_pytree_node call "
            f"with a `serialized_type_name` kwarg."
        )
    if definition.to_dumpable_context is None:
        try:
            context = json.dumps(spec.context, cls=_EnumEncoder)
        except TypeError as error:
            raise TypeError(
                "Unable to serialize context. Please make the context json dump-able, or register a custom serializer "
                "using _register_pytree_node."
            ) from error
    else:
        context = definition.to_dumpable_context(spec.context)
    return {"type": definition.serialized_type_name, "context": context,
            "children_spec": [_spec_to_json(child) for child in spec.children()]}


def _json_to_spec(schema):
    if schema["type"] is None and schema["context"] is None and not schema["children_spec"]:
        return _LEAF_SPEC
    if schema["type"] not in SERIALIZED_TYPE_TO_PYTHON_TYPE:
        raise NotImplementedError(f"Deserializing {schema['type']} in pytree is not registered.")
    cls = SERIALIZED_TYPE_TO_PYTHON_TYPE[schema["type"]]
    definition = SUPPORTED_SERIALIZED_TYPES[cls]
    if definition.from_dumpable_context is None:
        context = json.loads(schema["context"], object_hook=_enum_from_json)
    else:
        context = definition.from_dumpable_context(schema["context"])
    return TreeSpec(cls, context, [_json_to_spec(child) for child in schema["children_spec"]])


def treespec_dumps(treespec, protocol=None):
    """``treespec`` as a JSON string (PyTorch's protocol 1), which ``treespec_loads`` reads back."""
    if not isinstance(treespec, TreeSpec):
        raise TypeError(f"Expected `treespec` to be an instance of PyTreeSpec but got item of type {type(treespec)}.")
    protocol = DEFAULT_TREESPEC_SERIALIZATION_PROTOCOL if protocol is None else protocol
    if protocol != 1:
        raise ValueError(f"Unknown protocol {protocol}. Available protocols: [1]")
    return json.dumps((protocol, _spec_to_json(treespec)), cls=_EnumEncoder)


@functools.lru_cache
def treespec_loads(serialized):
    """The spec that ``treespec_dumps`` wrote as ``serialized``."""
    protocol, schema = json.loads(serialized)
    if protocol != 1:
        raise ValueError(f"Unknown protocol {protocol}. Available protocols: [1]")
    return _json_to_spec(schema)


class _Asterisk(str):
    """The ``*`` that stands for a leaf in ``treespec_pprint`` (printed without quotes)."""

    def __repr__(self):
        return "*"


def treespec_pprint(treespec):
    """The tree of ``treespec``'s shape with ``*`` for each leaf, as text: ``{'a': [*, (*, *)]}``."""
    return repr(treespec.unflatten([_Asterisk("*")] * treespec.num_leaves))
