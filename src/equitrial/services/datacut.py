"""Use case of the data cut: a consistent, stored snapshot of the study's data at a cut-off date.

The snapshot holds every subject consented on or before the cut-off and every clinical record
dated on or before it (lesions, which carry no date, with their subject), as JSON, read in ONE
transaction: on PostgreSQL at REPEATABLE READ, so rows committed by others while the cut is
read do not appear half-way; on SQLite the transaction holds the write lock. Arms are not in
the snapshot (the unblinded statistician joins the allocation list).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from equitrial.errors import ConflictError, InvalidInputError
from equitrial.services._base import today
from equitrial.services.auth import Actor, require
from equitrial.services.study import current_study
from equitrial.store import audit
from equitrial.store import models as m
from equitrial.store.db import transaction

__all__ = ["DATE_COLUMNS", "DataCutView", "cut_data"]

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
    m.Disposition: "date",
    m.Death: "date",
}
"""The date that places each clinical record before or after a cut-off (None: no date)."""


@dataclass(frozen=True)
class DataCutView:
    """A stored data cut: its name, cut-off, the rows per table and the snapshot's SHA-256."""

    id: int
    name: str
    cutoff_date: dt.date
    counts: dict[str, int]
    sha256: str


def _rows(
    session: Session, model: type[Any], column: str | None, cutoff: dt.date, subjects: set[int]
) -> list[dict[str, Any]]:
    query = select(model).order_by(model.id)
    if column is not None:
        attr = getattr(model, column)
        bound = dt.datetime.combine(cutoff + dt.timedelta(days=1), dt.time(), dt.UTC)
        is_datetime = column == "collected_at"
        query = query.where(attr < bound if is_datetime else attr <= cutoff)
    out = []
    for obj in session.scalars(query):
        owner = getattr(obj, "subject_id", None)
        values = {c.key: getattr(obj, c.key) for c in obj.__mapper__.column_attrs}
        if owner is None or owner in subjects:
            out.append(values)
    return out


def _snapshot(session: Session, study: m.Study, cutoff: dt.date) -> dict[str, list[dict[str, Any]]]:
    subjects = session.scalars(
        select(m.Subject)
        .where(m.Subject.study_id == study.id, m.Subject.consent_date <= cutoff)
        .order_by(m.Subject.id)
    ).all()
    ids = {s.id for s in subjects}
    doc = {
        "subject": [{c.key: getattr(s, c.key) for c in s.__mapper__.column_attrs} for s in subjects]
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


def cut_data(engine: Engine, actor: Actor, name: str, cutoff_date: dt.date) -> DataCutView:
    """Take and store a data cut (data manager).

    Raises
    ------
    InvalidInputError
        Empty name, a cut-off in the future.
    ConflictError
        A cut of that name exists.
    """
    require(actor, roles={"data-manager"})
    if not name or not name.strip():
        raise InvalidInputError("a data cut needs a name", field="name")
    if cutoff_date > today():
        raise InvalidInputError(
            f"cutoff_date {cutoff_date} is in the future", field="cutoff_date", value=cutoff_date
        )
    with transaction(engine) as session:
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
        study = current_study(session)
        taken = select(m.DataCut.id).where(m.DataCut.study_id == study.id, m.DataCut.name == name)
        if session.scalar(taken) is not None:
            raise ConflictError(f"a data cut named {name!r} exists", field="name", value=name)
        doc = _snapshot(session, study, cutoff_date)
        payload = json.dumps(doc, sort_keys=True, default=str, separators=(",", ":"))
        digest = hashlib.sha256(payload.encode()).hexdigest()
        cut = m.DataCut(
            study_id=study.id, name=name, cutoff_date=cutoff_date, snapshot_json=payload
        )
        session.add(cut)
        session.flush()
        # the snapshot itself is not copied into the trail: its SHA-256 stands for it
        for field, value in (("name", name), ("cutoff_date", cutoff_date), ("sha256", digest)):
            audit.append(
                session,
                actor_username=actor.username,
                user_id=actor.user_id,
                action="insert",
                table_name="data_cut",
                record_id=cut.id,
                field=field,
                new=value,
            )
        return DataCutView(cut.id, name, cutoff_date, {k: len(v) for k, v in doc.items()}, digest)
