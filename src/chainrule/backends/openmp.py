"""``chainrule.backends.openmp``: OpenMP, which PyTorch's CPU build uses for its threads.

``is_available()`` answers as PyTorch's CPU build does (True); chainrule's threads are NumPy's
BLAS's (``chainrule.set_num_threads``).
"""


def is_available():
    return True
