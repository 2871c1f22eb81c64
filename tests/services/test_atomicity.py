"""A process killed in the middle of a use case leaves nothing partial (SQLite and PostgreSQL).

The use case (enrol) runs in a child process with ``store.audit.record_all_changes`` wrapped so
that, after the subject row AND its audit rows have been flushed inside the open transaction,
the child says so on stdout and sleeps; the parent then kills it with SIGKILL (no cleanup, no
rollback issued by Python) and checks that neither the subject nor any audit row of it exists,
that the audit chain still verifies, and that the database takes the next write.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

from sqlalchemy import func, select

from equitrial.services import subjects
from equitrial.services.audit import verify_audit_trail
from equitrial.store import models as m
from equitrial.store.db import transaction

STRATA = {"braf_v600": "mutant", "ecog_ps": "0", "m_stage_ldh": "M0-M1b, normal LDH"}
CHILD = textwrap.dedent(
    """
    import sys, time
    from sqlalchemy import select
    from equitrial.services import subjects
    from equitrial.services.auth import actor_for
    from equitrial.store import audit, models as m
    from equitrial.store.db import make_engine, transaction

    engine = make_engine(sys.argv[1])
    with transaction(engine, read_only=True) as session:
        user = session.scalar(select(m.User).where(m.User.username == "coordinator-a"))
        actor = actor_for(session, user)
    original = audit.record_all_changes

    def record_then_hang(session, who, objs, *, reason):
        rows = original(session, who, objs, reason=reason)
        if objs[0].__tablename__ == "subject":
            print(f"flushed subject {objs[0].id} and {len(rows)} audit rows", flush=True)
            time.sleep(120)
        return rows

    audit.record_all_changes = record_then_hang
    strata = {"braf_v600": "mutant", "ecog_ps": "0", "m_stage_ldh": "M0-M1b, normal LDH"}
    subjects.enrol(engine, actor, "A", "KILLED-1", strata=strata)
    print("committed", flush=True)
    """
)


def _state(engine):
    with transaction(engine, read_only=True) as session:
        subjects_n = session.scalar(select(func.count()).select_from(m.Subject))
        audit_n = session.scalar(select(func.count()).select_from(m.AuditTrail))
        subject_audit = session.scalar(
            select(func.count()).where(m.AuditTrail.table_name == "subject")
        )
        return subjects_n, audit_n, subject_audit


def test_sigkill_inside_a_use_case_leaves_no_row_and_no_audit_row(trial, db_url):
    before = _state(trial.engine)
    assert before[0] == 0 and before[2] == 0
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, db_url],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ},
    )
    try:
        line = child.stdout.readline()
        assert line.startswith("flushed subject"), child.stderr.read()
        assert int(line.split(" and ")[1].split()[0]) > 0  # audit rows were written, uncommitted
        child.send_signal(signal.SIGKILL)
        assert child.wait(timeout=30) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
        child.stdout.close()
        child.stderr.close()
    assert _state(trial.engine) == before
    assert verify_audit_trail(trial.engine).ok
    # the killed transaction left no lock behind: the same use case now completes
    done = subjects.enrol(trial.engine, trial["coordinator"], "A", "KILLED-1", strata=STRATA)
    assert done.screening_number == "KILLED-1"
    after = _state(trial.engine)
    assert after[0] == 1 and after[2] > 0
    assert verify_audit_trail(trial.engine).ok
