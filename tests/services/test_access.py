"""Access: blinding through every service, site scope; audit of logins, roles, unblinding."""

from __future__ import annotations

import dataclasses
import datetime as dt
import importlib
import inspect
import io
import pkgutil
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

import equitrial.services as services_pkg
from equitrial.errors import EquitrialError, InvalidInputError, PermissionDeniedError
from equitrial.services import (
    assessments,
    baseline,
    clinical,
    conmeds,
    datacut,
    dispensing,
    exposure,
    forms,
    lab_import,
    outcomes,
    overdue,
    queries,
    questionnaires,
    randomize,
    samples,
    schedule,
    sites,
    status,
    study,
    subjects,
    supply,
    unblinding,
    users,
)
from equitrial.services.auth import actor_for, authenticate
from equitrial.store import models as m
from equitrial.store.db import transaction

PASSWORD = "correct horse battery"
STRATA = {"braf_v600": "mutant", "ecog_ps": "1", "m_stage_ldh": "M1c or elevated LDH"}
DAY = dt.date(2024, 3, 1)
AT = dt.datetime(2024, 3, 1, 9, 0, tzinfo=dt.UTC)
NOT_USE_CASES = {"design", "simulation"}  # statistics services: no database, no subjects


def _use_cases() -> dict[str, Callable[..., Any]]:
    """Every public function of the services that acts as a user: ``f(engine, actor, ...)``."""
    found = {}
    for info in pkgutil.iter_modules(services_pkg.__path__):
        if info.name.startswith("_") or info.name in NOT_USE_CASES:
            continue
        module = importlib.import_module(f"equitrial.services.{info.name}")
        for name in getattr(module, "__all__", ()):
            function = getattr(module, name)
            if not inspect.isfunction(function):
                continue
            params = list(inspect.signature(function).parameters)
            if params[:2] == ["engine", "actor"]:
                found[f"{info.name}.{name}"] = function
    return found


@dataclasses.dataclass
class World:
    subject: int
    ae: int
    query: int
    arm: str
    kit: str
    shipment: str  # shipped to site A, not yet received
    site_kit: str  # a kit available at site A


def _stock_site_a(trial) -> tuple[str, str]:
    """A depot with kits, a shipment received at site A and one on its way there."""
    users.add_user(trial.engine, trial["admin"], "supply", PASSWORD, ["supply-manager"])
    with transaction(trial.engine, read_only=True) as session:
        manager = actor_for(
            session, session.scalars(select(m.User).filter_by(username="supply")).one()
        )
    supply.add_depot(trial.engine, manager, "D1", "depot")
    expiry = DAY + dt.timedelta(days=400)
    kits = [
        {"kit_number": f"K{arm}{i}", "lot": "L1", "expiry": expiry, "arm": arm}
        for arm in ("BIO", "REF")
        for i in range(4)
    ]
    supply.register_kits(trial.engine, manager, "D1", kits)
    numbers = []
    for _ in range(2):
        sent = supply.request_shipment(trial.engine, manager, "D1", "A", {"BIO": 1, "REF": 1}, DAY)
        numbers.append(sent.values["shipment_number"])
        supply.ship_shipment(trial.engine, manager, numbers[-1], DAY)
    supply.receive_shipment(trial.engine, trial["pharmacist"], numbers[0], DAY)
    return numbers[1], "KBIO0"


@pytest.fixture
def world(trial) -> World:
    s = subjects.enrol(
        trial.engine, trial["investigator"], "A", "S-1", strata=STRATA, eligible=True
    )
    kit = randomize.randomize(trial.engine, trial["coordinator"], s.id).kit
    ae = clinical.report_adverse_event(
        trial.engine, trial["coordinator"], s.id, term="Colitis", grade=2, start_date=DAY
    )
    dose = clinical.record_dose(
        trial.engine,
        trial["coordinator"],
        s.id,
        cycle=1,
        date=DAY,
        dose_mg=30.0,  # a partial dose (interrupted infusion) opens the query
        kit_number=kit,
        interrupted=True,
        reason="infusion reaction",
    )
    (arm,) = [
        r.arm for r in randomize.list_allocations(trial.engine, trial["unblinded-statistician"])
    ]
    return World(s.id, ae.id, dose.query_ids[0], arm, kit, *_stock_site_a(trial))


CALLS: dict[str, Callable[[Any, Any, World], Any]] = {
    "assessments.add_lesion": lambda e, a, w: assessments.add_lesion(
        e,
        a,
        w.subject,
        lesion_code="T1",
        organ="liver",
        nodal=False,
        role="target",
        reader="investigator",
    ),
    "assessments.record_assessment": lambda e, a, w: assessments.record_assessment(
        e, a, w.subject, reader="investigator", assessment_date=DAY, measurements=[]
    ),
    "clinical.record_visit": lambda e, a, w: clinical.record_visit(
        e, a, w.subject, "C1D1", planned_date=DAY, actual_date=DAY
    ),
    "clinical.record_dose": lambda e, a, w: clinical.record_dose(
        e, a, w.subject, cycle=2, date=DAY, dose_mg=200.0, kit_number=w.kit
    ),
    "clinical.report_adverse_event": lambda e, a, w: clinical.report_adverse_event(
        e, a, w.subject, term="Fatigue", grade=1, start_date=DAY
    ),
    "clinical.record_lab": lambda e, a, w: clinical.record_lab(
        e,
        a,
        w.subject,
        test="Anemia",
        value=9.0,
        unit="g/dL",
        lln=12.0,
        uln=16.0,
        collected_at=dt.datetime(2024, 3, 2, tzinfo=dt.UTC),
    ),
    "clinical.update_record": lambda e, a, w: clinical.update_record(
        e, a, "adverse_event", w.ae, {"grade": 3}, reason="re-read"
    ),
    "datacut.cut_data": lambda e, a, w: datacut.cut_data(e, a, f"cut-{a.username}", DAY),
    "queries.open_query": lambda e, a, w: queries.open_query(
        e, a, "adverse_event", w.ae, "grade", "please check"
    ),
    "queries.answer_query": lambda e, a, w: queries.answer_query(e, a, w.query, "checked"),
    "queries.close_query": lambda e, a, w: queries.close_query(e, a, w.query, "ok"),
    "queries.reopen_query": lambda e, a, w: queries.reopen_query(e, a, w.query, "again"),
    "queries.query_thread": lambda e, a, w: queries.query_thread(e, a, w.query),
    "queries.list_queries": lambda e, a, w: queries.list_queries(e, a, status="open"),
    "lab_import.import_lab_transfer": lambda e, a, w: lab_import.import_lab_transfer(
        e,
        a,
        io.StringIO(
            "subject,test,value,unit,collected_at,lln,uln\n"
            f"A-0001,Anemia,{9 + (a.user_id or 0) / 100},g/dL,2024-03-02T08:00:00+00:00,12,16\n"
        ),
    ),
    "randomize.randomize": lambda e, a, w: randomize.randomize(e, a, w.subject),
    "randomize.list_allocations": lambda e, a, w: randomize.list_allocations(e, a),
    "randomize.generate_list": lambda e, a, w: randomize.generate_list(
        e, a, seed=2**130, per_stratum_slots=2
    ),
    "sites.add_site": lambda e, a, w: sites.add_site(e, a, f"S{a.user_id}", "another site"),
    "sites.list_sites": lambda e, a, w: sites.list_sites(e, a),
    "status.verify": lambda e, a, w: status.verify(e, a, "adverse_event", w.ae),
    "status.sign": lambda e, a, w: status.sign(
        e, a, "adverse_event", w.ae, password=PASSWORD, meaning="approve"
    ),
    "status.freeze": lambda e, a, w: status.freeze(e, a, "adverse_event", w.ae),
    "status.unfreeze": lambda e, a, w: status.unfreeze(e, a, "adverse_event", w.ae, reason="fix"),
    "status.lock_record": lambda e, a, w: status.lock_record(e, a, "adverse_event", w.ae),
    "status.record_signatures": lambda e, a, w: status.record_signatures(
        e, a, "adverse_event", w.ae
    ),
    "status.lock_database": lambda e, a, w: None,  # run last, separately (it stops every write)
    "study.load_study": lambda e, a, w: study.load_study(e, a, _protocol()),
    "study.show_study": lambda e, a, w: study.show_study(e, a),
    "subjects.enrol": lambda e, a, w: subjects.enrol(e, a, "A", f"X-{a.user_id}", strata=STRATA),
    "subjects.confirm_eligibility": lambda e, a, w: subjects.confirm_eligibility(
        e, a, w.subject, True, reason="re-check"
    ),
    "subjects.correct_strata": lambda e, a, w: subjects.correct_strata(
        e, a, w.subject, {"ecog_ps": "0"}, reason="source document says 0"
    ),
    "subjects.get_subject": lambda e, a, w: subjects.get_subject(e, a, w.subject),
    "subjects.list_subjects": lambda e, a, w: subjects.list_subjects(e, a),
    "unblinding.unblinding_report": lambda e, a, w: unblinding.unblinding_report(e, a),
    "schedule.switch_regimen": lambda e, a, w: schedule.switch_regimen(
        e, a, w.subject, "Q6W", effective=dt.datetime.now(dt.UTC).date(), reason="preference"
    ),
    "overdue.overdue_report": lambda e, a, w: overdue.overdue_report(e, a, DAY),
    "exposure.subject_exposure": lambda e, a, w: exposure.subject_exposure(e, a),
    "users.add_user": lambda e, a, w: users.add_user(
        e, a, f"new-{a.user_id}", PASSWORD, ["monitor"]
    ),
    "users.add_users": lambda e, a, w: users.add_users(
        e, a, [users.NewUser(f"newer-{a.user_id}", PASSWORD, ("monitor",))]
    ),
    "users.grant_role": lambda e, a, w: users.grant_role(e, a, "monitor", "data-manager"),
    "users.revoke_role": lambda e, a, w: users.revoke_role(e, a, "monitor", "monitor"),
    "users.set_password": lambda e, a, w: users.set_password(e, a, a.username, PASSWORD),
    "supply.add_depot": lambda e, a, w: supply.add_depot(e, a, f"D{a.user_id}", "another depot"),
    "supply.register_kits": lambda e, a, w: supply.register_kits(
        e, a, "D1", [{"kit_number": f"X{a.user_id}", "lot": "L2", "expiry": DAY, "arm": w.arm}]
    ),
    "supply.request_shipment": lambda e, a, w: supply.request_shipment(
        e, a, "D1", "A", {w.arm: 1}, DAY
    ),
    "supply.ship_shipment": lambda e, a, w: supply.ship_shipment(e, a, w.shipment, DAY),
    "supply.receive_shipment": lambda e, a, w: supply.receive_shipment(e, a, w.shipment, DAY),
    "dispensing.dispense": lambda e, a, w: dispensing.dispense(e, a, w.subject, DAY),
    "dispensing.quarantine": lambda e, a, w: dispensing.quarantine(e, a, [w.site_kit], "heat"),
    "dispensing.release": lambda e, a, w: dispensing.release(e, a, [w.site_kit], "assessed"),
    "dispensing.expire_kits": lambda e, a, w: dispensing.expire_kits(e, a, DAY),
    "dispensing.inventory": lambda e, a, w: dispensing.inventory(e, a),
    "dispensing.resupply": lambda e, a, w: dispensing.resupply(e, a, "D1", DAY),
    "dispensing.forecast": lambda e, a, w: dispensing.forecast(e, a, DAY),
    "dispensing.reconcile_kits": lambda e, a, w: dispensing.reconcile_kits(e, a),
    "samples.record_pk_sample": lambda e, a, w: samples.record_pk_sample(
        e,
        a,
        w.subject,
        timing="PRE-DOSE",
        nominal_hours=0.0,
        collected_at=AT,
        concentration=25.0,
    ),
    "samples.record_ada_sample": lambda e, a, w: samples.record_ada_sample(
        e, a, w.subject, collected_at=AT, screening_result="NEGATIVE"
    ),
    "questionnaires.record_qlq_c30": lambda e, a, w: questionnaires.record_qlq_c30(
        e, a, w.subject, date=DAY, items={i: 1 if i <= 28 else 6 for i in range(1, 31)}
    ),
    "conmeds.record_con_med": lambda e, a, w: conmeds.record_con_med(
        e,
        a,
        w.subject,
        name="prednisolone",
        route="ORAL",
        start=DAY,
        ongoing=True,
        adverse_event_id=w.ae,
    ),
    "conmeds.record_subsequent_therapy": lambda e, a, w: conmeds.record_subsequent_therapy(
        e, a, w.subject, name="ipilimumab", therapy_type="IMMUNOTHERAPY", start_date=DAY
    ),
    "outcomes.record_disposition": lambda e, a, w: outcomes.record_disposition(
        e, a, w.subject, scope="END OF TREATMENT", decod="ADVERSE EVENT", date=DAY
    ),
    "outcomes.record_death": lambda e, a, w: outcomes.record_death(
        e, a, w.subject, date=DAY, cause="PROGRESSIVE DISEASE"
    ),
    "outcomes.record_screen_failure": lambda e, a, w: outcomes.record_screen_failure(
        e, a, w.subject, date=DAY, reason="WITHDRAWAL BY SUBJECT"
    ),  # refused: the world's subject is randomized
    "baseline.record_demographics": lambda e, a, w: baseline.record_demographics(
        e,
        a,
        w.subject,
        age=60,
        sex="M",
        race="WHITE",
        ethnicity="NOT REPORTED",
        country="FRA",
        region="EUROPE",
        ecog_ps=1,
        braf_v600="MUTANT",
        m_stage="M1c",
        ldh_value=200.0,
        ldh_uln=250.0,
        brain_metastases="N",
        prior_adjuvant="N",
    ),
    "baseline.record_medical_history": lambda e, a, w: baseline.record_medical_history(
        e,
        a,
        w.subject,
        term="Vitiligo",
        category="AUTOIMMUNE DISEASE",
        start_date=DAY,
        ongoing=True,
    ),
    "baseline.record_consent": lambda e, a, w: baseline.record_consent(
        e, a, w.subject, consent_date=DAY, version="1.0"
    ),
    "forms.new_record": lambda e, a, w: forms.new_record(
        e,
        a,
        forms.FORMS["subsequent_therapy"],
        w.subject,
        {"name": "dabrafenib", "therapy_type": "TARGETED THERAPY", "start_date": DAY},
    ),
    "forms.update_form": lambda e, a, w: forms.update_form(
        e, a, "subsequent_therapy", 1, {"name": "trametinib"}, reason="source says trametinib"
    ),
}
# The emergency unblinding reveals the arm to the subject's investigator by design; it is tested
# on its own below (reason required, audited, reported to the unblinded roles).
EXEMPT = {"unblinding.unblind"}


def _protocol():
    from pathlib import Path

    return Path(__file__).parents[2] / "examples" / "melanoma-pembrolizumab" / "protocol.toml"


def _arm_leaks(value: Any, arm: str, path: str = "") -> list[str]:
    """Where ``value`` shows an allocation arm: an ``arm``/``arm_code`` field, a slot, the code."""
    if isinstance(value, m.Base):
        return [f"{path}: a database object ({type(value).__name__}) was returned"]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        leaks = []
        for key, item in value.items():
            if key in {"arm", "arm_code"} and item is not None:
                leaks.append(f"{path}.{key} = {item!r}")
            elif key not in {
                "protocol",
                "arms",
            }:  # the protocol's list of arms is not an allocation
                leaks += _arm_leaks(item, arm, f"{path}.{key}")
        return leaks
    if isinstance(value, list | tuple | set | frozenset):
        return [
            leak for i, item in enumerate(value) for leak in _arm_leaks(item, arm, f"{path}[{i}]")
        ]
    return [f"{path} = {value!r}"] if value == arm else []


def test_call_table_covers_every_use_case():
    assert set(CALLS) | EXEMPT == set(_use_cases())


BLINDED = [
    "investigator",
    "coordinator",
    "pharmacist",
    "investigator@B",
    "coordinator@B",
    "pharmacist@B",
    "admin",
    "data-manager",
    "monitor",
    "blinded-statistician",
]


def test_blinded_actor_cannot_obtain_the_arm_through_any_service(trial, world):
    leaks, succeeded = [], set()
    for role in BLINDED:
        actor = trial[role]
        for name, call in CALLS.items():
            try:
                result = call(trial.engine, actor, world)
            except EquitrialError:
                continue
            succeeded.add(name)
            leaks += [f"{role} {name}{leak}" for leak in _arm_leaks(result, world.arm)]
    assert leaks == []
    # the table really exercised the services (not just refusals)
    assert {"randomize.randomize", "subjects.get_subject", "study.show_study"} <= succeeded
    assert {"dispensing.dispense", "dispensing.inventory", "supply.receive_shipment"} <= succeeded
    assert {"dispensing.forecast", "dispensing.reconcile_kits"} <= succeeded
    with transaction(trial.engine, read_only=True) as session:
        fields = set(session.scalars(select(m.AuditTrail.field)))
    assert "arm_code" not in fields  # the audit trail (read by blinded monitors) holds no arm


def test_unblinding_needs_reason_is_audited_and_reported(trial, world):
    with pytest.raises(InvalidInputError, match="reason"):
        unblinding.unblind(trial.engine, trial["investigator"], world.subject, reason=" ")
    for role in ("coordinator", "monitor", "investigator@B", "unblinded-statistician"):
        with pytest.raises(PermissionDeniedError):
            unblinding.unblind(trial.engine, trial[role], world.subject, reason="curious")
    event = unblinding.unblind(
        trial.engine, trial["investigator"], world.subject, reason="grade 4 colitis, management"
    )
    assert event.arm == world.arm
    report = unblinding.unblinding_report(trial.engine, trial["unblinded-statistician"])
    assert [(r.subject_code, r.username, r.arm) for r in report] == [
        ("A-0001", "investigator-a", world.arm)
    ]
    with transaction(trial.engine, read_only=True) as session:
        rows = list(session.scalars(select(m.AuditTrail).where(m.AuditTrail.action == "unblind")))
    assert [(r.username, r.reason) for r in rows] == [
        ("investigator-a", "grade 4 colitis, management")
    ]


def test_site_a_coordinator_cannot_read_or_write_site_b_subjects(trial):
    b = subjects.enrol(
        trial.engine, trial["investigator@B"], "B", "B-1", strata=STRATA, eligible=True
    )
    a = subjects.enrol(
        trial.engine, trial["investigator"], "A", "A-1", strata=STRATA, eligible=True
    )
    coordinator = trial["coordinator"]
    attempts = {
        "read": lambda: subjects.get_subject(trial.engine, coordinator, b.id),
        "read by code": lambda: subjects.get_subject(trial.engine, coordinator, b.subject_code),
        "enrol at B": lambda: subjects.enrol(trial.engine, coordinator, "B", "B-2"),
        "randomize": lambda: randomize.randomize(trial.engine, coordinator, b.id),
        "record AE": lambda: clinical.report_adverse_event(
            trial.engine, coordinator, b.id, term="Fatigue", grade=1, start_date=DAY
        ),
        "record dose": lambda: clinical.record_dose(
            trial.engine, coordinator, b.id, cycle=1, date=DAY, dose_mg=200.0
        ),
    }
    for attempt in attempts.values():
        with pytest.raises(PermissionDeniedError):
            attempt()
    assert [s.id for s in subjects.list_subjects(trial.engine, coordinator)] == [a.id]
    assert [s.id for s in subjects.list_subjects(trial.engine, trial["monitor"])] == [b.id, a.id]
    with transaction(trial.engine, read_only=True) as session:
        b_rows = session.scalars(select(m.Subject).where(m.Subject.site_id != a_site(session)))
        assert [s.screening_number for s in b_rows] == ["B-1"]
        assert (
            session.scalar(
                select(m.RandomizationSchedule.id).where(m.RandomizationSchedule.subject_id == b.id)
            )
            is None
        )


def a_site(session):
    return session.scalar(select(m.Site.id).where(m.Site.code == "A"))


def test_login_failed_login_and_role_changes_are_audited(trial):
    actor = authenticate(trial.engine, "monitor", PASSWORD)
    assert actor.roles == frozenset({"monitor"}) and actor.site_ids is None
    for username, password in (("monitor", "wrong password"), ("nobody", PASSWORD)):
        with pytest.raises(PermissionDeniedError, match="unknown user or wrong password"):
            authenticate(trial.engine, username, password)
    users.grant_role(trial.engine, trial["admin"], "coordinator-a", "coordinator", site="B")
    users.revoke_role(trial.engine, trial["admin"], "coordinator-a", "coordinator", site="B")
    with pytest.raises(PermissionDeniedError):
        users.grant_role(trial.engine, trial["data-manager"], "monitor", "admin")
    with transaction(trial.engine, read_only=True) as session:
        rows = list(session.scalars(select(m.AuditTrail).order_by(m.AuditTrail.id)))
    logins = [(r.action, r.username) for r in rows if r.action.startswith("login")]
    assert logins[:2] == [("login", "monitor"), ("login-failed", "monitor")]
    # an unknown name is recorded as a keyed digest, never in clear (it may be a password)
    assert len(logins) == 3 and logins[2][0] == "login-failed"
    assert logins[2][1].startswith("unknown:") and "nobody" not in logins[2][1]
    changes = [(r.old_value, r.new_value) for r in rows if r.action == "role-change"][-2:]
    assert changes == [(None, "coordinator@B"), ("coordinator@B", None)]
    assert not any("argon2" in (r.new_value or "") for r in rows)  # no hash in the trail
