"""The errors of ``torch.distributed``, as PyTorch arranges them: all are ``DistError``, a
``RuntimeError``, so ``except RuntimeError`` still catches them.

    DistError
    ├── DistBackendError      a collective failed in the backend (MPI, the TCP transport)
    ├── DistNetworkError      a process could not reach another (a connection timed out)
    └── DistStoreError        the meeting point failed (rank 0 waited for the others in vain)
        └── QueueEmptyError   a queue read found nothing in time
"""


class DistError(RuntimeError):
    """Any error of ``chainrule.distributed``."""


class DistBackendError(DistError):
    """A collective or point-to-point call failed in the backend."""


class DistNetworkError(DistError):
    """A process could not reach another (nothing listened at the address in time)."""


class DistStoreError(DistError):
    """The processes could not meet (process 0 waited for the others in vain)."""


class QueueEmptyError(DistStoreError):
    """A queue read found nothing in time."""
