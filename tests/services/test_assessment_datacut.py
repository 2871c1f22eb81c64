"""Tumour assessments derive RECIST 1.1 responses; a data cut keeps what is dated by its cut-off."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select

from equitrial.errors import ConflictError, PermissionDeniedError
from equitrial.services import assessments, clinical, datacut, subjects
from equitrial.store import models as m
from equitrial.store.db import transaction

DAY = dt.date(2024, 3, 1)
STRATA = {"braf_v600": "mutant", "ecog_ps": "0", "m_stage_ldh": "M0-M1b, normal LDH"}


def _measure(trial, subject_id, date, diameter):
    return assessments.record_assessment(
        trial.engine,
        trial["coordinator"],
        subject_id,
        reader="investigator",
        assessment_date=date,
        measurements=[{"lesion_code": "T1", "diameter_mm": diameter}],
    )


def test_partial_response_derived_by_recist_11(trial):
    # RECIST 1.1 (Eisenhauer 2009, table 1): PR is a decrease of at least 30% in the sum of the
    # target diameters from baseline; 50 mm -> 35 mm is exactly -30% (PR), -> 40 mm is -20% (SD).
    s = subjects.enrol(
        trial.engine, trial["coordinator"], "A", "R-1", consent_date=DAY, strata=STRATA
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
    baseline = _measure(trial, s.id, DAY, 50.0)
    assert baseline.values["overall_response"] is None
    sd = _measure(trial, s.id, DAY + dt.timedelta(weeks=9), 40.0)
    pr = _measure(trial, s.id, DAY + dt.timedelta(weeks=18), 35.0)
    assert (sd.values["target_response"], sd.values["overall_response"]) == ("SD", "SD")
    assert (pr.values["target_response"], pr.values["overall_response"]) == ("PR", "PR")
    assert pr.values["rule_version"] == "RECIST 1.1"
    with pytest.raises(ConflictError):
        _measure(trial, s.id, DAY + dt.timedelta(weeks=18), 30.0)


def test_data_cut_snapshot_holds_only_data_dated_by_the_cutoff(trial):
    s = subjects.enrol(
        trial.engine, trial["coordinator"], "A", "C-1", consent_date=DAY, strata=STRATA
    )
    for days, term in ((3, "Fatigue"), (40, "Colitis")):
        clinical.report_adverse_event(
            trial.engine,
            trial["coordinator"],
            s.id,
            term=term,
            grade=1,
            start_date=DAY + dt.timedelta(days=days),
        )
    with pytest.raises(PermissionDeniedError):
        datacut.cut_data(trial.engine, trial["coordinator"], "interim", DAY)
    cut = datacut.cut_data(trial.engine, trial["data-manager"], "interim", DAY + dt.timedelta(10))
    assert cut.counts["subject"] == 1 and cut.counts["adverse_event"] == 1
    with transaction(trial.engine, read_only=True) as session:
        stored = session.scalar(select(m.DataCut).where(m.DataCut.name == "interim"))
        doc = json.loads(stored.snapshot_json)
    assert [ae["term"] for ae in doc["adverse_event"]] == ["Fatigue"]
    assert "arm_code" not in json.dumps(doc)
    with pytest.raises(ConflictError):
        datacut.cut_data(trial.engine, trial["data-manager"], "interim", DAY)
