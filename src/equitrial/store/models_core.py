"""Study, sites, users and roles, subjects, the randomization schedule, unblinding, data cuts."""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from equitrial.store.models_base import Base, TimestampMixin, enum_column, utcnow

__all__ = [
    "PROTOCOL_JSON_MAX_LENGTH",
    "ROLES",
    "SUBJECT_STATUSES",
    "DataCut",
    "RandomizationSchedule",
    "RegimenPeriod",
    "RoleMembership",
    "Site",
    "Study",
    "Subject",
    "Unblinding",
    "User",
    "VersionedMixin",
]

ROLES: Final = (
    "admin",
    "investigator",
    "coordinator",
    "data-manager",
    "monitor",
    "blinded-statistician",
    "unblinded-statistician",
    "pharmacist",
    "supply-manager",
)
PROTOCOL_JSON_MAX_LENGTH: Final = 4_000_000
"""Limit of ``study.protocol_json`` in characters (and so of an audit value): a protocol file of
up to 1 MiB (``equitrial.protocol.MAX_PROTOCOL_BYTES``) as JSON, with room to spare. The
default limit of a ``Text`` column (10,000) is too small for a protocol with its eligibility
criteria."""

SUBJECT_STATUSES: Final = (
    "screening",
    "eligible",
    "ineligible",
    "randomized",
    "completed",
    "withdrawn",
    "screen failed",
)


class VersionedMixin(TimestampMixin):
    """Optimistic locking through SQLAlchemy's ``version_id_col`` (see ClinicalRecordMixin)."""

    version: Mapped[int] = mapped_column(Integer, nullable=False)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"version_id_col": cls.__table__.c.version}  # type: ignore[attr-defined]


class Study(TimestampMixin, Base):
    """A study as loaded from its protocol file (``protocol_json`` is ``Protocol.to_dict()``)."""

    __tablename__ = "study"

    code: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(Text)
    protocol_version: Mapped[str] = mapped_column(String(64))
    protocol_json: Mapped[str] = mapped_column(Text, info={"max_length": PROTOCOL_JSON_MAX_LENGTH})
    loaded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    locked_at: Mapped[dt.datetime | None] = mapped_column(default=None)


class Site(TimestampMixin, Base):
    """An investigational site: its type (``METROPOLITAN`` / ``REGIONAL``), ISO 3166-1 alpha-3
    country and geographic region, when known (:mod:`equitrial.clinical.terminology`)."""

    __tablename__ = "site"

    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    site_type: Mapped[str | None] = mapped_column(String(16), default=None)
    country: Mapped[str | None] = mapped_column(String(3), default=None)
    region: Mapped[str | None] = mapped_column(String(20), default=None)


class User(TimestampMixin, Base):
    """A person who signs in; ``password_hash`` is an argon2 hash, never the password."""

    __tablename__ = "users"

    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    roles: Mapped[list[RoleMembership]] = relationship(back_populates="user")


class RoleMembership(TimestampMixin, Base):
    """A role held by a user at one site, or at every site when ``site_id`` is null."""

    __tablename__ = "role_membership"
    __table_args__ = (UniqueConstraint("user_id", "role", "site_id"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    role: Mapped[str] = mapped_column(enum_column("role", *ROLES))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id"), default=None)

    user: Mapped[User] = relationship(back_populates="roles")
    site: Mapped[Site | None] = relationship()


class Subject(VersionedMixin, Base):
    """A screened patient; ``strata_json`` maps each stratification factor to its level."""

    __tablename__ = "subject"
    __table_args__ = (UniqueConstraint("study_id", "screening_number"),)

    study_id: Mapped[int] = mapped_column(ForeignKey("study.id"), index=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    screening_number: Mapped[str] = mapped_column(String(64))
    subject_code: Mapped[str] = mapped_column(String(64), unique=True)
    consent_date: Mapped[dt.date | None] = mapped_column(default=None)
    eligibility_json: Mapped[str | None] = mapped_column(Text, default=None)
    eligible: Mapped[bool | None] = mapped_column(Boolean, default=None)
    sex: Mapped[str | None] = mapped_column(String(16), default=None)
    birth_year: Mapped[int | None] = mapped_column(Integer, default=None)
    strata_json: Mapped[str | None] = mapped_column(Text, default=None)
    status: Mapped[str] = mapped_column(
        enum_column("subject_status", *SUBJECT_STATUSES), default="screening"
    )

    study: Mapped[Study] = relationship()
    site: Mapped[Site] = relationship()


class RandomizationSchedule(TimestampMixin, Base):
    """One slot of the pre-generated, concealed allocation list.

    A free slot has ``subject_id`` null; an allocation is the slot with ``subject_id`` set.
    ``stratum`` is canonical: ``"factor=level;factor=level"`` sorted by factor. The unique
    constraints make a double allocation impossible whatever the locking does: a subject holds
    at most one slot, and a sequence number and a kit exist once.
    """

    __tablename__ = "randomization_schedule"
    __table_args__ = (
        UniqueConstraint("study_id", "sequence_number"),
        Index("ix_randomization_schedule_next_free", "study_id", "stratum", "sequence_number"),
    )

    study_id: Mapped[int] = mapped_column(ForeignKey("study.id"))
    stratum: Mapped[str] = mapped_column(String(255))
    sequence_number: Mapped[int] = mapped_column(Integer)
    block_number: Mapped[int] = mapped_column(Integer)
    position_in_block: Mapped[int] = mapped_column(Integer)
    block_size: Mapped[int] = mapped_column(Integer)
    arm_code: Mapped[str] = mapped_column(String(32))
    kit_number: Mapped[str] = mapped_column(String(32), unique=True)
    subject_id: Mapped[int | None] = mapped_column(
        ForeignKey("subject.id"), unique=True, default=None
    )
    allocated_at: Mapped[dt.datetime | None] = mapped_column(default=None)


class RegimenPeriod(TimestampMixin, Base):
    """A subject's dosing regimen from ``start_date`` on: one row at randomization, one per switch.

    Append-only: the subject's regimen on a date is the row with the latest ``start_date`` on or
    before it (ties: the latest row), so the history of switches stays readable.
    """

    __tablename__ = "regimen_period"

    subject_id: Mapped[int] = mapped_column(ForeignKey("subject.id"), index=True)
    regimen: Mapped[str] = mapped_column(String(16))
    start_date: Mapped[dt.date]
    reason: Mapped[str | None] = mapped_column(Text, default=None)


class Unblinding(TimestampMixin, Base):
    """An emergency unblinding of one subject by a user, with the reason."""

    __tablename__ = "unblinding"

    subject_id: Mapped[int] = mapped_column(ForeignKey("subject.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class DataCut(TimestampMixin, Base):
    """A consistent snapshot of the study's data at a cut-off date (an interim, say)."""

    __tablename__ = "data_cut"
    __table_args__ = (UniqueConstraint("study_id", "name"),)

    study_id: Mapped[int] = mapped_column(ForeignKey("study.id"))
    name: Mapped[str] = mapped_column(String(64))
    cutoff_date: Mapped[dt.date]
    snapshot_path: Mapped[str | None] = mapped_column(Text, default=None)
    snapshot_json: Mapped[str | None] = mapped_column(Text, default=None)
