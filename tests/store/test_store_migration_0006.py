"""Migration 0006 carries existing dispositions over to scope + CDISC EPOCH, accepts the
"screen failed" status, and its downgrade goes back (both databases)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from equitrial.store import migrate
from equitrial.store.db import make_engine

NOW = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)


def _seed(url: str) -> None:
    """At revision 0005: two subjects; the first ended treatment on 1 March and the study on
    1 June, the second ended the study (no end of treatment) on 1 April."""
    engine = make_engine(url)
    stamp = {"v": 1, "t": NOW}
    try:
        with engine.begin() as c:
            c.execute(
                text(
                    "INSERT INTO study (id, code, title, protocol_version, protocol_json, "
                    "loaded_at, created_at, updated_at) VALUES (1, 'S', 't', '1', '{}', :t, :t, :t)"
                ),
                stamp,
            )
            c.execute(
                text(
                    "INSERT INTO site (id, code, name, created_at, updated_at) "
                    "VALUES (1, 'A', 'Site A', :t, :t)"
                ),
                stamp,
            )
            for sid in (1, 2):
                c.execute(
                    text(
                        "INSERT INTO subject (id, study_id, site_id, screening_number, "
                        "subject_code, status, version, created_at, updated_at) "
                        "VALUES (:id, 1, 1, :n, :code, 'randomized', 1, :t, :t)"
                    ),
                    {**stamp, "id": sid, "n": str(sid), "code": f"A-000{sid}"},
                )
            for rid, sid, epoch, day in (
                (1, 1, "TREATMENT", dt.date(2025, 3, 1)),
                (2, 1, "STUDY", dt.date(2025, 6, 1)),
                (3, 2, "STUDY", dt.date(2025, 4, 1)),
            ):
                c.execute(
                    text(
                        "INSERT INTO disposition (id, subject_id, epoch, decod, "
                        "disposition_status, date, status, version, created_at, updated_at) "
                        "VALUES (:id, :sid, :epoch, 'OTHER', 'DISCONTINUED', :day, 'entered', "
                        ":v, :t, :t)"
                    ),
                    {**stamp, "id": rid, "sid": sid, "epoch": epoch, "day": day},
                )
    finally:
        engine.dispose()


def _rows(url: str, sql: str) -> list[tuple[object, ...]]:
    engine = make_engine(url)
    try:
        with engine.connect() as c:
            return [tuple(r) for r in c.execute(text(sql))]
    finally:
        engine.dispose()


def test_dispositions_get_a_scope_and_a_cdisc_epoch_and_back(empty_db_url: str) -> None:
    migrate.upgrade(empty_db_url, "0005")
    _seed(empty_db_url)
    migrate.upgrade(empty_db_url, "0006")
    assert _rows(empty_db_url, "SELECT id, scope, epoch FROM disposition ORDER BY id") == [
        (1, "END OF TREATMENT", "TREATMENT"),
        (2, "END OF STUDY", "FOLLOW-UP"),  # after its end of treatment
        (3, "END OF STUDY", "TREATMENT"),  # no end of treatment before it
    ]
    engine = make_engine(empty_db_url)
    try:
        with engine.begin() as c:
            c.execute(text("UPDATE subject SET status = 'screen failed' WHERE id = 2"))
        with pytest.raises(IntegrityError), engine.begin() as c:
            c.execute(text("UPDATE subject SET status = 'lost' WHERE id = 2"))
    finally:
        engine.dispose()
    migrate.downgrade(empty_db_url, "0005")
    assert _rows(empty_db_url, "SELECT id, epoch FROM disposition ORDER BY id") == [
        (1, "TREATMENT"),
        (2, "STUDY"),
        (3, "STUDY"),
    ]
    assert _rows(empty_db_url, "SELECT status FROM subject WHERE id = 2") == [("ineligible",)]
