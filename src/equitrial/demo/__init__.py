"""The virtual trial: patients, sites and a drug supply that run the flagship study through the
real services (``equitrial demo``).

:func:`run_demo` creates a fresh SQLite study from the protocol file, its sites and users, and
runs the whole trial as sites, a central laboratory and a supply manager would: screening,
randomization, every visit, dose, kit, tumour assessment, adverse event, lab transfer, sample,
questionnaire and disposition, with the mistakes edit checks catch and the queries that follow.
The demo never writes to the store directly: every write is a use case of
:mod:`equitrial.services`, audited and checked like a site's. Then it verifies the audit trail.

Dates: the study runs in the past, ending the day before the run (the first site opened about
three years earlier), so that every date passes the "not in the future" checks.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy.engine import Engine

from equitrial.demo.flow import PatientTruth
from equitrial.demo.patients import make_patients, make_sites, study_start
from equitrial.demo.runner import Advance, Progress, Trial
from equitrial.demo.study import open_study, stock_depot
from equitrial.errors import InvalidInputError
from equitrial.services.audit import verification_lines, verify_audit_trail

__all__ = ["DEFAULT_PROTOCOL", "DemoSummary", "Progress", "run_demo"]

DEFAULT_PROTOCOL = Path("examples/melanoma-pembrolizumab/protocol.toml")
"""The flagship protocol, relative to a clone of the repository."""


@dataclass(frozen=True)
class DemoSummary:
    """What the demo made and where.

    Attributes
    ----------
    database, audit_file, users_file
        The SQLite database, the verification's output and the demo users.
    screened, randomized, sites
        Patients screened and randomized, sites.
    counts
        Forms and other entries by kind (``"dose"``, ``"queries opened"``, ...).
    audit_ok, audit_lines
        Whether the audit trail verified, and the verification's lines.
    seconds
        Wall-clock seconds of each phase.
    truth
        What the demo drew for each randomized patient (by subject code), to check the stored
        data against.
    analyses
        ``"interim"`` and ``"final"``: the primary analysis of each (``results.json``'s
        ``primary``), written by ``equitrial analyze`` into ``out/interim`` and ``out/final``.
    """

    database: Path
    audit_file: Path
    users_file: Path
    screened: int
    randomized: int
    sites: int
    counts: dict[str, int]
    audit_ok: bool
    audit_lines: list[str]
    seconds: dict[str, float] = field(default_factory=dict)
    truth: dict[str, PatientTruth] = field(default_factory=dict, repr=False)
    analyses: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)


def _quiet(phase: str, total: int) -> Advance:
    return lambda n: None


def _allocation_seed(seed: int) -> int:
    """The demo's allocation seed from ``--seed`` (256 bits, so that the demo is repeatable; a
    real study leaves the seed out and gets a fresh secret one)."""
    digest = hashlib.sha256(f"equitrial demo allocation {seed}".encode()).digest()
    return int.from_bytes(digest, "big") | (1 << 255)


def run_demo(
    out: Path,
    *,
    patients: int = 300,
    seed: int = 20261207,
    demo_password: str | None = None,
    true_ratio: float | None = None,
    protocol: Path | None = None,
    today: dt.date | None = None,
    progress: Progress = _quiet,
    analyses: bool = True,
) -> DemoSummary:
    """Run the virtual trial into ``out/equitrial.db``.

    Parameters
    ----------
    out
        Directory of the results: ``equitrial.db``, ``audit-verify.txt``, ``users.json``
        (and ``passwords.json``, mode 0600, when no ``demo_password`` is given).
    patients
        Patients to randomize (1 to 5,000); about one more in seven is screened and fails.
    seed
        Seed of everything random, the allocation list included: the same seed gives the same
        trial.
    demo_password
        Password of every demo user; default: a random one each.
    true_ratio
        True ratio of the response rates (test / reference); default: both arms share the
        protocol's reference rate.
    protocol
        The protocol file (default :data:`DEFAULT_PROTOCOL`).
    today
        The day the study data end before (default: today, UTC).
    progress
        ``progress(phase, total)`` -> ``advance(n)``: shows each phase's progress.
    analyses
        End with the interim and final analyses (``out/interim``, ``out/final``); ``False``
        stops after the trial and its verification (tests that only need the data).

    Raises
    ------
    InvalidInputError
        A patient count out of range, a ratio not positive, no protocol file.
    ConflictError
        ``out/equitrial.db`` exists and is not an earlier demo's (whose files are replaced).
    """
    if isinstance(patients, bool) or not isinstance(patients, int) or not 1 <= patients <= 5000:
        raise InvalidInputError(
            "patients: a whole number from 1 to 5000", field="patients", value=patients
        )
    if true_ratio is not None and not (true_ratio > 0 and np.isfinite(true_ratio)):
        raise InvalidInputError(
            "true ratio: a positive number", field="true_ratio", value=true_ratio
        )
    path = protocol or DEFAULT_PROTOCOL
    if not path.is_file():
        raise InvalidInputError(
            f"protocol file {path} not found; run from the repository root or give --protocol",
            field="protocol",
            value=str(path),
        )
    seconds: dict[str, float] = {}
    clock = time.perf_counter()
    today = today or dt.datetime.now(dt.UTC).date()
    rng = np.random.default_rng(seed)
    start = study_start(today)
    sites = make_sites(max(4, min(40, round(patients / 25))), start, rng)
    screened = make_patients(patients, sites, start, rng)
    advance = progress("setting up the study, sites, users and kits", 3)
    demo = open_study(
        out, path, sites, password=demo_password, allocation_seed=_allocation_seed(seed)
    )
    advance(1)
    stock_depot(demo, start, max(40, patients * 4), rng)
    advance(2)
    seconds["set-up"] = time.perf_counter() - clock
    trial = Trial(demo, today - dt.timedelta(days=1), true_ratio=true_ratio)
    trial.supply_chain(start)
    trial.screen(screened)
    clock = time.perf_counter()
    trial.run(
        progress("the trial: sites, central lab and drug supply, day by day", (today - start).days),
        start,
    )
    seconds["trial"] = time.perf_counter() - clock
    clock = time.perf_counter()
    primaries: dict[str, dict[str, Any]] = {}
    if analyses:
        primaries = _analyses(demo.engine, out, progress)
        seconds["interim and final analyses"] = time.perf_counter() - clock
    clock = time.perf_counter()
    advance = progress("verifying the audit trail", 1)
    report = verify_audit_trail(demo.engine)
    lines = verification_lines(report)
    advance(1)
    seconds["audit verification"] = time.perf_counter() - clock
    audit_file = out / "audit-verify.txt"
    audit_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    users_file = out / "users.json"
    users_file.write_text(json.dumps(demo.users, indent=2) + "\n", encoding="utf-8")
    if demo_password is None:
        secret = out / "passwords.json"
        secret.touch(mode=0o600)
        secret.write_text(json.dumps(demo.passwords, indent=2) + "\n", encoding="utf-8")
    demo.engine.dispose()
    counts: Counter[str] = trial.counts
    return DemoSummary(
        database=demo.path,
        audit_file=audit_file,
        users_file=users_file,
        screened=len(screened),
        randomized=sum(p.randomization_date is not None for p in screened),
        sites=len(sites),
        counts=dict(sorted(counts.items())),
        audit_ok=report.ok,
        audit_lines=lines,
        seconds=seconds,
        analyses=primaries,
    )


def _analyses(engine: Engine, out: Path, progress: Progress) -> dict[str, dict[str, Any]]:
    """``equitrial analyze --interim`` (``out/interim``: the protocol's first interim, six
    months after the first patient in the flagship) and ``equitrial analyze`` on every record
    (``out/final``): the results' primary analysis of each."""
    from equitrial.services.analysis import analyze

    advance = progress("interim and final analyses (datasets, statistics, reports)", 2)
    primary = {}
    for name in ("interim", "final"):
        result = analyze(engine, out / name, interim=name == "interim")
        primary[name] = result.results["primary"]
        advance(1)
    return primary
