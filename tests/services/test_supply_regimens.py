"""Drug supply by regimen, on SQLite and PostgreSQL: the randomization dispenses the first dose
from the site's stock (refused, writing nothing, when the site cannot dose every arm), a dose
takes the kits of the subject's regimen (200 mg kits: Q3W 1, Q6W 2), resupply and the forecast
follow each subject's regimen and planned dosing visits, blinded users see pooled counts, the
reconciliation counts the kits of a dose, and a data cut holds regimen periods and kits."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter

import pytest
from sqlalchemy import delete, func, select

from equitrial.errors import PermissionDeniedError
from equitrial.randomization import service as allocation_service
from equitrial.randomization.service import RandomizationRefusedError
from equitrial.services import (
    clinical,
    datacut,
    dispensing,
    outcomes,
    randomize,
    schedule,
    subjects,
    supply,
    users,
)
from equitrial.services.audit import verify_audit_trail
from equitrial.services.auth import actor_for
from equitrial.store import models as m
from equitrial.store.db import transaction

DAY = dt.date(2025, 3, 3)
PASSWORD = "correct horse battery"
STRATA = {"braf_v600": "mutant", "ecog_ps": "0", "m_stage_ldh": "M0-M1b, normal LDH"}
EXPIRY = DAY + dt.timedelta(days=400)


def _days(n: int) -> dt.date:
    return DAY + dt.timedelta(days=n)


@pytest.fixture
def manager(trial):
    users.add_user(trial.engine, trial["admin"], "supply", PASSWORD, ["supply-manager"])
    with transaction(trial.engine, read_only=True) as session:
        user = session.scalars(select(m.User).where(m.User.username == "supply")).one()
        manager = actor_for(session, user)
    supply.add_depot(trial.engine, manager, "D1", "Central depot")
    # kit numbers and lots that do not spell an arm: K1xx are BIO, K2xx REF
    kits = [
        {"kit_number": f"K{prefix}{i:02d}", "lot": "L1", "expiry": EXPIRY, "arm": arm}
        for arm, prefix in (("BIO", 1), ("REF", 2))
        for i in range(12)
    ]
    supply.register_kits(trial.engine, manager, "D1", kits)
    return manager


def _stock(trial, manager, site, quantities, on=None):
    on = _days(-40) if on is None else on
    pharmacist = trial["pharmacist" if site == "A" else f"pharmacist@{site}"]
    shipment = supply.request_shipment(trial.engine, manager, "D1", site, quantities, on)
    supply.ship_shipment(trial.engine, manager, shipment.values["shipment_number"], on)
    supply.receive_shipment(trial.engine, pharmacist, shipment.values["shipment_number"], on)


def _enrolled(trial, number, site="A"):
    who = "" if site == "A" else f"@{site}"
    return subjects.enrol(
        trial.engine, trial[f"investigator{who}"], site, number, strata=STRATA, eligible=True,
        consent_date=_days(-60),
    )  # fmt: skip


def _randomize(trial, subject, regimen, day1, site="A"):
    who = "" if site == "A" else f"@{site}"
    return randomize.randomize(
        trial.engine, trial[f"coordinator{who}"], subject.id, regimen=regimen, day1=day1
    )


def _arm(engine, subject_id):
    with transaction(engine, read_only=True) as session:
        return allocation_service.arm_of(session, subject_id)


def _site_stock(engine, manager, site="A"):
    rows = dispensing.inventory(engine, manager)
    return Counter(
        {r.arm: r.kits for r in rows if r.location == f"site {site}" and r.status == "available"}
    )


def _audit_rows(engine):
    with transaction(engine, read_only=True) as session:
        return session.scalar(select(func.count()).select_from(m.AuditTrail))


@pytest.fixture
def three(trial, manager):
    """Site A stocked with 4 kits of each arm, then three subjects randomized there:
    C on Q6W from day -30, A on Q3W from day 0, B on Q3W from day -10."""
    _stock(trial, manager, "A", {"BIO": 4, "REF": 4})
    people = {}
    for i, (name, regimen, day1) in enumerate(
        (("C", "Q6W", -30), ("A", "Q3W", 0), ("B", "Q3W", -10))
    ):
        people[name] = _enrolled(trial, f"S-{i + 1}")
        _randomize(trial, people[name], regimen, _days(day1))
    return people


def test_randomization_dispenses_the_first_dose_of_the_subjects_arm_from_the_site(trial, manager):
    engine = trial.engine
    _stock(trial, manager, "A", {"BIO": 4, "REF": 4})
    before = _site_stock(engine, manager)
    assert before == {"BIO": 4, "REF": 4}
    s = _enrolled(trial, "S-1")
    allocation = _randomize(trial, s, "Q6W", _days(-30))
    arm, other = _arm(engine, s.id), ({"BIO", "REF"} - {_arm(engine, s.id)}).pop()
    # a 400 mg Q6W dose from 200 mg kits: 2 kits, of the subject's arm only
    after = _site_stock(engine, manager)
    assert (after[arm], after[other]) == (2, 4)
    assert allocation.arm is None and len(allocation.kits) == 2
    assert allocation.kit == allocation.kits[0]
    assert "arm" not in allocation.to_dict() and allocation.to_dict()["kits"] == list(
        allocation.kits
    )
    with transaction(engine, read_only=True) as session:
        kits = session.scalars(select(m.Kit).where(m.Kit.subject_id == s.id)).all()
        assert {(k.kit_number, k.arm_code, k.dispensed_on) for k in kits} == {
            (number, arm, _days(-30)) for number in allocation.kits
        }
    # a repeated call returns the same kits and writes nothing
    trail = _audit_rows(engine)
    again = _randomize(trial, s, "Q6W", _days(-30))
    assert (again.new, again.kits) == (False, allocation.kits)
    assert _audit_rows(engine) == trail
    assert verify_audit_trail(engine).ok


def _next_arm(engine, subject_id):
    """The arm of the slot the subject would get (read as the allocation service does)."""
    with transaction(engine, read_only=True) as session:
        subject = session.get(m.Subject, subject_id)
        stratum = allocation_service.subject_stratum(
            allocation_service.study_protocol(subject.study), subject.strata_json
        )
        slot = session.scalars(
            select(m.RandomizationSchedule)
            .where(m.RandomizationSchedule.stratum == stratum)
            .where(m.RandomizationSchedule.subject_id.is_(None))
            .order_by(m.RandomizationSchedule.sequence_number)
        ).first()
        return slot.arm_code


def test_a_site_that_cannot_dose_every_arm_cannot_randomize_and_nothing_is_written(trial, manager):
    engine = trial.engine
    s, b = _enrolled(trial, "S-1"), _enrolled(trial, "S-2", site="B")
    _stock(trial, manager, "A", {"BIO": 1, "REF": 1})
    # site B holds 3 kits of the arm B's slot holds, none of the other: enough for the subject,
    # but a refusal that depended on the slot's arm would tell it, so B is refused too
    _stock(trial, manager, "B", {_next_arm(engine, b.id): 3})
    trail, stock = _audit_rows(engine), dispensing.inventory(engine, manager)
    for subject, regimen, site in ((s, "Q6W", "A"), (b, "Q3W", "B")):
        # Q6W takes 2 kits of each arm at A (1 each there); B holds no kit of one arm
        with pytest.raises(RandomizationRefusedError, match="too few usable kits") as refused:
            _randomize(trial, subject, regimen, DAY, site=site)
        assert refused.value.field == "kits"
        assert "BIO" not in refused.value.message and "REF" not in refused.value.message
    assert _audit_rows(engine) == trail
    assert dispensing.inventory(engine, manager) == stock
    with transaction(engine, read_only=True) as session:
        for subject in (s, b):
            assert session.get(m.Subject, subject.id).status == "eligible"
            assert allocation_service.allocation_of(session, subject.id) is None
        assert session.scalar(select(func.count()).select_from(m.RegimenPeriod)) == 0
        assert session.scalar(select(func.count()).select_from(m.Visit)) == 0
    # the same site doses a Q3W subject (1 kit of each arm on hand)
    assert len(_randomize(trial, s, "Q3W", DAY).kits) == 1


def test_resupply_predicts_each_subjects_regimen_and_planned_dosing_visits(trial, manager, three):
    engine = trial.engine
    arms = {name: _arm(engine, s.id) for name, s in three.items()}
    # As of day 0 over a 6-week (42-day) horizon, days 0 to 42 inclusive; the first dose's kits
    # were dispensed at randomization (day 1 of each subject), so its visit is served.
    #   C, 400 mg Q6W from day -30: visits -30 (served), 12, 54 (after the horizon): 1 dose
    #      x 2 kits = 2
    #   A, 200 mg Q3W from day 0: visits 0 (served), 21, 42: 2 doses x 1 kit = 2
    #   B, 200 mg Q3W from day -10: visits -10 (served), 11, 32, 53 (after): 2 x 1 = 2
    need = Counter({arms["C"]: 2}) + Counter({arms["A"]: 2}) + Counter({arms["B"]: 2})
    # on hand at A: 4 of each arm less what the randomizations took (C 2, A 1, B 1)
    taken = Counter({arms["C"]: 2}) + Counter({arms["A"]: 1}) + Counter({arms["B"]: 1})
    stock = {arm: 4 - taken[arm] for arm in ("BIO", "REF")}
    rows = dispensing.forecast(engine, manager, DAY, horizon_days=42)
    got = {(r.site, r.arm): (r.need, r.stock) for r in rows}
    assert {arm: got[("A", arm)] for arm in ("BIO", "REF")} == {
        arm: (need[arm], stock[arm]) for arm in ("BIO", "REF")
    }
    assert got[("B", "BIO")] == got[("B", "REF")] == (0, 0)
    shipments = dispensing.resupply(engine, manager, "D1", DAY, horizon_days=42, safety_stock=1)
    sent = {}
    with transaction(engine, read_only=True) as session:
        for shipment in shipments:
            site = session.get(m.Site, shipment.values["site_id"]).code
            kits = session.scalars(select(m.Kit).where(m.Kit.shipment_id == shipment.id))
            sent[site] = Counter(k.arm_code for k in kits)
    # need plus a safety stock of 1, less the stock: up to 2 + 2 + 2 + 1 - 0 = 7 of an arm
    assert sent["A"] == Counter({arm: max(0, need[arm] + 1 - stock[arm]) for arm in ("BIO", "REF")})
    assert sent["B"] == {"BIO": 1, "REF": 1}  # the safety stock alone
    # what is on its way counts: nothing more is sent
    assert dispensing.resupply(engine, manager, "D1", DAY, horizon_days=42, safety_stock=1) == []


def _pooled_need(trial, horizon):
    (row,) = dispensing.forecast(trial.engine, trial["pharmacist"], DAY, horizon_days=horizon)
    assert (row.site, row.arm) == ("A", None)
    return row.need


def test_the_need_follows_a_regimen_switch_and_stops_at_the_end_of_treatment(trial, three):
    # 21-day horizon from day 0: C's day-12 dose (2 kits), A's day 21 (1), B's day 11 (1): 4
    assert _pooled_need(trial, 21) == 4
    schedule.switch_regimen(
        trial.engine, trial["investigator"], three["B"].id, "Q6W", effective=_days(11),
        reason="patient preference",
    )  # fmt: skip
    # B's day-11 dose is now 400 mg Q6W: 2 kits; 2 + 1 + 2 = 5
    assert _pooled_need(trial, 21) == 5
    outcomes.record_disposition(
        trial.engine, trial["investigator"], three["A"].id, scope="END OF TREATMENT",
        decod="ADVERSE EVENT", date=DAY,
    )  # fmt: skip
    # A's treatment ended on day 0: its day-21 kit is no longer needed; 2 + 2 = 4
    assert _pooled_need(trial, 21) == 4


def test_a_subject_without_planned_visits_is_predicted_from_its_regimens_interval(trial, three):
    # C randomized before the visit schedule existed: no planned visit; its need comes from its
    # current regimen, 400 mg Q6W: last kits dispensed on day -30, next dose day 12, then day 54
    # (after a 42-day horizon): 1 dose x 2 kits. Under Q3W it would be days -9 (overdue, once),
    # 12 and 33: 3 kits.
    with transaction(trial.engine) as session:
        session.execute(delete(m.Visit).where(m.Visit.subject_id == three["C"].id))
    assert _pooled_need(trial, 42) == 2 + 2 + 2  # C 2, A 2 and B 2 as in the resupply test


def test_blinded_users_see_the_forecast_and_inventory_pooled(trial, manager, three):
    engine = trial.engine
    total = sum(r.need for r in dispensing.forecast(engine, manager, DAY, horizon_days=42))
    assert total == 6  # C 2 + A 2 + B 2, by hand in the resupply test
    for role in ("pharmacist", "coordinator", "monitor", "data-manager"):
        rows = dispensing.forecast(engine, trial[role], DAY, horizon_days=42)
        assert all(r.arm is None for r in rows)
        # need 6; stock 8 - 4 taken by the randomizations = 4, whatever the arms: short 2
        assert {r.site: (r.need, r.stock, r.short) for r in rows}["A"] == (6, 4, 2)
    assert [r.site for r in dispensing.forecast(engine, trial["pharmacist@B"], DAY)] == ["B"]
    assert all(r.arm is None for r in dispensing.inventory(engine, trial["pharmacist"]))
    with pytest.raises(PermissionDeniedError):
        dispensing.forecast(engine, trial["blinded-statistician"], DAY)


def test_a_q6w_dose_takes_two_kits_and_reconciles_as_one_dose(trial, manager, three):
    engine, c = trial.engine, three["C"]
    with transaction(engine, read_only=True) as session:
        first = sorted(session.scalars(select(m.Kit.kit_number).where(m.Kit.subject_id == c.id)))
    clinical.record_dose(
        engine, trial["coordinator"], c.id, cycle=1, date=_days(-30), dose_mg=400.0,
        kit_number=first[0],
    )  # fmt: skip
    (row,) = [r for r in dispensing.reconcile_kits(engine, trial["monitor"]) if r.site == "A"]
    # the dose accounts for both kits dispensed with it; A's and B's first kits have no dose
    assert (row.dispensed, row.doses_with_kit, row.kits_dosed) == (4, 1, 2)
    assert all(first[1] not in finding for finding in row.findings)
    assert len(row.findings) == 2
    _stock(trial, manager, "A", {"BIO": 3, "REF": 3}, on=DAY)  # whatever arms took the first 4
    given = dispensing.dispense(engine, trial["pharmacist"], c.id, _days(12))
    assert len(given) == 2  # the dosing visit dispenses the dose's kits: 400 mg = 2 x 200 mg
    one = dispensing.dispense(engine, trial["pharmacist"], c.id, _days(54), kits=1)
    clinical.record_dose(
        engine, trial["coordinator"], c.id, cycle=3, date=_days(54), dose_mg=400.0,
        kit_number=one[0].kit_number,
    )  # fmt: skip
    (row,) = [r for r in dispensing.reconcile_kits(engine, trial["monitor"]) if r.site == "A"]
    assert f"dose of {c.subject_code} on {_days(54)}: Q6W takes 2 kits, 1 dispensed" in row.findings


def test_a_data_cut_holds_regimen_periods_visits_and_kits_without_arms(trial, manager, three):
    engine = trial.engine
    ids = {s.id: name for name, s in three.items()}
    datacut.cut_data(engine, trial["data-manager"], "day 0", DAY)
    datacut.cut_data(engine, trial["data-manager"], "day -20", _days(-20))
    with transaction(engine, read_only=True) as session:
        docs = {c.name: json.loads(c.snapshot_json) for c in session.scalars(select(m.DataCut))}
    doc = docs["day 0"]
    periods = {(ids[r["subject_id"]], r["regimen"], r["start_date"]) for r in doc["regimen_period"]}
    assert periods == {
        ("C", "Q6W", str(_days(-30))), ("A", "Q3W", str(DAY)), ("B", "Q3W", str(_days(-10)))
    }  # fmt: skip
    kits = Counter((ids[r["subject_id"]], r["dispensed_on"]) for r in doc["kit"])
    assert kits == {("C", str(_days(-30))): 2, ("A", str(DAY)): 1, ("B", str(_days(-10))): 1}
    # planned dosing visits on or before the cut-off, done or not: C day -30, A day 0, B day -10
    dosing = {
        (ids[v["subject_id"]], v["planned_date"])
        for v in doc["visit"]
        if "dosing" in v["assessments"].split(",")
    }
    assert dosing == {("C", str(_days(-30))), ("A", str(DAY)), ("B", str(_days(-10)))}
    text = json.dumps(docs)
    assert "arm_code" not in text and '"BIO"' not in text and '"REF"' not in text
    early = docs["day -20"]
    assert [ids[r["subject_id"]] for r in early["regimen_period"]] == ["C"]
    assert len(early["kit"]) == 2
