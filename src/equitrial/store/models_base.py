"""Declarative base, column types and mixins shared by every model.

Timestamps are stored as UTC: :class:`UTCDateTime` refuses naive datetimes on the way in and
returns timezone-aware UTC datetimes on the way out on both SQLite and PostgreSQL, so a value
reads back identically from either database (the audit hash depends on it).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar, Final

from sqlalchemy import DateTime, Dialect, Enum, Integer, MetaData, TypeDecorator
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

__all__ = [
    "RECORD_STATUSES",
    "Base",
    "ClinicalRecordMixin",
    "TimestampMixin",
    "UTCDateTime",
    "enum_column",
    "utcnow",
]

RECORD_STATUSES: Final = ("entered", "verified", "signed", "frozen", "locked")

NAMING_CONVENTION: Final = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC, returned timezone-aware (UTC) on every database."""

    impl = DateTime(timezone=True)
    cache_ok = True

    @property
    def python_type(self) -> type[datetime]:
        return datetime

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: timestamps must carry a time zone")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def enum_column(name: str, *values: str) -> Enum:
    """A string column limited to ``values`` by a named CHECK constraint (no native enum)."""
    return Enum(
        *values,
        name=name,
        native_enum=False,
        create_constraint=True,
        validate_strings=True,
        length=max(len(v) for v in values),
    )


class Base(DeclarativeBase):
    """Declarative base: one metadata with a constraint naming convention (for Alembic)."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime()}


class TimestampMixin:
    """Integer surrogate key and UTC ``created_at`` / ``updated_at``."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ClinicalRecordMixin(TimestampMixin):
    """A clinical record: workflow ``status`` and an optimistic-locking ``version``.

    ``version`` is SQLAlchemy's ``version_id_col``: every UPDATE says
    ``WHERE id = :id AND version = :seen`` and raises ``StaleDataError`` when another
    transaction changed the row first, so two people editing the same record cannot
    silently overwrite each other.
    """

    status: Mapped[str] = mapped_column(
        enum_column("record_status", *RECORD_STATUSES), default="entered"
    )
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"version_id_col": cls.__table__.c.version}  # type: ignore[attr-defined]
