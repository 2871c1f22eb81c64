"""Central-lab transfers (issue 9): ``lab_transfer`` and the provenance of an imported result.

- ``lab_transfer``: one row per imported transfer file: its content's SHA-256 (unique in the
  study: the same file is imported once), the sender's transfer id (unique when given), the
  file name and the number of results.
- ``lab_result``: ``accession`` (the central lab's sample accession number, optional) and
  ``lab_transfer_id`` (the transfer that brought the result; null for a result typed by hand).

Revision ID: 0008
Revises: 0005
Create Date: 2026-12-07 11:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create ``lab_transfer`` and add the provenance columns of ``lab_result``."""
    op.create_table(
        "lab_transfer",
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("transfer_id", sa.String(length=64), nullable=True),
        sa.Column("filename", sa.String(length=255), nullable=True),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("imported_by", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["imported_by"], ["users.id"], name=op.f("fk_lab_transfer_imported_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["study_id"], ["study.id"], name=op.f("fk_lab_transfer_study_id_study")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lab_transfer")),
        sa.UniqueConstraint("study_id", "sha256", name=op.f("uq_lab_transfer_study_id_sha256")),
        sa.UniqueConstraint(
            "study_id", "transfer_id", name=op.f("uq_lab_transfer_study_id_transfer_id")
        ),
    )
    with op.batch_alter_table("lab_result", schema=None) as batch_op:
        batch_op.add_column(sa.Column("accession", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("lab_transfer_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_lab_result_lab_transfer_id"), ["lab_transfer_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_lab_result_lab_transfer_id_lab_transfer"),
            "lab_transfer",
            ["lab_transfer_id"],
            ["id"],
        )


def downgrade() -> None:
    """Drop the provenance columns and ``lab_transfer``."""
    with op.batch_alter_table("lab_result", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_lab_result_lab_transfer_id_lab_transfer"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_lab_result_lab_transfer_id"))
        batch_op.drop_column("lab_transfer_id")
        batch_op.drop_column("accession")
    op.drop_table("lab_transfer")
