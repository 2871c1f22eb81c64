"""Clinical entry: edit checks, queries, reasons for change, the record workflow and locks."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from equitrial.errors import ConflictError, InvalidInputError, PermissionDeniedError
from equitrial.services import clinical, queries, randomize, status, subjects
from equitrial.services._base import LockedRecordError, StudyLockedError
from equitrial.store import models as m
from equitrial.store.db import transaction

PASSWORD = "correct horse battery"
DAY = dt.date(2024, 3, 1)
STRATA = {"braf_v600": "mutant", "ecog_ps": "0", "m_stage_ldh": "M0-M1b, normal LDH"}


def _count(engine, model, *where):
    with transaction(engine, read_only=True) as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def _audit(engine, **where):
    with transaction(engine, read_only=True) as session:
        query = select(m.AuditTrail)
        for key, value in where.items():
            query = query.where(getattr(m.AuditTrail, key) == value)
        return list(session.scalars(query.order_by(m.AuditTrail.id)))


@pytest.fixture
def subject(trial):
    return subjects.enrol(
        trial.engine, trial["coordinator"], "A", "S-100", consent_date=DAY, strata=STRATA
    )


@pytest.fixture
def kit(trial, subject):
    """Randomize the subject; its kit (a dose names a kit dispensed to a randomized subject)."""
    strata = {"braf_v600": "mutant", "ecog_ps": "0", "m_stage_ldh": "M0-M1b, normal LDH"}
    subjects.confirm_eligibility(
        trial.engine, trial["investigator"], subject.id, True, strata=strata
    )
    return randomize.randomize(trial.engine, trial["coordinator"], subject.id).kit


def _ae(trial, subject, **extra):
    fields = {"term": "Diarrhea", "grade": 2, "start_date": DAY + dt.timedelta(days=5)} | extra
    return clinical.report_adverse_event(trial.engine, trial["coordinator"], subject.id, **fields)


def test_ae_end_before_start_is_refused_naming_field_and_rule(trial, subject):
    before = len(_audit(trial.engine))
    with pytest.raises(InvalidInputError, match=r"end_date \(order\)") as error:
        _ae(trial, subject, end_date=DAY)
    assert error.value.field == "end_date"
    assert _count(trial.engine, m.AdverseEvent) == 0
    assert len(_audit(trial.engine)) == before


@pytest.mark.parametrize(
    ("extra", "field", "rule"),
    [
        ({"grade": 7}, "grade", "range"),
        ({"start_date": dt.date.today() + dt.timedelta(days=30)}, "start_date", "not-future"),
        ({"serious": True}, "serious_criteria", "required-if"),
    ],
)
def test_impossible_ae_values_are_refused(trial, subject, extra, field, rule):
    with pytest.raises(InvalidInputError, match=rf"{field} \({rule}\)") as error:
        _ae(trial, subject, **extra)
    assert error.value.field == field
    assert _count(trial.engine, m.AdverseEvent) == 0


def test_ae_term_not_in_ctcae_catalogue_is_refused(trial, subject):
    with pytest.raises(LookupError, match="Diarrhoea"):
        _ae(trial, subject, term="Diarrhoea")
    assert _count(trial.engine, m.AdverseEvent) == 0


def test_ae_derived_soc_immune_category_and_treatment_emergence(trial, subject, kit):
    before = _ae(trial, subject, term="Pneumonitis", start_date=DAY + dt.timedelta(days=1))
    clinical.record_dose(
        trial.engine,
        trial["coordinator"],
        subject.id,
        cycle=1,
        date=DAY + dt.timedelta(days=3),
        dose_mg=200.0,
        kit_number=kit,
    )
    after = _ae(trial, subject, term="Pneumonitis")
    assert before.values["immune_category"] == "pneumonitis"
    assert before.values["soc"] == "Respiratory, thoracic and mediastinal disorders"
    assert (before.values["treatment_emergent"], after.values["treatment_emergent"]) == (
        False,
        True,
    )
    with pytest.raises(InvalidInputError, match="immune_category cannot be edited"):
        clinical.update_record(
            trial.engine,
            trial["coordinator"],
            "adverse_event",
            after.id,
            {"immune_category": "colitis"},
            reason="typed by hand",
        )


def test_lab_unit_unknown_refused_and_grade_derived(trial, subject):
    at = dt.datetime(2024, 3, 5, 9, 0, tzinfo=dt.UTC)
    with pytest.raises(InvalidInputError, match=r"unit \(unit-known\)"):
        clinical.record_lab(
            trial.engine,
            trial["coordinator"],
            subject.id,
            test="Alanine aminotransferase increased",
            value=120.0,
            unit="furlongs",
            collected_at=at,
            uln=40.0,
        )
    # CTCAE v5.0 ALT increased, baseline normal: grade 2 is ">3.0 - 5.0 x ULN"
    lab = clinical.record_lab(
        trial.engine,
        trial["coordinator"],
        subject.id,
        test="Alanine aminotransferase increased",
        value=160.0,
        unit="U/L",
        collected_at=at,
        lln=0.0,
        uln=40.0,
    )
    assert lab.values["ctcae_grade"] == 2


def test_implausible_dose_is_saved_and_opens_a_query_with_a_thread(trial, subject, kit):
    dose = clinical.record_dose(
        trial.engine,
        trial["coordinator"],
        subject.id,
        cycle=1,
        date=DAY,
        dose_mg=20.0,
        kit_number=kit,
        interrupted=True,  # a dose that fits no regimen is accepted only from an interruption
        reason="infusion reaction",
    )
    assert dose.values["dose_mg"] == 20.0 and len(dose.query_ids) == 1
    (query_id,) = dose.query_ids
    thread = queries.query_thread(trial.engine, trial["monitor"], query_id)
    assert (thread.field, thread.rule, thread.status) == ("dose_mg", "partial-dose", "open")
    with pytest.raises(PermissionDeniedError):
        queries.answer_query(trial.engine, trial["coordinator@B"], query_id, "not mine")
    with pytest.raises(ConflictError, match="answered"):
        queries.close_query(trial.engine, trial["data-manager"], query_id, "too early")
    queries.answer_query(
        trial.engine, trial["coordinator"], query_id, "paediatric vial, 20 mg given"
    )
    closed = queries.close_query(trial.engine, trial["data-manager"], query_id, "accepted")
    assert closed.status == "closed"
    assert [(u, text) for u, _, text in closed.thread] == [
        ("coordinator-a", "paediatric vial, 20 mg given"),
        ("data-manager", "accepted"),
    ]


def test_dose_outside_its_visit_window_opens_a_query(trial, subject, kit):
    visit = clinical.record_visit(
        trial.engine,
        trial["coordinator"],
        subject.id,
        "C1D1",
        planned_date=DAY,
        actual_date=DAY + dt.timedelta(days=6),
    )
    assert visit.values["window_status"] == "out of window"
    dose = clinical.record_dose(
        trial.engine,
        trial["coordinator"],
        subject.id,
        cycle=1,
        date=DAY + dt.timedelta(days=6),
        dose_mg=200.0,
        visit_id=visit.id,
        kit_number=kit,
    )
    rules = [queries.query_thread(trial.engine, trial["monitor"], q).rule for q in dose.query_ids]
    assert rules == ["visit-window"]


def test_change_needs_a_reason_and_is_audited_with_it(trial, subject):
    ae = _ae(trial, subject)
    with pytest.raises(InvalidInputError, match="reason"):
        clinical.update_record(
            trial.engine, trial["coordinator"], "adverse_event", ae.id, {"grade": 3}, reason="  "
        )
    changed = clinical.update_record(
        trial.engine,
        trial["coordinator"],
        "adverse_event",
        ae.id,
        {"grade": 3},
        reason="source document re-read",
    )
    assert changed.values["grade"] == 3
    rows = _audit(trial.engine, action="update", table_name="adverse_event", field="grade")
    assert [(r.old_value, r.new_value, r.reason) for r in rows] == [
        ("2", "3", "source document re-read")
    ]
    inserts = _audit(trial.engine, action="insert", table_name="adverse_event")
    assert {r.field for r in inserts} >= {"term", "grade", "start_date", "immune_category"}


def test_stale_edit_is_refused(trial, subject):
    ae = _ae(trial, subject)
    version = ae.values["version"]
    clinical.update_record(
        trial.engine,
        trial["coordinator"],
        "adverse_event",
        ae.id,
        {"grade": 3},
        reason="first",
        expected_version=version,
    )
    with pytest.raises(ConflictError, match="changed since"):
        clinical.update_record(
            trial.engine,
            trial["investigator"],
            "adverse_event",
            ae.id,
            {"grade": 1},
            reason="second",
            expected_version=version,
        )


def _to_locked(trial, table, record_id):
    status.verify(trial.engine, trial["monitor"], table, record_id)
    with pytest.raises(PermissionDeniedError, match="password"):
        status.sign(
            trial.engine,
            trial["investigator"],
            table,
            record_id,
            password="wrong pass",
            meaning="I approve",
        )
    status.sign(
        trial.engine,
        trial["investigator"],
        table,
        record_id,
        password=PASSWORD,
        meaning="I approve these data",
    )
    status.freeze(trial.engine, trial["data-manager"], table, record_id)
    return status.lock_record(trial.engine, trial["data-manager"], table, record_id)


def test_locked_record_cannot_change(trial, subject):
    ae = _ae(trial, subject)
    locked = _to_locked(trial, "adverse_event", ae.id)
    assert locked.values["status"] == "locked"
    before = len(_audit(trial.engine))
    with pytest.raises(LockedRecordError, match="locked and cannot change"):
        clinical.update_record(
            trial.engine,
            trial["coordinator"],
            "adverse_event",
            ae.id,
            {"grade": 3},
            reason="late correction",
        )
    with pytest.raises(ConflictError):
        status.verify(trial.engine, trial["monitor"], "adverse_event", ae.id)
    assert len(_audit(trial.engine)) == before
    assert [r.new_value for r in _audit(trial.engine, action="sign")] == ["I approve these data"]
    assert _count(trial.engine, m.Signature) == 1


def test_edit_after_verification_returns_record_to_entered(trial, subject):
    ae = _ae(trial, subject)
    status.verify(trial.engine, trial["monitor"], "adverse_event", ae.id)
    changed = clinical.update_record(
        trial.engine, trial["coordinator"], "adverse_event", ae.id, {"grade": 1}, reason="typo"
    )
    assert changed.values["status"] == "entered"


def test_database_lock_stops_every_write(trial, subject):
    status.lock_database(trial.engine, trial["data-manager"], reason="final analysis")
    with pytest.raises(StudyLockedError):
        _ae(trial, subject)
    with pytest.raises(StudyLockedError):
        subjects.enrol(trial.engine, trial["coordinator"], "A", "S-101")
    assert len(_audit(trial.engine, action="lock", table_name="study")) == 1


def test_roles_enforced_for_workflow_steps(trial, subject):
    ae = _ae(trial, subject)
    with pytest.raises(PermissionDeniedError):
        status.verify(trial.engine, trial["coordinator"], "adverse_event", ae.id)
    with pytest.raises(PermissionDeniedError):
        status.lock_database(trial.engine, trial["investigator"], reason="no")
