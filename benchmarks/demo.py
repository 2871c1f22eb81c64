"""Time ``equitrial demo`` per phase and check its result against its inputs.

Runs the virtual trial (default 300 patients, the flagship size) in a fresh temporary directory
with the command a newcomer runs, then reads the database it wrote: what each phase took, how
many records of each table, and the simulated figures next to the demo's inputs (central-review
ORR at week 24 against the protocol's assumed rate, immune-related adverse events against
their published incidence, the median pre-dose PK concentration at cycle 8 of Q3W). The goal of
issue 9: 300 patients in under 120 s on 2 cores. It measures; it asserts nothing.

    .venv/bin/python benchmarks/demo.py [--patients N] [--seed S]

Last lines: ``demo_seconds=<wall time of the command>`` and ``demo_goal_ratio=<120 / seconds>``.
"""

from __future__ import annotations

import argparse
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOAL_SECONDS = 120.0
PHASE = r"^(set-up|trial|interim and final analyses|audit verification): [0-9.]+ s$"
IMMUNE = {
    "Hypothyroidism": 0.091,
    "Hyperthyroidism": 0.030,
    "Pneumonitis": 0.033,
    "Colitis": 0.030,
}  # Robert et al. Eur J Cancer 2020;144:182 (pooled KEYNOTE-001/002/006); colitis KEYNOTE-006


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=300)
    parser.add_argument("--seed", type=int, default=20261207)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="equitrial-demo-bench-") as tmp:
        out = Path(tmp) / "demo"
        env = {
            **os.environ,
            "EQUITRIAL_AUDIT_KEY_FILE": str(Path(tmp) / "keys" / "audit.key"),
            "EQUITRIAL_AUDIT_ANCHOR_FILE": str(Path(tmp) / "keys" / "anchors.jsonl"),
        }
        command = [sys.executable, "-m", "equitrial", "demo", "--patients", str(args.patients),
                   "--seed", str(args.seed), "--out", str(out), "--demo-password",
                   "a river runs deep 7"]  # fmt: skip
        start = time.perf_counter()
        run = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
        seconds = time.perf_counter() - start
        print(run.stdout)
        if run.returncode != 0:
            print(run.stderr[-3000:], file=sys.stderr)
            raise SystemExit(run.returncode)
        for line in run.stdout.splitlines():
            if re.match(PHASE, line):
                print(f"phase {line}")
        _figures(out / "equitrial.db")
    print(f"demo_seconds={seconds:.1f}")
    print(f"demo_goal_ratio={GOAL_SECONDS / seconds:.2f}")


def _figures(database: Path) -> None:
    db = sqlite3.connect(database)
    tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    for table in sorted(tables):
        if table != "alembic_version":
            print(f"rows {table}={db.execute(f'SELECT count(*) FROM {table}').fetchone()[0]}")
    randomized = db.execute("SELECT count(*) FROM subject WHERE status = 'randomized'").fetchone()[
        0
    ]
    responders = db.execute("""
        SELECT count(DISTINCT t.subject_id) FROM tumour_assessment t
        JOIN regimen_period r ON r.subject_id = t.subject_id
        WHERE t.reader = 'central' AND t.overall_response IN ('CR', 'PR')
          AND julianday(t.assessment_date) - julianday(
              (SELECT min(start_date) FROM regimen_period p WHERE p.subject_id = t.subject_id)
          ) <= 175""").fetchone()[0]  # fmt: skip
    print(f"simulated ORR at week 24 (central) = {responders / randomized:.3f} (input 0.33)")
    for term, published in IMMUNE.items():
        n = db.execute(
            "SELECT count(DISTINCT subject_id) FROM adverse_event WHERE term = ?", (term,)
        ).fetchone()[0]
        print(f"{term}: {n / randomized:.3f} of patients (published {published})")
    troughs = sorted(
        r[0] for r in db.execute("""
            SELECT p.concentration FROM pk_sample p JOIN visit v ON v.id = p.visit_id
            WHERE p.timing = 'PRE-DOSE' AND p.concentration IS NOT NULL
              AND v.name = 'day 148'""")
    )  # fmt: skip
    if troughs:
        print(f"median pre-dose concentration at day 148: {troughs[len(troughs) // 2]:.1f} ug/mL")


if __name__ == "__main__":
    main()
