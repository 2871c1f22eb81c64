"""No unique index on ``audit_trail.row_hash``.

The index guaranteed nothing the hash chain does not: every row's hash covers its own ``id``
(the primary key, one more than the previous row's under the chain lock) and the previous row's
hash, so two rows of a chain with one hash would be a SHA-256 collision, and
:func:`equitrial.store.chain.verify` checks every row anyway. What it cost: each audit row
went into a B-tree at a random place (a hash is random), so every write transaction dirtied a
page of that index per audit row, a cost that grows with the trail (measured on a copy of a
300-patient trial's database, 369,000 rows: 3,000 transactions of 13 audit rows took 2.4 s with
the index and 0.4 s without).

On SQLite the table is rebuilt (a constraint cannot be dropped in place); its triggers are read
from ``sqlite_master`` before and created again after, as they were.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 15:05:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op
from sqlalchemy import text

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CONSTRAINT = "uq_audit_trail_row_hash"


def _rebuild_on_sqlite(unique: bool) -> None:
    bind = op.get_bind()
    triggers = bind.execute(
        text(
            "SELECT name, sql FROM sqlite_master "
            "WHERE type = 'trigger' AND tbl_name = 'audit_trail' ORDER BY name"
        )
    ).all()
    for name, _ in triggers:
        op.execute(f'DROP TRIGGER "{name}"')
    with op.batch_alter_table("audit_trail", recreate="always") as batch_op:
        if unique:
            batch_op.create_unique_constraint(_CONSTRAINT, ["row_hash"])
        else:
            batch_op.drop_constraint(_CONSTRAINT, type_="unique")
    for _, sql in triggers:
        op.execute(sql)


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_on_sqlite(unique=False)
    else:
        op.drop_constraint(_CONSTRAINT, "audit_trail", type_="unique")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_on_sqlite(unique=True)
    else:
        op.create_unique_constraint(_CONSTRAINT, "audit_trail", ["row_hash"])
