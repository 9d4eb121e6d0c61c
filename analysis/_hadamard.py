"""Hadamard matrices of the orders R's survey package uses for balanced repeated replication (``survey::hadamard``):
Sylvester's doublings and Paley's constructions."""

from __future__ import annotations

import numpy as np

#: the orders of the Hadamard matrices R's survey package keeps ready-made (``survey:::hadamard.sizes``)
_STORED_ORDERS = (4, 16, 28, 36)


def _sylvester(order: int) -> np.ndarray:
    """The Sylvester matrix of a power of 2 in 0/1 coding: 1 where the row and column numbers (from 0) share an
    even number of bits. The same matrix as doubling ``[[1, 1], [1, 0]]`` over and over."""
    index = np.arange(order)
    shared = index[:, None] & index[None, :]
    parity = np.zeros_like(shared)
    while shared.any():
        parity ^= shared & 1
        shared = shared >> 1
    return 1 - parity


def _doubled(h: np.ndarray) -> np.ndarray:
    return np.block([[h, h], [h, 1 - h]])


def _primes_3_mod_4(limit: int = 7919) -> np.ndarray:
    """The primes up to ``limit`` that are 3 modulo 4: those of which R's ``survey:::paley`` builds matrices."""
    sieve = np.ones(limit + 1, dtype=bool)
    sieve[:2] = False
    for k in range(2, int(limit**0.5) + 1):
        if sieve[k]:
            sieve[k * k :: k] = False
    primes = np.flatnonzero(sieve)
    return primes[primes % 4 == 3]


_PALEY_PRIMES = _primes_3_mod_4()


def _paley(prime: int) -> np.ndarray:
    """Paley's construction of order ``prime + 1``: a first row and column of ones around the matrix whose entry
    (i, j) is 0 when ``i + j`` is 0 or a quadratic residue modulo ``prime``, 1 otherwise (``survey:::paley``)."""
    index = np.arange(prime)
    residues = np.unique(np.concatenate([[0], index[1 : (prime - 1) // 2 + 1] ** 2 % prime]))
    core = np.where(np.isin((index[:, None] + index[None, :]) % prime, residues), 0, 1)
    h = np.ones((prime + 1, prime + 1), dtype=int)
    h[1:, 1:] = core
    return h


def _paley_for(n: int, largest: int) -> np.ndarray | None:
    """R's ``survey:::paley(n, nmax)``: a Paley matrix (possibly doubled) with more than ``n`` rows, or None when
    its prime would make it larger than ``largest``."""
    ceiling = n + 4 - n % 4
    if n % 4 + 4 == n % 8:
        order = ceiling
        while order % 8 == 0:
            order //= 2
        if order - 1 in _PALEY_PRIMES:
            h = _paley(order - 1)
            while order < ceiling:
                h, order = _doubled(h), order * 2
            return h
    if n > _PALEY_PRIMES[-1]:
        return None
    prime = int(_PALEY_PRIMES[_PALEY_PRIMES >= n][0])
    if prime + 1 > ceiling + 4 and ceiling + 4 < largest:
        return _paley_for(ceiling + 3, 2 * (ceiling + 3))
    if prime > largest:
        return None
    return _paley(prime)


def _smallest_constructible(n: int) -> np.ndarray:
    """The smallest Hadamard matrix of more than ``n`` rows that is a Paley matrix doubled 0 or more times (which
    includes every Sylvester matrix, the doubles of Paley's order 4)."""
    order = n + 4 - n % 4
    while True:
        doublings, core = 0, order
        while core % 2 == 0 and core > 4 and core - 1 not in _PALEY_PRIMES:
            core, doublings = core // 2, doublings + 1
        if core - 1 in _PALEY_PRIMES:
            h = _paley(core - 1)
            for _ in range(doublings):
                h = _doubled(h)
            return h
        order += 4


def hadamard(n: int) -> np.ndarray:
    """A Hadamard matrix in 0/1 coding with more than ``n`` rows, whose first row and column are all 1: row
    ``1 + j`` (from 0) says which half-sample of stratum ``j`` every replicate (column) of BRR keeps.

    R: ``survey::hadamard(n)``, chosen as R chooses it (the ready-made order 4 or 16, a Paley matrix, or a
    ready-made matrix doubled) and built in the same row and column order, so that BRR replicates are R's own.
    R also keeps matrices of orders 28 and 36, which are neither Sylvester nor Paley matrices and are not
    reproduced here: where R would use one of them or one of them doubled (up to 200 strata: 24-27, 32-35,
    48-55, 68-71, 108-111 and 140-143 strata), this returns instead the smallest Paley matrix, doubled or not,
    that is large enough; for every other count up to 200 the matrix is R's, entry for entry. Those replicates
    differ from R's (and may be more) but are just as balanced: the variances of totals are R's (with 2 PSUs
    per stratum both equal the linearisation's, as the tests check), those of non-linear statistics differ
    within the replicates' noise.

    Parameters
    ----------
    n : int
        The number of strata; the matrix has at least ``n + 1`` rows.

    Returns
    -------
    ndarray
        A square matrix of 0 and 1 with mutually orthogonal ±1 columns.
    """
    m = n - n % 4
    ready = [order for order in _STORED_ORDERS if m < order <= m + 4]
    if ready:
        order = min(ready)
        return _sylvester(order) if order in (4, 16) else _smallest_constructible(n)
    # the ready-made orders doubled until they exceed n; R takes the closest (the first of equals)
    doublings = [next(k for k in range(64) if order * 2**k >= n + 1) for order in _STORED_ORDERS]
    sizes = [order * 2**k for order, k in zip(_STORED_ORDERS, doublings)]
    best = int(np.argmin(np.array(sizes) - n))
    h = _paley_for(n, sizes[best]) if sizes[best] - n > 4 else None
    if h is not None:
        return h
    if _STORED_ORDERS[best] not in (4, 16):
        return _smallest_constructible(n)
    return _sylvester(sizes[best])  # a Sylvester matrix doubled is the Sylvester matrix of twice its order
