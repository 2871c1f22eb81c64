"""The clinical forms (visit, dose, adverse event, lab result, lesion measurement) as
:class:`~equitrial.services.forms.Form` entries: their derivations, check contexts and the
re-derivation of the records that depend on them.

Derived values are computed from :mod:`equitrial.clinical`, never typed: the visit window
status; the AE's SOC, MedDRA code, dictionary-derived term, the CTCAE text of its grade, its
immune-related category and treatment-emergent flag; the lab result's CTCAE grade. The records
that depend on the one saved are derived again (:mod:`equitrial.services._derivation`): the
subject's AEs after a dose, the other results of the test after a lab result, the reader's
tumour assessments after a measurement, the con-meds that treat an AE after the AE changed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, Final

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from equitrial.clinical.ae_terms import ae_inconsistencies, grade_definition
from equitrial.clinical.ctcae import CatalogueTerm, catalogue, immune_category
from equitrial.errors import ConflictError, InvalidInputError, NotFoundError
from equitrial.randomization import service as allocation_service
from equitrial.services import _derivation as derivation
from equitrial.services._base import get, today
from equitrial.services._dose_regimen import dose_context
from equitrial.services.auth import Actor
from equitrial.services.checks import CheckContext, Finding
from equitrial.services.forms import Form, register
from equitrial.store import models as m

__all__ = [
    "AE_FORM",
    "DOSE_FORM",
    "LAB_FORM",
    "LESION_MEASUREMENT_FORM",
    "VISIT_FORM",
    "VISIT_WINDOW_DAYS",
    "visit_window",
]

VISIT_WINDOW_DAYS = 3
"""Half-width of a visit's window around its planned date (days); the protocol file does not
state windows, so this is the common +/-3 days of a Q3W dosing visit."""


def visit_window(visit: m.Visit) -> tuple[dt.date, dt.date] | None:
    """The visit's stored window (planned visits), else +/- :data:`VISIT_WINDOW_DAYS`."""
    if visit.window_start is not None and visit.window_end is not None:
        return visit.window_start, visit.window_end
    if visit.planned_date is None:
        return None
    half = dt.timedelta(days=VISIT_WINDOW_DAYS)
    return visit.planned_date - half, visit.planned_date + half


def _no_findings(session: Session, obj: Any, subject: m.Subject) -> list[Finding]:
    return []


# -- visit --------------------------------------------------------------------------------------


def _derive_visit(session: Session, obj: m.Visit, subject: m.Subject) -> list[Finding]:
    window = visit_window(obj)
    if window is None or obj.actual_date is None:
        obj.window_status = None
    else:
        inside = window[0] <= obj.actual_date <= window[1]
        obj.window_status = "in window" if inside else "out of window"
    return []


# -- dose: kit accountability, visit window and regimens ----------------------------------------


_DISPENSED_KIT: Final = select(m.Kit.id).where(
    m.Kit.kit_number == bindparam("kit"),
    m.Kit.subject_id == bindparam("subject"),
    m.Kit.kit_status == "dispensed",
)


def _kit_dispensed_to(
    session: Session, subject: m.Subject, slot: m.RandomizationSchedule, kit: str
) -> bool:
    """Whether kit ``kit`` was dispensed to ``subject``: the kit of its allocation ``slot``
    (shown at randomization), or a kit the drug supply dispensed to it
    (:func:`equitrial.services.dispensing.dispense`)."""
    if slot.kit_number == kit:
        return True
    dispensed = session.scalar(_DISPENSED_KIT, {"kit": kit, "subject": subject.id})
    return dispensed is not None


def _check_kit(session: Session, obj: m.Dose, subject: m.Subject) -> None:
    """Kit accountability: a dose is given to a randomized subject from a kit dispensed to it.

    The messages never name the subject's own kit or arm.
    """
    slot = allocation_service.allocation_of(session, subject.id)
    if slot is None:
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
    if not _kit_dispensed_to(session, subject, slot, kit):
        raise InvalidInputError(
            f"kit {kit!r} was not dispensed to subject {subject.subject_code}; "
            "give the number of a kit dispensed to this subject",
            field="kit_number",
            value=kit,
        )


def _dose_context(session: Session, obj: m.Dose, subject: m.Subject) -> CheckContext:
    _check_kit(session, obj, subject)
    if obj.visit_id is None:
        return dose_context(session, subject, obj, today(), None)
    visit = get(session, m.Visit, obj.visit_id, "visit")
    if visit.subject_id != obj.subject_id:
        raise InvalidInputError(
            f"visit {visit.id} belongs to another subject", field="visit_id", value=obj.visit_id
        )
    return dose_context(session, subject, obj, today(), visit_window(visit))


def _dose_changed(
    session: Session, actor: Actor, obj: m.Dose, subject: m.Subject, before: Any
) -> None:
    cause = f"dose {obj.id} {'recorded' if before is None else 'changed'}"
    derivation.rederive_adverse_events(session, actor, subject.id, cause=cause)


# -- adverse event: the CTCAE catalogue, the grade's text and the AE form's rules ---------------


def _catalogue_term(term: str) -> CatalogueTerm:
    entry = {t.term: t for t in catalogue()}.get(term)
    if entry is None:
        immune_category(term)  # raises NotFoundError listing close matches
        raise NotFoundError(f"{term!r} is not a CTCAE term", field="term", value=term)
    return entry


def _derive_ae(session: Session, obj: m.AdverseEvent, subject: m.Subject) -> list[Finding]:
    entry = _catalogue_term(obj.term)
    obj.soc = entry.soc
    obj.immune_category = entry.immune_category
    obj.meddra_code = entry.meddra_code
    obj.decod = entry.term  # the MedDRA preferred term is not in the catalogue's source
    obj.grade_definition = grade_definition(entry, obj.grade)
    values = {"grade": obj.grade, "outcome": obj.outcome, "serious_criteria": obj.serious_criteria}
    findings = []
    for problem in ae_inconsistencies(values):
        if problem.refused:
            raise InvalidInputError(
                f"adverse_event: {problem.field} ({problem.rule}): {problem.message}",
                field=problem.field,
                value=values.get(problem.field),
                expected=problem.rule,
            )
        findings.append(Finding(problem.field, problem.rule, problem.message, "implausible"))
    first_dose = derivation.first_dose_date(session, obj.subject_id)
    obj.treatment_emergent = derivation.is_treatment_emergent(obj.start_date, first_dose)
    return findings


def _ae_changed(
    session: Session,
    actor: Actor,
    obj: m.AdverseEvent,
    subject: m.Subject,
    before: Mapping[str, Any] | None,
) -> None:
    if before is not None:  # a new event is treated by no con-med yet
        derivation.rederive_con_meds(session, actor, obj, cause=f"adverse event {obj.id} changed")


# -- lab result: CTCAE grade against the baseline -----------------------------------------------


def _derive_lab(session: Session, obj: m.LabResult, subject: m.Subject) -> list[Finding]:
    obj.ctcae_grade = derivation.lab_grade(session, obj)
    return []


def _lab_changed(
    session: Session,
    actor: Actor,
    obj: m.LabResult,
    subject: m.Subject,
    before: Mapping[str, Any] | None,
) -> None:
    if before is None and derivation.has_earlier_lab(session, obj):
        # the baseline of a result is the earliest earlier one of its test: a new result
        # after the first changes no other result's baseline, so no other grade
        return
    cause = f"lab_result {obj.id} {'recorded' if before is None else 'changed'}"
    tests = {obj.test, (before or {}).get("test", obj.test)}
    derivation.regrade_labs(session, actor, subject.id, tests, cause=cause, skip=obj.id)


# -- lesion measurement: the reader's RECIST series ---------------------------------------------


def _measurement_changed(
    session: Session, actor: Actor, obj: m.LesionMeasurement, subject: m.Subject, before: Any
) -> None:
    cause = f"lesion_measurement {obj.id} {'recorded' if before is None else 'changed'}"
    derivation.rederive_responses(session, actor, subject.id, obj.reader, cause=cause, skip=None)


VISIT_FORM: Final = register(Form("visit", m.Visit, _derive_visit, frozenset({"window_status"})))
"""The visit form (table ``visit``)."""

DOSE_FORM: Final = register(
    Form("dose", m.Dose, _no_findings, context=_dose_context, rederive=_dose_changed)
)
"""The dose form (table ``dose``)."""

AE_FORM: Final = register(
    Form(
        "adverse_event",
        m.AdverseEvent,
        _derive_ae,
        frozenset(
            {
                "soc",
                "immune_category",
                "treatment_emergent",
                "meddra_code",
                "decod",
                "grade_definition",
            }
        ),
        rederive=_ae_changed,
    )
)
"""The adverse event form (table ``adverse_event``)."""

LAB_FORM: Final = register(
    Form("lab_result", m.LabResult, _derive_lab, frozenset({"ctcae_grade"}), rederive=_lab_changed)
)
"""The lab result form (table ``lab_result``)."""

LESION_MEASUREMENT_FORM: Final = register(
    Form(
        "lesion_measurement",
        m.LesionMeasurement,
        _no_findings,
        fixed=frozenset({"lesion_id", "reader", "assessment_date"}),
        rederive=_measurement_changed,
    )
)
"""The lesion measurement form (table ``lesion_measurement``; saved by
:mod:`equitrial.services.assessments`, edited here)."""
