"""Drug supply rules, pure: usable kits, first-expiry-first-out dispensing, predicted site needs.

The store and the use cases are in :mod:`equitrial.services.supply`; here only the decisions, over
plain values, so that they can be tested cut point by cut point.

References
----------
.. [1] EU GMP Annex 13, Investigational medicinal products (2010), §§ 26-33 (labelling: the
   blinded label, the expiry), §§ 43-47 (shipping, receipt, reconciliation).
.. [2] ICH E6(R3) Good clinical practice (2025), 3.15 (investigational product: storage,
   dispensing, accountability records, reconciliation).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from equitrial.errors import InvalidInputError

__all__ = [
    "DosingVisit",
    "KitStock",
    "choose_kit",
    "doses_due",
    "kits_due",
    "kits_per_dose",
    "order_quantities",
    "usable",
]


@dataclass(frozen=True)
class KitStock:
    """A kit on hand: number, expiry and arm (the arm only ever reaches unblinded code)."""

    kit_number: str
    expiry: dt.date
    arm: str


def usable(expiry: dt.date, on: dt.date, do_not_dispense_days: int) -> bool:
    """Whether a kit expiring on ``expiry`` may still be dispensed on ``on``.

    A kit must stay in date for the ``do_not_dispense_days`` after dispensing (the time until
    it is given and the dosing interval it covers): it is usable iff
    ``expiry - on >= do_not_dispense_days`` days. At exactly that many days it is usable.
    """
    return (expiry - on).days >= do_not_dispense_days


def choose_kit(
    stock: Iterable[KitStock], arm: str, on: dt.date, do_not_dispense_days: int
) -> KitStock | None:
    """The kit to dispense for a subject of ``arm``: first expiry, first out.

    Among the usable kits of ``arm`` (:func:`usable`), the one that expires first, ties broken
    by kit number; ``None`` if there is none.
    """
    candidates = [k for k in stock if k.arm == arm and usable(k.expiry, on, do_not_dispense_days)]
    if not candidates:
        return None
    return min(candidates, key=lambda k: (k.expiry, k.kit_number))


def doses_due(
    next_dose: dt.date, interval_days: int, as_of: dt.date, horizon_days: int, last_day: dt.date
) -> int:
    """Number of doses a subject is due from ``as_of`` to ``as_of + horizon_days`` inclusive.

    Doses fall on ``next_dose + k * interval_days`` (k = 0, 1, ...), none after ``last_day``
    (the end of the subject's treatment). A dose already overdue (``next_dose < as_of``) counts
    once, at ``as_of``.
    """
    if interval_days <= 0:
        raise InvalidInputError(
            f"interval_days must be positive, got {interval_days}", field="interval_days"
        )
    start = max(next_dose, as_of)
    end = min(as_of + dt.timedelta(days=horizon_days), last_day)
    if start > end:
        return 0
    return (end - start).days // interval_days + 1


@dataclass(frozen=True)
class DosingVisit:
    """A subject's planned dosing visit: its day, its window (inclusive), the kits its dose takes
    (from the subject's regimen on that day) and whether it has happened (an actual date)."""

    planned: dt.date
    window_start: dt.date
    window_end: dt.date
    kits: int
    done: bool = False


def kits_due(
    visits: Iterable[DosingVisit],
    dispensed_on: Iterable[dt.date],
    as_of: dt.date,
    horizon_days: int,
) -> int:
    """Kits a subject needs from ``as_of`` to ``as_of + horizon_days`` inclusive.

    A planned dosing visit counts with its ``kits`` when it is still to come: not ``done``, no
    kit dispensed to the subject within its window (the kits of a visit are dispensed in it;
    the first dose's kits at randomization, on day 1), its window not closed before ``as_of``
    (a missed visit is not made up) and its day not after the horizon.
    """
    if isinstance(horizon_days, bool) or not isinstance(horizon_days, int) or horizon_days < 0:
        raise InvalidInputError(
            f"horizon_days must be a whole number >= 0, got {horizon_days}", field="horizon_days"
        )
    given = list(dispensed_on)
    end = as_of + dt.timedelta(days=horizon_days)
    total = 0
    for visit in visits:
        if visit.done or visit.window_end < as_of or visit.planned > end:
            continue
        if any(visit.window_start <= day <= visit.window_end for day in given):
            continue
        total += visit.kits
    return total


def order_quantities(
    on_hand: Mapping[str, int],
    need: Mapping[str, int],
    safety_stock: int,
    arms: Sequence[str],
) -> dict[str, int]:
    """Kits of each arm to send to a site: enough for its predicted need plus a safety stock.

    A site is resupplied with an arm when its usable stock of that arm falls below the predicted
    need over the resupply horizon plus ``safety_stock`` (kits for subjects randomized before
    the next shipment arrives); it is then sent the difference. Both arms get the same safety
    stock, so a shipment does not reveal which arm the site's subjects are on beyond what the
    predicted need already tells the (unblinded) supply manager.
    """
    if safety_stock < 0:
        raise InvalidInputError(
            f"safety_stock must be >= 0, got {safety_stock}", field="safety_stock"
        )
    out = {}
    for arm in arms:
        target = need.get(arm, 0) + safety_stock
        out[arm] = max(0, target - on_hand.get(arm, 0))
    return out


def kits_per_dose(dose_mg: float, kit_mg: float) -> int:
    """Kits one dose takes: ``ceil(dose_mg / kit_mg)`` (400 mg from 200 mg kits: 2)."""
    if kit_mg <= 0 or dose_mg <= 0:
        raise InvalidInputError(
            f"dose_mg and kit_mg must be positive, got {dose_mg}, {kit_mg}", field="kit_mg"
        )
    return math.ceil(dose_mg / kit_mg - 1e-9)
