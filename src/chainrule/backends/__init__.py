"""``chainrule.backends``: the switches course code sets for PyTorch's GPU libraries.

``torch.backends.cudnn.benchmark = True`` and ``torch.backends.cudnn.deterministic = True`` are
common lines in training scripts; they mean nothing on NumPy (every result is deterministic
already), so here they are plain settings that can be read and written and change nothing.
"""
import contextlib

from chainrule.backends import cpu, cuda, cudnn, mha, mkl, mkldnn, mps, openmp, opt_einsum, quantized

__allow_nonbracketed_mutation_flag = True  # PyTorch's flag: may the settings be assigned outside flags()?


def disable_global_flags():
    """Forbid assigning the settings outside their ``flags()`` blocks (PyTorch's test suites do):
    recorded, and read back by ``flags_frozen``; chainrule's settings change nothing either way."""
    global __allow_nonbracketed_mutation_flag
    __allow_nonbracketed_mutation_flag = False


def flags_frozen():
    """Whether ``disable_global_flags()`` forbade assigning the settings."""
    return not __allow_nonbracketed_mutation_flag


@contextlib.contextmanager
def __allow_nonbracketed_mutation():
    """Allow assigning the settings within the block (MONAI's ``set_determinism`` sets cuDNN's so)."""
    global __allow_nonbracketed_mutation_flag
    previous, __allow_nonbracketed_mutation_flag = __allow_nonbracketed_mutation_flag, True
    try:
        yield
    finally:
        __allow_nonbracketed_mutation_flag = previous
