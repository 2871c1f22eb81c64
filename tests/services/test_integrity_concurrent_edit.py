"""Two users editing one record at the same moment: one wins, the other gets a ConflictError.

Each round starts two threads behind a barrier so that both read the record before either
writes (on PostgreSQL the second one then waits on the first one's lock; on SQLite
``BEGIN IMMEDIATE`` serializes the two transactions). Whatever the interleaving, the outcome
must be one saved edit and one :class:`~equitrial.errors.ConflictError` naming the record
(same expected version), or the two edits applied one after the other (no expected version):
never a SQLAlchemy error (``InvalidRequestError: Can't operate on closed transaction``,
``StaleDataError``), and never an edit without its audit rows.
"""

from __future__ import annotations

import datetime as dt
import functools
import threading

import pytest
from sqlalchemy import select

from equitrial.errors import ConflictError
from equitrial.services import clinical, subjects
from equitrial.store import models as m
from equitrial.store.db import transaction

STRATA = {"braf_v600": "mutant", "ecog_ps": "0", "m_stage_ldh": "M0-M1b, normal LDH"}
DAY = dt.date(2024, 3, 1)
ROUNDS = 6


def _race(calls):
    """Run the calls at once (behind a barrier); return what each returned or raised."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[object] = [None] * len(calls)

    def run(i, call):
        barrier.wait()
        try:
            outcomes[i] = call()
        except Exception as error:  # the test inspects whatever was raised
            outcomes[i] = error

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


def _edit(trial, actor, record_id, grade, reason, version=None):
    return clinical.update_record(
        trial.engine,
        trial[actor],
        "adverse_event",
        record_id,
        {"grade": grade},
        reason=reason,
        expected_version=version,
    )


def _two_other_grades(grade):
    """Two different grades, both different from ``grade`` (so that each edit changes it)."""
    first, second, *_ = [g for g in (1, 2, 3, 4) if g != grade]
    return first, second


@pytest.fixture
def ae(trial):
    s = subjects.enrol(
        trial.engine, trial["coordinator"], "A", "CE-1", consent_date=DAY, strata=STRATA
    )
    return clinical.report_adverse_event(
        trial.engine, trial["coordinator"], s.id, term="Fatigue", grade=1, start_date=DAY
    )


def _grade_edits(engine, record_id):
    with transaction(engine, read_only=True) as session:
        rows = session.scalars(
            select(m.AuditTrail)
            .where(
                m.AuditTrail.table_name == "adverse_event",
                m.AuditTrail.record_id == str(record_id),
                m.AuditTrail.field == "grade",
                m.AuditTrail.action == "update",
            )
            .order_by(m.AuditTrail.id)
        )
        return [(r.old_value, r.new_value) for r in rows]


def _stored(engine, record_id):
    with transaction(engine, read_only=True) as session:
        return session.get(m.AdverseEvent, record_id)


def _assert_chained(rows):
    """Each audited edit starts from the value the one before left: nothing lost or hidden."""
    assert [old for old, _ in rows[1:]] == [new for _, new in rows[:-1]]


def test_same_expected_version_one_edit_wins_the_other_is_a_conflict(trial, ae):
    for k in range(ROUNDS):
        before = _stored(trial.engine, ae.id)
        grades = _two_other_grades(before.grade)
        edit = functools.partial(_edit, trial, record_id=ae.id, version=before.version)
        outcomes = _race(
            [
                functools.partial(edit, "coordinator", grade=grades[0], reason=f"round {k} a"),
                functools.partial(edit, "investigator", grade=grades[1], reason=f"round {k} b"),
            ]
        )
        errors = [o for o in outcomes if isinstance(o, BaseException)]
        saved = [o for o in outcomes if not isinstance(o, BaseException)]
        assert len(saved) == 1 and len(errors) == 1, outcomes
        assert isinstance(errors[0], ConflictError), repr(errors[0])
        assert f"adverse_event {ae.id}" in errors[0].message
        after = _stored(trial.engine, ae.id)
        assert (after.grade, after.version) == (saved[0].values["grade"], before.version + 1)
    rows = _grade_edits(trial.engine, ae.id)
    assert len(rows) == ROUNDS
    _assert_chained(rows)


def test_without_expected_version_concurrent_edits_apply_one_after_the_other(trial, ae):
    for k in range(ROUNDS):
        before = _stored(trial.engine, ae.id)
        grades = _two_other_grades(before.grade)
        outcomes = _race(
            [
                functools.partial(_edit, trial, "coordinator", ae.id, grades[0], f"r{k} a"),
                functools.partial(_edit, trial, "investigator", ae.id, grades[1], f"r{k} b"),
            ]
        )
        errors = [o for o in outcomes if isinstance(o, BaseException)]
        assert errors == [], [repr(e) for e in errors]
        after = _stored(trial.engine, ae.id)
        assert after.version == before.version + 2
        assert after.grade in grades
    rows = _grade_edits(trial.engine, ae.id)
    assert len(rows) == 2 * ROUNDS
    _assert_chained(rows)
