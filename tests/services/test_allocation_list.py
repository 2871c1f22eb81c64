"""The concealed list is written with the study, and its seed never reaches the audit trail."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from sqlalchemy import func, select

from equitrial.randomization.schedule import ScheduleExistsError
from equitrial.services import randomize
from equitrial.store import models as m
from equitrial.store.db import transaction


def test_list_is_written_with_the_study_and_only_a_seed_commitment_is_audited(
    trial,  # type: ignore[no-untyped-def]
) -> None:
    with transaction(trial.engine, read_only=True) as session:
        slots = session.scalar(select(func.count()).select_from(m.RandomizationSchedule))
        rows = session.scalars(select(m.AuditTrail)).all()
    assert slots and slots > 0
    text = " ".join(
        str(v) for r in rows for v in (r.old_value, r.new_value, r.reason, r.field) if v
    )
    # the list can be rebuilt from the seed, and blinded users read the trail
    assert str(2**200 + 20240501) not in text
    salt = bytes.fromhex(text.split(" salt ", 1)[1][:64])
    seed = f"equitrial-seed:{2**200 + 20240501}".encode()
    assert hmac.new(salt, seed, hashlib.sha256).hexdigest() in text


def test_a_second_list_is_refused_and_changes_nothing(trial) -> None:  # type: ignore[no-untyped-def]
    with transaction(trial.engine, read_only=True) as session:
        before = session.scalar(select(func.count()).select_from(m.AuditTrail))
    with pytest.raises(ScheduleExistsError):
        randomize.generate_list(trial.engine, trial["admin"], seed=2**130, per_stratum_slots=4)
    with transaction(trial.engine, read_only=True) as session:
        assert session.scalar(select(func.count()).select_from(m.AuditTrail)) == before
