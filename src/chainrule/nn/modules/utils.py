"""``torch.nn.modules.utils``: the helpers custom layers import to accept ``3`` or ``(3, 5)`` alike.

``_pair(3) == (3, 3)`` and ``_pair((3, 5)) == (3, 5)``: a kernel size, stride or padding given as one
number means that number along every spatial dimension. ``consume_prefix_in_state_dict_if_present``
strips the ``"module."`` that ``DataParallel`` puts before every key, so its checkpoint loads into
the bare model.
"""
import collections.abc
import itertools


def _ntuple(n, name="parse"):
    """A function turning a number into an ``n``-tuple of it, and any iterable into a tuple of it."""

    def parse(x):
        if isinstance(x, collections.abc.Iterable):
            return tuple(x)
        return tuple(itertools.repeat(x, n))

    parse.__name__ = name
    return parse


_single = _ntuple(1, "_single")
_pair = _ntuple(2, "_pair")
_triple = _ntuple(3, "_triple")
_quadruple = _ntuple(4, "_quadruple")


def _reverse_repeat_tuple(t, n):
    """``t`` reversed, each element ``n`` times: a layer's padding ``(h, w)`` as ``F.pad`` takes it,
    ``(w, w, h, h)`` for ``n = 2``."""
    return tuple(x for x in reversed(t) for _ in range(n))


def _list_with_default(out_size, defaults):
    """An adaptive pool's output size with each ``None`` replaced by the input's size there
    (``defaults`` is the input's shape); an int is returned as it is."""
    if isinstance(out_size, int):
        return out_size
    if len(defaults) <= len(out_size):
        raise ValueError(f"Input dimension should be at least {len(out_size) + 1}")
    return [size if size is not None else default for size, default in zip(out_size, defaults[-len(out_size):])]


def consume_prefix_in_state_dict_if_present(state_dict, prefix):
    """Remove ``prefix`` (``"module."``) from the start of every key of ``state_dict`` that has it,
    in place, and from the keys of its ``_metadata``; keys without it are left as they are."""
    for key in list(state_dict.keys()):
        if key.startswith(prefix):
            state_dict[key[len(prefix):]] = state_dict.pop(key)
    metadata = getattr(state_dict, "_metadata", None)
    if metadata is not None:
        for key in list(metadata.keys()):
            # "" is the wrapper's own entry, "module" the model's, "module.xx" the rest
            if key and (key == prefix.replace(".", "") or key.startswith(prefix)):
                metadata[key[len(prefix):]] = metadata.pop(key)
