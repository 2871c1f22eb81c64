"""Migrations build the schema from an empty database and take it down again."""

from __future__ import annotations

from sqlalchemy import inspect

from equitrial.store import migrate
from equitrial.store.db import make_engine
from equitrial.store.models import Base


def test_upgrade_creates_every_model_table_and_downgrade_base_removes_them(
    empty_db_url: str,
) -> None:
    migrate.upgrade(empty_db_url)
    engine = make_engine(empty_db_url)
    try:
        assert migrate.current_revision(engine) == migrate.head_revision()
        tables = set(inspect(engine).get_table_names())
        assert set(Base.metadata.tables) <= tables
        assert "audit_trail" in tables

        migrate.downgrade(empty_db_url, "base")
        assert migrate.current_revision(engine) is None
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}

        migrate.upgrade(empty_db_url)
        assert migrate.current_revision(engine) == migrate.head_revision()
    finally:
        engine.dispose()
