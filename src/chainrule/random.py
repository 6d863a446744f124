"""Random number generation: one seeded generator shared by every random factory.

``chainrule.manual_seed(0)`` makes ``rand``, ``randn``, initializers, dropout, data shuffling and
the datasets reproducible, as ``torch.manual_seed`` does (the numbers differ from PyTorch's: the
generators are different algorithms).
"""
import contextlib
import json
import operator

from chainrule import dtypes
from chainrule.backend import as_array, fresh_seed, random_generator
from chainrule.device import check_device
from chainrule.device import device as device_type
from chainrule.tensor import Tensor, tensor_from_array


#: The seed of a new ``Generator()``, PyTorch's: two new generators give the same numbers.
DEFAULT_SEED = 67280421310721


class Generator:
    """A source of random numbers, like ``torch.Generator``.

    ``Generator()`` (or ``Generator("cpu")``) starts from PyTorch's default seed, as PyTorch's does;
    ``Generator(seed)`` from ``seed``. ``numpy`` is the underlying ``numpy.random.Generator``
    (PCG64), for code that draws arrays.
    """

    def __init__(self, seed=None, device=None):
        if isinstance(seed, (str, device_type)):  # Generator("cpu"), as PyTorch's first argument
            seed, device = None, seed
        check_device(device)
        self.manual_seed(DEFAULT_SEED if seed is None else seed)

    @property
    def device(self):
        return device_type("cpu")

    def seed(self):
        """Restart the stream from a seed drawn from the operating system's entropy; returns it."""
        new_seed = fresh_seed()
        self.manual_seed(new_seed)
        return new_seed

    def manual_seed(self, seed):
        """Restart the stream from ``seed`` (an int); returns the generator, as PyTorch's does. A
        negative seed counts modulo 2^64, as PyTorch's (``manual_seed(-1)`` is seed 2^64 - 1)."""
        try:
            if isinstance(seed, Tensor):  # PyTorch's Generator takes no tensor, though torch.manual_seed does
                raise TypeError
            seed = operator.index(seed)
        except TypeError:
            raise RuntimeError(
                f"manual_seed expected a long, but got {'Tensor' if isinstance(seed, Tensor) else type(seed).__name__}; "
                f"pass an int, e.g. manual_seed(int(seed))"
            ) from None
        if not -(2**63) <= seed < 2**64:
            raise ValueError(f"Overflow when unpacking long long: the seed {seed} does not fit in 64 bits")
        seed %= 2**64
        self._seed = seed
        self.numpy = random_generator(seed)
        return self

    def initial_seed(self):
        return self._seed

    def get_state(self):
        return self.numpy.bit_generator.state

    def set_state(self, state):
        self.numpy.bit_generator.state = state


default_generator = Generator(fresh_seed())  # each process its own numbers until manual_seed, as in PyTorch


def manual_seed(seed):
    """Seed the global generator; returns it."""
    return default_generator.manual_seed(int(seed))


def seed():
    """Seed the global generator from the operating system's entropy; returns the seed."""
    return default_generator.seed()


def initial_seed():
    return default_generator.initial_seed()


def numpy_generator(generator=None):
    """The ``numpy.random.Generator`` behind ``generator`` (the global one when None)."""
    return (generator or default_generator).numpy


def get_rng_state():
    """The global generator's state as a uint8 tensor: ``set_rng_state`` of it later replays the
    same numbers. (The bytes are chainrule's own, not PyTorch's Mersenne Twister state.)"""
    encoded = json.dumps(default_generator.get_state()).encode()
    return tensor_from_array(as_array(list(encoded), dtypes.uint8))


def set_rng_state(new_state):
    """Restore the global generator to a state taken by ``get_rng_state``."""
    if not isinstance(new_state, Tensor) or new_state.array.dtype != dtypes.uint8:
        kind = new_state.dtype if isinstance(new_state, Tensor) else type(new_state).__name__
        raise TypeError(f"set_rng_state expected a torch.ByteTensor (uint8), but got {kind}; pass what get_rng_state() returned")
    try:
        state = json.loads(bytes(new_state.array.reshape(-1).tolist()).decode())
        default_generator.set_state(state)
    except (ValueError, TypeError, KeyError) as error:
        raise RuntimeError(f"set_rng_state: this tensor is not a state from chainrule.get_rng_state() ({error})") from None


@contextlib.contextmanager
def fork_rng(devices=None, enabled=True, _caller="fork_rng", _devices_kw="devices", device_type=None):
    """``with fork_rng():`` the numbers drawn inside come from the global stream as it was, and
    the stream is put back as it was when the block ends: code outside draws the same numbers as
    if the block had not run. (``devices`` and ``device_type`` name accelerators: chainrule has the
    CPU only.) ``enabled=False`` makes it do nothing."""
    if not enabled:
        yield
        return
    state = default_generator.get_state()
    try:
        yield
    finally:
        default_generator.set_state(state)
