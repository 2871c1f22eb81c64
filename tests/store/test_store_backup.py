"""Backup then restore gives a database whose audit trail verifies with the same final hash."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from db_fixtures import fresh_database
from equitrial.errors import ConflictError, InvalidInputError
from equitrial.store import audit, backup, migrate
from equitrial.store.db import make_engine, transaction
from equitrial.store.models import AdverseEvent, Site, Study, Subject, User


class _Actor:
    user_id: int | None = None
    username = "admin"


def _populate(engine: Engine) -> None:
    actor = _Actor()
    with transaction(engine) as session:
        study = Study(code="BIO-1", title="Biosimilar", protocol_version="1.0", protocol_json="{}")
        site = Site(code="S01", name="Site one")
        for obj in (study, site, User(username="alice", password_hash="$argon2id$x", active=True)):
            audit.record_changes(session, actor, obj, reason=None)
        subject = Subject(
            study_id=study.id,
            site_id=site.id,
            screening_number="001",
            subject_code="S01-0001",
            consent_date=dt.date(2024, 1, 15),
            eligible=True,
            strata_json='{"ecog": "0"}',
        )
        audit.record_changes(session, actor, subject, reason=None)
        ae = AdverseEvent(
            subject_id=subject.id,
            term="Pruritus",
            soc="Skin and subcutaneous tissue disorders",
            grade=2,
            start_date=dt.date(2024, 2, 1),
            serious=False,
        )
        audit.record_changes(session, actor, ae, reason=None)
    with transaction(engine) as session:
        stored = session.scalars(select(AdverseEvent)).one()
        stored.grade = 3
        audit.record_changes(session, actor, stored, reason="worsened, per source notes")


def _final_hash(url: str) -> audit.AuditVerification:
    engine = make_engine(url)
    try:
        with transaction(engine, read_only=True) as session:
            return audit.verify(session)
    finally:
        engine.dispose()


def test_backup_then_restore_verifies_with_the_same_final_hash(
    db_url: str, engine: Engine, another_empty_db_url: str, tmp_path: Path
) -> None:
    _populate(engine)
    original = _final_hash(db_url)
    assert original.ok and original.rows > 10

    dest = tmp_path / "backup.bak"
    written = backup.backup(db_url, dest)
    restored = backup.restore(dest, another_empty_db_url, study="BIO-1")

    assert written == restored
    assert restored.tables["audit_trail"] == original.rows
    copy = _final_hash(another_empty_db_url)
    assert copy.ok, copy.message
    assert (copy.rows, copy.final_hash) == (original.rows, original.final_hash)

    target = make_engine(another_empty_db_url)
    try:
        with transaction(target) as session:
            ae = session.scalars(select(AdverseEvent)).one()
            assert (ae.grade, ae.start_date, ae.version) == (3, dt.date(2024, 2, 1), 2)
            # ids continue after the restored rows (PostgreSQL sequences were reset)
            site = Site(code="S02", name="Site two")
            audit.record_changes(session, _Actor(), site, reason=None)
            assert site.id == 2
        # one audit row per column of the new site: code, name, site_type, country, region
        assert _final_hash(another_empty_db_url).rows == original.rows + 5
    finally:
        target.dispose()


def test_restore_refuses_a_database_with_data(db_url: str, engine: Engine, tmp_path: Path) -> None:
    _populate(engine)
    dest = tmp_path / "backup.bak"
    backup.backup(db_url, dest)
    with pytest.raises(ConflictError, match="empty database"):
        backup.restore(dest, db_url, study="BIO-1")


def test_backup_never_overwrites_and_restore_needs_a_backup_file(
    db_url: str, another_empty_db_url: str, tmp_path: Path
) -> None:
    existing = tmp_path / "exists.bak"
    existing.write_text("keep me")
    with pytest.raises(InvalidInputError, match="exists already"):
        backup.backup(db_url, existing)
    assert existing.read_text() == "keep me"
    with pytest.raises(InvalidInputError, match="not an equitrial backup"):
        backup.restore(existing, another_empty_db_url, study="BIO-1")
    with pytest.raises(InvalidInputError, match="no such backup file"):
        backup.restore(tmp_path / "missing.bak", another_empty_db_url, study="BIO-1")


@pytest.mark.parametrize(("source", "target"), [("sqlite", "postgresql"), ("postgresql", "sqlite")])
def test_backup_restores_across_databases_with_the_same_final_hash(
    source: str, target: str, tmp_path: Path
) -> None:
    with fresh_database(source, tmp_path) as src_url, fresh_database(target, tmp_path) as dst_url:
        migrate.upgrade(src_url)
        engine = make_engine(src_url)
        try:
            _populate(engine)
        finally:
            engine.dispose()
        original = _final_hash(src_url)
        backup.backup(src_url, tmp_path / "cross.bak")
        backup.restore(tmp_path / "cross.bak", dst_url, study="BIO-1")
        copy = _final_hash(dst_url)
        assert copy.ok, copy.message
        assert (copy.rows, copy.final_hash) == (original.rows, original.final_hash)
