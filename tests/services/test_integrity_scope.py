"""A data manager scoped to sites cuts and views only those sites; the lock needs the study.

Issue #8, item 14. Also: the data cut is stored through ``audited_insert`` and still succeeds,
with a consistent snapshot, when another user writes while it is being read.
"""

from __future__ import annotations

import datetime as dt
import json
import threading

import pytest
from sqlalchemy import func, select

from equitrial.errors import PermissionDeniedError
from equitrial.services import clinical, datacut, queries, status, subjects, users
from equitrial.services.auth import actor_for
from equitrial.store import models as m
from equitrial.store.db import transaction

PASSWORD = "correct horse battery"
STRATA = {"braf_v600": "mutant", "ecog_ps": "0", "m_stage_ldh": "M0-M1b, normal LDH"}
DAY = dt.date(2024, 3, 1)


@pytest.fixture
def dm_a(trial):
    """A data manager of site A only."""
    users.add_user(trial.engine, trial["admin"], "dm-a", PASSWORD, ["data-manager"], site="A")
    with transaction(trial.engine, read_only=True) as session:
        return actor_for(session, session.scalar(select(m.User).where(m.User.username == "dm-a")))


@pytest.fixture
def world(trial):
    out = {}
    for site, who in (("A", "coordinator"), ("B", "coordinator@B")):
        s = subjects.enrol(
            trial.engine, trial[who], site, f"{site}-1", consent_date=DAY, strata=STRATA
        )
        ae = clinical.report_adverse_event(
            trial.engine, trial[who], s.id, term="Fatigue", grade=1, start_date=DAY
        )
        query = queries.open_query(
            trial.engine, trial["monitor"], "adverse_event", ae.id, "grade", "?"
        )
        out[site] = (s.id, ae.id, query.id)
    return out


def _snapshot(engine, name):
    with transaction(engine, read_only=True) as session:
        return json.loads(
            session.scalar(select(m.DataCut.snapshot_json).where(m.DataCut.name == name))
        )


def test_a_site_scoped_data_manager_cuts_only_its_sites(trial, dm_a, world):
    (a_subject, a_ae, _), (b_subject, b_ae, _) = world["A"], world["B"]
    cut = datacut.cut_data(trial.engine, dm_a, "site-a", DAY)
    doc = _snapshot(trial.engine, "site-a")
    assert [s["id"] for s in doc["subject"]] == [a_subject]
    assert [r["id"] for r in doc["adverse_event"]] == [a_ae]
    assert (cut.sites, cut.study_wide) == (("A",), False)
    assert cut.counts["subject"] == 1 and cut.counts["adverse_event"] == 1
    assert [s["code"] for s in doc["site"]] == ["A"]
    assert doc["scope"] == {"study_wide": False, "sites": ["A"]}
    everything = datacut.cut_data(trial.engine, trial["data-manager"], "all", DAY)
    assert (everything.sites, everything.study_wide) == (("A", "B"), True)
    doc = _snapshot(trial.engine, "all")
    assert sorted(s["id"] for s in doc["subject"]) == sorted([a_subject, b_subject])
    assert sorted(r["id"] for r in doc["adverse_event"]) == sorted([a_ae, b_ae])
    with transaction(trial.engine, read_only=True) as session:
        fields = set(
            session.scalars(
                select(m.AuditTrail.field).where(
                    m.AuditTrail.table_name == "data_cut",
                    m.AuditTrail.record_id == str(cut.id),
                    m.AuditTrail.action == "insert",
                )
            )
        )
    assert {"name", "cutoff_date", "snapshot_json", "study_id"} <= fields


def test_a_site_scoped_data_manager_sees_only_its_sites_and_cannot_lock_the_study(
    trial, dm_a, world
):
    (a_subject, a_ae, a_query), (b_subject, b_ae, b_query) = world["A"], world["B"]
    with transaction(trial.engine, read_only=True) as session:
        before = session.scalar(select(func.count()).select_from(m.AuditTrail))
    with pytest.raises(PermissionDeniedError, match="whole study"):
        status.lock_database(trial.engine, dm_a, reason="site A is done")
    with transaction(trial.engine, read_only=True) as session:
        assert session.scalar(select(m.Study.locked_at)) is None
        assert session.scalar(select(func.count()).select_from(m.AuditTrail)) == before
    assert [s.id for s in subjects.list_subjects(trial.engine, dm_a)] == [a_subject]
    assert queries.query_thread(trial.engine, dm_a, a_query).id == a_query
    assert status.record_signatures(trial.engine, dm_a, "adverse_event", a_ae) == []
    for attempt in (
        lambda: subjects.get_subject(trial.engine, dm_a, b_subject),
        lambda: queries.query_thread(trial.engine, dm_a, b_query),
        lambda: status.record_signatures(trial.engine, dm_a, "adverse_event", b_ae),
    ):
        with pytest.raises(PermissionDeniedError):
            attempt()
    status.lock_database(trial.engine, trial["data-manager"], reason="final analysis")


def test_a_cut_taken_while_others_write_is_consistent_and_stored(trial, world, monkeypatch):
    a_subject = world["A"][0]
    read = datacut.snapshot
    written = []

    def write_meanwhile():
        written.append(
            clinical.report_adverse_event(
                trial.engine,
                trial["coordinator"],
                a_subject,
                term="Nausea",
                grade=1,
                start_date=DAY,
            ).id
        )

    def snapshot_then_someone_writes(*args, **kwargs):
        doc = read(*args, **kwargs)
        writer = threading.Thread(target=write_meanwhile)
        writer.start()
        writer.join(timeout=5)  # on a store that serializes the cut with writers: it waits
        return doc

    monkeypatch.setattr(datacut, "snapshot", snapshot_then_someone_writes)
    cut = datacut.cut_data(trial.engine, trial["data-manager"], "busy", DAY)
    monkeypatch.setattr(datacut, "snapshot", read)
    for _ in range(100):
        if written:
            break
        threading.Event().wait(0.1)
    assert len(written) == 1
    doc = _snapshot(trial.engine, "busy")
    assert written[0] not in [r["id"] for r in doc["adverse_event"]]
    assert cut.counts["adverse_event"] == 2
