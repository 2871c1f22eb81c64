"""Helpers shared by the use cases: record views, lock checks and the audit of a write.

Every use case opens ONE transaction with :func:`equitrial.store.db.transaction` and writes its
audit rows in it through :func:`audited_insert` / :func:`audited_update`, so a failure anywhere
leaves neither the record nor its audit rows behind.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, TypeVar

from sqlalchemy import bindparam, select, text
from sqlalchemy import inspect as sa_inspect
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
    "check_fields",
    "check_version",
    "ensure_editable",
    "ensure_study_open",
    "get",
    "lock_row",
    "lock_subject",
    "record",
    "revise_record",
    "subject_of",
    "supersede_signatures",
    "today",
    "view_of",
]

T = TypeVar("T")

EDITABLE_STATUSES = ("entered", "verified", "signed")
"""Record statuses in which data may still change; an edit sends the record back to "entered"
(its verification and signature no longer cover the new value)."""

_STUDY_LOCKED_AT: Final = select(m.Study.__table__.c.locked_at).where(
    m.Study.__table__.c.id == bindparam("study_id")
)
"""The study's ``locked_at``, built once: a Core statement with a bound parameter skips the
ORM's statement building and compilation lookup that cost several times the query itself
(the same for the other statements of the services' hot paths, named in capitals)."""
_STUDY_LOCK_CLASS: Final = 0x53545544  # "STUD": first key of the two-key advisory lock space

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


def ensure_study_open(session: Session, study_id: int, *, exclusive: bool = False) -> None:
    """Raise :class:`StudyLockedError` if the study's database is locked.

    Every writing use case calls this BEFORE its first write and its first audit row. On
    PostgreSQL the check first takes the study's lock, held to the end of the transaction:
    shared for an ordinary write (writes run side by side), exclusive with ``exclusive`` (the
    database lock, a protocol amendment). So the database lock waits for every write that
    passed the check to commit, and a write that comes after the lock waits for it and then
    reads ``locked_at`` (READ COMMITTED: a fresh snapshot for the statement after the wait).
    On SQLite ``BEGIN IMMEDIATE`` already serializes writing transactions as a whole.

    Parameters
    ----------
    session
        The use case's (writing) session.
    study_id
        The study whose data the use case changes.
    exclusive
        Take the lock exclusively (only the use cases that change the study row itself).

    Notes
    -----
    The lock is a transaction-scoped advisory lock (``pg_advisory_xact_lock_shared`` /
    ``pg_advisory_xact_lock`` on the key pair (``"STUD"``, study id)), not a row lock
    (``SELECT ... FOR SHARE`` / ``FOR UPDATE`` on the study row): PostgreSQL grants a new
    ``FOR SHARE`` while a ``FOR UPDATE`` waits, so under a steady stream of writes the database
    lock could wait forever (seen in ``tests/services/test_integrity_lock.py``); its lock
    manager queues advisory lock requests in order, so a write asked after the lock waits
    behind it.
    """
    if session.get_bind().dialect.name == "postgresql":
        function = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
        session.execute(text(f"SELECT {function}(:a, :b)"), {"a": _STUDY_LOCK_CLASS, "b": study_id})
    locked = session.connection().execute(_STUDY_LOCKED_AT, {"study_id": study_id}).scalar()
    if locked is not None:
        raise StudyLockedError(
            f"the study database was locked at {locked:%Y-%m-%d %H:%M} UTC; no data can change",
            field="study",
        )


def lock_row(session: Session, obj: Any) -> None:
    """Lock a stored row ``FOR UPDATE`` (PostgreSQL) and reload it: values and ``version`` are
    then those of the last committed change, and nobody else changes it before this commit.

    Call it after :func:`ensure_study_open` and before the first audit row (the audit chain
    takes its own lock; a row lock taken after it could wait on a transaction that waits for the
    chain). On SQLite it does nothing: the writing transaction holds the database's write lock
    from its first statement (``BEGIN IMMEDIATE``), so a row it read is the last committed
    version and stays so.
    """
    if session.get_bind().dialect.name != "sqlite":
        session.refresh(obj, with_for_update=True)


def lock_subject(session: Session, subject: m.Subject) -> None:
    """Serialize the writes of one subject's data: lock the subject row (see :func:`lock_row`).

    Every use case that writes a subject's clinical records takes this lock first, so derived
    values that depend on the subject's other records (first dose, lab baseline, RECIST series)
    are computed from a set of records no other transaction is changing, and re-deriving a
    dependent record never waits on a row lock held by a transaction that waits for the audit
    chain. Lock order: study (shared) -> subject -> record -> audit chain.
    """
    lock_row(session, subject)


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
    audited_insert_all(session, actor, [obj])
    return obj


def audited_insert_all(session: Session, actor: Actor, objs: Sequence[Any]) -> None:
    """Add new records (one flush) and audit them (one statement), in the caller's transaction.

    Raises
    ------
    ConflictError
        A unique constraint refuses one of them: such a record exists already.
    """
    session.add_all(objs)
    try:
        session.flush()
    except IntegrityError as error:  # a unique constraint: the record exists
        detail = str(error.orig).splitlines()[0]
        tables = list(dict.fromkeys(str(obj.__tablename__) for obj in objs))
        raise ConflictError(
            f"{' or '.join(tables)}: such a record exists already ({detail})", field=tables[0]
        ) from error
    audit.record_all_changes(session, actor, list(objs), reason=None)


def check_fields(model: type[Any], names: Iterable[str]) -> None:
    """Refuse a change of a field ``model`` does not have, or of its bookkeeping columns."""
    columns = {a.key for a in sa_inspect(model).column_attrs}
    for name in names:
        if name not in columns or name in {"id", "version", "created_at", "updated_at"}:
            raise InvalidInputError(
                f"{model.__tablename__} has no editable field {name!r}", field=name
            )


def audited_update(
    session: Session, actor: Actor, obj: Any, changes: Mapping[str, Any], *, reason: str | None
) -> None:
    """Apply ``changes`` to a stored record and audit each changed field with ``reason``.

    Raises
    ------
    InvalidInputError
        A change without a reason, or a field the record does not have.
    ConflictError
        Another transaction changed the record since it was read (its ``version`` moved on).
    """
    audited_update_all(session, actor, [(obj, changes)], reason=reason)


def audited_update_all(
    session: Session,
    actor: Actor,
    updates: Sequence[tuple[Any, Mapping[str, Any]]],
    *,
    reason: str | None,
) -> None:
    """:func:`audited_update` of several records (``(record, changes)`` each): one flush and
    one audit statement for all."""
    for obj, changes in updates:
        check_fields(type(obj), changes)
    # taken before the flush: a failed flush rolls the session back and expires the objects,
    # and reading obj.id then would need the closed transaction
    what = ", ".join(f"{obj.__tablename__} {obj.id}" for obj, _ in updates[:3])
    for obj, changes in updates:
        for name, value in changes.items():
            setattr(obj, name, value)
        changed = [name for name in changes if sa_inspect(obj).attrs[name].history.has_changes()]
        if changed and not (reason and reason.strip()):
            raise InvalidInputError(
                f"a reason is required to change {', '.join(changed)} after first entry",
                field="reason",
            )
    try:
        audit.record_all_changes(session, actor, [obj for obj, _ in updates], reason=reason)
    except StaleDataError as error:
        raise ConflictError(
            f"{what} was changed by someone else meanwhile; reload it", field="version"
        ) from error


def _changed_columns(obj: Any) -> list[str]:
    state = sa_inspect(obj)
    return [a.key for a in state.mapper.column_attrs if state.attrs[a.key].history.has_changes()]


def revise_record(
    session: Session, actor: Actor, obj: Any, changes: Mapping[str, Any], *, reason: str
) -> bool:
    """Change the values of a stored clinical record (an edit or a re-derivation), audited.

    Values already set on ``obj`` (derived values recomputed by the caller) count as changes
    too. When anything changes, a verified or signed record goes back to ``entered``: its
    verification and signature no longer cover the new values, and its current signatures are
    marked superseded (:func:`supersede_signatures`).

    Returns
    -------
    bool
        Whether any value changed (nothing is written otherwise).

    Raises
    ------
    LockedRecordError
        The record is frozen or locked.
    InvalidInputError, ConflictError
        As :func:`audited_update`.
    """
    ensure_editable(obj, str(obj.__tablename__))
    check_fields(type(obj), changes)
    for name, value in changes.items():
        setattr(obj, name, value)
    if not _changed_columns(obj):
        return False
    was_signed = obj.status == "signed"
    status = {"status": "entered"} if obj.status != "entered" else {}
    audited_update(session, actor, obj, {**changes, **status}, reason=reason)
    if was_signed:
        supersede_signatures(session, actor, obj, reason=f"record changed after signing: {reason}")
    return True


def supersede_signatures(session: Session, actor: Actor, obj: Any, *, reason: str) -> int:
    """Mark the current signatures of a record superseded (``superseded_at`` now), audited.

    Called whenever a signed (or frozen) record returns to ``entered``: a record has a current
    signature exactly when its status is ``signed``, ``frozen`` or ``locked``.

    Returns
    -------
    int
        How many signatures were superseded.
    """
    current = session.scalars(
        select(m.Signature).where(
            m.Signature.table_name == obj.__tablename__,
            m.Signature.record_id == obj.id,
            m.Signature.superseded_at.is_(None),
        )
    ).all()
    at = m.utcnow()
    for signature in current:
        audited_update(session, actor, signature, {"superseded_at": at}, reason=reason)
    return len(current)


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
        m.SubsequentTherapy,
        m.Disposition,
        m.Death,
        m.Demographics,
        m.MedicalHistory,
        m.InformedConsent,
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
