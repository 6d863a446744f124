"""``torch._subclasses.fake_tensor``: fake tensors, which carry a shape and dtype and no values.

PyTorch's compiler traces a program with fake tensors to learn its shapes without computing;
library code asks ``is_fake(x)`` to skip work that needs values. chainrule traces nothing that
way (its compile records a real run), so no tensor is fake.
"""
import contextlib

from chainrule.tensor import Tensor


class FakeTensor(Tensor):
    """A tensor of shapes and no values, as PyTorch's tracer makes them: chainrule makes none."""

    def __new__(cls, *args, **kwargs):
        raise RuntimeError("FakeTensor: chainrule has no fake tensors; every tensor holds its values")


def is_fake(x):
    """Whether ``x`` is a fake tensor: never here."""
    return False


@contextlib.contextmanager
def unset_fake_temporarily():
    """Leave the running fake mode for the block: none runs here, so nothing changes."""
    yield None
