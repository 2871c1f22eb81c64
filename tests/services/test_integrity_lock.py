"""The database lock serializes with every write, and after it nothing of the study changes.

Issue #8, item 5. On PostgreSQL every writing use case takes the study row ``FOR SHARE`` as its
open-study check and the lock takes it ``FOR UPDATE``
(``services._base.ensure_study_open``); on SQLite ``BEGIN IMMEDIATE`` serializes writers.
The race test checks the outcome on the audit chain, which is appended to serially: no data
audit row (insert, update, delete) may come after the lock's own ``lock`` row.
"""

from __future__ import annotations

import datetime as dt
import importlib
import inspect
import io
import pkgutil
import random
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

import equitrial.services as services_pkg
from equitrial.errors import ConflictError
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
from equitrial.services._base import StudyLockedError
from equitrial.services.auth import actor_for
from equitrial.store import models as m
from equitrial.store.db import transaction

PASSWORD = "correct horse battery"
STRATA = {"braf_v600": "mutant", "ecog_ps": "0", "m_stage_ldh": "M0-M1b, normal LDH"}
DAY = dt.date(2024, 3, 1)
AT = dt.datetime(2024, 3, 1, 9, 0, tzinfo=dt.UTC)
PROTOCOL = Path(__file__).parents[2] / "examples" / "melanoma-pembrolizumab" / "protocol.toml"
DATA_ACTIONS = ("insert", "update", "delete")
NOT_USE_CASES = {"design", "simulation"}
ROUNDS = 5


def _use_cases():
    """Every public function of the services that acts as a user: ``f(engine, actor, ...)``."""
    found = set()
    for info in pkgutil.iter_modules(services_pkg.__path__):
        if info.name.startswith("_") or info.name in NOT_USE_CASES:
            continue
        module = importlib.import_module(f"equitrial.services.{info.name}")
        for name in getattr(module, "__all__", ()):
            function = getattr(module, name)
            if inspect.isfunction(function):
                if list(inspect.signature(function).parameters)[:2] == ["engine", "actor"]:
                    found.add(f"{info.name}.{name}")
    return found


def _audit_rows(engine):
    with transaction(engine, read_only=True) as session:
        return session.scalar(select(func.count()).select_from(m.AuditTrail))


# -- the race -------------------------------------------------------------------------------


def _writer(step, stop, done, errors):
    """Repeat ``step`` until the study is locked (or ``stop``); count the writes."""
    while not stop.is_set():
        try:
            step()
        except StudyLockedError:
            return
        except Exception as error:  # anything else fails the test
            errors.append(error)
            return
        done.append(1)


def _late_data_rows(engine):
    """Data audit rows written after the last ``lock`` row of the study."""
    with transaction(engine, read_only=True) as session:
        lock_row = session.scalar(
            select(func.max(m.AuditTrail.id)).where(
                m.AuditTrail.action == "lock", m.AuditTrail.table_name == "study"
            )
        )
        late = session.scalars(
            select(m.AuditTrail).where(
                m.AuditTrail.id > lock_row, m.AuditTrail.action.in_(DATA_ACTIONS)
            )
        ).all()
        return lock_row, [(r.id, r.username, r.table_name, r.field) for r in late]


def _unlock_for_the_next_round(engine):
    # test harness only: no use case unlocks a study; reset the column to race again
    with transaction(engine) as session:
        session.execute(update(m.Study).values(locked_at=None))


def test_no_write_commits_after_the_database_lock(trial):
    engine = trial.engine
    ids = [
        subjects.enrol(
            engine, trial["coordinator"], "A", f"RACE-{i}", consent_date=DAY, strata=STRATA
        ).id
        for i in range(4)
    ]
    ae = clinical.report_adverse_event(
        engine, trial["coordinator"], ids[0], term="Fatigue", grade=1, start_date=DAY
    )
    query_ids = [
        queries.open_query(engine, trial["monitor"], "adverse_event", ae.id, f, "check").id
        for f in ("grade", "term")
    ]

    def record_ae(subject_id):
        clinical.report_adverse_event(
            engine, trial["coordinator"], subject_id, term="Nausea", grade=1, start_date=DAY
        )

    def cycle_query(query_id):
        queries.answer_query(engine, trial["coordinator"], query_id, "checked")
        queries.reopen_query(engine, trial["monitor"], query_id, "check again")

    steps = [lambda s=s: record_ae(s) for s in ids[:2]]
    steps += [lambda q=q: cycle_query(q) for q in query_ids]
    for k in range(ROUNDS):
        stop, errors, done = threading.Event(), [], []
        threads = [threading.Thread(target=_writer, args=(s, stop, done, errors)) for s in steps]
        for thread in threads:
            thread.start()
        time.sleep(random.uniform(0.1, 0.3))
        status.lock_database(engine, trial["data-manager"], reason=f"race round {k}")
        stop.set()
        for thread in threads:
            thread.join(timeout=120)
        assert errors == [], errors
        assert done, "no write ran before the lock: the round tested nothing"
        lock_row, late = _late_data_rows(engine)
        assert late == [], f"round {k}: written after the lock (audit row {lock_row}): {late}"
        _unlock_for_the_next_round(engine)
        for query_id in query_ids:  # a cycle cut short by the lock leaves the query answered
            if queries.query_thread(engine, trial["monitor"], query_id).status == "answered":
                queries.reopen_query(engine, trial["monitor"], query_id, "next round")


# -- after the lock -------------------------------------------------------------------------


def _to(trial, table, record_id, upto):
    steps = ["verify", "sign", "freeze"][: ["verified", "signed", "frozen"].index(upto) + 1]
    for step in steps:
        if step == "verify":
            status.verify(trial.engine, trial["monitor"], table, record_id)
        elif step == "sign":
            status.sign(
                trial.engine,
                trial["investigator"],
                table,
                record_id,
                password=PASSWORD,
                meaning="I approve these data",
            )
        else:
            status.freeze(trial.engine, trial["data-manager"], table, record_id)


@pytest.fixture
def world(trial, tmp_path):
    e, coordinator = trial.engine, trial["coordinator"]
    s = subjects.enrol(
        e, trial["investigator"], "A", "L-1", strata=STRATA, eligible=True, consent_date=DAY
    )
    kit = randomize.randomize(e, coordinator, s.id).kit
    waiting = subjects.enrol(
        e, trial["investigator"], "A", "L-2", strata=STRATA, eligible=True, consent_date=DAY
    )

    def ae(term):
        return clinical.report_adverse_event(
            e, coordinator, s.id, term=term, grade=2, start_date=DAY
        ).id

    records = {
        name: ae(term)
        for name, term in (
            ("entered", "Fatigue"),
            ("verified", "Nausea"),
            ("signed", "Colitis"),
            ("frozen", "Pruritus"),
            ("frozen too", "Diarrhea"),
        )
    }
    for name, state in (
        ("verified",) * 2,
        ("signed",) * 2,
        ("frozen",) * 2,
        ("frozen too", "frozen"),
    ):
        _to(trial, "adverse_event", records[name], state)
    open_q = queries.open_query(
        e, trial["monitor"], "adverse_event", records["entered"], "grade", "?"
    )
    answered_q = queries.open_query(
        e, trial["monitor"], "adverse_event", records["entered"], "term", "?"
    )
    answered_too = queries.open_query(
        e, trial["monitor"], "adverse_event", records["entered"], "start_date", "?"
    )
    for query in (answered_q, answered_too):
        queries.answer_query(e, coordinator, query.id, "as in the source")
    screening = subjects.enrol(e, coordinator, "A", "L-4", strata=STRATA, consent_date=DAY)
    assessments.add_lesion(
        e,
        coordinator,
        s.id,
        lesion_code="T1",
        organ="liver",
        nodal=False,
        role="target",
        reader="investigator",
    )
    assessments.record_assessment(
        e,
        coordinator,
        s.id,
        reader="investigator",
        assessment_date=DAY,
        measurements=[{"lesion_code": "T1", "diameter_mm": 50.0}],
    )
    therapy = conmeds.record_subsequent_therapy(
        e, coordinator, s.id, name="ipilimumab", therapy_type="IMMUNOTHERAPY", start_date=DAY
    )
    amended = tmp_path / "protocol-1.1.toml"
    amended.write_text(PROTOCOL.read_text().replace('version = "1.0"', 'version = "1.1"', 1))
    return {
        "subject": s.id,
        "kit": kit,
        "waiting": waiting.id,
        "open_q": open_q.id,
        "answered_q": answered_q.id,
        "answered_too": answered_too.id,
        "screening": screening.id,
        "amended": amended,
        "therapy": therapy.id,
        **_supply(trial),
        **records,
    }


def _supply(trial):
    """A supply manager, a depot with kits, site A stocked, a shipment requested and one shipped."""
    e = trial.engine
    users.add_user(e, trial["admin"], "supply", PASSWORD, ["supply-manager"])
    with transaction(e, read_only=True) as session:
        manager = actor_for(
            session, session.scalars(select(m.User).filter_by(username="supply")).one()
        )
    supply.add_depot(e, manager, "D1", "depot")
    expiry = DAY + dt.timedelta(days=400)
    kits = [
        {"kit_number": f"K{arm}{i}", "lot": "L1", "expiry": expiry, "arm": arm}
        for arm in ("BIO", "REF")
        for i in range(8)
    ]
    supply.register_kits(e, manager, "D1", kits)
    numbers = [
        supply.request_shipment(e, manager, "D1", "A", {"BIO": 2, "REF": 2}, DAY).values[
            "shipment_number"
        ]
        for _ in range(3)
    ]
    for number in numbers[:2]:
        supply.ship_shipment(e, manager, number, DAY)
    supply.receive_shipment(e, trial["pharmacist"], numbers[0], DAY)
    # the site kit to quarantine is one of the shipment received in the table (before the
    # quarantine): the randomization in the table may dispense KREF0, never a kit in transit
    return {"supply": manager, "requested": numbers[2], "shipped": numbers[1], "site_kit": "KREF2"}


REFUSED = {
    "assessments.add_lesion": lambda t, w: assessments.add_lesion(
        t.engine,
        t["coordinator"],
        w["subject"],
        lesion_code="N1",
        organ="lung",
        nodal=False,
        role="new",
        reader="investigator",
    ),
    "assessments.record_assessment": lambda t, w: assessments.record_assessment(
        t.engine,
        t["coordinator"],
        w["subject"],
        reader="investigator",
        assessment_date=DAY + dt.timedelta(weeks=9),
        measurements=[{"lesion_code": "T1", "diameter_mm": 40.0}],
    ),
    "clinical.record_visit": lambda t, w: clinical.record_visit(
        t.engine, t["coordinator"], w["subject"], "C2D1", planned_date=DAY, actual_date=DAY
    ),
    "clinical.record_dose": lambda t, w: clinical.record_dose(
        t.engine,
        t["coordinator"],
        w["subject"],
        cycle=1,
        date=DAY + dt.timedelta(days=1),  # after the AEs: no flag changes
        dose_mg=200.0,
        kit_number=w["kit"],
    ),
    "clinical.report_adverse_event": lambda t, w: clinical.report_adverse_event(
        t.engine, t["coordinator"], w["subject"], term="Diarrhea", grade=1, start_date=DAY
    ),
    "clinical.record_lab": lambda t, w: clinical.record_lab(
        t.engine,
        t["coordinator"],
        w["subject"],
        test="Anemia",
        value=11.0,
        unit="g/dL",
        lln=12.0,
        uln=16.0,
        collected_at=dt.datetime(2024, 3, 2, tzinfo=dt.UTC),
    ),
    "clinical.update_record": lambda t, w: clinical.update_record(
        t.engine, t["coordinator"], "adverse_event", w["entered"], {"grade": 3}, reason="re-read"
    ),
    "queries.open_query": lambda t, w: queries.open_query(
        t.engine, t["monitor"], "adverse_event", w["entered"], "start_date", "please check"
    ),
    "queries.answer_query": lambda t, w: queries.answer_query(
        t.engine, t["coordinator"], w["open_q"], "checked"
    ),
    "queries.close_query": lambda t, w: queries.close_query(
        t.engine, t["data-manager"], w["answered_q"], "accepted"
    ),
    "queries.reopen_query": lambda t, w: queries.reopen_query(
        t.engine, t["monitor"], w["answered_too"], "not settled"
    ),
    "status.verify": lambda t, w: status.verify(
        t.engine, t["monitor"], "adverse_event", w["entered"]
    ),
    "status.sign": lambda t, w: status.sign(
        t.engine,
        t["investigator"],
        "adverse_event",
        w["verified"],
        password=PASSWORD,
        meaning="I approve these data",
    ),
    "status.freeze": lambda t, w: status.freeze(
        t.engine, t["data-manager"], "adverse_event", w["signed"]
    ),
    "status.unfreeze": lambda t, w: status.unfreeze(
        t.engine, t["data-manager"], "adverse_event", w["frozen"], reason="correction"
    ),
    "status.lock_record": lambda t, w: status.lock_record(
        t.engine, t["data-manager"], "adverse_event", w["frozen too"]
    ),
    "study.load_study": lambda t, w: study.load_study(t.engine, t["admin"], w["amended"]),
    "subjects.enrol": lambda t, w: subjects.enrol(
        t.engine, t["coordinator"], "A", "L-3", strata=STRATA, consent_date=DAY
    ),
    "subjects.confirm_eligibility": lambda t, w: subjects.confirm_eligibility(
        t.engine, t["investigator"], w["screening"], True
    ),
    # the drug supply is in use (_supply): the first dose's kit comes from site A's stock,
    # usable on day 1 = DAY
    "randomize.randomize": lambda t, w: randomize.randomize(
        t.engine, t["coordinator"], w["waiting"], day1=DAY
    ),
    "subjects.correct_strata": lambda t, w: subjects.correct_strata(
        t.engine, t["coordinator"], w["screening"], {"ecog_ps": "1"}, reason="misread"
    ),
    "samples.record_pk_sample": lambda t, w: samples.record_pk_sample(
        t.engine,
        t["coordinator"],
        w["subject"],
        timing="PRE-DOSE",
        nominal_hours=0.0,
        collected_at=AT,
        concentration=25.0,
    ),
    "samples.record_ada_sample": lambda t, w: samples.record_ada_sample(
        t.engine, t["coordinator"], w["subject"], collected_at=AT, screening_result="NEGATIVE"
    ),
    "questionnaires.record_qlq_c30": lambda t, w: questionnaires.record_qlq_c30(
        t.engine,
        t["coordinator"],
        w["subject"],
        date=DAY,
        items={i: 1 if i <= 28 else 6 for i in range(1, 31)},
    ),
    "conmeds.record_con_med": lambda t, w: conmeds.record_con_med(
        t.engine, t["coordinator"], w["subject"], name="paracetamol", start=DAY, ongoing=True
    ),
    "conmeds.record_subsequent_therapy": lambda t, w: conmeds.record_subsequent_therapy(
        t.engine,
        t["coordinator"],
        w["subject"],
        name="dabrafenib",
        therapy_type="TARGETED THERAPY",
        start_date=DAY,
    ),
    "forms.new_record": lambda t, w: forms.new_record(
        t.engine,
        t["coordinator"],
        forms.FORMS["subsequent_therapy"],
        w["subject"],
        {"name": "trametinib", "therapy_type": "TARGETED THERAPY", "start_date": DAY},
    ),
    "forms.update_form": lambda t, w: forms.update_form(
        t.engine,
        t["coordinator"],
        "subsequent_therapy",
        w["therapy"],
        {"name": "nivolumab"},
        reason="source says nivolumab",
    ),
    "outcomes.record_disposition": lambda t, w: outcomes.record_disposition(
        t.engine,
        t["investigator"],
        w["subject"],
        scope="END OF TREATMENT",
        decod="ADVERSE EVENT",
        date=DAY,
    ),
    "outcomes.record_death": lambda t, w: outcomes.record_death(
        t.engine,
        t["investigator"],
        w["subject"],
        date=dt.date.today(),
        cause="PROGRESSIVE DISEASE",
    ),
    "outcomes.record_screen_failure": lambda t, w: outcomes.record_screen_failure(
        t.engine, t["coordinator"], w["screening"], date=DAY, reason="WITHDRAWAL BY SUBJECT"
    ),
    "baseline.record_demographics": lambda t, w: baseline.record_demographics(
        t.engine,
        t["coordinator"],
        w["subject"],
        age=60,
        sex="F",
        race="ASIAN",
        ethnicity="NOT HISPANIC OR LATINO",
        country="AUS",
        region="ASIA-PACIFIC",
        ecog_ps=0,
        braf_v600="MUTANT",
        m_stage="M1b",
        ldh_value=200.0,
        ldh_uln=250.0,
        brain_metastases="N",
        prior_adjuvant="N",
    ),
    "baseline.record_medical_history": lambda t, w: baseline.record_medical_history(
        t.engine,
        t["coordinator"],
        w["subject"],
        term="Hypothyroidism",
        category="GENERAL",
        start_date=DAY - dt.timedelta(days=400),
        ongoing=True,
    ),
    "baseline.record_consent": lambda t, w: baseline.record_consent(
        t.engine, t["coordinator"], w["subject"], consent_date=DAY, version="1.0"
    ),
    "lab_import.import_lab_transfer": lambda t, w: lab_import.import_lab_transfer(
        t.engine,
        t["coordinator"],
        io.StringIO(
            "subject,test,value,unit,collected_at,lln,uln\n"
            f"{w['subject']},Anemia,11,g/dL,2024-03-02T08:00:00+00:00,12,16\n"
        ),
    ),
    "supply.add_depot": lambda t, w: supply.add_depot(t.engine, w["supply"], "D2", "depot 2"),
    "supply.register_kits": lambda t, w: supply.register_kits(
        t.engine,
        w["supply"],
        "D1",
        [{"kit_number": "KX1", "lot": "L2", "expiry": DAY + dt.timedelta(days=400), "arm": "BIO"}],
    ),
    "supply.request_shipment": lambda t, w: supply.request_shipment(
        t.engine, w["supply"], "D1", "B", {"BIO": 1}, DAY
    ),
    "supply.ship_shipment": lambda t, w: supply.ship_shipment(
        t.engine, w["supply"], w["requested"], DAY
    ),
    "supply.receive_shipment": lambda t, w: supply.receive_shipment(
        t.engine, t["pharmacist"], w["shipped"], DAY
    ),
    "dispensing.quarantine": lambda t, w: dispensing.quarantine(
        t.engine, t["pharmacist"], [w["site_kit"]], "temperature excursion"
    ),
    "dispensing.release": lambda t, w: dispensing.release(
        t.engine, w["supply"], [w["site_kit"]], "excursion assessed"
    ),
    "dispensing.dispense": lambda t, w: dispensing.dispense(
        t.engine, t["pharmacist"], w["subject"], DAY
    ),
    "dispensing.expire_kits": lambda t, w: dispensing.expire_kits(t.engine, w["supply"], DAY),
    "dispensing.resupply": lambda t, w: dispensing.resupply(t.engine, w["supply"], "D1", DAY),
    "schedule.switch_regimen": lambda t, w: schedule.switch_regimen(
        t.engine,
        t["investigator"],
        w["subject"],
        "Q6W",
        effective=dt.datetime.now(dt.UTC).date(),
        reason="patient preference",
    ),
    "status.lock_database": lambda t, w: status.lock_database(
        t.engine, t["data-manager"], reason="again"
    ),
}
"""Every use case that changes the study's data, called with arguments it accepts while the
study is open (``test_the_refused_calls_are_accepted_while_the_study_is_open``): the lock is
the only reason to refuse them."""

ALLOWED = {
    # a (final) data cut is taken at the lock; it stores a snapshot, it changes no record
    "datacut.cut_data": lambda t, w: datacut.cut_data(t.engine, t["data-manager"], "final", DAY),
    # patient safety: the emergency unblinding is never blocked
    "unblinding.unblind": lambda t, w: unblinding.unblind(
        t.engine, t["investigator"], w["subject"], reason="grade 4 colitis, management"
    ),
    # reads and exports
    "queries.query_thread": lambda t, w: queries.query_thread(t.engine, t["monitor"], w["open_q"]),
    "queries.list_queries": lambda t, w: queries.list_queries(t.engine, t["monitor"]),
    "randomize.list_allocations": lambda t, w: randomize.list_allocations(
        t.engine, t["unblinded-statistician"]
    ),
    "sites.list_sites": lambda t, w: sites.list_sites(t.engine, t["monitor"]),
    "status.record_signatures": lambda t, w: status.record_signatures(
        t.engine, t["monitor"], "adverse_event", w["signed"]
    ),
    "study.show_study": lambda t, w: study.show_study(t.engine, t["monitor"]),
    "subjects.get_subject": lambda t, w: subjects.get_subject(t.engine, t["monitor"], w["subject"]),
    "subjects.list_subjects": lambda t, w: subjects.list_subjects(t.engine, t["monitor"]),
    "unblinding.unblinding_report": lambda t, w: unblinding.unblinding_report(
        t.engine, t["unblinded-statistician"]
    ),
    # access administration goes on (an inspector's account, a password change)
    "users.add_user": lambda t, w: users.add_user(
        t.engine, t["admin"], "inspector", PASSWORD, ["monitor"]
    ),
    "users.add_users": lambda t, w: users.add_users(
        t.engine, t["admin"], [users.NewUser("auditor", PASSWORD, ("monitor",))]
    ),
    "users.grant_role": lambda t, w: users.grant_role(
        t.engine, t["admin"], "inspector", "data-manager"
    ),
    "users.revoke_role": lambda t, w: users.revoke_role(
        t.engine, t["admin"], "inspector", "data-manager"
    ),
    "users.set_password": lambda t, w: users.set_password(
        t.engine, t["admin"], "inspector", PASSWORD + "!"
    ),
    "sites.add_site": lambda t, w: sites.add_site(t.engine, t["admin"], "C", "Site C"),
    # reading the drug supply changes nothing
    "dispensing.inventory": lambda t, w: dispensing.inventory(t.engine, t["monitor"]),
    "dispensing.reconcile_kits": lambda t, w: dispensing.reconcile_kits(t.engine, t["monitor"]),
    "dispensing.forecast": lambda t, w: dispensing.forecast(t.engine, t["monitor"], DAY),
    "overdue.overdue_report": lambda t, w: overdue.overdue_report(
        t.engine, t["monitor"], DAY + dt.timedelta(days=30)
    ),
    "exposure.subject_exposure": lambda t, w: exposure.subject_exposure(t.engine, t["monitor"]),
}
"""Use cases that stay allowed after the lock, and why."""

# The allocation list is written with the study (study load); generating it again is refused
# because it exists, whether or not the study is locked.
REFUSED_ANYWAY = {"randomize.generate_list"}


def test_the_tables_cover_every_use_case():
    assert set(REFUSED) | set(ALLOWED) | REFUSED_ANYWAY == _use_cases()


def test_the_refused_calls_are_accepted_while_the_study_is_open(trial, world):
    for call in REFUSED.values():  # the database lock comes last (dict order)
        call(trial, world)
    assert study.show_study(trial.engine, trial["monitor"]).locked_at is not None


def test_after_the_lock_nothing_of_the_study_changes(trial, world):
    status.lock_database(trial.engine, trial["data-manager"], reason="final analysis")
    written = []
    for name, call in REFUSED.items():
        before = _audit_rows(trial.engine)
        with pytest.raises(StudyLockedError) as refused:
            call(trial, world)
        assert refused.value.field == "study", name
        if _audit_rows(trial.engine) != before:
            written.append(name)
    assert written == []
    with pytest.raises(ConflictError):
        randomize.generate_list(trial.engine, trial["admin"], seed=2**130, per_stratum_slots=2)
    # loading the SAME protocol file again changes nothing and stays allowed
    assert not study.load_study(trial.engine, trial["admin"], PROTOCOL).created
    for call in ALLOWED.values():
        call(trial, world)
    with transaction(trial.engine, read_only=True) as session:
        loaded = session.scalar(select(m.Study))
        assert loaded.protocol_version == "1.0"
        assert session.scalar(select(func.count()).select_from(m.Unblinding)) == 1
