"""Signed anchors of the audit chain, append-order enforced in the database, superseded signatures.

- ``audit_anchor``: the signed chain heads (append-only like the trail: UPDATE and DELETE are
  refused by triggers).
- ``audit_trail``: a BEFORE INSERT trigger refuses a row whose id is not the last id + 1 or
  whose ``prev_hash`` is not the last row's hash. On SQLite this also refuses
  ``INSERT OR REPLACE`` / ``REPLACE`` of an existing row (the trigger runs before the conflict
  is resolved), which would otherwise delete the old row without firing the DELETE trigger.
- an index on ``audit_trail (table_name, record_id)`` (a record's history, login attempts).
- ``signature.superseded_at``: an edit after signing voids the signature.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 06:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GENESIS = "0" * 64
APPEND_MESSAGE = "audit_trail is append-only: a row must extend the chain (id = last id + 1)"
ANCHOR_MESSAGE = "audit_anchor is append-only: UPDATE and DELETE are refused"

POSTGRESQL_UP = (
    f"""
    CREATE FUNCTION audit_trail_check_append() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE last_id integer; last_hash text;
    BEGIN
        SELECT id, row_hash INTO last_id, last_hash FROM audit_trail ORDER BY id DESC LIMIT 1;
        IF NEW.id IS DISTINCT FROM COALESCE(last_id, 0) + 1
           OR NEW.prev_hash IS DISTINCT FROM COALESCE(last_hash, '{GENESIS}') THEN
            RAISE EXCEPTION '{APPEND_MESSAGE}' USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN NEW;
    END;
    $$
    """,
    """
    CREATE TRIGGER audit_trail_append_only BEFORE INSERT ON audit_trail
    FOR EACH ROW EXECUTE FUNCTION audit_trail_check_append()
    """,
    """
    CREATE TRIGGER audit_anchor_no_update_delete BEFORE UPDATE OR DELETE ON audit_anchor
    FOR EACH ROW EXECUTE FUNCTION audit_trail_refuse_change()
    """,
    """
    CREATE TRIGGER audit_anchor_no_truncate BEFORE TRUNCATE ON audit_anchor
    FOR EACH STATEMENT EXECUTE FUNCTION audit_trail_refuse_change()
    """,
)
POSTGRESQL_DOWN = (
    "DROP TRIGGER IF EXISTS audit_anchor_no_truncate ON audit_anchor",
    "DROP TRIGGER IF EXISTS audit_anchor_no_update_delete ON audit_anchor",
    "DROP TRIGGER IF EXISTS audit_trail_append_only ON audit_trail",
    "DROP FUNCTION IF EXISTS audit_trail_check_append()",
)
SQLITE_UP = (
    f"""
    CREATE TRIGGER audit_trail_append_only BEFORE INSERT ON audit_trail
    WHEN NEW.id IS NOT COALESCE((SELECT max(id) FROM audit_trail), 0) + 1
      OR NEW.prev_hash IS NOT COALESCE(
           (SELECT row_hash FROM audit_trail ORDER BY id DESC LIMIT 1), '{GENESIS}')
    BEGIN SELECT RAISE(ABORT, '{APPEND_MESSAGE}'); END
    """,
    f"""
    CREATE TRIGGER audit_anchor_no_update BEFORE UPDATE ON audit_anchor
    BEGIN SELECT RAISE(ABORT, '{ANCHOR_MESSAGE}'); END
    """,
    f"""
    CREATE TRIGGER audit_anchor_no_delete BEFORE DELETE ON audit_anchor
    BEGIN SELECT RAISE(ABORT, '{ANCHOR_MESSAGE}'); END
    """,
)
SQLITE_DOWN = (
    "DROP TRIGGER IF EXISTS audit_anchor_no_delete",
    "DROP TRIGGER IF EXISTS audit_anchor_no_update",
    "DROP TRIGGER IF EXISTS audit_trail_append_only",
)


def _execute(statements: Sequence[str]) -> None:
    for statement in statements:
        op.execute(statement)


def upgrade() -> None:
    op.create_table(
        "audit_anchor",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("row_hash", sa.String(length=64), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("signature", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_anchor")),
    )
    with op.batch_alter_table("audit_anchor", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_anchor_rows"), ["rows"], unique=False)
    with op.batch_alter_table("audit_trail", schema=None) as batch_op:
        batch_op.create_index(
            "ix_audit_trail_table_name_record_id", ["table_name", "record_id"], unique=False
        )
    with op.batch_alter_table("signature", schema=None) as batch_op:
        batch_op.add_column(sa.Column("superseded_at", sa.DateTime(timezone=True), nullable=True))
    _execute(POSTGRESQL_UP if op.get_bind().dialect.name == "postgresql" else SQLITE_UP)


def downgrade() -> None:
    _execute(POSTGRESQL_DOWN if op.get_bind().dialect.name == "postgresql" else SQLITE_DOWN)
    with op.batch_alter_table("signature", schema=None) as batch_op:
        batch_op.drop_column("superseded_at")
    with op.batch_alter_table("audit_trail", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_trail_table_name_record_id")
    with op.batch_alter_table("audit_anchor", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_anchor_rows"))
    op.drop_table("audit_anchor")
