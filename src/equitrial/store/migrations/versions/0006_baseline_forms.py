"""Baseline case report forms (issue 9): demographics, medical history, informed consent; the
site's type, country and region; the screen failure; disposition scope and CDISC EPOCH.

- ``site``: ``site_type`` (METROPOLITAN / REGIONAL), ``country`` (ISO 3166-1 alpha-3) and
  ``region``, all optional.
- ``subject.status`` accepts ``screen failed``: its CHECK constraint is replaced and the column
  widened (on SQLite by rebuilding the table, Alembic's batch mode).
- ``disposition``: ``scope`` (END OF TREATMENT / END OF STUDY / SCREEN FAILURE) says which
  disposition a row is, one per subject and scope; ``epoch`` becomes a CDISC EPOCH value
  (SCREENING / TREATMENT / FOLLOW-UP). Rows that exist: epoch TREATMENT -> scope END OF
  TREATMENT, epoch TREATMENT; epoch STUDY -> scope END OF STUDY, epoch FOLLOW-UP when the
  subject has an end of treatment dated before it, else TREATMENT. ``reason_category``: the
  category of a screen failure.
- ``demographics``, ``medical_history``, ``informed_consent``: new tables.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 11:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUSES_BEFORE = ("screening", "eligible", "ineligible", "randomized", "completed", "withdrawn")
STATUSES_AFTER = (*STATUSES_BEFORE, "screen failed")
RECORD_STATUSES = ("entered", "verified", "signed", "frozen", "locked")
STATUS_CHECK = "ck_subject_subject_status"


def _in(column: str, values: Sequence[str]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _record_columns() -> list[sa.Column[object]]:
    status = sa.Enum(*RECORD_STATUSES, name="record_status", native_enum=False,
                     create_constraint=True, length=8)  # fmt: skip
    return [
        sa.Column("status", status, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    ]


def _subject_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["subject_id"], ["subject.id"], name=op.f(f"fk_{table}_subject_id_subject")
    )


def _sqlite_foreign_keys_off() -> None:
    """Let SQLite rebuild ``subject`` while other tables reference its rows.

    A new CHECK constraint on SQLite means a new table: Alembic's batch mode copies ``subject``,
    drops the old table and renames the copy, and with foreign keys on the drop fails as soon
    as a row of another table references a subject. SQLite ignores ``PRAGMA foreign_keys``
    inside a transaction, so the transaction is committed first (nothing of this migration is
    pending yet) and the pragma set on the driver connection; :mod:`equitrial.store.migrate`
    discards the connection afterwards. :func:`_sqlite_foreign_key_check` then checks every
    reference before the migration's transaction commits.
    """
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    if bind.exec_driver_sql("SELECT 1 FROM subject LIMIT 1").first() is None:
        return  # no subject, no reference to break (a restore migrates an empty database
        # inside its own transaction, which must not be committed here)
    if bind.in_transaction():
        bind.commit()
    bind.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]


def _sqlite_foreign_key_check() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    broken = bind.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise RuntimeError(f"migration 0006 broke foreign keys: {broken[:5]}")


def _replace_status_check(statuses: Sequence[str]) -> None:
    with op.batch_alter_table("subject", schema=None, recreate="auto") as batch_op:
        batch_op.drop_constraint(op.f(STATUS_CHECK), type_="check")
        batch_op.alter_column(
            "status",
            existing_type=sa.String(length=max(len(s) for s in STATUSES_BEFORE)),
            type_=sa.String(length=max(len(s) for s in statuses)),
            existing_nullable=False,
        )
        batch_op.create_check_constraint(op.f(STATUS_CHECK), _in("status", statuses))


def _new_tables() -> None:
    op.create_table(
        "demographics",
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("age", sa.Integer(), nullable=False),
        sa.Column("sex", sa.String(length=1), nullable=False),
        sa.Column("race", sa.String(length=48), nullable=False),
        sa.Column("ethnicity", sa.String(length=32), nullable=False),
        sa.Column("country", sa.String(length=3), nullable=False),
        sa.Column("region", sa.String(length=20), nullable=False),
        sa.Column("site_type", sa.String(length=16), nullable=True),
        sa.Column("ecog_ps", sa.Integer(), nullable=False),
        sa.Column("braf_v600", sa.String(length=16), nullable=False),
        sa.Column("m_stage", sa.String(length=8), nullable=False),
        sa.Column("ldh_value", sa.Float(), nullable=False),
        sa.Column("ldh_uln", sa.Float(), nullable=False),
        sa.Column("ldh_elevated", sa.Boolean(), nullable=False),
        sa.Column("brain_metastases", sa.String(length=1), nullable=False),
        sa.Column("prior_adjuvant", sa.String(length=1), nullable=False),
        sa.Column("prior_adjuvant_therapy", sa.Text(), nullable=True),
        *_record_columns(),
        _subject_fk("demographics"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_demographics")),
        sa.UniqueConstraint("subject_id", name=op.f("uq_demographics_subject_id")),
    )
    op.create_table(
        "medical_history",
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("term", sa.String(length=200), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("ongoing", sa.Boolean(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        *_record_columns(),
        _subject_fk("medical_history"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_medical_history")),
    )
    op.create_table(
        "informed_consent",
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("consent_date", sa.Date(), nullable=False),
        sa.Column("form_version", sa.String(length=32), nullable=False),
        sa.Column("consent_type", sa.String(length=16), nullable=False),
        *_record_columns(),
        _subject_fk("informed_consent"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_informed_consent")),
    )
    for table in ("medical_history", "informed_consent"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(batch_op.f(f"ix_{table}_subject_id"), ["subject_id"])


def upgrade() -> None:
    _sqlite_foreign_keys_off()
    with op.batch_alter_table("site", schema=None) as batch_op:
        batch_op.add_column(sa.Column("site_type", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("country", sa.String(length=3), nullable=True))
        batch_op.add_column(sa.Column("region", sa.String(length=20), nullable=True))
    _replace_status_check(STATUSES_AFTER)

    with op.batch_alter_table("disposition", schema=None) as batch_op:
        batch_op.add_column(sa.Column("scope", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("reason_category", sa.String(length=40), nullable=True))
    op.execute("UPDATE disposition SET scope = 'END OF TREATMENT' WHERE epoch = 'TREATMENT'")
    op.execute(
        "UPDATE disposition SET scope = 'END OF STUDY', epoch = CASE WHEN EXISTS ("
        "SELECT 1 FROM disposition AS t WHERE t.subject_id = disposition.subject_id "
        "AND t.epoch = 'TREATMENT' AND t.date < disposition.date) "
        "THEN 'FOLLOW-UP' ELSE 'TREATMENT' END WHERE epoch = 'STUDY'"
    )
    with op.batch_alter_table("disposition", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_disposition_subject_id_epoch"), type_="unique")
        batch_op.alter_column("scope", existing_type=sa.String(length=20), nullable=False)
        batch_op.create_unique_constraint(
            batch_op.f("uq_disposition_subject_id_scope"), ["subject_id", "scope"]
        )

    _new_tables()
    _sqlite_foreign_key_check()


def downgrade() -> None:
    _sqlite_foreign_keys_off()
    for table in ("informed_consent", "medical_history"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f"ix_{table}_subject_id"))
    for table in ("informed_consent", "medical_history", "demographics"):
        op.drop_table(table)

    op.execute("DELETE FROM disposition WHERE scope = 'SCREEN FAILURE'")
    op.execute("UPDATE disposition SET epoch = 'STUDY' WHERE scope = 'END OF STUDY'")
    with op.batch_alter_table("disposition", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_disposition_subject_id_scope"), type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_disposition_subject_id_epoch"), ["subject_id", "epoch"]
        )
        batch_op.drop_column("reason_category")
        batch_op.drop_column("scope")

    op.execute("UPDATE subject SET status = 'ineligible' WHERE status = 'screen failed'")
    _replace_status_check(STATUSES_BEFORE)
    with op.batch_alter_table("site", schema=None) as batch_op:
        for column in ("region", "country", "site_type"):
            batch_op.drop_column(column)
    _sqlite_foreign_key_check()
