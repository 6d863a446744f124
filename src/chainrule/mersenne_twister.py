"""PyTorch's CPU random engine: the 32-bit Mersenne Twister (MT19937) and its state bytes.

``manual_seed(s)`` seeds the twister with the low 32 bits of ``s`` (Matsumoto and Nishimura's
``init_genrand``) and keeps all 64 for ``initial_seed()``. Every sample is then made from the
twister's 32-bit outputs: ``random()`` is one output, ``random64()`` two, the first as the high
half. Making the same outputs in the same order as PyTorch makes the same numbers.

The state travels as PyTorch's 5056 bytes (``torch.get_rng_state()``), so a state taken from
either library can be loaded into the other.
"""
import functools
import struct

from chainrule.backend import mersenne_twister, xp

STATE_WORDS = 624

#: PyTorch's ``CPUGeneratorImplState``: initial seed, ``left``, ``seeded``, ``next``, the 624 words
#: widened to 64 bits, then the legacy normal cache (x, y, rho, valid: y holds the cached double
#: normal sample) and the cached float normal sample with its flag, padded to 8 bytes.
_HEADER = struct.Struct("<QiiQ")
_FOOTER = struct.Struct("<dddif?")
STATE_BYTES = 5056
LEGACY_STATE_BYTES = 5048  # PyTorch's older THGeneratorState: no float cache
_latest = [0]  # the newest version of any engine: versions come from one count, never the same twice


@functools.lru_cache(maxsize=64)
def seeded_key(seed):
    """The 624 words of ``init_genrand(seed & 0xffffffff)``: key[j] = 1812433253 · (key[j-1] xor
    (key[j-1] >> 30)) + j, modulo 2^32. Kept for the seeds used again (a test suite or a notebook
    seeds with 0 before each case: the loop takes 0.2 ms)."""
    key = [seed & 0xFFFFFFFF]
    for index in range(1, STATE_WORDS):
        previous = key[-1]
        key.append((1812433253 * (previous ^ (previous >> 30)) + index) & 0xFFFFFFFF)
    return tuple(key)


def _new_version():
    """A version no engine had before: the latest change of any engine's state."""
    _latest[0] += 1
    return _latest[0]


def changes_so_far():
    """The version of the latest change of any engine's state: two calls around a block differ
    exactly where some generator drew (or was seeded) in between."""
    return _latest[0]


class _Versioned:
    """An attribute of an engine whose every assignment gives the engine a new ``version``."""

    def __set_name__(self, owner, name):
        self.slot = f"_{name}"

    def __get__(self, engine, owner=None):
        return self if engine is None else getattr(engine, self.slot)

    def __set__(self, engine, value):
        setattr(engine, self.slot, value)
        engine.version = _new_version()


class MersenneTwister:
    """The engine of a ``Generator``: the twister, the seed it started from, and the second
    Box-Muller sample PyTorch keeps for the next single normal draw (``next_double_normal``).
    ``version`` is new after every change (a draw, a cached sample taken or kept, a state loaded):
    two equal versions mean the same state, without taking its 5056 bytes."""

    next_double_normal = _Versioned()
    next_float_normal = _Versioned()

    def __init__(self, seed):
        self.version = _new_version()
        self.initial_seed = seed
        self._twister = mersenne_twister(seeded_key(seed), STATE_WORDS)
        self._untouched = True  # PyTorch writes next = 0 (not 624) until the first draw
        self.next_double_normal = None
        self.next_float_normal = None

    def words(self, count):
        """The next ``count`` 32-bit outputs (``random()``), as uint64."""
        if count:
            self._untouched = False
            self.version = _new_version()
        return self._twister.random_raw(count)

    def words64(self, count):
        """The next ``count`` 64-bit values (``random64()``): two outputs each, the first high."""
        return _joined_in_pairs(self.words(2 * count))

    def read_ahead(self):
        """A reader of the 64-bit values to come, the engine left where it is: each ``read(count)``
        gives the next ``count`` of them, from a copy of the twister (``words64`` then takes those
        used). For samplers that use an unknown number of values, read in blocks."""
        state = self._twister.state["state"]
        copy = mersenne_twister(state["key"], int(state["pos"]))
        return lambda count: _joined_in_pairs(copy.random_raw(2 * count))

    def state_bytes(self):
        """The state as PyTorch's 5056 bytes."""
        twister = self._twister.state["state"]
        position = int(twister["pos"])
        next_index = 0 if (self._untouched and position == STATE_WORDS) else position
        double_cache, float_cache = self.next_double_normal, self.next_float_normal
        return b"".join((
            _HEADER.pack(self.initial_seed, STATE_WORDS + 1 - position, 1, next_index),
            xp.asarray(twister["key"], dtype="<u8").tobytes(),
            _FOOTER.pack(0.0, double_cache or 0.0, 0.0, double_cache is not None, float_cache or 0.0, float_cache is not None),
            bytes(STATE_BYTES - LEGACY_STATE_BYTES - 1),
        ))

    def load_state_bytes(self, data):
        """Load a state from PyTorch's bytes (5056, or the legacy 5048 without the float cache)."""
        if len(data) not in (STATE_BYTES, LEGACY_STATE_BYTES):
            raise RuntimeError(
                f"Expected either a THGeneratorState of size {LEGACY_STATE_BYTES} or a CPUGeneratorImplState of size "
                f"{STATE_BYTES} but found the input RNG state size to be {len(data)}: this is not a state from "
                f"chainrule.get_rng_state() or torch.get_rng_state()"
            )
        initial_seed, left, _, next_index = _HEADER.unpack_from(data, 0)
        if not 1 <= left <= STATE_WORDS or not 0 <= next_index <= STATE_WORDS:
            raise RuntimeError(f"Invalid mt19937 state: left = {left}, next = {next_index}; pass a state from get_rng_state()")
        key = xp.frombuffer(data, dtype="<u8", count=STATE_WORDS, offset=_HEADER.size).astype(xp.uint32)
        _, normal_y, _, normal_valid = struct.unpack_from("<dddi", data, _HEADER.size + 8 * STATE_WORDS)
        float_sample, float_valid = (0.0, False)
        if len(data) == STATE_BYTES:
            float_sample, float_valid = struct.unpack_from("<f?", data, LEGACY_STATE_BYTES - 4)
        position = STATE_WORDS if left == 1 else next_index
        self.initial_seed = initial_seed
        self._twister = mersenne_twister(key, position)
        self._untouched = left == 1 and next_index == 0
        self.next_double_normal = normal_y if normal_valid else None
        self.next_float_normal = float_sample if float_valid else None
        self.version = _new_version()


def _joined_in_pairs(words):
    """32-bit outputs (as uint64) joined two by two into 64-bit values, the first of each pair high."""
    return (words[0::2] << xp.uint64(32)) | words[1::2]
