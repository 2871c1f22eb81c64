"""Backup and restore carry the rows of the issue-9 forms (and their new table), and the
restored database reconciles with its audit trail (``audit verify``)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from backup_helpers import STUDY, populate, table_contents
from sqlalchemy import Engine, select

from equitrial.services import conmeds, outcomes, questionnaires, samples
from equitrial.services.audit import verify_audit_trail
from equitrial.services.auth import actor_for
from equitrial.store import backup
from equitrial.store import models as m
from equitrial.store.db import make_engine, transaction

NEW_FORMS = (
    "pk_sample",
    "ada_sample",
    "questionnaire_response",
    "con_med",
    "subsequent_therapy",
    "disposition",
    "death",
)


def _forms(engine: Engine) -> None:
    today = dt.datetime.now(dt.UTC).date()
    with transaction(engine, read_only=True) as session:
        inv = actor_for(session, session.scalars(select(m.User).filter_by(username="inv")).one())
        subject = session.scalars(select(m.Subject).order_by(m.Subject.id)).first()
        ae = session.scalars(select(m.AdverseEvent)).one()
    assert subject is not None
    sid, noon = subject.id, dt.datetime.combine(today, dt.time(12), dt.UTC)
    samples.record_pk_sample(
        engine,
        inv,
        sid,
        timing="PRE-DOSE",
        nominal_hours=0.0,
        collected_at=noon,
        blq=True,
        lloq=0.5,
    )
    samples.record_ada_sample(
        engine,
        inv,
        sid,
        collected_at=noon,
        screening_result="POSITIVE",
        confirmatory_result="POSITIVE",
        titre=80.0,
        neutralizing="NOT DONE",
    )
    items = {i: 1 + i % 4 for i in range(1, 29)} | {29: 6, 30: None}
    questionnaires.record_qlq_c30(engine, inv, sid, date=today, items=items)
    conmeds.record_con_med(
        engine,
        inv,
        sid,
        name="Cetirizine",
        indication="Pruritus",
        dose=10.0,
        dose_unit="mg",
        route="ORAL",
        frequency="QD",
        start=ae.start_date,
        ongoing=True,
        adverse_event_id=ae.id,
    )
    conmeds.record_subsequent_therapy(
        engine, inv, sid, name="Ipilimumab", therapy_type="IMMUNOTHERAPY", start_date=today
    )
    outcomes.record_disposition(
        engine, inv, sid, scope="END OF TREATMENT", decod="PROGRESSIVE DISEASE", date=today
    )
    outcomes.record_death(engine, inv, sid, date=today, cause="PROGRESSIVE DISEASE")


def test_backup_and_restore_carry_the_new_forms(
    db_url: str, engine: Engine, another_empty_db_url: str, tmp_path: Path
) -> None:
    populate(engine)
    _forms(engine)
    original = table_contents(db_url)
    assert all(len(original[name]) == 1 for name in NEW_FORMS)

    dest = tmp_path / "forms.bak"
    written = backup.backup(db_url, dest)
    assert all(written.tables[name] == 1 for name in NEW_FORMS)
    backup.restore(dest, another_empty_db_url, study=STUDY)

    assert table_contents(another_empty_db_url) == original
    target = make_engine(another_empty_db_url)
    try:
        report = verify_audit_trail(target)
        assert report.ok, report.findings
    finally:
        target.dispose()
