"""Drug supply (RTSM): depots, shipments, kits; the unblinded ``supply-manager`` role.

- ``depot``, ``shipment``, ``kit`` (:mod:`equitrial.store.models_supply`).
- ``role_membership.role`` accepts ``supply-manager``: its CHECK constraint is replaced (on
  SQLite by rebuilding the table, Alembic's batch mode).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 09:45:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLES_BEFORE = (
    "admin",
    "investigator",
    "coordinator",
    "data-manager",
    "monitor",
    "blinded-statistician",
    "unblinded-statistician",
    "pharmacist",
)
ROLES_AFTER = (*ROLES_BEFORE, "supply-manager")
KIT_STATUSES = ("available", "in-transit", "dispensed", "damaged", "quarantined", "expired")
SHIPMENT_STATUSES = ("requested", "shipped", "received", "cancelled")
ROLE_CHECK = "ck_role_membership_role"


def _in(column: str, values: Sequence[str]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _enum(name: str, values: Sequence[str]) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True,
                   length=max(len(v) for v in values))  # fmt: skip


def _timestamps() -> list[sa.Column[object]]:
    return [
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    ]


def _replace_role_check(roles: Sequence[str]) -> None:
    with op.batch_alter_table("role_membership", schema=None, recreate="auto") as batch_op:
        batch_op.drop_constraint(op.f(ROLE_CHECK), type_="check")
        batch_op.create_check_constraint(op.f(ROLE_CHECK), _in("role", roles))


def upgrade() -> None:
    _replace_role_check(ROLES_AFTER)
    op.create_table(
        "depot",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_depot")),
        sa.UniqueConstraint("code", name=op.f("uq_depot_code")),
    )
    op.create_table(
        "shipment",
        sa.Column("shipment_number", sa.String(length=32), nullable=False),
        sa.Column("depot_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("shipment_status", _enum("shipment_status", SHIPMENT_STATUSES), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.Column("requested_on", sa.Date(), nullable=False),
        sa.Column("shipped_on", sa.Date(), nullable=True),
        sa.Column("received_on", sa.Date(), nullable=True),
        *_timestamps(),
        sa.ForeignKeyConstraint(
            ["depot_id"], ["depot.id"], name=op.f("fk_shipment_depot_id_depot")
        ),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"], name=op.f("fk_shipment_site_id_site")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shipment")),
        sa.UniqueConstraint("shipment_number", name=op.f("uq_shipment_shipment_number")),
    )
    op.create_table(
        "kit",
        sa.Column("kit_number", sa.String(length=32), nullable=False),
        sa.Column("lot", sa.String(length=32), nullable=False),
        sa.Column("expiry", sa.Date(), nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("arm_code", sa.String(length=32), nullable=False),
        sa.Column("kit_status", _enum("kit_status", KIT_STATUSES), nullable=False),
        sa.Column("depot_id", sa.Integer(), nullable=True),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("shipment_id", sa.Integer(), nullable=True),
        sa.Column("subject_id", sa.Integer(), nullable=True),
        sa.Column("dispensed_on", sa.Date(), nullable=True),
        sa.Column("status_reason", sa.Text(), nullable=True),
        *_timestamps(),
        sa.ForeignKeyConstraint(["depot_id"], ["depot.id"], name=op.f("fk_kit_depot_id_depot")),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"], name=op.f("fk_kit_site_id_site")),
        sa.ForeignKeyConstraint(
            ["shipment_id"], ["shipment.id"], name=op.f("fk_kit_shipment_id_shipment")
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subject.id"], name=op.f("fk_kit_subject_id_subject")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kit")),
        sa.UniqueConstraint("kit_number", name=op.f("uq_kit_kit_number")),
    )
    for table, columns in (
        ("shipment", ("depot_id", "site_id")),
        ("kit", ("depot_id", "site_id", "shipment_id", "subject_id")),
    ):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in columns:
                batch_op.create_index(batch_op.f(f"ix_{table}_{column}"), [column], unique=False)


def downgrade() -> None:
    op.drop_table("kit")
    op.drop_table("shipment")
    op.drop_table("depot")
    op.execute("DELETE FROM role_membership WHERE role = 'supply-manager'")
    _replace_role_check(ROLES_BEFORE)
