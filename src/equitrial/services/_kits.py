"""Dispensing kits inside the caller's transaction: the one code path of the drug supply that
hands kits to a subject, used at a dosing visit (:func:`equitrial.services.dispensing.dispense`)
and for the first dose at randomization (:func:`equitrial.services.randomize.randomize`).

Two steps, so that a caller can take the kit row locks before it appends any audit row (the
audit chain takes its own lock; dispensing elsewhere locks kits first, then the chain, and the
same order everywhere means no crosswise wait): :func:`lock_site_stock`, then
:func:`take_kits`. Nothing here shows an arm; the messages name no arm.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import MutableMapping, Sequence
from dataclasses import dataclass
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from equitrial.errors import ConflictError
from equitrial.protocol import Protocol
from equitrial.services._base import audited_update_all
from equitrial.services.auth import Actor
from equitrial.store import models as m
from equitrial.supply.rules import KitStock, choose_kit, kits_per_dose, usable

__all__ = [
    "AT_RANDOMIZATION",
    "DO_NOT_DISPENSE_DAYS",
    "DispensedKit",
    "kit_mg",
    "kits_for_regimen",
    "lock_site_stock",
    "rtsm_in_use",
    "short_arms",
    "take_kits",
]

DO_NOT_DISPENSE_DAYS: Final = 42
"""A dispensed kit must stay in date this long: the longest dosing interval (6 weeks)."""
AT_RANDOMIZATION: Final = "dispensed at randomization (first dose)"
"""``kit.status_reason`` of the kits dispensed by the randomization (a repeated randomization
call finds them by it); a kit dispensed at a dosing visit has ``"dispensed"``."""


@dataclass(frozen=True)
class DispensedKit:
    """A kit as site staff see it: no arm."""

    kit_number: str
    lot: str
    expiry: dt.date
    label: str


def kit_mg(protocol: Protocol) -> float:
    """Study drug in one kit, mg: ``treatment.kit_mg``, else the smallest regimen's dose."""
    if protocol.treatment.kit_mg is not None:
        return protocol.treatment.kit_mg
    return min(r.dose_mg for r in protocol.regimens)


def kits_for_regimen(protocol: Protocol, regimen: str | None) -> int:
    """Kits one dose of ``regimen`` takes (``None`` or a code the protocol no longer lists: the
    protocol's default regimen): ``ceil(dose_mg / kit_mg)``."""
    chosen = protocol.default_regimen
    for r in protocol.regimens:
        if r.code == regimen:
            chosen = r
    return kits_per_dose(chosen.dose_mg, kit_mg(protocol))


def rtsm_in_use(session: Session) -> bool:
    """Whether the study manages its drug through the supply: any kit is registered."""
    return session.scalar(select(m.Kit.id).limit(1)) is not None


def lock_site_stock(session: Session, site_id: int) -> dict[str, m.Kit]:
    """The site's available kits by number, their rows locked to the end of the transaction."""
    rows = session.scalars(
        select(m.Kit)
        .where(m.Kit.site_id == site_id, m.Kit.kit_status == "available")
        .order_by(m.Kit.id)
        .with_for_update()
    )
    return {k.kit_number: k for k in rows}


def short_arms(
    stock: MutableMapping[str, m.Kit], arms: Sequence[str], on: dt.date, n: int
) -> list[str]:
    """The arms of which ``stock`` holds fewer than ``n`` kits usable on ``on`` (unblinded use:
    the caller says only whether the list is empty)."""
    counts = dict.fromkeys(arms, 0)
    for kit in stock.values():
        if kit.arm_code in counts and usable(kit.expiry, on, DO_NOT_DISPENSE_DAYS):
            counts[kit.arm_code] += 1
    return [arm for arm, k in counts.items() if k < n]


def take_kits(
    session: Session,
    actor: Actor,
    subject: m.Subject,
    stock: MutableMapping[str, m.Kit],
    arm: str,
    on: dt.date,
    n: int,
    *,
    reason: str = "dispensed",
) -> list[DispensedKit]:
    """Dispense ``n`` kits of ``arm`` from ``stock`` (locked by :func:`lock_site_stock`) to the
    subject, first expiry first among those usable for :data:`DO_NOT_DISPENSE_DAYS`; each kit's
    change is audited. The kits taken leave ``stock``.

    Raises
    ------
    ConflictError
        Too few usable kits of ``arm``; the message names no arm (the caller's transaction
        is rolled back, so nothing is dispensed).
    """
    out, taken = [], []
    for _ in range(n):
        views = [KitStock(k.kit_number, k.expiry, k.arm_code) for k in stock.values()]
        pick = choose_kit(views, arm, on, DO_NOT_DISPENSE_DAYS)
        if pick is None:
            raise ConflictError(
                f"site has no usable kit for subject {subject.subject_code} ({n} kit(s) a dose); "
                "the supply manager has been told through the resupply report",
                field="kits",
            )
        kit = stock.pop(pick.kit_number)
        changes = {
            "kit_status": "dispensed",
            "subject_id": subject.id,
            "dispensed_on": on,
            "status_reason": reason,
        }
        taken.append((kit, changes))
        out.append(DispensedKit(kit.kit_number, kit.lot, kit.expiry, kit.label))
    audited_update_all(session, actor, taken, reason=reason)
    return out
