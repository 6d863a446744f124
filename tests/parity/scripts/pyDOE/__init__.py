"""pyDOE's lhs (Latin hypercube sampling), which the PINN tutorials import with `from pyDOE import lhs`.

pyDOE is not a test dependency: this is its classic algorithm (criterion None), from
https://github.com/tisimst/pyDOE  pyDOE/doe_lhs.py (lhs, _lhsclassic), drawing the same numbers from
NumPy's global generator (np.random.rand, then one np.random.permutation per column).
"""
import numpy as np

__all__ = ['lhs']


def lhs(n, samples=None, criterion=None, iterations=None):
    H = None

    if samples is None:
        samples = n

    if criterion is not None:
        raise NotImplementedError('only the classic Latin hypercube (criterion None) is provided here')

    H = _lhsclassic(n, samples)

    return H


def _lhsclassic(n, samples):
    # Generate the intervals
    cut = np.linspace(0, 1, samples + 1)

    # Fill points uniformly in each interval
    u = np.random.rand(samples, n)
    a = cut[:samples]
    b = cut[1:samples + 1]
    rdpoints = np.zeros_like(u)
    for j in range(n):
        rdpoints[:, j] = u[:, j]*(b-a) + a

    # Make the random pairings
    H = np.zeros_like(rdpoints)
    for j in range(n):
        order = np.random.permutation(range(samples))
        H[:, j] = rdpoints[order, j]

    return H
