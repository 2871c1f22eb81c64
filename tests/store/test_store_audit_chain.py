"""The audit trail: append-only in the database itself, hash-chained, verified row by row.

The chain is checked against an independent recomputation written here from the documented
rule (SHA-256 of the canonical JSON of the row's content and prev_hash), not against
``equitrial.store.audit.compute_row_hash``.
"""

from __future__ import annotations

import hashlib
import json

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import DBAPIError

from equitrial.store import audit
from equitrial.store.db import transaction
from equitrial.store.models import AuditTrail

SQLITE_TRIGGERS = {
    "audit_trail_no_update": "BEFORE UPDATE",
    "audit_trail_no_delete": "BEFORE DELETE",
    "audit_trail_append_only": "BEFORE INSERT",
}


def _append_many(engine: Engine, n: int, per_transaction: int = 25) -> None:
    done = 0
    while done < n:
        with transaction(engine) as session:
            for _ in range(min(per_transaction, n - done)):
                done += 1
                audit.append(
                    session,
                    actor_username="alice",
                    user_id=None,
                    action="update",
                    table_name="subject",
                    record_id=done,
                    field="sex",
                    old="F" if done % 2 else None,
                    new=f"value {done} ü",
                    reason="source document corrected",
                )


def _independent_chain(engine: Engine) -> list[tuple[int, str]]:
    """Recompute every row hash from the stored columns, following the documented rule."""
    previous = "0" * 64
    out = []
    with transaction(engine, read_only=True) as session:
        rows = session.execute(select(AuditTrail).order_by(AuditTrail.id)).scalars().all()
        for row in rows:
            content = {
                "id": row.id,
                "at": row.at.strftime("%Y-%m-%dT%H:%M:%S.%f+00:00"),
                "user_id": row.user_id,
                "username": row.username,
                "action": row.action,
                "table_name": row.table_name,
                "record_id": row.record_id,
                "field": row.field,
                "old_value": row.old_value,
                "new_value": row.new_value,
                "reason": row.reason,
                "software_version": row.software_version,
                "prev_hash": previous,
            }
            blob = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
            previous = hashlib.sha256(blob.encode()).hexdigest()
            assert row.row_hash == previous, f"row {row.id}"
            out.append((row.id, previous))
    return out


def _verify(engine: Engine) -> audit.AuditVerification:
    with transaction(engine, read_only=True) as session:
        return audit.verify(session)


def test_chain_of_many_appends_verifies_with_the_final_hash(engine: Engine) -> None:
    _append_many(engine, 240)
    chain = _independent_chain(engine)
    result = _verify(engine)
    assert [i for i, _ in chain] == list(range(1, 241))
    assert result.ok, result.message
    assert result.rows == 240
    assert result.final_hash == chain[-1][1]
    assert result.first_bad_id is None


def test_empty_trail_verifies(engine: Engine) -> None:
    result = _verify(engine)
    assert (result.ok, result.rows, result.final_hash) == (True, 0, None)


@pytest.mark.parametrize(
    "statement", ["UPDATE audit_trail SET reason = 'edited'", "DELETE FROM audit_trail"]
)
def test_database_refuses_update_and_delete_of_audit_rows(engine: Engine, statement: str) -> None:
    _append_many(engine, 3)
    before = _verify(engine)
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
        connection.execute(text(f"{statement} WHERE id = 2"))
    after = _verify(engine)
    assert after.ok and after.rows == 3 and after.final_hash == before.final_hash


def test_database_refuses_truncate_on_postgresql(engine: Engine, backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("TRUNCATE exists on PostgreSQL only")
    _append_many(engine, 2)
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
        connection.execute(text("TRUNCATE audit_trail"))
    assert _verify(engine).rows == 2


def _tamper(engine: Engine, backend: str, statement: str) -> None:
    """Run ``statement`` on audit_trail around its protection, as a superuser could."""
    with engine.begin() as connection:
        if backend == "postgresql":
            connection.execute(text("ALTER TABLE audit_trail DISABLE TRIGGER USER"))
            connection.execute(text(statement))
            connection.execute(text("ALTER TABLE audit_trail ENABLE TRIGGER USER"))
            return
        saved = dict(
            connection.execute(
                text(
                    "SELECT name, sql FROM sqlite_master"
                    " WHERE tbl_name = 'audit_trail' AND type = 'trigger'"
                )
            ).all()
        )
        assert set(saved) == set(SQLITE_TRIGGERS)
        for name in saved:
            connection.execute(text(f"DROP TRIGGER {name}"))
        connection.execute(text(statement))
        for sql in saved.values():
            connection.execute(text(sql))


def test_row_altered_with_the_trigger_disabled_is_named_by_verify(
    engine: Engine, backend: str
) -> None:
    _append_many(engine, 10)
    _tamper(engine, backend, "UPDATE audit_trail SET new_value = 'forged' WHERE id = 6")
    result = _verify(engine)
    assert not result.ok
    assert result.first_bad_id == 6
    assert "audit row 6" in result.message and "altered" in result.message
    assert result.final_hash is None
    # the protection is back in place afterwards
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
        connection.execute(text("UPDATE audit_trail SET reason = 'x' WHERE id = 1"))


def test_altered_row_with_recomputed_hash_breaks_the_link_of_the_next_row(
    engine: Engine, backend: str
) -> None:
    _append_many(engine, 5)
    chain = dict(_independent_chain(engine))
    with transaction(engine, read_only=True) as session:
        row = session.get(AuditTrail, 3)
        assert row is not None
        row.reason = "forged reason"
        forged_hash = audit.compute_row_hash(row)
        session.rollback()
    assert forged_hash != chain[3]
    _tamper(
        engine,
        backend,
        f"UPDATE audit_trail SET reason = 'forged reason', row_hash = '{forged_hash}' WHERE id = 3",
    )
    result = _verify(engine)
    assert (result.ok, result.first_bad_id) == (False, 4)
    assert "prev_hash" in result.message


def test_row_deleted_with_the_trigger_disabled_is_found(engine: Engine, backend: str) -> None:
    _append_many(engine, 6)
    _tamper(engine, backend, "DELETE FROM audit_trail WHERE id = 4")
    result = _verify(engine)
    assert (result.ok, result.first_bad_id) == (False, 5)
    assert "4..4 are missing" in result.message


def test_failed_transaction_leaves_no_audit_rows(engine: Engine) -> None:
    _append_many(engine, 2)
    with pytest.raises(RuntimeError, match="use case failed"), transaction(engine) as session:
        audit.append(
            session,
            actor_username="bob",
            user_id=None,
            action="insert",
            table_name="site",
            record_id=1,
        )
        assert session.scalar(select(func.count()).select_from(AuditTrail)) == 3
        raise RuntimeError("use case failed")
    result = _verify(engine)
    assert result.ok and result.rows == 2
    with transaction(engine) as session:
        row = audit.append(
            session,
            actor_username="bob",
            user_id=None,
            action="login",
            table_name=None,
            record_id=None,
        )
        assert row.id == 3
    assert _verify(engine).rows == 3
