"""``chainrule.backends.cuda``: the CUDA libraries' switches training scripts set (nanoGPT's
``torch.backends.cuda.matmul.allow_tf32 = True``), kept so that they run unchanged. They change
nothing: chainrule computes with NumPy on the CPU, float32 in float32."""
import contextlib
from types import SimpleNamespace

#: cuBLAS's matrix-product switches: TF32 and reduced-precision reductions (PyTorch's defaults).
matmul = SimpleNamespace(
    allow_tf32=False, allow_fp16_reduced_precision_reduction=True, allow_bf16_reduced_precision_reduction=True,
)

_attention_kernels = {"flash": True, "mem_efficient": True, "math": True, "cudnn": True}


def is_built():
    """Whether PyTorch was built with CUDA: False (chainrule has no CUDA)."""
    return False


def flash_sdp_enabled():
    return _attention_kernels["flash"]


def mem_efficient_sdp_enabled():
    return _attention_kernels["mem_efficient"]


def math_sdp_enabled():
    return _attention_kernels["math"]


def cudnn_sdp_enabled():
    return _attention_kernels["cudnn"]


def enable_flash_sdp(enabled):
    _attention_kernels["flash"] = bool(enabled)


def enable_mem_efficient_sdp(enabled):
    _attention_kernels["mem_efficient"] = bool(enabled)


def enable_math_sdp(enabled):
    _attention_kernels["math"] = bool(enabled)


def enable_cudnn_sdp(enabled):
    _attention_kernels["cudnn"] = bool(enabled)


@contextlib.contextmanager
def sdp_kernel(enable_flash=True, enable_math=True, enable_mem_efficient=True, enable_cudnn=True):
    """The older form of ``nn.attention.sdpa_kernel`` for the CUDA kernels' switches: set for the
    block, restored after."""
    previous = dict(_attention_kernels)
    _attention_kernels.update(flash=enable_flash, math=enable_math, mem_efficient=enable_mem_efficient, cudnn=enable_cudnn)
    try:
        yield
    finally:
        _attention_kernels.update(previous)


def preferred_linalg_library(backend=None):
    """The GPU linear-algebra library: none here; NumPy's LAPACK computes chainrule.linalg."""
    return "default"
