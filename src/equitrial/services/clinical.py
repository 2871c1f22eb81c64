"""Use cases of clinical data entry: visits, doses, adverse events, lab results; and edits.

The forms are :class:`~equitrial.services.forms.Form` entries (:mod:`equitrial.services.
_clinical_forms`), saved and edited by the one path of :mod:`equitrial.services.forms`: each save
runs the form's edit checks (:mod:`equitrial.services.checks`): impossible values are refused,
implausible ones are saved and open a query. Derived values are computed from
:mod:`equitrial.clinical`, never typed: the visit window status, the AE's SOC, MedDRA code,
dictionary-derived term, the CTCAE text of its grade, immune-related category and
treatment-emergent flag, the lab result's CTCAE grade; and the records that depend on the one
saved are derived again (:mod:`equitrial.services._derivation`). A dose needs a randomized
subject and a kit dispensed to it. Every write locks the subject row first
(:func:`~equitrial.services._base.lock_subject`), so one subject's writes are serialized.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy.engine import Engine

from equitrial.errors import ConflictError, InvalidInputError
from equitrial.services._base import RecordView, ensure_study_open, lock_subject
from equitrial.services._clinical_forms import (
    AE_FORM,
    DOSE_FORM,
    LAB_FORM,
    LESION_MEASUREMENT_FORM,
    VISIT_FORM,
    VISIT_WINDOW_DAYS,
)
from equitrial.services.auth import Actor, require
from equitrial.services.forms import change_in, insert_in, new_record, prevalidate, update_form
from equitrial.services.schedule import planned_visit
from equitrial.services.subjects import SITE_STAFF, resolve_subject
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

DERIVED_FIELDS: dict[str, frozenset[str]] = {
    form.name: form.derived
    for form in (VISIT_FORM, DOSE_FORM, AE_FORM, LAB_FORM, LESION_MEASUREMENT_FORM)
}
"""Fields computed from the others on every save: never typed, never edited."""


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
    with transaction(engine) as session:
        row = resolve_subject(session, subject)
        require(actor, roles=SITE_STAFF, site=row.site_id)
        ensure_study_open(session, row.study_id)
        lock_subject(session, row)  # the planned visit read next is the last committed one
        planned = planned_visit(session, row.id, name)
        if planned is None:
            fields = {"name": name, "planned_date": planned_date, "actual_date": actual_date}
            prevalidate(VISIT_FORM, fields)
            return insert_in(session, actor, VISIT_FORM, row, fields)
        if planned_date != planned.planned_date:
            raise InvalidInputError(
                f"visit {name!r} is planned for {planned.planned_date}, not {planned_date}",
                field="planned_date",
                value=planned_date,
            )
        if planned.actual_date is not None:
            raise ConflictError(
                f"visit {name!r} was recorded already ({planned.actual_date}); change it with a "
                "reason",
                field="name",
                value=name,
            )
        changes = {"actual_date": actual_date}
        return change_in(session, actor, VISIT_FORM, planned, row, changes, "visit recorded")


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
    return new_record(engine, actor, DOSE_FORM, subject, fields)


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

    Parameters
    ----------
    term, grade
        The CTCAE v5.0 term as written (a MedDRA lowest level term) and a grade the term has
        (a ``"-"`` grade of CTCAE is refused, ``field="grade"``).
    start_date, end_date
        Start and stop (``AESTDTC``, ``AEENDTC``); an outcome of an ended event
        (:data:`~equitrial.clinical.ae_terms.RESOLVED_OUTCOMES`) without an end date is queried.
    serious, serious_criteria
        Whether the event is serious and its criteria, comma-separated SDTM flag names of
        :data:`~equitrial.clinical.ae_terms.SERIOUS_CRITERIA` (``"AESHOSP,AESLIFE"``):
        required when serious, refused when not.
    related : {"NOT RELATED", "RELATED"}, optional
        Causality to study treatment (``AEREL``).
    action_taken : optional
        Action taken with study treatment, CDISC ACN (``AEACN``,
        :data:`~equitrial.clinical.ae_terms.AE_ACTIONS`).
    outcome : optional
        CDISC OUT (``AEOUT``, :data:`~equitrial.clinical.ae_terms.AE_OUTCOMES`); ``FATAL`` is
        required for grade 5 and for the criterion ``AESDTH`` (refused otherwise,
        ``field="outcome"``); ``FATAL`` with a grade below 5 or without ``AESDTH`` is queried.

    Returns
    -------
    RecordView
        The saved event with the derived SOC, ``meddra_code``, ``decod`` (the CTCAE term),
        ``grade_definition`` (the CTCAE text of the grade), immune-related category and
        treatment-emergent flag (it starts on or after the first dose).
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
    return new_record(engine, actor, AE_FORM, subject, fields)


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
    return new_record(engine, actor, LAB_FORM, subject, fields)


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
    of the subject), with a reason: :func:`equitrial.services.forms.update_form` under its
    older name (same parameters, behaviour and errors; any registered form is accepted).
    """
    return update_form(
        engine,
        actor,
        form,
        record_id,
        changes,
        reason=reason,
        expected_version=expected_version,
    )
