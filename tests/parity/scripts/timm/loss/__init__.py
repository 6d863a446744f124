# Source: Ross Wightman, timm/loss/cross_entropy.py (https://github.com/huggingface/pytorch-image-models), verbatim.
from .cross_entropy import LabelSmoothingCrossEntropy, SoftTargetCrossEntropy
