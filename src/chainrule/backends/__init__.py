"""``chainrule.backends``: the switches course code sets for PyTorch's GPU libraries.

``torch.backends.cudnn.benchmark = True`` and ``torch.backends.cudnn.deterministic = True`` are
common lines in training scripts; they mean nothing on NumPy (every result is deterministic
already), so here they are plain settings that can be read and written and change nothing.
"""
from chainrule.backends import cuda, cudnn, mha, mps
