"""Random number generation: one seeded generator shared by every random factory.

``chainrule.manual_seed(0)`` makes ``rand``, ``randn``, initializers, dropout, data shuffling and
the datasets reproducible, as ``torch.manual_seed`` does (the numbers differ from PyTorch's: the
generators are different algorithms).
"""
from chainrule.backend import fresh_seed, random_generator


class Generator:
    """A source of random numbers, like ``torch.Generator``.

    ``numpy`` is the underlying ``numpy.random.Generator`` (PCG64), for code that draws arrays.
    """

    def __init__(self, seed=None):
        self.manual_seed(seed)

    def manual_seed(self, seed):
        """Restart the stream from ``seed`` (an int); returns the generator, as PyTorch's does."""
        self._seed = seed
        self.numpy = random_generator(seed)
        return self

    def initial_seed(self):
        return self._seed

    def get_state(self):
        return self.numpy.bit_generator.state

    def set_state(self, state):
        self.numpy.bit_generator.state = state


default_generator = Generator()


def manual_seed(seed):
    """Seed the global generator; returns it."""
    return default_generator.manual_seed(int(seed))


def seed():
    """Seed the global generator from the operating system's entropy; returns the seed."""
    new_seed = fresh_seed()
    default_generator.manual_seed(new_seed)
    return new_seed


def initial_seed():
    return default_generator.initial_seed()


def numpy_generator(generator=None):
    """The ``numpy.random.Generator`` behind ``generator`` (the global one when None)."""
    return (generator or default_generator).numpy
