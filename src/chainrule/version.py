"""``chainrule.version``, as ``torch.version``: the version code compares, and the accelerators it
was built with (none: chainrule computes with NumPy on the CPU, so ``torch.version.cuda`` is None as
on a CPU build).

``__version__`` is the version of PyTorch's API that chainrule follows, ``2.13.0+chainrule``:
course code asks it which names to call (``if torch.__version__ >= "2.0"``, d2l's and the STAT 453
helpers' ``Version("1.7")`` checks), and must take the branches it takes with PyTorch 2.13.
chainrule's own release is ``release``. As PyTorch's, it is a string that compares as a version.
"""
import operator
import re

release = "0.1.0"  # chainrule's own release (pyproject.toml's version)


def _comparing(holds):
    """A comparison of a TorchVersion with ``other`` (a version string or tuple) by ``holds`` on
    their keys; NotImplemented for anything else."""

    def compare(self, other):
        other_key = _version_key(other)
        return NotImplemented if other_key is None else holds(_version_key(str(self)), other_key)

    return compare


class TorchVersion(str):
    """A version string that compares as a version, not as text: ``"2.13.0" >= "2.9"`` (False as
    strings), and with tuples, ``>= (2, 9)``. The release numbers are compared first (missing ones
    are 0), then the local label after ``+`` (a version with one is after the same without)."""

    __eq__, __ne__ = _comparing(operator.eq), _comparing(operator.ne)
    __lt__, __le__ = _comparing(operator.lt), _comparing(operator.le)
    __gt__, __ge__ = _comparing(operator.gt), _comparing(operator.ge)
    __hash__ = str.__hash__


def _version_key(value):
    """``(release numbers, at least 4 of them, padded with 0, local label)`` of a version string or
    tuple; None for anything else."""
    if isinstance(value, (tuple, list)) and all(isinstance(part, int) for part in value):
        numbers, local = tuple(value), ""
    elif isinstance(value, str):
        found = re.fullmatch(r"\s*v?(\d+(?:\.\d+)*)[^+\s]*(?:\+(\S+))?\s*", value)
        if found is None:
            return None
        numbers, local = tuple(int(part) for part in found.group(1).split(".")), found.group(2) or ""
    else:
        return None
    return numbers + (0,) * (4 - len(numbers)), local


__version__ = TorchVersion("2.13.0+chainrule")
cuda = None
hip = None
xpu = None
git_version = "unknown"
debug = False
