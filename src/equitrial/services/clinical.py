"""Use cases of clinical data entry: visits, doses, adverse events, lab results; and edits.

Each save runs the form's edit checks (:mod:`equitrial.services.checks`): impossible values are
refused, implausible ones are saved and open a query. Derived values are computed here from
:mod:`equitrial.clinical`, never typed: the visit window status, the AE's SOC, immune-related
category and treatment-emergent flag, the lab result's CTCAE grade; and the records that depend
on the one saved are derived again (:mod:`equitrial.services._derivation`). A dose needs a
randomized subject and a kit dispensed to it. Every write locks the subject row first
(:func:`~equitrial.services._base.lock_subject`), so one subject's writes are serialized.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from equitrial.clinical.ctcae import catalogue, immune_category
from equitrial.errors import ConflictError, InvalidInputError, NotFoundError
from equitrial.randomization import service as allocation_service
from equitrial.services import _derivation as derivation
from equitrial.services._base import (
    RecordView,
    audited_insert,
    check_fields,
    check_version,
    ensure_editable,
    ensure_study_open,
    get,
    lock_row,
    lock_subject,
    revise_record,
    subject_of,
    today,
    view_of,
)
from equitrial.services._dose_regimen import dose_context
from equitrial.services.auth import Actor, require
from equitrial.services.checks import CheckContext, enforce
from equitrial.services.queries import open_queries_for
from equitrial.services.schedule import planned_visit
from equitrial.services.subjects import SITE_STAFF, resolve_subject, subject_for_write
from equitrial.store import models as m
from equitrial.store.db import transaction

__all__ = [
    "DERIVED_FIELDS",
    "VISIT_WINDOW_DAYS",
    "record_dose",
    "record_lab",
    "record_visit",
    "report_adverse_event",
    "update_record",
]

VISIT_WINDOW_DAYS = 3
"""Half-width of a visit's window around its planned date (days); the protocol file does not
state windows, so this is the common +/-3 days of a Q3W dosing visit."""

DERIVED_FIELDS: dict[str, frozenset[str]] = {
    "visit": frozenset({"window_status"}),
    "adverse_event": frozenset({"soc", "immune_category", "treatment_emergent"}),
    "lab_result": frozenset({"ctcae_grade"}),
    "dose": frozenset(),
    "lesion_measurement": frozenset(),
}
"""Fields computed from the others on every save: never typed, never edited."""

_FIXED: dict[str, frozenset[str]] = {
    "lesion_measurement": frozenset({"lesion_id", "reader", "assessment_date"}),
}
"""Fields that place a record in a series and cannot be edited (besides subject and status)."""

_MODELS: dict[str, type[Any]] = {
    "visit": m.Visit,
    "dose": m.Dose,
    "adverse_event": m.AdverseEvent,
    "lab_result": m.LabResult,
    "lesion_measurement": m.LesionMeasurement,
}


def _window(visit: m.Visit) -> tuple[dt.date, dt.date] | None:
    """The visit's stored window (planned visits), else +/- :data:`VISIT_WINDOW_DAYS`."""
    if visit.window_start is not None and visit.window_end is not None:
        return visit.window_start, visit.window_end
    if visit.planned_date is None:
        return None
    half = dt.timedelta(days=VISIT_WINDOW_DAYS)
    return visit.planned_date - half, visit.planned_date + half


def _derive_visit(session: Session, obj: m.Visit) -> CheckContext:
    window = _window(obj)
    if window is None or obj.actual_date is None:
        obj.window_status = None
    else:
        inside = window[0] <= obj.actual_date <= window[1]
        obj.window_status = "in window" if inside else "out of window"
    return CheckContext(today())


def _kit_dispensed_to(session: Session, subject: m.Subject, kit: str) -> bool:
    """Whether kit ``kit`` was dispensed to ``subject``: the kit of its allocation slot (shown at
    randomization), or a kit the drug supply dispensed to it
    (:func:`equitrial.services.dispensing.dispense`)."""
    slot = allocation_service.allocation_of(session, subject.id)
    if slot is not None and slot.kit_number == kit:
        return True
    dispensed = session.scalar(
        select(m.Kit.id).where(
            m.Kit.kit_number == kit,
            m.Kit.subject_id == subject.id,
            m.Kit.kit_status == "dispensed",
        )
    )
    return dispensed is not None


def _check_kit(session: Session, obj: m.Dose) -> None:
    """Kit accountability: a dose is given to a randomized subject from a kit dispensed to it.

    The messages never name the subject's own kit or arm.
    """
    subject = get(session, m.Subject, obj.subject_id, "subject")
    if allocation_service.allocation_of(session, subject.id) is None:
        raise ConflictError(
            f"subject {subject.subject_code} is not randomized; study drug is given, and a dose "
            "recorded, only after randomization",
            field="subject",
            value=subject.subject_code,
        )
    kit = obj.kit_number
    if kit is None or not str(kit).strip():
        raise InvalidInputError(
            "kit_number is required: every dose names the kit it was given from",
            field="kit_number",
        )
    if not _kit_dispensed_to(session, subject, kit):
        raise InvalidInputError(
            f"kit {kit!r} was not dispensed to subject {subject.subject_code}; "
            "give the number of a kit dispensed to this subject",
            field="kit_number",
            value=kit,
        )


def _derive_dose(session: Session, obj: m.Dose) -> CheckContext:
    _check_kit(session, obj)
    subject = get(session, m.Subject, obj.subject_id, "subject")
    if obj.visit_id is None:
        return dose_context(session, subject, obj, today(), None)
    visit = get(session, m.Visit, obj.visit_id, "visit")
    if visit.subject_id != obj.subject_id:
        raise InvalidInputError(
            f"visit {visit.id} belongs to another subject", field="visit_id", value=obj.visit_id
        )
    return dose_context(session, subject, obj, today(), _window(visit))


def _derive_ae(session: Session, obj: m.AdverseEvent) -> CheckContext:
    terms = {t.term: t for t in catalogue()}
    entry = terms.get(obj.term)
    if entry is None:
        immune_category(obj.term)  # raises NotFoundError listing close matches
        raise NotFoundError(f"{obj.term!r} is not a CTCAE term", field="term", value=obj.term)
    obj.soc = entry.soc
    obj.immune_category = entry.immune_category
    first_dose = derivation.first_dose_date(session, obj.subject_id)
    obj.treatment_emergent = derivation.is_treatment_emergent(obj.start_date, first_dose)
    return CheckContext(today())


def _derive_lab(session: Session, obj: m.LabResult) -> CheckContext:
    obj.ctcae_grade = derivation.lab_grade(session, obj)
    return CheckContext(today())


def _derive_measurement(session: Session, obj: m.LesionMeasurement) -> CheckContext:
    return CheckContext(today())


_DERIVE: dict[str, Callable[[Session, Any], CheckContext]] = {
    "visit": _derive_visit,
    "dose": _derive_dose,
    "adverse_event": _derive_ae,
    "lab_result": _derive_lab,
    "lesion_measurement": _derive_measurement,
}


def _rederive_dependants(
    session: Session,
    actor: Actor,
    form: str,
    obj: Any,
    subject: m.Subject,
    before: Mapping[str, Any] | None,
) -> None:
    """Derive again what depends on the record just saved (``before``: its old values)."""
    cause = f"{form} {obj.id} {'recorded' if before is None else 'changed'}"
    if form == "dose":
        derivation.rederive_adverse_events(session, actor, subject.id, cause=cause)
    elif form == "lab_result":
        if before is None and derivation.has_earlier_lab(session, obj):
            # the baseline of a result is the earliest earlier one of its test: a new result
            # after the first changes no other result's baseline, so no other grade
            return
        tests = {obj.test, (before or {}).get("test", obj.test)}
        derivation.regrade_labs(session, actor, subject.id, tests, cause=cause, skip=obj.id)
    elif form == "lesion_measurement":
        derivation.rederive_responses(
            session, actor, subject.id, obj.reader, cause=cause, skip=None
        )


def _values(obj: Any, form: str) -> dict[str, Any]:
    return {c.key: getattr(obj, c.key) for c in obj.__mapper__.column_attrs}


def _checked(session: Session, form: str, obj: Any) -> list[Any]:
    context = _DERIVE[form](session, obj)
    return enforce(form, _values(obj, form), context)


def _new_record(
    engine: Engine, actor: Actor, form: str, subject: int | str, fields: Mapping[str, Any]
) -> RecordView:
    typed = set(fields) & DERIVED_FIELDS[form]
    if typed:
        field = sorted(typed)[0]
        raise InvalidInputError(f"{field} is derived, not entered", field=field)
    enforce(form, fields, CheckContext(today()))  # refuse the obvious before touching the db
    with transaction(engine) as session:
        row = subject_for_write(session, actor, subject, SITE_STAFF)
        lock_subject(session, row)
        obj = _MODELS[form](subject_id=row.id, **fields)
        implausible = _checked(session, form, obj)
        audited_insert(session, actor, obj)
        _rederive_dependants(session, actor, form, obj, row, None)
        return view_of(obj, open_queries_for(session, actor, obj, implausible))


def record_visit(
    engine: Engine,
    actor: Actor,
    subject: int | str,
    name: str,
    *,
    planned_date: dt.date,
    actual_date: dt.date | None = None,
) -> RecordView:
    """Record a visit; its window status is derived (the stored window of a planned visit, else
    +/- :data:`VISIT_WINDOW_DAYS` around ``planned_date``).

    A visit planned at randomization under this name is completed, not duplicated: its actual
    date is set (audited, reason "visit recorded"); ``planned_date`` must be its planned date.

    Raises
    ------
    InvalidInputError
        ``planned_date`` is not the planned visit's date; an impossible value.
    ConflictError
        The planned visit has its actual date already (change it with :func:`update_record`).
    """
    with transaction(engine, read_only=True) as session:
        row = resolve_subject(session, subject)
        require(actor, roles=SITE_STAFF, site=row.site_id)
        planned = planned_visit(session, row.id, name)
        found = None if planned is None else (planned.id, planned.planned_date, planned.actual_date)
    if found is None:
        fields = {"name": name, "planned_date": planned_date, "actual_date": actual_date}
        return _new_record(engine, actor, "visit", subject, fields)
    visit_id, planned_on, done_on = found
    if planned_date != planned_on:
        raise InvalidInputError(
            f"visit {name!r} is planned for {planned_on}, not {planned_date}",
            field="planned_date",
            value=planned_date,
        )
    if done_on is not None:
        raise ConflictError(
            f"visit {name!r} was recorded already ({done_on}); change it with a reason",
            field="name",
            value=name,
        )
    changes = {"actual_date": actual_date}
    return update_record(engine, actor, "visit", visit_id, changes, reason="visit recorded")


def record_dose(
    engine: Engine,
    actor: Actor,
    subject: int | str,
    *,
    cycle: int,
    date: dt.date,
    dose_mg: float,
    kit_number: str | None = None,
    visit_id: int | None = None,
    delayed: bool = False,
    interrupted: bool = False,
    reason: str | None = None,
    regimen: str | None = None,
    lot: str | None = None,
    infusion_start: dt.datetime | None = None,
    infusion_stop: dt.datetime | None = None,
) -> RecordView:
    """Record a dose; a delay or interruption needs its reason, a date outside the visit window
    opens a query.

    The dose must fit one of the protocol's regimens (within ``treatment.dose_tolerance_percent``)
    unless the infusion was interrupted: then a partial dose is saved and opens a query. A dose
    under another regimen than the subject's regimen on that date opens a query. ``regimen``
    left empty is the regimen the dose fits (the subject's own when it fits it). The infusion
    stops after it starts.

    Kit accountability: the subject must be randomized and ``kit_number`` must name a kit
    dispensed to it (today the kit of its allocation, shown at randomization). The AEs of the
    subject are derived again (their treatment-emergent flag follows the first dose date).

    Raises
    ------
    ConflictError
        The subject is not randomized.
    InvalidInputError
        No kit number, or a kit not dispensed to this subject (the message never names the
        subject's kit or arm); a dose that fits no regimen and was not interrupted
        (``field="dose_mg"``); an unknown regimen; an infusion stop not after its start; an
        impossible value.
    """
    fields = {
        "cycle": cycle,
        "date": date,
        "dose_mg": dose_mg,
        "kit_number": kit_number,
        "visit_id": visit_id,
        "delayed": delayed,
        "interrupted": interrupted,
        "reason": reason,
        "regimen": regimen,
        "lot": lot,
        "infusion_start": infusion_start,
        "infusion_stop": infusion_stop,
    }
    return _new_record(engine, actor, "dose", subject, fields)


def report_adverse_event(
    engine: Engine,
    actor: Actor,
    subject: int | str,
    *,
    term: str,
    grade: int,
    start_date: dt.date,
    end_date: dt.date | None = None,
    serious: bool = False,
    serious_criteria: str | None = None,
    related: str | None = None,
    action_taken: str | None = None,
    outcome: str | None = None,
) -> RecordView:
    """Report an adverse event under a CTCAE v5.0 term (checked against the catalogue).

    SOC and the immune-related category come from the catalogue; the event is treatment-emergent
    when it starts on or after the first dose.
    """
    fields = {
        "term": term,
        "grade": grade,
        "start_date": start_date,
        "end_date": end_date,
        "serious": serious,
        "serious_criteria": serious_criteria,
        "related": related,
        "action_taken": action_taken,
        "outcome": outcome,
    }
    return _new_record(engine, actor, "adverse_event", subject, fields)


def record_lab(
    engine: Engine,
    actor: Actor,
    subject: int | str,
    *,
    test: str,
    value: float,
    unit: str,
    collected_at: dt.datetime,
    lln: float | None = None,
    uln: float | None = None,
) -> RecordView:
    """Record a lab result under its CTCAE term; the CTCAE grade is derived (``grade_lab``),
    against the subject's earliest earlier result of the test as baseline when in the same unit."""
    fields = {
        "test": test,
        "value": value,
        "unit": unit,
        "collected_at": collected_at,
        "lln": lln,
        "uln": uln,
    }
    return _new_record(engine, actor, "lab_result", subject, fields)


def _editable(form: str, changes: Mapping[str, Any]) -> None:
    if form not in _MODELS:
        raise InvalidInputError(
            f"unknown form {form!r}; expected one of {', '.join(_MODELS)}", field="form"
        )
    check_fields(_MODELS[form], changes)
    fixed = DERIVED_FIELDS[form] | _FIXED.get(form, frozenset()) | {"subject_id", "status"}
    typed = sorted(set(changes) & fixed)
    if typed:
        raise InvalidInputError(f"{typed[0]} cannot be edited", field=typed[0])


def update_record(
    engine: Engine,
    actor: Actor,
    form: str,
    record_id: int,
    changes: Mapping[str, Any],
    *,
    reason: str,
    expected_version: int | None = None,
) -> RecordView:
    """Change a saved visit, dose, adverse event, lab result or lesion measurement (site staff
    of the subject).

    The reason is required and written with each changed field to the audit trail; derived values
    are recomputed and the checks run again, and so are the derived values of the subject's
    records that depend on this one (see :mod:`equitrial.services._derivation`). A verified or
    signed record goes back to "entered" (its verification and signature no longer cover the new
    values; the signature is marked superseded).

    Concurrent edits of one record are serialized: the record is read under a row lock
    (PostgreSQL ``FOR UPDATE``), so ``expected_version`` is compared with the last committed
    version and an edit made on a stale copy is refused with :class:`ConflictError`.

    Raises
    ------
    LockedRecordError
        The record is frozen or locked, or the study is locked.
    ConflictError
        The record changed since ``expected_version`` was read.
    InvalidInputError
        No reason, an unknown, derived or fixed field, an impossible value.
    """
    if not (reason and reason.strip()):
        raise InvalidInputError(
            f"{form} {record_id}: a reason is required for any change after first entry",
            field="reason",
        )
    _editable(form, changes)
    with transaction(engine) as session:
        obj = get(session, _MODELS[form], record_id, form)
        subject = subject_of(session, obj)
        require(actor, roles=SITE_STAFF, site=subject.site_id)
        ensure_study_open(session, subject.study_id)
        lock_subject(session, subject)
        lock_row(session, obj)
        ensure_editable(obj, form)
        check_version(obj, expected_version, form)
        before = {name: getattr(obj, name) for name in changes}
        # no autoflush: the derivations query the database, and a flush before the audit would
        # write the change without its audit rows being able to see it
        with session.no_autoflush:
            for name, value in changes.items():
                setattr(obj, name, value)
            implausible = _checked(session, form, obj)
            revise_record(session, actor, obj, changes, reason=reason)
        _rederive_dependants(session, actor, form, obj, subject, before)
        return view_of(obj, open_queries_for(session, actor, obj, implausible))
