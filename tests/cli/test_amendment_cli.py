"""Issue 9 (CLI): ``equitrial study load`` of a new protocol version prints what it changes, and
refuses an amendment that removes a level in use (exit 2, nothing written). SQLite and
PostgreSQL, a fresh database each (``empty_db_url``), driven only through the command line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "melanoma-pembrolizumab" / "protocol.toml"
PASSWORD = "correct horse battery staple"
ECOG = 'ecog_ps = ["0", "1"]'


def _run(url: str, cwd: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "EQUITRIAL_DATABASE_URL": url}
    return subprocess.run(
        [sys.executable, "-m", "equitrial", *args],
        capture_output=True, text=True, cwd=cwd, env=env, input=stdin, timeout=120,
    )  # fmt: skip


def _ok(url: str, cwd: Path, *args: str, stdin: str = "") -> str:
    out = _run(url, cwd, *args, stdin=stdin)
    assert out.returncode == 0, (args, out.stdout, out.stderr)
    return out.stdout


def _version(tmp_path: Path, version: str, ecog: str, title: str | None = None) -> str:
    text = EXAMPLE.read_text(encoding="utf-8").replace('version = "1.0"', f'version = "{version}"')
    text = text.replace(ECOG, ecog, 1)
    if title is not None:
        text = text.replace('title = """A randomized', f'title = """{title}: a randomized', 1)
    path = tmp_path / f"protocol-{version}.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def _state(url: str) -> tuple[str, int, int]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            version = conn.execute(sa.text("SELECT protocol_version FROM study")).scalar_one()
            slots = conn.execute(sa.text("SELECT count(*) FROM randomization_schedule"))
            audit = conn.execute(sa.text("SELECT count(*) FROM audit_trail"))
            return version, slots.scalar_one(), audit.scalar_one()
    finally:
        engine.dispose()


def test_study_load_prints_the_amendment_and_refuses_removing_a_level_in_use(
    empty_db_url: str, tmp_path: Path
) -> None:
    url = empty_db_url
    _ok(url, tmp_path, "db", "upgrade")
    first = _ok(url, tmp_path, "study", "load", str(EXAMPLE), "--slots-per-stratum", "4")
    assert "concealed allocation list generated" in first
    v11 = _version(tmp_path, "1.1", 'ecog_ps = ["0", "1", "2"]', title="Amended")
    out = _ok(url, tmp_path, "study", "load", v11, "--slots-per-stratum", "4")
    lines = out.splitlines()
    assert lines[0] == "study EQT-PEM-301 protocol version 1.1 loaded"
    assert "  protocol version 1.0 -> 1.1" in lines
    assert "  stratification ecog_ps: level '2' added" in lines
    extended = [line for line in lines if "allocation list extended: 4 new strata" in line]
    assert len(extended) == 1
    assert "  changed sections: study" in lines
    assert _ok(url, tmp_path, "study", "load", v11).splitlines() == [
        "study EQT-PEM-301 protocol version 1.1 already loaded (unchanged)"
    ]

    _ok(url, tmp_path, "site", "add", "A", "--name", "Site A")
    _ok(url, tmp_path, "user", "add", "admin", "--role", "admin", "--password-stdin",
        stdin=PASSWORD)  # fmt: skip
    _ok(url, tmp_path, "user", "add", "coord", "--role", "coordinator", "--site", "A",
        "--as", "admin", "--password-stdin", stdin=f"{PASSWORD}\n{PASSWORD}\n")  # fmt: skip
    strata = ["--stratum", "braf_v600=mutant", "--stratum", "ecog_ps=2",
              "--stratum", "m_stage_ldh=M0-M1b, normal LDH"]  # fmt: skip
    _ok(url, tmp_path, "subject", "enrol", "--site", "A", "--screening-number", "1", *strata,
        "--as", "coord", "--password-stdin", stdin=PASSWORD)  # fmt: skip
    before = _state(url)
    v12 = _version(tmp_path, "1.2", ECOG)  # drops level "2", which the subject uses
    refused = _run(url, tmp_path, "study", "load", v12)
    assert refused.returncode == 2
    assert "ecog_ps=2 is used by 1 enrolled subject" in refused.stderr
    assert "Traceback" not in refused.stderr + refused.stdout
    assert _state(url) == before
