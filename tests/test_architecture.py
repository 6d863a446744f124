"""The layering rules of docs/ARCHITECTURE.md, checked on the source itself.

- Imports point one way: the largest circle of modules that import each other (counting imports
  inside functions too) has at most 4 modules, and the engine imports nothing from ``ops/``.
- No module imports an underscored name from another package.
- Every call specific to the array library lives in ``backend.py``: the packages below use only the
  attributes of ``xp`` that NumPy and CuPy share, so that a GPU backend is one new file.
- A graph is freed by reference counting alone: with the cycle collector off, a forward pass that
  is dropped without backward frees its arrays at once.
"""
import ast
import functools
import gc
import pathlib

import pytest

import chainrule

SOURCE = pathlib.Path(chainrule.__file__).parent
PACKAGES_BEHIND_THE_SEAM = ("ops", "nn", "optim", "train", "autograd")

# What ``xp.NAME`` may name outside backend.py: functions and types that NumPy and CuPy both
# provide with the same meaning. Anything else needs a named helper in backend.py.
SHARED_ARRAY_API = {
    "abs", "absolute", "add", "all", "allclose", "amax", "amin", "any", "arange", "argmax", "argmin",
    "argsort", "array", "array_equal", "asarray", "bitwise_and", "bitwise_not", "bitwise_or",
    "bitwise_xor", "bool_", "broadcast_arrays", "broadcast_shapes", "broadcast_to", "can_cast", "ceil",
    "clip", "concatenate", "cos", "cosh", "count_nonzero", "cumprod", "cumsum", "diag", "diagonal", "divide", "dtype",
    "einsum", "empty", "empty_like", "equal", "exp", "expand_dims", "expm1", "eye", "finfo", "flip", "float16",
    "float32", "float64", "floor", "floor_divide", "full", "full_like", "greater", "greater_equal",
    "iinfo", "inf", "int8", "int16", "int32", "int64", "integer", "invert", "isclose", "isfinite", "isinf",
    "isnan", "less", "less_equal", "linspace", "log", "log1p", "logaddexp", "logical_and", "logical_not",
    "logical_or", "logical_xor", "matmul", "max", "maximum", "mean", "min", "minimum", "moveaxis",
    "multiply", "nan", "ndarray", "negative", "nonzero", "not_equal", "ones", "ones_like", "pad", "pi", "power",
    "prod", "ravel_multi_index", "remainder", "repeat", "reshape", "result_type", "rint", "round", "sign", "sin", "sinh",
    "split", "sqrt", "square", "stack", "std", "subtract", "sum", "swapaxes", "take", "take_along_axis",
    "tan", "tanh", "tensordot", "tile", "transpose", "tril", "triu", "true_divide", "uint8", "unravel_index",
    "var", "where", "zeros", "zeros_like", "e", "cbrt", "exp2", "log2", "log10", "arccos", "arcsin",
    "arctan", "arctan2", "arccosh", "arcsinh", "arctanh", "hypot", "fmod", "trunc", "sort", "cumsum",
    "isin", "unique", "bincount", "histogram", "kron", "roll", "rot90", "fliplr", "flipud", "meshgrid",
    "searchsorted", "nan_to_num", "diff", "outer", "dot", "vdot", "inner", "median", "percentile", "quantile",
    "nanmean", "nansum", "signbit", "copysign", "frexp", "ldexp", "nextafter", "sinc", "i0",
    "argwhere", "flatnonzero", "ascontiguousarray", "atleast_1d", "atleast_2d", "column_stack",
    "hstack", "vstack", "dstack", "squeeze", "trace", "linalg", "float_", "complex64", "complex128",
    "uint16", "uint32", "uint64", "bool", "newaxis", "partition", "argpartition", "lexsort",
    "logaddexp2", "heaviside", "fabs", "positive", "reciprocal", "conj", "real", "imag", "issubdtype",
    "floating", "signedinteger", "unsignedinteger", "number", "promote_types", "shares_memory", "angle",
    "fft",  # (numpy.fft and cupy.fft: fftn, ifftn, rfftn, irfftn with s, axes and norm)
}


@functools.lru_cache(maxsize=1)
def _modules():
    """(module name, path, syntax tree) of every source file, parsed once for the tests here."""
    found = []
    for path in sorted(SOURCE.rglob("*.py")):
        parts = path.relative_to(SOURCE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found.append((name, path, ast.parse(path.read_text())))
    return found


def _imports(module_name, path, tree):
    """(imported module, imported names) for every import in the file, nested ones included."""
    package = module_name if path.name == "__init__.py" else module_name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, ()
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            yield base, tuple(alias.name for alias in node.names)


def _import_graph():
    modules = {name: (path, tree) for name, path, tree in _modules()}
    graph = {name: set() for name in modules}
    for name, (path, tree) in modules.items():
        for target, names in _imports(name, path, tree):
            submodules = {f"{target}.{imported}" for imported in names} & modules.keys()
            for imported in submodules or ({target} & modules.keys()):
                if imported != name:
                    graph[name].add(imported)
    return graph


def _strongly_connected(graph):
    """Tarjan's algorithm, iterative: the groups of modules that all reach each other."""
    index, low, on_stack, stack, groups, counter = {}, {}, set(), [], [], [0]
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter[0]
                    counter[0] += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    group = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.append(member)
                        if member == node:
                            break
                    groups.append(sorted(group))
    return groups


def largest_import_circle():
    return max(_strongly_connected(_import_graph()), key=len)


def test_the_largest_import_circle_has_at_most_four_modules():
    circle = largest_import_circle()
    assert len(circle) <= 4, f"these modules import each other in a circle: {circle}"


def test_the_engine_imports_nothing_from_ops():
    graph = _import_graph()
    for name in graph:
        if name.startswith("chainrule.autograd"):
            assert not [target for target in graph[name] if target.startswith("chainrule.ops")], name


# The array seam alone may reach into NumPy's internals, each with a fallback to the public API:
# the floating-point error state as a context variable (numpy.errstate's own, set in half its time).
SEAM_INTERNALS = {("chainrule.backend", "numpy._core", "_ufunc_config")}


def test_no_underscored_name_is_imported_from_another_package():
    offenders = []
    for name, path, tree in _modules():
        package = name.rpartition(".")[0] if path.name != "__init__.py" else name
        for target, names in _imports(name, path, tree):
            target_package = target.rpartition(".")[0]
            for imported in names:
                if (name, target, imported) in SEAM_INTERNALS:
                    continue
                if imported.startswith("_") and not imported.startswith("__") and target_package != package and target != package:
                    offenders.append(f"{name} imports {imported} from {target}")
    assert not offenders, "\n".join(offenders)


def numpy_only_calls():
    """``module: xp.NAME`` (or a NumPy import) for each array-library call outside the shared list."""
    found = []
    for name, path, tree in _modules():
        if name.split(".")[1:2] and name.split(".")[1] not in PACKAGES_BEHIND_THE_SEAM:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "xp":
                if node.attr not in SHARED_ARRAY_API:
                    found.append(f"{name}:{node.lineno}: xp.{node.attr}")
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                modules = [alias.name for alias in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                if any(module.split(".")[0] in ("numpy", "cupy") for module in modules):
                    found.append(f"{name}:{node.lineno}: imports {modules}")
            elif isinstance(node, ast.Attribute) and node.attr in ("flags", "__array_interface__", "errstate", "stride_tricks", "at"):
                found.append(f"{name}:{node.lineno}: .{node.attr}")
    return found


def test_calls_specific_to_numpy_live_in_the_backend():
    found = numpy_only_calls()
    assert not found, "use (or add) a named helper in backend.py:\n" + "\n".join(found)


FORWARD_ONLY = {
    "tanh": lambda x: x.tanh(),
    "sigmoid": lambda x: x.sigmoid(),
    "exp": lambda x: x.exp(),
    "sqrt": lambda x: (x * x).sqrt(),
    "softmax": lambda x: x.softmax(dim=1),
    "mlp": lambda x: chainrule.nn.functional.cross_entropy(x.relu() @ x.T, chainrule.zeros(x.shape[0], dtype=chainrule.int64)),
}


@pytest.mark.parametrize("name", sorted(FORWARD_ONLY))
def test_a_dropped_forward_pass_is_freed_without_the_cycle_collector(name):
    import weakref

    x = chainrule.randn(64, 64, requires_grad=True)
    gc.disable()
    try:
        result = FORWARD_ONLY[name](x)
        node = weakref.ref(result.grad_fn)
        del result
        assert node() is None, f"{name}: the graph of a dropped result outlived it (a reference cycle)"
    finally:
        gc.enable()


def test_every_tensor_method_says_what_it_does():
    """``help(x.exp)`` in a lesson shows the formula and its derivative: no public method of Tensor
    is without a docstring (PyTorch documents every one)."""
    import inspect

    undocumented = [
        name for name, member in inspect.getmembers(chainrule.Tensor)
        if not name.startswith("_") and not isinstance(member, property) and callable(member)
        and not (getattr(member, "__doc__", None) or "").strip()
    ]
    assert not undocumented, f"Tensor methods without a docstring: {undocumented}"
