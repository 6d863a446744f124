"""The direction numbers of the Sobol sequence: Joe and Kuo's table (search criterion D(6), 21201
dimensions, the file ``new-joe-kuo-6.21201`` of https://web.maths.unsw.edu.au/~fkuo/sobol/, which
PyTorch's SobolEngine uses too), stored in ``joe_kuo_d6_21201.bin`` (license in README.md there).

Dimension d ≥ 1 has a primitive polynomial over GF(2) of degree s,

    x^s + a_1 x^(s-1) + ... + a_(s-1) x + 1,

and s odd starting numbers m_1 < 2, m_2 < 4, ..., m_s < 2^s. The rest follow from the recurrence

    m_j = 2^s m_(j-s) ⊕ m_(j-s) ⊕ ⊕_(k=1..s-1) a_k 2^k m_(j-k)        (⊕: bitwise xor)

and the direction numbers are v_j = m_j / 2^j, kept as the integers m_j · 2^(bits-j) for 30 bits.
Dimension 0 is the van der Corput sequence: every m_j is 1.

The file: one byte per dimension, its degree s (0 for dimension 0), then per dimension d ≥ 1 a
big-endian record of ceil(b / 8) bytes holding b = (s - 1) + s(s - 1)/2 bits, most significant
first: a_1 ... a_(s-1), then (m_i - 1) / 2 in i - 1 bits for i = 2..s (m_1 is always 1).
"""
import functools
from pathlib import Path

from chainrule.backend import xp

TABLE = Path(__file__).with_name("joe_kuo_d6_21201.bin")
MAXDIM = 21201


def record_bytes(degree):
    """The bytes of a dimension's record in the file, for its polynomial's degree."""
    return (degree - 1 + degree * (degree - 1) // 2 + 7) // 8


@functools.lru_cache(maxsize=1)
def _table():
    return TABLE.read_bytes()


def polynomials_and_starts(dimension):
    """For dimensions 1..dimension-1: their degrees s, polynomial interiors a (a_1 the most
    significant of s - 1 bits) and starting numbers [m_1, ..., m_s], read from the file."""
    table = _table()
    degrees, interiors, starts = [], [], []
    offset = MAXDIM
    for degree in table[1:dimension]:
        size = record_bytes(degree)
        record = int.from_bytes(table[offset : offset + size], "big")
        offset += size
        numbers = []
        for i in range(degree, 1, -1):  # the last field is m_s's, in the lowest bits
            numbers.append(2 * (record & ((1 << (i - 1)) - 1)) + 1)
            record >>= i - 1
        degrees.append(degree)
        interiors.append(record & ((1 << (degree - 1)) - 1))
        starts.append([1] + numbers[::-1])
    return degrees, interiors, starts


def initial_state(dimension, bits):
    """The direction numbers of the first ``dimension`` dimensions as integers of ``bits`` bits,
    (dimension, bits) int64: row d, column j holds m_(j+1) · 2^(bits-1-j)."""
    degrees, interiors, starts = polynomials_and_starts(dimension)
    m = xp.ones((dimension, bits), dtype=xp.int64)  # dimension 0 stays all ones
    if dimension > 1:
        degree = xp.array(degrees, dtype=xp.int64)
        interior = xp.array(interiors, dtype=xp.int64)
        rest = m[1:]
        for row, numbers in enumerate(starts):
            rest[row, : min(len(numbers), bits)] = numbers[:bits]
        rows = xp.arange(dimension - 1)
        # taps[k - 1]: the dimensions whose polynomial has a_k = 1
        taps = [(k < degree) & ((interior >> xp.maximum(degree - 1 - k, 0)) & 1 == 1) for k in range(1, int(degree.max()))]
        for j in range(bits):
            later = j >= degree  # the dimensions whose m_(j+1) comes from the recurrence
            if not later.any():
                continue
            back = rest[rows, xp.maximum(j - degree, 0)]
            value = back ^ (back << degree)
            for k, tap in enumerate(taps, start=1):
                value = xp.where(later & tap, value ^ (rest[rows, max(j - k, 0)] << k), value)
            rest[:, j] = xp.where(later, value, rest[:, j])
    return m << (bits - 1 - xp.arange(bits, dtype=xp.int64))
