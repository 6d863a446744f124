"""The check ``ep.module()`` makes of its inputs before it runs the graph.

The inputs must nest as the example inputs did (ValueError otherwise, naming both structures);
each tensor must have the example's rank and sizes, but along dynamic dimensions, where its size
must lie in the Dim's range (AssertionError ``Guard failed: x.size()[0] <= 10``, as PyTorch's),
and sizes of one Dim must be equal.
"""
from chainrule.nn.module import Module
from chainrule.tensor import Tensor
from chainrule.utils._pytree import keystr, tree_flatten_with_path


class InputGuard(Module):
    """Flattens forward's arguments by the export's ``in_spec`` and checks them (see the module docstring)."""

    def __init__(self, in_spec, input_dimensions, argument_names, positional_count):
        super().__init__()
        self.in_spec = in_spec
        self.input_dimensions = input_dimensions  # per leaf: None (not a tensor) or (shape with None where dynamic, {dim: (name, min, max)})
        self.argument_names = argument_names
        self.positional_count = positional_count

    def forward(self, *arguments):
        """The flat list of the inputs, checked."""
        args = tuple(arguments[:self.positional_count])
        kwargs = dict(zip(self.argument_names[self.positional_count:], arguments[self.positional_count:]))
        leaves_with_paths, spec = tree_flatten_with_path((args, kwargs))
        if spec != self.in_spec:
            raise ValueError(
                f"Trying to flatten user inputs with exported input tree spec: \n{self.in_spec}\nbut actually got inputs with tree spec of: \n{spec}.\n"
                "Please check that the inputs have the same number and type of args and kwargs as the ones you used when tracing."
            )
        leaves = []
        sizes_of_dims = {}  # the name of a dynamic dimension -> (its size, where it was read first)
        for (path, leaf), expected in zip(leaves_with_paths, self.input_dimensions):
            where = self._where(path)
            if isinstance(expected, tuple):
                _check_tensor(leaf, where, *expected, sizes_of_dims)
            leaves.append(leaf)
        return leaves

    def _where(self, path):
        """How PyTorch names an input in its messages: ``x``, ``d['a']``, ``xs[0]``."""
        top, *rest = path[1:]
        name = self.argument_names[top.idx] if hasattr(top, "idx") else str(top.key)
        return name + keystr(rest)


def _check_tensor(value, where, shape, dynamic, sizes_of_dims):
    if not isinstance(value, Tensor):
        raise AssertionError(f"Guard failed: {where} is a tensor (got {type(value).__name__})")
    if value.dim() != len(shape):
        raise AssertionError(f"Guard failed: {where}.dim() == {len(shape)} (got shape {tuple(value.shape)})")
    for dimension, (size, expected) in enumerate(zip(value.shape, shape)):
        if expected is not None and size != expected:
            raise AssertionError(f"Guard failed: {where}.size()[{dimension}] == {expected} (got {size}; the export fixed this size: declare it dynamic with Dim to vary it)")
        if expected is None:
            name, lower, upper, root, scale, offset = dynamic[dimension]
            if size > upper:
                raise AssertionError(f"Guard failed: {where}.size()[{dimension}] <= {upper} (got {size}, above the range of {name})")
            if lower > 2 and size < lower:  # sizes 0 and 1 are allowed below a lower bound of 2, as PyTorch does
                raise AssertionError(f"Guard failed: {where}.size()[{dimension}] >= {lower} (got {size}, below the range of {name})")
            here = f"{where}.size()[{dimension}]"
            root_size = (size - offset) / scale
            root_written = _linear(here, 1, -offset) if scale == 1 else f"({_linear(here, 1, -offset)}) / {scale}"
            first_root_size, first_root_written = sizes_of_dims.setdefault(root, (root_size, root_written))
            if root_size != first_root_size:
                expected = _linear(first_root_written if " " not in first_root_written else f"({first_root_written})", scale, offset)
                raise AssertionError(f"Guard failed: {here} == {expected} (got {size}: the sizes of {root} disagree)")


def _linear(text, scale, offset):
    """``scale * text + offset`` written out: ``text``, ``2*text``, ``text + 1``, ``text - 1``."""
    written = f"{scale}*{text}" if scale != 1 else text
    return written + (f" + {offset}" if offset > 0 else f" - {-offset}" if offset else "")
