"""``chainrule.multiprocessing``, as ``torch.multiprocessing``: Python's multiprocessing, for code
that trains in several processes.

Hogwild training, as PyTorch's example writes it::

    import chainrule.multiprocessing as mp
    model.share_memory()                 # parameters in shared memory
    workers = [mp.Process(target=train, args=(model,)) for _ in range(4)]

A tensor moved to shared memory (``share_memory_``) lives in an anonymous shared mapping: the
processes this one forks (the "fork" start method, Linux's default) see it and write into it. A
process started by pickling its arguments (the "spawn" method, the default on macOS and Windows)
receives a copy: PyTorch passes the shared memory itself there, chainrule does not.
"""
from multiprocessing import *  # noqa: F401,F403  Process, Queue, Pool, get_context, set_start_method...
