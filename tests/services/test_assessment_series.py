"""A reader's series is read once per save, as columns, with the values the session holds.

RECIST 1.1 (Eisenhauer EA et al. Eur J Cancer 2009;45:228-247, section 4.3.1): PD at +20 % and
+5 mm from the nadir, PR at -30 % from baseline. One target lesion T1 (liver), baseline 50 mm.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from equitrial.errors import ConflictError, InvalidInputError
from equitrial.services import assessments, clinical, status, subjects
from equitrial.store import models as m
from equitrial.store.db import session_rows, transaction

PASSWORD = "correct horse battery"
DAY = dt.date(2024, 3, 1)
STRATA = {"braf_v600": "mutant", "ecog_ps": "0", "m_stage_ldh": "M0-M1b, normal LDH"}


@pytest.fixture
def patient(trial):
    s = subjects.enrol(
        trial.engine, trial["coordinator"], "A", "S-1", consent_date=DAY, strata=STRATA
    )
    assessments.add_lesion(
        trial.engine,
        trial["coordinator"],
        s.id,
        lesion_code="T1",
        organ="liver",
        nodal=False,
        role="target",
        reader="investigator",
    )
    return s.id


def _assess(trial, subject_id, weeks, diameter):
    return assessments.record_assessment(
        trial.engine,
        trial["coordinator"],
        subject_id,
        reader="investigator",
        assessment_date=DAY + dt.timedelta(weeks=weeks),
        measurements=[{"lesion_code": "T1", "diameter_mm": diameter}],
    )


def _columns():
    x = m.LesionMeasurement
    return select(x.id, x.lesion_id, x.assessment_date, x.measurement_status, x.diameter_mm)


def test_session_rows_are_what_a_select_of_the_entities_gives(trial, patient):
    _assess(trial, patient, 0, 50.0)
    with Session(trial.engine) as session, session.no_autoflush:
        lesion = session.scalars(select(m.Lesion)).one()
        held = m.LesionMeasurement(
            lesion_id=lesion.id,
            assessment_date=DAY + dt.timedelta(weeks=6),
            reader="investigator",
            diameter_mm=40.0,
            measurement_status="measured",
        )
        session.add(held)
        session.flush()
        held.diameter_mm = 41.0  # held, not written: the database still has 40 mm
        stored = session.scalars(
            select(m.LesionMeasurement).where(m.LesionMeasurement.id != held.id)
        ).one()
        session.expire(stored, ["diameter_mm"])  # expired: the row's value is loaded
        statement = _columns().order_by(m.LesionMeasurement.id)
        rows = session_rows(session, statement, {}, m.LesionMeasurement)
        assert [r[-1] for r in session.execute(statement)] == [50.0, 40.0]
        entities = session.scalars(
            select(m.LesionMeasurement).order_by(m.LesionMeasurement.id)
        ).all()
        expected = [
            (x.id, x.lesion_id, x.assessment_date, x.measurement_status, x.diameter_mm)
            for x in entities
        ]
        assert rows == expected
        assert [r[-1] for r in rows] == [50.0, 41.0]
        session.rollback()


def test_a_frozen_assessment_gets_a_query_and_unchanged_ones_are_not_written(trial, patient):
    _assess(trial, patient, 0, 50.0)
    week9 = _assess(trial, patient, 9, 35.0)  # -30 %: PR, nadir 35
    week18 = _assess(trial, patient, 18, 45.0)  # +28.6 % and +10 mm over 35: PD
    week27 = _assess(trial, patient, 27, 30.0)  # -40 % from baseline, no PD: PR
    assert [r.values["overall_response"] for r in (week9, week18, week27)] == ["PR", "PD", "PR"]
    status.verify(trial.engine, trial["monitor"], "tumour_assessment", week18.id)
    status.sign(
        trial.engine,
        trial["investigator"],
        "tumour_assessment",
        week18.id,
        password=PASSWORD,
        meaning="I approve these data",
    )
    status.freeze(trial.engine, trial["data-manager"], "tumour_assessment", week18.id)
    with transaction(trial.engine, read_only=True) as session:
        measurement = session.scalar(
            select(m.LesionMeasurement.id).where(
                m.LesionMeasurement.assessment_date == DAY + dt.timedelta(weeks=9)
            )
        )
    clinical.update_record(
        trial.engine,
        trial["coordinator"],
        "lesion_measurement",
        measurement,
        {"diameter_mm": 42.0},
        reason="re-measured on the scan",
    )
    # nadir 42: week 9 is -16 %, SD; week 18, 45 mm, +7 % over 42, SD, but it is frozen;
    # week 27, 30 mm, is still PR (iRECIST iPR, sum 30): nothing to write
    with transaction(trial.engine, read_only=True) as session:
        got = {
            a.id: (a.status, a.overall_response)
            for a in session.scalars(select(m.TumourAssessment))
        }
        updated = set(
            session.scalars(
                select(m.AuditTrail.record_id).where(
                    m.AuditTrail.table_name == "tumour_assessment",
                    m.AuditTrail.action == "update",
                    m.AuditTrail.username == "system:derive (coordinator-a)",
                )
            )
        )
        opened = session.scalars(
            select(m.Query)
            .where(m.Query.table_name == "tumour_assessment", m.Query.rule == "derivation")
            .order_by(m.Query.field)
        ).all()
    assert got[week9.id] == ("entered", "SD")
    assert got[week18.id] == ("frozen", "PD")
    assert got[week27.id] == ("entered", "PR")
    assert updated == {str(week9.id)}
    assert {q.record_id for q in opened} == {week18.id}
    assert [q.field for q in opened] == ["irecist_response", "overall_response", "target_response"]
    assert all("'SD'" in q.message or "'iSD'" in q.message for q in opened)


def test_a_lesion_code_is_followed_once_per_reader(trial, patient):
    def add(reader):
        return assessments.add_lesion(
            trial.engine,
            trial["coordinator"],
            patient,
            lesion_code="T1",
            organ="lung",
            nodal=False,
            role="non-target",
            reader=reader,
        )

    with pytest.raises(ConflictError, match="has a lesion 'T1' read by investigator") as taken:
        add("investigator")
    assert (taken.value.field, taken.value.value) == ("lesion_code", "T1")
    assert add("central").values["reader"] == "central"
    with transaction(trial.engine, read_only=True) as session:
        lesions = session.execute(select(m.Lesion.reader, m.Lesion.organ)).all()
    assert sorted(lesions) == [("central", "lung"), ("investigator", "liver")]


def test_a_save_is_refused_in_the_same_order_as_before_one_flush(trial, patient):
    """The measurements and the assessment go in with one flush: a measured date, a value the
    flush's check refuses and an assessed date are still refused first to last, nothing kept."""
    _assess(trial, patient, 0, 50.0)
    assessments.add_lesion(
        trial.engine,
        trial["coordinator"],
        patient,
        lesion_code="NT1",
        organ="lung",
        nodal=False,
        role="non-target",
        reader="investigator",
    )

    def again(measurements):
        return assessments.record_assessment(
            trial.engine,
            trial["coordinator"],
            patient,
            reader="investigator",
            assessment_date=DAY,
            measurements=measurements,
        )

    with pytest.raises(ConflictError, match=r"^lesion_measurement: such a record exists"):
        again([{"lesion_code": "T1", "diameter_mm": 50.0}])
    with pytest.raises(InvalidInputError, match=r"lesion_measurement\.measurement_status"):
        again([{"lesion_code": "NT1", "status": "p" * 40}])
    with pytest.raises(ConflictError, match=r"^investigator assessment of 2024-03-01 exists"):
        again([{"lesion_code": "NT1", "status": "present"}])
    with transaction(trial.engine, read_only=True) as session:
        stored = session.execute(select(m.LesionMeasurement.lesion_id)).all()
        assessed = session.execute(select(m.TumourAssessment.id)).all()
    assert (len(stored), len(assessed)) == (1, 1)


def test_a_save_audits_its_measurements_then_its_assessment(trial, patient):
    _assess(trial, patient, 0, 50.0)
    saved = _assess(trial, patient, 6, 40.0)
    with transaction(trial.engine, read_only=True) as session:
        measurement = session.scalar(
            select(m.LesionMeasurement.id).where(
                m.LesionMeasurement.assessment_date == DAY + dt.timedelta(weeks=6)
            )
        )
        rows = session.execute(
            select(m.AuditTrail.table_name, m.AuditTrail.record_id, m.AuditTrail.field)
            .where(m.AuditTrail.table_name.in_(["lesion_measurement", "tumour_assessment"]))
            .order_by(m.AuditTrail.id)
        ).all()
    mine = {("lesion_measurement", str(measurement)), ("tumour_assessment", str(saved.id))}
    last = [r for r in rows if tuple(r[:2]) in mine]
    assert [tuple(r[:2]) for r in last] == [("lesion_measurement", str(measurement))] * 6 + [
        ("tumour_assessment", str(saved.id))
    ] * 12
    assert [r[2] for r in last[:6]] == [
        "lesion_id",
        "assessment_date",
        "reader",
        "diameter_mm",
        "measurement_status",
        "status",
    ]
