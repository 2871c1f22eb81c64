"""Audited inserts and updates, optimistic locking, engine settings, models vs migrations."""

from __future__ import annotations

import datetime as dt

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from equitrial.errors import InvalidInputError
from equitrial.settings import DEFAULT_DATABASE_URL, get_settings
from equitrial.store import audit, keys
from equitrial.store.db import make_engine, transaction
from equitrial.store.models import AuditTrail, Base, RoleMembership, Site, Study, Subject, User


class _Actor:
    def __init__(self, username: str = "dm", user_id: int | None = None) -> None:
        self.username = username
        self.user_id = user_id


def _rows(engine: Engine) -> list[AuditTrail]:
    with transaction(engine, read_only=True) as session:
        return list(session.scalars(select(AuditTrail).order_by(AuditTrail.id)))


def _add_site(engine: Engine) -> int:
    with transaction(engine) as session:
        site = Site(code="S01", name="Alpha")
        audit.record_changes(session, _Actor(), site, reason=None)
        return site.id


def test_insert_is_audited_field_by_field(engine: Engine) -> None:
    site_id = _add_site(engine)
    rows = _rows(engine)
    assert {
        (r.action, r.table_name, r.record_id, r.field, r.old_value, r.new_value) for r in rows
    } == {
        ("insert", "site", str(site_id), "code", None, "S01"),
        ("insert", "site", str(site_id), "name", None, "Alpha"),
        # every column of an insert, the empty ones too (issue 9: a site's type and place)
        ("insert", "site", str(site_id), "site_type", None, None),
        ("insert", "site", str(site_id), "country", None, None),
        ("insert", "site", str(site_id), "region", None, None),
    }
    assert all(r.username == "dm" and r.at.tzinfo is not None for r in rows)


def test_insert_flushed_by_the_caller_is_still_audited_as_insert(engine: Engine) -> None:
    with transaction(engine) as session:
        site = Site(code="S09", name="Flushed first")
        session.add(site)
        session.flush()
        written = audit.record_changes(session, _Actor(), site, reason=None)
    fields = {"code", "name", "site_type", "country", "region"}
    assert {(r.action, r.field) for r in written} == {("insert", f) for f in fields}


def test_password_hash_never_reaches_the_audit_trail(engine: Engine) -> None:
    with transaction(engine) as session:
        user = User(username="alice", password_hash="$argon2id$secret", active=True)
        audit.record_changes(session, _Actor(), user, reason=None)
    values = {r.field: r.new_value for r in _rows(engine)}
    # a keyed commitment (HMAC under a key outside the database), never the hash itself
    assert values["password_hash"] == keys.commit(
        keys.load_key(), "users", user.id, "password_hash", "$argon2id$secret"
    )
    assert all("argon2" not in str(r.new_value) for r in _rows(engine))
    assert values["active"] == "true"


def test_change_after_first_entry_needs_a_reason_and_writes_nothing_without(
    engine: Engine,
) -> None:
    site_id = _add_site(engine)
    before = len(_rows(engine))
    with pytest.raises(InvalidInputError, match=r"site\.name: a reason is required") as caught:
        with transaction(engine) as session:
            site = session.get(Site, site_id)
            assert site is not None
            site.name = "Beta"
            audit.record_changes(session, _Actor(), site, reason="  ")
    assert caught.value.field == "name"
    assert len(_rows(engine)) == before
    with transaction(engine, read_only=True) as session:
        assert session.get(Site, site_id).name == "Alpha"  # type: ignore[union-attr]


def test_update_is_audited_with_old_new_and_reason(engine: Engine) -> None:
    site_id = _add_site(engine)
    with transaction(engine) as session:
        site = session.get(Site, site_id)
        assert site is not None
        site.name = "Beta"
        site.code = "S01"  # unchanged value: not logged
        written = audit.record_changes(session, _Actor("cra"), site, reason="typo in site name")
    assert [(r.action, r.field, r.old_value, r.new_value, r.reason) for r in written] == [
        ("update", "name", "Alpha", "Beta", "typo in site name")
    ]


def test_delete_is_audited_and_needs_a_reason(engine: Engine) -> None:
    site_id = _add_site(engine)
    with transaction(engine) as session:
        site = session.get(Site, site_id)
        session.delete(site)
        written = audit.record_changes(session, _Actor(), site, reason="created in error")
    assert {(r.action, r.field, r.old_value, r.new_value) for r in written} == {
        ("delete", "code", "S01", None),
        ("delete", "name", "Alpha", None),
        ("delete", "site_type", None, None),
        ("delete", "country", None, None),
        ("delete", "region", None, None),
    }


def test_concurrent_edit_of_the_same_record_is_refused(engine: Engine) -> None:
    with transaction(engine) as session:
        study = Study(code="X", title="X", protocol_version="1", protocol_json="{}")
        site = Site(code="S1", name="s")
        session.add_all([study, site])
        session.flush()
        subject = Subject(
            study_id=study.id, site_id=site.id, screening_number="1", subject_code="S1-0001"
        )
        session.add(subject)
    assert subject.version == 1
    with pytest.raises(StaleDataError), transaction(engine) as session:
        mine = session.get(Subject, subject.id)
        assert mine is not None and mine.version == 1
        # another user saves the record meanwhile (bumping its version)
        session.execute(
            update(Subject).where(Subject.id == subject.id).values(sex="F", version=2),
            execution_options={"synchronize_session": False},
        )
        mine.sex = "M"
        session.flush()
    with transaction(engine, read_only=True) as session:
        stored = session.get(Subject, subject.id)
        assert stored is not None and (stored.sex, stored.version) == (None, 1)


def test_engine_settings(engine: Engine, backend: str) -> None:
    with engine.connect() as connection:
        if backend == "sqlite":
            pragma = connection.exec_driver_sql
            assert pragma("PRAGMA journal_mode").scalar() == "wal"
            assert pragma("PRAGMA foreign_keys").scalar() == 1
            assert pragma("PRAGMA busy_timeout").scalar() == 30000
        else:
            assert engine.dialect.driver == "psycopg"
    with pytest.raises(IntegrityError), transaction(engine) as session:
        session.add(RoleMembership(user_id=999, role="admin"))
        session.flush()


def test_timestamps_are_utc_and_naive_ones_are_refused(engine: Engine) -> None:
    paris = dt.timezone(dt.timedelta(hours=2))
    with transaction(engine) as session:
        row = audit.append(
            session,
            actor_username="x",
            user_id=None,
            action="login",
            table_name=None,
            record_id=None,
        )
        created = row.at
        site = Site(code="T", name="t", created_at=dt.datetime(2024, 6, 1, 14, 0, tzinfo=paris))
        session.add(site)
    with transaction(engine, read_only=True) as session:
        stored = session.get(Site, site.id)
        assert stored is not None
        assert stored.created_at == dt.datetime(2024, 6, 1, 12, 0, tzinfo=dt.UTC)
        assert stored.created_at.utcoffset() == dt.timedelta(0)
        assert session.get(AuditTrail, 1).at == created  # type: ignore[union-attr]
    with pytest.raises(InvalidInputError, match="time zone"), transaction(engine) as session:
        session.add(Site(code="N", name="n", created_at=dt.datetime(2024, 6, 1, 14, 0)))
        session.flush()


def test_models_match_the_migrations(engine: Engine) -> None:
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_settings_read_the_database_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EQUITRIAL_DATABASE_URL", raising=False)
    assert get_settings().database_url == DEFAULT_DATABASE_URL == "sqlite:///equitrial.db"
    monkeypatch.setenv("EQUITRIAL_DATABASE_URL", "postgresql+psycopg://u@h:5432/db")
    assert get_settings().database_url == "postgresql+psycopg://u@h:5432/db"
    assert make_engine().dialect.driver == "psycopg"
    monkeypatch.setenv("EQUITRIAL_DATABASE_URL", "mysql://u@h/db")
    with pytest.raises(InvalidInputError, match="unsupported database 'mysql'") as caught:
        get_settings()
    assert caught.value.field == "database_url"


def test_updates_of_several_records_are_the_rows_of_each_update_in_one_statement(
    engine: Engine,
) -> None:
    changes = [
        (7, {"lot": ("L1", "L2"), "expiry": (dt.date(2027, 1, 1), None)}),
        (9, {"status": ("available", "shipped")}),
        (11, {}),
    ]
    with transaction(engine) as session:
        together = audit.record_updates(session, _Actor(), "kit", changes, reason="shipment 3")
    with transaction(engine) as session:
        one_by_one = [
            row
            for record_id, fields in changes
            for row in audit.record_update(
                session, _Actor(), "kit", record_id, fields, reason="shipment 3"
            )
        ]
    content = [(r.record_id, r.field, r.old_value, r.new_value, r.reason) for r in together]
    assert content == [
        ("7", "lot", "L1", "L2", "shipment 3"),
        ("7", "expiry", "2027-01-01", None, "shipment 3"),
        ("9", "status", "available", "shipped", "shipment 3"),
    ]
    assert content == [
        (r.record_id, r.field, r.old_value, r.new_value, r.reason) for r in one_by_one
    ]
    first = together[0].id
    assert [r.id for r in together] == [first, first + 1, first + 2]  # one chain, no gaps
    with transaction(engine) as session:
        assert audit.record_updates(session, _Actor(), "kit", [(5, {})], reason="x") == []
    with pytest.raises(InvalidInputError, match="reason"):
        with transaction(engine) as session:
            audit.record_updates(session, _Actor(), "kit", changes, reason="\x00")
