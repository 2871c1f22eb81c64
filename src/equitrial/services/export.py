"""The study's records as a :class:`~equitrial.datasets.StudySource`: what the CDISC datasets
are derived from.

Read in ONE read-only transaction (on PostgreSQL at REPEATABLE READ), with the rules of a data
cut (:func:`equitrial.services.datacut.snapshot`: subjects consented and records dated on or
before the cut-off), and the arm of every allocation: the submission datasets are unblinded
(``TRT01P``), so they are made after the database lock or for the DSMB's closed report.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, text
from sqlalchemy.engine import Engine

from equitrial.datasets import StudySource
from equitrial.services.datacut import snapshot
from equitrial.services.study import current_study, study_protocol
from equitrial.store import models as m
from equitrial.store.db import transaction

__all__ = ["study_source"]

_EVERYTHING = dt.date(9999, 12, 30)
"""The cut-off that takes every record (the last date whose next day exists)."""


def study_source(engine: Engine, cutoff: dt.date | None = None) -> StudySource:
    """The study's records (every one, or as of ``cutoff``) and the subjects' arms.

    Raises
    ------
    NotFoundError
        No study has been loaded.
    """
    with transaction(engine, read_only=True) as session:
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"))
        study = current_study(session)
        tables = snapshot(session, study, cutoff or _EVERYTHING, None)
        allocated = select(m.RandomizationSchedule.subject_id, m.RandomizationSchedule.arm_code)
        allocated = allocated.where(
            m.RandomizationSchedule.study_id == study.id,
            m.RandomizationSchedule.subject_id.is_not(None),
        )
        subjects = {row["id"] for row in tables["subject"]}
        arms = {
            int(s): str(a) for s, a in session.execute(allocated) if s is not None and s in subjects
        }
        return StudySource(
            study={
                "code": study.code,
                "title": study.title,
                "protocol_version": study.protocol_version,
            },
            protocol=study_protocol(study),
            tables={name: rows for name, rows in tables.items() if name != "scope"},
            arms=arms,
            cutoff=cutoff,
        )
