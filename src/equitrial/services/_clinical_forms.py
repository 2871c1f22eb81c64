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
from typing import Any, Final, Protocol

from sqlalchemy import Row, bindparam, func, select
from sqlalchemy.orm import Session

from equitrial.clinical.ae_terms import ae_inconsistencies, grade_definition
from equitrial.clinical.ctcae import CatalogueTerm, catalogue, immune_category
from equitrial.errors import ConflictError, InvalidInputError, NotFoundError
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


class _Windowed(Protocol):
    """A visit's dates, as an ORM visit or a row of :data:`_DOSE_FACTS` has them."""

    @property
    def planned_date(self) -> dt.date | None: ...

    @property
    def window_start(self) -> dt.date | None: ...

    @property
    def window_end(self) -> dt.date | None: ...


def visit_window(visit: _Windowed) -> tuple[dt.date, dt.date] | None:
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


_KIT: Final = m.Kit.__table__.c
_SLOT: Final = m.RandomizationSchedule.__table__.c
_VISIT: Final = m.Visit.__table__.c
_DOSE_FACTS: Final = select(
    select(_SLOT.kit_number)
    .where(_SLOT.subject_id == bindparam("subject"))
    .scalar_subquery()
    .label("slot_kit"),
    select(_KIT.id)
    .where(
        _KIT.kit_number == bindparam("kit"),
        _KIT.subject_id == bindparam("subject"),
        _KIT.kit_status == "dispensed",
    )
    .exists()
    .label("dispensed"),
    *(
        select(column).where(_VISIT.id == bindparam("visit")).scalar_subquery().label(name)
        for name, column in (
            ("visit_subject", _VISIT.subject_id),
            ("planned_date", _VISIT.planned_date),
            ("window_start", _VISIT.window_start),
            ("window_end", _VISIT.window_end),
        )
    ),
)
"""What a dose's checks read, in one query: the kit of the subject's allocation slot (null:
not randomized), whether kit ``kit`` was dispensed to it by the drug supply
(:func:`equitrial.services.dispensing.dispense`), and the subject and dates of visit ``visit``
(nulls: no such visit)."""


def _check_kit(facts: Row[Any], obj: m.Dose, subject: m.Subject) -> None:
    """Kit accountability: a dose is given to a randomized subject from a kit dispensed to it:
    the kit of its allocation slot (shown at randomization) or one the drug supply dispensed.

    The messages never name the subject's own kit or arm.
    """
    if facts.slot_kit is None:
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
    if facts.slot_kit != kit and not facts.dispensed:
        raise InvalidInputError(
            f"kit {kit!r} was not dispensed to subject {subject.subject_code}; "
            "give the number of a kit dispensed to this subject",
            field="kit_number",
            value=kit,
        )


def _dose_context(session: Session, obj: m.Dose, subject: m.Subject) -> CheckContext:
    visit_id = obj.visit_id
    by_id = isinstance(visit_id, int) and not isinstance(visit_id, bool)
    parameters = {
        "subject": subject.id,
        "kit": obj.kit_number if isinstance(obj.kit_number, str) else None,
        "visit": visit_id if by_id else None,
    }
    facts = session.connection().execute(_DOSE_FACTS, parameters).one()
    _check_kit(facts, obj, subject)
    if visit_id is None:
        return dose_context(session, subject, obj, today(), None)
    visit: _Windowed = facts
    if not by_id or facts.visit_subject is None:  # not found, or an id of another type
        visit = found = get(session, m.Visit, visit_id, "visit")
        owner = found.subject_id
    else:
        owner = facts.visit_subject
    if owner != obj.subject_id:
        raise InvalidInputError(
            f"visit {visit_id} belongs to another subject", field="visit_id", value=visit_id
        )
    return dose_context(session, subject, obj, today(), visit_window(visit))


_AE: Final = m.AdverseEvent.__table__.c
_DOSE: Final = m.Dose.__table__.c
_AES_EMERGENT: Final = select(
    _AE.start_date,
    _AE.treatment_emergent,
    select(func.min(_DOSE.date)).where(_DOSE.subject_id == bindparam("subject")).scalar_subquery(),
).where(_AE.subject_id == bindparam("subject"))
"""The subject's AEs' start dates and stored ``treatment_emergent`` flags, each with the
subject's first dose date."""


def _dose_changed(
    session: Session, actor: Actor, obj: m.Dose, subject: m.Subject, before: Any
) -> None:
    # the AEs are derived again only when one's stored flag is not what the first dose date
    # gives now: otherwise the derivation would find nothing to change (most doses change
    # no first dose date, and many subjects have no AE)
    flags = session.connection().execute(_AES_EMERGENT, {"subject": subject.id})
    if all(
        stored == derivation.is_treatment_emergent(start, first) for start, stored, first in flags
    ):
        return
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
