"""iRECIST time-point responses on ``tumour_assessment`` (issue 9).

- ``irecist_response``: the iRECIST time-point response (iCR, iPR, iSD, NON-iCR/NON-iUPD, iUPD,
  iCPD, NE), derived on save from the reader's lesion measurements like the RECIST 1.1 columns;
- ``irecist_target_sum``: the sum of the baseline target lesions at that assessment (mm; new
  lesions never included; empty unless every target lesion was assessed);
- ``irecist_new_lesion_progression``: RECIST 1.1 PD in the new-lesion category (a new lesion
  never seen before, the new-lesion-target sum +20 % and +5 mm from its nadir).

All three are empty at baseline. Rows recorded before this revision stay empty until the
reader's series is derived again (the next assessment or measurement edit of that reader).

Revision ID: 0009
Revises: 0005
Create Date: 2026-12-07 12:15:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("tumour_assessment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("irecist_response", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("irecist_target_sum", sa.Float(), nullable=True))
        batch_op.add_column(
            sa.Column("irecist_new_lesion_progression", sa.Boolean(), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("tumour_assessment", schema=None) as batch_op:
        batch_op.drop_column("irecist_new_lesion_progression")
        batch_op.drop_column("irecist_target_sum")
        batch_op.drop_column("irecist_response")
