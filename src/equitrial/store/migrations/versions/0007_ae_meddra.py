"""Adverse events: the MedDRA code, the dictionary-derived term and the grade's CTCAE text.

- ``adverse_event.meddra_code`` (MedDRA code of the CTCAE term, SDTM ``AELLTCD``),
  ``adverse_event.decod`` (SDTM ``AEDECOD``) and ``adverse_event.grade_definition`` (the CTCAE
  text of the recorded grade): derived on save, nullable (rows saved before this revision have
  none until they are saved again).

Revision ID: 0007
Revises: 0005 (re-chained by the integrator after 0006)
Create Date: 2026-12-07 12:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("adverse_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("meddra_code", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("decod", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("grade_definition", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("adverse_event", schema=None) as batch_op:
        batch_op.drop_column("grade_definition")
        batch_op.drop_column("decod")
        batch_op.drop_column("meddra_code")
