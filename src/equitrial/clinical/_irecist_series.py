"""iRECIST over a patient's series of assessments, from structured lesion measurements.

Seymour L et al. Lancet Oncol 2017;18:e143-e152; target-lesion categories as RECIST 1.1
(Eisenhauer EA et al. Eur J Cancer 2009;45:228-247).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from equitrial.clinical._irecist_timepoint import assess_timepoint, at_least
from equitrial.clinical._irecist_types import (
    IrecistAssessment,
    IrecistBaseline,
    IrecistState,
    IrecistTimepoint,
    TargetCategory,
    TargetLesionMeasure,
    TimepointStatus,
)
from equitrial.clinical._recist_timepoint import TargetSeries
from equitrial.clinical.recist import target_response
from equitrial.errors import InvalidInputError

__all__ = ["assess_series", "target_category"]

MAX_TARGET = 5
_MEASURABLE_MM = 10.0
_MEASURABLE_NODE_MM = 15.0
_I_CODE: dict[str, TargetCategory] = {
    "CR": "iCR",
    "PR": "iPR",
    "SD": "iSD",
    "PD": "iUPD",
    "NE": "NE",
}


def target_category(
    baseline: Sequence[TargetLesionMeasure],
    history: Sequence[Sequence[TargetLesionMeasure]],
    current: Sequence[TargetLesionMeasure],
) -> tuple[TargetCategory, float]:
    """iRECIST target-lesion category and measured sum at one assessment (RECIST 1.1 rules).

    Parameters
    ----------
    baseline
        The baseline target lesions with their baseline measures.
    history
        The earlier follow-up assessments of the same lesions (any order of lesions).
    current
        The same lesions at this assessment (``measure_mm=None`` if unmeasured).

    Returns
    -------
    tuple
        ``(category, measured_sum)``: category in {"iCR", "iPR", "iSD", "iUPD", "NE"} and the
        sum of the lesions measured now (mm; a lower bound when some are unmeasured).

    Notes
    -----
    The category is RECIST 1.1's :func:`equitrial.clinical.recist.target_response` with the
    "i" prefix (PD -> iUPD): iUPD at +20 % and +5 mm from the nadir (smallest complete sum,
    baseline included), also with unmeasured lesions when those measured already reach it;
    NE with an unmeasured lesion otherwise; iCR when every non-nodal lesion is 0 mm and every
    node < 10 mm; iPR at -30 % from baseline; otherwise iSD. Lesions are matched by
    ``lesion_id``, so their listing order does not matter.

    References
    ----------
    .. [1] Eisenhauer EA et al. New response evaluation criteria in solid tumours: revised
       RECIST guideline (version 1.1). Eur J Cancer 2009;45:228-247.
    .. [2] Seymour L et al. Lancet Oncol 2017;18:e143-e152 (RECIST 1.1 principles, "i" codes).
    """
    order = [m.lesion_id for m in baseline]

    def aligned(measures: Sequence[TargetLesionMeasure]) -> list[float | None]:
        by_id = {m.lesion_id: m.measure_mm for m in measures}
        return [by_id[i] for i in order]

    code = target_response(
        [m.measure_mm or 0.0 for m in baseline],
        [aligned(h) for h in history],
        aligned(current),
        nodal=[m.nodal for m in baseline],
    )
    total = math.fsum(m.measure_mm for m in current if m.measure_mm is not None)
    return _I_CODE[code], total


def assess_series(
    baseline: IrecistBaseline,
    assessments: Sequence[IrecistAssessment],
    *,
    min_confirm_days: int = 28,
) -> tuple[IrecistTimepoint, ...]:
    """iRECIST time-point responses of one patient's follow-up assessments, in date order.

    Parameters
    ----------
    baseline
        Baseline target lesions (measures) and whether non-target disease was present.
    assessments
        Follow-up assessments in strictly increasing date order, each with every baseline
        target lesion, the non-target status and the new lesions (NLT measures, NLNT count).
    min_confirm_days
        Passed to :func:`assess_timepoint` (default 28 days).

    Returns
    -------
    tuple of IrecistTimepoint
        One result per assessment; ``response`` in {"iCR", "iPR", "iSD",
        "NON-iCR/NON-iUPD", "iUPD", "iCPD", "NE"}.

    Raises
    ------
    InvalidInputError
        No baseline disease; more than 5 baseline target lesions, a baseline measure that is
        missing or not measurable (non-nodal < 10 mm, nodal short axis < 15 mm); a follow-up
        whose target lesions are not exactly the baseline ones; a non-target status missing
        where there was baseline non-target disease; a negative measure; dates out of order;
        and every error of :func:`assess_timepoint`.

    Notes
    -----
    The target category comes from :func:`target_category` (RECIST 1.1 target response, the
    nadir being the smallest complete target sum so far, baseline included). New lesions are
    never added to the target sum: the NLT sum is kept apart (``new_target_sum``). Without
    baseline non-target disease a non-target status given at follow-up is ignored. See
    :func:`assess_timepoint` for the confirmation, the reset and the table of responses.

    References
    ----------
    .. [1] Seymour L, Bogaerts J, Perrone A, et al. iRECIST: guidelines for response criteria
       for use in trials testing immunotherapeutics. Lancet Oncol 2017;18(3):e143-e152.
    .. [2] Eisenhauer EA et al. Eur J Cancer 2009;45:228-247.
    """
    _check_baseline(baseline)
    ids = {m.lesion_id for m in baseline.target}
    state = IrecistState()
    # target_category(baseline, earlier visits, this visit) at each visit, in O(1) each
    series = _TargetCategories(baseline.target)
    results: list[IrecistTimepoint] = []
    for visit in assessments:
        _check_targets(visit, ids)
        status = _status(visit, baseline, series)
        result = assess_timepoint(status, state, min_confirm_days=min_confirm_days)
        results.append(result)
        state = result.state
    return tuple(results)


class _TargetCategories:
    """:func:`target_category` of each visit of one series in turn: the same RECIST 1.1
    target response, by :class:`~equitrial.clinical._recist_timepoint.TargetSeries` (which
    carries the nadir instead of reading every earlier visit again), and the same sum."""

    def __init__(self, baseline: Sequence[TargetLesionMeasure]) -> None:
        self._baseline = baseline
        self._series: TargetSeries | None = None  # built at the first visit, as there

    def next(self, current: Sequence[TargetLesionMeasure]) -> tuple[TargetCategory, float]:
        baseline = self._baseline
        if self._series is None:
            measures = [m.measure_mm or 0.0 for m in baseline]
            self._series = TargetSeries(measures, nodal=[m.nodal for m in baseline])
        by_id = {m.lesion_id: m.measure_mm for m in current}
        code, _, _ = self._series.next([by_id[m.lesion_id] for m in baseline])
        total = math.fsum(m.measure_mm for m in current if m.measure_mm is not None)
        return _I_CODE[code], total


def _status(
    visit: IrecistAssessment, baseline: IrecistBaseline, series: _TargetCategories
) -> TimepointStatus:
    if baseline.non_target and visit.non_target is None:
        raise InvalidInputError(
            f"assessment {visit.date}: non-target status missing although baseline had "
            "non-target disease (use 'NE' if not evaluated)",
            field="non_target",
        )
    target: TargetCategory | None = None
    target_sum: float | None = None
    if baseline.target:
        target, target_sum = series.next(visit.target)
    return TimepointStatus(
        date=visit.date,
        target=target,
        target_sum=target_sum,
        non_target=visit.non_target if baseline.non_target else None,
        non_target_increase=visit.non_target_increase and baseline.non_target,
        new_target=visit.new_target,
        new_non_target_count=visit.new_non_target_count,
        new_non_target_increase=visit.new_non_target_increase,
        new_non_target_unequivocal=visit.new_non_target_unequivocal,
        new_clinical_sign=visit.new_clinical_sign,
    )


def _check_baseline(baseline: IrecistBaseline) -> None:
    if not baseline.target and not baseline.non_target:
        raise InvalidInputError(
            "baseline has neither target nor non-target disease; iRECIST cannot be assessed",
            field="baseline",
        )
    if len(baseline.target) > MAX_TARGET:
        raise InvalidInputError(
            f"baseline has {len(baseline.target)} target lesions; RECIST 1.1 allows at most "
            f"{MAX_TARGET}",
            field="baseline.target",
            value=len(baseline.target),
        )
    for m in baseline.target:
        limit = _MEASURABLE_NODE_MM if m.nodal else _MEASURABLE_MM
        value = m.measure_mm
        if value is None or not math.isfinite(value) or not at_least(value, limit):
            kind = "nodal short axis" if m.nodal else "longest diameter"
            raise InvalidInputError(
                f"baseline target lesion {m.lesion_id!r}: {kind} must be measured and >= "
                f"{limit:g} mm, got {value!r}",
                field="baseline.target",
                value=value,
                expected=f">= {limit:g} mm",
            )
    if len({m.lesion_id for m in baseline.target}) != len(baseline.target):
        raise InvalidInputError(
            "baseline target lesion identifiers must be unique", field="baseline.target"
        )


def _check_targets(visit: IrecistAssessment, ids: set[str]) -> None:
    got = [m.lesion_id for m in visit.target]
    if len(got) != len(set(got)) or set(got) != ids:
        raise InvalidInputError(
            f"assessment {visit.date}: target lesions {sorted(got)} are not the baseline "
            f"target lesions {sorted(ids)} (each exactly once; measure_mm=None if unmeasured)",
            field="target",
            value=sorted(got),
        )
    for m in visit.target:
        value = m.measure_mm
        if value is not None and not (math.isfinite(value) and value >= 0):
            raise InvalidInputError(
                f"assessment {visit.date}: target lesion {m.lesion_id!r} measure must be a "
                f"finite number of mm >= 0, got {value!r}",
                field="target",
                value=value,
            )
