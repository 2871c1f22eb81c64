"""Use cases of sample entry: pharmacokinetic (PK) and anti-drug antibody (ADA) samples.

Both are saved through :mod:`equitrial.services.forms` (one transaction, audited, site staff of
the subject's site, subject row locked, study open) and checked against their edit checks in
:data:`equitrial.services.checks.CHECKS` (``"pk_sample"``, ``"ada_sample"``).

PK (SDTM PC): the nominal time relative to the dose (``PCTPTNUM``; the pre-dose trough is
0 h), the actual collection time, the dose it relates to, and the concentration in ug/mL, or
below the limit of quantification (``blq``) with the LLOQ (``PCLLOQ``). ADA (SDTM IS): the
tiered result of an immunogenicity assay: screening, confirmatory (only after a positive
screen), titre (only for a confirmed positive) and neutralizing activity.

References
----------
.. [1] CDISC SDTMIG v3.4, PC (Pharmacokinetics Concentrations) and IS (Immunogenicity
   Specimen Assessments) domains.
.. [2] FDA. Immunogenicity Testing of Therapeutic Protein Products - Developing and Validating
   Assays for Anti-Drug Antibody Detection. Guidance for Industry, 2019 (tiered approach:
   screening, confirmatory, titre, neutralizing).
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any, Final

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from equitrial.errors import InvalidInputError
from equitrial.services._base import RecordView, get
from equitrial.services.auth import Actor
from equitrial.services.checks import Finding
from equitrial.services.forms import Form, new_record, register
from equitrial.store import models as m

__all__ = [
    "DOSE_TIMING_TOLERANCE_DAYS",
    "PK_UNIT",
    "record_ada_sample",
    "record_pk_sample",
]

PK_UNIT: Final = "ug/mL"
"""Unit of ``pk_sample.concentration`` and ``pk_sample.lloq`` (micrograms per millilitre)."""

DOSE_TIMING_TOLERANCE_DAYS: Final = 1
"""A sample linked to a dose and collected more than this many days from the dose date plus
its nominal time opens a query (the dose records a date, not a time)."""


def _own(session: Session, model: type[Any], record_id: int | None, subject: m.Subject) -> Any:
    """The linked record ``record_id`` of ``model``, refused if it is another subject's."""
    if record_id is None:
        return None
    name = str(model.__tablename__)
    linked = get(session, model, record_id, name)
    if linked.subject_id != subject.id:
        raise InvalidInputError(
            f"{name} {record_id} belongs to another subject",
            field=f"{name}_id",
            value=record_id,
        )
    return linked


def _dose_timing(sample: m.PKSample, dose: m.Dose) -> list[Finding]:
    if sample.nominal_hours is None or not math.isfinite(sample.nominal_hours):
        return []
    expected = dose.date + dt.timedelta(days=math.floor(sample.nominal_hours / 24))
    collected = sample.collected_at.astimezone(dt.UTC).date()
    off = abs((collected - expected).days)
    if off <= DOSE_TIMING_TOLERANCE_DAYS:
        return []
    message = (
        f"collected_at ({collected}) is {off} days from the date expected for a sample "
        f"{sample.nominal_hours:g} h after dose {dose.id} of {dose.date} ({expected})"
    )
    return [Finding("collected_at", "dose-timing", message, "implausible")]


def _derive_pk(session: Session, obj: m.PKSample, subject: m.Subject) -> list[Finding]:
    _own(session, m.Visit, obj.visit_id, subject)
    dose = _own(session, m.Dose, obj.dose_id, subject)
    return [] if dose is None else _dose_timing(obj, dose)


def _derive_ada(session: Session, obj: m.ADASample, subject: m.Subject) -> list[Finding]:
    return []


PK_FORM: Final = register(Form("pk_sample", m.PKSample, _derive_pk))
ADA_FORM: Final = register(Form("ada_sample", m.ADASample, _derive_ada))


def record_pk_sample(
    engine: Engine,
    actor: Actor,
    subject: int | str,
    *,
    timing: str,
    nominal_hours: float,
    collected_at: dt.datetime,
    dose_id: int | None = None,
    visit_id: int | None = None,
    concentration: float | None = None,
    blq: bool = False,
    lloq: float | None = None,
) -> RecordView:
    """Record a PK sample (site staff of the subject's site).

    Parameters
    ----------
    timing : {"PRE-DOSE", "END OF INFUSION", "POST-DOSE"}
        The nominal time point (SDTM ``PCTPT``).
    nominal_hours
        Planned time relative to the dose, in hours (pre-dose trough: 0).
    collected_at
        Actual collection time (timezone-aware).
    dose_id, visit_id
        The dose the sample relates to and its visit (the subject's own; optional).
    concentration
        Serum concentration in :data:`PK_UNIT`; ``None`` until assayed or when ``blq``.
    blq, lloq
        Below the lower limit of quantification, and that limit (ug/mL; required with ``blq``).

    Returns
    -------
    RecordView
        The saved sample and the queries opened: a concentration below ``lloq`` not flagged
        ``blq``, a nominal time beyond the 6-week dosing interval, a collection date more than
        :data:`DOSE_TIMING_TOLERANCE_DAYS` from the linked dose's date plus the nominal time.

    Raises
    ------
    InvalidInputError
        A negative concentration, a concentration with ``blq``, ``blq`` without ``lloq``, a
        negative nominal time, a future collection, a dose or visit of another subject; the
        error names the field and nothing is written.
    PermissionDeniedError, StudyLockedError
        Not site staff of the subject's site; the study is locked.
    """
    fields = {
        "timing": timing,
        "nominal_hours": nominal_hours,
        "collected_at": collected_at,
        "dose_id": dose_id,
        "visit_id": visit_id,
        "concentration": concentration,
        "blq": blq,
        "lloq": lloq,
    }
    return new_record(engine, actor, PK_FORM, subject, fields)


def record_ada_sample(
    engine: Engine,
    actor: Actor,
    subject: int | str,
    *,
    collected_at: dt.datetime,
    screening_result: str | None = None,
    confirmatory_result: str | None = None,
    titre: float | None = None,
    neutralizing: str | None = None,
) -> RecordView:
    """Record an ADA sample and its tiered results (site staff of the subject's site).

    Parameters
    ----------
    collected_at
        Collection time (timezone-aware).
    screening_result : {"POSITIVE", "NEGATIVE", None}
        Screening assay result; ``None`` until assayed.
    confirmatory_result : {"POSITIVE", "NEGATIVE", None}
        Confirmatory assay result: only after a positive screen.
    titre
        Reciprocal titre (> 0): only for a confirmed positive sample.
    neutralizing : {"POSITIVE", "NEGATIVE", "NOT DONE", None}
        Neutralizing antibody result; POSITIVE/NEGATIVE only for a confirmed positive sample.

    Returns
    -------
    RecordView
        The saved sample; a confirmed positive sample without a titre opens a query.

    Raises
    ------
    InvalidInputError
        A value outside the terminology, a confirmatory result without a positive screen, a
        titre or neutralizing result without a confirmed positive, a titre <= 0, a future
        collection; the error names the field and nothing is written.
    PermissionDeniedError, StudyLockedError
        Not site staff of the subject's site; the study is locked.
    """
    fields = {
        "collected_at": collected_at,
        "screening_result": screening_result,
        "confirmatory_result": confirmatory_result,
        "titre": titre,
        "neutralizing": neutralizing,
    }
    return new_record(engine, actor, ADA_FORM, subject, fields)
