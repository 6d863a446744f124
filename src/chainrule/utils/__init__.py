"""Utilities: data loading and activation checkpointing."""
from chainrule.utils import checkpoint, data
