"""The blocked kernel behind :func:`equitrial.design._sim_logrank.simulate_survival_gs`.

A chunk of trials is drawn at once (so the random stream does not depend on how it is
processed) and then worked through in blocks of rows small enough for the processor's cache.
Per look, the log-rank order is found by sorting 32-bit keys: the observed time rounded to
float32, whose two lowest mantissa bits carry the group and the event flag. Rounding to float32
is monotone, so the float32 order is the float64 order wherever adjacent keys differ by more
than the rounding; rows with two keys closer than that (about 1% of rows) are recomputed by
:func:`logrank_rows` in float64. Each row's ``U`` and ``V`` are therefore the same numbers,
to the last bit, as :func:`logrank_rows` gives on the whole row.
"""

from __future__ import annotations

import sys

import numpy as np
from numpy.typing import NDArray

from equitrial.design._sim_logrank_rows import logrank_rows, logrank_z

__all__ = ["survival_chunk"]

FloatArray = NDArray[np.float64]
Design = tuple[int, float, float, float, tuple[int, ...], bool]

BLOCK_ROWS = 256
_LITTLE_ENDIAN = sys.byteorder == "little"
# two sorted int32 keys closer than this may be a float32 tie (or a float64 one): float64 path
_NEAR = 8


class _Block:
    """Preallocated buffers for ``rows`` trials of ``n`` patients."""

    def __init__(self, rows: int, n: int) -> None:
        self.survival = np.empty((rows, n))
        self.calendar = np.empty((rows, n))
        self.scratch = np.empty((rows, n))
        self.share = np.empty((rows, n))
        self.key = np.empty((rows, n), np.int32)
        self.gap = np.empty((rows, n - 1), np.uint32)
        self.event = np.empty((rows, n), np.bool_)
        self.low = np.empty((rows, n), np.uint8)
        self.g2 = np.empty((rows, n), np.uint8)
        self.at_risk2 = np.empty((rows, n), np.int32)

    def head(self, rows: int) -> _Block:
        """The same buffers cut to the first ``rows`` rows (the last, shorter block)."""
        view = object.__new__(_Block)
        for name, array in vars(self).items():
            setattr(view, name, array[:rows])
        return view


def _group1_events(event: NDArray[np.bool_]) -> NDArray[np.int64]:
    """Events in group 1 (patients 1, 3, 5, ...: the even columns) of each row."""
    n = event.shape[1]
    if n % 2 or not _LITTLE_ENDIAN:  # pragma: no cover - odd sizes, big-endian machines
        return np.asarray(np.count_nonzero(event[:, 0::2], axis=1), dtype=np.int64)
    # each pair of columns read as one little-endian uint16: even column + 256 * odd column,
    # and at most n / 2 < 256 even-column events, so the low byte of the sum is their count
    pairs = event.view(np.uint16).sum(axis=1, dtype=np.int64)
    return np.asarray(pairs & 255, dtype=np.int64)


def _look_uv(
    b: _Block, entry: FloatArray, look: FloatArray, group: NDArray[np.int8]
) -> tuple[FloatArray, FloatArray, NDArray[np.bool_]]:
    """Log-rank ``U`` and ``V`` of each row of the block at the look of calendar time ``look``.

    Also returns which rows may hold a float32 tie: they are to be recomputed in float64.
    """
    n = b.key.shape[1]
    np.less_equal(b.calendar, look, out=b.event)
    # time on study, censored at the look; a patient not yet entered has a negative time,
    # which sorts before every event time (in no risk set)
    np.subtract(look, entry, out=b.scratch)
    np.minimum(b.scratch, b.survival, out=b.scratch)
    b.key.view(np.float32)[...] = b.scratch
    b.key &= ~np.int32(3)
    b.key |= group.astype(np.int32) << 1
    b.key |= b.event
    b.key.sort(axis=1)
    unsigned = b.key.view(np.uint32)  # the exact gap of two sorted int32 keys
    np.subtract(unsigned[:, 1:], unsigned[:, :-1], out=b.gap)
    near = b.gap.min(axis=1) < _NEAR
    if _LITTLE_ENDIAN:
        np.bitwise_and(b.key.view(np.uint8)[:, ::4], 3, out=b.low)
    else:  # pragma: no cover - big-endian machines
        np.bitwise_and(b.key, 3, out=b.low, casting="unsafe")
    np.bitwise_and(b.low, 2, out=b.g2)  # twice the group
    # twice the group-1 patients at risk at position j: twice all of group 1 minus those before j
    b.at_risk2[:, 0] = 0
    np.cumsum(b.g2[:, :-1], axis=1, dtype=np.int32, out=b.at_risk2[:, 1:])
    np.subtract((b.at_risk2[:, -1] + b.g2[:, -1])[:, None], b.at_risk2, out=b.at_risk2)
    # (2 n1) / (2 n) is n1 / n to the last bit: both are exact integers
    np.divide(b.at_risk2, np.arange(2 * n, 0, -2, dtype=np.float64), out=b.share)
    b.low &= 1
    at_events = np.multiply(b.share, b.low, out=b.scratch)
    expected_1 = at_events.sum(axis=1)
    u = _group1_events(b.event) - expected_1
    v = expected_1 - np.einsum("ij,ij->i", at_events, b.share)
    return u, v, near


def _float64_uv(
    survival: FloatArray, entry: FloatArray, look: FloatArray, group: NDArray[np.int8]
) -> tuple[FloatArray, FloatArray]:
    """``U`` and ``V`` of a few rows by :func:`logrank_rows`, from the same numbers as a block."""
    calendar = survival + entry
    observed = np.minimum(look - entry, survival)
    return logrank_rows(observed, calendar <= look, group)


def survival_chunk(
    rng: np.random.Generator, n_rows: int, design: Design, critical: FloatArray
) -> tuple[NDArray[np.bool_], FloatArray]:
    """Rejections ``(n_rows, K)`` (first rejection only) and look times ``(n_rows, K)``."""
    n, accrual_time, rate1, rate2, events, random_accrual = design
    entry_all: FloatArray
    if random_accrual:
        entry_all = rng.uniform(0.0, accrual_time, (n_rows, n))
    else:  # rpact: patient i (1-based) enters at i * accrual_time / n
        entry_all = accrual_time * np.arange(1, n + 1) / n
    group = (np.arange(n) % 2 == 0).astype(np.int8)  # patients 1, 3, 5, ... in group 1
    raw = rng.standard_exponential((n_rows, n))
    scale = np.where(group == 1, 1 / rate1, 1 / rate2)
    u = np.empty((n_rows, len(events)))
    v = np.empty((n_rows, len(events)))
    looks = np.empty((n_rows, len(events)))
    near = np.empty((n_rows, len(events)), np.bool_)
    block = _Block(min(BLOCK_ROWS, n_rows), n)
    for start in range(0, n_rows, BLOCK_ROWS):
        stop = min(start + BLOCK_ROWS, n_rows)
        b = block if stop - start == BLOCK_ROWS else block.head(stop - start)
        entry = entry_all if entry_all.ndim == 1 else entry_all[start:stop]
        np.multiply(raw[start:stop], scale, out=b.survival)
        np.add(b.survival, entry, out=b.calendar)
        b.scratch[...] = b.calendar
        b.scratch.sort(axis=1)  # the d-th event of each row
        at = [b.scratch[:, d - 1 : d].copy() for d in events]
        for k, look in enumerate(at):  # a loop over the (few) looks, not over replicates
            u[start:stop, k], v[start:stop, k], near[start:stop, k] = _look_uv(
                b, entry, look, group
            )
            looks[start:stop, k] = look[:, 0]
    for k in range(len(events)):
        rows = np.flatnonzero(near[:, k])
        if rows.size:
            e = entry_all if entry_all.ndim == 1 else entry_all[rows]
            survival = raw[rows] * scale
            u[rows, k], v[rows, k] = _float64_uv(survival, e, looks[rows, k : k + 1], group)
    crossed = logrank_z(u, v) >= critical
    first = crossed & (np.cumsum(crossed, axis=1) == 1)
    return first, looks
