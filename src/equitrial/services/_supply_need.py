"""Every site's predicted need of kits and its stock, per arm (unblinded: the supply manager's
resupply uses them as they are; a blinded view pools the arms).

The need of a randomized subject still on treatment is the kits of its planned dosing visits
still to come over the horizon, each visit's dose that of the subject's regimen on its day (a
switch re-plans the visits after it), :func:`equitrial.supply.rules.kits_due`. A subject with no
planned visit (randomized before the visit schedule existed) is predicted from its current
regimen's interval instead (:func:`equitrial.supply.rules.doses_due`).

Both are read for all sites at once, with a fixed number of queries whatever the numbers of
sites and subjects, and only the columns they need (a resupply used to read each site's
subjects, visits and kits as ORM objects, site by site). :func:`ship_orders` then requests the
shipments of all the sites short of kits, reading the depot's kits once per arm.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from typing import NamedTuple, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from equitrial.protocol import Protocol
from equitrial.services._kits import DO_NOT_DISPENSE_DAYS, kits_for_regimen
from equitrial.services.auth import Actor
from equitrial.services.supply import depot_by_code, depot_kits, ship_kits, too_few_kits
from equitrial.store import models as m
from equitrial.supply.rules import DosingVisit, doses_due, kits_due, usable

__all__ = ["needs_by_site", "ship_orders", "stock_by_site"]

_T = TypeVar("_T")


class _Period(NamedTuple):
    """A regimen period of a subject's history."""

    start_date: dt.date
    regimen: str


class _Planned(NamedTuple):
    """A planned visit of a subject, as far as the need goes."""

    planned_date: dt.date | None
    window_start: dt.date | None
    window_end: dt.date | None
    actual_date: dt.date | None
    assessments: str | None


def _regimen_at(history: Sequence[_Period], on: dt.date) -> str | None:
    """The regimen of the history on ``on`` (as :func:`~equitrial.services.schedule.regimen_on`,
    without a query per date)."""
    if not history:
        return None
    current = [p for p in history if p.start_date <= on]
    return (current[-1] if current else history[0]).regimen


class _KitsPerDose(dict[str | None, int]):
    """:func:`~equitrial.services._kits.kits_for_regimen` of each regimen code, computed once."""

    def __init__(self, protocol: Protocol) -> None:
        super().__init__()
        self.protocol = protocol

    def __missing__(self, regimen: str | None) -> int:
        self[regimen] = kits = kits_for_regimen(self.protocol, regimen)
        return kits


def _subject_need(
    protocol: Protocol,
    kits_of: _KitsPerDose,
    history: Sequence[_Period],
    given: list[dt.date],
    planned: list[_Planned] | None,
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
                kits_of[_regimen_at(history, v.planned_date)],
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
    return due * kits_of[regimen.code]


def _grouped(rows: Iterable[tuple[int, _T]]) -> dict[int, list[_T]]:
    out: dict[int, list[_T]] = defaultdict(list)
    for key, value in rows:
        out[key].append(value)
    return out


def needs_by_site(
    session: Session, protocol: Protocol, as_of: dt.date, horizon_days: int
) -> dict[int, Counter[str]]:
    """Kits each arm's randomized, on-treatment subjects at each site need over the horizon,
    by site id (a site without such subjects is left out).

    Six queries at most, whatever the numbers of sites and subjects: the subjects with their
    sites, allocations and whether they have a planned dosing visit, the ends of treatment or
    of study and deaths by ``as_of``, the regimen histories, the planned visits that may fall
    in the horizon, and the days kits were dispensed that the need looks at (:func:`_given`).
    """
    dosing_plan = (
        select(m.Visit.id)
        .where(m.Visit.subject_id == m.Subject.id, m.Visit.planned.is_(True))
        .where(m.Visit.assessments.like("%dosing%"))
        .exists()
    )
    rows = session.execute(
        select(
            m.Subject.site_id,
            m.Subject.id,
            m.RandomizationSchedule.arm_code,
            m.RandomizationSchedule.allocated_at,
            dosing_plan,
        )
        .join(m.RandomizationSchedule, m.RandomizationSchedule.subject_id == m.Subject.id)
        .where(m.Subject.status == "randomized")
        .where(m.RandomizationSchedule.allocated_at.is_not(None))
        .order_by(m.Subject.id)
    ).all()
    if not rows:
        return {}
    ended = _ended(session, as_of)
    histories = _grouped(
        (subject_id, _Period(start, regimen))
        for subject_id, start, regimen in session.execute(
            select(
                m.RegimenPeriod.subject_id, m.RegimenPeriod.start_date, m.RegimenPeriod.regimen
            ).order_by(m.RegimenPeriod.start_date, m.RegimenPeriod.id)
        )
    )
    with_plan = {r[1] for r in rows if r[4]}
    planned = _planned(session, as_of, horizon_days)
    unplanned = {r[1] for r in rows if not r[4] and r[1] not in ended}
    given = _given(session, planned, unplanned)
    kits_of = _KitsPerDose(protocol)
    need: dict[int, Counter[str]] = defaultdict(Counter)
    for site_id, subject_id, arm, allocated_at, _ in rows:
        if subject_id in ended or allocated_at is None:
            continue
        history = histories.get(subject_id, [])
        visits = planned.get(subject_id, []) if subject_id in with_plan else None
        need[site_id][arm] += _subject_need(
            protocol, kits_of, history, given.get(subject_id, []), visits, allocated_at.date(),
            as_of, horizon_days,
        )  # fmt: skip
    return dict(need)


def _ended(session: Session, as_of: dt.date) -> set[int]:
    """The subjects whose treatment or study ended, or who died, by ``as_of``."""
    return set(
        session.scalars(select(m.Disposition.subject_id).where(m.Disposition.date <= as_of))
    ) | set(session.scalars(select(m.Death.subject_id).where(m.Death.date <= as_of)))


def _planned(session: Session, as_of: dt.date, horizon_days: int) -> dict[int, list[_Planned]]:
    """Each subject's planned visits that may fall in the horizon (window not closed before
    ``as_of``, day not after the horizon)."""
    end = as_of + dt.timedelta(days=horizon_days)
    return _grouped(
        (subject_id, _Planned(planned_date, opens, closes, actual_date, assessments))
        for subject_id, planned_date, opens, closes, actual_date, assessments in session.execute(
            select(
                m.Visit.subject_id,
                m.Visit.planned_date,
                m.Visit.window_start,
                m.Visit.window_end,
                m.Visit.actual_date,
                m.Visit.assessments,
            ).where(
                m.Visit.planned.is_(True),
                func.coalesce(m.Visit.window_end, m.Visit.planned_date) >= as_of,
                m.Visit.planned_date <= end,
            )
        )
    )


def _given(
    session: Session, planned: dict[int, list[_Planned]], unplanned: set[int]
) -> dict[int, list[dt.date]]:
    """The days kits were dispensed to each subject, first to last, as far as its need looks
    at them: those within the window of one of ``planned`` (:func:`kits_due` looks no further),
    and the first and last day of a subject of ``unplanned`` (predicted from its regimen's
    interval: :func:`_subject_need` takes no other). Not every kit the trial ever dispensed."""
    given: dict[int, list[dt.date]] = defaultdict(list)
    windows = [
        day
        for visits in planned.values()
        for v in visits
        if v.planned_date is not None
        for day in (v.window_start or v.planned_date, v.window_end or v.planned_date)
    ]
    if windows:
        dispensed = session.execute(
            select(m.Kit.subject_id, m.Kit.dispensed_on)
            .where(m.Kit.dispensed_on.between(min(windows), max(windows)))
            .order_by(m.Kit.dispensed_on)
        )
        for subject_id, day in dispensed:
            if subject_id and day:
                given[int(subject_id)].append(day)
    if unplanned:
        first_last = session.execute(
            select(m.Kit.subject_id, func.min(m.Kit.dispensed_on), func.max(m.Kit.dispensed_on))
            .where(m.Kit.subject_id.is_not(None), m.Kit.dispensed_on.is_not(None))
            .group_by(m.Kit.subject_id)
        )
        for subject_id, first, last in first_last:
            if subject_id in unplanned and first and last:
                given[subject_id] = [first, last]
    return dict(given)


def stock_by_site(session: Session, as_of: dt.date) -> dict[int, Counter[str]]:
    """Kits of each arm at each site usable for :data:`DO_NOT_DISPENSE_DAYS` from ``as_of``,
    plus the kits of the shipments on their way to it (requested or shipped), by site id (a
    site with neither is left out). Two queries."""
    stock: dict[int, Counter[str]] = defaultdict(Counter)
    on_hand = session.execute(
        select(m.Kit.site_id, m.Kit.arm_code, m.Kit.expiry).where(
            m.Kit.site_id.is_not(None), m.Kit.kit_status == "available"
        )
    )
    for site_id, arm, expiry in on_hand:
        if site_id is not None and usable(expiry, as_of, DO_NOT_DISPENSE_DAYS):
            stock[site_id][arm] += 1
    in_flight = select(m.Shipment.id).where(
        m.Shipment.shipment_status.in_(("requested", "shipped"))
    )
    coming = (
        select(m.Shipment.site_id, m.Kit.arm_code, func.count())
        .join(m.Shipment, m.Shipment.id == m.Kit.shipment_id)
        .where(m.Kit.shipment_id.in_(in_flight))
        .group_by(m.Shipment.site_id, m.Kit.arm_code)
    )
    for site_id, arm, n in session.execute(coming):
        stock[site_id][arm] += n
    return dict(stock)


def ship_orders(
    session: Session,
    actor: Actor,
    depot_code: str,
    orders: list[tuple[int, dict[str, int]]],
    on: dt.date,
) -> list[m.Shipment]:
    """Request the resupply shipments ``(site id, kits of each arm)`` from the depot, site after
    site, each as :func:`~equitrial.services.supply.request_shipment` would (the same kits,
    numbers and audit rows, the same refusal of a depot short of kits), reading the depot's
    kits once per arm for all of them; the caller has checked the study open."""
    if not orders:
        return []
    depot = depot_by_code(session, depot_code)
    arms = sorted({arm for _, order in orders for arm, n in order.items() if n})
    # the kits the shipments take, in the order one query per shipment would take them
    queue = {
        arm: depot_kits(
            session, depot.id, arm, on, DO_NOT_DISPENSE_DAYS, sum(o[arm] for _, o in orders)
        )[::-1]
        for arm in arms
    }
    shipments = []
    for site_id, order in orders:
        chosen = []
        for arm, n in sorted(order.items()):
            if n == 0:
                continue
            if len(queue[arm]) < n:
                raise too_few_kits(depot_code)
            chosen += [queue[arm].pop() for _ in range(n)]
        shipments.append(ship_kits(session, actor, depot.id, site_id, chosen, on, "resupply"))
    return shipments
