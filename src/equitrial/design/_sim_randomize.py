"""Stratified permuted-block randomization in the allocation ratio, vectorized across trials."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from equitrial.design._sim_accrual import arrival_times
from equitrial.design._sim_spec import TrialSpec

__all__ = [
    "allocate",
    "block_sequences",
    "draw_strata",
    "patients",
    "stratum_probabilities",
]

IntArray = NDArray[np.int64]


def stratum_probabilities(factors: Sequence[Sequence[float]]) -> NDArray[np.float64]:
    """Probabilities of the strata: every combination of factor levels, factors independent.

    Stratum ``s`` is the mixed-radix number of its levels, the first factor varying slowest
    (``numpy.ravel_multi_index`` order). No factor gives one stratum of probability 1.
    """
    probs = np.ones(1)
    for prevalences in factors:
        probs = np.outer(probs, np.asarray(prevalences, dtype=np.float64)).ravel()
    return probs


def draw_strata(
    rng: np.random.Generator, n_rows: int, n_patients: int, probabilities: NDArray[np.float64]
) -> IntArray:
    """Stratum index of each patient, shape ``(n_rows, n_patients)``, drawn independently."""
    cum = np.cumsum(probabilities)
    cum[-1] = 1.0
    u = rng.random((n_rows, n_patients))
    return np.asarray(np.searchsorted(cum, u, side="right"), dtype=np.int64)


def block_sequences(
    rng: np.random.Generator,
    n_rows: int,
    length: int,
    block_sizes: Sequence[int],
    allocation: tuple[int, int] = (1, 1),
) -> tuple[NDArray[np.int8], IntArray, IntArray]:
    """Permuted-block sequences ``(arm, block_id, block_size)``, each ``(n_rows, length)``.

    Each block's size is drawn uniformly from ``block_sizes`` (multiples of the allocation's
    sum); ``allocation = (test, reference)`` shares of a block are arm 1 (test) and arm 0
    (reference), in a uniformly random order: ``(2, 1)`` gives two thirds of every block to the
    test arm. The order comes from ranking uniform keys within the block: the slots whose key
    ranks among the block's first ``size * test / (test + reference)`` get arm 1. The last
    block may be cut off at ``length`` (an incomplete block).
    """
    sizes_all = np.asarray(block_sizes, dtype=np.int64)
    n_blocks = -(-length // int(sizes_all.min()))
    sizes = rng.choice(sizes_all, size=(n_rows, n_blocks))
    starts = np.cumsum(sizes, axis=1) - sizes
    marker = np.zeros((n_rows, length), dtype=np.int64)
    rows, cols = np.nonzero(starts < length)
    marker[rows, starts[rows, cols]] = 1
    block_id = np.cumsum(marker, axis=1) - 1
    keys = block_id + rng.random((n_rows, length))
    order = np.argsort(keys, axis=1)
    start_of = np.take_along_axis(starts, block_id, axis=1)
    size_of = np.take_along_axis(sizes, block_id, axis=1)
    # sorting the keys permutes slots within their blocks only, so sorted position p lies in the
    # block of position p: the block's first test-share of sorted positions are its test slots
    test_share, total = allocation[0], allocation[0] + allocation[1]
    in_sorted = np.arange(length) - start_of < size_of * test_share // total
    arm = np.empty((n_rows, length), dtype=np.int8)
    np.put_along_axis(arm, order, in_sorted.astype(np.int8), axis=1)
    return arm, block_id, size_of


def allocate(
    rng: np.random.Generator,
    strata: IntArray,
    n_strata: int,
    block_sizes: Sequence[int],
    allocation: tuple[int, int] = (1, 1),
) -> NDArray[np.int8]:
    """Arm of each patient: the next unused slot of its own stratum's permuted-block sequence.

    ``strata`` has shape ``(n_rows, n_patients)`` (patients in enrolment order). Each stratum
    gets its own :func:`block_sequences`, as long as the most patients any row puts in it, so
    the work is about ``n_patients`` slots per row whatever the number of strata. The loop runs
    over strata; every step is vectorized over trials and patients.
    """
    arm = np.zeros(strata.shape, dtype=np.int8)
    for s in range(n_strata):
        member = strata == s
        slot = np.cumsum(member, axis=1, dtype=np.int32) - 1
        length = int(slot[:, -1].max()) + 1
        if length == 0:
            continue
        sequence, _, _ = block_sequences(rng, strata.shape[0], length, block_sizes, allocation)
        rows, cols = np.nonzero(member)
        arm[rows, cols] = sequence[rows, slot[rows, cols]]
    return arm


def patients(
    rng: np.random.Generator, spec: TrialSpec, n_rows: int
) -> tuple[NDArray[np.float64], NDArray[np.int8], IntArray]:
    """Calendar entry (months from the first patient in), arm and stratum of every patient."""
    acc = spec.accrual
    n = acc.n_patients
    arrivals = arrival_times(rng, n_rows, n, acc.n_sites, acc.ramp_months, acc.rate_per_site)
    entry = arrivals - arrivals[:, :1]
    probs = stratum_probabilities([f.prevalences for f in spec.randomization.factors])
    strata = draw_strata(rng, n_rows, n, probs)
    rnd = spec.randomization
    arm = allocate(rng, strata, probs.size, rnd.block_sizes, rnd.allocation)
    return entry, arm, strata
