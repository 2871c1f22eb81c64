"""Test oracle of the drug supply's resupply: the site-by-site code that
:mod:`equitrial.services._supply_need` and the resupply replaced (equitrial before the grouped
queries), kept as a slow, obviously correct reference.

:func:`site_needs` and :func:`site_stock` read one site with a few queries each, its subjects'
visits and kits as ORM objects; :func:`resupply_site_by_site` requests each site's shipment with
:func:`~equitrial.services.supply.reserve_shipment`, one depot query per arm and shipment. The
grouped code must give every site the same need and stock, and the same shipments, kits and
audit rows.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from typing import TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from equitrial.protocol import Protocol
from equitrial.services._kits import DO_NOT_DISPENSE_DAYS, kits_for_regimen
from equitrial.services.auth import Actor
from equitrial.services.study import current_study, study_protocol
from equitrial.services.supply import reserve_shipment
from equitrial.store import models as m
from equitrial.supply.rules import DosingVisit, doses_due, kits_due, order_quantities, usable

_T = TypeVar("_T")


def _regimen_at(history: Sequence[m.RegimenPeriod], on: dt.date) -> str | None:
    """The regimen of the history on ``on`` (as :func:`~equitrial.services.schedule.regimen_on`,
    without a query per date)."""
    if not history:
        return None
    current = [p for p in history if p.start_date <= on]
    return (current[-1] if current else history[0]).regimen


def _subject_need(
    protocol: Protocol,
    history: Sequence[m.RegimenPeriod],
    given: list[dt.date],
    planned: list[m.Visit] | None,
    first_day: dt.date,
    as_of: dt.date,
    horizon_days: int,
) -> int:
    """Kits one subject needs over the horizon: from its planned dosing visits still to come
    (``planned``: those that may fall in the horizon; ``None`` when the subject has no planned
    visit at all), else from its current regimen's interval."""
    if planned is not None:
        visits = [
            DosingVisit(
                v.planned_date,
                v.window_start or v.planned_date,
                v.window_end or v.planned_date,
                kits_for_regimen(protocol, _regimen_at(history, v.planned_date)),
                v.actual_date is not None,
            )
            for v in planned
            if v.planned_date is not None and "dosing" in (v.assessments or "").split(",")
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


def _grouped(rows: Iterable[tuple[int, _T]]) -> dict[int, list[_T]]:
    out: dict[int, list[_T]] = defaultdict(list)
    for key, value in rows:
        out[key].append(value)
    return out


def site_needs(
    session: Session, protocol: Protocol, site_id: int, as_of: dt.date, horizon_days: int
) -> Counter[str]:
    """Kits each arm's randomized, on-treatment subjects at the site need over the horizon.

    A few queries per site, whatever its number of subjects: the subjects with their
    allocations, the ends of treatment or of study and deaths by ``as_of``, the regimen
    histories, the kits dispensed, and the planned visits that may fall in the horizon.
    """
    rows = session.execute(
        select(m.Subject.id, m.RandomizationSchedule.arm_code, m.RandomizationSchedule.allocated_at)
        .join(m.RandomizationSchedule, m.RandomizationSchedule.subject_id == m.Subject.id)
        .where(m.Subject.site_id == site_id, m.Subject.status == "randomized")
        .where(m.RandomizationSchedule.allocated_at.is_not(None))
        .order_by(m.Subject.id)
    ).all()
    ids = [r[0] for r in rows]
    if not ids:
        return Counter()
    ended = set(session.scalars(
        select(m.Disposition.subject_id).where(
            m.Disposition.subject_id.in_(ids), m.Disposition.date <= as_of
        )
    )) | set(session.scalars(
        select(m.Death.subject_id).where(m.Death.subject_id.in_(ids), m.Death.date <= as_of)
    ))  # fmt: skip
    histories = _grouped(
        (p.subject_id, p)
        for p in session.scalars(
            select(m.RegimenPeriod)
            .where(m.RegimenPeriod.subject_id.in_(ids))
            .order_by(m.RegimenPeriod.start_date, m.RegimenPeriod.id)
        )
    )
    dispensed = session.execute(
        select(m.Kit.subject_id, m.Kit.dispensed_on)
        .where(m.Kit.subject_id.in_(ids), m.Kit.dispensed_on.is_not(None))
        .order_by(m.Kit.dispensed_on)
    )
    given: dict[int, list[dt.date]] = _grouped(
        (int(subject_id), day) for subject_id, day in dispensed if subject_id and day
    )
    with_plan = set(session.scalars(
        select(m.Visit.subject_id).where(
            m.Visit.subject_id.in_(ids),
            m.Visit.planned.is_(True),
            m.Visit.assessments.like("%dosing%"),
        ).distinct()
    ))  # fmt: skip
    end = as_of + dt.timedelta(days=horizon_days)
    planned = _grouped(
        (v.subject_id, v)
        for v in session.scalars(
            select(m.Visit).where(
                m.Visit.subject_id.in_(ids),
                m.Visit.planned.is_(True),
                func.coalesce(m.Visit.window_end, m.Visit.planned_date) >= as_of,
                m.Visit.planned_date <= end,
            )
        )
    )
    need: Counter[str] = Counter()
    for subject_id, arm, allocated_at in rows:
        if subject_id in ended or allocated_at is None:
            continue
        history = histories.get(subject_id, [])
        visits = planned.get(subject_id, []) if subject_id in with_plan else None
        need[arm] += _subject_need(
            protocol, history, given.get(subject_id, []), visits, allocated_at.date(), as_of,
            horizon_days,
        )  # fmt: skip
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


def resupply_site_by_site(
    session: Session,
    actor: Actor,
    depot_code: str,
    as_of: dt.date,
    horizon_days: int,
    safety_stock: int,
) -> list[m.Shipment]:
    """The resupply's body as it was: need, stock, order and shipment, one site after another."""
    protocol = study_protocol(current_study(session))
    arms = [a.code for a in protocol.arms]
    requested = []
    for site in session.scalars(select(m.Site).order_by(m.Site.code)).all():
        need = site_needs(session, protocol, site.id, as_of, horizon_days)
        stock = site_stock(session, site.id, as_of)
        order = order_quantities(stock, need, safety_stock, arms)
        if sum(order.values()):
            shipment = reserve_shipment(
                session, actor, depot_code, site.code, order, as_of, "resupply",
                DO_NOT_DISPENSE_DAYS,
            )  # fmt: skip
            requested.append(shipment)
    return requested
