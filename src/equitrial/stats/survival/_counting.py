"""Tied-time aggregation shared by the survival estimators (Kaplan–Meier, log-rank, Cox).

Everything here works on validated arrays and is vectorized: one stable sort of the times, then
``np.bincount`` and cumulative sums. No Python loop runs per subject (the only loop is over
strata, in :func:`risk_set_sums`).

What it offers
--------------
:func:`check_survival_data`
    Validates ``time`` (finite, ``>= 0``) and ``event`` (0/1 or bool) of equal length.
:func:`encode_labels`
    Sorted distinct labels of a grouping variable and each subject's integer code.
:func:`aeq_times`
    R's ``survival::aeqSurv`` (the ``timefix = TRUE`` default of ``survfit``, ``survdiff`` and
    ``coxph``): times closer than ``sqrt(.Machine$double.eps)`` become one time.
:func:`risk_table`
    Counts at each distinct (stratum, time): subjects at risk, events and censorings, per group,
    plus each subject's row so other per-subject quantities can be aggregated the same way.
:func:`risk_set_sums`
    Reverse cumulative sums within strata: turns per-row totals into risk-set totals.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from equitrial.errors import InvalidInputError
from equitrial.stats._validation import check_array, check_same_length

__all__ = [
    "TIMEFIX_TOLERANCE",
    "RiskTable",
    "aeq_times",
    "check_survival_data",
    "encode_labels",
    "risk_set_sums",
    "risk_table",
]

#: ``sqrt(.Machine$double.eps)``, the default tolerance of R's ``aeqSurv``.
TIMEFIX_TOLERANCE: float = float(np.sqrt(np.finfo(np.float64).eps))


def check_survival_data(
    time: ArrayLike,
    event: ArrayLike,
    *,
    time_name: str = "time",
    event_name: str = "event",
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """Validate right-censored data and return ``(time, event)`` as float and bool arrays.

    ``time`` must be finite and non-negative (R's ``Surv`` accepts a time of 0); ``event`` must
    hold only 0 and 1 (or ``False``/``True``); both must have the same length, at least 1.
    """
    t = check_array(time, time_name)
    if np.any(t < 0):
        bad = int(np.flatnonzero(t < 0)[0])
        raise InvalidInputError(
            f"{time_name} must be non-negative; entry {bad} is {t[bad]!r}",
            field=time_name,
            value=float(t[bad]),
            expected=">= 0",
        )
    raw = check_array(event, event_name, dtype=None)
    if raw.dtype == np.bool_:
        e = raw
    else:
        try:
            num = raw.astype(np.float64)
        except (TypeError, ValueError):
            num = np.full(raw.shape, np.nan)
        ok = (num == 0) | (num == 1)
        if not np.all(ok):
            bad = int(np.flatnonzero(~ok)[0])
            raise InvalidInputError(
                f"{event_name} must be 0 (censored) or 1 (event); entry {bad} is {raw[bad]!r}",
                field=event_name,
                value=raw[bad],
                expected="0 or 1",
            )
        e = num == 1
    check_same_length(**{time_name: t, event_name: e})
    return t, e


def encode_labels(values: ArrayLike, name: str, n: int) -> tuple[tuple[Any, ...], NDArray[np.intp]]:
    """Return the sorted distinct labels of ``values`` and each entry's index into them.

    ``values`` must be one-dimensional, of length ``n``, with no missing value (``NaN`` or
    ``None``); labels of mixed, unorderable types are refused.
    """
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise InvalidInputError(
            f"{name} must be one-dimensional, got shape {arr.shape}", field=name, value=arr.shape
        )
    if arr.size != n:
        raise InvalidInputError(
            f"{name} must have one entry per subject ({n}), got {arr.size}",
            field=name,
            value=arr.size,
            expected=f"length {n}",
        )
    if arr.dtype.kind == "f" and np.any(np.isnan(arr)):
        raise InvalidInputError(f"{name} must not contain NaN", field=name)
    try:
        labels, codes = np.unique(arr, return_inverse=True)
    except TypeError:
        raise InvalidInputError(
            f"{name} must hold labels of one orderable type, without None", field=name
        ) from None
    return tuple(labels.tolist()), codes.reshape(-1).astype(np.intp)


def _tie_cuts(unique_sorted: NDArray[np.float64], tol: float) -> NDArray[np.intp]:
    """For sorted distinct times, the index of the time each one is merged into (aeqSurv)."""
    q = unique_sorted.size
    if q < 2:
        return np.arange(q, dtype=np.intp)
    dy = np.diff(unique_sorted)
    tied = (dy <= tol) | (dy / np.mean(np.abs(unique_sorted)) <= tol)
    starts = np.concatenate(([True], ~tied))
    first = np.flatnonzero(starts)
    cuts: NDArray[np.intp] = first[np.cumsum(starts) - 1]
    return cuts


def aeq_times(time: NDArray[np.float64], tol: float = TIMEFIX_TOLERANCE) -> NDArray[np.float64]:
    """Merge near-equal times as R's ``survival::aeqSurv`` does.

    Sort the distinct times; a time whose gap to the previous distinct time is ``<= tol``, or
    ``<= tol`` relative to the mean absolute distinct time, is replaced by the first time of its
    chain. ``0.1 + 0.2`` and ``0.3`` thus become one time (``0.3``), as in R.
    """
    unique, inverse = np.unique(time, return_inverse=True)
    cuts = _tie_cuts(unique, tol)
    return unique[cuts][inverse.reshape(-1)]


@dataclass(frozen=True, eq=False)
class RiskTable:
    """Counts at each distinct time within each stratum, per group.

    Rows are sorted by stratum, then time. ``m`` is the number of rows, ``k`` the number of
    groups, ``s`` the number of strata, ``n`` the number of subjects.

    Attributes
    ----------
    time
        ``(m,)`` the distinct times (after the timefix merge when it was asked for).
    stratum
        ``(m,)`` the stratum code of each row.
    stratum_start
        ``(s + 1,)`` offsets: the rows of stratum ``j`` are ``stratum_start[j]:stratum_start[j+1]``.
    n_risk, n_event, n_censor
        ``(m, k)`` int64: subjects at risk just before the time, events and censorings at it.
    row
        ``(n,)`` the row of each subject, in input order.
    order
        ``(n,)`` a permutation of the subjects sorting them by stratum then time (stable).
    """

    time: NDArray[np.float64]
    stratum: NDArray[np.intp]
    stratum_start: NDArray[np.intp]
    n_risk: NDArray[np.int64]
    n_event: NDArray[np.int64]
    n_censor: NDArray[np.int64]
    row: NDArray[np.intp]
    order: NDArray[np.intp]


def risk_table(
    time: NDArray[np.float64],
    event: NDArray[np.bool_],
    *,
    group: NDArray[np.intp] | None = None,
    n_groups: int = 1,
    strata: NDArray[np.intp] | None = None,
    n_strata: int = 1,
    timefix: bool = True,
) -> RiskTable:
    """Aggregate validated data into a :class:`RiskTable`.

    ``group`` and ``strata`` are integer codes in ``0..n_groups-1`` and ``0..n_strata-1`` (from
    :func:`encode_labels`); every stratum code must occur. With ``timefix`` the times are first
    merged as R's ``aeqSurv`` does (over all strata together, as R does).
    """
    n = time.size
    order = np.argsort(time, kind="stable")
    ts = time[order]
    distinct = np.empty(n, dtype=bool)
    distinct[0] = True
    np.not_equal(ts[1:], ts[:-1], out=distinct[1:])
    unique = ts[distinct]
    cut_of_unique = (
        _tie_cuts(unique, TIMEFIX_TOLERANCE) if timefix else np.arange(unique.size, dtype=np.intp)
    )
    time_id = cut_of_unique[np.cumsum(distinct) - 1]
    if strata is not None:
        by_stratum = np.argsort(strata[order], kind="stable")
        order = order[by_stratum]
        time_id = time_id[by_stratum]
        s_sorted = strata[order]
    else:
        s_sorted = np.zeros(n, dtype=np.intp)
    new_row = np.empty(n, dtype=bool)
    new_row[0] = True
    new_row[1:] = (time_id[1:] != time_id[:-1]) | (s_sorted[1:] != s_sorted[:-1])
    row_sorted = np.cumsum(new_row) - 1
    m = int(row_sorted[-1]) + 1
    row = np.empty(n, dtype=np.intp)
    row[order] = row_sorted
    k = n_groups
    cell = row if group is None else row * k + group
    n_all = np.bincount(cell, minlength=m * k).reshape(m, k).astype(np.int64)
    n_event = np.bincount(cell[event], minlength=m * k).reshape(m, k).astype(np.int64)
    stratum = s_sorted[new_row]
    stratum_start = np.searchsorted(stratum, np.arange(n_strata + 1)).astype(np.intp)
    return RiskTable(
        time=unique[time_id[new_row]],
        stratum=stratum,
        stratum_start=stratum_start,
        n_risk=risk_set_sums(n_all, stratum_start),
        n_event=n_event,
        n_censor=n_all - n_event,
        row=row,
        order=order.astype(np.intp),
    )


def risk_set_sums(per_row: NDArray[Any], stratum_start: NDArray[np.intp]) -> NDArray[Any]:
    """Reverse cumulative sums of ``per_row`` (rows along axis 0) within each stratum.

    Row ``r`` of the result is the sum of ``per_row`` over the rows of its stratum at or after
    ``r``: with per-row subject counts that is the number at risk; with per-row sums of
    ``exp(x'beta)`` it is the Cox risk-set denominator. Each stratum is summed on its own, so a
    large stratum does not cost a small one precision.
    """
    out = np.empty_like(per_row)
    for a, b in itertools.pairwise(stratum_start.tolist()):
        out[a:b] = np.cumsum(per_row[a:b][::-1], axis=0)[::-1]
    return out
