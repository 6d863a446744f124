"""Utilities: data loading."""
from chainrule.utils import data
