"""Baseline case report forms of a subject: demographics and baseline disease, medical history,
informed consent (issue 9).

Every class is a :class:`~equitrial.store.models_base.ClinicalRecordMixin` (workflow ``status``
and optimistic-locking ``version``). Coded values take the subsets of
:mod:`equitrial.clinical.terminology`; the services refuse anything else.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from equitrial.store.models_base import Base, ClinicalRecordMixin

__all__ = ["Demographics", "InformedConsent", "MedicalHistory"]


class Demographics(ClinicalRecordMixin, Base):
    """Demographics (SDTM DM) and baseline disease characteristics: one per subject.

    ``ldh_elevated`` (``ldh_value > ldh_uln``) and ``site_type`` (from the subject's site) are
    derived, never typed. ``ecog_ps``, ``braf_v600`` and the M stage / LDH category are the
    stratification factors of the flagship protocol.
    """

    __tablename__ = "demographics"

    subject_id: Mapped[int] = mapped_column(ForeignKey("subject.id"), unique=True)
    age: Mapped[int] = mapped_column(Integer)
    sex: Mapped[str] = mapped_column(String(1))
    race: Mapped[str] = mapped_column(String(48))
    ethnicity: Mapped[str] = mapped_column(String(32))
    country: Mapped[str] = mapped_column(String(3))
    region: Mapped[str] = mapped_column(String(20))
    site_type: Mapped[str | None] = mapped_column(String(16), default=None)
    ecog_ps: Mapped[int] = mapped_column(Integer)
    braf_v600: Mapped[str] = mapped_column(String(16))
    m_stage: Mapped[str] = mapped_column(String(8))
    ldh_value: Mapped[float] = mapped_column(Float)
    ldh_uln: Mapped[float] = mapped_column(Float)
    ldh_elevated: Mapped[bool] = mapped_column(Boolean)
    brain_metastases: Mapped[str] = mapped_column(String(1))
    prior_adjuvant: Mapped[str] = mapped_column(String(1))
    prior_adjuvant_therapy: Mapped[str | None] = mapped_column(Text, default=None)


class MedicalHistory(ClinicalRecordMixin, Base):
    """One condition of the subject's medical history (SDTM MH); no end date while ongoing."""

    __tablename__ = "medical_history"

    subject_id: Mapped[int] = mapped_column(ForeignKey("subject.id"), index=True)
    term: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(32))
    start_date: Mapped[dt.date]
    ongoing: Mapped[bool] = mapped_column(Boolean, default=False)
    end_date: Mapped[dt.date | None] = mapped_column(default=None)


class InformedConsent(ClinicalRecordMixin, Base):
    """A signed informed consent form: the initial consent or a re-consent (SDTM DS protocol
        milestone, ``RFICDTC`` for the initial one). ``form_version`` is the version of the consent
    form signed (``version`` is the record's optimistic-locking counter)."""

    __tablename__ = "informed_consent"

    subject_id: Mapped[int] = mapped_column(ForeignKey("subject.id"), index=True)
    consent_date: Mapped[dt.date]
    form_version: Mapped[str] = mapped_column(String(32))
    consent_type: Mapped[str] = mapped_column(String(16))
