"""Test-only set-up of a study, sites and subjects for the randomization service (no services:
the subjects are written directly through the store models), and the concurrency worker."""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from equitrial.protocol import load_protocol
from equitrial.randomization.service import allocate
from equitrial.store.db import make_engine, transaction
from equitrial.store.models import RandomizationSchedule, Site, Study, Subject

PROTOCOL = Path(__file__).parents[2] / "examples" / "melanoma-pembrolizumab" / "protocol.toml"


def protocol_dict(**randomization: Any) -> dict[str, Any]:
    """The example protocol as a dict, its ``[randomization]`` table replaced if given."""
    data = load_protocol(PROTOCOL).to_dict()
    if randomization:
        data["randomization"] = randomization
    return data


def strata_combinations(data: dict[str, Any]) -> list[dict[str, str]]:
    """Every stratum of a protocol dict, first factor slowest."""
    levels = data["stratification"]
    factors = list(levels)
    return [dict(zip(factors, c, strict=True)) for c in itertools.product(*levels.values())]


def add_study(session: Session, data: dict[str, Any], code: str = "EQT-PEM-301") -> Study:
    study = Study(
        code=code,
        title=data["study"]["title"],
        protocol_version=data["study"]["version"],
        protocol_json=json.dumps(data),
    )
    session.add(study)
    session.flush()
    return study


def add_site(session: Session, code: str = "S01") -> Site:
    site = Site(code=code, name=f"Site {code}")
    session.add(site)
    session.flush()
    return site


def add_subjects(
    session: Session,
    study: Study,
    site: Site,
    strata: Sequence[dict[str, str] | None],
    *,
    eligible: bool | None = True,
    start: int = 1,
) -> list[int]:
    """One subject per entry of ``strata`` (``None``: no strata recorded); returns their ids."""
    subjects = [
        Subject(
            study_id=study.id,
            site_id=site.id,
            screening_number=f"SCR-{start + i:05d}",
            subject_code=f"{site.code}-{study.id}-{start + i:05d}",
            eligible=eligible,
            strata_json=None if levels is None else json.dumps(levels),
            status="eligible" if eligible else "screening",
        )
        for i, levels in enumerate(strata)
    ]
    session.add_all(subjects)
    session.flush()
    return [s.id for s in subjects]


def randomize_one(engine: Any, subject_id: int) -> tuple[int, int, str, str]:
    """One randomization request in its own transaction: (subject, sequence, kit, arm)."""
    with transaction(engine) as session:
        subject = session.get(Subject, subject_id)
        assert subject is not None
        slot = allocate(session, subject)
        return subject_id, slot.sequence_number, slot.kit_number, slot.arm_code


def worker(url: str, subject_ids: list[int], barrier: Any, results: Any) -> None:
    """A separate process: its own engine, wait for all, then randomize each subject in turn."""
    engine = make_engine(url)
    out: list[Any] = []
    try:
        barrier.wait(timeout=120)
        for subject_id in subject_ids:
            out.append(randomize_one(engine, subject_id))
    except Exception as error:  # reported to the parent, which fails the test
        out.append(f"{type(error).__name__}: {error}")
    finally:
        engine.dispose()
        results.put(out)


def slots(session: Session, study_id: int) -> list[RandomizationSchedule]:
    query = select(RandomizationSchedule).filter_by(study_id=study_id)
    return list(session.scalars(query.order_by(RandomizationSchedule.sequence_number)))
