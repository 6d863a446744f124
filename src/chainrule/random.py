"""Random number generation: one seeded generator shared by every random factory.

``chainrule.manual_seed(0)`` makes ``rand``, ``randn``, initializers, dropout, data shuffling and
the datasets reproducible, as ``torch.manual_seed`` does, and with the same numbers: a
``Generator`` is PyTorch's CPU engine, a 32-bit Mersenne Twister (``mersenne_twister.py``), and
the samplers apply PyTorch's arithmetic to its words (``sampling_algorithms.py``). Samplers
PyTorch has no CPU algorithm of its own for here (gamma, Poisson, ...) draw from a NumPy
generator seeded by words of the same stream, so ``manual_seed`` fixes them too.
"""
import contextlib
import operator

from chainrule import dtypes
from chainrule.autograd import function as function_module
from chainrule.backend import as_array, fresh_seed, random_generator, xp
from chainrule.device import check_device
from chainrule.device import device as device_type
from chainrule.mersenne_twister import MersenneTwister
from chainrule.tensor import Tensor, tensor_from_array


#: The seed of a new ``Generator()``, PyTorch's: two new generators give the same numbers.
DEFAULT_SEED = 67280421310721


class Generator:
    """A source of random numbers, like ``torch.Generator``.

    ``Generator()`` (or ``Generator("cpu")``) starts from PyTorch's default seed, as PyTorch's does;
    ``Generator(seed)`` from ``seed``. ``engine`` is its Mersenne Twister; ``numpy`` a NumPy
    generator seeded from the stream, for samplers PyTorch's algorithms do not cover.
    """

    def __init__(self, seed=None, device=None):
        if isinstance(seed, (str, device_type)):  # Generator("cpu"), as PyTorch's first argument
            seed, device = None, seed
        if device is not None and str(device).split(":")[0] == "cuda":  # PyTorch's error without CUDA
            raise RuntimeError(f"Cannot get CUDA generator without ATen_cuda library: chainrule draws on the CPU; use Generator('cpu'), not {str(device)!r}")
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
        self.engine = MersenneTwister(seed)
        return self

    def initial_seed(self):
        return self.engine.initial_seed

    @property
    def numpy(self):
        """A new ``numpy.random.Generator`` seeded by the next two words of this stream (so each use
        advances the stream, and ``manual_seed`` fixes what it draws)."""
        return numpy_generator_from(self.engine)

    def get_state(self):
        """The state as a uint8 tensor of PyTorch's 5056 bytes, as ``torch.Generator.get_state``
        gives it: ``set_state`` of it later replays the same numbers, in chainrule or in PyTorch."""
        return tensor_from_array(as_array(bytearray(self.state_bytes()), dtypes.uint8))

    def state_bytes(self):
        """The same state as an immutable ``bytes``: cheap to take and to compare (``==``)."""
        return self.engine.state_bytes()

    def state_version(self):
        """A number that is new after every change of the state (a draw, a seed, ``set_state``):
        two equal ones mean the stream did not move between them (cheaper than ``state_bytes``)."""
        return self.engine.version

    def set_state(self, new_state):
        """Restore a state from ``get_state`` or ``get_rng_state`` (bytes or a uint8 tensor), or from
        PyTorch's ``torch.get_rng_state().numpy()``; returns the generator."""
        if isinstance(new_state, Tensor):
            if new_state._array.dtype != dtypes.uint8:
                raise TypeError(f"set_state expected a torch.ByteTensor (uint8), but got {new_state.dtype}; pass what get_state() returned")
            new_state = new_state._array.tobytes()
        elif isinstance(new_state, xp.ndarray) and new_state.dtype == dtypes.uint8:
            new_state = new_state.tobytes()
        elif not isinstance(new_state, bytes):
            raise TypeError(f"set_state expected a torch.ByteTensor, but got {type(new_state).__name__}; pass what get_state() returned")
        self.engine.load_state_bytes(new_state)
        return self


Generator.__module__ = "chainrule._C"  # where PyTorch's lives: repr(torch.manual_seed(0)) is <torch._C.Generator object ...>


default_generator = Generator(fresh_seed())  # each process its own numbers until manual_seed, as in PyTorch


def manual_seed(seed):
    """Seed the global generator; returns it."""
    return default_generator.manual_seed(int(seed))


def seed():
    """Seed the global generator from the operating system's entropy; returns the seed."""
    return default_generator.seed()


def initial_seed():
    return default_generator.initial_seed()


def engine_of(generator=None):
    """The Mersenne Twister behind ``generator`` (the global one when None)."""
    if generator is None:
        return default_generator.engine
    if not isinstance(generator, Generator):
        raise TypeError(f"argument 'generator' must be torch.Generator, not {type(generator).__name__}; pass a chainrule.Generator() or None")
    return generator.engine


def drawn(sample, generator, *arguments):
    """``sample(engine, *arguments)``: random numbers a factory (``rand``, ``randint``, ``randperm``)
    draws outside an operation from ``generator`` (None: the global one). A call being recorded by
    ``chainrule.compile`` hears of it, so that its program draws again, at the same point of the
    random stream, on each call (a minibatch's ``randint``, a VAE's ``randn_like``)."""
    if function_module._recorder is not None:
        return function_module._recorder.drawn(sample, generator, arguments)
    return sample(engine_of(generator), *arguments)


def numpy_generator_from(engine):
    """A new ``numpy.random.Generator`` seeded by the next two words of the Mersenne Twister ``engine``."""
    return random_generator(int(engine.words64(1)[0]))


def numpy_generator(generator=None):
    """A NumPy generator seeded from ``generator``'s stream (the global one when None), for the
    samplers PyTorch's algorithms do not cover."""
    return (generator or default_generator).numpy


def get_rng_state():
    """The global generator's state as a uint8 tensor of PyTorch's 5056 bytes: ``set_rng_state``
    of it later replays the same numbers, in chainrule or in PyTorch."""
    return default_generator.get_state()


def set_rng_state(new_state):
    """Restore the global generator to a state taken by ``get_rng_state`` (chainrule's or PyTorch's)."""
    if not isinstance(new_state, Tensor) or new_state._array.dtype != dtypes.uint8:
        kind = new_state.dtype if isinstance(new_state, Tensor) else type(new_state).__name__
        raise TypeError(f"set_rng_state expected a torch.ByteTensor (uint8), but got {kind}; pass what get_rng_state() returned")
    default_generator.set_state(new_state)


@contextlib.contextmanager
def fork_rng(devices=None, enabled=True, _caller="fork_rng", _devices_kw="devices", device_type=None):
    """``with fork_rng():`` the numbers drawn inside come from the global stream as it was, and
    the stream is put back as it was when the block ends: code outside draws the same numbers as
    if the block had not run. (``devices`` and ``device_type`` name accelerators: chainrule has the
    CPU only.) ``enabled=False`` makes it do nothing."""
    if not enabled:
        yield
        return
    state = default_generator.state_bytes()
    try:
        yield
    finally:
        default_generator.set_state(state)


# PyTorch's public names (``from torch.random import *`` brings these and no helper of this file's)
__all__ = [
    "set_rng_state", "get_rng_state", "manual_seed", "seed", "initial_seed", "fork_rng",
]
