"""Use case of the data cut: a consistent, stored snapshot of the study's data at a cut-off date.

The snapshot holds every subject consented on or before the cut-off and every clinical record
dated on or before it (lesions, which carry no date, with their subject), the visits done or
planned by then, the subjects' regimen periods started by then and the kits dispensed to them by
then (exposure: which kit, lot and expiry; the kit's arm left out), as JSON, read in ONE
read-only transaction: on PostgreSQL at REPEATABLE READ, so rows committed by others while the
cut is read do not appear half-way; on SQLite a read transaction under WAL sees one snapshot.
The cut is then stored, with its audit rows, in a second (writing) transaction: the audit chain
is appended under READ COMMITTED, where the chain's head is read after its lock is taken (a
REPEATABLE READ snapshot taken before the lock would see an old head). Arms are not in the
snapshot, neither the allocations' nor the kits' (the unblinded statistician joins the
allocation list).

Site scope: a data manager whose role is limited to some sites cuts only the subjects of those
sites and their records; the snapshot's ``site`` rows and ``scope`` say which sites it covers.
A data cut is allowed after the database lock (the final analysis cut is taken then).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from equitrial.errors import ConflictError, InvalidInputError
from equitrial.services._base import audited_insert, today
from equitrial.services.auth import Actor, require
from equitrial.services.study import current_study
from equitrial.store import models as m
from equitrial.store.db import transaction

__all__ = ["CONCEALED", "DATE_COLUMNS", "PLANNED_DATE", "DataCutView", "cut_data", "snapshot"]

DATE_COLUMNS: dict[type[Any], str | None] = {
    m.Visit: "actual_date",
    m.Dose: "date",
    m.Lesion: None,
    m.LesionMeasurement: "assessment_date",
    m.TumourAssessment: "assessment_date",
    m.AdverseEvent: "start_date",
    m.LabResult: "collected_at",
    m.PKSample: "collected_at",
    m.ADASample: "collected_at",
    m.QuestionnaireResponse: "date",
    m.ConMed: "start",
    m.SubsequentTherapy: "start_date",
    m.Disposition: "date",
    m.Death: "date",
    m.RegimenPeriod: "start_date",
    m.Kit: "dispensed_on",
    m.Demographics: None,  # baseline: in the cut with its subject
    m.MedicalHistory: None,
    m.InformedConsent: "consent_date",
}
"""The date that places each record before or after a cut-off (None: no date). A visit not
done yet is placed by its planned date (:data:`PLANNED_DATE`); a kit is in a cut once it is
dispensed to a subject of the cut."""
PLANNED_DATE: dict[type[Any], str] = {m.Visit: "planned_date"}
"""The date that places a record whose date column is empty (a planned visit not done yet)."""
CONCEALED: dict[type[Any], frozenset[str]] = {m.Kit: frozenset({"arm_code"})}
"""Columns never in a snapshot: a kit's arm (a data cut is blinded)."""


@dataclass(frozen=True)
class DataCutView:
    """A stored data cut: its name, cut-off, the rows per table, the snapshot's SHA-256, the
    codes of the sites it covers and whether it is study-wide (else limited to those sites)."""

    id: int
    name: str
    cutoff_date: dt.date
    counts: dict[str, int]
    sha256: str
    sites: tuple[str, ...] = ()
    study_wide: bool = True


def _rows(
    session: Session, model: type[Any], column: str | None, cutoff: dt.date, subjects: set[int]
) -> list[dict[str, Any]]:
    query = select(model).order_by(model.id)
    if column is not None:
        attr = getattr(model, column)
        if model in PLANNED_DATE:
            attr = func.coalesce(attr, getattr(model, PLANNED_DATE[model]))
        bound = dt.datetime.combine(cutoff + dt.timedelta(days=1), dt.time(), dt.UTC)
        is_datetime = column == "collected_at"
        query = query.where(attr < bound if is_datetime else attr <= cutoff)
    hidden = CONCEALED.get(model, frozenset())
    out = []
    for obj in session.scalars(query):
        owner = getattr(obj, "subject_id", None)
        values = {
            c.key: getattr(obj, c.key) for c in obj.__mapper__.column_attrs if c.key not in hidden
        }
        if owner is None or owner in subjects:
            out.append(values)
    return out


def _columns(obj: Any) -> dict[str, Any]:
    return {c.key: getattr(obj, c.key) for c in obj.__mapper__.column_attrs}


def snapshot(
    session: Session, study: m.Study, cutoff: dt.date, site_ids: frozenset[int] | None
) -> dict[str, Any]:
    """The study's records as of ``cutoff`` (table name -> rows; see the module notes), of the
    sites ``site_ids`` (``None``: every site), read in the caller's transaction."""
    query = select(m.Subject).where(
        m.Subject.study_id == study.id, m.Subject.consent_date <= cutoff
    )
    sites = select(m.Site).order_by(m.Site.code)
    if site_ids is not None:
        query = query.where(m.Subject.site_id.in_(site_ids))
        sites = sites.where(m.Site.id.in_(site_ids))
    subjects = session.scalars(query.order_by(m.Subject.id)).all()
    ids = {s.id for s in subjects}
    site_rows = [_columns(site) for site in session.scalars(sites)]
    doc: dict[str, Any] = {
        "scope": {"study_wide": site_ids is None, "sites": [r["code"] for r in site_rows]},
        "site": site_rows,
        "subject": [_columns(s) for s in subjects],
    }
    lesions = set()
    for model, column in DATE_COLUMNS.items():
        rows = _rows(session, model, column, cutoff, ids)
        if model is m.Lesion:
            lesions = {r["id"] for r in rows}
        if model is m.LesionMeasurement:
            rows = [r for r in rows if r["lesion_id"] in lesions]
        doc[model.__tablename__] = rows
    return doc


def _read(
    engine: Engine, name: str, cutoff_date: dt.date, site_ids: frozenset[int] | None
) -> tuple[int, dict[str, Any]]:
    """The study id and the snapshot, read in one read-only transaction."""
    with transaction(engine, read_only=True) as session:
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"))
        study = current_study(session)
        _refuse_taken(session, study.id, name)
        return study.id, snapshot(session, study, cutoff_date, site_ids)


def _refuse_taken(session: Session, study_id: int, name: str) -> None:
    taken = select(m.DataCut.id).where(m.DataCut.study_id == study_id, m.DataCut.name == name)
    if session.scalar(taken) is not None:
        raise ConflictError(f"a data cut named {name!r} exists", field="name", value=name)


def cut_data(engine: Engine, actor: Actor, name: str, cutoff_date: dt.date) -> DataCutView:
    """Take and store a data cut (data manager; one limited to some sites cuts only those).

    Raises
    ------
    InvalidInputError
        Empty name, a cut-off in the future.
    ConflictError
        A cut of that name exists.
    PermissionDeniedError
        Not a data manager.
    """
    require(actor, roles={"data-manager"})
    if not name or not name.strip():
        raise InvalidInputError("a data cut needs a name", field="name")
    if cutoff_date > today():
        raise InvalidInputError(
            f"cutoff_date {cutoff_date} is in the future", field="cutoff_date", value=cutoff_date
        )
    site_ids = actor.sites_with({"data-manager"})
    study_id, doc = _read(engine, name, cutoff_date, site_ids)
    payload = json.dumps(doc, sort_keys=True, default=str, separators=(",", ":"))
    digest = hashlib.sha256(payload.encode()).hexdigest()
    with transaction(engine) as session:
        _refuse_taken(session, study_id, name)
        cut = m.DataCut(
            study_id=study_id, name=name, cutoff_date=cutoff_date, snapshot_json=payload
        )
        audited_insert(session, actor, cut)
        counts = {k: len(v) for k, v in doc.items() if isinstance(v, list)}
        sites = tuple(doc["scope"]["sites"])
        return DataCutView(cut.id, name, cutoff_date, counts, digest, sites, site_ids is None)
