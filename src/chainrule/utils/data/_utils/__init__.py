"""What a DataLoader uses behind its API, at PyTorch's paths (``torch.utils.data._utils``):
``collate`` (samples into batches, and the map of ways to batch each type), ``fetch`` (an index, or a
batch of indices, into what the loader yields), ``worker`` (the worker processes and their seeds), ``pin_memory``.
"""
import sys

from chainrule.utils.data._utils import collate, fetch, pin_memory, worker

IS_WINDOWS = sys.platform == "win32"
HAS_NUMPY = worker.HAS_NUMPY
MP_STATUS_CHECK_INTERVAL = worker.MP_STATUS_CHECK_INTERVAL
