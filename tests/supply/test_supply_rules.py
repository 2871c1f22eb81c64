"""Drug supply rules at their cut points (EU GMP Annex 13 §§ 43-47; ICH E6(R3) 3.15)."""

from __future__ import annotations

import datetime as dt

import pytest

from equitrial.errors import InvalidInputError
from equitrial.supply.rules import (
    DosingVisit,
    KitStock,
    choose_kit,
    doses_due,
    kits_due,
    kits_per_dose,
    order_quantities,
    usable,
)

DAY = dt.date(2025, 3, 1)


@pytest.mark.parametrize(("days_left", "expected"), [(20, False), (21, True), (22, True)])
def test_a_kit_is_usable_from_exactly_the_do_not_dispense_days_left(days_left, expected):
    assert usable(DAY + dt.timedelta(days=days_left), DAY, 21) is expected


def test_first_expiry_first_out_within_the_arm_ties_by_number():
    stock = [
        KitStock("K3", DAY + dt.timedelta(days=100), "BIO"),
        KitStock("K2", DAY + dt.timedelta(days=60), "BIO"),
        KitStock("K1", DAY + dt.timedelta(days=60), "BIO"),
        KitStock("K0", DAY + dt.timedelta(days=30), "REF"),  # earlier, but the other arm
        KitStock("K4", DAY + dt.timedelta(days=10), "BIO"),  # earliest, but too short-dated
    ]
    assert choose_kit(stock, "BIO", DAY, 21) == stock[2]
    assert choose_kit(stock, "REF", DAY, 21) == stock[3]
    assert choose_kit(stock, "REF", DAY, 31) is None


@pytest.mark.parametrize(
    ("next_in", "horizon", "last_in", "expected"),
    [
        (0, 28, 1000, 2),  # days 0 and 21
        (0, 20, 1000, 1),  # day 0 only: 21 is past the horizon
        (0, 21, 1000, 2),  # the horizon's last day counts
        (-5, 14, 1000, 1),  # overdue: once, now
        (29, 28, 1000, 0),  # first due after the horizon
        (0, 63, 21, 2),  # the treatment ends on day 21: days 0 and 21, not 42 or 63
        (0, 63, 20, 1),
    ],
)
def test_doses_due_over_the_horizon(next_in, horizon, last_in, expected):
    got = doses_due(
        DAY + dt.timedelta(days=next_in), 21, DAY, horizon, DAY + dt.timedelta(days=last_in)
    )
    assert got == expected


def _visit(day, kits=1, done=False, half=3):
    planned = DAY + dt.timedelta(days=day)
    return DosingVisit(
        planned, planned - dt.timedelta(days=half), planned + dt.timedelta(days=half), kits, done
    )


@pytest.mark.parametrize(
    ("visits", "dispensed", "horizon", "expected"),
    [
        ([_visit(0), _visit(21), _visit(42)], [], 42, 3),  # the horizon's last day counts
        ([_visit(0), _visit(21), _visit(42)], [], 41, 2),
        ([_visit(0), _visit(21)], [0], 42, 1),  # day 0's kit dispensed (at randomization)
        ([_visit(0), _visit(21)], [-3], 42, 1),  # dispensed on its window's first day
        ([_visit(0), _visit(21)], [-4], 42, 2),  # dispensed before its window: not for it
        ([_visit(-3), _visit(21)], [], 42, 2),  # window -6..0 still open on day 0
        ([_visit(-4), _visit(21)], [], 42, 1),  # window -7..-1 closed: missed, not made up
        ([_visit(0, done=True), _visit(21)], [], 42, 1),  # done (actual date) counts no more
        ([_visit(12, kits=2), _visit(54, kits=2)], [], 42, 2),  # Q6W 400 mg: 2 kits a dose
        ([_visit(12, kits=2), _visit(54, kits=2)], [], 54, 4),
    ],
)
def test_kits_due_over_the_horizon_from_the_planned_dosing_visits(
    visits, dispensed, horizon, expected
):
    days = [DAY + dt.timedelta(days=d) for d in dispensed]
    assert kits_due(visits, days, DAY, horizon) == expected


def test_order_up_to_need_plus_safety_stock_per_arm():
    order = order_quantities({"BIO": 3, "REF": 0}, {"BIO": 2, "REF": 1}, 2, ["BIO", "REF"])
    assert order == {"BIO": 1, "REF": 3}
    assert order_quantities({"BIO": 9}, {}, 2, ["BIO", "REF"]) == {"BIO": 0, "REF": 2}


@pytest.mark.parametrize(("dose", "kit", "expected"), [(200, 200, 1), (400, 200, 2), (201, 200, 2)])
def test_kits_per_dose(dose, kit, expected):
    assert kits_per_dose(dose, kit) == expected


def test_bad_parameters_are_refused_naming_the_field():
    with pytest.raises(InvalidInputError) as bad:
        doses_due(DAY, 0, DAY, 28, DAY)
    assert bad.value.field == "interval_days"
    with pytest.raises(InvalidInputError) as bad:
        order_quantities({}, {}, -1, ["BIO"])
    assert bad.value.field == "safety_stock"
    with pytest.raises(InvalidInputError) as bad:
        kits_due([], [], DAY, -1)
    assert bad.value.field == "horizon_days"
