"""Use cases of data queries: open, answer, close, list; and the queries the edit checks open.

A query is about one field of one record: ``open`` -> ``answered`` (site staff reply) ->
``closed`` (the data manager or monitor accepts), or back to ``open`` when the answer does not
settle it. Every step adds a message to the query's thread and an audit row.

Queries are part of the study's data: once the study database is locked none is opened,
answered, closed or reopened (:func:`~equitrial.services._base.ensure_study_open`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from equitrial.errors import ConflictError, InvalidInputError, UnknownOptionError
from equitrial.services._base import (
    RECORD_MODELS,
    audited_insert,
    audited_update,
    ensure_study_open,
    get,
    lock_row,
    record,
    subject_of,
)
from equitrial.services.auth import ROLES, Actor, require
from equitrial.services.checks import Finding
from equitrial.services.subjects import SITE_STAFF, subject_for_read
from equitrial.store import models as m
from equitrial.store.db import transaction

__all__ = [
    "REVIEWERS",
    "QueryRow",
    "QueryView",
    "answer_query",
    "close_query",
    "list_queries",
    "open_queries_for",
    "open_query",
    "query_thread",
    "reopen_query",
]

REVIEWERS = frozenset({"data-manager", "monitor"})
"""Roles that raise and close queries."""


@dataclass(frozen=True)
class QueryView:
    """A query and its thread as ``(username, time, text)`` messages."""

    id: int
    table_name: str
    record_id: int
    field: str | None
    rule: str | None
    message: str
    status: str
    thread: tuple[tuple[str, dt.datetime, str], ...]


def _view(session: Session, query: m.Query) -> QueryView:
    rows = session.execute(
        select(m.User.username, m.QueryMessage.at, m.QueryMessage.text)
        .outerjoin(m.User, m.User.id == m.QueryMessage.user_id)
        .where(m.QueryMessage.query_id == query.id)
        .order_by(m.QueryMessage.id)
    ).all()
    thread = tuple((u or "system", at, text) for u, at, text in rows)
    return QueryView(
        query.id,
        query.table_name,
        query.record_id,
        query.field,
        query.rule,
        query.message,
        query.status,
        thread,
    )


def _say(session: Session, actor: Actor, query: m.Query, text: str) -> None:
    if not text or not text.strip():
        raise InvalidInputError("the message is empty", field="text")
    message = m.QueryMessage(query_id=query.id, user_id=actor.user_id, text=text)
    audited_insert(session, actor, message)


def open_queries_for(
    session: Session, actor: Actor, obj: object, findings: Iterable[Finding]
) -> tuple[int, ...]:
    """Open one query per implausible finding on a just-saved record (caller's transaction)."""
    ids = []
    for finding in findings:
        query = m.Query(
            table_name=obj.__tablename__,  # type: ignore[attr-defined]
            record_id=obj.id,  # type: ignore[attr-defined]
            field=finding.field,
            rule=finding.rule,
            message=finding.message,
            status="open",
            opened_by=actor.user_id,
        )
        audited_insert(session, actor, query)
        ids.append(query.id)
    return tuple(ids)


def _query_in_scope(
    session: Session, actor: Actor, query_id: int, roles: frozenset[str], *, write: bool = False
) -> m.Query:
    query = get(session, m.Query, query_id, "query")
    subject = subject_of(session, record(session, query.table_name, query.record_id))
    require(actor, roles=roles, site=subject.site_id)
    if write:
        ensure_study_open(session, subject.study_id)
        lock_row(session, query)  # two steps on one query at once: the second sees the first
    return query


def open_query(
    engine: Engine, actor: Actor, table: str, record_id: int, field: str, message: str
) -> QueryView:
    """Raise a manual query on a field of a record (data manager or monitor)."""
    with transaction(engine) as session:
        obj = record(session, table, record_id)
        subject = subject_of(session, obj)
        require(actor, roles=REVIEWERS, site=subject.site_id)
        ensure_study_open(session, subject.study_id)
        if not message or not message.strip():
            raise InvalidInputError("the query message is empty", field="message")
        finding = Finding(field, "manual", message, "implausible")
        (query_id,) = open_queries_for(session, actor, obj, [finding])
        query = get(session, m.Query, query_id, "query")
        _say(session, actor, query, message)
        return _view(session, query)


def _move(
    engine: Engine,
    actor: Actor,
    query_id: int,
    text: str,
    *,
    roles: frozenset[str],
    allowed_from: tuple[str, ...],
    to: str,
) -> QueryView:
    with transaction(engine) as session:
        query = _query_in_scope(session, actor, query_id, roles, write=True)
        if query.status not in allowed_from:
            raise ConflictError(
                f"query {query.id} is {query.status}; it can become {to} only when "
                f"{' or '.join(allowed_from)}",
                field="status",
                value=query.status,
            )
        audited_update(session, actor, query, {"status": to}, reason=text)
        _say(session, actor, query, text)
        return _view(session, query)


def answer_query(engine: Engine, actor: Actor, query_id: int, text: str) -> QueryView:
    """Answer an open query (investigator or coordinator of the subject's site)."""
    return _move(
        engine, actor, query_id, text, roles=SITE_STAFF, allowed_from=("open",), to="answered"
    )


def close_query(engine: Engine, actor: Actor, query_id: int, text: str) -> QueryView:
    """Close an answered query (data manager or monitor)."""
    return _move(
        engine, actor, query_id, text, roles=REVIEWERS, allowed_from=("answered",), to="closed"
    )


def reopen_query(engine: Engine, actor: Actor, query_id: int, text: str) -> QueryView:
    """Send an answered query back to the site (data manager or monitor)."""
    return _move(
        engine, actor, query_id, text, roles=REVIEWERS, allowed_from=("answered",), to="open"
    )


def query_thread(engine: Engine, actor: Actor, query_id: int) -> QueryView:
    """A query and its thread (any role at the subject's site)."""
    with transaction(engine, read_only=True) as session:
        return _view(session, _query_in_scope(session, actor, query_id, frozenset(ROLES)))


@dataclass(frozen=True)
class QueryRow:
    """A query in a listing: where it is (subject, table, record, field), its rule, status,
    message, and when it was opened."""

    id: int
    subject_code: str
    table_name: str
    record_id: int
    field: str | None
    rule: str | None
    status: str
    message: str
    opened_at: dt.datetime


def _subjects_of(session: Session, queries: list[m.Query]) -> dict[tuple[str, int], int]:
    """The subject id of each queried record, by ``(table, record id)``: one query per table."""
    wanted: dict[str, set[int]] = {}
    for query in queries:
        wanted.setdefault(query.table_name, set()).add(query.record_id)
    found: dict[tuple[str, int], int] = {}
    for table, ids in wanted.items():
        model: type[object] | None = RECORD_MODELS.get(table)
        if model is None:
            continue
        if model is m.LesionMeasurement:
            statement = (
                select(m.LesionMeasurement.id, m.Lesion.subject_id)
                .join(m.Lesion, m.Lesion.id == m.LesionMeasurement.lesion_id)
                .where(m.LesionMeasurement.id.in_(ids))
            )
        else:
            statement = select(model.id, model.subject_id).where(  # type: ignore[attr-defined]
                model.id.in_(ids)  # type: ignore[attr-defined]
            )
        found |= {(table, int(rid)): int(sid) for rid, sid in session.execute(statement)}
    return found


def list_queries(
    engine: Engine,
    actor: Actor,
    *,
    subject: int | str | None = None,
    status: str | None = None,
) -> list[QueryRow]:
    """The queries the actor may see, oldest first (any role; a role limited to some sites sees
    the queries of those sites' subjects only).

    Parameters
    ----------
    subject
        Only the queries on this subject's records (id or code; the actor must see it).
    status : {"open", "answered", "closed", None}
        Only the queries in this status; ``None``: all.

    Raises
    ------
    UnknownOptionError
        ``status`` not among the statuses.
    PermissionDeniedError
        No role, or ``subject`` at a site the actor has no role at.
    """
    if status is not None and status not in m.QUERY_STATUSES:
        raise UnknownOptionError(
            f"status {status!r}; expected one of {', '.join(m.QUERY_STATUSES)}",
            field="status",
            value=status,
        )
    require(actor, roles=ROLES)
    with transaction(engine, read_only=True) as session:
        only = None if subject is None else subject_for_read(session, actor, subject).id
        statement = select(m.Query).order_by(m.Query.id)
        if status is not None:
            statement = statement.where(m.Query.status == status)
        queries = list(session.scalars(statement))
        owners = _subjects_of(session, queries)
        sites = actor.sites_with(ROLES)
        subjects = {
            s.id: s
            for s in session.scalars(
                select(m.Subject).where(m.Subject.id.in_(set(owners.values())))
            )
        }
        rows = []
        for query in queries:
            owner = subjects.get(owners.get((query.table_name, query.record_id), -1))
            if owner is None or (only is not None and owner.id != only):
                continue
            if sites is not None and owner.site_id not in sites:
                continue
            rows.append(
                QueryRow(
                    query.id,
                    owner.subject_code,
                    query.table_name,
                    query.record_id,
                    query.field,
                    query.rule,
                    query.status,
                    query.message,
                    query.opened_at,
                )
            )
        return rows
