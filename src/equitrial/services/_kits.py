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
import functools
from collections.abc import Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, NamedTuple, cast

from sqlalchemy import Table, Update, bindparam, select, update
from sqlalchemy.orm import Session

from equitrial.errors import ConflictError
from equitrial.protocol import Protocol
from equitrial.services._base import check_fields
from equitrial.services.auth import Actor
from equitrial.store import audit
from equitrial.store import models as m
from equitrial.store.validation import check_values
from equitrial.supply.rules import KitStock, choose_kit, kits_per_dose, usable

__all__ = [
    "AT_RANDOMIZATION",
    "DO_NOT_DISPENSE_DAYS",
    "DispensedKit",
    "StockKit",
    "kit_mg",
    "kits_for_regimen",
    "lock_site_stock",
    "rtsm_in_use",
    "short_arms",
    "take_kits",
    "update_kits",
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


class StockKit(NamedTuple):
    """A kit on hand at a site, as :func:`lock_site_stock` reads it (the columns dispensing
    reads or changes; the arm only ever reaches unblinded code)."""

    id: int
    version: int
    kit_number: str
    lot: str
    expiry: dt.date
    label: str
    arm_code: str
    kit_status: str
    subject_id: int | None
    dispensed_on: dt.date | None
    status_reason: str | None


_KIT: Final = cast(Table, m.Kit.__table__)
_SITE_STOCK: Final = (
    select(*(_KIT.c[name] for name in StockKit._fields))
    .where(_KIT.c.site_id == bindparam("site_id"), _KIT.c.kit_status == "available")
    .order_by(_KIT.c.id)
    .with_for_update()
)


@functools.lru_cache(maxsize=16)
def _kit_update(columns: tuple[str, ...]) -> Update:
    """``UPDATE kit SET <columns>, version WHERE id AND version``: the statement the ORM's flush
    of a change of ``columns`` writes (``updated_at`` by the column's ``onupdate``)."""
    return (
        update(_KIT)
        .where(_KIT.c.id == bindparam("kit_id"), _KIT.c.version == bindparam("seen"))
        .values(
            {**{name: bindparam(f"new_{name}") for name in columns}, "version": bindparam("next")}
        )
    )


def update_kits(
    session: Session,
    actor: Actor,
    kits: Sequence[Any],
    changes: Mapping[str, Any],
    *,
    reason: str,
    along: Sequence[str] = (),
) -> None:
    """Set ``changes`` on ``kits`` in one Core statement and audit each kit's changed fields as
    an audited ORM update does (:func:`~equitrial.services._base.audited_update_all`: the same
    rows, in the columns' order, kit after kit; a kit that nothing changes is left as it is),
    without loading the kits as ORM objects.

    Parameters
    ----------
    kits
        Rows read as columns: ``id``, ``version`` and the columns ``changes`` sets, by name.
    changes
        The new values, the same for every kit.
    reason
        Written on the audit rows.
    along
        The records changed with the kits, for the same reason, just before (``"shipment 5"``):
        named first in the conflict's message, as the one audited update of them all was.

    Raises
    ------
    ConflictError
        A kit changed since it was read (its ``version`` moved on).
    """
    check_fields(m.Kit, changes)  # no field the kit does not have, no bookkeeping column
    after = check_values(_KIT, {c.name: changes[c.name] for c in _KIT.c if c.name in changes})
    changed = [
        (kit, {k: (getattr(kit, k), v) for k, v in after.items() if getattr(kit, k) != v})
        for kit in kits
    ]
    changed = [(kit, fields) for kit, fields in changed if fields]
    if not changed:
        return
    news = {f"new_{name}": value for name, value in after.items()}
    parameters = [
        {"kit_id": kit.id, "seen": kit.version, "next": kit.version + 1, **news}
        for kit, _ in changed
    ]
    statement, connection = _kit_update(tuple(after)), session.connection()
    if connection.dialect.supports_sane_multi_rowcount:
        written = connection.execute(statement, parameters).rowcount
    else:  # a driver that cannot count the rows of an executemany: one kit at a time
        written = sum(connection.execute(statement, p).rowcount for p in parameters)
    if written != len(changed):
        what = ", ".join([*along, *(f"kit {kit.id}" for kit in kits)][:3])
        raise ConflictError(
            f"{what} was changed by someone else meanwhile; reload it", field="version"
        )
    audit.record_updates(session, actor, "kit", [(kit.id, f) for kit, f in changed], reason=reason)


def lock_site_stock(session: Session, site_id: int) -> dict[str, StockKit]:
    """The site's available kits by number, their rows locked to the end of the transaction
    (read as columns: a dispensing takes one or two kits of them)."""
    rows = session.connection().execute(_SITE_STOCK, {"site_id": site_id})
    return {row.kit_number: StockKit(*row) for row in rows}


def short_arms(
    stock: Mapping[str, StockKit], arms: Sequence[str], on: dt.date, n: int
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
    stock: MutableMapping[str, StockKit],
    arm: str,
    on: dt.date,
    n: int,
    *,
    reason: str = "dispensed",
) -> list[DispensedKit]:
    """Dispense ``n`` kits of ``arm`` from ``stock`` (locked by :func:`lock_site_stock`) to the
    subject, first expiry first among those usable for :data:`DO_NOT_DISPENSE_DAYS`; each kit's
    change is audited (:func:`update_kits`). The kits taken leave ``stock``.

    Raises
    ------
    ConflictError
        Too few usable kits of ``arm``; the message names no arm (the caller's transaction
        is rolled back, so nothing is dispensed).
    """
    taken = []
    for _ in range(n):
        views = [KitStock(k.kit_number, k.expiry, k.arm_code) for k in stock.values()]
        pick = choose_kit(views, arm, on, DO_NOT_DISPENSE_DAYS)
        if pick is None:
            raise ConflictError(
                f"site has no usable kit for subject {subject.subject_code} ({n} kit(s) a dose); "
                "the supply manager has been told through the resupply report",
                field="kits",
            )
        taken.append(stock.pop(pick.kit_number))
    dispensed = {
        "kit_status": "dispensed",
        "subject_id": subject.id,
        "dispensed_on": on,
        "status_reason": reason,
    }
    update_kits(session, actor, taken, dispensed, reason=reason)
    return [DispensedKit(k.kit_number, k.lot, k.expiry, k.label) for k in taken]
