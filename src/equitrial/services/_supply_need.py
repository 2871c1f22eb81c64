"""A site's predicted need of kits and its stock, per arm (unblinded: the supply manager's
resupply uses them as they are; a blinded view pools the arms).

The need of a randomized subject still on treatment is the kits of its planned dosing visits
still to come over the horizon, each visit's dose that of the subject's regimen on its day (a
switch re-plans the visits after it), :func:`equitrial.supply.rules.kits_due`. A subject with no
planned visit (randomized before the visit schedule existed) is predicted from its current
regimen's interval instead (:func:`equitrial.supply.rules.doses_due`).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from equitrial.protocol import Protocol
from equitrial.randomization import service as allocation_service
from equitrial.services._kits import DO_NOT_DISPENSE_DAYS, kits_for_regimen
from equitrial.services.schedule import regimen_history
from equitrial.store import models as m
from equitrial.supply.rules import DosingVisit, doses_due, kits_due, usable

__all__ = ["site_needs", "site_stock"]


def _regimen_at(history: Sequence[m.RegimenPeriod], on: dt.date) -> str | None:
    """The regimen of the history on ``on`` (as :func:`~equitrial.services.schedule.regimen_on`,
    without a query per date)."""
    if not history:
        return None
    current = [p for p in history if p.start_date <= on]
    return (current[-1] if current else history[0]).regimen


def _off_treatment(session: Session, subject_id: int, as_of: dt.date) -> bool:
    """An end of treatment or of study, or a death, recorded on or before ``as_of``."""
    ended = select(m.Disposition.id).where(
        m.Disposition.subject_id == subject_id, m.Disposition.date <= as_of
    )
    died = select(m.Death.id).where(m.Death.subject_id == subject_id, m.Death.date <= as_of)
    return session.scalar(ended.limit(1)) is not None or session.scalar(died.limit(1)) is not None


def _subject_need(
    session: Session,
    protocol: Protocol,
    subject: m.Subject,
    first_day: dt.date,
    as_of: dt.date,
    horizon_days: int,
) -> int:
    history = regimen_history(session, subject.id)
    given = sorted(
        d
        for d in session.scalars(select(m.Kit.dispensed_on).where(m.Kit.subject_id == subject.id))
        if d is not None
    )
    planned = [
        v
        for v in session.scalars(
            select(m.Visit).where(m.Visit.subject_id == subject.id, m.Visit.planned.is_(True))
        )
        if v.planned_date is not None and "dosing" in (v.assessments or "").split(",")
    ]
    if planned:
        visits = [
            DosingVisit(
                v.planned_date,
                v.window_start or v.planned_date,
                v.window_end or v.planned_date,
                kits_for_regimen(protocol, _regimen_at(history, v.planned_date)),
                v.actual_date is not None,
            )
            for v in planned
            if v.planned_date is not None
        ]
        return kits_due(visits, given, as_of, horizon_days)
    regimen = protocol.default_regimen
    current = history[-1].regimen if history else None
    for r in protocol.regimens:
        if r.code == current:
            regimen = r
    interval = round(7 * regimen.interval_weeks)
    first = given[0] if given else (history[0].start_date if history else first_day)
    upcoming = given[-1] + dt.timedelta(days=interval) if given else first
    last = first + dt.timedelta(days=round(7 * protocol.max_treatment_weeks) - 1)
    due = doses_due(upcoming, interval, as_of, horizon_days, last)
    return due * kits_for_regimen(protocol, regimen.code)


def site_needs(
    session: Session, protocol: Protocol, site_id: int, as_of: dt.date, horizon_days: int
) -> Counter[str]:
    """Kits each arm's randomized, on-treatment subjects at the site need over the horizon."""
    need: Counter[str] = Counter()
    subjects = session.scalars(
        select(m.Subject)
        .where(m.Subject.site_id == site_id, m.Subject.status == "randomized")
        .order_by(m.Subject.id)
    )
    for subject in subjects:
        slot = allocation_service.allocation_of(session, subject.id)
        if slot is None or slot.allocated_at is None or _off_treatment(session, subject.id, as_of):
            continue
        first_day = slot.allocated_at.date()
        need[slot.arm_code] += _subject_need(
            session, protocol, subject, first_day, as_of, horizon_days
        )
    return need


def site_stock(session: Session, site_id: int, as_of: dt.date) -> Counter[str]:
    """Kits of each arm at the site usable for :data:`DO_NOT_DISPENSE_DAYS` from ``as_of``, plus
    the kits of the shipments on their way to it (requested or shipped)."""
    stock: Counter[str] = Counter()
    for kit in session.scalars(
        select(m.Kit).where(m.Kit.site_id == site_id, m.Kit.kit_status == "available")
    ):
        if usable(kit.expiry, as_of, DO_NOT_DISPENSE_DAYS):
            stock[kit.arm_code] += 1
    coming = (
        select(m.Kit)
        .join(m.Shipment, m.Shipment.id == m.Kit.shipment_id)
        .where(
            m.Shipment.site_id == site_id,
            m.Shipment.shipment_status.in_(("requested", "shipped")),
        )
    )
    for kit in session.scalars(coming):
        stock[kit.arm_code] += 1
    return stock
