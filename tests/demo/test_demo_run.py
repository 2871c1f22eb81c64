"""`equitrial demo`: the virtual trial through the real services (issue 9, external contract).

One small trial is run once for the module (SQLite, as the demo always is), then checked: the
audit trail verifies, the tables are filled, and what the services derived on save agrees with
what the demo drew (central-review response at week 24, the grade of immune hepatitis in the
labs). The contract itself (files, users, `audit verify` on the result) is checked through the
command line.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from equitrial.demo import DemoSummary, run_demo
from equitrial.errors import ConflictError, InvalidInputError
from equitrial.services.auth import authenticate
from equitrial.store.db import make_engine

ROOT = Path(__file__).resolve().parents[2]
PROTOCOL = ROOT / "examples" / "melanoma-pembrolizumab" / "protocol.toml"
TODAY = dt.date(2026, 12, 1)
FILLED = (
    "subject", "visit", "dose", "tumour_assessment", "lesion_measurement", "lab_result",
    "pk_sample", "ada_sample", "questionnaire_response", "kit", "shipment", "regimen_period",
    "disposition", "audit_trail",
)  # fmt: skip


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoSummary:
    out = tmp_path_factory.mktemp("demo")
    # the data only: the analyses are checked in tests/services/test_analysis.py and by the
    # command-line test below
    return run_demo(out, patients=12, seed=3, demo_password="a river runs deep 7",
                    protocol=PROTOCOL, today=TODAY, analyses=False)  # fmt: skip


def _rows(summary: DemoSummary, sql: str) -> list[sa.Row]:  # type: ignore[type-arg]
    engine = make_engine(f"sqlite:///{summary.database}")
    try:
        with engine.connect() as connection:
            return list(connection.execute(sa.text(sql)))
    finally:
        engine.dispose()


def test_the_demo_trial_verifies_and_fills_the_tables(demo: DemoSummary) -> None:
    assert demo.audit_ok, demo.audit_lines
    assert demo.randomized == 12 and demo.screened >= 12
    for table in FILLED:
        assert _rows(demo, f"SELECT count(*) FROM {table}")[0][0] > 0, table
    subjects = _rows(demo, "SELECT status, count(*) FROM subject GROUP BY status")
    assert dict(subjects)["randomized"] == 12  # type: ignore[arg-type]
    assert demo.counts["lab transfers"] > 0 and demo.counts["kits dispensed"] > 0


def test_central_review_at_week_24_agrees_with_the_drawn_response(demo: DemoSummary) -> None:
    day1 = dict(_rows(demo, """
        SELECT s.subject_code, min(r.start_date) FROM subject s
        JOIN regimen_period r ON r.subject_id = s.id GROUP BY s.subject_code"""))  # fmt: skip
    reads = _rows(demo, """
        SELECT s.subject_code, t.assessment_date, t.overall_response FROM tumour_assessment t
        JOIN subject s ON s.id = t.subject_id WHERE t.reader = 'central'""")  # fmt: skip
    assert reads
    for code, truth in demo.truth.items():
        start = dt.date.fromisoformat(str(day1[code]))
        primary = [
            r[2] for r in reads
            if r[0] == code and dt.date.fromisoformat(str(r[1])) <= start + dt.timedelta(weeks=25)
        ]  # fmt: skip
        responded = any(response in ("CR", "PR") for response in primary)
        if truth.course.death is None or truth.course.death > start + dt.timedelta(weeks=25):
            assert responded == truth.course.responder, (code, primary)


def test_every_dose_fits_a_regimen_and_uses_a_kit_of_the_subject(demo: DemoSummary) -> None:
    doses = _rows(demo, "SELECT dose_mg, regimen, kit_number FROM dose")
    assert {(float(d[0]), d[1]) for d in doses} <= {(200.0, "Q3W"), (400.0, "Q6W")}
    assert all(d[2] for d in doses)


def test_demo_users_log_in_with_the_demo_password(demo: DemoSummary) -> None:
    users = json.loads(demo.users_file.read_text())
    assert {"admin", "investigator", "coordinator", "pharmacist", "data-manager",
            "supply-manager"} <= {u["role"] for u in users}  # fmt: skip
    engine = make_engine(f"sqlite:///{demo.database}")
    try:
        actor = authenticate(engine, users[1]["username"], "a river runs deep 7")
        assert actor.username == users[1]["username"]
    finally:
        engine.dispose()


def test_the_demo_refuses_another_database_and_bad_input(tmp_path: Path) -> None:
    other = tmp_path / "study"
    other.mkdir()
    (other / "equitrial.db").write_bytes(b"a real study")
    with pytest.raises(ConflictError):  # a database that is not an earlier demo's
        run_demo(other, patients=2, protocol=PROTOCOL, today=TODAY)
    assert (other / "equitrial.db").read_bytes() == b"a real study"
    with pytest.raises(InvalidInputError) as bad:
        run_demo(tmp_path, patients=0, protocol=PROTOCOL)
    assert bad.value.field == "patients"
    assert not (tmp_path / "equitrial.db").exists()


def _cli(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "equitrial", *args],
        capture_output=True, text=True, cwd=cwd, timeout=600,
        env={**os.environ, "COLUMNS": "200", **env},
    )  # fmt: skip


def test_cli_demo_writes_the_contract_files_and_audit_verify_passes(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    run = _cli("demo", "--patients", "4", "--seed", "9", "--out", str(out),
               "--demo-password", "a river runs deep 7", cwd=ROOT)  # fmt: skip
    assert run.returncode == 0, run.stderr[-2000:]
    assert "Traceback" not in run.stderr
    assert run.stdout.strip().splitlines()[-1].startswith("primary: ")
    for name in ("interim", "final"):  # as `equitrial analyze --out` writes them
        for file in ("report.html", "report.pdf", "results.json", "sdtm/dm.xpt", "adam/adsl.xpt"):
            assert (out / name / file).is_file(), (name, file)
    users = json.loads((out / "users.json").read_text())
    assert all(set(u) == {"username", "role", "site"} for u in users)
    text = (out / "audit-verify.txt").read_text()
    final = re.search(r"final hash: ([0-9a-f]{64})", text)
    assert final and text.strip().endswith("audit verify: everything holds")
    check = _cli("audit", "verify", cwd=tmp_path,
                 EQUITRIAL_DATABASE_URL=f"sqlite:///{out / 'equitrial.db'}")  # fmt: skip
    assert check.returncode == 0, check.stdout + check.stderr
    assert f"final hash: {final.group(1)}" in check.stdout


def test_an_earlier_demo_in_the_directory_is_replaced(tmp_path: Path) -> None:
    from equitrial.demo.study import _clear_previous_demo

    for name in ("equitrial.db", "equitrial.db-wal", "audit-verify.txt", "users.json"):
        (tmp_path / name).write_text("earlier demo")
    (tmp_path / "notes.txt").write_text("mine")
    _clear_previous_demo(tmp_path, tmp_path / "equitrial.db")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]
