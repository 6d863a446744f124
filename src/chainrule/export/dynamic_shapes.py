"""Dynamic shapes: which input sizes an exported program accepts besides the example's.

``Dim("batch", min=2, max=64)`` names a size that may vary within [min, max]; the same Dim on two
inputs says their sizes are equal, and ``batch + 1``, ``2 * batch`` name sizes that follow it. ``Dim.AUTO`` lets export decide (dynamic where the code allows,
static where it does not), ``Dim.DYNAMIC`` asks for a dynamic size (an error where the code
requires a particular value), ``Dim.STATIC`` (or None) fixes the example's size::

    batch = Dim("batch", min=2, max=64)
    export(model, (x, y), dynamic_shapes={"x": {0: batch}, "y": (batch, Dim.STATIC)})

``dynamic_shapes`` mirrors the inputs: a dict by forward's argument names, or a tuple by position;
for each tensor a dict ``{dimension: spec}`` or a tuple of specs, one per dimension.
``ShapesCollection`` gives the specs by tensor instead (``shapes[x] = {0: batch}``), and
``AdditionalInputs`` infers them from more example inputs.
"""
import dataclasses
import inspect
import math
from typing import Optional

from chainrule.export.errors import UserError, UserErrorType
from chainrule.tensor import Tensor
from chainrule.utils._pytree import tree_leaves, tree_map


class _DimHint:
    """``Dim.AUTO``, ``Dim.DYNAMIC`` or ``Dim.STATIC`` (see the module docstring)."""

    def __init__(self, kind):
        self.kind = kind

    def __repr__(self):
        return f"DimHint({self.kind})"


class Dim:
    """A named input size that may take any value in [min, max] (see the module docstring)."""

    AUTO = _DimHint("AUTO")
    DYNAMIC = _DimHint("DYNAMIC")
    STATIC = _DimHint("STATIC")

    def __init__(self, name, *, min=None, max=None):  # noqa: A002 (PyTorch's names)
        lower = 0 if min is None else min
        upper = math.inf if max is None else max
        if not lower <= upper:
            raise UserError(UserErrorType.INVALID_INPUT, f"Cannot create Dim with inconsistent min={min}, max={max}")
        self.__name__ = name
        self.min = lower
        self.max = upper

    def __repr__(self):
        bounds = f", min={self.min}" + ("" if self.max == math.inf else f", max={self.max}")
        return f"Dim({self.__name__!r}{bounds})"

    # A size that is a fixed function of another (``dimx + 1``, ``2 * dimx``): a _DerivedDim.
    def __add__(self, other):
        return _DerivedDim.of(self, 1, _int(other, "+"))

    __radd__ = __add__

    def __sub__(self, other):
        return _DerivedDim.of(self, 1, -_int(other, "-"))

    def __mul__(self, other):
        return _DerivedDim.of(self, _int(other, "*"), 0)

    __rmul__ = __mul__


class _DerivedDim(Dim):
    """The size ``scale * root + offset`` of another Dim ``root`` (``dimx + 1``, ``2 * dimx``): its
    range follows from the root's, and the sizes it is given must keep the relation."""

    def __init__(self, root, scale, offset):
        self.root = root
        self.scale = scale
        self.offset = offset
        self.__name__ = (f"{scale}*{root.__name__}" if scale != 1 else root.__name__) + (f" + {offset}" if offset > 0 else f" - {-offset}" if offset else "")
        self.min = scale * root.min + offset
        self.max = scale * root.max + offset

    @classmethod
    def of(cls, dim, scale, offset):
        """``scale * dim + offset``, written in terms of ``dim``'s root where ``dim`` is derived itself."""
        if isinstance(dim, _DerivedDim):
            return cls(dim.root, scale * dim.scale, scale * dim.offset + offset)
        return cls(dim, scale, offset)

    def __repr__(self):
        return self.__name__


def _int(value, operator):
    if not isinstance(value, int) or isinstance(value, bool):
        raise NotImplementedError(f"Attempted to derive a Dim with {operator} {value!r}: only ints are supported (dim + 1, 2 * dim)")
    return value


def dims(*names, min=None, max=None):  # noqa: A002 (PyTorch's names)
    """One Dim per name, all with the range [min, max]."""
    return tuple(Dim(name, min=min, max=max) for name in names)


class ShapesCollection:
    """Dynamic shapes given by tensor (``shapes[x] = {0: batch}``), turned into the structure of the
    inputs by ``dynamic_shapes(model, args, kwargs)``."""

    def __init__(self):
        self._shapes = {}  # id of a tensor -> (the tensor, its spec)

    def __setitem__(self, tensor, shape):
        if not isinstance(tensor, Tensor):
            raise ValueError(f"Cannot assign shape to non-tensor type {type(tensor)}")
        self._shapes[id(tensor)] = (tensor, shape)

    def __getitem__(self, tensor):
        return self._shapes.setdefault(id(tensor), (tensor, {}))[1]

    def __len__(self):
        return len(self._shapes)

    def dynamic_shapes(self, m, args, kwargs=None):
        """The specs in the structure of ``(args, kwargs)``: each tensor's spec, None elsewhere."""
        def spec_of(leaf):
            return self._shapes[id(leaf)][1] if isinstance(leaf, Tensor) and id(leaf) in self._shapes else None

        specs = tree_map(spec_of, (tuple(args), dict(kwargs or {})))
        return (*specs[0], *specs[1].values()) if kwargs else specs[0]


class AdditionalInputs:
    """Dynamic shapes inferred from more example inputs: ``add(args, kwargs)`` each; a size that
    differs between them and export's example is dynamic (Dim.DYNAMIC), one that never does is
    static. ``verify(ep)`` runs the exported program on each."""

    def __init__(self):
        self._examples = []

    def add(self, args, kwargs=None):
        if not isinstance(args, tuple):
            raise ValueError(f"Representative args {args} must be a tuple")
        if kwargs is not None and not isinstance(kwargs, dict):
            raise ValueError(f"Representative kwargs {kwargs} must be None or a dict")
        self._examples.append((args, dict(kwargs or {})))

    def dynamic_shapes(self, m, args, kwargs=None):
        """``{argument name: spec}`` (a tuple of Dim.DYNAMIC or None per dimension, for each tensor)."""
        examples = [(args, dict(kwargs or {})), *self._examples]
        forward = type(m).forward.__get__(m)
        bound = [_bound_inputs(forward, *example) for example in examples]
        if any(list(each) != list(bound[0]) for each in bound):
            raise UserError(UserErrorType.INVALID_INPUT, f"AdditionalInputs: the inputs added name other arguments than {list(bound[0])}")

        def spec(*tensors):
            if not isinstance(tensors[0], Tensor):
                return None
            if any(not isinstance(each, Tensor) or each.dim() != tensors[0].dim() for each in tensors):
                raise UserError(UserErrorType.INVALID_INPUT, "AdditionalInputs: a tensor input has another rank (or is no tensor) in an added example")
            return tuple(Dim.DYNAMIC if len({each.shape[dimension] for each in tensors}) > 1 else None for dimension in range(tensors[0].dim()))

        return {name: tree_map(spec, bound[0][name], *(each[name] for each in bound[1:])) for name in bound[0]}

    def verify(self, ep):
        """Run ``ep.module()`` on each added example (its checks raise for one it does not accept)."""
        module = ep.module()
        for args, kwargs in self._examples:
            module(*args, **kwargs)


@dataclasses.dataclass(frozen=True)
class DimensionSpec:
    """What one input dimension may be, once export has read ``dynamic_shapes``: its ``name``
    (a Dim's, or ``input_dim0`` for a hint), range [``min``, ``max``], whether it came from a
    hint (``hint``: export may find it equal to another) and whether export may fix it to the
    example's size instead of failing (``auto``)."""

    name: str
    min: int
    max: float
    auto: bool = False
    hint: bool = False
    root: Optional[tuple] = None  # for a derived Dim: (its root's name, min, max), the size being scale * root + offset
    scale: int = 1
    offset: int = 0


def dimension_specs(forward, args, kwargs, dynamic_shapes, leaf_names):
    """For each flattened input (``leaf_names`` in order), ``{dimension: DimensionSpec}`` of its dynamic dimensions."""
    if isinstance(dynamic_shapes, (ShapesCollection, AdditionalInputs)):
        dynamic_shapes = dynamic_shapes.dynamic_shapes(forward.__self__, args, kwargs)
    inputs = _bound_inputs(forward, args, kwargs)
    if dynamic_shapes is None:
        return [{} for _ in leaf_names]
    if isinstance(dynamic_shapes, dict):
        names = list(inputs)
        if not set(dynamic_shapes) <= set(names):
            raise UserError(
                UserErrorType.INVALID_INPUT,
                f"When `dynamic_shapes` is specified as a dict, its top-level keys must be the arg names {names} of `inputs`, "
                f"but here they are {list(dynamic_shapes)}. Alternatively, you could also ignore arg names entirely and specify "
                "`dynamic_shapes` as a list/tuple matching `inputs`."
            )
        per_input = [dynamic_shapes.get(name) for name in names]
    else:
        per_input = list(dynamic_shapes)
        if len(per_input) != len(inputs):
            raise UserError(UserErrorType.INVALID_INPUT, f"dynamic_shapes has {len(per_input)} entries but the inputs are {len(inputs)} ({list(inputs)}): give one per input")
    specs = []
    for (name, value), spec in zip(inputs.items(), per_input):
        leaves = tree_leaves(value)
        spec_leaves = _spec_leaves(value, spec, name)
        for position, (leaf, leaf_spec) in enumerate(zip(leaves, spec_leaves)):
            specs.append(_tensor_dimensions(leaf, leaf_spec, leaf_names[len(specs)]))
    return specs


def _bound_inputs(forward, args, kwargs):
    """forward's arguments by name, in the order they are flattened (positional, then keywords)."""
    parameters = list(inspect.signature(forward).parameters.values())
    named = {}
    for parameter, value in zip(parameters, args):
        if parameter.kind is parameter.VAR_POSITIONAL:
            break
        named[parameter.name] = value
    for position, value in enumerate(args[len(named):]):
        named[f"args_{len(named) + position}"] = value
    named.update(kwargs)
    return named


def _spec_leaves(value, spec, name):
    """The spec of each tensor of ``value`` (a pytree), read from ``spec``, which mirrors it."""
    if isinstance(value, Tensor):
        return [spec]
    if spec is None:
        return [None] * len(tree_leaves(value))
    if isinstance(value, dict):
        return [leaf for key in value for leaf in _spec_leaves(value[key], spec.get(key) if isinstance(spec, dict) else None, name)]
    if isinstance(value, (tuple, list)):
        if not isinstance(spec, (tuple, list)) or len(spec) != len(value):
            raise UserError(UserErrorType.INVALID_INPUT, f"dynamic_shapes of input {name!r}: expected a {type(value).__name__} of {len(value)} specs, got {spec!r}")
        return [leaf for item, item_spec in zip(value, spec) for leaf in _spec_leaves(item, item_spec, name)]
    return [None] * len(tree_leaves(value))


def _tensor_dimensions(tensor, spec, leaf_name):
    """``{dimension: DimensionSpec}`` of one input tensor's spec (a dict or a tuple of Dims, hints, None)."""
    if spec is None or not isinstance(tensor, Tensor):
        return {}
    if isinstance(spec, (tuple, list)):
        if len(spec) != tensor.dim():
            raise UserError(UserErrorType.INVALID_INPUT, f"dynamic_shapes of {leaf_name}: {len(spec)} specs for a tensor of {tensor.dim()} dimensions {tuple(tensor.shape)}")
        spec = dict(enumerate(spec))
    if not isinstance(spec, dict):
        raise UserError(UserErrorType.INVALID_INPUT, f"dynamic_shapes of {leaf_name}: expected a dict or tuple of Dims, got {spec!r}")
    found = {}
    for dimension, item in spec.items():
        if not -tensor.dim() <= dimension < tensor.dim():
            raise UserError(UserErrorType.INVALID_INPUT, f"dynamic_shapes of {leaf_name}: dimension {dimension} does not exist in a tensor of shape {tuple(tensor.shape)}")
        dimension %= tensor.dim()
        if isinstance(item, _DerivedDim):
            root = item.root
            found[dimension] = DimensionSpec(item.__name__, item.min, item.max, root=(root.__name__, root.min, root.max), scale=item.scale, offset=item.offset)
        elif isinstance(item, Dim):
            found[dimension] = DimensionSpec(item.__name__, item.min, item.max)
        elif isinstance(item, _DimHint) and item.kind != "STATIC":
            found[dimension] = DimensionSpec(f"{leaf_name}_dim{dimension}", 2, math.inf, auto=item.kind == "AUTO", hint=True)
        elif item is not None and not isinstance(item, _DimHint):
            raise UserError(UserErrorType.INVALID_INPUT, f"dynamic_shapes of {leaf_name}: unexpected spec {item!r} for dimension {dimension}: use a Dim, Dim.AUTO, Dim.DYNAMIC, Dim.STATIC or None")
    return found
