"""Use cases of the visit schedule: plan at randomization, switch regimen.

At randomization (in the same transaction, :func:`plan_at_randomization`) the protocol's schedule
becomes the subject's planned ``visit`` rows, with their windows, for the regimen chosen, and the
regimen is written to the subject's regimen history (``regimen_period``). A switch
(:func:`switch_regimen`) appends to that history and re-plans the visits on or after the switch
that hold no data yet; visits before it, and visits with data, stay. Every write is audited.
The report of overdue visits and missing forms is :mod:`equitrial.services.overdue`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, cast

from sqlalchemy import Table, bindparam, func, insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from equitrial.errors import ConflictError, InvalidInputError, NotFoundError
from equitrial.protocol import Protocol, Regimen
from equitrial.services._base import audited_insert, ensure_editable, lock_subject
from equitrial.services._visit_plan import PlannedRow, plan_rows
from equitrial.services.auth import Actor
from equitrial.services.study import protocol_of, study_protocol
from equitrial.services.subjects import subject_for_write
from equitrial.store import audit
from equitrial.store import models as m
from equitrial.store.db import transaction

__all__ = [
    "SWITCH_ROLES",
    "RegimenSwitch",
    "plan_at_randomization",
    "planned_visit",
    "regimen_history",
    "regimen_on",
    "switch_regimen",
]

SWITCH_ROLES = frozenset({"investigator"})
"""Who switches a subject's regimen: an investigator of the subject's site (a medical decision)."""


@dataclass(frozen=True)
class RegimenSwitch:
    """The result of a switch: the new regimen from ``effective`` on and the visits re-planned."""

    subject: str
    regimen: str
    effective: dt.date
    removed: int
    added: int


def _regimen(protocol: Protocol, code: str | None) -> Regimen:
    if code is None:
        return protocol.default_regimen
    try:
        return protocol.regimen(code)
    except NotFoundError as error:
        raise InvalidInputError(error.message, field="regimen", value=code) from error


_REGIMEN_HISTORY: Final = (
    select(m.RegimenPeriod)
    .where(m.RegimenPeriod.subject_id == bindparam("subject_id"))
    .order_by(m.RegimenPeriod.start_date, m.RegimenPeriod.id)
)
_PERIOD: Final = m.RegimenPeriod.__table__.c
_LATEST_REGIMEN: Final = (
    select(_PERIOD.regimen)
    .where(_PERIOD.subject_id == bindparam("subject_id"))
    .order_by(_PERIOD.start_date.desc(), _PERIOD.id.desc())
    .limit(1)
)
_REGIMEN_ON: Final = select(
    func.coalesce(
        _LATEST_REGIMEN.where(_PERIOD.start_date <= bindparam("on")).scalar_subquery(),
        select(_PERIOD.regimen)
        .where(_PERIOD.subject_id == bindparam("subject_id"))
        .order_by(_PERIOD.start_date, _PERIOD.id)
        .limit(1)
        .scalar_subquery(),
    )
)
"""The regimen of the latest period started on or before ``on`` (ties: the latest row), else
of the first period: :func:`regimen_on` in one query, without loading the history."""
_VISITS: Final = cast(Table, m.Visit.__table__)
_INSERT_VISITS: Final = insert(_VISITS).returning(_VISITS.c.id, sort_by_parameter_order=True)
"""Planned visits in one Core statement (no ORM bulk insert: nothing of the session's state
needs them), their ids in the order of the rows."""
_PLANNED_VISIT: Final = select(m.Visit).where(
    m.Visit.subject_id == bindparam("subject_id"),
    m.Visit.name == bindparam("name"),
    m.Visit.planned.is_(True),
)


def regimen_history(session: Session, subject_id: int) -> list[m.RegimenPeriod]:
    """The subject's regimen periods in the order they apply (start date, then entry)."""
    return list(session.scalars(_REGIMEN_HISTORY, {"subject_id": subject_id}))


def day_one(session: Session, subject_id: int) -> dt.date | None:
    """Day 1 of the subject's schedule, its randomization date as a clinical date (the start of
    its first regimen period, set at randomization); ``None`` before randomization.

    Clinical dates are checked against this date, not against the allocation's timestamp
    (``allocated_at``, when the system randomized): a site may randomize on a day and enter
    its data on later days, and the virtual trial enters a whole past study today.
    """
    history = regimen_history(session, subject_id)
    return history[0].start_date if history else None


def regimen_on(session: Session, subject_id: int, on: dt.date | None = None) -> str | None:
    """The subject's regimen on ``on`` (``None``: its latest); ``None`` before any period.

    A date before the first period gives the first regimen (a dose dated before day 1).
    """
    connection = session.connection()
    if on is None:
        return connection.execute(_LATEST_REGIMEN, {"subject_id": subject_id}).scalar()
    return connection.execute(_REGIMEN_ON, {"subject_id": subject_id, "on": on}).scalar()


def planned_visit(session: Session, subject_id: int, name: str) -> m.Visit | None:
    """The subject's planned visit named ``name`` (``None``: no such planned visit)."""
    return session.scalar(_PLANNED_VISIT, {"subject_id": subject_id, "name": name})


def _insert_visits(
    session: Session, actor: Actor, subject_id: int, plan: Sequence[PlannedRow], reason: str
) -> int:
    """Insert planned visits in one statement and audit each as one whole-row audit row."""
    if not plan:
        return 0
    now = m.utcnow()
    rows = [
        {
            "subject_id": subject_id,
            "name": row.name,
            "planned_date": row.planned_date,
            "actual_date": None,
            "window_status": None,
            "window_start": row.window_start,
            "window_end": row.window_end,
            "planned": True,
            "assessments": row.assessments_text,
            "status": "entered",
            "version": 1,
            "created_at": now,
            "updated_at": now,
        }
        for row in plan
    ]
    ids = session.connection().execute(_INSERT_VISITS, rows).scalars().all()
    return audit.append_rows(
        session, actor, "visit", list(zip(ids, rows, strict=True)), reason=reason
    )


def plan_at_randomization(
    session: Session, actor: Actor, subject: m.Subject, regimen: str | None, day1: dt.date
) -> str:
    """Write the subject's first regimen period and planned visits (in the caller's transaction).

    Parameters
    ----------
    session, actor
        The randomization's transaction and who randomizes.
    subject
        The subject just randomized.
    regimen
        Code of the regimen chosen; ``None``: the protocol's default.
    day1
        Day 1 (week 0) of the schedule.

    Returns
    -------
    str
        The regimen's code.

    Raises
    ------
    InvalidInputError
        ``regimen`` is not one of the protocol's regimens (``field="regimen"``).
    """
    protocol = protocol_of(session, subject.study_id)
    chosen = _regimen(protocol, regimen)
    period = m.RegimenPeriod(
        subject_id=subject.id, regimen=chosen.code, start_date=day1, reason="randomized"
    )
    audited_insert(session, actor, period)
    why = f"planned at randomization ({chosen.code}: {chosen.label})"
    _insert_visits(session, actor, subject.id, plan_rows(protocol, chosen, day1), why)
    return chosen.code


def _visit_ids_with_data(session: Session, subject_id: int) -> set[int]:
    """Visits of the subject that hold data: an actual date, a dose or a PK sample."""
    with_date = select(m.Visit.id).where(
        m.Visit.subject_id == subject_id, m.Visit.actual_date.is_not(None)
    )
    ids = set(session.scalars(with_date))
    for model in (m.Dose, m.PKSample):
        linked = select(model.visit_id).where(
            model.subject_id == subject_id, model.visit_id.is_not(None)
        )
        ids |= {v for v in session.scalars(linked) if v is not None}
    return ids


def _same(visit: m.Visit, row: PlannedRow) -> bool:
    return (visit.planned_date, visit.window_start, visit.window_end, visit.assessments) == (
        row.planned_date,
        row.window_start,
        row.window_end,
        row.assessments_text,
    )


def _replan(
    session: Session,
    actor: Actor,
    subject: m.Subject,
    plan: Sequence[PlannedRow],
    effective: dt.date,
    reason: str,
) -> tuple[int, int]:
    """Replace the planned visits from ``effective`` on that hold no data; (removed, added)."""
    with_data = _visit_ids_with_data(session, subject.id)
    future = session.scalars(
        select(m.Visit).where(
            m.Visit.subject_id == subject.id,
            m.Visit.planned.is_(True),
            m.Visit.planned_date >= effective,
        )
    ).all()
    wanted = {row.name: row for row in plan}
    removed = 0
    for visit in future:
        if visit.id in with_data or (visit.name in wanted and _same(visit, wanted[visit.name])):
            continue
        ensure_editable(visit, "visit")
        session.delete(visit)
        audit.record_changes(session, actor, visit, reason=reason)
        removed += 1
    names = set(session.scalars(select(m.Visit.name).where(m.Visit.subject_id == subject.id)))
    added = [row for row in plan if row.name not in names]
    _insert_visits(session, actor, subject.id, added, reason)
    return removed, len(added)


def switch_regimen(
    engine: Engine,
    actor: Actor,
    subject: int | str,
    regimen: str,
    *,
    effective: dt.date,
    reason: str,
) -> RegimenSwitch:
    """Switch a randomized subject to another regimen from ``effective`` on (investigator).

    The switch is appended to the subject's regimen history (audited, with the reason); the
    planned visits on or after ``effective`` that hold no data are re-planned for the new
    regimen (its first infusion on ``effective``, the maximum duration still counted from day
    1); earlier visits and visits with data stay as they are.

    Raises
    ------
    InvalidInputError
        No reason; an unknown regimen; ``effective`` before the current period's start.
    ConflictError
        The protocol does not allow switches; the subject is not randomized or already on
        ``regimen``.
    PermissionDeniedError
        Not an investigator of the subject's site.
    StudyLockedError
    """
    if not (reason and reason.strip()):
        raise InvalidInputError("a regimen switch needs its reason", field="reason")
    with transaction(engine) as session:
        row = subject_for_write(session, actor, subject, SWITCH_ROLES)
        lock_subject(session, row)
        protocol = study_protocol(row.study)
        if not protocol.treatment.switch_allowed:
            raise ConflictError(
                "the protocol does not allow a switch of regimen (treatment.switch_allowed)",
                field="regimen",
                value=regimen,
            )
        new = _regimen(protocol, regimen)
        history = regimen_history(session, row.id)
        if not history or row.status != "randomized":
            raise ConflictError(
                f"subject {row.subject_code} is not on treatment (status {row.status})",
                field="subject",
                value=row.subject_code,
            )
        current = history[-1]
        if new.code == current.regimen:
            raise ConflictError(
                f"subject {row.subject_code} is already on {new.code}", field="regimen"
            )
        if effective < current.start_date:
            raise InvalidInputError(
                f"effective date {effective} is before the current regimen's start "
                f"({current.start_date})",
                field="effective",
                value=effective,
            )
        why = f"regimen {current.regimen} -> {new.code}: {reason}"
        period = m.RegimenPeriod(
            subject_id=row.id, regimen=new.code, start_date=effective, reason=reason
        )
        audited_insert(session, actor, period)
        plan = plan_rows(protocol, new, history[0].start_date, regimen_start=effective)
        removed, added = _replan(session, actor, row, plan, effective, why)
        return RegimenSwitch(row.subject_code, new.code, effective, removed, added)
