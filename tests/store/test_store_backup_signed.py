"""A good backup: signed manifest that describes the database, mode 0600, no arm in clear, and a
restore (also across SQLite and PostgreSQL) with the same rows, arms and final audit hash."""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from backup_helpers import (
    ARMS,
    STUDY,
    arms,
    fill_audit_trail,
    lines,
    parsed,
    populated,
    table_contents,
    verification,
)
from sqlalchemy import func, select

from db_fixtures import BACKENDS, fresh_database
from equitrial.services.auth import system_actor
from equitrial.services.sites import add_site
from equitrial.store import backup, keys, migrate
from equitrial.store import models as m
from equitrial.store.db import make_engine


@pytest.fixture
def trial_url(db_url: str) -> str:
    populated(db_url)
    return db_url


@pytest.fixture
def umask_zero() -> Iterator[None]:
    previous = os.umask(0)  # the most permissive umask: the mode must not depend on it
    try:
        yield
    finally:
        os.umask(previous)


def test_backup_file_has_mode_0600_whatever_the_umask(
    trial_url: str, tmp_path: Path, umask_zero: None
) -> None:
    dest = tmp_path / "trial.backup"
    backup.backup(trial_url, dest)
    assert stat.S_IMODE(dest.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["trial.backup"]  # no temporary file left


def test_backup_holds_no_allocation_arm_in_clear(trial_url: str, tmp_path: Path) -> None:
    dest = tmp_path / "trial.backup"
    backup.backup(trial_url, dest)
    data = dest.read_bytes()
    assert not data.startswith(b"SQLite format 3")  # a raw database copy holds every arm
    for arm in ARMS:
        for spelling in (f'"arm_code":"{arm}"', f'"arm_code": "{arm}"'):
            assert spelling.encode() not in data
    schedule = [doc["row"] for doc in parsed(dest) if doc.get("table") == "randomization_schedule"]
    assert len(schedule) == len(arms(trial_url)) > 0
    assert all(row["arm_code"].startswith("aes-siv:") for row in schedule)
    assert len({row["arm_code"] for row in schedule}) == len(schedule)  # no slot looks alike
    trail = [doc["row"] for doc in parsed(dest) if doc.get("table") == "audit_trail"]
    assert not [r for r in trail if r["field"] == "arm_code" and r["new_value"] in ARMS]


def test_manifest_describes_the_database_and_is_signed(trial_url: str, tmp_path: Path) -> None:
    dest = tmp_path / "trial.backup"
    backup.backup(trial_url, dest)
    docs = parsed(dest)
    header, signed, trailer = docs[0], docs[-2], docs[-1]
    manifest = signed["manifest"]
    assert header["format"] == manifest["format"] == "equitrial-backup"
    assert manifest["alembic_revision"] == migrate.head_revision()
    assert manifest["key_id"] == keys.load_key().key_id
    assert [s["code"] for s in manifest["studies"]] == [STUDY]
    engine = make_engine(trial_url)
    try:
        with engine.connect() as connection:
            counts = {
                t.name: connection.scalar(select(func.count()).select_from(t))
                for t in m.Base.metadata.sorted_tables
            }
    finally:
        engine.dispose()
    assert {t["name"]: t["rows"] for t in manifest["tables"]} == counts
    chain = verification(trial_url)
    assert manifest["audit"] == {"rows": chain.rows, "final_hash": chain.final_hash}
    # each table's digest: SHA-256 of its rows' canonical JSON, one per line, in file order
    for entry in manifest["tables"]:
        rows = [
            json.dumps(d["row"], sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n"
            for d in docs[1:-2]
            if d["table"] == entry["name"]
        ]
        assert entry["sha256"] == hashlib.sha256("".join(rows).encode()).hexdigest()
    message = b"equitrial-backup-manifest v2\n" + json.dumps(
        manifest, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode("utf-8")
    assert keys.verify_signature(keys.load_key().public_key(), message, signed["signature"])
    before = b"".join(lines(dest)[:-1])
    assert trailer == {
        "end": "equitrial-backup",
        "lines": len(docs) - 1,
        "sha256": hashlib.sha256(before).hexdigest(),
    }


@pytest.mark.parametrize("source", BACKENDS)
@pytest.mark.parametrize("target", BACKENDS)
def test_restore_gives_the_same_rows_arms_and_final_hash(
    source: str, target: str, tmp_path: Path
) -> None:
    with fresh_database(source, tmp_path) as src_url, fresh_database(target, tmp_path) as dst_url:
        migrate.upgrade(src_url)
        populated(src_url)
        original = verification(src_url)
        assert original.ok and original.rows > 20
        dest = tmp_path / "trial.backup"
        written = backup.backup(src_url, dest)
        restored = backup.restore(dest, dst_url, study=STUDY)
        assert restored == written
        copy = verification(dst_url)
        assert copy.ok, copy.message
        assert (copy.rows, copy.final_hash) == (original.rows, original.final_hash)
        assert arms(dst_url) == arms(src_url)
        assert {arm for _, arm, _, _ in arms(dst_url)} == set(ARMS)
        assert table_contents(dst_url) == table_contents(src_url)
        # a working database: ids continue after the restored rows (sequences reset)
        engine = make_engine(dst_url)
        try:
            assert add_site(engine, system_actor(), "B", "Site B").id == 2
        finally:
            engine.dispose()


def test_50k_audit_rows_back_up_and_restore_with_the_same_final_hash(
    db_url: str, another_empty_db_url: str, tmp_path: Path
) -> None:
    populated(db_url)
    fill_audit_trail(db_url, 50_000)
    dest = tmp_path / "big.backup"
    written = backup.backup(db_url, dest)  # streamed: timing belongs to benchmarks, not here
    assert written.audit_rows > 50_000
    backup.restore(dest, another_empty_db_url, study=STUDY)
    assert verification(another_empty_db_url).final_hash == verification(db_url).final_hash
