"""Drug supply through the services, on SQLite and PostgreSQL: kits registered blinded, shipped,
received with damage, dispensed first-expiry-first of the subject's arm without showing it, held
in quarantine, expired, resupplied from the predicted need, and reconciled with the doses."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import func, select

from equitrial.errors import ConflictError, InvalidInputError, PermissionDeniedError
from equitrial.randomization import service as allocation_service
from equitrial.services import clinical, dispensing, randomize, subjects, supply, users
from equitrial.services.audit import verify_audit_trail
from equitrial.services.auth import actor_for
from equitrial.store import models as m
from equitrial.store.db import transaction

DAY = dt.date(2025, 3, 3)
PASSWORD = "correct horse battery"
STRATA = {"braf_v600": "mutant", "ecog_ps": "0", "m_stage_ldh": "M0-M1b, normal LDH"}


def _days(n: int) -> dt.date:
    return DAY + dt.timedelta(days=n)


@pytest.fixture
def manager(trial):
    users.add_user(trial.engine, trial["admin"], "supply", PASSWORD, ["supply-manager"])
    with transaction(trial.engine, read_only=True) as session:
        user = session.scalars(select(m.User).where(m.User.username == "supply")).one()
        return actor_for(session, user)


def _kits(n: int, arm: str, first: int, expiry_days: int) -> list[dict[str, object]]:
    return [
        {"kit_number": f"K{first + i}", "lot": f"L-{arm}", "expiry": _days(expiry_days + i),
         "arm": arm}
        for i in range(n)
    ]  # fmt: skip


@pytest.fixture
def stocked(trial, manager):
    supply.add_depot(trial.engine, manager, "D1", "Central depot")
    kits = _kits(4, "BIO", 100, 200) + _kits(4, "REF", 200, 200)
    kits[0]["expiry"] = _days(20)  # short-dated: never shipped
    supply.register_kits(trial.engine, manager, "D1", kits)
    return manager


def _kit(engine, number):
    with transaction(engine, read_only=True) as session:
        kit = session.scalars(select(m.Kit).where(m.Kit.kit_number == number)).one()
        session.expunge(kit)
        return kit


def _count(engine, model):
    with transaction(engine, read_only=True) as session:
        return session.scalar(select(func.count()).select_from(model))


def _enrolled(trial, number, site="A", who=""):
    return subjects.enrol(
        trial.engine, trial[f"investigator{who}"], site, number, strata=STRATA, eligible=True,
        consent_date=DAY,
    )  # fmt: skip


def _randomized(trial, number, day1, site="A", who=""):
    s = _enrolled(trial, number, site, who)
    randomize.randomize(trial.engine, trial[f"coordinator{who}"], s.id, day1=day1)
    return s


def test_only_the_supply_manager_registers_kits_all_or_nothing(trial, manager):
    supply.add_depot(trial.engine, manager, "D1", "Central depot")
    with pytest.raises(PermissionDeniedError):
        supply.register_kits(trial.engine, trial["pharmacist"], "D1", _kits(1, "BIO", 1, 100))
    before = (_count(trial.engine, m.Kit), _count(trial.engine, m.AuditTrail))
    bad = [*_kits(2, "BIO", 1, 100), {"kit_number": "K9", "lot": "L", "expiry": DAY, "arm": "X"}]
    with pytest.raises(InvalidInputError) as refused:
        supply.register_kits(trial.engine, manager, "D1", bad)
    assert refused.value.field == "kits[2].arm"
    assert (_count(trial.engine, m.Kit), _count(trial.engine, m.AuditTrail)) == before


def test_a_kit_arm_is_audited_as_a_commitment_and_the_label_is_the_same_in_both_arms(
    trial, stocked
):
    with transaction(trial.engine, read_only=True) as session:
        rows = session.scalars(select(m.AuditTrail).where(m.AuditTrail.table_name == "kit")).all()
        labels = {
            k.label.replace(k.kit_number, "#").replace(k.lot, "#").replace(str(k.expiry), "#")
            for k in session.scalars(select(m.Kit))
        }
    # one whole-row audit row per kit; its arm is a keyed commitment, never the arm's code
    assert [r.field for r in rows] == ["*"] * 8
    arms = [json.loads(r.new_value)["arm_code"] for r in rows]
    assert all(a.startswith("hmac:") for a in arms) and len(set(arms)) == 8
    assert len(labels) == 1 and "BIO" not in labels.pop()


def test_ship_receive_dispense_first_expiry_of_the_subjects_arm(trial, stocked):
    engine, manager = trial.engine, stocked
    shipment = supply.request_shipment(engine, manager, "D1", "A", {"BIO": 3, "REF": 3}, DAY)
    number = shipment.values["shipment_number"]
    # K100 expires in 20 days (< 42 days left): not shipped; BIO gets K101-K103 (first expiry)
    assert _kit(engine, "K100").shipment_id is None
    assert _kit(engine, "K101").shipment_id == shipment.id
    with pytest.raises(PermissionDeniedError):
        supply.ship_shipment(engine, trial["pharmacist"], number, DAY)
    supply.ship_shipment(engine, manager, number, _days(1))
    with pytest.raises(PermissionDeniedError):  # another site's staff
        supply.receive_shipment(engine, trial["pharmacist@B"], number, _days(2))
    supply.receive_shipment(engine, trial["pharmacist"], number, _days(2), damaged=["K201"])
    assert _kit(engine, "K201").kit_status == "damaged"
    assert _kit(engine, "K101").kit_status == "available"

    # the randomization dispenses the first dose's kit (Q3W: one 200 mg kit) on day 1
    s = _enrolled(trial, "S-1")
    allocation = randomize.randomize(engine, trial["coordinator"], s.id, day1=_days(3))
    with transaction(engine, read_only=True) as session:
        arm = allocation_service.arm_of(session, s.id)
        slot_kit = allocation_service.allocation_of(session, s.id).kit_number
    first = {"BIO": "K101", "REF": "K200"}[arm]
    assert (allocation.kit, allocation.kits, allocation.arm) == (first, (first,), None)
    assert slot_kit != first  # the slot's list kit is not used once the supply is in use
    kit = _kit(engine, first)
    assert (kit.kit_status, kit.subject_id, kit.dispensed_on) == ("dispensed", s.id, _days(3))
    # the next dosing visit: the next kit of the subject's arm, first expiry first
    given = dispensing.dispense(engine, trial["pharmacist"], s.id, _days(24))
    assert not hasattr(given[0], "arm")
    expected = {"BIO": "K102", "REF": "K202"}[arm]  # K201 is damaged
    assert [k.kit_number for k in given] == [expected]
    kit = _kit(engine, expected)
    assert (kit.kit_status, kit.subject_id, kit.dispensed_on) == ("dispensed", s.id, _days(24))
    # the doses name the dispensed kits: kit accountability accepts them
    for cycle, (day, number) in enumerate(((3, first), (24, expected)), start=1):
        clinical.record_dose(
            engine, trial["coordinator"], s.id, cycle=cycle, date=_days(day), dose_mg=200.0,
            kit_number=number,
        )  # fmt: skip
    assert verify_audit_trail(engine).ok


def test_blinded_inventory_shows_no_arm_and_only_the_actors_sites(trial, stocked):
    engine, manager = trial.engine, stocked
    shipment = supply.request_shipment(engine, manager, "D1", "A", {"BIO": 1, "REF": 1}, DAY)
    supply.ship_shipment(engine, manager, shipment.values["shipment_number"], DAY)
    supply.receive_shipment(engine, trial["pharmacist"], shipment.values["shipment_number"], DAY)
    site_rows = dispensing.inventory(engine, trial["pharmacist"])
    assert {(r.location, r.status, r.arm, r.kits) for r in site_rows} == {
        ("site A", "available", None, 2)
    }
    assert dispensing.inventory(engine, trial["pharmacist@B"]) == []
    monitor_rows = dispensing.inventory(engine, trial["monitor"])
    assert all(r.arm is None for r in monitor_rows)
    assert sum(r.kits for r in monitor_rows) == 8
    arms = {(r.location, r.arm): r.kits for r in dispensing.inventory(engine, manager)}
    assert arms[("site A", "BIO")] == 1 and arms[("depot D1", "REF")] == 3
    with pytest.raises(PermissionDeniedError):
        dispensing.inventory(engine, trial["blinded-statistician"])


def _available_at_a(engine):
    with transaction(engine, read_only=True) as session:
        query = select(m.Kit.kit_number).join(m.Site, m.Site.id == m.Kit.site_id)
        query = query.where(m.Site.code == "A", m.Kit.kit_status == "available")
        return sorted(session.scalars(query))


def test_quarantined_and_expired_kits_are_not_dispensed(trial, stocked):
    engine, manager = trial.engine, stocked
    shipment = supply.request_shipment(engine, manager, "D1", "A", {"BIO": 2, "REF": 2}, DAY)
    supply.ship_shipment(engine, manager, shipment.values["shipment_number"], DAY)
    supply.receive_shipment(engine, trial["pharmacist"], shipment.values["shipment_number"], DAY)
    s = _randomized(trial, "S-1", DAY)  # takes K101 or K200, its arm's first expiry
    left = _available_at_a(engine)
    assert len(left) == 3
    with pytest.raises(InvalidInputError) as refused:
        dispensing.quarantine(engine, trial["pharmacist"], left, " ")
    assert refused.value.field == "reason"
    dispensing.quarantine(engine, trial["pharmacist"], left, "temperature excursion")
    with pytest.raises(ConflictError, match="no usable kit"):
        dispensing.dispense(engine, trial["pharmacist"], s.id, DAY)
    with pytest.raises(PermissionDeniedError):
        dispensing.release(engine, trial["pharmacist"], left, "excursion assessed")
    dispensing.release(engine, manager, left, "excursion assessed: stable")
    # expiry days: K100 20, K200 200, K101 and K201 201; on day 202 those not dispensed (one of
    # K101 and K200 went to S-1) are expired: 3
    assert dispensing.expire_kits(engine, manager, _days(202)) == 3
    assert _kit(engine, "K201").kit_status == "expired"
    assert _kit(engine, "K102").kit_status == "available"
    with pytest.raises(ConflictError, match="no usable kit"):
        dispensing.dispense(engine, trial["pharmacist"], s.id, _days(202))


def test_reconciliation_finds_a_dispensed_kit_without_a_dose(trial, stocked):
    engine, manager = trial.engine, stocked
    shipment = supply.request_shipment(engine, manager, "D1", "A", {"BIO": 2, "REF": 2}, DAY)
    supply.ship_shipment(engine, manager, shipment.values["shipment_number"], DAY)
    supply.receive_shipment(engine, trial["pharmacist"], shipment.values["shipment_number"], DAY)
    s = _enrolled(trial, "S-1")
    (kit,) = randomize.randomize(engine, trial["coordinator"], s.id, day1=DAY).kits
    (row_a,) = [r for r in dispensing.reconcile_kits(engine, trial["monitor"]) if r.site == "A"]
    assert (row_a.received, row_a.dispensed, row_a.available) == (4, 1, 3)
    assert row_a.findings == (f"kit {kit}: dispensed, no dose recorded",)
    clinical.record_dose(
        engine, trial["coordinator"], s.id, cycle=1, date=DAY, dose_mg=200.0, kit_number=kit
    )
    (row_a,) = dispensing.reconcile_kits(engine, trial["pharmacist"])  # site staff: own site
    assert (row_a.site, row_a.doses_with_kit, row_a.kits_dosed, row_a.findings) == ("A", 1, 1, ())
    assert verify_audit_trail(engine).ok
