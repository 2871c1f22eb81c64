"""Shared by the backup tests: a trial database filled through the services, and what to compare.

``populate`` drives the real use cases (study load with its concealed list, a site, users,
enrolment, randomization, an adverse event, a lab value), so the backup holds every kind of
value the store has (text, integers, floats, booleans, dates, UTC timestamps, sealed arms).
"""

from __future__ import annotations

import datetime as dt
import json
import types
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert, select, text

from equitrial import __version__
from equitrial.services import clinical, randomize, sites, study, subjects, users
from equitrial.services.auth import actor_for, system_actor
from equitrial.store import audit
from equitrial.store import models as m
from equitrial.store.db import make_engine, transaction

ROOT = Path(__file__).resolve().parents[2]
PROTOCOL = ROOT / "examples" / "melanoma-pembrolizumab" / "protocol.toml"
STUDY = "EQT-PEM-301"  # the example protocol's [study] id
ARMS = ("BIO", "REF")  # the example protocol's arm codes
PASSWORD = "correct horse battery"
STRATA = {"braf_v600": "mutant", "ecog_ps": "0", "m_stage_ldh": "M0-M1b, normal LDH"}


def populate(engine: Engine) -> None:
    """A loaded study, site A, two users, three subjects (two randomized), an AE and a lab."""
    system = system_actor()
    seed = 2**200 + 20240501
    study.load_study(engine, system, PROTOCOL, allocation_seed=seed, slots_per_stratum=4)
    sites.add_site(engine, system, "A", "Site A, Oslo — ünïcode")
    users.add_user(engine, system, "admin", PASSWORD, ["admin"])  # the first administrator
    with transaction(engine, read_only=True) as session:
        admin = actor_for(session, session.scalars(select(m.User)).one())
    users.add_user(engine, admin, "inv", PASSWORD, ["investigator"], site="A")
    with transaction(engine, read_only=True) as session:
        inv = actor_for(session, session.scalars(select(m.User).filter_by(username="inv")).one())
    enrolled = [
        subjects.enrol(
            engine,
            inv,
            "A",
            f"S-{i:03d}",
            consent_date=dt.date(2024, 3, 1 + i),
            strata=STRATA,
            eligible=True,
        )
        for i in range(3)
    ]
    for subject in enrolled[:2]:
        randomize.randomize(engine, inv, subject.id)
    first = enrolled[0].id
    clinical.report_adverse_event(
        engine, inv, first, term="Pruritus", grade=2, start_date=dt.date(2024, 4, 2)
    )
    clinical.record_lab(
        engine,
        inv,
        first,
        test="Alanine aminotransferase increased",
        value=61.25,
        unit="U/L",
        collected_at=dt.datetime(2024, 4, 3, 8, 30, 0, 123456, tzinfo=dt.UTC),
        uln=40.0,
    )


def populated(url: str) -> None:
    """:func:`populate` the (migrated) database at ``url``."""
    engine = make_engine(url)
    try:
        populate(engine)
    finally:
        engine.dispose()


def fill_audit_trail(url: str, rows: int) -> None:
    """Append ``rows`` chained ``login-failed`` rows (a password-guessing run) in bulk."""
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            last = connection.execute(
                select(m.AuditTrail.id, m.AuditTrail.row_hash).order_by(m.AuditTrail.id.desc())
            ).first()
            number, previous = (0, audit.GENESIS_HASH) if last is None else tuple(last)
            at = dt.datetime(2024, 5, 1, tzinfo=dt.UTC)
            batch: list[dict[str, Any]] = []
            for i in range(rows):
                row = {
                    "id": number + i + 1,
                    "at": at + dt.timedelta(milliseconds=i),
                    "user_id": None,
                    "username": "intruder",
                    "action": "login-failed",
                    "table_name": "users",
                    "record_id": None,
                    "field": None,
                    "old_value": None,
                    "new_value": None,
                    "reason": f"wrong password #{i}",
                    "software_version": __version__,
                    "prev_hash": previous,
                }
                row["row_hash"] = previous = audit.compute_row_hash(types.SimpleNamespace(**row))
                batch.append(row)
                if len(batch) == 5000:
                    connection.execute(insert(m.AuditTrail), batch)
                    batch = []
            if batch:
                connection.execute(insert(m.AuditTrail), batch)
    finally:
        engine.dispose()


def verification(url: str) -> audit.AuditVerification:
    """``audit.verify`` of the database at ``url``."""
    engine = make_engine(url)
    try:
        with transaction(engine, read_only=True) as session:
            return audit.verify(session)
    finally:
        engine.dispose()


def table_contents(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every model table, in id order, as Python values."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return {
                table.name: [tuple(r) for r in connection.execute(select(table).order_by("id"))]
                for table in m.Base.metadata.sorted_tables
            }
    finally:
        engine.dispose()


def arms(url: str) -> list[tuple[Any, ...]]:
    """(sequence number, arm, kit, subject) of every slot of the allocation list."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            query = text(
                "SELECT sequence_number, arm_code, kit_number, subject_id "
                "FROM randomization_schedule ORDER BY id"
            )
            return [tuple(r) for r in connection.execute(query)]
    finally:
        engine.dispose()


def target_state(url: str) -> Any:
    """What a restore must leave unchanged: the SQLite file's bytes (or its absence), or the
    PostgreSQL database's list of tables."""
    if url.startswith("sqlite"):
        path = Path(url.removeprefix("sqlite:///"))
        return {
            suffix: Path(f"{path}{suffix}").read_bytes()
            for suffix in ("", "-wal", "-shm")
            if Path(f"{path}{suffix}").exists()
        }
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            query = text(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = 'public' ORDER BY table_name"
            )
            return [r[0] for r in connection.execute(query)]
    finally:
        engine.dispose()


def lines(path: Path) -> list[bytes]:
    """The file's lines, each with its newline."""
    return path.read_bytes().splitlines(keepends=True)


def parsed(path: Path) -> list[dict[str, Any]]:
    """Every line of a backup as JSON."""
    return [json.loads(line) for line in lines(path)]
