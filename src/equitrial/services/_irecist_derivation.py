"""iRECIST of one reader's series, derived from the same stored lesion measurements as RECIST 1.1.

:func:`irecist_inputs` is the pure mapping from RECIST 1.1 lesion records and measurement statuses
(:class:`equitrial.clinical.recist.Lesion`, :class:`~equitrial.clinical.recist.LesionMeasurement`)
to the inputs of :func:`equitrial.clinical.irecist.assess_series`; :func:`irecist_columns` reads
the reader's stored measurements and returns the ``irecist_*`` columns of every post-baseline
tumour assessment. The services call it wherever RECIST 1.1 is derived (on save and whenever the
reader's series is derived again), so the two never disagree about the data they were read from.

References
----------
.. [1] Seymour L, Bogaerts J, Perrone A, et al. iRECIST: guidelines for response criteria for
   use in trials testing immunotherapeutics. Lancet Oncol 2017;18(3):e143-e152.
.. [2] Eisenhauer EA, Therasse P, Bogaerts J, et al. New response evaluation criteria in solid
   tumours: revised RECIST guideline (version 1.1). Eur J Cancer 2009;45:228-247.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any, Final, NamedTuple, cast

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from equitrial.clinical import irecist, recist
from equitrial.errors import InvalidInputError
from equitrial.store import models as m
from equitrial.store.db import session_rows

__all__ = [
    "IRECIST_EMPTY",
    "FollowedLesion",
    "irecist_columns",
    "irecist_inputs",
    "irecist_values",
    "reader_measurements",
    "series_columns",
    "series_records",
    "stored_measurements",
]

IRECIST_EMPTY: Final[Mapping[str, Any]] = {
    "irecist_response": None,
    "irecist_target_sum": None,
    "irecist_new_lesion_progression": None,
}
"""The ``irecist_*`` columns of an assessment without an iRECIST time point (baseline)."""

_MEASURABLE_LD_MM: Final = 10.0  # RECIST 1.1 section 3.1.1 (CT, slices <= 5 mm)
_MEASURABLE_NODE_MM: Final = 15.0  # RECIST 1.1 section 3.1.1 (node short axis)
_MAX_NEW_TARGET: Final = 5  # iRECIST: up to 5 new lesion targets ...
_MAX_NEW_TARGET_PER_ORGAN: Final = 2  # ... at most 2 per organ
_NON_TARGET_CODE: Final[dict[str, irecist.NonTargetCategory]] = {
    "CR": "iCR",
    "NON-CR/NON-PD": "NON-iCR/NON-iUPD",
    "PD": "iUPD",
    "NE": "NE",
}
_NON_TARGET_STATUSES: Final = ("present", "absent", "unequivocal progression")

Key = tuple[str, dt.date]


class FollowedLesion(NamedTuple):
    """A lesion one reader follows: the columns of a :class:`~equitrial.store.models.Lesion`
    the derivation reads."""

    id: int
    lesion_code: str
    organ: str
    nodal: bool
    role: str


# the columns of a stored measurement that its RECIST 1.1 record is built from
_COLUMNS: Final = (
    m.LesionMeasurement.lesion_id,
    m.LesionMeasurement.assessment_date,
    m.LesionMeasurement.measurement_status,
    m.LesionMeasurement.diameter_mm,
)
# the reader's stored measurements of the lesions ``lesion_ids`` (built once: building a
# statement costs more than running it)
_STORED: Final = select(m.LesionMeasurement.id, *_COLUMNS).where(
    m.LesionMeasurement.lesion_id.in_(bindparam("lesion_ids", expanding=True)),
    m.LesionMeasurement.reader == bindparam("reader"),
)


def irecist_inputs(
    lesions: Sequence[recist.Lesion],
    measurements: Sequence[recist.LesionMeasurement],
    *,
    too_small_mm: float = recist.TOO_SMALL_TO_MEASURE_MM,
) -> tuple[irecist.IrecistBaseline, tuple[irecist.IrecistAssessment, ...]]:
    """iRECIST inputs of one reader's series from RECIST 1.1 lesion records and statuses.

    Parameters
    ----------
    lesions
        Every lesion the reader follows (roles "target", "non-target", "new").
    measurements
        The reader's measurements (one per lesion and date at most; not empty). The earliest
        date is the baseline, every later date one follow-up assessment.
    too_small_mm
        Measure of a target lesion "too small to measure" (RECIST 1.1 default 5 mm).

    Returns
    -------
    tuple
        ``(baseline, assessments)`` for :func:`equitrial.clinical.irecist.assess_series`.

    Raises
    ------
    InvalidInputError
        No measurements. (The baseline rules are checked by ``assess_series``.)

    Notes
    -----
    iRECIST keeps RECIST 1.1 for baseline disease and for each category [1]_, so the statuses
    map as RECIST 1.1 reads them [2]_:

    - Baseline: the earliest date; baseline targets are the "target" lesions with their baseline
      diameter; baseline non-target disease is present when any "non-target" lesion is followed.
    - Target lesions at follow-up: "measured" -> the diameter (longest diameter, nodal short
      axis); "too small to measure" -> ``too_small_mm`` (RECIST 1.1 appendix I default 5 mm);
      "disappeared" -> 0 mm; "merged" -> 0 mm (the coalesced diameter is carried by the lesion
      it merged into, RECIST 1.1 appendix I); "not assessed" or no record -> ``None`` (the
      target category is then NE unless the measured lesions already show PD).
    - Non-target category: RECIST 1.1 :func:`~equitrial.clinical.recist.non_target_response`
      over the lesions' statuses ("unequivocal progression" anywhere -> PD; else any "not
      assessed" or missing -> NE; all "absent" -> CR; else NON-CR/NON-PD), prefixed: CR -> iCR,
      NON-CR/NON-PD -> NON-iCR/NON-iUPD, PD -> iUPD, NE -> NE. No status records an increase
      short of unequivocal progression, so ``non_target_increase`` is always False: an iUPD
      shown only by non-target disease cannot be confirmed as iCPD from these data (iRECIST
      confirms it by *any* further increase, which the reader cannot record here).
    - New lesions ("new" role) are kept out of the target sum (iRECIST [1]_). A new lesion is a
      new lesion target (NLT) when the record of its first "present" sighting carries a
      measurable diameter (>= 10 mm, nodal short axis >= 15 mm; RECIST 1.1 section 3.1.1),
      up to 5 NLT and 2 per organ (iRECIST; in order of first sighting, then lesion code);
      every other present new lesion is a new lesion non-target (NLNT), counted. The category
      is fixed at first sighting (iRECIST categorises new lesions when they appear).
    - New lesion statuses: "present" -> present (an NLT with its diameter); "absent" -> gone
      (an NLT then counts 0 mm, iRECIST keeps recording it; before any sighting: nothing);
      "equivocal" -> not counted as a sighting (RECIST 1.1 section 4.3.4: PD only when
      unequivocal; unlike the RECIST 1.1 derivation, a later confirmation does not back-date
      the iRECIST response to the equivocal scan); "equivocal" after a sighting, "not
      assessed", no record, or "present" without a diameter for an NLT -> the lesion's last
      known state (its last measure). iRECIST has no "not evaluated" for a new lesion:
      carrying the last state invents neither growth (a spurious iCPD) nor a disappearance
      (a spurious reset of the bar).
    - No status records growth of an NLNT or unequivocal NLNT progression, nor a scan done
      for a new clinical sign: those inputs are False, so new-lesion iCPD comes from the NLT
      sum (+5 mm) or an additional new lesion.

    References
    ----------
    .. [1] Seymour L, Bogaerts J, Perrone A, et al. iRECIST: guidelines for response criteria
       for use in trials testing immunotherapeutics. Lancet Oncol 2017;18(3):e143-e152.
    .. [2] Eisenhauer EA, Therasse P, Bogaerts J, et al. New response evaluation criteria in
       solid tumours: revised RECIST guideline (version 1.1). Eur J Cancer 2009;45:228-247,
       section 4 and appendix I.
    """
    if not measurements:
        raise InvalidInputError("no measurements: iRECIST has no baseline", field="measurements")
    table: dict[Key, recist.LesionMeasurement] = {(x.lesion_id, x.date): x for x in measurements}
    dates = sorted({x.date for x in measurements})
    first, follow_up = dates[0], dates[1:]
    targets = [x for x in lesions if x.role == "target"]
    non_targets = [x for x in lesions if x.role == "non-target"]
    new = sorted((x for x in lesions if x.role == "new"), key=lambda x: x.lesion_id)

    def target_measures(day: dt.date) -> tuple[irecist.TargetLesionMeasure, ...]:
        return tuple(
            irecist.TargetLesionMeasure(
                t.lesion_id, _target_mm(table.get((t.lesion_id, day)), too_small_mm), t.nodal
            )
            for t in targets
        )

    baseline = irecist.IrecistBaseline(target=target_measures(first), non_target=bool(non_targets))
    nlt = _new_lesion_targets(new, table, follow_up)
    # new lesion -> its state: None before it appears, else the NLT measure (mm), or for an
    # NLNT 1.0 while present and 0.0 once gone
    states: dict[str, float | None] = {}
    visits = []
    for day in follow_up:
        for lesion in new:
            states[lesion.lesion_id] = _new_state(
                table.get((lesion.lesion_id, day)),
                states.get(lesion.lesion_id),
                lesion.lesion_id in nlt,
            )
        visits.append(
            irecist.IrecistAssessment(
                date=day,
                target=target_measures(day),
                non_target=_non_target(non_targets, table, day),
                new_target=tuple(
                    irecist.NewLesionTarget(code, nlt[code], mm)
                    for code, mm in states.items()
                    if code in nlt and mm is not None
                ),
                new_non_target_count=sum(
                    1 for code, mm in states.items() if code not in nlt and mm
                ),
            )
        )
    return baseline, tuple(visits)


def _target_mm(x: recist.LesionMeasurement | None, too_small_mm: float) -> float | None:
    if x is None or x.status not in ("measured", "too small to measure", "disappeared", "merged"):
        return None
    if x.status == "measured":
        return x.diameter_mm
    return too_small_mm if x.status == "too small to measure" else 0.0


def _non_target(
    lesions: Sequence[recist.Lesion], table: Mapping[Key, recist.LesionMeasurement], day: dt.date
) -> irecist.NonTargetCategory | None:
    if not lesions:
        return None
    statuses: list[recist.NonTargetStatus | None] = []
    for lesion in lesions:
        x = table.get((lesion.lesion_id, day))
        known = x is not None and x.status in _NON_TARGET_STATUSES
        statuses.append(cast(recist.NonTargetStatus, x.status) if known and x else None)
    return _NON_TARGET_CODE[recist.non_target_response(statuses)]


def _measurable(lesion: recist.Lesion, mm: float) -> bool:
    return mm >= (_MEASURABLE_NODE_MM if lesion.nodal else _MEASURABLE_LD_MM)


def _new_lesion_targets(
    new: Sequence[recist.Lesion],
    table: Mapping[Key, recist.LesionMeasurement],
    dates: Sequence[dt.date],
) -> dict[str, str]:
    """The new lesions followed as NLT (lesion code -> organ key), chosen at first sighting."""
    candidates: list[tuple[dt.date, str, str]] = []
    for lesion in new:
        sightings = [
            table[(lesion.lesion_id, d)]
            for d in dates
            if (lesion.lesion_id, d) in table and table[(lesion.lesion_id, d)].status == "present"
        ]
        if sightings:
            mm = sightings[0].diameter_mm
            if mm is not None and _measurable(lesion, mm):
                organ = lesion.organ.strip().lower()
                candidates.append((sightings[0].date, lesion.lesion_id, organ))
    chosen: dict[str, str] = {}
    for _, code, organ in sorted(candidates):
        per_organ = sum(1 for o in chosen.values() if o == organ)
        if len(chosen) < _MAX_NEW_TARGET and per_organ < _MAX_NEW_TARGET_PER_ORGAN:
            chosen[code] = organ
    return chosen


def _new_state(
    x: recist.LesionMeasurement | None, last: float | None, target: bool
) -> float | None:
    """A new lesion's state at one date: its measure (NLT) or 1.0/0.0 present/gone (NLNT);
    ``None`` while it has not appeared; the last state when not assessed."""
    if x is None or x.status in ("not assessed", "equivocal"):
        return last
    if x.status == "absent":
        return None if last is None else 0.0
    if not target:
        return 1.0
    return x.diameter_mm if x.diameter_mm is not None else last


def stored_measurements(
    session: Session, lesions: Mapping[str, FollowedLesion], reader: str
) -> list[tuple[Any, ...]]:
    """The reader's stored measurements of ``lesions``: rows ``(id, lesion_id,
    assessment_date, measurement_status, diameter_mm)``, what :func:`series_records` takes.

    One select of the columns, not of the entities; a measurement this session holds (one
    just saved or edited) is read from the object, as a select of the entities would return
    it (the ORM keeps the loaded values of an object already in the session).
    """
    ids = [lesion.id for lesion in lesions.values()]
    return session_rows(
        session, _STORED, {"lesion_ids": ids, "reader": reader}, m.LesionMeasurement
    )


def series_records(
    lesions: Mapping[str, FollowedLesion], rows: Sequence[tuple[Any, ...]], reader: str
) -> tuple[list[recist.Lesion], list[recist.LesionMeasurement]]:
    """The reader's lesions and the measurements ``rows`` (as :func:`stored_measurements`
    gives them) as RECIST 1.1 records (both empty without a row)."""
    if not rows:
        return [], []
    by_id = {lesion.id: code for code, lesion in lesions.items()}
    measurements = [
        recist.LesionMeasurement(
            by_id[lesion_id], day, cast(Any, reader), cast(Any, status), diameter
        )
        for _, lesion_id, day, status, diameter in rows
    ]
    records = [
        recist.Lesion(c, le.organ, le.nodal, cast(Any, le.role)) for c, le in lesions.items()
    ]
    return records, measurements


def reader_measurements(
    session: Session, lesions: Mapping[str, FollowedLesion], reader: str
) -> tuple[list[recist.Lesion], list[recist.LesionMeasurement]]:
    """The reader's lesions and stored measurements as RECIST 1.1 records (both empty when
    the reader has no measurement): what :func:`irecist_columns` and
    :func:`equitrial.services._derivation.timepoints` derive from (:func:`series_records`
    of :func:`stored_measurements`).
    """
    return series_records(lesions, stored_measurements(session, lesions, reader), reader)


def irecist_columns(
    session: Session, lesions: Mapping[str, FollowedLesion], reader: str
) -> dict[dt.date, dict[str, Any]]:
    """The ``irecist_*`` columns at every post-baseline date of the reader's stored measurements
    (:func:`series_columns` of :func:`reader_measurements`)."""
    return series_columns(*reader_measurements(session, lesions, reader))


def series_columns(
    lesions: Sequence[recist.Lesion], measurements: Sequence[recist.LesionMeasurement]
) -> dict[dt.date, dict[str, Any]]:
    """The ``irecist_*`` columns at every post-baseline date of one reader's measurements
    (none without a measurement).

    ``irecist_target_sum`` is the sum of the baseline target lesions only when every one was
    assessed (``None`` otherwise, like RECIST's sum); new lesions are never in it.
    """
    if not measurements:
        return {}
    baseline, visits = irecist_inputs(lesions, measurements)
    results = irecist.assess_series(baseline, visits)
    columns: dict[dt.date, dict[str, Any]] = {}
    for visit, result in zip(visits, results, strict=True):
        complete = bool(visit.target) and all(t.measure_mm is not None for t in visit.target)
        columns[visit.date] = {
            "irecist_response": result.response,
            "irecist_target_sum": result.target_sum if complete else None,
            "irecist_new_lesion_progression": result.new_lesion_progression,
        }
    return columns


def irecist_values(columns: Mapping[dt.date, Mapping[str, Any]], day: dt.date) -> dict[str, Any]:
    """The ``irecist_*`` columns of the assessment dated ``day`` (empty at baseline)."""
    return dict(columns.get(day, IRECIST_EMPTY))
