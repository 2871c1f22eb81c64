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


def _randomized(trial, number, site="A", who=""):
    s = subjects.enrol(
        trial.engine, trial[f"investigator{who}"], site, number, strata=STRATA, eligible=True,
        consent_date=DAY,
    )  # fmt: skip
    randomize.randomize(trial.engine, trial[f"coordinator{who}"], s.id)
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
    shipment = supply.request_shipment(engine, manager, "D1", "A", {"BIO": 2, "REF": 2}, DAY)
    number = shipment.values["shipment_number"]
    # K100 expires in 20 days (< 42 days left): not shipped; BIO gets K101, K102 (first expiry)
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

    s = _randomized(trial, "S-1")
    given = dispensing.dispense(engine, trial["pharmacist"], s.id, _days(3))
    assert not hasattr(given[0], "arm")
    with transaction(engine, read_only=True) as session:
        arm = allocation_service.arm_of(session, s.id)
    expected = {"BIO": "K101", "REF": "K200"}[arm]  # K201 is damaged; REF's first is K200
    assert [k.kit_number for k in given] == [expected]
    kit = _kit(engine, expected)
    assert (kit.kit_status, kit.subject_id, kit.dispensed_on) == ("dispensed", s.id, _days(3))
    # the dose names the dispensed kit: kit accountability accepts it
    clinical.record_dose(
        engine, trial["coordinator"], s.id, cycle=1, date=_days(3), dose_mg=200.0,
        kit_number=expected,
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


def test_quarantined_and_expired_kits_are_not_dispensed(trial, stocked):
    engine, manager = trial.engine, stocked
    shipment = supply.request_shipment(engine, manager, "D1", "A", {"BIO": 1, "REF": 1}, DAY)
    supply.ship_shipment(engine, manager, shipment.values["shipment_number"], DAY)
    supply.receive_shipment(engine, trial["pharmacist"], shipment.values["shipment_number"], DAY)
    s = _randomized(trial, "S-1")
    with pytest.raises(InvalidInputError) as refused:
        dispensing.quarantine(engine, trial["pharmacist"], ["K101", "K200"], " ")
    assert refused.value.field == "reason"
    dispensing.quarantine(engine, trial["pharmacist"], ["K101", "K200"], "temperature excursion")
    with pytest.raises(ConflictError, match="no usable kit"):
        dispensing.dispense(engine, trial["pharmacist"], s.id, DAY)
    with pytest.raises(PermissionDeniedError):
        dispensing.release(engine, trial["pharmacist"], ["K101"], "excursion assessed")
    dispensing.release(engine, manager, ["K101", "K200"], "excursion assessed: stable")
    # expiry days: K100 20, K200 200, K101 and K201 201; on day 202 those four are expired
    assert dispensing.expire_kits(engine, manager, _days(202)) == 4
    assert _kit(engine, "K101").kit_status == "expired"
    assert _kit(engine, "K102").kit_status == "available"
    with pytest.raises(ConflictError, match="no usable kit"):
        dispensing.dispense(engine, trial["pharmacist"], s.id, _days(202))


def test_resupply_sends_the_predicted_need_plus_safety_stock(trial, stocked):
    engine, manager = trial.engine, stocked
    s1, s2 = _randomized(trial, "S-1"), _randomized(trial, "S-2")
    with transaction(engine, read_only=True) as session:
        arms = [allocation_service.arm_of(session, s.id) for s in (s1, s2)]
    # no dose yet: each is due now and 21 days later within a 28-day horizon (200 mg Q3W, one
    # 200 mg kit a dose): 2 kits per subject; plus a safety stock of 1 per arm; nothing on hand
    as_of = dt.date.today()  # randomization dates are today's: plan from today
    fresh = (as_of - DAY).days + 365
    supply.register_kits(
        engine, manager, "D1", _kits(8, "BIO", 300, fresh) + _kits(8, "REF", 400, fresh)
    )
    shipments = dispensing.resupply(engine, manager, "D1", as_of, horizon_days=28, safety_stock=1)
    assert len(shipments) == 2  # site A (its need) and site B (the safety stock alone)
    with transaction(engine, read_only=True) as session:
        site_a = session.scalars(select(m.Site).where(m.Site.code == "A")).one().id
        kits = session.scalars(
            select(m.Kit).join(m.Shipment).where(m.Shipment.site_id == site_a)
        ).all()
        sent = {arm: sum(k.arm_code == arm for k in kits) for arm in ("BIO", "REF")}
    expected = {arm: 1 + 2 * arms.count(arm) for arm in ("BIO", "REF")}
    assert sent == expected
    # what is on its way counts: a second run sends nothing more to site A
    again = dispensing.resupply(engine, manager, "D1", as_of, horizon_days=28, safety_stock=1)
    assert site_a not in [r.values["site_id"] for r in again]
    with pytest.raises(PermissionDeniedError):
        dispensing.resupply(engine, trial["monitor"], "D1", as_of)


def test_reconciliation_finds_a_dispensed_kit_without_a_dose(trial, stocked):
    engine, manager = trial.engine, stocked
    shipment = supply.request_shipment(engine, manager, "D1", "A", {"BIO": 2, "REF": 2}, DAY)
    supply.ship_shipment(engine, manager, shipment.values["shipment_number"], DAY)
    supply.receive_shipment(engine, trial["pharmacist"], shipment.values["shipment_number"], DAY)
    s = _randomized(trial, "S-1")
    (kit,) = dispensing.dispense(engine, trial["pharmacist"], s.id, DAY)
    (row_a,) = [r for r in dispensing.reconcile_kits(engine, trial["monitor"]) if r.site == "A"]
    assert (row_a.received, row_a.dispensed, row_a.available) == (4, 1, 3)
    assert row_a.findings == (f"kit {kit.kit_number}: dispensed, no dose recorded",)
    clinical.record_dose(
        engine, trial["coordinator"], s.id, cycle=1, date=DAY, dose_mg=200.0,
        kit_number=kit.kit_number,
    )  # fmt: skip
    (row_a,) = dispensing.reconcile_kits(engine, trial["pharmacist"])  # site staff: own site
    assert (row_a.site, row_a.doses_with_kit, row_a.findings) == ("A", 1, ())
    assert verify_audit_trail(engine).ok
