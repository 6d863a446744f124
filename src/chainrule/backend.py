"""The one seam between chainrule and the array library.

Every operation does its arithmetic through ``xp``. Today ``xp`` is NumPy; a CuPy backend can
replace it without any operation changing, because no other module imports NumPy for array math.
"""
import numpy

xp = numpy

#: The concrete array type of the backend: a tensor's ``array`` is always one of these.
ndarray = numpy.ndarray


def as_array(value, dtype=None):
    """``value`` as a backend array (never a NumPy scalar), converted to ``dtype`` when given."""
    return xp.asarray(value, dtype=dtype)


def to_numpy(array):
    """A NumPy view of a backend array (a copy to host memory on a GPU backend)."""
    return numpy.asarray(array)
