"""Time the CDISC derivations and files of ``equitrial export`` on a study database.

Issue 10's goal: the derivations (reading the store, SDTM and ADaM) run on a 300-patient study
in under 10 s. Reads the database of ``--database`` (default: the demo's, ``out/demo``, made by
``equitrial demo``), times each phase once, then the whole command a user runs. No peer runs
here: the pharmaverse (admiral, xportr) and SAS are not installable on this machine.

    .venv/bin/python benchmarks/export.py [--database out/demo/equitrial.db]

Last lines: ``derivation_seconds=<source + SDTM + ADaM>``, ``derivation_goal_ratio=<10 / s>``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from equitrial.cdisc.sdtm import build_sdtm
from equitrial.datasets import build_adam
from equitrial.services.export import study_source
from equitrial.store.db import make_engine

ROOT = Path(__file__).resolve().parents[1]
GOAL_SECONDS = 10.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", type=Path, default=ROOT / "out" / "demo" / "equitrial.db")
    args = parser.parse_args()
    if not args.database.exists():
        sys.exit(f"{args.database}: no such database (run `equitrial demo` first)")
    url = f"sqlite:///{args.database.resolve()}"
    engine = make_engine(url)
    started = time.perf_counter()
    source = study_source(engine)
    read = time.perf_counter()
    sdtm = build_sdtm(source)
    tabulated = time.perf_counter()
    adam = build_adam(source)
    analysed = time.perf_counter()
    engine.dispose()
    print(f"subjects: {len(source.tables.get('subject', []))}, randomized: {len(source.arms)}")
    print(f"read the store: {read - started:.2f} s")
    records = sum(len(d.frame) for d in sdtm)
    print(f"SDTM ({len(sdtm)} datasets, {records} records): {tabulated - read:.2f} s")
    records = sum(len(d.frame) for d in adam)
    print(f"ADaM ({len(adam)} datasets, {records} records): {analysed - tabulated:.2f} s")
    with tempfile.TemporaryDirectory() as out:
        command = [sys.executable, "-m", "equitrial", "export", "--out", f"{out}/package"]
        begun = time.perf_counter()
        environment = {**os.environ, "EQUITRIAL_DATABASE_URL": url}
        subprocess.run(command, check=True, capture_output=True, env=environment)
        print(f"equitrial export (derivations and every file): {time.perf_counter() - begun:.2f} s")
    derivation = analysed - started
    print(f"derivation_seconds={derivation:.2f}")
    print(f"derivation_goal_ratio={GOAL_SECONDS / derivation:.2f}")


if __name__ == "__main__":
    main()
