"""Shared set-up of the issue-9 form tests: a subject, a randomized subject, counts, audit rows."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Engine, func, select

from equitrial.services import randomize, subjects
from equitrial.services.audit import verify_audit_trail
from equitrial.services.queries import query_thread
from equitrial.store import models as m
from equitrial.store.db import transaction

STRATA = {"braf_v600": "mutant", "ecog_ps": "0", "m_stage_ldh": "M0-M1b, normal LDH"}
TODAY = dt.datetime.now(dt.UTC).date()
CONSENT = TODAY - dt.timedelta(days=60)


def at(day: dt.date, hour: int = 9) -> dt.datetime:
    """A UTC timestamp on ``day``."""
    return dt.datetime.combine(day, dt.time(hour), dt.UTC)


def enrol(trial: Any, screening: str = "S-100") -> Any:
    """A subject of site A consented :data:`CONSENT`."""
    return subjects.enrol(
        trial.engine, trial["coordinator"], "A", screening, consent_date=CONSENT, strata=STRATA
    )


def randomized(trial: Any, subject: Any) -> str:
    """Randomize ``subject`` (today); its kit number."""
    subjects.confirm_eligibility(
        trial.engine, trial["investigator"], subject.id, True, strata=STRATA
    )
    return randomize.randomize(trial.engine, trial["coordinator"], subject.id).kit


def count(engine: Engine, model: type[Any]) -> int:
    """Rows of ``model``."""
    with transaction(engine, read_only=True) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def audit_rows(engine: Engine) -> int:
    """Rows of the audit trail."""
    return count(engine, m.AuditTrail)


def inserted_fields(engine: Engine, table: str, record_id: int) -> set[str]:
    """The fields of the audit rows of the insert of one record."""
    with transaction(engine, read_only=True) as session:
        rows = session.scalars(
            select(m.AuditTrail.field).where(
                m.AuditTrail.action == "insert",
                m.AuditTrail.table_name == table,
                m.AuditTrail.record_id == str(record_id),
            )
        )
        return {r for r in rows if r is not None}


def rules(trial: Any, view: Any) -> list[tuple[str | None, str | None]]:
    """``(field, rule)`` of the queries a save opened, as a monitor reads them."""
    threads = [query_thread(trial.engine, trial["monitor"], q) for q in view.query_ids]
    return [(t.field, t.rule) for t in threads]


def assert_trail_holds(engine: Engine) -> None:
    """The audit chain and the reconciliation of every table with it hold."""
    report = verify_audit_trail(engine)
    assert report.ok, report.findings
