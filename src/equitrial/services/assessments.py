"""Use cases of tumour assessment: register lesions, record one reader's measurements at a date.

The time-point responses (target, non-target, new lesions, overall) are derived by RECIST 1.1
(:func:`equitrial.clinical.recist.assess_patient`) from all the reader's measurements of the
subject each time one is saved, and stored with the rule version; never typed. The iRECIST
time point (``irecist_response``, ``irecist_target_sum``, ``irecist_new_lesion_progression``;
Seymour 2017) is derived from the same measurements by
:func:`equitrial.services._irecist_derivation.irecist_columns`. A response
depends on the whole series (baseline, nadir, a new lesion confirmed later), so saving an
assessment, or editing a measurement (``clinical.update_record(..., "lesion_measurement", ...)``),
derives the reader's other assessments of the subject again
(:func:`equitrial.services._derivation.rederive_responses`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any, Final, cast

from sqlalchemy import Table, bindparam, select
from sqlalchemy.engine import Engine

from equitrial.clinical import recist
from equitrial.errors import ConflictError, InvalidInputError
from equitrial.services._base import (
    RecordView,
    audited_insert,
    audited_insert_all,
    lock_subject,
    today,
    view_of,
)
from equitrial.services._derivation import (
    reader_lesions,
    reader_responses,
    reader_series,
    rederive_responses,
    response_values,
)
from equitrial.services._irecist_derivation import irecist_values, stored_measurements
from equitrial.services.auth import Actor
from equitrial.services.checks import CheckContext, enforce
from equitrial.services.queries import open_queries_for
from equitrial.services.subjects import SITE_STAFF, subject_for_write
from equitrial.store import models as m
from equitrial.store.db import transaction
from equitrial.store.validation import check_values

__all__ = ["RULE_VERSION", "add_lesion", "record_assessment"]

RULE_VERSION = "RECIST 1.1"

_MEASUREMENTS: Final = cast(Table, m.LesionMeasurement.__table__)
# statements built once (building one costs more than running it), run with parameters
_FOLLOWED: Final = (
    select(m.Lesion.id)
    .where(
        m.Lesion.subject_id == bindparam("subject_id"),
        m.Lesion.reader == bindparam("reader"),
        m.Lesion.lesion_code == bindparam("code"),
    )
    .limit(1)
)


def add_lesion(
    engine: Engine,
    actor: Actor,
    subject: int | str,
    *,
    lesion_code: str,
    organ: str,
    nodal: bool,
    role: str,
    reader: str,
) -> RecordView:
    """Register a lesion (target, non-target or new) as followed by one reader."""
    recist.Lesion(lesion_code, organ, nodal, role)  # type: ignore[arg-type]  # validates
    with transaction(engine) as session:
        row = subject_for_write(session, actor, subject, SITE_STAFF)
        lock_subject(session, row)
        followed = {"subject_id": row.id, "reader": reader, "code": lesion_code}
        if session.scalar(_FOLLOWED, followed) is not None:  # one of reader_lesions' codes
            raise ConflictError(
                f"subject {row.subject_code} has a lesion {lesion_code!r} read by {reader}",
                field="lesion_code",
                value=lesion_code,
            )
        lesion = m.Lesion(
            subject_id=row.id,
            lesion_code=lesion_code,
            organ=organ,
            nodal=nodal,
            role=role,
            reader=reader,
        )
        return view_of(audited_insert(session, actor, lesion))


def record_assessment(
    engine: Engine,
    actor: Actor,
    subject: int | str,
    *,
    reader: str,
    assessment_date: dt.date,
    measurements: Sequence[Mapping[str, Any]],
) -> RecordView:
    """Record one reader's lesion measurements at one date and derive the time-point response.

    Parameters
    ----------
    measurements
        One mapping per lesion: ``lesion_code``, ``status`` (RECIST measurement status, default
        ``"measured"``) and ``diameter_mm`` (for measured targets).

    Returns
    -------
    RecordView
        The tumour assessment: at baseline (the reader's first date) without responses,
        afterwards with ``target_response``, ``non_target_response``, ``new_lesions``,
        ``overall_response``, ``rule_version`` and the iRECIST ``irecist_response``,
        ``irecist_target_sum`` and ``irecist_new_lesion_progression``.
    """
    if not measurements:
        raise InvalidInputError(
            "an assessment needs at least one lesion measurement", field="measurements"
        )
    enforce("tumour_assessment", {"assessment_date": assessment_date}, CheckContext(today()))
    with transaction(engine) as session:
        row = subject_for_write(session, actor, subject, SITE_STAFF)
        lock_subject(session, row)
        lesions = reader_lesions(session, row.id, reader)
        findings = []
        saved = []
        for item in measurements:
            code = item.get("lesion_code")
            if code not in lesions:
                raise InvalidInputError(
                    f"no lesion {code!r} for reader {reader}", field="lesion_code", value=code
                )
            values = {"diameter_mm": item.get("diameter_mm")}
            implausible = enforce("lesion_measurement", values, CheckContext(today()))
            x = m.LesionMeasurement(
                lesion_id=lesions[code].id,
                assessment_date=assessment_date,
                reader=reader,
                diameter_mm=item.get("diameter_mm"),
                measurement_status=item.get("status", "measured"),
            )
            saved.append(x)
            findings.append((x, implausible))
        for x in saved:  # the values the flush's check_row refuses or coerces that enforce
            # did not check (the rest are checked or read from the database), refused first
            given = {"diameter_mm": x.diameter_mm, "measurement_status": x.measurement_status}
            checked = check_values(_MEASUREMENTS, given)
            x.diameter_mm, x.measurement_status = (
                checked["diameter_mm"],
                checked["measurement_status"],
            )
        # the reader's stored measurements and assessments, read before this one's are added:
        # the series is derived from them and the new measurements, and the measurements and
        # the assessment go in with one flush and one audit statement
        rows = stored_measurements(session, lesions, reader)
        pending: list[Any] = saved
        if _clashes(rows, saved):  # the flush refuses them (ConflictError), as it always did
            audited_insert_all(session, actor, saved)
            pending = []
        stored = reader_responses(session, row.id, reader)
        if any(day == assessment_date for _, day, *_ in stored):
            raise ConflictError(
                f"{reader} assessment of {assessment_date} exists", field="assessment_date"
            )
        new_rows = [
            (None, x.lesion_id, x.assessment_date, x.measurement_status, x.diameter_mm)
            for x in saved
        ]
        series = reader_series(session, lesions, reader, rows=[*rows, *new_rows])
        points, ipoints = series
        assessment = m.TumourAssessment(
            subject_id=row.id,
            assessment_date=assessment_date,
            reader=reader,
            rule_version=RULE_VERSION,
            **response_values(points.get(assessment_date)),
            **irecist_values(ipoints, assessment_date),
        )
        audited_insert_all(session, actor, [*pending, assessment])
        rederive_responses(
            session,
            actor,
            row.id,
            reader,
            cause=f"tumour_assessment {assessment.id} recorded",
            skip=assessment.id,
            series=series,
            stored=stored,
        )
        query_ids: tuple[int, ...] = ()
        for x, implausible in findings:
            query_ids += open_queries_for(session, actor, x, implausible)
        return view_of(assessment, query_ids)


def _clashes(rows: Sequence[tuple[Any, ...]], saved: Sequence[m.LesionMeasurement]) -> bool:
    """Whether the flush of the new measurements ``saved`` would fail: one of a lesion and
    date already stored (``rows`` as
    :func:`~equitrial.services._irecist_derivation.stored_measurements` gives them) or given
    twice (the unique constraint), or a required value missing."""
    taken = {(lesion_id, day) for _, lesion_id, day, *_ in rows}
    for x in saved:
        key = (x.lesion_id, x.assessment_date)
        if key in taken or x.measurement_status is None:
            return True
        taken.add(key)
    return False
