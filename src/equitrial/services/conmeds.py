"""Use cases of concomitant medications and subsequent anticancer therapy.

A concomitant medication may treat an adverse event of the same subject; the flag "systemic
corticosteroid for an immune-related AE" (``irae_corticosteroid``) is derived on every save
from :func:`equitrial.clinical.corticosteroids.is_systemic_corticosteroid` and the linked AE's
immune-related category (itself derived from the CTCAE catalogue), never typed; and derived
again when the AE changes (:func:`equitrial.services._derivation.rederive_con_meds`). A subsequent
anticancer therapy (which censors progression-free survival) needs a randomized subject.

Both are saved through :mod:`equitrial.services.forms`; edit checks in
:data:`equitrial.services.checks.CHECKS` (``"con_med"``, ``"subsequent_therapy"``).

References
----------
.. [1] CDISC SDTMIG v3.4, CM (Concomitant/Prior Medications): ``CMTRT``, ``CMINDC``,
   ``CMDOSE``, ``CMDOSU``, ``CMROUTE``, ``CMDOSFRQ``, ``CMSTDTC``, ``CMENDTC``, ``CMENRTPT``
   (ONGOING).
"""

from __future__ import annotations

import datetime as dt
from typing import Final

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from equitrial.errors import ConflictError, InvalidInputError
from equitrial.services._base import RecordView, get
from equitrial.services._derivation import irae_corticosteroid
from equitrial.services.auth import Actor
from equitrial.services.checks import Finding
from equitrial.services.forms import Form, new_record, register
from equitrial.services.schedule import day_one
from equitrial.store import models as m

__all__ = ["CON_MED_FORM", "SUBSEQUENT_THERAPY_FORM", "record_con_med", "record_subsequent_therapy"]


def _treated_event(session: Session, obj: m.ConMed, subject: m.Subject) -> m.AdverseEvent | None:
    if obj.adverse_event_id is None:
        return None
    event = get(session, m.AdverseEvent, obj.adverse_event_id, "adverse_event")
    if event.subject_id != subject.id:
        raise InvalidInputError(
            f"adverse event {event.id} belongs to another subject",
            field="adverse_event_id",
            value=obj.adverse_event_id,
        )
    return event


def _derive_con_med(session: Session, obj: m.ConMed, subject: m.Subject) -> list[Finding]:
    event = _treated_event(session, obj, subject)
    immune = None if event is None else event.immune_category
    obj.irae_corticosteroid = irae_corticosteroid(immune, obj.name, obj.route)
    if event is None or obj.start is None or obj.start >= event.start_date:
        return []
    message = (
        f"start ({obj.start}) is before the start of adverse event {event.id} "
        f"({event.start_date}) it treats"
    )
    return [Finding("start", "before-event", message, "implausible")]


def _derive_therapy(
    session: Session, obj: m.SubsequentTherapy, subject: m.Subject
) -> list[Finding]:
    randomized = day_one(session, subject.id)
    if randomized is None:
        raise ConflictError(
            f"subject {subject.subject_code} is not randomized; a subsequent anticancer "
            "therapy follows study treatment",
            field="subject",
            value=subject.subject_code,
        )
    if obj.start_date is None or obj.start_date >= randomized:
        return []
    message = f"start_date ({obj.start_date}) is before randomization ({randomized})"
    return [Finding("start_date", "before-randomization", message, "implausible")]


CON_MED_FORM: Final = register(
    Form("con_med", m.ConMed, _derive_con_med, frozenset({"irae_corticosteroid"}))
)
"""The concomitant medication form (table ``con_med``)."""

SUBSEQUENT_THERAPY_FORM: Final = register(
    Form("subsequent_therapy", m.SubsequentTherapy, _derive_therapy)
)
"""The subsequent anticancer therapy form (table ``subsequent_therapy``)."""


def record_con_med(
    engine: Engine,
    actor: Actor,
    subject: int | str,
    *,
    name: str,
    indication: str | None = None,
    dose: float | None = None,
    dose_unit: str | None = None,
    route: str | None = None,
    frequency: str | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    ongoing: bool = False,
    adverse_event_id: int | None = None,
) -> RecordView:
    """Record a concomitant medication (site staff of the subject's site).

    Parameters
    ----------
    name, indication
        The medication as reported (``CMTRT``) and why it is given (``CMINDC``).
    dose, dose_unit, route, frequency
        Dose per administration (> 0) and its CDISC UNIT, ROUTE and FREQ values
        (:mod:`equitrial.clinical.terminology`).
    start, end, ongoing
        Start and end dates; an ongoing medication has no end.
    adverse_event_id
        The adverse event (of the same subject) the medication treats.

    Returns
    -------
    RecordView
        The saved medication with the derived ``irae_corticosteroid``: ``True`` for a systemic
        corticosteroid (:data:`equitrial.clinical.corticosteroids.CORTICOSTEROIDS`, systemic
        route) that treats an AE with an immune-related category. Queries are opened for a
        missing indication or start, a medication neither ended nor ongoing, and a start
        before the treated AE's start.

    Raises
    ------
    InvalidInputError
        An end before the start or with ``ongoing``, a dose <= 0 or without unit, a value
        outside the terminology, a future date, an AE of another subject; nothing is written.
    PermissionDeniedError, StudyLockedError
        Not site staff of the subject's site; the study is locked.
    """
    fields = {
        "name": name,
        "indication": indication,
        "dose": dose,
        "dose_unit": dose_unit,
        "route": route,
        "frequency": frequency,
        "start": start,
        "end": end,
        "ongoing": ongoing,
        "adverse_event_id": adverse_event_id,
    }
    return new_record(engine, actor, CON_MED_FORM, subject, fields)


def record_subsequent_therapy(
    engine: Engine,
    actor: Actor,
    subject: int | str,
    *,
    name: str,
    therapy_type: str,
    start_date: dt.date,
) -> RecordView:
    """Record an anticancer therapy started after study treatment (site staff).

    Parameters
    ----------
    therapy_type : {"IMMUNOTHERAPY", "TARGETED THERAPY", "CHEMOTHERAPY", "RADIOTHERAPY", \
"SURGERY", "OTHER"}
        The kind of therapy.
    start_date
        Its start (the PFS censoring date is derived from it by the analysis).

    Returns
    -------
    RecordView
        The saved therapy; a start before randomization opens a query.

    Raises
    ------
    ConflictError
        The subject is not randomized.
    InvalidInputError
        An unknown type, a future start; nothing is written.
    """
    fields = {"name": name, "therapy_type": therapy_type, "start_date": start_date}
    return new_record(engine, actor, SUBSEQUENT_THERAPY_FORM, subject, fields)
