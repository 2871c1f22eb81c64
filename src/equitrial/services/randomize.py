"""Use cases of randomization: randomize a subject, list the allocations (unblinded roles only).

The allocation itself is :func:`equitrial.randomization.service.allocate`, called inside this
use case's transaction: it takes the next free slot of the subject's stratum from the concealed
pre-generated list under a lock, and is idempotent. What comes back to a blinded user is the
sequence number and the kit(s), never the arm; the audit trail never holds the arm either
(blinded monitors read it).

When the study manages its drug through the supply (kits are registered, the RTSM is in use),
the first dose's kits are dispensed from the site's inventory in the same transaction, through
the code path of :func:`equitrial.services.dispensing.dispense` (first expiry first, the
subject's arm, as many kits as the dose of its regimen takes). A site that does not hold enough
usable kits of EVERY arm for that dose cannot randomize: the randomization is refused and
nothing is written, as an RTSM refuses to randomize without supply at the site; checking every
arm, not only the subject's, keeps the refusal from telling which arm the slot holds. Without
supply kits (older studies) the kit is the allocation slot's, as before.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from equitrial.protocol import Minimization, Protocol
from equitrial.randomization import service as allocation_service
from equitrial.services._allocation_list import write_list
from equitrial.services._base import audited_update, lock_row, today
from equitrial.services._kits import (
    AT_RANDOMIZATION,
    StockKit,
    kits_for_regimen,
    lock_site_stock,
    rtsm_in_use,
    short_arms,
    take_kits,
)
from equitrial.services.auth import UNBLINDED_ROLES, Actor, is_unblinded, require
from equitrial.services.schedule import plan_at_randomization, regimen_on
from equitrial.services.study import current_study, protocol_of
from equitrial.services.subjects import SITE_STAFF, subject_for_write
from equitrial.store import audit
from equitrial.store import models as m
from equitrial.store.db import transaction

__all__ = ["Allocation", "AllocationRow", "generate_list", "list_allocations", "randomize"]


@dataclass(frozen=True)
class Allocation:
    """The result of randomizing one subject.

    ``arm`` is ``None`` unless the actor holds an unblinded role; ``regimen`` is the dosing
    regimen the subject starts on (both arms use the same regimens, so it reveals no arm).
    ``kits`` are the kits of the first dose: dispensed from the site's inventory when the study
    uses the drug supply (``kit`` is the first of them), else the allocation slot's one kit.
    """

    subject_id: int
    subject: str
    stratum: str
    sequence_number: int
    kit: str
    arm: str | None
    new: bool
    regimen: str | None = None
    kits: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready; the ``arm`` key is present only when the arm is shown."""
        doc: dict[str, Any] = {
            "subject": self.subject,
            "subject_id": self.subject_id,
            "stratum": self.stratum,
            "sequence_number": self.sequence_number,
            "kit": self.kit,
            "kits": list(self.kits),
            "regimen": self.regimen,
        }
        if self.arm is not None:
            doc["arm"] = self.arm
        return doc


def randomize(
    engine: Engine,
    actor: Actor,
    subject: int | str,
    *,
    regimen: str | None = None,
    day1: dt.date | None = None,
) -> Allocation:
    """Randomize an eligible subject (investigator or coordinator of its site).

    In the same transaction the subject's regimen is recorded, the protocol's schedule
    becomes its planned visits (:func:`equitrial.services.schedule.plan_at_randomization`) and,
    when kits are registered, the first dose's kits of the subject's arm are dispensed from the
    site's inventory on ``day1`` (see the module's text).

    Parameters
    ----------
    regimen
        Code of the dosing regimen the subject starts on (``"Q3W"``, ``"Q6W"``); ``None``: the
        protocol's default regimen.
    day1
        Day 1 (week 0) of the visit schedule and the day the first dose's kits are dispensed;
        ``None``: today (UTC).

    Returns
    -------
    Allocation
        Sequence number and kit(s); the arm only for an unblinded actor. A repeated call returns
        the same allocation (``new`` False) and writes nothing.

    Raises
    ------
    ConflictError, InvalidInputError
        From the allocation service: not eligible, a stratification factor missing, no free slot;
        a regimen the protocol does not list (``field="regimen"``); with the drug supply in use,
        a site without enough usable kits of every arm for the first dose
        (:class:`~equitrial.randomization.service.RandomizationRefusedError`, ``field="kits"``;
        nothing written).
    PermissionDeniedError, NotFoundError, StudyLockedError
    """
    with transaction(engine) as session:
        row = subject_for_write(session, actor, subject, SITE_STAFF)
        # lock the subject row first (PostgreSQL; SQLite's BEGIN IMMEDIATE already serializes):
        # a retried request waiting here then sees the allocation the first one made
        lock_row(session, row)
        already = allocation_service.is_allocated(session, row.id)
        slot = allocation_service.allocate(session, row)
        if already:
            kits = _kits_at_randomization(session, row.id) or (slot.kit_number,)
        else:
            # kit rows are locked before any audit row is appended (dispense's lock order)
            stock = lock_site_stock(session, row.site_id) if rtsm_in_use(session) else None
            protocol = protocol_of(session, row.study_id)
            _audit_claim(session, actor, slot, row, protocol)
            audited_update(session, actor, row, {"status": "randomized"}, reason="randomized")
            first = day1 or today()
            code = plan_at_randomization(session, actor, row, regimen, first)
            kits = (slot.kit_number,)
            if stock is not None:
                kits = _first_dose(session, actor, row, slot, stock, protocol, code, first)
        return Allocation(
            subject_id=row.id,
            subject=row.subject_code,
            stratum=slot.stratum,
            sequence_number=slot.sequence_number,
            kit=kits[0],
            arm=slot.arm_code if is_unblinded(actor) else None,
            new=not already,
            regimen=regimen_on(session, row.id),
            kits=kits,
        )


def _first_dose(
    session: Session,
    actor: Actor,
    subject: m.Subject,
    slot: m.RandomizationSchedule,
    stock: dict[str, StockKit],
    protocol: Protocol,
    regimen: str,
    on: dt.date,
) -> tuple[str, ...]:
    """Dispense the first dose's kits of the slot's arm from the site's locked stock."""
    n = kits_for_regimen(protocol, regimen)
    if short_arms(stock, [a.code for a in protocol.arms], on, n):
        raise allocation_service.RandomizationRefusedError(
            f"site {subject.site.code} holds too few usable kits for a first dose of {regimen} "
            f"({n} kit(s) of each treatment; every treatment is checked, so this says nothing "
            "of the allocation); randomization refused, nothing recorded: the supply manager "
            "resupplies the site",
            field="kits",
        )
    given = take_kits(session, actor, subject, stock, slot.arm_code, on, n, reason=AT_RANDOMIZATION)
    return tuple(k.kit_number for k in given)


def _kits_at_randomization(session: Session, subject_id: int) -> tuple[str, ...]:
    """The kits the randomization dispensed to the subject (none without the drug supply)."""
    query = select(m.Kit.kit_number).where(
        m.Kit.subject_id == subject_id, m.Kit.status_reason == AT_RANDOMIZATION
    )
    return tuple(session.scalars(query.order_by(m.Kit.expiry, m.Kit.kit_number)))


def _audit_claim(
    session: Session,
    actor: Actor,
    slot: m.RandomizationSchedule,
    subject: m.Subject,
    protocol: Protocol,
) -> None:
    """Audit the claim of a slot (a Core update, :func:`allocation_service.allocate`).

    ``randomize`` names the subject; the other columns the claim set are ``update`` rows (under
    minimization the slot also gets its stratum and its arm, the arm as a commitment).
    """
    why = f"sequence {slot.sequence_number}, kit {slot.kit_number}"
    table = slot.__tablename__
    audit.record_update(
        session,
        actor,
        table,
        slot.id,
        {"subject_id": (None, subject.id)},
        reason=why,
        action="randomize",
    )
    changes: dict[str, tuple[Any, Any]] = {"allocated_at": (None, slot.allocated_at)}
    if isinstance(protocol.randomization, Minimization):
        changes["stratum"] = (allocation_service.MINIMIZATION_POOL, slot.stratum)
        changes["arm_code"] = ("", slot.arm_code)
    audit.record_update(session, actor, table, slot.id, changes, reason=why)


@dataclass(frozen=True)
class AllocationRow:
    """One allocation of the unblinded list."""

    subject: str
    stratum: str
    block: int
    sequence_number: int
    arm: str
    kit: str


def list_allocations(engine: Engine, actor: Actor) -> list[AllocationRow]:
    """Every allocation with its arm (unblinded roles only); the export is audited.

    Returns
    -------
    list of AllocationRow
        One per allocation (``subject``, ``stratum``, ``block``, ``sequence_number``, ``arm``,
        ``kit``), in sequence order.
    """
    require(actor, roles=UNBLINDED_ROLES)
    with transaction(engine) as session:
        rows = session.execute(
            select(m.RandomizationSchedule, m.Subject.subject_code)
            .join(m.Subject, m.Subject.id == m.RandomizationSchedule.subject_id)
            .order_by(m.RandomizationSchedule.sequence_number)
        ).all()
        audit.append(
            session,
            actor_username=actor.username,
            user_id=actor.user_id,
            action="export",
            table_name="randomization_schedule",
            record_id=None,
            reason=f"allocation list ({len(rows)} allocations)",
        )
        return [
            AllocationRow(
                code,
                slot.stratum,
                slot.block_number,
                slot.sequence_number,
                slot.arm_code,
                slot.kit_number,
            )
            for slot, code in rows
        ]


def generate_list(engine: Engine, actor: Actor, *, seed: int, per_stratum_slots: int) -> int:
    """Pre-generate the concealed allocation list of the study (admin or unblinded statistician).

    Returns the number of slots written. See :func:`write_list` for what is audited.
    """
    require(actor, roles={"admin", *UNBLINDED_ROLES})
    with transaction(engine) as session:
        return write_list(session, actor, current_study(session), seed, per_stratum_slots)
