"""Migration 0010 drops the unique index on ``audit_trail.row_hash`` and keeps everything else
of the audit trail: its rows, its chain, its append-only triggers (both databases)."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError

from equitrial.store import audit, migrate
from equitrial.store.chain import verify
from equitrial.store.db import make_engine, transaction


def _unique_columns(url: str) -> list[list[str]]:
    engine = make_engine(url)
    try:
        return [c["column_names"] for c in inspect(engine).get_unique_constraints("audit_trail")]
    finally:
        engine.dispose()


def test_the_row_hash_index_goes_and_the_trail_stays_protected(empty_db_url: str) -> None:
    migrate.upgrade(empty_db_url, "0009")
    assert _unique_columns(empty_db_url) == [["row_hash"]]
    engine = make_engine(empty_db_url)
    try:
        with transaction(engine) as session:
            for n in range(3):
                audit.append(
                    session,
                    actor_username="admin",
                    user_id=None,
                    action=f"test-{n}",
                    table_name=None,
                    record_id=None,
                )
        migrate.upgrade(empty_db_url)
        assert _unique_columns(empty_db_url) == []
        with transaction(engine, read_only=True) as session:
            checked = verify(session)
        assert checked.ok and checked.rows == 3
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as c:
            c.execute(text("UPDATE audit_trail SET username = 'mallory' WHERE id = 1"))
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as c:
            c.execute(text("DELETE FROM audit_trail WHERE id = 3"))
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as c:
            c.execute(
                text(
                    "INSERT INTO audit_trail (id, at, username, action, software_version, "
                    "prev_hash, row_hash) SELECT 9, at, 'mallory', action, software_version, "
                    "prev_hash, row_hash FROM audit_trail WHERE id = 1"
                )
            )
        with transaction(engine) as session:  # the services still append
            audit.append(
                session,
                actor_username="admin",
                user_id=None,
                action="after",
                table_name=None,
                record_id=None,
            )
        with transaction(engine, read_only=True) as session:
            assert verify(session).rows == 4
    finally:
        engine.dispose()
    migrate.downgrade(empty_db_url, "0009")
    assert _unique_columns(empty_db_url) == [["row_hash"]]
