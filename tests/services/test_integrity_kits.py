"""Kit accountability: a dose names a kit dispensed to its (randomized) subject.

Issue #8, item 12. Today a subject is dispensed the one kit of its allocation slot (shown at
randomization); ``clinical._kit_dispensed_to`` is where resupply dispensing will be looked up.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from equitrial.errors import ConflictError, InvalidInputError
from equitrial.services import clinical, randomize, subjects
from equitrial.store import models as m
from equitrial.store.db import transaction

STRATA = {"braf_v600": "mutant", "ecog_ps": "0", "m_stage_ldh": "M0-M1b, normal LDH"}
DAY = dt.date(2024, 3, 1)


def _rows(engine):
    with transaction(engine, read_only=True) as session:
        doses = session.scalar(select(func.count()).select_from(m.Dose))
        trail = session.scalar(select(func.count()).select_from(m.AuditTrail))
        return doses, trail


def _randomized(trial, number):
    s = subjects.enrol(
        trial.engine,
        trial["investigator"],
        "A",
        number,
        strata=STRATA,
        eligible=True,
        consent_date=DAY,
    )
    return s, randomize.randomize(trial.engine, trial["coordinator"], s.id).kit


def _dose(trial, subject_id, **extra):
    fields = {"cycle": 1, "date": DAY, "dose_mg": 200.0} | extra
    return clinical.record_dose(trial.engine, trial["coordinator"], subject_id, **fields)


@pytest.fixture
def two(trial):
    return _randomized(trial, "K-1"), _randomized(trial, "K-2")


def test_a_dose_for_a_subject_who_is_not_randomized_is_refused(trial):
    s = subjects.enrol(
        trial.engine,
        trial["investigator"],
        "A",
        "K-0",
        strata=STRATA,
        eligible=True,
        consent_date=DAY,
    )
    before = _rows(trial.engine)
    with pytest.raises(ConflictError, match="not randomized") as refused:
        _dose(trial, s.id, kit_number="K1-123456")
    assert refused.value.field == "subject"
    assert _rows(trial.engine) == before


def test_a_dose_must_name_a_kit_dispensed_to_its_subject(trial, two):
    (first, first_kit), (second, second_kit) = two
    arms = {
        r.subject: r.arm
        for r in randomize.list_allocations(trial.engine, trial["unblinded-statistician"])
    }
    before = _rows(trial.engine)
    for kit in (second_kit, "K9-999999", None, "  "):
        with pytest.raises(InvalidInputError) as refused:
            _dose(trial, first.id, kit_number=kit)
        assert refused.value.field == "kit_number"
        # neither the subject's own kit nor any arm is given away by the refusal
        assert first_kit not in refused.value.message
        assert not any(arm in refused.value.message for arm in arms.values())
    assert _rows(trial.engine) == before
    dose = _dose(trial, first.id, kit_number=first_kit)
    assert dose.values["kit_number"] == first_kit
    assert _dose(trial, second.id, kit_number=second_kit).values["subject_id"] == second.id


def test_an_edit_cannot_move_a_dose_to_another_subjects_kit(trial, two):
    (first, first_kit), (_, second_kit) = two
    dose = _dose(trial, first.id, kit_number=first_kit)
    before = _rows(trial.engine)
    for kit in (second_kit, None):
        with pytest.raises(InvalidInputError) as refused:
            clinical.update_record(
                trial.engine,
                trial["coordinator"],
                "dose",
                dose.id,
                {"kit_number": kit},
                reason="kit label re-read",
            )
        assert refused.value.field == "kit_number"
    assert _rows(trial.engine) == before
    with transaction(trial.engine, read_only=True) as session:
        assert session.get(m.Dose, dose.id).kit_number == first_kit
