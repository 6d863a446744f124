"""``chainrule.version``, as ``torch.version``: the release, and the accelerators it was built with
(none: chainrule computes with NumPy on the CPU, so ``torch.version.cuda`` is None as on a CPU build)."""
__version__ = "0.1.0"
cuda = None
hip = None
xpu = None
git_version = "unknown"
debug = False
