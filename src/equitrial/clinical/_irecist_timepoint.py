"""iRECIST time-point response: one assessment's categories plus the carried state -> response.

Seymour L et al. Lancet Oncol 2017;18:e143-e152, Table 2 and the text on confirmation and the
"reset" of the bar; RECIST working group iRECIST FAQ (recist.eortc.org/irecist).
"""

from __future__ import annotations

import datetime
import math
from collections import Counter
from dataclasses import dataclass, replace
from fractions import Fraction

from equitrial.clinical._irecist_types import (
    NON_TARGET_CATEGORIES,
    TARGET_CATEGORIES,
    Category,
    IrecistState,
    IrecistTimepoint,
    IupdCycle,
    TimepointCode,
    TimepointStatus,
)
from equitrial.clinical._recist_timepoint import exact_decimal
from equitrial.errors import InvalidInputError
from equitrial.stats._validation import check_option

__all__ = ["assess_timepoint", "at_least", "increased_by", "meets_pd"]

MAX_NEW_TARGET = 5
MAX_NEW_TARGET_PER_ORGAN = 2
CONFIRM_MM = 5.0


def _exact(value: float) -> Fraction:
    # the decimal as written (shortest repr of the float), so 24.5 + 4.9 == 29.4 exactly
    return exact_decimal(float(value))


def at_least(a: float, b: float) -> bool:
    """``a >= b`` compared exactly as the decimals written (no float rounding)."""
    return _exact(a) >= _exact(b)


def increased_by(value: float, reference: float, mm: float = CONFIRM_MM) -> bool:
    """``value - reference >= mm``, compared exactly as the decimals written."""
    return _exact(value) - _exact(reference) >= _exact(mm)


def meets_pd(value: float, nadir: float) -> bool:
    """RECIST 1.1 PD of a sum: at least +20 % and at least +5 mm from the nadir."""
    v, n = _exact(value), _exact(nadir)
    return v - n >= _exact(CONFIRM_MM) and v >= Fraction(6, 5) * n


@dataclass(frozen=True)
class _NewLesions:
    """New-lesion facts of one assessment, relative to what was seen before."""

    present: bool
    ids: frozenset[str]  # NLT with a measure > 0
    nlt_sum: float
    progression: bool  # RECIST 1.1 PD in the new-lesion category


def assess_timepoint(
    status: TimepointStatus,
    state: IrecistState | None = None,
    *,
    min_confirm_days: int = 28,
) -> IrecistTimepoint:
    """iRECIST overall response of one assessment from its per-category status.

    Parameters
    ----------
    status
        Target, non-target and new-lesion status of this assessment (:class:`TimepointStatus`).
    state
        What the previous assessments left (``result.state`` of the previous call);
        ``None`` or ``IrecistState()`` for the first assessment after baseline.
    min_confirm_days
        An assessment fewer than this many days after the iUPD that opened the cycle is not
        used to confirm iCPD, except by an additional new lesion on a scan done for a new
        clinical sign. Default 28 (4 weeks); a protocol window of -2 days is 26.

    Returns
    -------
    IrecistTimepoint
        ``response`` in {"iCR", "iPR", "iSD", "NON-iCR/NON-iUPD", "iUPD", "iCPD", "NE"}, the
        categories, the separate target and NLT sums, and ``state`` for the next call.

    Raises
    ------
    InvalidInputError
        Date not after the previous assessment; no target and no non-target disease; a
        negative or non-finite measure; more than 5 NLT or more than 2 in one organ;
        duplicate NLT identifiers; a negative NLNT count.
    UnknownOptionError
        A category code not listed in :class:`TimepointStatus`.

    Notes
    -----
    Without an open iUPD: iUPD if RECIST 1.1 PD is met in any category (target +20 % and
    +5 mm from nadir, given as ``target="iUPD"``; unequivocal non-target progression; a new
    lesion never seen before, the NLT sum +20 % and +5 mm from its nadir -- the smallest NLT
    sum since an NLT last appeared -- or unequivocal NLNT progression first seen now).
    Otherwise Table 2 rows 1-4 and RECIST 1.1 Table 1: iCR (target iCR, non-target iCR or
    absent, no new lesion present), iPR (target iCR with persisting or
    unevaluated non-target or persisting new lesions; target iPR), iSD, NE (target NE); with
    non-target disease only, iCR or NON-iCR/NON-iUPD or NE.

    With an open iUPD (opened by the first iUPD; NE assessments keep it open), iCPD if, in a
    category that showed iUPD, the target sum rose >= 5 mm, any non-target increase, the NLT
    sum rose >= 5 mm, any NLNT increase, or any additional new lesion -- each measured from
    the assessment that opened the cycle, so small increases add up -- or if RECIST 1.1 PD is
    met in a category that had not shown iUPD. If not confirmed: still iUPD while a category
    is in iUPD (target or non-target still meets PD; new lesions of an iUPD that are still
    present, unless the target sum has shrunk below its value at the iUPD -- FAQ scenario B
    versus F); otherwise the response of Table 2 rows 1-4 resets the bar (iSD, iPR, iCR,
    NON-iCR/NON-iUPD) or keeps the cycle open (NE). iCPD is final: later assessments are iCPD.

    References
    ----------
    .. [1] Seymour L, Bogaerts J, Perrone A, et al. iRECIST: guidelines for response criteria
       for use in trials testing immunotherapeutics. Lancet Oncol 2017;18(3):e143-e152,
       Table 2.
    .. [2] RECIST Working Group. iRECIST questions and clarifications (confirmation < 4 weeks
       after iUPD; iUPD driven by non-target disease; iPR after new lesions).
       https://recist.eortc.org/irecist/
    """
    state = IrecistState() if state is None else state
    _check_status(status, state)
    nl = _new_lesions(status, state)
    cycle: IupdCycle | None
    confirmed = state.confirmed_date
    if confirmed is not None:
        response: TimepointCode = "iCPD"
        cycle = state.cycle
    elif state.cycle is None:
        response, cycle = _without_cycle(status, nl, state)
    else:
        response, cycle = _within_cycle(status, nl, state.cycle, min_confirm_days)
        if response == "iCPD":
            confirmed = status.date
    new_state = _advance(state, status, nl, cycle, confirmed)
    return IrecistTimepoint(
        date=status.date,
        response=response,
        target=status.target,
        non_target=status.non_target,
        new_lesions_present=nl.present,
        new_lesion_progression=nl.progression,
        target_sum=status.target_sum,
        new_target_sum=nl.nlt_sum,
        iupd_categories=frozenset() if cycle is None else cycle.categories,
        state=new_state,
    )


def _check_status(status: TimepointStatus, state: IrecistState) -> None:
    if state.last_date is not None and status.date <= state.last_date:
        raise InvalidInputError(
            f"assessment dated {status.date} is not after the previous one ({state.last_date})",
            field="date",
            value=status.date,
            expected=f"a date after {state.last_date}",
        )
    if status.target is None and status.non_target is None:
        raise InvalidInputError(
            f"assessment {status.date}: no target and no non-target disease; iRECIST needs "
            "baseline disease in at least one category",
            field="target",
        )
    if status.target is not None:
        check_option(status.target, TARGET_CATEGORIES, "target category")
    if status.non_target is not None:
        check_option(status.non_target, NON_TARGET_CATEGORIES, "non-target category")
    if status.target_sum is not None:
        _check_measure(status.target_sum, "target_sum", status)
    if isinstance(status.new_non_target_count, bool) or status.new_non_target_count < 0:
        raise InvalidInputError(
            f"assessment {status.date}: new_non_target_count must be a whole number >= 0, "
            f"got {status.new_non_target_count!r}",
            field="new_non_target_count",
            value=status.new_non_target_count,
        )
    _check_new_targets(status)


def _check_measure(value: float, name: str, status: TimepointStatus) -> None:
    if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
        raise InvalidInputError(
            f"assessment {status.date}: {name} must be a finite number of mm >= 0, got {value!r}",
            field=name,
            value=value,
        )


def _check_new_targets(status: TimepointStatus) -> None:
    nlt = status.new_target
    if len(nlt) == 0:
        return  # nothing to check (most assessments)
    if len(nlt) > MAX_NEW_TARGET:
        raise InvalidInputError(
            f"assessment {status.date}: {len(nlt)} new lesion targets; iRECIST measures at "
            f"most {MAX_NEW_TARGET} (record the others as new non-target lesions)",
            field="new_target",
            value=len(nlt),
        )
    ids = Counter(lesion.lesion_id for lesion in nlt)
    organs = Counter(lesion.organ for lesion in nlt)
    duplicate = [k for k, n in ids.items() if n > 1]
    crowded = [k for k, n in organs.items() if n > MAX_NEW_TARGET_PER_ORGAN]
    if duplicate:
        raise InvalidInputError(
            f"assessment {status.date}: new lesion target {duplicate[0]!r} listed twice",
            field="new_target",
            value=duplicate[0],
        )
    if crowded:
        raise InvalidInputError(
            f"assessment {status.date}: more than {MAX_NEW_TARGET_PER_ORGAN} new lesion "
            f"targets in organ {crowded[0]!r}",
            field="new_target",
            value=crowded[0],
        )
    for lesion in nlt:
        _check_measure(lesion.measure_mm, f"new lesion {lesion.lesion_id!r} measure", status)


def _new_lesions(status: TimepointStatus, state: IrecistState) -> _NewLesions:
    ids = frozenset(x.lesion_id for x in status.new_target if x.measure_mm > 0)
    nlt_sum = math.fsum(x.measure_mm for x in status.new_target)
    appeared = bool(ids - state.seen_new_target_ids) or (
        status.new_non_target_count > state.max_new_non_target_count
    )
    grew = state.new_target_nadir is not None and meets_pd(nlt_sum, state.new_target_nadir)
    return _NewLesions(
        present=bool(ids) or status.new_non_target_count > 0,
        ids=ids,
        nlt_sum=nlt_sum,
        progression=appeared or grew or status.new_non_target_unequivocal,
    )


def _triggers(status: TimepointStatus, nl: _NewLesions) -> frozenset[Category]:
    found: set[Category] = set()
    if status.target == "iUPD":
        found.add("target")
    if status.non_target == "iUPD":
        found.add("non_target")
    if nl.progression:
        found.add("new_lesions")
    return frozenset(found)


def _without_cycle(
    status: TimepointStatus, nl: _NewLesions, state: IrecistState
) -> tuple[TimepointCode, IupdCycle | None]:
    triggers = _triggers(status, nl)
    if not triggers:
        return _base_response(status, nl.present), None
    cycle = IupdCycle(
        start_date=status.date,
        categories=triggers,
        target_sum=status.target_sum,
        new_target_sum=nl.nlt_sum,
        new_target_ids=state.seen_new_target_ids | nl.ids,
        new_non_target_count=max(state.max_new_non_target_count, status.new_non_target_count),
    )
    return "iUPD", cycle


def _within_cycle(
    status: TimepointStatus, nl: _NewLesions, cycle: IupdCycle, min_confirm_days: int
) -> tuple[TimepointCode, IupdCycle | None]:
    additional = bool(nl.ids - cycle.new_target_ids) or (
        status.new_non_target_count > cycle.new_non_target_count
    )
    evidence = _grew_in_cycle(status, nl, cycle, additional) or _pd_outside_cycle(
        status, nl, cycle, additional
    )
    early = (status.date - cycle.start_date).days < min_confirm_days
    if evidence and (not early or (status.new_clinical_sign and additional)):
        return "iCPD", cycle
    kept = replace(
        cycle,
        non_target_increased=cycle.non_target_increased or status.non_target_increase,
        new_non_target_increased=cycle.new_non_target_increased or status.new_non_target_increase,
    )
    if _still_iupd(status, nl, cycle):
        return "iUPD", kept
    base = _base_response(status, nl.present)
    if base == "NE":
        return "NE", kept
    return base, None  # the bar is reset


def _grew_in_cycle(
    status: TimepointStatus, nl: _NewLesions, cycle: IupdCycle, additional: bool
) -> bool:
    """Further increase, since the iUPD that opened the cycle, in a category that showed it."""
    cats = cycle.categories
    if (
        "target" in cats
        and status.target_sum is not None
        and cycle.target_sum is not None
        and increased_by(status.target_sum, cycle.target_sum)
    ):
        return True
    if "non_target" in cats and (status.non_target_increase or cycle.non_target_increased):
        return True
    return "new_lesions" in cats and (
        increased_by(nl.nlt_sum, cycle.new_target_sum)
        or status.new_non_target_increase
        or cycle.new_non_target_increased
        or additional
    )


def _pd_outside_cycle(
    status: TimepointStatus, nl: _NewLesions, cycle: IupdCycle, additional: bool
) -> bool:
    """RECIST 1.1 PD in a category that had not shown iUPD in this cycle."""
    cats = cycle.categories
    if "target" not in cats and status.target == "iUPD":
        return True
    if "non_target" not in cats and status.non_target == "iUPD":
        return True
    return "new_lesions" not in cats and (additional or nl.progression)


def _still_iupd(status: TimepointStatus, nl: _NewLesions, cycle: IupdCycle) -> bool:
    if status.target == "iUPD" or status.non_target == "iUPD":
        return True
    if "new_lesions" not in cycle.categories or not nl.present:
        return False
    shrunk = (
        status.target not in (None, "NE")
        and status.target_sum is not None
        and cycle.target_sum is not None
        and not at_least(status.target_sum, cycle.target_sum)
    )
    return not shrunk


def _base_response(status: TimepointStatus, new_present: bool) -> TimepointCode:
    """Table 2 rows 1-4 (and RECIST 1.1 Tables 1-2 for NE) when no category is in iUPD."""
    target, non_target = status.target, status.non_target
    if target is None:
        if non_target == "iCR":
            return "NON-iCR/NON-iUPD" if new_present else "iCR"
        return "NE" if non_target == "NE" else "NON-iCR/NON-iUPD"
    if target == "iCR":
        if non_target in (None, "iCR") and not new_present:
            return "iCR"
        return "iPR"
    if target in ("iPR", "iSD"):
        return target
    return "NE"


def _advance(
    state: IrecistState,
    status: TimepointStatus,
    nl: _NewLesions,
    cycle: IupdCycle | None,
    confirmed: datetime.date | None,
) -> IrecistState:
    if not status.new_target:
        nadir = state.new_target_nadir
    elif nl.ids - state.seen_new_target_ids or state.new_target_nadir is None:
        nadir = nl.nlt_sum  # a new NLT restarts the NLT nadir
    else:
        nadir = min(state.new_target_nadir, nl.nlt_sum)
    return IrecistState(
        cycle=cycle,
        confirmed_date=confirmed,
        seen_new_target_ids=state.seen_new_target_ids | nl.ids,
        max_new_non_target_count=max(state.max_new_non_target_count, status.new_non_target_count),
        new_target_nadir=nadir,
        last_date=status.date,
    )
