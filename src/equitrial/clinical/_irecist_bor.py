"""iRECIST best overall response (iBOR) from dated time-point responses.

Seymour L et al. Lancet Oncol 2017;18:e143-e152, Table 3 (randomised trial: confirmation of
iCR/iPR not required).
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence

from equitrial.clinical._irecist_types import TIMEPOINT_CODES, BORCode
from equitrial.errors import InvalidInputError
from equitrial.stats._validation import check_option

__all__ = ["best_overall_response"]

_RESPONSE_RANK: dict[str, int] = {"iCR": 3, "iPR": 2, "iSD": 1, "NON-iCR/NON-iUPD": 1}
_STABLE = ("iSD", "NON-iCR/NON-iUPD")
_TARGET_ONLY = ("iPR", "iSD")


def best_overall_response(
    timepoints: Sequence[tuple[datetime.date, str]],
    *,
    reference_date: datetime.date,
    min_sd_days: int = 42,
) -> BORCode:
    """iRECIST best overall response of one patient (no confirmation of iCR/iPR).

    Parameters
    ----------
    timepoints
        ``(date, code)`` pairs in strictly increasing date order, code in {"iCR", "iPR",
        "iSD", "iUPD", "iCPD", "NE"}, and "NON-iCR/NON-iUPD" for non-target-only disease.
    reference_date
        Start of treatment (date of randomisation in a randomised trial); every time point
        must be on or after it.
    min_sd_days
        Minimum time from ``reference_date`` (days) for iSD or NON-iCR/NON-iUPD to count as
        best response (RECIST 1.1: "in general not less than 6-8 weeks"); default 42.

    Returns
    -------
    str
        One of "iCR", "iPR", "iSD", "NON-iCR/NON-iUPD", "iUPD", "iCPD", "NE".

    Raises
    ------
    InvalidInputError
        Dates not strictly increasing or before ``reference_date``; an iCPD not preceded by
        an iUPD (with only iUPD or NE in between); iPR/iSD mixed with NON-iCR/NON-iUPD
        (target and non-target-only disease); a negative or non-whole ``min_sd_days``.
    UnknownOptionError
        A code not listed above.

    Notes
    -----
    Only time points up to and including the first iCPD are considered (later ones do not
    count, Table 3 examples 6-7). The iBOR is the best of iCR > iPR > iSD (or
    NON-iCR/NON-iUPD) among them, a response after an unconfirmed iUPD counting as well
    (examples 2-5); iSD/NON-iCR/NON-iUPD counts only at least ``min_sd_days`` after
    ``reference_date``. With no such response: iCPD if progression was confirmed (examples
    6-7), else iUPD if any iUPD was recorded (example 8), else NE (also for no time point).

    References
    ----------
    .. [1] Seymour L, Bogaerts J, Perrone A, et al. iRECIST: guidelines for response criteria
       for use in trials testing immunotherapeutics. Lancet Oncol 2017;18(3):e143-e152,
       Table 3.
    .. [2] Eisenhauer EA et al. New response evaluation criteria in solid tumours: revised
       RECIST guideline (version 1.1). Eur J Cancer 2009;45:228-247 (minimum SD duration).
    """
    _check_min_days(min_sd_days)
    codes = _check_timepoints(timepoints, reference_date)
    considered = list(zip((d for d, _ in timepoints), codes, strict=True))
    if "iCPD" in codes:
        considered = considered[: codes.index("iCPD") + 1]
    best: BORCode | None = None
    for date, code in considered:
        rank = _RESPONSE_RANK.get(code)
        if rank is None:
            continue
        if code in _STABLE and (date - reference_date).days < min_sd_days:
            continue
        if best is None or rank > _RESPONSE_RANK[best]:
            best = code
    if best is not None:
        return best
    seen = {code for _, code in considered}
    for fallback in ("iCPD", "iUPD"):
        if fallback in seen:
            return fallback
    return "NE"


def _check_min_days(min_sd_days: int) -> None:
    if isinstance(min_sd_days, bool) or not isinstance(min_sd_days, int) or min_sd_days < 0:
        raise InvalidInputError(
            f"min_sd_days must be a whole number of days >= 0, got {min_sd_days!r}",
            field="min_sd_days",
            value=min_sd_days,
            expected="int >= 0",
        )


def _check_timepoints(
    timepoints: Sequence[tuple[datetime.date, str]], reference_date: datetime.date
) -> list[BORCode]:
    codes: list[BORCode] = []
    previous = reference_date
    for i, (date, code) in enumerate(timepoints):
        codes.append(check_option(code, TIMEPOINT_CODES, f"time-point code (entry {i})"))  # type: ignore[arg-type]
        if date < reference_date or (i > 0 and date <= previous):
            raise InvalidInputError(
                f"time point {i} dated {date} must be after the previous one ({previous}) and "
                f"not before reference_date {reference_date}",
                field="timepoints",
                value=date,
            )
        previous = date
    _check_sequence(codes)
    return codes


def _check_sequence(codes: list[BORCode]) -> None:
    if any(c in _TARGET_ONLY for c in codes) and "NON-iCR/NON-iUPD" in codes:
        raise InvalidInputError(
            "iPR/iSD (target disease) mixed with NON-iCR/NON-iUPD (non-target-only disease)",
            field="timepoints",
        )
    open_iupd = False
    for i, code in enumerate(codes):
        if code == "iCPD" and not open_iupd:
            raise InvalidInputError(
                f"time point {i} is iCPD without a preceding iUPD (only iUPD or NE may lie "
                "between them)",
                field="timepoints",
                value=code,
            )
        if code == "iCPD":
            return  # progression confirmed: what follows does not count
        if code == "iUPD":
            open_iupd = True
        elif code != "NE":
            open_iupd = False
