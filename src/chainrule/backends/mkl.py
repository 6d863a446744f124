"""``chainrule.backends.mkl``: Intel MKL, which PyTorch's CPU build links for its BLAS, FFTs and sparse kernels.

chainrule computes with NumPy's libraries; as for ``mkldnn``, ``is_available()`` answers as
PyTorch's CPU build does (True), so that code choosing a path by it takes PyTorch's.
"""

VERBOSE_OFF, VERBOSE_ON = 0, 1


def is_available():
    return True


class verbose:
    """``with verbose(VERBOSE_ON):`` MKL's log of the calls it runs: none are logged here."""

    def __init__(self, enable):
        self.enable = enable

    def __enter__(self):
        return self

    def __exit__(self, *exception):
        return False
