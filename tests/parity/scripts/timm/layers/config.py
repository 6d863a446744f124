# Source: timm/layers/config.py (https://github.com/huggingface/pytorch-image-models): use_fused_attn and
# set_fused_attn (the TIMM_FUSED_ATTN environment variable and the export flag left out).
import torch

_HAS_FUSED_ATTN = hasattr(torch.nn.functional, 'scaled_dot_product_attention')
_USE_FUSED_ATTN = 1 if _HAS_FUSED_ATTN else 0


def use_fused_attn(experimental: bool = False) -> bool:
    if not _HAS_FUSED_ATTN:
        return False
    if experimental:
        return _USE_FUSED_ATTN > 1
    return _USE_FUSED_ATTN > 0


def set_fused_attn(enable: bool = True, experimental: bool = False):
    global _USE_FUSED_ATTN
    if experimental and enable:
        _USE_FUSED_ATTN = 2
    elif enable:
        _USE_FUSED_ATTN = 1
    else:
        _USE_FUSED_ATTN = 0
