"""Visit schedules and both dosing regimens.

- ``regimen_period``: a subject's regimen from a date on (one row at randomization, one per
  switch; append-only history).
- ``visit``: ``window_start``, ``window_end``, ``planned`` (written from the protocol's schedule)
  and ``assessments`` (the kinds of assessment due).
- ``dose``: ``regimen``, ``lot``, ``infusion_start``, ``infusion_stop``.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 09:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "regimen_period",
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("regimen", sa.String(length=16), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subject.id"], name=op.f("fk_regimen_period_subject_id_subject")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_regimen_period")),
    )
    with op.batch_alter_table("regimen_period", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_regimen_period_subject_id"), ["subject_id"], unique=False
        )
    with op.batch_alter_table("visit", schema=None) as batch_op:
        batch_op.add_column(sa.Column("window_start", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("window_end", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column("planned", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(sa.Column("assessments", sa.String(length=200), nullable=True))
    with op.batch_alter_table("dose", schema=None) as batch_op:
        batch_op.add_column(sa.Column("regimen", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("lot", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("infusion_start", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("infusion_stop", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("dose", schema=None) as batch_op:
        batch_op.drop_column("infusion_stop")
        batch_op.drop_column("infusion_start")
        batch_op.drop_column("lot")
        batch_op.drop_column("regimen")
    with op.batch_alter_table("visit", schema=None) as batch_op:
        batch_op.drop_column("assessments")
        batch_op.drop_column("planned")
        batch_op.drop_column("window_end")
        batch_op.drop_column("window_start")
    with op.batch_alter_table("regimen_period", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_regimen_period_subject_id"))
    op.drop_table("regimen_period")
