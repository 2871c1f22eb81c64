"""An anchor outside the database (issue 8, item 4), on both databases.

The head of the audit chain is signed with an Ed25519 key that lives outside the database at the
end of every use case, in ``audit_anchor`` and in an external anchor log. Truncating the last
rows, appending forged rows, and rewriting rows with re-computed hashes (SQLite's
``INSERT OR REPLACE``, or UPDATEs with the triggers disabled on PostgreSQL) are all found by
``audit verify``; ``INSERT OR REPLACE`` itself is refused by the database.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import DBAPIError

from equitrial.errors import ConfigurationError
from equitrial.services import sites
from equitrial.services.audit import verify_audit_trail
from equitrial.services.auth import system_actor
from equitrial.store import audit, keys
from equitrial.store.chain import compute_row_hash
from equitrial.store.db import transaction
from equitrial.store.models import AuditAnchor, AuditTrail


def _use_cases(engine: Engine, n: int) -> None:
    """``n`` use cases, each adding one site (a few audit rows and one anchor each)."""
    for i in range(n):
        sites.add_site(engine, system_actor(), f"S{i:02d}", f"Site {i}")


def _login_only(engine: Engine) -> None:
    """A use case that writes audit rows and no data (a login event)."""
    with transaction(engine) as session:
        audit.append(
            session, actor_username="alice", user_id=None, action="login", table_name=None,
            record_id=None,
        )  # fmt: skip


def _problems(engine: Engine) -> tuple[str, ...]:
    return verify_audit_trail(engine).findings


def _without_protection(engine: Engine, backend: str, *statements: str) -> None:
    """Run statements around the triggers, as the owner of the database could."""
    with engine.begin() as connection:
        if backend == "postgresql":
            for table in ("audit_trail", "audit_anchor"):
                connection.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
            for statement in statements:
                connection.execute(text(statement))
            for table in ("audit_trail", "audit_anchor"):
                connection.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER USER"))
            return
        saved = connection.execute(
            text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
        ).all()
        for name, _ in saved:
            connection.execute(text(f"DROP TRIGGER {name}"))
        for statement in statements:
            connection.execute(text(statement))
        for _, sql in saved:
            connection.execute(text(sql))


def _rows(engine: Engine) -> list[AuditTrail]:
    with transaction(engine, read_only=True) as session:
        return list(session.scalars(select(AuditTrail).order_by(AuditTrail.id)))


def test_every_use_case_signs_the_head_inside_and_outside_the_database(
    engine: Engine, _own_anchor_file: Path
) -> None:
    _use_cases(engine, 3)
    report = verify_audit_trail(engine)
    assert report.ok, report.findings
    assert report.anchors.signed == 3 and report.anchors.external == 3
    assert report.anchors.signed_rows == report.chain.rows
    lines = [json.loads(line) for line in _own_anchor_file.read_text().splitlines()]
    assert [line["rows"] for line in lines] == sorted(line["rows"] for line in lines)
    assert lines[-1]["row_hash"] == report.chain.final_hash
    assert stat.S_IMODE(os.stat(_own_anchor_file).st_mode) == 0o600
    # an independent check of the last signature with the public key alone
    key = keys.load_key()
    first = _rows(engine)[0].row_hash
    message = f"equitrial-audit-anchor:v1:{first}:{lines[-1]['rows']}:{lines[-1]['row_hash']}:"
    message += lines[-1]["signed_at"]
    assert keys.verify_signature(key.public_key(), message.encode(), lines[-1]["signature"])


def test_truncating_the_last_rows_is_found(engine: Engine, backend: str) -> None:
    _use_cases(engine, 4)
    last = _rows(engine)[-1].id
    _without_protection(engine, backend, f"DELETE FROM audit_trail WHERE id > {last - 2}")
    report = verify_audit_trail(engine)
    assert report.chain.ok  # a shorter chain is still a chain
    assert any("no longer has" in p for p in report.findings)


def test_truncating_rows_and_their_anchors_is_found_by_the_external_log(
    engine: Engine, backend: str
) -> None:
    _use_cases(engine, 2)
    keep = _rows(engine)[-1].id
    _login_only(engine)  # rows that change no data: only an anchor can vouch for them
    _without_protection(
        engine,
        backend,
        f"DELETE FROM audit_trail WHERE id > {keep}",
        f"DELETE FROM audit_anchor WHERE rows > {keep}",
    )
    report = verify_audit_trail(engine)
    assert report.chain.ok and report.reconciliation.discrepancies == ()
    assert [p for p in report.findings if "external anchor" in p and "no longer has" in p]


def test_an_appended_forged_row_is_found(engine: Engine) -> None:
    _use_cases(engine, 2)
    last = _rows(engine)[-1]
    forged = {
        "id": last.id + 1,
        "at": last.at,
        "user_id": None,
        "username": "mallory",
        "action": "login",
        "table_name": None,
        "record_id": None,
        "field": None,
        "old_value": None,
        "new_value": None,
        "reason": None,
        "software_version": last.software_version,
        "prev_hash": last.row_hash,
    }
    forged["row_hash"] = compute_row_hash(forged)
    with engine.begin() as connection:  # a proper append: the trigger lets it through
        connection.execute(sa.insert(AuditTrail), [forged])
    report = verify_audit_trail(engine)
    assert report.chain.ok
    assert any(f"rows {last.id + 1}..{last.id + 1} are not covered" in p for p in report.findings)


def test_insert_or_replace_on_the_audit_trail_is_refused(engine: Engine, backend: str) -> None:
    _use_cases(engine, 1)
    row = _rows(engine)[0]
    if backend == "sqlite":
        statement = (
            "INSERT OR REPLACE INTO audit_trail (id, at, username, action, software_version, "
            "prev_hash, row_hash) SELECT id, at, 'mallory', action, software_version, prev_hash, "
            "row_hash FROM audit_trail WHERE id = 1"
        )
    else:
        statement = (
            "INSERT INTO audit_trail (id, at, username, action, software_version, prev_hash, "
            "row_hash) SELECT id, at, 'mallory', action, software_version, prev_hash, row_hash "
            "FROM audit_trail WHERE id = 1 ON CONFLICT (id) DO UPDATE SET username = 'mallory'"
        )
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
        connection.execute(text(statement))
    assert _rows(engine)[0].username == row.username


def test_rewriting_rows_with_recomputed_hashes_is_found(engine: Engine, backend: str) -> None:
    _use_cases(engine, 3)
    rows = _rows(engine)
    statements, previous = [], rows[1].row_hash
    for row in rows[2:]:  # rewrite row 3 and re-hash every row after it: the chain verifies
        content = {c.key: getattr(row, c.key) for c in AuditTrail.__table__.c}
        if row.id == 3:
            content["username"] = "mallory"
        content["prev_hash"] = previous
        previous = content["row_hash"] = compute_row_hash(content)
        verb = "INSERT OR REPLACE INTO" if backend == "sqlite" else "UPDATE"
        if backend == "sqlite":
            statements.append(
                f"{verb} audit_trail (id, at, user_id, username, action, table_name, record_id, "
                "field, old_value, new_value, reason, software_version, prev_hash, row_hash) "
                f"SELECT id, at, user_id, '{content['username']}', action, table_name, record_id, "
                f"field, old_value, new_value, reason, software_version, '{content['prev_hash']}',"
                f" '{content['row_hash']}' FROM audit_trail WHERE id = {row.id}"
            )
        else:
            statements.append(
                f"UPDATE audit_trail SET username = '{content['username']}', prev_hash = "
                f"'{content['prev_hash']}', row_hash = '{content['row_hash']}' WHERE id = {row.id}"
            )
    _without_protection(engine, backend, *statements)
    report = verify_audit_trail(engine)
    assert report.chain.ok  # the chain was re-hashed consistently
    assert _rows(engine)[2].username == "mallory"
    assert any("another hash" in p for p in report.findings)


def test_a_forged_anchor_is_found(engine: Engine) -> None:
    _use_cases(engine, 1)
    last = _rows(engine)[-1]
    with engine.begin() as connection:
        connection.execute(
            sa.insert(AuditAnchor),
            [
                {
                    "rows": last.id,
                    "row_hash": last.row_hash,
                    "signed_at": last.at,
                    "key_id": keys.load_key().key_id,
                    "signature": "A" * 88,
                }
            ],
        )
    assert any("does not verify" in p for p in _problems(engine))


def test_anchors_cannot_be_changed_or_deleted(engine: Engine) -> None:
    _use_cases(engine, 1)
    for statement in ("UPDATE audit_anchor SET rows = 1", "DELETE FROM audit_anchor"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
            connection.execute(text(statement))


def test_without_the_key_nothing_is_written(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _use_cases(engine, 1)
    before = len(_rows(engine))
    monkeypatch.setenv("EQUITRIAL_AUDIT_KEY_FILE", str(tmp_path / "missing.key"))
    with pytest.raises(ConfigurationError, match="db upgrade"):
        sites.add_site(engine, system_actor(), "S99", "no key")
    monkeypatch.undo()
    assert len(_rows(engine)) == before
    assert verify_audit_trail(engine).ok


def test_a_key_readable_by_others_is_refused(tmp_path: Path) -> None:
    path = keys.create_key(tmp_path / "k" / "audit.key")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    path.chmod(0o644)
    with pytest.raises(ConfigurationError, match="chmod 600"):
        keys.load_key(path)


def test_another_installations_key_does_not_verify(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _use_cases(engine, 1)
    monkeypatch.setenv("EQUITRIAL_AUDIT_KEY_FILE", str(keys.create_key(tmp_path / "other.key")))
    assert any("another key" in p for p in _problems(engine))


def test_removing_the_first_row_is_found_not_taken_for_an_empty_trail(
    engine: Engine, backend: str
) -> None:
    # review of the fifth session: the trail's name is its first row's hash; with row 1 gone
    # (and the anchors with it) the trail was taken for an empty one and nothing was checked
    _login_only(engine)
    _login_only(engine)
    _without_protection(
        engine, backend, "DELETE FROM audit_trail WHERE id = 1", "DELETE FROM audit_anchor"
    )
    report = verify_audit_trail(engine)
    assert not report.ok
    assert report.findings[0] == "audit row 2: expected id 1 next: rows 1..1 are missing"
