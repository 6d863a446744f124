"""Quasi-random (low-discrepancy) sequences, as ``torch.quasirandom``: ``SobolEngine``."""
from chainrule.quasirandom.sobol_engine import SobolEngine

SobolEngine.__module__ = "chainrule.quasirandom"

__all__ = ["SobolEngine"]
