"""One comparison for compiled against eager results: the same bits, not merely close."""
import numpy as np


def assert_identical(ours, theirs, where="result"):
    """``ours`` is ``theirs`` bit for bit: the same structure (types of containers, dict keys),
    arrays of the same shape, dtype and bytes (so -0.0 and NaN payloads count), Python floats of
    the same bytes, anything else equal and of the same type."""
    if isinstance(theirs, np.ndarray):
        assert isinstance(ours, np.ndarray), f"{where}: {type(ours)} against an array"
        assert (ours.dtype, ours.shape) == (theirs.dtype, theirs.shape), f"{where}: {ours.dtype}{ours.shape} against {theirs.dtype}{theirs.shape}"
        assert ours.tobytes() == theirs.tobytes(), f"{where}: values differ\n{ours}\n{theirs}"
    elif isinstance(theirs, dict):
        assert isinstance(ours, dict) and ours.keys() == theirs.keys(), f"{where}: keys {ours.keys()} against {theirs.keys()}"
        for key in theirs:
            assert_identical(ours[key], theirs[key], f"{where}[{key!r}]")
    elif isinstance(theirs, (list, tuple)):
        assert type(ours) is type(theirs) and len(ours) == len(theirs), f"{where}: {ours!r} against {theirs!r}"
        for index, (mine, other) in enumerate(zip(ours, theirs)):
            assert_identical(mine, other, f"{where}[{index}]")
    elif isinstance(theirs, float):
        assert isinstance(ours, float) and np.float64(ours).tobytes() == np.float64(theirs).tobytes(), f"{where}: {ours!r} against {theirs!r}"
    else:
        assert type(ours) is type(theirs) and ours == theirs, f"{where}: {ours!r} against {theirs!r}"
