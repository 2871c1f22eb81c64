"""Clinical records of a subject: visits, doses, tumour data, AEs, labs, samples, PROs, outcome.

Every class carries the workflow ``status`` (entered -> verified -> signed -> frozen -> locked)
and the optimistic-locking ``version`` of :class:`ClinicalRecordMixin`. Derived values
(``overall_response``, ``ctcae_grade``, ``scores_json``) are filled by the services from
:mod:`equitrial.clinical` when the record is saved, never typed by hand.

Two domain columns that would clash with the workflow ``status`` are named
``LesionMeasurement.measurement_status`` and ``Disposition.disposition_status``.
"""

from __future__ import annotations

import datetime as dt
from typing import Final

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from equitrial.store.models_base import Base, ClinicalRecordMixin, TimestampMixin, enum_column

__all__ = [
    "PK_TIMEPOINTS",
    "THERAPY_TYPES",
    "ADASample",
    "AdverseEvent",
    "ConMed",
    "Death",
    "Disposition",
    "Dose",
    "LabResult",
    "LabTransfer",
    "Lesion",
    "LesionMeasurement",
    "PKSample",
    "QuestionnaireResponse",
    "SubsequentTherapy",
    "TumourAssessment",
    "Visit",
]

LESION_ROLES: Final = ("target", "non-target", "new")
READERS: Final = ("investigator", "central")


def _subject_fk() -> Mapped[int]:
    return mapped_column(ForeignKey("subject.id"), index=True)


class Visit(ClinicalRecordMixin, Base):
    """A visit: planned and actual date, its window, and whether it fell in its window.

    ``planned`` visits are written from the protocol's schedule at randomization (and re-planned
    at a regimen switch), with their window (``window_start`` to ``window_end``, inclusive) and
    the kinds of assessment due (``assessments``, comma-separated: ``"dosing,labs"``).
    """

    __tablename__ = "visit"
    __table_args__ = (UniqueConstraint("subject_id", "name"),)

    subject_id: Mapped[int] = _subject_fk()
    name: Mapped[str] = mapped_column(String(64))
    planned_date: Mapped[dt.date | None] = mapped_column(default=None)
    actual_date: Mapped[dt.date | None] = mapped_column(default=None)
    window_status: Mapped[str | None] = mapped_column(String(32), default=None)
    window_start: Mapped[dt.date | None] = mapped_column(default=None)
    window_end: Mapped[dt.date | None] = mapped_column(default=None)
    planned: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    assessments: Mapped[str | None] = mapped_column(String(200), default=None)


class Dose(ClinicalRecordMixin, Base):
    """One administration of study drug: cycle, date, mg, regimen (``"Q3W"``), kit and lot,
    infusion start and stop, delayed/interrupted + reason."""

    __tablename__ = "dose"

    subject_id: Mapped[int] = _subject_fk()
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visit.id"), default=None)
    cycle: Mapped[int] = mapped_column(Integer)
    date: Mapped[dt.date]
    dose_mg: Mapped[float] = mapped_column(Float)
    kit_number: Mapped[str | None] = mapped_column(String(32), default=None)
    delayed: Mapped[bool] = mapped_column(Boolean, default=False)
    interrupted: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str | None] = mapped_column(Text, default=None)
    regimen: Mapped[str | None] = mapped_column(String(16), default=None)
    lot: Mapped[str | None] = mapped_column(String(32), default=None)
    infusion_start: Mapped[dt.datetime | None] = mapped_column(default=None)
    infusion_stop: Mapped[dt.datetime | None] = mapped_column(default=None)


class Lesion(ClinicalRecordMixin, Base):
    """A tumour lesion as identified by one reader."""

    __tablename__ = "lesion"
    __table_args__ = (UniqueConstraint("subject_id", "reader", "lesion_code"),)

    subject_id: Mapped[int] = _subject_fk()
    lesion_code: Mapped[str] = mapped_column(String(32))
    organ: Mapped[str] = mapped_column(String(64))
    nodal: Mapped[bool] = mapped_column(Boolean, default=False)
    role: Mapped[str] = mapped_column(enum_column("lesion_role", *LESION_ROLES))
    reader: Mapped[str] = mapped_column(enum_column("lesion_reader", *READERS))


class LesionMeasurement(ClinicalRecordMixin, Base):
    """A measurement of one lesion at one assessment by one reader."""

    __tablename__ = "lesion_measurement"
    __table_args__ = (UniqueConstraint("lesion_id", "assessment_date", "reader"),)

    lesion_id: Mapped[int] = mapped_column(ForeignKey("lesion.id"), index=True)
    assessment_date: Mapped[dt.date]
    reader: Mapped[str] = mapped_column(enum_column("measurement_reader", *READERS))
    diameter_mm: Mapped[float | None] = mapped_column(Float, default=None)
    measurement_status: Mapped[str] = mapped_column(String(32), default="measured")


class TumourAssessment(ClinicalRecordMixin, Base):
    """A time-point response, derived by ``equitrial.clinical.recist`` under ``rule_version``.

    The ``irecist_*`` columns are the iRECIST time point (Seymour 2017) derived by
    ``equitrial.clinical.irecist`` from the same lesion measurements (all ``None`` at baseline):
    the response, the sum of the baseline target lesions (``None`` unless every one was
    assessed; new lesions never included) and whether the new-lesion category met RECIST 1.1 PD.
    """

    __tablename__ = "tumour_assessment"
    __table_args__ = (UniqueConstraint("subject_id", "assessment_date", "reader"),)

    subject_id: Mapped[int] = _subject_fk()
    assessment_date: Mapped[dt.date]
    reader: Mapped[str] = mapped_column(enum_column("assessment_reader", *READERS))
    target_response: Mapped[str | None] = mapped_column(String(16), default=None)
    non_target_response: Mapped[str | None] = mapped_column(String(16), default=None)
    new_lesions: Mapped[bool] = mapped_column(Boolean, default=False)
    overall_response: Mapped[str | None] = mapped_column(String(16), default=None)
    rule_version: Mapped[str] = mapped_column(String(32))
    irecist_response: Mapped[str | None] = mapped_column(String(16), default=None)
    irecist_target_sum: Mapped[float | None] = mapped_column(Float, default=None)
    irecist_new_lesion_progression: Mapped[bool | None] = mapped_column(Boolean, default=None)


class AdverseEvent(ClinicalRecordMixin, Base):
    """An adverse event coded to a CTCAE term (a MedDRA lowest level term) and SOC.

    Derived on every save from the CTCAE catalogue, never typed: ``soc``, ``meddra_code`` (the
    MedDRA code of the term, SDTM ``AELLTCD``), ``decod`` (SDTM ``AEDECOD``: the CTCAE term;
    the MedDRA preferred term is not in the catalogue's source), ``grade_definition`` (the CTCAE
    text of the recorded grade), ``immune_category`` and ``treatment_emergent``.
    ``serious_criteria`` holds SDTM flag names (``"AESHOSP,AESLIFE"``); ``related``,
    ``action_taken`` and ``outcome`` CDISC values (:mod:`equitrial.clinical.ae_terms`).
    """

    __tablename__ = "adverse_event"

    subject_id: Mapped[int] = _subject_fk()
    term: Mapped[str] = mapped_column(String(200))
    soc: Mapped[str] = mapped_column(String(200))
    grade: Mapped[int] = mapped_column(Integer)
    start_date: Mapped[dt.date]
    end_date: Mapped[dt.date | None] = mapped_column(default=None)
    serious: Mapped[bool] = mapped_column(Boolean, default=False)
    serious_criteria: Mapped[str | None] = mapped_column(Text, default=None)
    related: Mapped[str | None] = mapped_column(String(32), default=None)
    action_taken: Mapped[str | None] = mapped_column(String(64), default=None)
    outcome: Mapped[str | None] = mapped_column(String(64), default=None)
    immune_category: Mapped[str | None] = mapped_column(String(64), default=None)
    treatment_emergent: Mapped[bool | None] = mapped_column(Boolean, default=None)
    meddra_code: Mapped[int | None] = mapped_column(Integer, default=None)
    decod: Mapped[str | None] = mapped_column(String(200), default=None)
    grade_definition: Mapped[str | None] = mapped_column(Text, default=None)


class LabResult(ClinicalRecordMixin, Base):
    """A laboratory value with its range and the CTCAE grade derived from it."""

    __tablename__ = "lab_result"

    subject_id: Mapped[int] = _subject_fk()
    test: Mapped[str] = mapped_column(String(200))
    value: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(32))
    lln: Mapped[float | None] = mapped_column(Float, default=None)
    uln: Mapped[float | None] = mapped_column(Float, default=None)
    collected_at: Mapped[dt.datetime]
    ctcae_grade: Mapped[int | None] = mapped_column(Integer, default=None)
    accession: Mapped[str | None] = mapped_column(String(64), default=None)
    lab_transfer_id: Mapped[int | None] = mapped_column(
        ForeignKey("lab_transfer.id"), default=None, index=True
    )


class LabTransfer(TimestampMixin, Base):
    """A central-lab transfer file imported as a whole: its content's SHA-256 (a file is
    imported once), the sender's transfer id, the file name and how many results it held."""

    __tablename__ = "lab_transfer"
    __table_args__ = (
        UniqueConstraint("study_id", "sha256"),
        UniqueConstraint("study_id", "transfer_id"),
    )

    study_id: Mapped[int] = mapped_column(ForeignKey("study.id"))
    sha256: Mapped[str] = mapped_column(String(64))
    transfer_id: Mapped[str | None] = mapped_column(String(64), default=None)
    filename: Mapped[str | None] = mapped_column(String(255), default=None)
    rows: Mapped[int] = mapped_column(Integer)
    imported_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)


PK_TIMEPOINTS: Final = ("PRE-DOSE", "END OF INFUSION", "POST-DOSE")
"""Nominal time point labels of a PK sample (SDTM ``PCTPT``; sponsor-defined, not CDISC CT)."""

THERAPY_TYPES: Final = (
    "IMMUNOTHERAPY",
    "TARGETED THERAPY",
    "CHEMOTHERAPY",
    "RADIOTHERAPY",
    "SURGERY",
    "OTHER",
)
"""Types of subsequent anticancer therapy (the categories of the CRF; ``CMCAT``-like)."""


class PKSample(ClinicalRecordMixin, Base):
    """A pharmacokinetic sample: nominal and actual time, the dose it follows, the result.

    ``concentration`` and ``lloq`` are in micrograms per millilitre; a result below the lower
    limit of quantification is ``blq`` with the ``lloq`` and no concentration (SDTM PC:
    ``PCSTRESC = "<LLOQ"``, ``PCLLOQ``). ``nominal_hours`` is the planned time relative to the
    dose (``PCTPTNUM``/``PCELTM``; the pre-dose trough is 0).
    """

    __tablename__ = "pk_sample"

    subject_id: Mapped[int] = _subject_fk()
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visit.id"), default=None)
    dose_id: Mapped[int | None] = mapped_column(ForeignKey("dose.id"), default=None)
    collected_at: Mapped[dt.datetime]
    timing: Mapped[str] = mapped_column(String(32))
    nominal_hours: Mapped[float | None] = mapped_column(Float, default=None)
    concentration: Mapped[float | None] = mapped_column(Float, default=None)
    blq: Mapped[bool] = mapped_column(Boolean, default=False)
    lloq: Mapped[float | None] = mapped_column(Float, default=None)


class ADASample(ClinicalRecordMixin, Base):
    """An anti-drug antibody sample and its tiered results (screening, confirmatory, titre, NAb).

    Results are CDISC CT ``POSITIVE`` / ``NEGATIVE`` (``NOT DONE`` also for neutralizing);
    ``None`` until assayed.
    """

    __tablename__ = "ada_sample"

    subject_id: Mapped[int] = _subject_fk()
    collected_at: Mapped[dt.datetime]
    screening_result: Mapped[str | None] = mapped_column(String(16), default=None)
    confirmatory_result: Mapped[str | None] = mapped_column(String(16), default=None)
    titre: Mapped[float | None] = mapped_column(Float, default=None)
    neutralizing: Mapped[str | None] = mapped_column(String(16), default=None)


class QuestionnaireResponse(ClinicalRecordMixin, Base):
    """A QLQ-C30 response: item answers and the scale scores derived from them."""

    __tablename__ = "questionnaire_response"

    subject_id: Mapped[int] = _subject_fk()
    date: Mapped[dt.date]
    items_json: Mapped[str] = mapped_column(Text)
    scores_json: Mapped[str | None] = mapped_column(Text, default=None)


class ConMed(ClinicalRecordMixin, Base):
    """A concomitant medication; ``irae_corticosteroid`` is derived, never typed.

    ``dose_unit``, ``route`` and ``frequency`` take CDISC CT values (UNIT, ROUTE, FREQ).
    """

    __tablename__ = "con_med"

    subject_id: Mapped[int] = _subject_fk()
    name: Mapped[str] = mapped_column(String(200))
    indication: Mapped[str | None] = mapped_column(String(200), default=None)
    dose: Mapped[float | None] = mapped_column(Float, default=None)
    dose_unit: Mapped[str | None] = mapped_column(String(32), default=None)
    route: Mapped[str | None] = mapped_column(String(32), default=None)
    frequency: Mapped[str | None] = mapped_column(String(32), default=None)
    start: Mapped[dt.date | None] = mapped_column(default=None)
    end: Mapped[dt.date | None] = mapped_column(default=None)
    ongoing: Mapped[bool] = mapped_column(Boolean, default=False)
    adverse_event_id: Mapped[int | None] = mapped_column(
        ForeignKey("adverse_event.id"), default=None
    )
    irae_corticosteroid: Mapped[bool | None] = mapped_column(Boolean, default=None)


class SubsequentTherapy(ClinicalRecordMixin, Base):
    """An anticancer therapy started after study treatment (it censors PFS)."""

    __tablename__ = "subsequent_therapy"

    subject_id: Mapped[int] = _subject_fk()
    name: Mapped[str] = mapped_column(String(200))
    therapy_type: Mapped[str] = mapped_column(enum_column("therapy_type", *THERAPY_TYPES))
    start_date: Mapped[dt.date]


class Disposition(ClinicalRecordMixin, Base):
    """A disposition event (SDTM DS, ``DSCAT = "DISPOSITION EVENT"``): which one (``scope``:
    END OF TREATMENT, END OF STUDY or SCREEN FAILURE, one per subject), the CDISC ``EPOCH`` in
    which it happened, the CDISC reason and the date.

    ``decod`` is the CDISC CT reason (NCOMPLT, ``DSDECOD``; ``SCREEN FAILURE`` for a screen
    failure, whose category is ``reason_category``); ``reason`` the free text (required for
    ``OTHER``); ``disposition_status`` (``COMPLETED`` / ``DISCONTINUED``, ADaM ``EOTSTT`` /
    ``EOSSTT``) is derived from ``decod``.
    """

    __tablename__ = "disposition"
    __table_args__ = (UniqueConstraint("subject_id", "scope"),)

    subject_id: Mapped[int] = _subject_fk()
    scope: Mapped[str] = mapped_column(String(20))
    epoch: Mapped[str] = mapped_column(String(16))
    decod: Mapped[str] = mapped_column(String(40))
    reason_category: Mapped[str | None] = mapped_column(String(40), default=None)
    disposition_status: Mapped[str] = mapped_column(String(32))
    date: Mapped[dt.date]
    reason: Mapped[str | None] = mapped_column(Text, default=None)


class Death(ClinicalRecordMixin, Base):
    """A subject's death: date and cause (CT value; ``cause_text`` for ``OTHER``)."""

    __tablename__ = "death"

    subject_id: Mapped[int] = mapped_column(ForeignKey("subject.id"), unique=True)
    date: Mapped[dt.date]
    cause: Mapped[str | None] = mapped_column(Text, default=None)
    cause_text: Mapped[str | None] = mapped_column(Text, default=None)
