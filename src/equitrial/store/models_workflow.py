"""Queries and their threads, electronic signatures, and the audit trail."""

from __future__ import annotations

import datetime as dt
from typing import Final

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from equitrial.store.models_base import Base, TimestampMixin, enum_column, utcnow
from equitrial.store.models_core import PROTOCOL_JSON_MAX_LENGTH, VersionedMixin

__all__ = ["QUERY_STATUSES", "AuditAnchor", "AuditTrail", "Query", "QueryMessage", "Signature"]

QUERY_STATUSES: Final = ("open", "answered", "closed")


class Query(VersionedMixin, Base):
    """A data query raised on one field of one record (by an edit check or a person)."""

    __tablename__ = "query"

    table_name: Mapped[str] = mapped_column(String(64))
    record_id: Mapped[int] = mapped_column(Integer)
    field: Mapped[str | None] = mapped_column(String(64), default=None)
    rule: Mapped[str | None] = mapped_column(String(64), default=None)
    message: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(
        enum_column("query_status", *QUERY_STATUSES), default="open"
    )
    opened_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    opened_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class QueryMessage(TimestampMixin, Base):
    """One message in a query's thread."""

    __tablename__ = "query_message"

    query_id: Mapped[int] = mapped_column(ForeignKey("query.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    text: Mapped[str] = mapped_column(Text)


class Signature(TimestampMixin, Base):
    """An electronic signature of one record: who, when, and what the signature means."""

    __tablename__ = "signature"

    table_name: Mapped[str] = mapped_column(String(64))
    record_id: Mapped[int] = mapped_column(Integer)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    meaning: Mapped[str] = mapped_column(Text)
    signed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    superseded_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    """Set when the record was edited after signing: the signature no longer covers it."""


class AuditTrail(Base):
    """One append-only, hash-chained audit row.

    The database refuses UPDATE and DELETE on this table (triggers created by the migration).
    ``id`` is assigned by :func:`equitrial.store.audit.append` as the previous id + 1 under the
    chain lock (no sequence, so ids have no gaps), and ``row_hash`` is the SHA-256 of the row's
    content and ``prev_hash``. Values are stored as text (``None`` stays null).
    """

    __tablename__ = "audit_trail"
    __table_args__ = (Index("ix_audit_trail_table_name_record_id", "table_name", "record_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[dt.datetime]
    user_id: Mapped[int | None] = mapped_column(Integer, default=None)
    username: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(String(32))
    table_name: Mapped[str | None] = mapped_column(String(64), default=None)
    record_id: Mapped[str | None] = mapped_column(String(64), default=None)
    field: Mapped[str | None] = mapped_column(String(64), default=None)
    # a value of any audited column, the protocol JSON included
    old_value: Mapped[str | None] = mapped_column(
        Text, default=None, info={"max_length": PROTOCOL_JSON_MAX_LENGTH}
    )
    new_value: Mapped[str | None] = mapped_column(
        Text, default=None, info={"max_length": PROTOCOL_JSON_MAX_LENGTH}
    )
    reason: Mapped[str | None] = mapped_column(Text, default=None)
    software_version: Mapped[str] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    row_hash: Mapped[str] = mapped_column(String(64))  # not indexed: migration 0010


class AuditAnchor(Base):
    """A signed head of the audit chain (:mod:`equitrial.store.anchor`).

    ``signature`` is the Ed25519 signature, by the key outside the database
    (:mod:`equitrial.store.keys`), of the chain's identity, ``rows`` (the id of the last row),
    its ``row_hash`` and ``signed_at``. Appended at the end of every use case that wrote audit
    rows; the database refuses UPDATE and DELETE as for the trail.
    """

    __tablename__ = "audit_anchor"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rows: Mapped[int] = mapped_column(Integer, index=True)
    row_hash: Mapped[str] = mapped_column(String(64))
    signed_at: Mapped[dt.datetime]
    key_id: Mapped[str] = mapped_column(String(16))
    signature: Mapped[str] = mapped_column(String(128))
