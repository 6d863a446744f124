"""``SobolEngine``: the (scrambled) Sobol sequence, as ``torch.quasirandom.SobolEngine``.

A Sobol sequence fills the unit cube [0, 1)^D more evenly than random points (a low-discrepancy
sequence: quasi-Monte Carlo integration, space-filling designs, the collocation points of a
physics-informed network). Point i, in each dimension, is the xor of the direction numbers v_l
(``direction_numbers``) of the bits l set in i's Gray code; in Antonov and Saleev's order a point
is the previous one xor one direction number, that of the lowest zero bit of its index:

    x_0 = shift,    x_(i+1) = x_i ⊕ v_(c(i)),    c(i) = the position of the rightmost 0 bit of i

(integers of 30 bits, divided by 2^30). Scrambling (Owen's linear matrix scrambling with a random
digital shift) multiplies each dimension's direction numbers by a random lower triangular 0/1
matrix over GF(2) and starts from a random shift, drawn from ``seed`` (else the global generator)
exactly as PyTorch draws them, so a seeded engine gives PyTorch's points.
"""
from chainrule import dtypes
from chainrule.backend import running_xor, xp
from chainrule.creation import randint, zeros
from chainrule.dtypes import get_default_dtype
from chainrule.ops.join import cat
from chainrule.quasirandom.direction_numbers import MAXDIM, initial_state
from chainrule.random import Generator
from chainrule.tensor import tensor_from_array


def rightmost_zero(indices):
    """The position of the lowest 0 bit of each index (0 for 0, 2 for 0b1011...)."""
    lowest_zero = (indices + 1) & ~indices
    return xp.log2(lowest_zero).astype(xp.int64)


def parity(values):
    """1 where ``values`` (integers of at most 32 bits) have an odd number of bits set, else 0."""
    for shift in (16, 8, 4, 2, 1):
        values = values ^ (values >> shift)
    return values & 1


class SobolEngine:
    """An engine drawing the Sobol sequence in ``dimension`` dimensions (1 to 21201), scrambled
    (``scramble=True``, from ``seed``) or not. ``draw(n)`` gives the next n points, (n, dimension),
    in the default float dtype; ``draw_base2(m)`` the next 2^m (the sequence's balance holds for
    powers of 2); ``fast_forward(n)`` skips n; ``reset()`` starts again.

    Its state, as PyTorch's: ``sobolstate`` (dimension, 30) int64, the direction numbers (scrambled);
    ``shift`` and ``quasi`` (dimension,) int64, the first point and the last one drawn, as integers
    of 30 bits; ``num_generated``."""

    MAXBIT = 30
    MAXDIM = MAXDIM

    def __init__(self, dimension, scramble=False, seed=None):
        if dimension > self.MAXDIM or dimension < 1:
            raise ValueError(f"Supported range of dimensionality for SobolEngine is [1, {self.MAXDIM}]")
        self.seed = seed
        self.scramble = scramble
        self.dimension = dimension
        self.sobolstate = tensor_from_array(initial_state(dimension, self.MAXBIT))
        if scramble:
            self._scramble()
        else:
            self.shift = zeros(dimension, dtype=dtypes.int64)
        self.quasi = self.shift.clone()
        self._first_point = (self.quasi / 2**self.MAXBIT).reshape(1, -1)
        self.num_generated = 0

    def _scramble(self):
        """A random digital shift, then each dimension's direction numbers times a random lower
        triangular matrix L (ones on its diagonal) over GF(2): bit 29 - p of a scrambled number
        is the parity of row p of L (as bits, column k the bit 29 - k) and the number."""
        generator = None
        if self.seed is not None:
            generator = Generator()
            generator.manual_seed(self.seed)
        powers = 1 << xp.arange(self.MAXBIT, dtype=xp.int64)
        shift_bits = randint(2, (self.dimension, self.MAXBIT), generator=generator)
        self.shift = tensor_from_array(shift_bits._array @ powers)
        lower = xp.tril(randint(2, (self.dimension, self.MAXBIT, self.MAXBIT), generator=generator)._array)
        diagonal = xp.arange(self.MAXBIT)
        lower[:, diagonal, diagonal] = 1
        rows = lower @ powers[::-1]  # (dimension, 30): row p of each L as an integer
        state = self.sobolstate._array
        scrambled = xp.zeros_like(state)
        for p in range(self.MAXBIT):
            scrambled |= parity(rows[:, p : p + 1] & state) << (self.MAXBIT - 1 - p)
        state[...] = scrambled

    def _points_after(self, n, last_index):
        """The next ``n`` points as integers (n, dimension), the first following the point of index
        ``last_index`` (``quasi``); ``quasi`` becomes the last of them."""
        if n < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {n}: [{n}, {self.dimension}]")
        columns = rightmost_zero(last_index + xp.arange(n, dtype=xp.int64))
        points = running_xor(self.sobolstate._array[:, columns].T, axis=0) ^ self.quasi._array
        if n:
            self.quasi = tensor_from_array(points[-1].copy())
        return points

    def _as_floats(self, points, dtype):
        if dtype is not dtypes.float32 and dtype is not dtypes.float64:
            raise NotImplementedError(f'"_sobol_engine_draw" not implemented for \'{dtypes.scalar_type_name(dtype.dtype)}\'')
        return tensor_from_array(points.astype(dtype.dtype) * dtype.dtype.type(2.0**-self.MAXBIT))

    def draw(self, n=1, out=None, dtype=None):
        """The next ``n`` points of the sequence, (n, dimension) of ``dtype`` (default: the default
        float dtype), written into ``out`` (resized) if given. The first point is the shift (0
        unscrambled), rounded to the default dtype at the engine's construction."""
        if dtype is None:
            dtype = get_default_dtype()
        if self.num_generated == 0 and n == 1:
            result = self._first_point.to(dtype)
        elif self.num_generated == 0:
            result = cat((self._first_point.to(dtype), self._as_floats(self._points_after(n - 1, 0), dtype)), -2)
        else:
            result = self._as_floats(self._points_after(n, self.num_generated - 1), dtype)
        self.num_generated += n
        if out is not None:
            out.resize_as_(result).copy_(result)
            return out
        return result

    def draw_base2(self, m, out=None, dtype=None):
        """The next 2^m points (``draw(2**m)``), refused unless the points drawn in all then number
        a power of 2 (the balance of Sobol points holds for those)."""
        n = 2**m
        total = self.num_generated + n
        if total & (total - 1) != 0:
            raise ValueError(
                "The balance properties of Sobol' points require n to be a power of 2. "
                f"{self.num_generated} points have been previously generated, then: "
                f"n={self.num_generated}+2**{m}={total}. If you still want to do this, please use 'SobolEngine.draw()' instead."
            )
        return self.draw(n=n, out=out, dtype=dtype)

    def reset(self):
        """Start the sequence again (its first point next). Returns the engine."""
        self.quasi.copy_(self.shift)
        self.num_generated = 0
        return self

    def fast_forward(self, n):
        """Skip the next ``n`` points (as drawing them would). Returns the engine."""
        if self.num_generated == 0:
            self._points_after(max(n - 1, 0), 0)
        else:
            self._points_after(max(n, 0), self.num_generated - 1)
        self.num_generated += n
        return self

    def __repr__(self):
        settings = [f"dimension={self.dimension}"]
        if self.scramble:
            settings.append("scramble=True")
        if self.seed is not None:
            settings.append(f"seed={self.seed}")
        return f"{type(self).__name__}({', '.join(settings)})"
