"""chainrule's modules pickle as their names, as an installed package's modules do.

Libraries that hash or ship functions with ``dill`` (Hugging Face ``datasets`` fingerprints every
``map`` function and every tensor so) save a module a function refers to (``torch`` in its
globals) by name when it is installed in site-packages, and by value, its whole namespace, when it
is not: chainrule installed from its source (``pip install -e .``) was walked into, down to its
thread-local states, and failed ("cannot pickle '_AnomalyMode' object"). Every module of chainrule
is made a ``PickledByName``, which pickles as ``importlib.import_module(name)`` whatever the
installation: the package itself here, each submodule as it is imported (``ModuleFinder``, ahead
of Python's own finder for chainrule's names only).

Attribute reads of a module of another type than ``types.ModuleType`` itself cost twice as much
(CPython specializes them for plain modules only): the two modules every operation reads from,
the thread's gradient and anomaly modes (``ON_EVERY_OPERATION``), stay plain. Code does not hold
them by name (``torch.no_grad``, ``torch.autograd.grad_mode.no_grad`` go through the package).
"""
import importlib
import importlib.abc
import importlib.machinery
import sys
import types


class PickledByName(types.ModuleType):
    """A module of chainrule's: pickled (by pickle or dill) as its import, never its namespace."""

    def __reduce__(self):
        return importlib.import_module, (self.__name__,)


#: Modules read on every operation (``grad_mode._state.enabled``...), kept plain modules for speed.
ON_EVERY_OPERATION = {"chainrule.autograd.grad_mode", "chainrule.autograd.anomaly"}


class ModuleLoader(importlib.abc.Loader):
    """Python's loader of a chainrule module, making it a ``PickledByName``; the rest is Python's."""

    def __init__(self, loader):
        self.loader = loader

    def create_module(self, spec):
        return None if spec.name in ON_EVERY_OPERATION else PickledByName(spec.name)

    def exec_module(self, module):
        self.loader.exec_module(module)

    def __getattr__(self, name):  # get_source, get_resource_reader, is_package... are the wrapped loader's
        return getattr(self.loader, name)


class ModuleFinder(importlib.abc.MetaPathFinder):
    """Finds chainrule's submodules as Python does, to be loaded by a ``ModuleLoader``."""

    @staticmethod
    def find_spec(name, path, target=None):
        if not name.startswith("chainrule."):
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path, target)
        if spec is not None and spec.loader is not None and not isinstance(spec.loader, ModuleLoader):
            spec.loader = ModuleLoader(spec.loader)
        return spec


def pickle_modules_by_name(package):
    """Make ``package`` (chainrule, being imported) and this module ``PickledByName``s, and each
    submodule imported from now on."""
    package.__class__ = sys.modules[__name__].__class__ = PickledByName
    if not any(isinstance(finder, ModuleFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, ModuleFinder())
