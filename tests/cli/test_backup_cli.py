"""``equitrial backup`` and ``equitrial restore --study CODE`` as an operator runs them.

On SQLite and PostgreSQL. Reuses the set-up of ``test_data_cli.py`` (a study, two sites, a user
per role, one randomized subject, built once per backend by the CLI itself). Exit 0 on success
with the signed final hash printed; exit 2 with a one-line message, never a traceback, for
every malformed backup, a backup of another study, another installation's key or a missing
key, and the target untouched.
"""

from __future__ import annotations

import json
import re
import stat
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
import test_data_cli
from test_data_cli import RANDOMIZED, Cli, _final_hash, _kind, _listing

from db_fixtures import fresh_database
from equitrial.store.keys import create_key

# the set-up of the data commands, built once per backend by the CLI (module-scoped fixtures)
template_url = test_data_cli.template_url
cli = test_data_cli.cli

STUDY = "EQT-PEM-301"  # examples/melanoma-pembrolizumab/protocol.toml, [study] id


def _tables(url: str) -> list[str]:
    """The target's tables: none for a database no restore has touched."""
    if _kind(url) == "sqlite":
        path = Path(sa.make_url(url).database or "")
        if not path.exists():
            return []
    engine = sa.create_engine(url)
    try:
        return sorted(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def _refused(out: subprocess.CompletedProcess[str], *words: str) -> None:
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert "Traceback" not in out.stderr and out.stderr.startswith("error:"), out.stderr
    assert out.stdout == ""
    for word in words:
        assert word in out.stderr, (word, out.stderr)


def test_backup_prints_the_signed_final_hash_and_writes_a_private_file(
    cli: Cli, tmp_path: Path
) -> None:
    final = _final_hash(cli.ok("audit", "verify"))
    dest = tmp_path / "trial.backup"
    out = cli.ok("backup", str(dest))
    assert f"final hash {final}" in out.stdout and STUDY in out.stdout
    assert stat.S_IMODE(dest.stat().st_mode) == 0o600
    signed = json.loads(dest.read_bytes().splitlines()[-2])
    assert signed["manifest"]["audit"]["final_hash"] == final


def test_restore_needs_the_study_and_refuses_another_one(cli: Cli, tmp_path: Path) -> None:
    dest = tmp_path / "trial.backup"
    cli.ok("backup", str(dest))
    final = _final_hash(cli.ok("audit", "verify"))
    with fresh_database(_kind(cli.url), tmp_path) as url:
        target = Cli(url, cli.cwd)
        unnamed = target("restore", str(dest))
        assert unnamed.returncode == 2 and "--study" in unnamed.stderr
        assert "Traceback" not in unnamed.stderr
        _refused(target("restore", str(dest), "--study", "EQT-OTHER-1"), STUDY, "EQT-OTHER-1")
        assert _tables(url) == []
        restored = target.ok("restore", str(dest), "--study", STUDY)
        assert f"final hash {final}" in restored.stdout
        assert _final_hash(target.ok("audit", "verify")) == final
        assert [row["subject"] for row in _listing(target)] == [RANDOMIZED]  # arms unsealed


def _cut(data: bytes) -> bytes:
    return data[: len(data) // 2]


def _before_trailer(data: bytes) -> bytes:
    return b"".join(data.splitlines(keepends=True)[:-1])


def _altered(data: bytes) -> bytes:
    lines = data.splitlines(keepends=True)
    i = next(i for i, line in enumerate(lines) if line.startswith(b'{"table":"subject"'))
    altered = re.sub(rb'"screening_number":"[^"]*"', b'"screening_number":"SCR-666"', lines[i])
    assert altered != lines[i]  # the alteration must change a byte, or the test proves nothing
    lines[i] = altered
    return b"".join(lines)


def _unsigned(data: bytes) -> bytes:
    lines = data.splitlines(keepends=True)
    lines[-2] = lines[-2].replace(b',"signature":"', b',"signed":"')
    return b"".join(lines)


MALFORMED: dict[str, tuple[Callable[[bytes], bytes], str]] = {
    "empty": (lambda data: b"", "empty file"),
    "junk": (lambda data: b"#!/bin/sh\nrm -rf /\n", "not an equitrial backup"),
    "non-utf8": (lambda data: b"\xff\xfe\xfd\n", "not UTF-8"),
    "truncated": (_cut, "truncated"),
    "cut-before-the-trailer": (_before_trailer, "truncated"),
    "one-value-altered": (_altered, "table subject"),
    "signature-removed": (_unsigned, "not signed"),
}


def test_malformed_backups_exit_2_with_a_message_and_leave_the_target_alone(
    cli: Cli, tmp_path: Path
) -> None:
    dest = tmp_path / "trial.backup"
    cli.ok("backup", str(dest))
    good = dest.read_bytes()
    with fresh_database(_kind(cli.url), tmp_path) as url:
        target = Cli(url, cli.cwd)
        for name, (tamper, words) in MALFORMED.items():
            src = tmp_path / f"{name}.backup"
            src.write_bytes(tamper(good))
            _refused(target("restore", str(src), "--study", STUDY), str(src), words)
            assert _tables(url) == [], name
        _refused(target("restore", str(tmp_path), "--study", STUDY), "no such backup file")
        assert _tables(url) == []


def test_another_installations_key_or_no_key_exit_2(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = tmp_path / "elsewhere.backup"
    with monkeypatch.context() as patch:
        patch.setenv("EQUITRIAL_AUDIT_KEY_FILE", str(create_key(tmp_path / "other.key")))
        cli.ok("backup", str(other))
    with fresh_database(_kind(cli.url), tmp_path) as url:
        target = Cli(url, cli.cwd)
        _refused(target("restore", str(other), "--study", STUDY), "this installation's key")
        with monkeypatch.context() as patch:
            patch.setenv("EQUITRIAL_AUDIT_KEY_FILE", str(tmp_path / "missing.key"))
            _refused(target("restore", str(other), "--study", STUDY), "missing.key", "not found")
            _refused(cli("backup", str(tmp_path / "never.backup")), "not found")
        assert _tables(url) == []
        assert not (tmp_path / "never.backup").exists()
