"""`equitrial db upgrade` creates the signing key; `equitrial audit verify` says what it checked
and exits 1 with the first finding on any tampering (issue 8, items 2 and 4), both databases."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "melanoma-pembrolizumab" / "protocol.toml"


def _run(url: str, cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "equitrial", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "EQUITRIAL_DATABASE_URL": url, "COLUMNS": "200", **env},
        timeout=120,
    )


def test_db_upgrade_creates_a_private_key_outside_the_database(
    empty_db_url: str, tmp_path: Path
) -> None:
    key = tmp_path / "secrets" / "audit.key"
    out = _run(empty_db_url, tmp_path, "db", "upgrade", EQUITRIAL_AUDIT_KEY_FILE=str(key))
    assert out.returncode == 0, out.stderr
    assert str(key) in out.stdout
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(key.parent.stat().st_mode) == 0o700
    content = key.read_bytes()
    again = _run(empty_db_url, tmp_path, "db", "upgrade", EQUITRIAL_AUDIT_KEY_FILE=str(key))
    assert again.returncode == 0 and key.read_bytes() == content  # never replaced
    key.chmod(0o644)
    loose = _run(empty_db_url, tmp_path, "db", "upgrade", EQUITRIAL_AUDIT_KEY_FILE=str(key))
    assert loose.returncode == 2 and "chmod 600" in loose.stderr and "Traceback" not in loose.stderr


def test_audit_verify_reports_what_it_checked_and_the_first_finding(
    empty_db_url: str, tmp_path: Path
) -> None:
    set_up = (
        ("db", "upgrade"),
        ("study", "load", str(EXAMPLE)),
        ("site", "add", "A", "--name", "Site A"),
    )
    for args in set_up:
        assert _run(empty_db_url, tmp_path, *args).returncode == 0
    good = _run(empty_db_url, tmp_path, "audit", "verify")
    assert good.returncode == 0, good.stdout + good.stderr
    assert "audit trail intact:" in good.stdout
    assert "signed anchors in the database" in good.stdout
    assert "tables" in good.stdout and "values reconciled" in good.stdout
    assert "everything holds" in good.stdout

    engine = sa.create_engine(empty_db_url)
    try:
        with engine.begin() as connection:
            connection.execute(sa.text("UPDATE site SET name = 'Forged' WHERE code = 'A'"))
    finally:
        engine.dispose()
    bad = _run(empty_db_url, tmp_path, "audit", "verify")
    assert bad.returncode == 1
    assert "site 1 name: stored 'Forged', audited 'Site A'" in bad.stderr
    assert "1 finding(s)" in bad.stdout and "Traceback" not in bad.stderr
