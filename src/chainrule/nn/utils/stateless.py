"""``functional_call``: run a module with some of its parameters and buffers replaced for one call.

``functional_call(model, {"weight": w}, (x,))`` is ``model(x)`` computed with ``w`` in place of
``model.weight``; the module is restored afterwards, even if the call raises. It makes a module a
function of its parameters, for ``torch.func.grad`` and ``vmap`` over parameters (per-example
gradients, model ensembles, meta-learning).
"""
import collections
import contextlib
import warnings

from chainrule.tensor import Tensor

_ABSENT = object()  # marks an attribute that functional_call added, to delete afterwards


def _owner(module, name):
    """The submodule holding ``name`` ("layer.0.weight") and the attribute's own name."""
    path, _, attribute = name.rpartition(".")
    return (module.get_submodule(path) if path else module), attribute


@contextlib.contextmanager
def _replaced(module, values, tie_weights, strict):
    """The module holding ``values`` in place of its own tensors within the block; afterwards its
    own again, and ``values`` updated with what the module held at the end (a module that rebinds
    a buffer in ``forward`` hands the new one back), as PyTorch's ``_reparametrize_module``."""
    swapped = _tied(module, values) if tie_weights else dict(values)
    if strict:
        expected = {name for name, _ in module.named_parameters(remove_duplicate=False)}
        expected |= {name for name, _ in module.named_buffers(remove_duplicate=False)}
        missing, unexpected = sorted(expected - set(swapped)), sorted(set(swapped) - expected)
        if missing or unexpected:
            lines = [f"Error(s) in reparametrizing for {type(module).__name__}:"]
            if unexpected:
                lines.append("\tUnexpected key(s): " + ", ".join(f"'{name}'" for name in unexpected) + ".")
            if missing:
                lines.append("\tMissing key(s): " + ", ".join(f"'{name}'" for name in missing) + ".")
            raise RuntimeError("\n".join(lines))
    originals = {}
    try:
        for name, value in swapped.items():
            originals[name] = _swap(module, name, value)
        yield
    finally:
        final = {name: _swap(module, name, original) for name, original in reversed(originals.items())}
        values.update({name: final[name] for name in values if final.get(name, _ABSENT) is not _ABSENT})


def _swap(module, name, value):
    """Put ``value`` (a tensor, None, or _ABSENT to remove it) where the module holds ``name`` and
    return what was there: a parameter or buffer stays one; any other attribute is set (a Parameter
    given for a new name becomes a parameter for the call) and must have been a tensor or None."""
    if value is not _ABSENT and value is not None and not isinstance(value, Tensor):
        raise TypeError(f"{value} is not an instance of chainrule.Tensor")
    owner, attribute = _owner(module, name)
    for registry in (owner._parameters, owner._buffers):
        if attribute in registry:
            original = registry[attribute]
            if value is _ABSENT:
                del registry[attribute]
            else:
                registry[attribute] = value
            return original
    original = getattr(owner, attribute, _ABSENT)
    if original is not _ABSENT and original is not None and not isinstance(original, Tensor):
        raise TypeError(f"attribute `{attribute}`: {original} is not an instance of chainrule.Tensor")
    if value is not _ABSENT:
        setattr(owner, attribute, value)
    elif original is not _ABSENT:
        delattr(owner, attribute)
    return original


def _tied(module, values):
    """``values`` with, for every tensor the module holds under several names (tied weights), the
    value given for one of them under all of them; two different values for one tensor are refused
    with PyTorch's ValueError."""
    values = dict(values)
    names_of = {}
    for name, tensor in list(module.named_parameters(remove_duplicate=False)) + list(module.named_buffers(remove_duplicate=False)):
        names_of.setdefault(id(tensor), []).append(name)
    for tied in names_of.values():
        given = {id(values[name]): values[name] for name in tied if name in values}
        if len(given) > 1:
            raise ValueError(f"functional_call got multiple values for keys {sorted(tied)}, which are tied. Consider using tie_weights=False")
        if given and len(tied) > 1:
            value = next(iter(given.values()))
            for name in tied:
                values[name] = value
    return values


def functional_call(module, parameters_and_buffers, args=None, kwargs=None, *, tie_weights=True, strict=False):
    """``replaced_call`` under its old name, which warns as PyTorch's does since 2.0."""
    warnings.warn(
        "`chainrule.nn.utils.stateless.functional_call` is deprecated, as in PyTorch 2.0, and will be removed in a "
        "future version. Please use `chainrule.func.functional_call` instead which is a drop-in replacement.",
        FutureWarning,
        stacklevel=2,
    )
    return replaced_call(module, parameters_and_buffers, args, kwargs, tie_weights=tie_weights, strict=strict)


def replaced_call(module, parameters_and_buffers, args=None, kwargs=None, *, tie_weights=True, strict=False):
    """``module(*args, **kwargs)`` with the named tensors in place of the module's own: what
    ``chainrule.func.functional_call`` is.

    ``parameters_and_buffers`` is a dict from names (as ``named_parameters()`` gives them) to
    tensors, or a tuple of such dicts (a name may appear in only one). ``args`` that is not a tuple
    is the single positional argument. With ``tie_weights`` a parameter shared under two names is
    replaced under both; with ``strict`` every parameter and buffer must be given, and no other name.
    """
    if isinstance(parameters_and_buffers, (list, tuple)):
        if not all(isinstance(values, dict) for values in parameters_and_buffers):
            raise ValueError("Expected all elements of parameter_and_buffer_dicts to be dictionaries")
        counts = collections.Counter(name for values in parameters_and_buffers for name in values)
        repeated = [name for name, count in counts.items() if count > 1]
        if repeated:
            raise ValueError(f"{repeated} appeared in multiple dictionaries; behavior of functional call is ambiguous")
        parameters_and_buffers = {name: value for values in parameters_and_buffers for name, value in values.items()}
    args = () if args is None else args if isinstance(args, tuple) else (args,)
    with _replaced(module, parameters_and_buffers, tie_weights, strict):
        return module(*args, **(kwargs or {}))


_functional_call = replaced_call  # PyTorch's (private) name for it, which some code calls
