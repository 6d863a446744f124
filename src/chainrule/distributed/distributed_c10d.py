"""``torch.distributed.distributed_c10d``: the module where PyTorch defines the process group and
the collectives that ``torch.distributed`` exports; here those names are the package's own, beside
``_get_default_group``, which code reaching into this module (Lightning) calls."""
import importlib

from chainrule.distributed.process_group import default_group


def _get_default_group():
    """The default process group (``group.WORLD``); ValueError before ``init_process_group``."""
    return default_group()


def __getattr__(name):
    """``torch.distributed``'s public names (``all_reduce``, ``ProcessGroup``...), from the package."""
    package = importlib.import_module("chainrule.distributed")
    if name not in package.__all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(package, name)
