"""Use cases of drug supply (RTSM), part 2: dispensing, quarantine, expiry, inventory,
resupply, the supply forecast and kit reconciliation.

Dispensing picks, at the subject's site, the kits of the subject's arm that the dose of its
regimen takes (``ceil(dose_mg / kit_mg)``, ``treatment.kit_mg``) and that stay in date for the
longest dosing interval, first expiry first (:mod:`equitrial.services._kits`, the code path the
randomization also uses for the first dose); site staff see the kits' numbers, lots, expiries
and blinded labels, never an arm. Resupply predicts each site's need per arm from its randomized,
on-treatment subjects' planned dosing visits over a horizon, each at the dose of the subject's
regimen on its day (:mod:`equitrial.services._supply_need`), and requests a shipment when the
usable stock on hand or on its way falls below that need plus a safety stock
(:func:`~equitrial.supply.rules.order_quantities`). Only the supply manager sees arms; the
forecast shows blinded users the need and stock of their sites pooled over the arms.

References: EU GMP Annex 13 (2010) §§ 43-47; ICH E6(R3) 3.15.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from equitrial.errors import ConflictError, InvalidInputError, NotFoundError
from equitrial.randomization import service as allocation_service
from equitrial.services._base import (
    RecordView,
    audited_update,
    audited_update_all,
    ensure_study_open,
    view_of,
)
from equitrial.services._kits import (
    DO_NOT_DISPENSE_DAYS,
    DispensedKit,
    kits_for_regimen,
    lock_site_stock,
    take_kits,
)
from equitrial.services._supply_need import needs_by_site, ship_orders, stock_by_site
from equitrial.services.auth import SUPPLY_ROLES, Actor, require
from equitrial.services.schedule import regimen_on
from equitrial.services.study import current_study, current_study_id, study_protocol
from equitrial.services.subjects import subject_for_write
from equitrial.services.supply import RECEIVING_ROLES
from equitrial.store import models as m
from equitrial.store.db import transaction
from equitrial.supply.rules import order_quantities

__all__ = [
    "DO_NOT_DISPENSE_DAYS",
    "DispensedKit",
    "ForecastRow",
    "InventoryRow",
    "ReconciliationRow",
    "dispense",
    "expire_kits",
    "forecast",
    "inventory",
    "quarantine",
    "reconcile_kits",
    "release",
    "resupply",
]

VIEWERS = frozenset({"monitor", "data-manager"})
"""Blinded study-wide roles that see inventories, forecasts and the reconciliation of every site."""


def dispense(
    engine: Engine, actor: Actor, subject_ref: int | str, on: dt.date, *, kits: int | None = None
) -> list[DispensedKit]:
    """Dispense the kits of one dose of the subject's arm at its site (site staff of that site).

    Parameters
    ----------
    kits
        How many kits; ``None``: what the dose of the subject's regimen on ``on`` takes
        (``ceil(dose_mg / kit_mg)``: 1 for 200 mg Q3W, 2 for 400 mg Q6W with 200 mg kits).

    Raises
    ------
    ConflictError
        The subject is not randomized, or its site holds too few usable kits of its arm (the
        message does not say which arm); nothing is dispensed.
    InvalidInputError
        ``kits`` not a whole number from 1 to 4.
    """
    if kits is not None and (
        isinstance(kits, bool) or not isinstance(kits, int) or not 1 <= kits <= 4
    ):
        raise InvalidInputError("kits: a whole number from 1 to 4", field="kits", value=kits)
    with transaction(engine) as session:
        subject = subject_for_write(session, actor, subject_ref, roles=RECEIVING_ROLES)
        arm = allocation_service.arm_of(session, subject.id)
        if arm is None:
            raise ConflictError(
                f"subject {subject.subject_code} is not randomized; kits are dispensed only "
                "after randomization",
                field="subject",
            )
        if kits is None:
            protocol = study_protocol(subject.study)
            kits = kits_for_regimen(protocol, regimen_on(session, subject.id, on))
        stock = lock_site_stock(session, subject.site_id)
        return take_kits(session, actor, subject, stock, arm, on, kits)


def _kits(session: Session, numbers: Sequence[str]) -> list[m.Kit]:
    found = {
        k.kit_number: k
        for k in session.scalars(
            select(m.Kit).where(m.Kit.kit_number.in_(list(numbers))).with_for_update()
        )
    }
    for number in numbers:
        if number not in found:
            raise NotFoundError(f"no kit {number!r}", field="kits", value=number)
    return [found[n] for n in numbers]


def _set_status(
    engine: Engine, actor: Actor, numbers: Sequence[str], reason: str, before: set[str], after: str
) -> int:
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidInputError("a reason is required", field="reason")
    if not numbers:
        raise InvalidInputError("no kit given", field="kits")
    with transaction(engine) as session:
        ensure_study_open(session, current_study_id(session))
        kits = _kits(session, numbers)
        for kit in kits:
            if not actor.has_role(SUPPLY_ROLES):
                require(actor, roles={"pharmacist"}, site=kit.site_id)
            if kit.kit_status not in before:
                raise ConflictError(
                    f"kit {kit.kit_number} is {kit.kit_status}", field="kits", value=kit.kit_number
                )
            changes = {"kit_status": after, "status_reason": reason}
            audited_update(session, actor, kit, changes, reason=reason)
        return len(kits)


def quarantine(engine: Engine, actor: Actor, numbers: Sequence[str], reason: str) -> int:
    """Hold kits back (a temperature excursion, a recall): the supply manager, or the pharmacist
    of the kits' site. Quarantined kits are not dispensed until released."""
    return _set_status(engine, actor, numbers, reason, {"available", "in-transit"}, "quarantined")


def release(engine: Engine, actor: Actor, numbers: Sequence[str], reason: str) -> int:
    """Release quarantined kits (supply manager only)."""
    require(actor, roles=SUPPLY_ROLES)
    return _set_status(engine, actor, numbers, reason, {"quarantined"}, "available")


def expire_kits(engine: Engine, actor: Actor, as_of: dt.date) -> int:
    """Mark every kit past its expiry on ``as_of`` expired (supply manager); returns how many."""
    require(actor, roles=SUPPLY_ROLES)
    with transaction(engine) as session:
        ensure_study_open(session, current_study_id(session))
        stale = session.scalars(
            select(m.Kit)
            .where(m.Kit.expiry < as_of)
            .where(m.Kit.kit_status.in_(("available", "quarantined")))
            .with_for_update()
        ).all()
        expired = {"kit_status": "expired"}
        audited_update_all(session, actor, [(kit, expired) for kit in stale], reason="past expiry")
        return len(stale)


@dataclass(frozen=True)
class InventoryRow:
    """Kits at one place in one status (and one arm, for the supply manager only)."""

    location: str
    status: str
    arm: str | None
    kits: int


def inventory(engine: Engine, actor: Actor) -> list[InventoryRow]:
    """Kits by location and status; by arm too for the supply manager. Site staff see their
    sites, monitors and data managers every site and depot."""
    unblinded = _require_viewer(actor)
    with transaction(engine, read_only=True) as session:
        sites = {s.id: s.code for s in session.scalars(select(m.Site))}
        depots = {d.id: d.code for d in session.scalars(select(m.Depot))}
        counts: Counter[tuple[str, str, str | None]] = Counter()
        for kit in session.scalars(select(m.Kit)):
            if kit.site_id is not None:
                if actor.site_ids is not None and kit.site_id not in actor.site_ids:
                    continue
                place = f"site {sites[kit.site_id]}"
            elif kit.depot_id is not None:
                if actor.site_ids is not None:
                    continue
                place = f"depot {depots[kit.depot_id]}"
            else:
                place = "in transit"
            counts[(place, kit.kit_status, kit.arm_code if unblinded else None)] += 1
        return [InventoryRow(*key, n) for key, n in sorted(counts.items(), key=str)]


def _require_viewer(actor: Actor) -> bool:
    """Check the actor may see inventories and forecasts; whether it sees arms."""
    unblinded = actor.has_role(SUPPLY_ROLES)
    if not unblinded and actor.site_ids is not None:
        require(actor, roles=RECEIVING_ROLES)
    elif not unblinded:
        require(actor, roles=VIEWERS)
    return unblinded


def _check_horizon(horizon_days: int) -> None:
    if isinstance(horizon_days, bool) or not isinstance(horizon_days, int) or horizon_days < 1:
        raise InvalidInputError("horizon_days: a whole number >= 1", field="horizon_days")


def resupply(
    engine: Engine,
    actor: Actor,
    depot_code: str,
    as_of: dt.date,
    *,
    horizon_days: int = 28,
    safety_stock: int = 2,
) -> list[RecordView]:
    """Request a shipment to every site whose stock falls below its predicted need (supply
    manager).

    The need of an arm is the kits its randomized, on-treatment subjects' planned dosing visits
    take over ``horizon_days`` from ``as_of``, each visit at the dose of the subject's regimen on
    its day (:func:`~equitrial.supply.rules.kits_due`); the stock is the kits at the site usable
    for :data:`DO_NOT_DISPENSE_DAYS` plus those on their way. A site short of an arm is sent
    the difference plus ``safety_stock`` kits of that arm
    (:func:`~equitrial.supply.rules.order_quantities`). Returns the shipments requested.
    """
    require(actor, roles=SUPPLY_ROLES)
    _check_horizon(horizon_days)
    with transaction(engine) as session:
        study = current_study(session)
        ensure_study_open(session, study.id)
        protocol = study_protocol(study)
        arms = [a.code for a in protocol.arms]
        needs = needs_by_site(session, protocol, as_of, horizon_days)
        stocks = stock_by_site(session, as_of)
        orders = []
        for site_id in session.scalars(select(m.Site.id).order_by(m.Site.code)):
            need, stock = needs.get(site_id, Counter()), stocks.get(site_id, Counter())
            order = order_quantities(stock, need, safety_stock, arms)
            if sum(order.values()):
                orders.append((site_id, order))
        shipments = ship_orders(session, actor, depot_code, orders, as_of)
        return [view_of(shipment) for shipment in shipments]


@dataclass(frozen=True)
class ForecastRow:
    """A site's predicted need of kits over the horizon, its stock (usable on hand plus on its
    way) and the shortfall; by arm for the supply manager, pooled (``arm`` None) otherwise."""

    site: str
    arm: str | None
    need: int
    stock: int
    short: int


def forecast(
    engine: Engine, actor: Actor, as_of: dt.date, *, horizon_days: int = 28
) -> list[ForecastRow]:
    """The supply forecast of each site (what :func:`resupply` compares, before the safety
    stock): by arm for the supply manager; pooled over the arms for site staff (their sites),
    monitors and data managers, so that no count of a blinded user's rows reveals an arm (their
    shortfall is the pooled need less the pooled stock, a function of pooled counts only)."""
    unblinded = _require_viewer(actor)
    _check_horizon(horizon_days)
    with transaction(engine, read_only=True) as session:
        protocol = study_protocol(current_study(session))
        arms = [a.code for a in protocol.arms]
        needs = needs_by_site(session, protocol, as_of, horizon_days)
        stocks = stock_by_site(session, as_of)
        rows = []
        for site_id, code in session.execute(select(m.Site.id, m.Site.code).order_by(m.Site.code)):
            if actor.site_ids is not None and site_id not in actor.site_ids:
                continue
            need, stock = needs.get(site_id, Counter()), stocks.get(site_id, Counter())
            if unblinded:
                rows += [
                    ForecastRow(code, arm, need[arm], stock[arm], max(0, need[arm] - stock[arm]))
                    for arm in arms
                ]
            else:
                # pooled figures only: a sum of per-arm shortfalls would tell that the arms'
                # stocks are unbalanced against the subjects' arms
                total, held = sum(need.values()), sum(stock.values())
                rows.append(ForecastRow(code, None, total, held, max(0, total - held)))
        return rows


@dataclass(frozen=True)
class ReconciliationRow:
    """Kit accountability of one site: where every kit it received went, and what disagrees.

    ``doses_with_kit`` counts the doses recorded with a supply kit, ``kits_dosed`` the kits
    those doses account for (a 400 mg dose from 200 mg kits: the 2 kits dispensed together).
    """

    site: str
    received: int
    available: int
    dispensed: int
    damaged: int
    quarantined: int
    expired: int
    doses_with_kit: int
    findings: tuple[str, ...]
    kits_dosed: int = 0


def _reconcile_site(session: Session, site: m.Site) -> ReconciliationRow:
    protocol = study_protocol(current_study(session))
    kits = list(session.scalars(select(m.Kit).where(m.Kit.site_id == site.id).order_by(m.Kit.id)))
    by_number = {k.kit_number: k for k in kits}
    together: dict[tuple[int | None, dt.date | None], list[str]] = {}
    for each in kits:
        if each.kit_status == "dispensed":
            together.setdefault((each.subject_id, each.dispensed_on), []).append(each.kit_number)
    doses = session.execute(
        select(m.Dose, m.Subject.subject_code)
        .join(m.Subject, m.Subject.id == m.Dose.subject_id)
        .where(m.Subject.site_id == site.id)
        .order_by(m.Dose.id)
    ).all()
    findings: list[str] = []
    dosed: set[str] = set()
    n_doses = 0
    for dose, code in doses:
        kit: m.Kit | None = None if dose.kit_number is None else by_number.get(dose.kit_number)
        if kit is None:
            continue  # the kit of the subject's allocation slot (no supply kit), or none
        n_doses += 1
        if kit.subject_id != dose.subject_id:
            findings.append(f"kit {kit.kit_number}: dose of {code} from a kit not dispensed to it")
            dosed.add(kit.kit_number)
            continue
        group = together.get((kit.subject_id, kit.dispensed_on), [kit.kit_number])
        dosed.update(group)
        regimen = dose.regimen or regimen_on(session, dose.subject_id, dose.date)
        needed = kits_for_regimen(protocol, regimen)
        if len(group) < needed:
            findings.append(
                f"dose of {code} on {dose.date}: {regimen} takes {needed} kits, "
                f"{len(group)} dispensed"
            )
    for each in kits:
        if each.kit_status == "dispensed" and each.kit_number not in dosed:
            findings.append(f"kit {each.kit_number}: dispensed, no dose recorded")
    status = Counter(k.kit_status for k in kits)
    return ReconciliationRow(
        site.code, len(kits), status["available"], status["dispensed"], status["damaged"],
        status["quarantined"], status["expired"], n_doses, tuple(findings), len(dosed),
    )  # fmt: skip


def reconcile_kits(engine: Engine, actor: Actor) -> list[ReconciliationRow]:
    """Kit reconciliation per site (supply manager, monitors, data managers; site staff for
    their sites): kits received and their status, doses recorded with a supply kit and the kits
    they account for (every kit dispensed to the subject with the dose's kit, on the same day),
    and findings: a dose recorded with a kit not dispensed to its subject, a dose given from
    fewer kits than its regimen takes, a kit dispensed with no dose recorded."""
    if not actor.has_role(SUPPLY_ROLES | VIEWERS):
        require(actor, roles=RECEIVING_ROLES)
    with transaction(engine, read_only=True) as session:
        return [
            _reconcile_site(session, site)
            for site in session.scalars(select(m.Site).order_by(m.Site.code))
            if actor.site_ids is None or site.id in actor.site_ids
        ]
