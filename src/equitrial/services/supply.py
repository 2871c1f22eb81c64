"""Use cases of drug supply (RTSM), part 1: depots, kit registration, shipments.

Kits carry a blinded label (the same text in both arms) and a concealed arm, which only the
unblinded ``supply-manager`` sees (:data:`~equitrial.services.auth.SUPPLY_ROLES`); it is audited as
a keyed commitment, like an allocation's arm. A shipment moves kits from a depot to a site:
requested (its kits reserved, first expiry first), shipped (in transit), received at the site by
its staff, who name any kit found damaged. Dispensing, quarantine, expiry, resupply and the
reconciliation report are in :mod:`equitrial.services.dispensing`.

References: EU GMP Annex 13 (2010) §§ 26-33 and 43-47; ICH E6(R3) 3.15.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

from sqlalchemy import Row, bindparam, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from equitrial.errors import ConflictError, InvalidInputError, NotFoundError
from equitrial.services._base import (
    RecordView,
    audited_insert,
    audited_update,
    ensure_study_open,
    view_of,
)
from equitrial.services._kits import update_kits
from equitrial.services.auth import SUPPLY_ROLES, Actor, require
from equitrial.services.sites import SITE_CODE, site_by_code
from equitrial.services.study import current_study, current_study_id, study_protocol
from equitrial.store import audit
from equitrial.store import models as m
from equitrial.store.db import transaction

__all__ = [
    "RECEIVING_ROLES",
    "add_depot",
    "depot_by_code",
    "receive_shipment",
    "register_kits",
    "request_shipment",
    "ship_shipment",
]

RECEIVING_ROLES: Final = frozenset({"pharmacist", "investigator", "coordinator"})
"""Site roles that receive shipments and dispense kits at their site."""
BLINDED_LABEL: Final = (
    "For clinical trial use only. Study {study}. {molecule}: biosimilar candidate or reference "
    "product (blinded). Kit {kit}. Lot {lot}. Expiry {expiry}."
)
"""The label of every kit, the same in both arms (EU GMP Annex 13 § 26)."""
_KIT_TEXT: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_./-]{0,31}")
"""A kit number or lot: 1 to 32 ASCII letters, digits and ``_ . / -``, starting alphanumeric."""


def depot_by_code(session: Session, code: str) -> m.Depot:
    """The depot with ``code`` or :class:`NotFoundError`."""
    depot = session.scalar(select(m.Depot).where(m.Depot.code == code))
    if depot is None:
        raise NotFoundError(f"no depot with code {code!r}", field="depot", value=code)
    return depot


def add_depot(engine: Engine, actor: Actor, code: str, name: str) -> RecordView:
    """Add a depot (supply manager).

    Raises
    ------
    InvalidInputError
        A code that is not 1 to 16 ASCII letters, digits or ``_``; an empty name.
    ConflictError
        A depot with that code exists.
    """
    require(actor, roles=SUPPLY_ROLES)
    if not isinstance(code, str) or not SITE_CODE.fullmatch(code):
        raise InvalidInputError(
            f"depot code {code!r}: expected 1 to 16 ASCII letters, digits or '_'", field="code"
        )
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        raise InvalidInputError("depot name: 1 to 200 characters", field="name")
    with transaction(engine) as session:
        ensure_study_open(session, current_study_id(session))
        return view_of(audited_insert(session, actor, m.Depot(code=code, name=name)))


def _checked_kit(row: Mapping[str, Any], arms: frozenset[str], index: int) -> dict[str, Any]:
    where = f"kits[{index}]"
    out: dict[str, Any] = {}
    for key in ("kit_number", "lot"):
        value = row.get(key)
        if not isinstance(value, str) or not _KIT_TEXT.fullmatch(value):
            raise InvalidInputError(
                f"{where}.{key} {value!r}: expected 1 to 32 ASCII letters, digits, '_', '.', "
                "'/' or '-', starting with a letter or digit",
                field=f"{where}.{key}",
            )
        out[key] = value
    expiry = row.get("expiry")
    if isinstance(expiry, str):
        try:
            expiry = dt.date.fromisoformat(expiry)
        except ValueError:
            expiry = None
    if not isinstance(expiry, dt.date) or isinstance(expiry, dt.datetime):
        raise InvalidInputError(
            f"{where}.expiry: expected a date (YYYY-MM-DD)", field=f"{where}.expiry"
        )
    out["expiry"] = expiry
    arm = row.get("arm")
    if arm not in arms:
        raise InvalidInputError(
            f"{where}.arm {arm!r}: expected one of {sorted(arms)}", field=f"{where}.arm"
        )
    out["arm_code"] = arm
    return out


def register_kits(
    engine: Engine, actor: Actor, depot_code: str, kits: Sequence[Mapping[str, Any]]
) -> int:
    """Register packaged kits at a depot (supply manager); all or nothing.

    Each kit is ``{"kit_number", "lot", "expiry" (date or ISO text), "arm"}`` with ``arm`` one of
    the protocol's arm codes; its blinded label is made from the protocol (the same text in
    both arms). Returns the number of kits registered.

    Raises
    ------
    InvalidInputError
        A kit with a bad number, lot, expiry or arm (``field`` names it, ``kits[i].lot``), or a
        kit number given twice; nothing is registered.
    ConflictError
        A kit number that exists already.
    """
    require(actor, roles=SUPPLY_ROLES)
    with transaction(engine) as session:
        study = current_study(session)
        ensure_study_open(session, study.id)
        protocol = study_protocol(study)
        arms = frozenset(a.code for a in protocol.arms)
        rows = [_checked_kit(row, arms, i) for i, row in enumerate(kits)]
        numbers = [r["kit_number"] for r in rows]
        if len(set(numbers)) != len(numbers):
            raise InvalidInputError("a kit number is given twice", field="kits")
        taken = session.scalar(select(func.count()).where(m.Kit.kit_number.in_(numbers)))
        if taken:
            raise ConflictError(f"{taken} of these kit numbers exist already", field="kits")
        depot = depot_by_code(session, depot_code)
        kits_new = [
            m.Kit(**r, label=_label(study.code, protocol.study.molecule, r), depot_id=depot.id)
            for r in rows
        ]
        session.add_all(kits_new)
        session.flush()
        # one whole-row audit row per kit, like the allocation list: the arm only as a keyed
        # commitment, and no audit row of the trail is a field "arm_code" that a reader could spot
        table = m.Kit.__table__
        written = session.execute(
            select(table).where(table.c.id.in_([k.id for k in kits_new])).order_by(table.c.id)
        )
        audit.append_rows(
            session,
            actor,
            m.Kit.__tablename__,
            [(row.id, dict(row._mapping)) for row in written],
            reason=f"kits registered at depot {depot.code}",
        )
        return len(rows)


def _label(study: str, molecule: str, kit: Mapping[str, Any]) -> str:
    return BLINDED_LABEL.format(
        study=study,
        molecule=molecule,
        kit=kit["kit_number"],
        lot=kit["lot"],
        expiry=kit["expiry"].isoformat(),
    )


def _next_shipment_number(session: Session) -> str:
    last = session.scalar(select(func.max(m.Shipment.id))) or 0
    return f"SHP-{last + 1:06d}"


def request_shipment(
    engine: Engine,
    actor: Actor,
    depot_code: str,
    site_code: str,
    quantities: Mapping[str, int],
    on: dt.date,
    *,
    reason: str = "manual",
    do_not_dispense_days: int = 21,
) -> RecordView:
    """Request a shipment of kits of each arm from a depot to a site (supply manager).

    Kits are reserved first expiry first, among those that will still be usable
    ``do_not_dispense_days`` after ``on``.

    Raises
    ------
    InvalidInputError
        An unknown arm or a negative or non-integer quantity; nothing to ship.
    ConflictError
        The depot holds too few usable kits of an arm.
    """
    require(actor, roles=SUPPLY_ROLES)
    with transaction(engine) as session:
        return view_of(
            reserve_shipment(
                session, actor, depot_code, site_code, quantities, on, reason, do_not_dispense_days
            )
        )


def reserve_shipment(
    session: Session,
    actor: Actor,
    depot_code: str,
    site_code: str,
    quantities: Mapping[str, int],
    on: dt.date,
    reason: str,
    do_not_dispense_days: int,
) -> m.Shipment:
    """:func:`request_shipment` inside the caller's transaction."""
    study = current_study(session)
    ensure_study_open(session, study.id)
    arms = {a.code for a in study_protocol(study).arms}
    for arm, n in quantities.items():
        if arm not in arms:
            raise InvalidInputError(f"unknown arm {arm!r}", field="quantities", value=arm)
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise InvalidInputError(f"quantity of {arm}: a whole number >= 0", field="quantities")
    if sum(quantities.values()) == 0:
        raise InvalidInputError("a shipment needs at least one kit", field="quantities")
    depot, site = depot_by_code(session, depot_code), site_by_code(session, site_code)
    chosen: list[Row[Any]] = []
    for arm, n in sorted(quantities.items()):
        if n == 0:
            continue
        picked = depot_kits(session, depot.id, arm, on, do_not_dispense_days, n)
        if len(picked) < n:
            raise too_few_kits(depot_code)
        chosen.extend(picked)
    return ship_kits(session, actor, depot.id, site.id, chosen, on, reason)


_KIT: Final = m.Kit.__table__.c
_DEPOT_KITS: Final = (
    select(_KIT.id, _KIT.version, _KIT.kit_number, _KIT.shipment_id)
    .where(_KIT.depot_id == bindparam("depot_id"), _KIT.kit_status == "available")
    .where(_KIT.shipment_id.is_(None), _KIT.arm_code == bindparam("arm"))
    .where(_KIT.expiry >= bindparam("last_usable"))
    .order_by(_KIT.expiry, _KIT.kit_number)
    .limit(bindparam("n"))
    .with_for_update()
)


def depot_kits(
    session: Session, depot_id: int, arm: str, on: dt.date, do_not_dispense_days: int, n: int
) -> list[Row[Any]]:
    """The first (at most) ``n`` kits of ``arm`` at the depot that a shipment requested on ``on``
    reserves, their rows locked: not reserved yet, first expiry first among the kits usable
    ``do_not_dispense_days`` after ``on`` (:func:`~equitrial.supply.rules.usable`), ties by kit
    number. Taking them ``k`` at a time, in order, for one shipment after another gives the
    kits that one query per shipment would give (a resupply reads them once per arm). Read as
    columns (``id``, ``version``, ``kit_number``, ``shipment_id``: what :func:`ship_kits`
    changes)."""
    last_usable = on + dt.timedelta(days=do_not_dispense_days)
    parameters = {"depot_id": depot_id, "arm": arm, "last_usable": last_usable, "n": n}
    return list(session.connection().execute(_DEPOT_KITS, parameters))


def too_few_kits(depot_code: str) -> ConflictError:
    """The refusal of a shipment the depot cannot fill (it names no arm)."""
    return ConflictError(
        f"depot {depot_code} holds too few usable kits for this shipment", field="quantities"
    )


def ship_kits(
    session: Session,
    actor: Actor,
    depot_id: int,
    site_id: int,
    kits: Sequence[Row[Any]],
    on: dt.date,
    reason: str,
) -> m.Shipment:
    """Record a requested shipment of ``kits`` (chosen by :func:`depot_kits`) from the depot to
    the site and reserve them, both audited, in the caller's transaction (the study checked
    open by the caller)."""
    shipment = audited_insert(
        session,
        actor,
        m.Shipment(
            shipment_number=_next_shipment_number(session),
            depot_id=depot_id,
            site_id=site_id,
            reason=reason,
            requested_on=on,
        ),
    )
    update_kits(session, actor, kits, {"shipment_id": shipment.id}, reason="reserved")
    return shipment


def _shipment(session: Session, number: str) -> m.Shipment:
    ensure_study_open(session, current_study_id(session))
    found = session.scalar(
        select(m.Shipment).where(m.Shipment.shipment_number == number).with_for_update()
    )
    if found is None:
        raise NotFoundError(f"no shipment {number!r}", field="shipment", value=number)
    return found


_SHIPPED_KITS: Final = (
    select(_KIT.id, _KIT.version, _KIT.kit_number, _KIT.kit_status, _KIT.depot_id, _KIT.site_id)
    .where(_KIT.shipment_id == bindparam("shipment_id"))
    .order_by(_KIT.kit_number)
)
"""A shipment's kits, as columns (what shipping and receipt read and change)."""


def _kits_of(session: Session, shipment: m.Shipment) -> list[Row[Any]]:
    return list(session.connection().execute(_SHIPPED_KITS, {"shipment_id": shipment.id}))


def ship_shipment(engine: Engine, actor: Actor, number: str, on: dt.date) -> RecordView:
    """Mark a requested shipment shipped (supply manager): its kits leave the depot."""
    require(actor, roles=SUPPLY_ROLES)
    with transaction(engine) as session:
        shipment = _shipment(session, number)
        if shipment.shipment_status != "requested":
            raise ConflictError(
                f"shipment {number} is {shipment.shipment_status}, not requested", field="shipment"
            )
        if on < shipment.requested_on:
            raise InvalidInputError("shipped before it was requested", field="on", value=on)
        # the shipment's audit rows first, then each kit's (read and changed as columns)
        shipped = {"shipment_status": "shipped", "shipped_on": on}
        audited_update(session, actor, shipment, shipped, reason="shipped")
        leaving = {"kit_status": "in-transit", "depot_id": None}
        kits = _kits_of(session, shipment)
        along = [f"shipment {shipment.id}"]
        update_kits(session, actor, kits, leaving, reason="shipped", along=along)
        return view_of(shipment)


def receive_shipment(
    engine: Engine, actor: Actor, number: str, on: dt.date, damaged: Sequence[str] = ()
) -> RecordView:
    """Receive a shipped shipment at its site (site staff of that site).

    Every kit of the shipment becomes available at the site, except those named in
    ``damaged``, which are recorded damaged and never dispensed.

    Raises
    ------
    InvalidInputError
        A damaged kit number that is not in the shipment; a receipt before shipping.
    ConflictError
        The shipment is not in transit.
    """
    with transaction(engine) as session:
        shipment = _shipment(session, number)
        require(actor, roles=RECEIVING_ROLES, site=shipment.site_id)
        if shipment.shipment_status != "shipped":
            raise ConflictError(
                f"shipment {number} is {shipment.shipment_status}, not shipped", field="shipment"
            )
        if shipment.shipped_on is not None and on < shipment.shipped_on:
            raise InvalidInputError("received before it was shipped", field="on", value=on)
        kits = _kits_of(session, shipment)
        unknown = sorted(set(damaged) - {k.kit_number for k in kits})
        if unknown:
            raise InvalidInputError(
                f"kit {unknown[0]!r} is not in shipment {number}", field="damaged", value=unknown[0]
            )
        # the shipment and the kits received (reason "received"), then the kits found damaged
        received = {"shipment_status": "received", "received_on": on}
        audited_update(session, actor, shipment, received, reason="received")
        arrived = {"kit_status": "available", "site_id": shipment.site_id}
        good = [kit for kit in kits if kit.kit_number not in damaged]
        along = [f"shipment {shipment.id}"]
        update_kits(session, actor, good, arrived, reason="received", along=along)
        broken = {"kit_status": "damaged", "site_id": shipment.site_id}
        bad = [kit for kit in kits if kit.kit_number in damaged]
        update_kits(session, actor, bad, broken, reason="damaged on receipt")
        return view_of(shipment)
