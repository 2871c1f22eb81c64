"""A backup is one consistent snapshot, and it never signs what it cannot vouch for.

- A use case that commits while the backup is being written (after the audit trail was read,
  before the sites are) is either wholly in the backup or not at all: here not at all, since
  the snapshot was taken first. The backup restores and its chain ends where the snapshot did.
- A database whose audit chain is broken, or that is not at the current schema revision, is
  not backed up (a signed backup would vouch for it); no file is left behind.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from backup_helpers import STUDY, populated, table_contents, verification

from equitrial.errors import ConflictError
from equitrial.services.auth import system_actor
from equitrial.services.sites import add_site
from equitrial.store import backup, backup_write, migrate
from equitrial.store.db import make_engine


def test_a_write_committed_during_the_backup_is_not_in_it(
    db_url: str, another_empty_db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    populated(db_url)
    before = verification(db_url)
    dump_table = backup_write._dump_table
    writer = make_engine(db_url)

    def write_meanwhile(connection: Any, out: Any, key: Any, table: Any, *rest: Any) -> Any:
        if table.name == "site":  # audit_trail has been read already; site comes after it
            add_site(writer, system_actor(), "Z", "Site added during the backup")
        return dump_table(connection, out, key, table, *rest)

    monkeypatch.setattr(backup_write, "_dump_table", write_meanwhile)
    try:
        written = backup.backup(db_url, tmp_path / "during.backup")
    finally:
        writer.dispose()
    after = verification(db_url)
    assert after.ok and after.rows > before.rows  # the write did commit, with its audit rows
    assert (written.audit_rows, written.final_hash) == (before.rows, before.final_hash)
    assert written.tables["site"] == 1

    backup.restore(tmp_path / "during.backup", another_empty_db_url, study=STUDY)
    restored = table_contents(another_empty_db_url)
    assert [row for row in restored["site"] if "Z" in row] == []
    copy = verification(another_empty_db_url)
    assert (copy.rows, copy.final_hash) == (before.rows, before.final_hash)


def _forge_audit_row(url: str) -> None:
    """Alter one audit row with the append-only triggers out of the way (as an intruder)."""
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            if url.startswith("postgresql"):
                connection.execute(sa.text("ALTER TABLE audit_trail DISABLE TRIGGER USER"))
                connection.execute(sa.text("UPDATE audit_trail SET new_value = 'x' WHERE id = 3"))
                connection.execute(sa.text("ALTER TABLE audit_trail ENABLE TRIGGER USER"))
                return
            triggers = connection.execute(
                sa.text("SELECT name, sql FROM sqlite_master WHERE tbl_name = 'audit_trail' "
                        "AND type = 'trigger'")
            ).all()  # fmt: skip
            for name, _ in triggers:
                connection.execute(sa.text(f'DROP TRIGGER "{name}"'))
            connection.execute(sa.text("UPDATE audit_trail SET new_value = 'x' WHERE id = 3"))
            for _, sql in triggers:
                connection.execute(sa.text(sql))
    finally:
        engine.dispose()


def test_a_broken_audit_chain_is_not_backed_up(db_url: str, tmp_path: Path) -> None:
    populated(db_url)
    _forge_audit_row(db_url)
    with pytest.raises(ConflictError, match="audit row 3") as refused:
        backup.backup(db_url, tmp_path / "forged.backup")
    assert refused.value.field == "audit_trail"
    assert list(tmp_path.iterdir()) == []  # no backup, no partial file


def test_a_database_behind_the_current_schema_is_not_backed_up(db_url: str, tmp_path: Path) -> None:
    migrate.downgrade(db_url, "0001")
    with pytest.raises(ConflictError, match="db upgrade"):
        backup.backup(db_url, tmp_path / "old.backup")
    assert list(tmp_path.iterdir()) == []
