"""Drug supply (RTSM): depots, kits and shipments.

A kit is one dispensing unit of blinded study drug: its number, lot, expiry and blinded label are
public; its ``arm_code`` is concealed (audited as a keyed commitment, shown only to the supply
manager). A kit is at one place at a time: a depot (``depot_id``), on its way to a site in a
shipment, at a site (``site_id``), or dispensed to a subject (``subject_id``).
"""

from __future__ import annotations

import datetime as dt
from typing import Final

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from equitrial.store.models_base import Base, enum_column
from equitrial.store.models_core import VersionedMixin

__all__ = ["KIT_STATUSES", "SHIPMENT_STATUSES", "Depot", "Kit", "Shipment"]

KIT_STATUSES: Final = (
    "available",  # at a depot or a site, usable if not past its expiry
    "in-transit",  # in a shipment not yet received
    "dispensed",  # given out for one subject
    "damaged",  # found damaged (on receipt, say): never dispensed
    "quarantined",  # held back (temperature excursion, recall) until released
    "expired",  # past its expiry date
)
SHIPMENT_STATUSES: Final = ("requested", "shipped", "received", "cancelled")


class Depot(VersionedMixin, Base):
    """A (regional) depot that holds kits and ships them to sites."""

    __tablename__ = "depot"

    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))


class Shipment(VersionedMixin, Base):
    """Kits sent from a depot to a site: requested, shipped, received (or cancelled)."""

    __tablename__ = "shipment"

    shipment_number: Mapped[str] = mapped_column(String(32), unique=True)
    depot_id: Mapped[int] = mapped_column(ForeignKey("depot.id"), index=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    shipment_status: Mapped[str] = mapped_column(
        enum_column("shipment_status", *SHIPMENT_STATUSES), default="requested"
    )
    reason: Mapped[str] = mapped_column(String(64))
    requested_on: Mapped[dt.date]
    shipped_on: Mapped[dt.date | None] = mapped_column(default=None)
    received_on: Mapped[dt.date | None] = mapped_column(default=None)


class Kit(VersionedMixin, Base):
    """One kit of blinded study drug and where it is."""

    __tablename__ = "kit"

    kit_number: Mapped[str] = mapped_column(String(32), unique=True)
    lot: Mapped[str] = mapped_column(String(32))
    expiry: Mapped[dt.date]
    label: Mapped[str] = mapped_column(Text)
    arm_code: Mapped[str] = mapped_column(String(32))
    kit_status: Mapped[str] = mapped_column(
        enum_column("kit_status", *KIT_STATUSES), default="available"
    )
    depot_id: Mapped[int | None] = mapped_column(ForeignKey("depot.id"), index=True, default=None)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id"), index=True, default=None)
    shipment_id: Mapped[int | None] = mapped_column(
        ForeignKey("shipment.id"), index=True, default=None
    )
    subject_id: Mapped[int | None] = mapped_column(
        ForeignKey("subject.id"), index=True, default=None
    )
    dispensed_on: Mapped[dt.date | None] = mapped_column(default=None)
    status_reason: Mapped[str | None] = mapped_column(Text, default=None)
