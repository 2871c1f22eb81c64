"""RECIST 1.1 for one patient and one reader: lesion records in, per-assessment responses out."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass

from equitrial.clinical._recist_bor import (
    CrThenPr,
    best_overall_response,
    first_response_date,
    progression_date,
)
from equitrial.clinical._recist_records import (
    READERS,
    STATUSES_BY_ROLE,
    TOO_SMALL_TO_MEASURE_MM,
    Lesion,
    LesionMeasurement,
    Reader,
    check_mm,
    index_lesions,
    validate_baseline,
)
from equitrial.clinical._recist_timepoint import (
    NonTargetResponse,
    NonTargetStatus,
    OverallResponse,
    TargetResponse,
    TargetSeries,
    exact_sum_mm,
    non_target_response,
    timepoint_response,
)
from equitrial.errors import InvalidInputError
from equitrial.stats._validation import check_option

__all__ = ["PatientAssessment", "TimepointAssessment", "assess_patient"]

Key = tuple[str, datetime.date]
_NON_TARGET_STATUS: dict[str, NonTargetStatus] = {
    "present": "present",
    "absent": "absent",
    "unequivocal progression": "unequivocal progression",
}


@dataclass(frozen=True)
class TimepointAssessment:
    """Responses at one post-baseline assessment.

    Attributes
    ----------
    date : datetime.date
    target : {"CR", "PR", "SD", "PD", "NE"} or None
        None without target disease.
    non_target : {"CR", "NON-CR/NON-PD", "PD", "NE"} or None
        None without non-target disease.
    new_lesions : bool
        An unequivocal new lesion (or an equivocal one confirmed later) is present.
    overall : {"CR", "PR", "SD", "NON-CR/NON-PD", "PD", "NE"}
    target_sum_mm : float or None
        Sum of target diameters; None without target disease or when a target was not assessed.
    """

    date: datetime.date
    target: TargetResponse | None
    non_target: NonTargetResponse | None
    new_lesions: bool
    overall: OverallResponse
    target_sum_mm: float | None


@dataclass(frozen=True)
class PatientAssessment:
    """RECIST 1.1 responses of one patient as read by one reader.

    Attributes
    ----------
    reader : {"investigator", "central"}
    baseline_date : datetime.date
    baseline_sum_mm : float or None
        None without target disease.
    timepoints : tuple of TimepointAssessment
        The post-baseline assessments in date order.
    best_overall_response : {"CR", "PR", "SD", "NON-CR/NON-PD", "PD", "NE"}
    first_response_date : datetime.date or None
    progression_date : datetime.date or None
    duration_of_response_days : int or None
        None without response or without PD (censoring is the analysis layer's job).
    """

    reader: Reader
    baseline_date: datetime.date
    baseline_sum_mm: float | None
    timepoints: tuple[TimepointAssessment, ...]
    best_overall_response: OverallResponse
    first_response_date: datetime.date | None
    progression_date: datetime.date | None
    duration_of_response_days: int | None


def _index_measurements(
    by_id: dict[str, Lesion], measurements: Sequence[LesionMeasurement], reader: str
) -> dict[Key, LesionMeasurement]:
    table: dict[Key, LesionMeasurement] = {}
    for m in measurements:
        if not isinstance(m, LesionMeasurement):
            raise InvalidInputError(f"measurements must be LesionMeasurement records, got {m!r}")
        if m.reader != reader:
            continue
        lesion = by_id.get(m.lesion_id)
        if lesion is None:
            raise InvalidInputError(f"{_where(m)}: no such lesion", value=m.lesion_id)
        allowed = STATUSES_BY_ROLE[lesion.role]
        if m.status not in allowed:
            raise InvalidInputError(
                f"{_where(m)}: status {m.status!r} is not one for a {lesion.role} lesion "
                f"(expected one of {', '.join(allowed)})",
                value=m.status,
            )
        if m.merged_into is not None:
            into = by_id.get(m.merged_into)
            if into is None or into.role != "target" or m.merged_into == m.lesion_id:
                raise InvalidInputError(
                    f"{_where(m)}: merged_into {m.merged_into!r} must be another target lesion",
                    value=m.merged_into,
                )
        if (m.lesion_id, m.date) in table:
            raise InvalidInputError(
                f"{_where(m)}: recorded twice by the {reader}", value=m.lesion_id
            )
        table[(m.lesion_id, m.date)] = m
    return table


def _where(m: LesionMeasurement) -> str:
    return f"lesion {m.lesion_id!r} on {m.date}"


def _new_lesion_flags(
    new: Sequence[Lesion], table: dict[Key, LesionMeasurement], dates: Sequence[datetime.date]
) -> list[bool]:
    """Unequivocal new lesion per date; an equivocal one counts from its first sighting once a
    later assessment shows it unequivocally (Eisenhauer 2009, section 4.3.4)."""
    flags = [False] * len(dates)
    for lesion in new:
        statuses = [
            table[(lesion.lesion_id, d)].status if (lesion.lesion_id, d) in table else None
            for d in dates
        ]
        for k, status in enumerate(statuses):
            confirmed_later = "present" in statuses[k + 1 :]
            if status == "present" or (status == "equivocal" and confirmed_later):
                flags[k] = True
    return flags


def _non_target_statuses(
    non_targets: Sequence[Lesion], table: dict[Key, LesionMeasurement], day: datetime.date
) -> list[NonTargetStatus | None]:
    out: list[NonTargetStatus | None] = []
    for lesion in non_targets:
        m = table.get((lesion.lesion_id, day))
        out.append(None if m is None else _NON_TARGET_STATUS.get(m.status))
    return out


def assess_patient(
    lesions: Sequence[Lesion],
    measurements: Sequence[LesionMeasurement],
    *,
    reader: Reader,
    reference_date: datetime.date,
    confirmation_required: bool,
    too_small_mm: float = TOO_SMALL_TO_MEASURE_MM,
    confirmation_days: int = 28,
    min_sd_days: int = 42,
    max_ne_between: int = 1,
    cr_then_pr: CrThenPr = "progression",
) -> PatientAssessment:
    """RECIST 1.1 responses of one patient at every assessment of one reader, and the BOR.

    Parameters
    ----------
    lesions : sequence of Lesion
        All lesions of the patient: targets, non-targets and new lesions.
    measurements : sequence of LesionMeasurement
        Measurements of every reader; only those of ``reader`` are used. The earliest date is the
        baseline assessment; every later date is one post-baseline assessment. A lesion without a
        record at an assessment is "not assessed" there.
    reader : {"investigator", "central"}
        Whose reads to assess; call once per reader for investigator and central review.
    reference_date : datetime.date
        Start of treatment or randomisation, for the minimum SD duration.
    confirmation_required : bool
        Whether CR/PR need confirmation (see :func:`best_overall_response`).
    too_small_mm : float, default 5.0
        Diameter used for a target "too small to measure".
    confirmation_days, min_sd_days, max_ne_between, cr_then_pr
        As in :func:`best_overall_response`.

    Returns
    -------
    PatientAssessment

    Raises
    ------
    InvalidInputError
        No measurements for ``reader``; a measurement of an unknown lesion, twice on one date,
        or with a status that does not fit the lesion's role; a merge into a lesion that is not
        another target; no target and no non-target lesion; any baseline rule of
        :func:`validate_baseline`.

    Notes
    -----
    Tumour markers are taken as normal (non-target CR needs them normal); use
    :func:`non_target_response` directly otherwise. An equivocal new lesion that a later
    assessment shows unequivocally counts as new from the date it was first seen, so earlier
    time-point responses become PD retrospectively.

    References
    ----------
    .. [1] Eisenhauer EA, Therasse P, Bogaerts J, et al. New response evaluation criteria in solid
       tumours: revised RECIST guideline (version 1.1). Eur J Cancer 2009;45:228-247, sections
       3-4 and Tables 1-3.
    """
    check_option(reader, READERS, "reader")
    too_small = check_mm(too_small_mm, "too_small_mm")
    by_id = index_lesions(lesions)
    table = _index_measurements(by_id, measurements, reader)
    if not table:
        raise InvalidInputError(f"no measurements by the {reader}", field="measurements")
    dates = sorted({day for _, day in table})
    baseline_date, follow_up = dates[0], dates[1:]
    validate_baseline(lesions, [m for (_, d), m in table.items() if d == baseline_date])
    targets = [x for x in lesions if x.role == "target"]
    non_targets = [x for x in lesions if x.role == "non-target"]
    if not targets and not non_targets:
        raise InvalidInputError(
            "no target and no non-target lesion: not evaluable by RECIST 1.1", field="lesions"
        )
    new_flags = _new_lesion_flags([x for x in lesions if x.role == "new"], table, follow_up)

    def diameters(day: datetime.date) -> list[float | None]:
        return [
            table[(t.lesion_id, day)].value_mm(too_small) if (t.lesion_id, day) in table else None
            for t in targets
        ]

    baseline = [v if v is not None else 0.0 for v in diameters(baseline_date)]
    # target_response(baseline, earlier follow-ups, this one) at each follow-up, in O(1) each
    series = TargetSeries(baseline, nodal=[t.nodal for t in targets])
    rows: list[TimepointAssessment] = []
    for day, new in zip(follow_up, new_flags, strict=True):
        target: TargetResponse | None = None
        total: float | None = None
        if targets:
            target, measured, complete = series.next(diameters(day))
            # the exact sum of the diameters as written (exact_sum_mm), when all were measured
            total = float(measured) if complete else None
        statuses = _non_target_statuses(non_targets, table, day)
        non_target = non_target_response(statuses) if non_targets else None
        overall = timepoint_response(target, non_target, new)
        rows.append(TimepointAssessment(day, target, non_target, new, overall, total))
    overall_series = [(row.date, row.overall) for row in rows]
    bor = best_overall_response(
        overall_series,
        reference_date=reference_date,
        confirmation_required=confirmation_required,
        confirmation_days=confirmation_days,
        min_sd_days=min_sd_days,
        max_ne_between=max_ne_between,
        cr_then_pr=cr_then_pr,
        target_disease=bool(targets),
    )
    first = first_response_date(
        overall_series,
        confirmation_required=confirmation_required,
        confirmation_days=confirmation_days,
        max_ne_between=max_ne_between,
        cr_then_pr=cr_then_pr,
    )
    progression = progression_date(
        overall_series, confirmation_required=confirmation_required, cr_then_pr=cr_then_pr
    )
    return PatientAssessment(
        reader=reader,
        baseline_date=baseline_date,
        baseline_sum_mm=exact_sum_mm(baseline) if targets else None,
        timepoints=tuple(rows),
        best_overall_response=bor,
        first_response_date=first,
        progression_date=progression,
        duration_of_response_days=None
        if first is None or progression is None
        else (progression - first).days,
    )
