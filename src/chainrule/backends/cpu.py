"""``chainrule.backends.cpu``: what the CPU offers the kernels."""
from chainrule.backend import cpu_capability


def get_cpu_capability():
    """The widest vector instructions used on this CPU: "AVX512", "AVX2" or "DEFAULT" (PyTorch's names)."""
    return cpu_capability()
