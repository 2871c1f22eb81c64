"""The migrated schema is exactly what the models describe (Alembic's autogenerate comparison,
types included), on SQLite and PostgreSQL: a model changed without its migration, or a migration
that differs from its model, fails here."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Column, Integer, MetaData

from equitrial.store import migrate
from equitrial.store.db import make_engine
from equitrial.store.models import Base


def _differences(url: str, metadata: MetaData) -> list[object]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return list(compare_metadata(context, metadata))
    finally:
        engine.dispose()


def test_migrations_build_the_schema_of_the_models(empty_db_url: str) -> None:
    migrate.upgrade(empty_db_url)
    assert _differences(empty_db_url, Base.metadata) == []
    # the comparison sees a difference when there is one: a column the migrations lack
    drifted = MetaData(naming_convention=Base.metadata.naming_convention)
    for table in Base.metadata.sorted_tables:
        table.to_metadata(drifted)
    drifted.tables["kit"].append_column(Column("not_migrated", Integer))
    found = _differences(empty_db_url, drifted)
    assert [d[0] for d in found] == ["add_column"]  # type: ignore[index]
