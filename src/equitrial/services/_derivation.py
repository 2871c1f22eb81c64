"""Derived values derived again when the records they depend on arrive or change.

Derived values are computed from :mod:`equitrial.clinical`, never typed. Some depend on other
records of the same subject:

- an adverse event's ``treatment_emergent`` on the subject's first dose date;
- a lab result's ``ctcae_grade`` on its baseline (the subject's earliest earlier result of the
  same test, used when in the same unit);
- a tumour assessment's responses (RECIST 1.1, and iRECIST by
  :mod:`equitrial.services._irecist_derivation`) on every measurement of the same reader
  (baseline, nadir, new lesions confirmed later, an iUPD confirmed or reset);
- a con-med's ``irae_corticosteroid`` on the immune-related category of the adverse event it
  treats (itself derived from the AE's CTCAE term).

When a dose, a lab result, a lesion measurement or an adverse event is saved (entered or
edited), the records that depend on it are derived again in the SAME transaction. A value that
changes is written through :func:`~equitrial.services._base.revise_record` by
:func:`derivation_actor` (audit username ``"system:derive (<user>)"`` with the user id of the
user whose change caused it) and a reason naming the cause (``"first dose date is 2024-03-04:
dose 12 recorded"``). Like any change, it
sends a verified or signed record back to ``entered`` and supersedes its signature.

A frozen or locked dependent record is NOT changed (a locked record never changes): a query is
opened on the derived field instead (rule ``"derivation"``, one open query per record and field),
naming the value it now derives to, so the data manager can unfreeze the record and save it
again (the save derives the value) or, for a locked record, document the discrepancy.

The callers hold the subject's row lock (:func:`~equitrial.services._base.lock_subject`), so the
dependent records are not being written by another transaction meanwhile.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Collection, Mapping, Sequence
from typing import Any, Final, TypeAlias, cast

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from equitrial.clinical import recist
from equitrial.clinical.corticosteroids import is_systemic_corticosteroid
from equitrial.clinical.ctcae import grade_lab
from equitrial.services._base import EDITABLE_STATUSES, revise_record
from equitrial.services._irecist_derivation import (
    FollowedLesion,
    irecist_values,
    reader_measurements,
    series_columns,
    series_records,
    stored_measurements,
)
from equitrial.services.auth import Actor
from equitrial.services.checks import Finding
from equitrial.services.queries import open_queries_for
from equitrial.store import models as m
from equitrial.store.db import session_rows

__all__ = [
    "DERIVATION_PREFIX",
    "derivation_actor",
    "first_dose_date",
    "has_earlier_lab",
    "irae_corticosteroid",
    "is_derivation",
    "lab_grade",
    "reader_lesions",
    "reader_responses",
    "reader_series",
    "rederive_adverse_events",
    "rederive_con_meds",
    "rederive_responses",
    "regrade_labs",
    "response_values",
    "series_timepoints",
    "timepoints",
]

DERIVATION_PREFIX: Final = "system:derive"
"""Start of the audit username of a value derived again by the system."""


def derivation_actor(actor: Actor) -> Actor:
    """The system, deriving values again because of ``actor``'s change (same user id)."""
    return dataclasses.replace(actor, username=f"{DERIVATION_PREFIX} ({actor.username})")


def is_derivation(username: str) -> bool:
    """Whether an audit row's username is the system's derivation (:func:`derivation_actor`)."""
    return username.startswith(DERIVATION_PREFIX)


def _apply(
    session: Session, actor: Actor, obj: Any, derived: Mapping[str, Any], reason: str
) -> None:
    """Write the derived values of a dependent record that changed (a query if frozen/locked)."""
    stale = {k: v for k, v in derived.items() if getattr(obj, k) != v}
    if not stale:
        return
    system = derivation_actor(actor)
    if obj.status in EDITABLE_STATUSES:
        revise_record(session, system, obj, stale, reason=f"derived again: {reason}")
        return
    for name, value in stale.items():
        pending = select(m.Query.id).where(
            m.Query.table_name == obj.__tablename__,
            m.Query.record_id == obj.id,
            m.Query.field == name,
            m.Query.rule == "derivation",
            m.Query.status != "closed",
        )
        if session.scalar(pending) is not None:
            continue
        how = "unfreeze it and save it again" if obj.status == "frozen" else "document it"
        message = (
            f"{name} now derives to {value!r} (stored: {getattr(obj, name)!r}; {reason}); "
            f"the record is {obj.status} and was not changed: {how}"
        )
        open_queries_for(
            session, system, obj, [Finding(name, "derivation", message, "implausible")]
        )


# -- adverse events: treatment-emergent from the first dose ------------------------------------


_FIRST_DOSE: Final = select(func.min(m.Dose.date)).where(m.Dose.subject_id == bindparam("subject"))
_SUBJECT_AES: Final = (
    select(m.AdverseEvent)
    .where(m.AdverseEvent.subject_id == bindparam("subject"))
    .order_by(m.AdverseEvent.id)
)


def first_dose_date(session: Session, subject_id: int) -> dt.date | None:
    """The date of the subject's first dose (``None`` before any dose)."""
    return session.scalar(_FIRST_DOSE, {"subject": subject_id})


def is_treatment_emergent(start_date: dt.date, first_dose: dt.date | None) -> bool:
    """An AE is treatment-emergent when it starts on or after the first dose."""
    return first_dose is not None and start_date >= first_dose


def rederive_adverse_events(session: Session, actor: Actor, subject_id: int, *, cause: str) -> None:
    """Derive ``treatment_emergent`` of the subject's AEs again (after a dose was saved)."""
    first = first_dose_date(session, subject_id)
    events = session.scalars(_SUBJECT_AES, {"subject": subject_id}).all()
    for event in events:
        derived = {"treatment_emergent": is_treatment_emergent(event.start_date, first)}
        _apply(session, actor, event, derived, f"first dose date is {first}: {cause}")


# -- con-meds: systemic corticosteroid for an immune-related AE ---------------------------------


def irae_corticosteroid(immune: str | None, name: str, route: str | None) -> bool:
    """A con-med is a systemic corticosteroid for an immune-related AE: it treats an AE with an
    immune-related category (``immune``, ``None``: no AE or none) and is a systemic
    corticosteroid (:func:`~equitrial.clinical.corticosteroids.is_systemic_corticosteroid`)."""
    return immune is not None and is_systemic_corticosteroid(name, route)


def rederive_con_meds(session: Session, actor: Actor, event: m.AdverseEvent, *, cause: str) -> None:
    """Derive ``irae_corticosteroid`` of the con-meds that treat ``event`` again (after the
    event changed: its term, and so its immune-related category)."""
    meds = session.scalars(
        select(m.ConMed).where(m.ConMed.adverse_event_id == event.id).order_by(m.ConMed.id)
    ).all()
    category = event.immune_category
    for med in meds:
        derived = {"irae_corticosteroid": irae_corticosteroid(category, med.name, med.route)}
        reason = f"immune-related category of adverse event {event.id} is {category!r}: {cause}"
        _apply(session, actor, med, derived, reason)


# -- lab results: CTCAE grade against the baseline --------------------------------------------


# statements built once (building one costs more than running it), run with parameters
_LAB_BEFORE: Final = (  # the subject's results of the test collected before a time
    m.LabResult.subject_id == bindparam("subject"),
    m.LabResult.test == bindparam("test"),
    m.LabResult.collected_at < bindparam("at"),
)
_LAB_EARLIER: Final = select(m.LabResult.value, m.LabResult.unit).where(*_LAB_BEFORE)
_LAB_FIRST: Final = _LAB_EARLIER.order_by(m.LabResult.collected_at).limit(1)
_LAB_FIRST_OTHER: Final = (
    _LAB_EARLIER.where(m.LabResult.id != bindparam("lab"))
    .order_by(m.LabResult.collected_at)
    .limit(1)
)
_LAB_EARLIER_IDS: Final = select(m.LabResult.id).where(*_LAB_BEFORE)
_LAB_ANY_EARLIER_UNSAVED: Final = _LAB_EARLIER_IDS.limit(1)
_LAB_ANY_EARLIER: Final = _LAB_EARLIER_IDS.where(m.LabResult.id != bindparam("lab")).limit(1)
_LAB_SERIES: Final = (
    select(m.LabResult)
    .where(
        m.LabResult.subject_id == bindparam("subject"),
        m.LabResult.test.in_(bindparam("tests", expanding=True)),
        m.LabResult.id != bindparam("skip"),
    )
    .order_by(m.LabResult.collected_at, m.LabResult.id)
)


def lab_grade(session: Session, lab: m.LabResult) -> int | None:
    """The CTCAE grade of a lab result against its baseline: the subject's earliest earlier
    result of the same test (the stored rows, the result itself left out), if in the same unit.
    """
    params = {"subject": lab.subject_id, "test": lab.test, "at": lab.collected_at}
    if lab.id is None:
        first = session.execute(_LAB_FIRST, params).first()
    else:
        first = session.execute(_LAB_FIRST_OTHER, {**params, "lab": lab.id}).first()
    baseline = first[0] if first is not None and first[1] == lab.unit else None
    return grade_lab(lab.test, lab.value, lab.unit, lln=lab.lln, uln=lab.uln, baseline=baseline)


def has_earlier_lab(session: Session, lab: m.LabResult) -> bool:
    """Whether the subject has a result of the same test collected before ``lab``."""
    params = {"subject": lab.subject_id, "test": lab.test, "at": lab.collected_at}
    if lab.id is None:
        return session.scalar(_LAB_ANY_EARLIER_UNSAVED, params) is not None
    return session.scalar(_LAB_ANY_EARLIER, {**params, "lab": lab.id}) is not None


def regrade_labs(
    session: Session,
    actor: Actor,
    subject_id: int,
    tests: Collection[str],
    *,
    cause: str,
    skip: int,
) -> None:
    """Grade the subject's other results of ``tests`` again (after result ``skip`` was saved)."""
    params = {"subject": subject_id, "tests": list(tests), "skip": skip}
    labs = session.scalars(_LAB_SERIES, params).all()
    for lab in labs:
        derived = {"ctcae_grade": lab_grade(session, lab)}
        _apply(session, actor, lab, derived, f"baseline of {lab.test!r} re-read: {cause}")


# -- tumour assessments: RECIST 1.1 over the reader's series ----------------------------------


Series: TypeAlias = tuple[
    Mapping[dt.date, recist.TimepointAssessment], Mapping[dt.date, Mapping[str, Any]]
]
"""The RECIST 1.1 time points and the ``irecist_*`` columns of one reader's series, by date."""

# the date of a tumour assessment and the responses derived for it
_RESPONSE_COLUMNS: Final = (
    m.TumourAssessment.assessment_date,
    m.TumourAssessment.target_response,
    m.TumourAssessment.non_target_response,
    m.TumourAssessment.new_lesions,
    m.TumourAssessment.overall_response,
    m.TumourAssessment.irecist_response,
    m.TumourAssessment.irecist_target_sum,
    m.TumourAssessment.irecist_new_lesion_progression,
)
# statements built once (building one costs more than running it), run with parameters
_LESIONS: Final = select(
    m.Lesion.id, m.Lesion.lesion_code, m.Lesion.organ, m.Lesion.nodal, m.Lesion.role
).where(m.Lesion.subject_id == bindparam("subject_id"), m.Lesion.reader == bindparam("reader"))
_RESPONSES: Final = (
    select(m.TumourAssessment.id, *_RESPONSE_COLUMNS)
    .where(
        m.TumourAssessment.subject_id == bindparam("subject_id"),
        m.TumourAssessment.reader == bindparam("reader"),
        m.TumourAssessment.id != bindparam("skip"),
    )
    .order_by(m.TumourAssessment.assessment_date)
)


def reader_lesions(session: Session, subject_id: int, reader: str) -> dict[str, FollowedLesion]:
    """The subject's lesions followed by ``reader``, by lesion code: one select of the columns
    (a lesion this session holds as the session holds it, as a select of the entities gives
    it)."""
    params = {"subject_id": subject_id, "reader": reader}
    rows = session_rows(session, _LESIONS, params, m.Lesion)
    return {lesion.lesion_code: lesion for lesion in map(FollowedLesion._make, rows)}


def timepoints(
    session: Session, lesions: Mapping[str, FollowedLesion], reader: str
) -> dict[dt.date, recist.TimepointAssessment]:
    """RECIST 1.1 responses at every post-baseline date of the reader's stored measurements
    (the baseline, the reader's first date, has none)."""
    records, measurements = reader_measurements(session, lesions, reader)
    return series_timepoints(records, measurements, reader)


def series_timepoints(
    lesions: Sequence[recist.Lesion], measurements: Sequence[recist.LesionMeasurement], reader: str
) -> dict[dt.date, recist.TimepointAssessment]:
    """RECIST 1.1 responses at every post-baseline date of one reader's measurements (none
    without a measurement)."""
    if not measurements:
        return {}
    result = recist.assess_patient(
        lesions,
        measurements,
        reader=cast(Any, reader),
        reference_date=min(x.date for x in measurements),
        confirmation_required=False,
    )
    return {t.date: t for t in result.timepoints}


def reader_series(
    session: Session,
    lesions: Mapping[str, FollowedLesion],
    reader: str,
    *,
    rows: Sequence[tuple[Any, ...]] | None = None,
) -> Series:
    """:func:`timepoints` and :func:`~equitrial.services._irecist_derivation.irecist_columns`
    of the reader's series, from one read of the stored measurements; ``rows``: the
    measurements as :func:`~equitrial.services._irecist_derivation.stored_measurements` gives
    them (read when ``None``)."""
    if rows is None:
        rows = stored_measurements(session, lesions, reader)
    records, measurements = series_records(lesions, rows, reader)
    return (
        series_timepoints(records, measurements, reader),
        series_columns(records, measurements),
    )


def reader_responses(
    session: Session, subject_id: int, reader: str, *, skip: int | None = None
) -> list[tuple[Any, ...]]:
    """The reader's tumour assessments of the subject (but ``skip``) in date order: rows
    ``(id, assessment_date, <the derived responses>)`` as the session's objects give them,
    what :func:`rederive_responses` compares."""
    params = {"subject_id": subject_id, "reader": reader, "skip": skip if skip is not None else -1}
    return session_rows(session, _RESPONSES, params, m.TumourAssessment)


def response_values(timepoint: recist.TimepointAssessment | None) -> dict[str, Any]:
    """The derived columns of a tumour assessment (all empty at baseline)."""
    return {
        "target_response": None if timepoint is None else timepoint.target,
        "non_target_response": None if timepoint is None else timepoint.non_target,
        "new_lesions": False if timepoint is None else timepoint.new_lesions,
        "overall_response": None if timepoint is None else timepoint.overall,
    }


def rederive_responses(
    session: Session,
    actor: Actor,
    subject_id: int,
    reader: str,
    *,
    cause: str,
    skip: int | None,
    series: Series | None = None,
    stored: Sequence[tuple[Any, ...]] | None = None,
) -> None:
    """Derive the responses (RECIST 1.1 and iRECIST) of the reader's tumour assessments of the
    subject again; ``series``: the RECIST and iRECIST results of the reader's series as
    :func:`reader_series` just gave them (read again when ``None``); ``stored``: the reader's
    assessments but ``skip`` as :func:`reader_responses` gave them, none of them changed since
    (read again when ``None``).

    The stored responses are compared in one select of their columns; only an assessment
    whose responses change is loaded, and written by :func:`_apply`, in date order. An
    assessment this session holds is compared by its values in the session, as a select of
    the entities would return them.
    """
    if series is None:
        series = reader_series(session, reader_lesions(session, subject_id, reader), reader)
    points, ipoints = series
    if stored is None:
        stored = reader_responses(session, subject_id, reader, skip=skip)
    names = [column.key for column in _RESPONSE_COLUMNS]
    for row_id, *values in stored:
        row = dict(zip(names, values, strict=True))
        day = row["assessment_date"]
        derived = response_values(points.get(day)) | irecist_values(ipoints, day)
        if all(row[k] == v for k, v in derived.items()):
            continue  # nothing to write (_apply would leave it)
        assessment = session.get_one(m.TumourAssessment, row_id)
        _apply(session, actor, assessment, derived, f"{reader} RECIST series changed: {cause}")
