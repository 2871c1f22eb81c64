"""Case report forms through services (issue 9): PK/ADA samples, con-meds, disposition, death.

- ``pk_sample``: ``dose_id`` (the dose a sample relates to), ``nominal_hours`` (planned time
  relative to the dose), ``blq`` and ``lloq`` (below the limit of quantification).
- ``ada_sample``: the tiered results ``screening_result``, ``confirmatory_result``, ``titre``,
  ``neutralizing`` replace the single ``result`` (a POSITIVE/NEGATIVE ``result`` is carried
  over as the screening result).
- ``con_med``: indication, dose, unit, route, frequency, ``ongoing``, the treated adverse
  event and the derived ``irae_corticosteroid`` flag.
- ``disposition``: ``epoch`` (TREATMENT / STUDY) and ``decod`` (CDISC NCOMPLT reason), one per
  subject and epoch; rows that exist already become end-of-study records with reason OTHER.
- ``death``: ``cause_text`` (the free text of cause OTHER).
- ``subsequent_therapy``: a new table (name, type, start date).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07 09:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

THERAPY_TYPES = (
    "IMMUNOTHERAPY",
    "TARGETED THERAPY",
    "CHEMOTHERAPY",
    "RADIOTHERAPY",
    "SURGERY",
    "OTHER",
)
RECORD_STATUSES = ("entered", "verified", "signed", "frozen", "locked")


def _subsequent_therapy() -> None:
    op.create_table(
        "subsequent_therapy",
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "therapy_type",
            sa.Enum(*THERAPY_TYPES, name="therapy_type", native_enum=False, create_constraint=True),
            nullable=False,
        ),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                *RECORD_STATUSES, name="record_status", native_enum=False, create_constraint=True
            ),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subject.id"], name=op.f("fk_subsequent_therapy_subject_id_subject")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subsequent_therapy")),
    )
    with op.batch_alter_table("subsequent_therapy", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_subsequent_therapy_subject_id"), ["subject_id"], unique=False
        )


def upgrade() -> None:
    with op.batch_alter_table("pk_sample", schema=None) as batch_op:
        batch_op.add_column(sa.Column("dose_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("nominal_hours", sa.Float(), nullable=True))
        batch_op.add_column(
            sa.Column("blq", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("lloq", sa.Float(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_pk_sample_dose_id_dose"), "dose", ["dose_id"], ["id"]
        )
    with op.batch_alter_table("pk_sample", schema=None) as batch_op:
        batch_op.alter_column("blq", server_default=None)

    with op.batch_alter_table("ada_sample", schema=None) as batch_op:
        batch_op.add_column(sa.Column("screening_result", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("confirmatory_result", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("titre", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("neutralizing", sa.String(length=16), nullable=True))
    op.execute(
        "UPDATE ada_sample SET screening_result = upper(result) "
        "WHERE upper(result) IN ('POSITIVE', 'NEGATIVE')"
    )
    with op.batch_alter_table("ada_sample", schema=None) as batch_op:
        batch_op.drop_column("result")

    with op.batch_alter_table("con_med", schema=None) as batch_op:
        batch_op.add_column(sa.Column("indication", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("dose", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("dose_unit", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("route", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("frequency", sa.String(length=32), nullable=True))
        batch_op.add_column(
            sa.Column("ongoing", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("adverse_event_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("irae_corticosteroid", sa.Boolean(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_con_med_adverse_event_id_adverse_event"),
            "adverse_event",
            ["adverse_event_id"],
            ["id"],
        )
    with op.batch_alter_table("con_med", schema=None) as batch_op:
        batch_op.alter_column("ongoing", server_default=None)

    with op.batch_alter_table("disposition", schema=None) as batch_op:
        batch_op.add_column(sa.Column("epoch", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("decod", sa.String(length=40), nullable=True))
    op.execute("UPDATE disposition SET epoch = 'STUDY', decod = 'OTHER'")
    with op.batch_alter_table("disposition", schema=None) as batch_op:
        batch_op.alter_column("epoch", existing_type=sa.String(length=16), nullable=False)
        batch_op.alter_column("decod", existing_type=sa.String(length=40), nullable=False)
        batch_op.create_unique_constraint(
            batch_op.f("uq_disposition_subject_id_epoch"), ["subject_id", "epoch"]
        )

    with op.batch_alter_table("death", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cause_text", sa.Text(), nullable=True))

    _subsequent_therapy()


def downgrade() -> None:
    with op.batch_alter_table("subsequent_therapy", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_subsequent_therapy_subject_id"))
    op.drop_table("subsequent_therapy")

    with op.batch_alter_table("death", schema=None) as batch_op:
        batch_op.drop_column("cause_text")

    with op.batch_alter_table("disposition", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_disposition_subject_id_epoch"), type_="unique")
        batch_op.drop_column("decod")
        batch_op.drop_column("epoch")

    with op.batch_alter_table("con_med", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_con_med_adverse_event_id_adverse_event"), type_="foreignkey"
        )
        for column in (
            "irae_corticosteroid",
            "adverse_event_id",
            "ongoing",
            "frequency",
            "route",
            "dose_unit",
            "dose",
            "indication",
        ):
            batch_op.drop_column(column)

    with op.batch_alter_table("ada_sample", schema=None) as batch_op:
        batch_op.add_column(sa.Column("result", sa.String(length=32), nullable=True))
    op.execute("UPDATE ada_sample SET result = screening_result")
    with op.batch_alter_table("ada_sample", schema=None) as batch_op:
        for column in ("neutralizing", "titre", "confirmatory_result", "screening_result"):
            batch_op.drop_column(column)

    with op.batch_alter_table("pk_sample", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_pk_sample_dose_id_dose"), type_="foreignkey")
        for column in ("lloq", "blq", "nominal_hours", "dose_id"):
            batch_op.drop_column(column)
