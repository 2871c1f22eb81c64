"""The drug supply's grouped reads and batched writes against the code they replaced, on SQLite
and PostgreSQL: every site gets its own need and stock from the queries that read all sites at
once, a resupply of several sites requests the shipments, kits and audit rows that one request
per site would (and is refused as a whole when the depot runs short at the second site), and
shipping, receiving and expiry write the same audit rows as before (the kits changed with one
Core statement, :func:`~equitrial.services._kits.update_kits`, which refuses to overwrite a kit
changed since it was read)."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from sqlalchemy import delete, func, select, text, update
from supply_reference import resupply_site_by_site, site_needs, site_stock

from equitrial.errors import ConflictError, InvalidInputError
from equitrial.services import dispensing, outcomes, randomize, schedule, subjects, supply, users
from equitrial.services._kits import lock_site_stock, update_kits
from equitrial.services._supply_need import needs_by_site, stock_by_site
from equitrial.services.audit import verify_audit_trail
from equitrial.services.auth import actor_for
from equitrial.services.study import current_study, study_protocol
from equitrial.store import models as m
from equitrial.store.db import transaction

DAY = dt.date(2025, 3, 3)
EXPIRY = DAY + dt.timedelta(days=400)
PASSWORD = "correct horse battery"
STRATA = {"braf_v600": "mutant", "ecog_ps": "0", "m_stage_ldh": "M0-M1b, normal LDH"}


def _days(n: int) -> dt.date:
    return DAY + dt.timedelta(days=n)


class _RolledBack(Exception):
    """Raised to roll back a transaction whose writes a test only looks at."""


@pytest.fixture
def manager(trial):
    users.add_user(trial.engine, trial["admin"], "supply", PASSWORD, ["supply-manager"])
    with transaction(trial.engine, read_only=True) as session:
        user = session.scalars(select(m.User).where(m.User.username == "supply")).one()
        manager = actor_for(session, user)
    supply.add_depot(trial.engine, manager, "D1", "Central depot")
    # 40 kits of each arm expiring on 8 days, 5 on each (ties broken by kit number, as text:
    # K1-16 before K1-8)
    kits = [
        {"kit_number": f"K{prefix}-{i}", "lot": "L1", "arm": arm,
         "expiry": EXPIRY + dt.timedelta(days=i % 8)}
        for arm, prefix in (("BIO", 1), ("REF", 2))
        for i in range(40)
    ]  # fmt: skip
    supply.register_kits(trial.engine, manager, "D1", kits)
    return manager


def _shipped(trial, manager, site, quantities, on, *, receive=True):
    pharmacist = trial["pharmacist" if site == "A" else f"pharmacist@{site}"]
    number = supply.request_shipment(trial.engine, manager, "D1", site, quantities, on)
    number = number.values["shipment_number"]
    supply.ship_shipment(trial.engine, manager, number, on)
    if receive:
        supply.receive_shipment(trial.engine, pharmacist, number, on)
    return number


def _randomized(trial, number, site, regimen, day1):
    who = "" if site == "A" else f"@{site}"
    s = subjects.enrol(
        trial.engine, trial[f"investigator{who}"], site, number, strata=STRATA, eligible=True,
        consent_date=_days(-90),
    )  # fmt: skip
    randomize.randomize(
        trial.engine, trial[f"coordinator{who}"], s.id, regimen=regimen, day1=_days(day1)
    )
    return s


@pytest.fixture
def several(trial, manager):
    """Subjects at both sites on both regimens, a switch, an end of treatment, a subject with no
    planned visit, a dose dispensed at a visit, and kits on their way to each site."""
    _shipped(trial, manager, "A", {"BIO": 8, "REF": 8}, _days(-60))
    _shipped(trial, manager, "B", {"BIO": 4, "REF": 4}, _days(-60))
    people = {
        "a1": _randomized(trial, "S-1", "A", "Q6W", -40),
        "a2": _randomized(trial, "S-2", "A", "Q3W", -20),
        "a3": _randomized(trial, "S-3", "A", "Q3W", -5),
        "b1": _randomized(trial, "S-4", "B", "Q3W", -30),
        "b2": _randomized(trial, "S-5", "B", "Q6W", -10),
    }
    schedule.switch_regimen(
        trial.engine, trial["investigator"], people["a2"].id, "Q6W", effective=_days(22),
        reason="patient preference",
    )  # fmt: skip
    outcomes.record_disposition(
        trial.engine, trial["investigator@B"], people["b1"].id, scope="END OF TREATMENT",
        decod="ADVERSE EVENT", date=_days(15),
    )  # fmt: skip
    with transaction(trial.engine) as session:  # randomized before the visit schedule existed
        session.execute(delete(m.Visit).where(m.Visit.subject_id == people["a3"].id))
    dispensing.dispense(trial.engine, trial["pharmacist"], people["a1"].id, _days(2))
    _shipped(trial, manager, "A", {"BIO": 1, "REF": 2}, _days(1), receive=False)
    supply.request_shipment(trial.engine, manager, "D1", "B", {"BIO": 2}, _days(3))
    return people


def test_each_site_gets_its_own_need_and_stock_from_the_grouped_queries(trial, several):
    engine, seen = trial.engine, []
    with transaction(engine, read_only=True) as session:
        protocol = study_protocol(current_study(session))
        sites = dict(session.execute(select(m.Site.code, m.Site.id)).all())
        for day in range(-60, 121, 6):
            for horizon in (1, 28, 42):
                as_of = _days(day)
                needs = needs_by_site(session, protocol, as_of, horizon)
                stocks = stock_by_site(session, as_of)
                for code, site_id in sites.items():
                    need = site_needs(session, protocol, site_id, as_of, horizon)
                    stock = site_stock(session, site_id, as_of)
                    assert needs.get(site_id, Counter()) == need, (code, as_of, horizon)
                    assert stocks.get(site_id, Counter()) == stock, (code, as_of, horizon)
                seen.append(tuple(needs.get(sites[code], Counter()).total() for code in "AB"))
                assert set(needs) <= set(sites.values()) and set(stocks) <= set(sites.values())
    # not a vacuous comparison: both sites need kits at some dates, and not the same number
    assert any(a and b and a != b for a, b in seen)
    assert any(a and not b for a, b in seen)


def _trail_since(session, first_id, shipments):
    """Audit rows from ``first_id`` on, a shipment's id written as its number (PostgreSQL does
    not give back the ids of a rolled-back transaction)."""
    numbers = {str(s.id): s.shipment_number for s in shipments}
    rows = session.scalars(
        select(m.AuditTrail).where(m.AuditTrail.id >= first_id).order_by(m.AuditTrail.id)
    )
    out = []
    for r in rows:
        record = numbers[r.record_id] if r.table_name == "shipment" else r.record_id
        new = r.new_value
        if r.field == "shipment_id" and new is not None:
            new = numbers[new]
        out.append((r.action, r.table_name, record, r.field, r.old_value, new, r.reason))
    return out


def _shipments(session, shipments):
    return [
        (s.shipment_number, s.site_id, s.requested_on, s.reason,
         tuple(session.scalars(
             select(m.Kit.kit_number).where(m.Kit.shipment_id == s.id).order_by(m.Kit.id)
         )))
        for s in shipments
    ]  # fmt: skip


def _rewind_shipment_ids(engine):
    """Give PostgreSQL's shipment ids back after a rollback (a sequence does not roll back; a
    shipment's number follows the largest id), so that both runs start from the same state."""
    if engine.dialect.name == "postgresql":
        with transaction(engine) as session:
            session.execute(
                text(
                    "SELECT setval(pg_get_serial_sequence('shipment', 'id'), "
                    "coalesce(max(id), 1), max(id) IS NOT NULL) FROM shipment"
                )
            )


def _next_audit_id(engine):
    with transaction(engine, read_only=True) as session:
        return (session.scalar(select(func.max(m.AuditTrail.id))) or 0) + 1


@pytest.mark.parametrize(("day", "safety"), [(0, 3), (20, 2), (40, 6)])
def test_a_resupply_of_several_sites_requests_what_one_request_per_site_would(
    trial, manager, several, day, safety
):
    engine, as_of = trial.engine, _days(day)
    first = _next_audit_id(engine)
    with pytest.raises(_RolledBack), transaction(engine) as session:
        shipments = resupply_site_by_site(session, manager, "D1", as_of, 42, safety)
        expected = (_shipments(session, shipments), _trail_since(session, first, shipments))
        raise _RolledBack
    assert _next_audit_id(engine) == first
    _rewind_shipment_ids(engine)
    views = dispensing.resupply(engine, manager, "D1", as_of, horizon_days=42, safety_stock=safety)
    with transaction(engine, read_only=True) as session:
        shipments = [session.get(m.Shipment, v.id) for v in views]
        got = (_shipments(session, shipments), _trail_since(session, first, shipments))
    assert got == expected
    assert len({site for _, site, *_ in got[0]}) == 2  # both sites resupplied
    assert [v.values["shipment_number"] for v in views] == [s[0] for s in got[0]]
    assert verify_audit_trail(engine).chain.ok  # (the fixture deletes visits unaudited)


def _depot_usable(engine, on):
    with transaction(engine, read_only=True) as session:
        rows = session.execute(
            select(m.Kit.arm_code, func.count())
            .where(m.Kit.depot_id.is_not(None), m.Kit.shipment_id.is_(None))
            .where(m.Kit.kit_status == "available", m.Kit.expiry >= on + dt.timedelta(days=42))
            .group_by(m.Kit.arm_code)
        )
        return Counter(dict(rows.all()))


def test_a_depot_short_for_the_second_site_refuses_the_whole_resupply(trial, manager, several):
    engine, as_of = trial.engine, DAY
    left = _depot_usable(engine, as_of)
    rows = dispensing.forecast(engine, manager, as_of, horizon_days=42)
    short = {(r.site, r.arm): r.need - r.stock for r in rows}

    def order(site, arm, safety):
        return max(0, short[(site, arm)] + safety)

    # the smallest safety stock at which site A's shipment can be filled and B's cannot
    safety = next(
        s for s in range(100)
        if any(order("A", a, s) + order("B", a, s) > left[a] for a in left)
    )  # fmt: skip
    assert all(order("A", a, safety) <= left[a] for a in left)
    with pytest.raises(ConflictError) as reference, transaction(engine) as session:
        resupply_site_by_site(session, manager, "D1", as_of, 42, safety)
    before = _next_audit_id(engine), dispensing.inventory(engine, manager)
    with pytest.raises(ConflictError) as refused:
        dispensing.resupply(engine, manager, "D1", as_of, horizon_days=42, safety_stock=safety)
    assert (refused.value.message, refused.value.field) == (
        reference.value.message, reference.value.field
    )  # fmt: skip
    assert (_next_audit_id(engine), dispensing.inventory(engine, manager)) == before


def test_shipping_receiving_and_expiry_write_the_same_audit_rows(trial, manager):
    engine = trial.engine
    first = _next_audit_id(engine)
    view = supply.request_shipment(engine, manager, "D1", "A", {"BIO": 2, "REF": 1}, DAY)
    number = view.values["shipment_number"]
    supply.ship_shipment(engine, manager, number, _days(1))
    supply.receive_shipment(engine, trial["pharmacist"], number, _days(2), damaged=["K1-16"])
    with transaction(engine, read_only=True) as session:
        shipment = session.get(m.Shipment, view.id)
        kits = session.execute(
            select(m.Kit.id, m.Kit.kit_number).where(m.Kit.shipment_id == shipment.id)
        ).all()
        trail = _trail_since(session, first, [shipment])
    ids = {n: str(i) for i, n in kits}
    assert sorted(ids) == ["K1-0", "K1-16", "K2-0"]
    by_number = sorted(ids)  # the shipment's kits are read by kit number
    reserved = [("kit", ids[n], "shipment_id", number, "reserved") for n in by_number]
    shipped = [("shipment", number, "shipment_status", "shipped", "shipped"),
               ("shipment", number, "shipped_on", _days(1).isoformat(), "shipped")]  # fmt: skip
    shipped += [
        ("kit", ids[n], field, value, "shipped")
        for n in by_number
        for field, value in (("kit_status", "in-transit"), ("depot_id", None))
    ]
    received = [("shipment", number, "shipment_status", "received", "received"),
                ("shipment", number, "received_on", _days(2).isoformat(), "received")]  # fmt: skip
    received += [
        ("kit", ids[n], field, value, "received")
        for n in ("K1-0", "K2-0")
        for field, value in (("kit_status", "available"), ("site_id", str(shipment.site_id)))
    ]
    received += [
        ("kit", ids["K1-16"], "kit_status", "damaged", "damaged on receipt"),
        ("kit", ids["K1-16"], "site_id", str(shipment.site_id), "damaged on receipt"),
    ]
    updates = [(t[1], t[2], t[3], t[5], t[6]) for t in trail if t[0] == "update"]
    assert updates == reserved + shipped + received
    # expiry: one row per kit past its expiry (the first expiry day's 5 of each arm less K1-16,
    # found damaged), in one statement
    first = _next_audit_id(engine)
    assert dispensing.expire_kits(engine, manager, EXPIRY + dt.timedelta(days=1)) == 9
    with transaction(engine, read_only=True) as session:
        trail = _trail_since(session, first, [])
    assert len(trail) == 9
    assert {(t[1], t[3], t[4], t[5], t[6]) for t in trail} == {
        ("kit", "kit_status", "available", "expired", "past expiry")
    }
    assert verify_audit_trail(engine).ok


@pytest.mark.parametrize("along", [(), ("shipment 7",)])
def test_a_kit_changed_since_it_was_read_is_not_overwritten(trial, manager, along):
    # the kits' rows are read, then someone else's change moves one's version on: the update
    # is refused naming the records of the change, as the ORM update's message named them
    _shipped(trial, manager, "A", {"BIO": 3}, DAY)
    with pytest.raises(ConflictError) as refused, transaction(trial.engine) as session:
        site = session.scalars(select(m.Site.id).where(m.Site.code == "A")).one()
        rows = list(lock_site_stock(session, site).values())
        ids = [row.id for row in rows]
        session.execute(update(m.Kit).where(m.Kit.id == ids[1]).values(version=m.Kit.version + 1))
        update_kits(session, manager, rows, {"status_reason": "held"}, reason="held", along=along)
    named = ", ".join([*along, *(f"kit {i}" for i in ids)][:3])
    assert refused.value.message == f"{named} was changed by someone else meanwhile; reload it"
    assert refused.value.field == "version"


@pytest.mark.parametrize("field", ["colour", "version", "id"])
def test_a_field_a_kit_does_not_have_or_its_bookkeeping_is_refused(trial, manager, field):
    # as audited_update refuses it (review of the fifth session: the Core update dropped it)
    _shipped(trial, manager, "A", {"BIO": 1}, DAY)
    with pytest.raises(InvalidInputError, match=f"kit has no editable field '{field}'"):
        with transaction(trial.engine) as session:
            site = session.scalars(select(m.Site.id).where(m.Site.code == "A")).one()
            rows = list(lock_site_stock(session, site).values())
            update_kits(session, manager, rows, {field: 2}, reason="held")
