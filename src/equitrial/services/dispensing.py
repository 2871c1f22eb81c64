"""Use cases of drug supply (RTSM), part 2: dispensing, quarantine, expiry, inventory,
resupply and kit reconciliation.

Dispensing picks, at the subject's site, a kit of the subject's arm that stays in date for the
dosing interval, first expiry first (:func:`equitrial.supply.rules.choose_kit`); site staff see
the kit's number, lot, expiry and blinded label, never its arm. Resupply predicts each site's
need per arm from its randomized subjects' next doses over a horizon
(:func:`~equitrial.supply.rules.doses_due`) and requests a shipment when the usable stock on hand
or on its way falls below that need plus a safety stock
(:func:`~equitrial.supply.rules.order_quantities`). Only the supply manager sees arms.

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
from equitrial.protocol import Dose
from equitrial.randomization import service as allocation_service
from equitrial.services._base import RecordView, audited_update, ensure_study_open, view_of
from equitrial.services.auth import SUPPLY_ROLES, Actor, require
from equitrial.services.study import current_study, study_protocol
from equitrial.services.subjects import subject_for_write
from equitrial.services.supply import RECEIVING_ROLES, reserve_shipment
from equitrial.store import models as m
from equitrial.store.db import transaction
from equitrial.supply.rules import (
    KitStock,
    choose_kit,
    doses_due,
    kits_per_dose,
    order_quantities,
    usable,
)

__all__ = [
    "DispensedKit",
    "InventoryRow",
    "ReconciliationRow",
    "dispense",
    "expire_kits",
    "inventory",
    "quarantine",
    "reconcile_kits",
    "release",
    "resupply",
]

DO_NOT_DISPENSE_DAYS = 42
"""A dispensed kit must stay in date this long: the longest dosing interval (6 weeks)."""
VIEWERS = frozenset({"monitor", "data-manager"})
"""Blinded study-wide roles that see inventories and the reconciliation of every site."""


@dataclass(frozen=True)
class DispensedKit:
    """A kit as site staff see it: no arm."""

    kit_number: str
    lot: str
    expiry: dt.date
    label: str


def dispense(
    engine: Engine, actor: Actor, subject_ref: int | str, on: dt.date, *, kits: int = 1
) -> list[DispensedKit]:
    """Dispense ``kits`` kits of the subject's arm at its site (site staff of that site).

    Raises
    ------
    ConflictError
        The subject is not randomized, or its site holds too few usable kits of its arm (the
        message does not say which arm).
    InvalidInputError
        ``kits`` not a whole number from 1 to 4.
    """
    if isinstance(kits, bool) or not isinstance(kits, int) or not 1 <= kits <= 4:
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
        stock = {
            k.kit_number: k
            for k in session.scalars(
                select(m.Kit)
                .where(m.Kit.site_id == subject.site_id, m.Kit.kit_status == "available")
                .with_for_update()
            )
        }
        out = []
        for _ in range(kits):
            views = [KitStock(k.kit_number, k.expiry, k.arm_code) for k in stock.values()]
            pick = choose_kit(views, arm, on, DO_NOT_DISPENSE_DAYS)
            if pick is None:
                raise ConflictError(
                    f"site has no usable kit for subject {subject.subject_code}; "
                    "the supply manager has been told through the resupply report",
                    field="kits",
                )
            kit = stock.pop(pick.kit_number)
            changes = {"kit_status": "dispensed", "subject_id": subject.id, "dispensed_on": on}
            audited_update(session, actor, kit, changes, reason="dispensed")
            out.append(DispensedKit(kit.kit_number, kit.lot, kit.expiry, kit.label))
        return out


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
        ensure_study_open(session, current_study(session).id)
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
        ensure_study_open(session, current_study(session).id)
        stale = session.scalars(
            select(m.Kit)
            .where(m.Kit.expiry < as_of)
            .where(m.Kit.kit_status.in_(("available", "quarantined")))
            .with_for_update()
        ).all()
        for kit in stale:
            audited_update(session, actor, kit, {"kit_status": "expired"}, reason="past expiry")
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
    unblinded = actor.has_role(SUPPLY_ROLES)
    if not unblinded and actor.site_ids is not None:
        require(actor, roles=RECEIVING_ROLES)
    elif not unblinded:
        require(actor, roles=VIEWERS)
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


def _treatment_days(dose: Dose) -> tuple[int, int]:
    """(dosing interval, maximum treatment duration) in days of a protocol arm's dose."""
    interval = round(7 * dose.interval_weeks)
    if dose.max_weeks is not None:
        return interval, round(7 * dose.max_weeks)
    return interval, interval * (dose.max_cycles or 0)


def _site_needs(
    session: Session, site_id: int, as_of: dt.date, horizon_days: int, kit_mg: float
) -> Counter[str]:
    """Kits each arm's randomized subjects at the site are due over the horizon."""
    protocol = study_protocol(current_study(session))
    doses = {a.code: a.dose for a in protocol.arms}
    need: Counter[str] = Counter()
    subjects = session.scalars(
        select(m.Subject).where(m.Subject.site_id == site_id, m.Subject.status == "randomized")
    )
    for subject in subjects:
        slot = allocation_service.allocation_of(session, subject.id)
        if slot is None or slot.allocated_at is None:
            continue
        dose = doses[slot.arm_code]
        interval, longest = _treatment_days(dose)
        given = sorted(
            k.dispensed_on
            for k in session.scalars(select(m.Kit).where(m.Kit.subject_id == subject.id))
            if k.dispensed_on is not None
        )
        first = given[0] if given else slot.allocated_at.date()
        upcoming = given[-1] + dt.timedelta(days=interval) if given else first
        due = doses_due(upcoming, interval, as_of, horizon_days, first + dt.timedelta(days=longest))
        need[slot.arm_code] += due * kits_per_dose(dose.dose_mg, kit_mg)
    return need


def resupply(
    engine: Engine,
    actor: Actor,
    depot_code: str,
    as_of: dt.date,
    *,
    horizon_days: int = 28,
    safety_stock: int = 2,
    kit_mg: float = 200.0,
) -> list[RecordView]:
    """Request a shipment to every site whose stock falls below its predicted need (supply
    manager): the need is each arm's doses due over ``horizon_days`` (``kit_mg`` mg a kit), the
    stock the kits at the site usable for :data:`DO_NOT_DISPENSE_DAYS` plus those on their way;
    a site short of an arm is sent the difference plus ``safety_stock`` per arm
    (:func:`~equitrial.supply.rules.order_quantities`). Returns the shipments requested."""
    require(actor, roles=SUPPLY_ROLES)
    if isinstance(horizon_days, bool) or not isinstance(horizon_days, int) or horizon_days < 1:
        raise InvalidInputError("horizon_days: a whole number >= 1", field="horizon_days")
    with transaction(engine) as session:
        ensure_study_open(session, current_study(session).id)
        arms = [a.code for a in study_protocol(current_study(session)).arms]
        requested = []
        for site in session.scalars(select(m.Site).order_by(m.Site.code)).all():
            need = _site_needs(session, site.id, as_of, horizon_days, kit_mg)
            on_hand: Counter[str] = Counter()
            for kit in session.scalars(select(m.Kit).where(m.Kit.site_id == site.id)):
                if kit.kit_status == "available" and usable(
                    kit.expiry, as_of, DO_NOT_DISPENSE_DAYS
                ):
                    on_hand[kit.arm_code] += 1
            coming = select(m.Kit).join(m.Shipment, m.Shipment.id == m.Kit.shipment_id)
            coming = coming.where(
                m.Shipment.site_id == site.id,
                m.Shipment.shipment_status.in_(("requested", "shipped")),
            )
            for kit in session.scalars(coming):
                on_hand[kit.arm_code] += 1
            order = order_quantities(on_hand, need, safety_stock, arms)
            if sum(order.values()):
                shipment = reserve_shipment(
                    session, actor, depot_code, site.code, order, as_of, "resupply",
                    DO_NOT_DISPENSE_DAYS,
                )  # fmt: skip
                requested.append(view_of(shipment))
        return requested


@dataclass(frozen=True)
class ReconciliationRow:
    """Kit accountability of one site: where every kit it received went, and what disagrees."""

    site: str
    received: int
    available: int
    dispensed: int
    damaged: int
    quarantined: int
    expired: int
    doses_with_kit: int
    findings: tuple[str, ...]


def reconcile_kits(engine: Engine, actor: Actor) -> list[ReconciliationRow]:
    """Kit reconciliation per site (supply manager, monitors, data managers; site staff for
    their sites): kits received and their status, and findings: a dose recorded with a kit
    that was not dispensed to its subject, a kit dispensed with no dose recorded."""
    if not actor.has_role(SUPPLY_ROLES | VIEWERS):
        require(actor, roles=RECEIVING_ROLES)
    with transaction(engine, read_only=True) as session:
        rows = []
        for site in session.scalars(select(m.Site).order_by(m.Site.code)):
            if actor.site_ids is not None and site.id not in actor.site_ids:
                continue
            kits = list(session.scalars(select(m.Kit).where(m.Kit.site_id == site.id)))
            by_number = {k.kit_number: k for k in kits}
            status = Counter(k.kit_status for k in kits)
            doses = session.execute(
                select(m.Dose.kit_number, m.Dose.subject_id, m.Subject.subject_code)
                .join(m.Subject, m.Subject.id == m.Dose.subject_id)
                .where(m.Subject.site_id == site.id)
            ).all()
            findings = []
            dosed = set()
            for number, subject_id, code in doses:
                kit = None if number is None else by_number.get(number)
                if kit is None or number is None:
                    continue  # a kit of the subject's allocation slot, not a supply kit
                dosed.add(number)
                if kit.subject_id != subject_id:
                    findings.append(f"kit {number}: dose of {code} from a kit not dispensed to it")
            for kit in kits:
                if kit.kit_status == "dispensed" and kit.kit_number not in dosed:
                    findings.append(f"kit {kit.kit_number}: dispensed, no dose recorded")
            rows.append(
                ReconciliationRow(
                    site.code, len(kits), status["available"], status["dispensed"],
                    status["damaged"], status["quarantined"], status["expired"], len(dosed),
                    tuple(findings),
                )
            )  # fmt: skip
        return rows
