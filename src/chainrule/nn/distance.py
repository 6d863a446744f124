"""Similarities and distances as modules: ``nn.CosineSimilarity(dim=1)(x1, x2)``,
``nn.PairwiseDistance(p=2)(x1, x2)``; the arithmetic is in ``chainrule/ops/distance.py``."""
from chainrule.nn import functional as F
from chainrule.nn.module import Module


class CosineSimilarity(Module):
    """cos θ = x1 · x2 / (max(‖x1‖, eps) max(‖x2‖, eps)) along ``dim``: (*, D, *) -> (*, *)."""

    def __init__(self, dim=1, eps=1e-8):
        super().__init__()
        self.dim, self.eps = dim, eps

    def forward(self, x1, x2):
        return F.cosine_similarity(x1, x2, self.dim, self.eps)


class PairwiseDistance(Module):
    """‖x1 - x2 + eps‖_p along the last dimension: (N, D) -> (N,) ((N, 1) with ``keepdim``).
    ``norm`` holds p, as in PyTorch."""

    def __init__(self, p=2.0, eps=1e-6, keepdim=False):
        super().__init__()
        self.norm, self.eps, self.keepdim = p, eps, keepdim

    def forward(self, x1, x2):
        return F.pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)
