"""Helpers shared by the use cases: record views, lock checks and the audit of a write.

Every use case opens ONE transaction with :func:`equitrial.store.db.transaction` and writes its
audit rows in it through :func:`audited_insert` / :func:`audited_update`, so a failure anywhere
leaves neither the record nor its audit rows behind.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from equitrial.errors import ConflictError, InvalidInputError, NotFoundError
from equitrial.store import audit
from equitrial.store import models as m

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from equitrial.services.auth import Actor

__all__ = [
    "EDITABLE_STATUSES",
    "RECORD_MODELS",
    "LockedRecordError",
    "RecordView",
    "StudyLockedError",
    "audited_insert",
    "audited_update",
    "check_version",
    "ensure_editable",
    "ensure_study_open",
    "get",
    "record",
    "subject_of",
    "today",
    "view_of",
]

T = TypeVar("T")

EDITABLE_STATUSES = ("entered", "verified", "signed")
"""Record statuses in which data may still change; an edit sends the record back to "entered"
(its verification and signature no longer cover the new value)."""

# columns never shown in a view (secrets, internal bookkeeping)
_HIDDEN = frozenset({"password_hash", "arm_code"})


class LockedRecordError(ConflictError):
    """The record is frozen or locked (or its study is locked) and cannot change."""

    code = "locked"


class StudyLockedError(LockedRecordError):
    """The study's database is locked: no record of it can change."""

    code = "study_locked"


@dataclass(frozen=True)
class RecordView:
    """A saved record as the use case returns it: plain values, detached from the database.

    Attributes
    ----------
    table
        The database table (``"adverse_event"``, ...).
    id
        The record's primary key.
    values
        Every column of the record except secrets and allocation arms.
    query_ids
        Queries the edit checks opened on this save (implausible values).
    """

    table: str
    id: int
    values: Mapping[str, Any]
    query_ids: tuple[int, ...] = field(default=())


def view_of(obj: Any, query_ids: tuple[int, ...] = ()) -> RecordView:
    """A :class:`RecordView` of an ORM object (its column attributes, secrets left out)."""
    mapper = sa_inspect(type(obj))
    values = {
        attr.key: getattr(obj, attr.key) for attr in mapper.column_attrs if attr.key not in _HIDDEN
    }
    return RecordView(str(obj.__tablename__), int(obj.id), values, query_ids)


def today() -> dt.date:
    """The current UTC date (no entry may be dated after it)."""
    return dt.datetime.now(dt.UTC).date()


def get(session: Session, model: type[T], record_id: int, what: str) -> T:
    """The row of ``model`` with primary key ``record_id`` or :class:`NotFoundError`."""
    obj = session.get(model, record_id)
    if obj is None:
        raise NotFoundError(f"no {what} with id {record_id}", field=f"{what}_id", value=record_id)
    return obj


def ensure_study_open(session: Session, study_id: int) -> None:
    """Raise :class:`StudyLockedError` if the study's database is locked."""
    locked = session.scalar(select(m.Study.locked_at).where(m.Study.id == study_id))
    if locked is not None:
        raise StudyLockedError(
            f"the study database was locked at {locked:%Y-%m-%d %H:%M} UTC; no data can change",
            field="study",
        )


def ensure_editable(obj: Any, what: str) -> None:
    """Raise :class:`LockedRecordError` if ``obj`` is frozen or locked."""
    status = getattr(obj, "status", None)
    if status is not None and status not in EDITABLE_STATUSES:
        raise LockedRecordError(
            f"{what} {obj.id} is {status} and cannot change"
            + ("; a data manager must unfreeze it first" if status == "frozen" else ""),
            field="status",
            value=status,
        )


def check_version(obj: Any, expected_version: int | None, what: str) -> None:
    """Refuse an edit made on a stale copy (someone saved the record since it was read)."""
    if expected_version is not None and obj.version != expected_version:
        raise ConflictError(
            f"{what} {obj.id} changed since it was read (version {obj.version}, "
            f"edit based on version {expected_version}); reload it and edit again",
            field="version",
            value=expected_version,
        )


def audited_insert(session: Session, actor: Actor, obj: T) -> T:
    """Add a new record and write one audit row per field, in the caller's transaction."""
    session.add(obj)
    try:
        session.flush()
    except IntegrityError as error:  # a unique constraint: the record exists
        detail = str(error.orig).splitlines()[0]
        raise ConflictError(
            f"{obj.__tablename__}: such a record exists already ({detail})",  # type: ignore[attr-defined]
            field=obj.__tablename__,  # type: ignore[attr-defined]
        ) from error
    audit.record_changes(session, actor, obj, reason=None)
    return obj


def audited_update(
    session: Session, actor: Actor, obj: Any, changes: Mapping[str, Any], *, reason: str | None
) -> None:
    """Apply ``changes`` to a stored record and audit each changed field with ``reason``.

    Raises
    ------
    InvalidInputError
        A change without a reason, or a field the record does not have.
    """
    columns = {a.key for a in sa_inspect(type(obj)).column_attrs}
    for name, value in changes.items():
        if name not in columns or name in {"id", "version", "created_at", "updated_at"}:
            raise InvalidInputError(
                f"{obj.__tablename__} has no editable field {name!r}", field=name
            )
        setattr(obj, name, value)
    changed = [name for name in changes if sa_inspect(obj).attrs[name].history.has_changes()]
    if changed and not (reason and reason.strip()):
        raise InvalidInputError(
            f"a reason is required to change {', '.join(changed)} after first entry",
            field="reason",
        )
    try:
        audit.record_changes(session, actor, obj, reason=reason)
    except StaleDataError as error:
        raise ConflictError(
            f"{obj.__tablename__} {obj.id} was changed by someone else meanwhile; reload it",
            field="version",
        ) from error


RECORD_MODELS: dict[str, type[m.ClinicalRecordMixin]] = {
    model.__tablename__: model
    for model in (
        m.Visit,
        m.Dose,
        m.Lesion,
        m.LesionMeasurement,
        m.TumourAssessment,
        m.AdverseEvent,
        m.LabResult,
        m.PKSample,
        m.ADASample,
        m.QuestionnaireResponse,
        m.ConMed,
        m.Disposition,
        m.Death,
    )
}
"""The clinical record tables (status workflow, verification, signature, lock) by table name."""


def record(session: Session, table: str, record_id: int) -> m.ClinicalRecordMixin:
    """A clinical record by table name and id."""
    model = RECORD_MODELS.get(table)
    if model is None:
        raise InvalidInputError(
            f"{table!r} is not a clinical record table; expected one of {', '.join(RECORD_MODELS)}",
            field="table",
            value=table,
        )
    return get(session, model, record_id, table)


def subject_of(session: Session, obj: Any) -> m.Subject:
    """The subject a clinical record belongs to (a lesion measurement through its lesion)."""
    if isinstance(obj, m.LesionMeasurement):
        obj = get(session, m.Lesion, obj.lesion_id, "lesion")
    return get(session, m.Subject, obj.subject_id, "subject")
