"""``torch._VF``: the operations as ATen declares them, which library code reaches through this
module (``_VF.lstm(input, hx, self._flat_weights, ...)`` in RNN modules written after PyTorch's,
``_VF.einsum``, ``_VF.stft``). Every name is chainrule's top-level function of that name."""
import sys


def __getattr__(name):
    try:
        return getattr(sys.modules["chainrule"], name)  # (read when asked: chainrule imports this module)
    except AttributeError:
        raise AttributeError(f"module 'chainrule._VF' has no attribute {name!r}") from None
