"""``chainrule.version``, as ``torch.version``: the version code compares, and the accelerators it
was built with (none: chainrule computes with NumPy on the CPU, so ``torch.version.cuda`` is None as
on a CPU build).

``__version__`` is the version of PyTorch's API that chainrule follows, ``2.13.0+chainrule``:
course code asks it which names to call (``if torch.__version__ >= "2.0"``, d2l's and the STAT 453
helpers' ``Version("1.7")`` checks), and must take the branches it takes with PyTorch 2.13.
chainrule's own release is ``release``. As PyTorch's, it is a string that compares as a version.
"""
import re

release = "0.1.0"  # chainrule's own release (pyproject.toml's version)


class TorchVersion(str):
    """A version string that compares as a version, not as text: ``"2.13.0" >= "2.9"`` (False as
    strings), and with tuples, ``>= (2, 9)``. The release numbers are compared first (missing ones
    are 0), then the local label after ``+`` (a version with one is after the same without)."""

    def _key(self):
        return _version_key(str(self))

    def _compare(self, other, holds):
        other_key = _version_key(other)
        if other_key is None:
            return NotImplemented
        return holds(self._key(), other_key)

    def __eq__(self, other):
        return self._compare(other, lambda a, b: a == b)

    def __ne__(self, other):
        return self._compare(other, lambda a, b: a != b)

    def __lt__(self, other):
        return self._compare(other, lambda a, b: a < b)

    def __le__(self, other):
        return self._compare(other, lambda a, b: a <= b)

    def __gt__(self, other):
        return self._compare(other, lambda a, b: a > b)

    def __ge__(self, other):
        return self._compare(other, lambda a, b: a >= b)

    __hash__ = str.__hash__


def _version_key(value):
    """``(release numbers padded to 4, local label)`` of a version string or tuple; None otherwise."""
    if isinstance(value, (tuple, list)) and all(isinstance(part, int) for part in value):
        numbers, local = tuple(value), ""
    elif isinstance(value, str):
        found = re.fullmatch(r"\s*v?(\d+(?:\.\d+)*)[^+\s]*(?:\+(\S+))?\s*", value)
        if found is None:
            return None
        numbers, local = tuple(int(part) for part in found.group(1).split(".")), found.group(2) or ""
    else:
        return None
    return (numbers + (0,) * 4)[:max(4, len(numbers))], local


__version__ = TorchVersion("2.13.0+chainrule")
cuda = None
hip = None
xpu = None
git_version = "unknown"
debug = False
