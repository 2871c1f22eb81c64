"""Vectorized log-rank score and variance across simulated trials, one trial a row."""

from __future__ import annotations

import sys

import numpy as np
from numpy.typing import NDArray

__all__ = ["logrank_rows", "logrank_z"]

FloatArray = NDArray[np.float64]

_LITTLE_ENDIAN = sys.byteorder == "little"


def logrank_rows(
    time_: FloatArray,
    event: NDArray[np.bool_],
    group: NDArray[np.int8],
    *,
    buffers: tuple[NDArray[np.int64], FloatArray, FloatArray] | None = None,
) -> tuple[FloatArray, FloatArray]:
    """Log-rank score ``U = sum (O1 - E1)`` and variance ``V`` of each row, group 1 vs group 0.

    ``time_`` holds observed times, finite; a negative time means "never at risk" (a patient
    not yet entered: it sorts before every event time, so it is in no risk set), and such a
    patient must have no event. ``event`` says whether each time ends in an event, ``group``
    is 0 or 1 (any shape that broadcasts against ``time_``). Each row is sorted by increasing
    time, so the number at risk at the ``j``-th smallest time is ``n - j`` (0-based) and the
    number of group-1 patients at risk the group-1 total minus a cumulative sum. Event times
    are assumed distinct (continuous times): each event contributes ``g - n1 / n`` to ``U`` and
    ``n1 (n - n1) / n^2`` to ``V``.

    For speed each row is sorted once as 64-bit integers: the bit pattern of a double orders
    like the double among non-negative values (negative ones all sort first), and its two
    lowest mantissa bits (a relative change below 1e-15) are replaced by the group and the
    event flag, which the sort then carries along. ``buffers`` (an int64 and two float64 arrays
    of ``time_``'s shape) are reused instead of allocating new ones.
    """
    shape = time_.shape
    key, share, at_events = buffers or (np.empty(shape, np.int64), np.empty(shape), np.empty(shape))
    np.bitwise_and(np.ascontiguousarray(time_, dtype=np.float64).view(np.int64), ~np.int64(3),
                   out=key)  # fmt: skip
    key |= np.asarray(group, dtype=np.int64) << 1
    key |= event
    key.sort(axis=1)
    low = key.view(np.uint8)[:, ::8] & np.uint8(3)  # the lowest byte (little-endian)
    if not _LITTLE_ENDIAN:  # pragma: no cover - big-endian machines
        low = (key & 3).astype(np.uint8)
    g = low >> np.uint8(1)
    # group-1 patients at risk at the j-th smallest time: all of group 1 minus those before j
    at_risk_1 = np.cumsum(g, axis=1, dtype=np.int32)
    np.subtract(at_risk_1[:, -1:], at_risk_1, out=at_risk_1)
    at_risk_1 += g
    np.divide(at_risk_1, np.arange(shape[1], 0, -1, dtype=np.float64), out=share)
    np.multiply(share, low & np.uint8(1), out=at_events)
    expected_1 = at_events.sum(axis=1)
    u = np.count_nonzero(low == 3, axis=1) - expected_1
    v = expected_1 - np.einsum("ij,ij->i", at_events, share)
    return u, v


def logrank_z(u: FloatArray, v: FloatArray) -> FloatArray:
    """``U / sqrt(V)``; 0 where ``V = 0`` (no event with both groups at risk)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(np.where(v > 0.0, u / np.sqrt(v), 0.0), dtype=np.float64)
