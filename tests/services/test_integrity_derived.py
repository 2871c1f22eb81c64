"""Derived values follow the data they depend on: re-derived, audited as system changes.

Issue #8, item 11 (``services._derivation``). Expected values come from the rules, not from
our output: an AE is treatment-emergent when it starts on or after the first dose; CTCAE v5.0
"Alanine aminotransferase increased" grades against ULN when the baseline is normal and against
the baseline when it is abnormal; RECIST 1.1 (Eisenhauer 2009, section 4.3.1) measures PD from
the nadir (+20 % and +5 mm) and PR from baseline (-30 %).
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from equitrial.services import assessments, clinical, queries, randomize, status, subjects
from equitrial.store import models as m
from equitrial.store.db import transaction

PASSWORD = "correct horse battery"
STRATA = {"braf_v600": "mutant", "ecog_ps": "0", "m_stage_ldh": "M0-M1b, normal LDH"}
DAY = dt.date(2024, 3, 1)
ALT = "Alanine aminotransferase increased"


@pytest.fixture
def patient(trial):
    s = subjects.enrol(
        trial.engine,
        trial["investigator"],
        "A",
        "D-1",
        strata=STRATA,
        eligible=True,
        consent_date=DAY,
    )
    kit = randomize.randomize(trial.engine, trial["coordinator"], s.id).kit
    return s.id, kit


def _get(engine, model, record_id):
    with transaction(engine, read_only=True) as session:
        return session.get(model, record_id)


def _updates(engine, table, record_id, field):
    with transaction(engine, read_only=True) as session:
        rows = session.scalars(
            select(m.AuditTrail)
            .where(
                m.AuditTrail.action == "update",
                m.AuditTrail.table_name == table,
                m.AuditTrail.record_id == str(record_id),
                m.AuditTrail.field == field,
            )
            .order_by(m.AuditTrail.id)
        )
        return [(r.username, r.user_id, r.old_value, r.new_value, r.reason) for r in rows]


def _ae(trial, subject_id, start):
    return clinical.report_adverse_event(
        trial.engine, trial["coordinator"], subject_id, term="Fatigue", grade=1, start_date=start
    ).id


def test_a_dose_entered_later_or_moved_re_derives_treatment_emergence(trial, patient):
    subject_id, kit = patient
    ae = _ae(trial, subject_id, DAY + dt.timedelta(days=5))
    assert _get(trial.engine, m.AdverseEvent, ae).treatment_emergent is False  # no dose yet
    dose = clinical.record_dose(
        trial.engine,
        trial["coordinator"],
        subject_id,
        cycle=1,
        date=DAY + dt.timedelta(days=2),
        dose_mg=200.0,
        kit_number=kit,
    )
    assert _get(trial.engine, m.AdverseEvent, ae).treatment_emergent is True
    clinical.update_record(
        trial.engine,
        trial["investigator"],
        "dose",
        dose.id,
        {"date": DAY + dt.timedelta(days=9)},
        reason="date misread",
    )
    assert _get(trial.engine, m.AdverseEvent, ae).treatment_emergent is False
    coordinator, investigator = trial["coordinator"], trial["investigator"]
    rows = _updates(trial.engine, "adverse_event", ae, "treatment_emergent")
    assert [r[:4] for r in rows] == [
        (f"system:derive ({coordinator.username})", coordinator.user_id, "false", "true"),
        (f"system:derive ({investigator.username})", investigator.user_id, "true", "false"),
    ]
    assert (
        f"dose {dose.id} recorded" in rows[0][4] and str(DAY + dt.timedelta(days=2)) in rows[0][4]
    )
    assert f"dose {dose.id} changed" in rows[1][4]


def test_a_baseline_that_arrives_later_re_grades_the_later_lab(trial, patient):
    subject_id, _ = patient

    def lab(value, day):
        return clinical.record_lab(
            trial.engine,
            trial["coordinator"],
            subject_id,
            test=ALT,
            value=value,
            unit="U/L",
            collected_at=dt.datetime(2024, 3, day, 8, tzinfo=dt.UTC),
            lln=0.0,
            uln=40.0,
        ).id

    later = lab(160.0, 20)  # 4 x ULN, no baseline known: ">3.0 - 5.0 x ULN" = grade 2
    assert _get(trial.engine, m.LabResult, later).ctcae_grade == 2
    baseline = lab(80.0, 2)  # an abnormal baseline (2 x ULN) entered afterwards
    # 160 = 2 x baseline: "1.5 - 3.0 x baseline if baseline was abnormal" = grade 1
    assert _get(trial.engine, m.LabResult, later).ctcae_grade == 1
    clinical.update_record(
        trial.engine,
        trial["coordinator"],
        "lab_result",
        baseline,
        {"value": 30.0},
        reason="transcription error",
    )
    # the baseline is normal now: 160 = 4 x ULN is grade 2 again
    assert _get(trial.engine, m.LabResult, later).ctcae_grade == 2
    rows = _updates(trial.engine, "lab_result", later, "ctcae_grade")
    assert [(r[2], r[3]) for r in rows] == [("2", "1"), ("1", "2")]
    assert all(r[0].startswith("system:derive (") for r in rows)
    assert f"lab_result {baseline} recorded" in rows[0][4]
    assert f"lab_result {baseline} changed" in rows[1][4]


def _assess(trial, subject_id, weeks, diameter):
    return assessments.record_assessment(
        trial.engine,
        trial["coordinator"],
        subject_id,
        reader="investigator",
        assessment_date=DAY + dt.timedelta(weeks=weeks),
        measurements=[{"lesion_code": "T1", "diameter_mm": diameter}],
    )


def test_a_late_assessment_or_a_corrected_measurement_re_derives_recist(trial, patient):
    subject_id, _ = patient
    assessments.add_lesion(
        trial.engine,
        trial["coordinator"],
        subject_id,
        lesion_code="T1",
        organ="liver",
        nodal=False,
        role="target",
        reader="investigator",
    )
    _assess(trial, subject_id, 0, 50.0)
    week18 = _assess(trial, subject_id, 18, 45.0)
    assert week18.values["overall_response"] == "SD"  # -10 % from baseline, nadir 50
    week9 = _assess(trial, subject_id, 9, 35.0)  # entered late: -30 % is PR, nadir 35
    assert week9.values["overall_response"] == "PR"
    # 45 mm is +28.6 % and +10 mm over the nadir of 35 mm: PD
    assert _get(trial.engine, m.TumourAssessment, week18.id).overall_response == "PD"
    with transaction(trial.engine, read_only=True) as session:
        measurement = session.scalar(
            select(m.LesionMeasurement).where(
                m.LesionMeasurement.assessment_date == DAY + dt.timedelta(weeks=9)
            )
        )
    clinical.update_record(
        trial.engine,
        trial["coordinator"],
        "lesion_measurement",
        measurement.id,
        {"diameter_mm": 42.0},
        reason="re-measured on the scan",
    )
    # nadir 42: 45 mm is +7 %, SD; week 9 itself is -16 %, SD
    assert _get(trial.engine, m.TumourAssessment, week18.id).overall_response == "SD"
    assert _get(trial.engine, m.TumourAssessment, week9.id).overall_response == "SD"
    rows = _updates(trial.engine, "tumour_assessment", week18.id, "overall_response")
    assert [(r[2], r[3]) for r in rows] == [("SD", "PD"), ("PD", "SD")]
    assert all(r[0] == "system:derive (coordinator-a)" for r in rows)
    assert f"lesion_measurement {measurement.id} changed" in rows[1][4]


def test_a_frozen_dependant_is_not_changed_and_gets_a_query(trial, patient):
    subject_id, kit = patient
    ae = _ae(trial, subject_id, DAY + dt.timedelta(days=5))
    status.verify(trial.engine, trial["monitor"], "adverse_event", ae)
    status.sign(
        trial.engine,
        trial["investigator"],
        "adverse_event",
        ae,
        password=PASSWORD,
        meaning="I approve these data",
    )
    status.freeze(trial.engine, trial["data-manager"], "adverse_event", ae)
    clinical.record_dose(
        trial.engine,
        trial["coordinator"],
        subject_id,
        cycle=1,
        date=DAY,
        dose_mg=200.0,
        kit_number=kit,
    )
    stored = _get(trial.engine, m.AdverseEvent, ae)
    assert (stored.status, stored.treatment_emergent) == ("frozen", False)
    assert _updates(trial.engine, "adverse_event", ae, "treatment_emergent") == []
    with transaction(trial.engine, read_only=True) as session:
        (query,) = session.scalars(
            select(m.Query).where(m.Query.table_name == "adverse_event", m.Query.record_id == ae)
        )
    thread = queries.query_thread(trial.engine, trial["monitor"], query.id)
    assert (thread.field, thread.rule, thread.status) == (
        "treatment_emergent",
        "derivation",
        "open",
    )
    assert "True" in thread.message and "frozen" in thread.message
    # a second trigger does not open a second query for the same field
    clinical.record_lab(
        trial.engine,
        trial["coordinator"],
        subject_id,
        test=ALT,
        value=30.0,
        unit="U/L",
        collected_at=dt.datetime(2024, 3, 2, tzinfo=dt.UTC),
        lln=0.0,
        uln=40.0,
    )
    clinical.record_dose(
        trial.engine,
        trial["coordinator"],
        subject_id,
        cycle=2,
        date=DAY + dt.timedelta(days=21),
        dose_mg=200.0,
        kit_number=kit,
    )
    with transaction(trial.engine, read_only=True) as session:
        count = len(session.scalars(select(m.Query.id).where(m.Query.rule == "derivation")).all())
    assert count == 1
    # unfrozen and saved again, the record takes the derived value
    status.unfreeze(trial.engine, trial["data-manager"], "adverse_event", ae, reason="query")
    clinical.update_record(
        trial.engine, trial["coordinator"], "adverse_event", ae, {}, reason="derivation query"
    )
    assert _get(trial.engine, m.AdverseEvent, ae).treatment_emergent is True
