"""Enrolment, eligibility and randomization through the services (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from equitrial.errors import ConflictError, InvalidInputError, PermissionDeniedError
from equitrial.services import randomize, subjects
from equitrial.store import models as m
from equitrial.store.db import transaction

STRATA = {"braf_v600": "mutant", "ecog_ps": "0", "m_stage_ldh": "M0-M1b, normal LDH"}


def _audit_rows(engine, **where):
    with transaction(engine, read_only=True) as session:
        query = select(m.AuditTrail)
        for key, value in where.items():
            query = query.where(getattr(m.AuditTrail, key) == value)
        return list(session.scalars(query))


def test_enrol_confirm_randomize_blinded_coordinator_sees_kit_not_arm(trial):
    subject = subjects.enrol(trial.engine, trial["coordinator"], "A", "S-001", strata=STRATA)
    assert subject.subject_code == "A-0001" and subject.status == "screening"
    confirmed = subjects.confirm_eligibility(trial.engine, trial["investigator"], subject.id, True)
    assert confirmed.status == "eligible"
    allocation = randomize.randomize(trial.engine, trial["coordinator"], subject.id)
    assert allocation.arm is None and "arm" not in allocation.to_dict()
    assert allocation.kit and allocation.sequence_number >= 1 and allocation.new
    again = randomize.randomize(trial.engine, trial["coordinator"], subject.subject_code)
    assert (again.sequence_number, again.kit, again.new) == (
        allocation.sequence_number,
        allocation.kit,
        False,
    )
    assert (
        subjects.get_subject(trial.engine, trial["coordinator"], subject.id).status == "randomized"
    )
    listing = randomize.list_allocations(trial.engine, trial["unblinded-statistician"])
    assert [(r.subject, r.kit) for r in listing] == [("A-0001", allocation.kit)]
    assert listing[0].arm in {"BIO", "REF"}
    # the audit trail records the randomization without the arm
    rows = _audit_rows(trial.engine, action="randomize")
    assert len(rows) == 1
    assert all(listing[0].arm not in (r.new_value or "") + (r.reason or "") for r in rows)
    assert len(_audit_rows(trial.engine, action="export")) == 1  # the unblinded listing


def test_unblinded_statistician_sees_the_arm_blinded_roles_cannot_list(trial):
    subject = subjects.enrol(
        trial.engine, trial["investigator"], "A", "S-002", strata=STRATA, eligible=True
    )
    allocation = randomize.randomize(trial.engine, trial["investigator"], subject.id)
    assert allocation.arm is None
    for role in ("coordinator", "investigator", "monitor", "data-manager", "admin"):
        with pytest.raises(PermissionDeniedError):
            randomize.list_allocations(trial.engine, trial[role])


def test_randomization_refused_without_eligibility_or_stratum(trial):
    missing = dict(STRATA)
    del missing["ecog_ps"]
    s1 = subjects.enrol(trial.engine, trial["coordinator"], "A", "S-003", strata=STRATA)
    with pytest.raises(ConflictError, match="eligibility"):
        randomize.randomize(trial.engine, trial["coordinator"], s1.id)
    with pytest.raises(InvalidInputError, match="ecog_ps"):  # refused at enrolment already
        subjects.enrol(
            trial.engine, trial["investigator"], "A", "S-004", strata=missing, eligible=True
        )
    with transaction(trial.engine, read_only=True) as session:
        taken = select(func.count()).where(m.RandomizationSchedule.subject_id.is_not(None))
        assert session.scalar(taken) == 0


def test_enrol_refuses_unknown_level_and_duplicate_screening_number(trial):
    with pytest.raises(InvalidInputError, match="ecog_ps") as error:
        subjects.enrol(trial.engine, trial["coordinator"], "A", "S-5", strata={"ecog_ps": "3"})
    assert error.value.field == "strata.ecog_ps"
    subjects.enrol(trial.engine, trial["coordinator"], "A", "S-5", strata=STRATA)
    with pytest.raises(ConflictError, match="S-5"):
        subjects.enrol(trial.engine, trial["coordinator"], "A", "S-5", strata=STRATA)
    with transaction(trial.engine, read_only=True) as session:
        assert session.scalar(select(func.count()).select_from(m.Subject)) == 1
