"""``chainrule.multiprocessing``, as ``torch.multiprocessing``: Python's multiprocessing, for code
that trains in several processes, and ``spawn`` (``spawn.py``), which starts one process per rank.

Hogwild training, as PyTorch's example writes it::

    import chainrule.multiprocessing as mp
    model.share_memory()                 # parameters in shared memory
    workers = [mp.Process(target=train, args=(model,)) for _ in range(4)]

A tensor moved to shared memory (``share_memory_``) lives in an anonymous shared mapping: the
processes this one forks (the "fork" start method, Linux's default) see it and write into it. A
process started by pickling its arguments (the "spawn" method, the default on macOS and Windows)
receives a copy: PyTorch passes the shared memory itself there, chainrule does not. The sharing
strategies PyTorch offers for that (``set_sharing_strategy("file_system")``) are accepted and
remembered; they change nothing here.
"""
import sys
from multiprocessing import *  # noqa: F401,F403  Process, Queue, Pool, get_context, set_start_method...

from chainrule.multiprocessing.spawn import (  # noqa: F401
    ProcessContext,
    ProcessExitedException,
    ProcessRaisedException,
    spawn,
    start_processes,
)

_SHARING_STRATEGIES = {"file_descriptor", "file_system"} if sys.platform != "darwin" else {"file_system"}
_sharing_strategy = "file_descriptor" if sys.platform != "darwin" else "file_system"


def set_sharing_strategy(new_strategy):
    """Choose how tensors in shared memory travel to other processes (one of
    ``get_all_sharing_strategies()``)."""
    global _sharing_strategy
    assert new_strategy in _SHARING_STRATEGIES  # PyTorch's own check
    _sharing_strategy = new_strategy


def get_sharing_strategy():
    return _sharing_strategy


def get_all_sharing_strategies():
    return set(_SHARING_STRATEGIES)
