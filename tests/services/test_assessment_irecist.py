"""Tumour assessments derive iRECIST on save, from the same measurements as RECIST 1.1.

Every expected response is worked out by hand in the comments from:
- Seymour L et al. iRECIST: guidelines for response criteria for use in trials testing
  immunotherapeutics. Lancet Oncol 2017;18:e143-e152 (RECIST 1.1 PD becomes iUPD; iCPD at the
  next assessment >= 4 weeks later by a further increase: target sum >= 5 mm, new-lesion target
  sum >= 5 mm, an additional new lesion; otherwise iSD/iPR/iCR "reset the bar"; new lesions
  never added to the target sum);
- Eisenhauer EA et al. Eur J Cancer 2009;45:228-247 (RECIST 1.1: target PD +20 % and +5 mm
  from the nadir, PR -30 % from baseline; a new lesion is PD; "too small to measure" 5 mm).
Baseline of every patient: target T1 (liver) 30 mm + T2 (lung) 20 mm = 50 mm, non-target NT1
present.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from equitrial.services import assessments, clinical, subjects
from equitrial.store import models as m
from equitrial.store.db import transaction

DAY = dt.date(2024, 3, 1)
STRATA = {"braf_v600": "mutant", "ecog_ps": "0", "m_stage_ldh": "M0-M1b, normal LDH"}
LESIONS = (
    ("T1", "liver", "target"),
    ("T2", "lung", "target"),
    ("NT1", "bone", "non-target"),
    ("N1", "liver", "new"),
)


@pytest.fixture
def patient(trial):
    s = subjects.enrol(
        trial.engine, trial["coordinator"], "A", "I-1", consent_date=DAY, strata=STRATA
    )
    for code, organ, role in LESIONS:
        assessments.add_lesion(
            trial.engine,
            trial["coordinator"],
            s.id,
            lesion_code=code,
            organ=organ,
            nodal=False,
            role=role,
            reader="investigator",
        )
    return s.id


def _assess(trial, subject_id, weeks, t1, t2, nt1="present", **new):
    """One investigator read: T1, T2 as diameters (mm) or statuses, NT1 status, new lesions."""
    items = []
    for code, value in (("T1", t1), ("T2", t2)):
        if isinstance(value, str):
            items.append({"lesion_code": code, "status": value})
        else:
            items.append({"lesion_code": code, "diameter_mm": value})
    items.append({"lesion_code": "NT1", "status": nt1})
    for code, diameter in new.items():
        items.append({"lesion_code": code, "status": "present", "diameter_mm": diameter})
    return assessments.record_assessment(
        trial.engine,
        trial["coordinator"],
        subject_id,
        reader="investigator",
        assessment_date=DAY + dt.timedelta(weeks=weeks),
        measurements=items,
    )


def _stored(engine, subject_id):
    with transaction(engine, read_only=True) as session:
        rows = session.scalars(
            select(m.TumourAssessment)
            .where(m.TumourAssessment.subject_id == subject_id)
            .order_by(m.TumourAssessment.assessment_date)
        ).all()
        return [
            (
                r.overall_response,
                r.irecist_response,
                r.irecist_target_sum,
                r.irecist_new_lesion_progression,
            )
            for r in rows
        ]


def test_pseudo_progression_iupd_then_the_bar_is_reset(trial, patient):
    baseline = _assess(trial, patient, 0, 30.0, 20.0)
    assert baseline.values["irecist_response"] is None  # no time point at baseline
    _assess(trial, patient, 9, 38.0, 24.5)
    _assess(trial, patient, 18, 24.0, 16.0)
    _assess(trial, patient, 27, 17.0, 11.0)
    assert _stored(trial.engine, patient) == [
        (None, None, None, None),
        # 62.5 mm: +25 % and +12.5 mm from the nadir 50: RECIST PD; iRECIST iUPD (unconfirmed)
        ("PD", "iUPD", 62.5, False),
        # 40 mm: -20 % from baseline, below the nadir 50: RECIST SD; the iUPD is not confirmed
        # (no further increase), the assessment is iSD, which resets the bar (Seymour 2017)
        ("SD", "iSD", 40.0, False),
        # 28 mm: -44 % from baseline: PR and iPR
        ("PR", "iPR", 28.0, False),
    ]


def test_target_growth_of_5_mm_after_iupd_confirms_icpd(trial, patient):
    _assess(trial, patient, 0, 30.0, 20.0)
    _assess(trial, patient, 9, 38.0, 24.5)
    week15 = _assess(trial, patient, 15, 41.0, 26.5)
    # week 9: 62.5 mm, +25 % from nadir 50: iUPD; week 15 (6 weeks later, >= 4): 67.5 mm is
    # exactly +5 mm over the iUPD sum: iCPD (Seymour 2017: further increase >= 5 mm)
    assert week15.values["irecist_response"] == "iCPD"
    assert _stored(trial.engine, patient)[1:] == [
        ("PD", "iUPD", 62.5, False),
        ("PD", "iCPD", 67.5, False),  # RECIST: +35 % and +17.5 mm from the nadir 50
    ]


def test_new_lesion_is_iupd_and_its_growth_confirms_icpd(trial, patient):
    _assess(trial, patient, 0, 30.0, 20.0)
    week9 = _assess(trial, patient, 9, 27.0, 18.0, N1=12.0)
    _assess(trial, patient, 15, 27.0, 18.0, N1=17.0)
    # week 9: targets 45 mm (-10 %, SD), new lesion N1 of 12 mm (measurable: a new lesion
    # target, not added to the target sum): RECIST PD; iRECIST iUPD from the new lesion
    assert (week9.values["overall_response"], week9.values["irecist_response"]) == ("PD", "iUPD")
    assert week9.values["irecist_target_sum"] == 45.0
    # week 15 (6 weeks later): N1 17 mm, the new-lesion target sum +5 mm over 12: iCPD; that is
    # also RECIST 1.1 PD of the new-lesion sum (+41.7 % and +5 mm from its nadir 12)
    assert _stored(trial.engine, patient)[1:] == [
        ("PD", "iUPD", 45.0, True),
        ("PD", "iCPD", 45.0, True),
    ]


def test_a_response_series_matches_recist(trial, patient):
    _assess(trial, patient, 0, 30.0, 20.0)
    _assess(trial, patient, 9, 24.0, 16.0)
    _assess(trial, patient, 18, 21.0, 14.0)
    _assess(trial, patient, 27, "disappeared", "too small to measure")
    _assess(trial, patient, 36, "disappeared", "disappeared", nt1="absent")
    assert _stored(trial.engine, patient)[1:] == [
        ("SD", "iSD", 40.0, False),  # -20 % from baseline
        ("PR", "iPR", 35.0, False),  # exactly -30 % from baseline
        ("PR", "iPR", 5.0, False),  # 0 + 5 mm (too small to measure, RECIST default): -90 %
        ("CR", "iCR", 0.0, False),  # every target and the non-target gone
    ]


def _updates(engine, record_id, field):
    with transaction(engine, read_only=True) as session:
        rows = session.scalars(
            select(m.AuditTrail)
            .where(
                m.AuditTrail.action == "update",
                m.AuditTrail.table_name == "tumour_assessment",
                m.AuditTrail.record_id == str(record_id),
                m.AuditTrail.field == field,
            )
            .order_by(m.AuditTrail.id)
        )
        return [(r.username, r.old_value, r.new_value, r.reason) for r in rows]


def test_a_corrected_measurement_re_derives_irecist_of_later_assessments(trial, patient):
    _assess(trial, patient, 0, 30.0, 20.0)
    week9 = _assess(trial, patient, 9, 38.0, 24.5)
    week15 = _assess(trial, patient, 15, 41.0, 26.5)
    week21 = _assess(trial, patient, 21, 43.5, 26.5)
    # before: 62.5 (iUPD), 67.5 (+5 mm: iCPD), 70 (iCPD stays)
    assert [r[1] for r in _stored(trial.engine, patient)[1:]] == ["iUPD", "iCPD", "iCPD"]
    with transaction(trial.engine, read_only=True) as session:
        t1_week9 = session.scalar(
            select(m.LesionMeasurement.id)
            .join(m.Lesion, m.Lesion.id == m.LesionMeasurement.lesion_id)
            .where(
                m.Lesion.subject_id == patient,
                m.Lesion.lesion_code == "T1",
                m.LesionMeasurement.assessment_date == DAY + dt.timedelta(weeks=9),
            )
        )
    clinical.update_record(
        trial.engine,
        trial["coordinator"],
        "lesion_measurement",
        t1_week9,
        {"diameter_mm": 28.0},
        reason="re-measured on the scan",
    )
    # after: week 9 is 52.5 mm, +5 % from the nadir 50: SD, iSD (no iUPD any more); week 15,
    # 67.5 mm, +35 % and +17.5 mm from the nadir 50: PD, now the FIRST iUPD; week 21, 70 mm,
    # +2.5 mm over that iUPD (< 5 mm, not confirmed) and still PD from the nadir: iUPD
    assert _stored(trial.engine, patient)[1:] == [
        ("SD", "iSD", 52.5, False),
        ("PD", "iUPD", 67.5, False),
        ("PD", "iUPD", 70.0, False),
    ]
    for record, old, new in (
        (week9, "iUPD", "iSD"),
        (week15, "iCPD", "iUPD"),
        (week21, "iCPD", "iUPD"),
    ):
        rows = _updates(trial.engine, record.id, "irecist_response")
        assert [(r[1], r[2]) for r in rows] == [(old, new)]
        assert rows[0][0] == "system:derive (coordinator-a)"
        assert f"lesion_measurement {t1_week9} changed" in rows[0][3]
    rows = _updates(trial.engine, week9.id, "irecist_target_sum")
    assert [(float(r[1]), float(r[2])) for r in rows] == [(62.5, 52.5)]
