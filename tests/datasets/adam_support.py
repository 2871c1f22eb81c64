"""Hand-made StudySources for the ADaM tests: plain rows, as the store's snapshot gives them.

The protocol is the flagship example (imaging at weeks 9, 18, ..., 54 then every 12 weeks from
week 66, window 7 days; primary endpoint ORR at week 24, no confirmation).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from equitrial.datasets import StudySource
from equitrial.protocol import load_protocol

ROOT = Path(__file__).parents[2]
PROTOCOL = load_protocol(ROOT / "examples" / "melanoma-pembrolizumab" / "protocol.toml")
D0 = dt.date(2024, 1, 10)
"""Randomization (= day 1) of every hand-made subject."""
STRATA = {"braf_v600": "mutant", "ecog_ps": "0", "m_stage_ldh": "M0-M1b, normal LDH"}


def day(n: int) -> dt.date:
    """``n`` days after D0 (study day n + 1)."""
    return D0 + dt.timedelta(days=n)


def tables(n: int, *, dosed: bool = True) -> dict[str, list[dict[str, Any]]]:
    """Subjects 1..n at site S01, randomized on D0 to Q3W, one 200 mg dose on D0 if ``dosed``,
    eligible, with demographics; nothing else."""
    out: dict[str, list[dict[str, Any]]] = {
        "site": [
            {
                "id": 1,
                "code": "S01",
                "site_type": "METROPOLITAN",
                "country": "USA",
                "region": "NORTH AMERICA",
            }
        ],
        "subject": [],
        "demographics": [],
        "regimen_period": [],
        "dose": [],
    }
    for sid in range(1, n + 1):
        out["subject"].append(
            {
                "id": sid,
                "site_id": 1,
                "subject_code": f"S01-{sid:04d}",
                "eligible": True,
                "strata_json": json.dumps(STRATA),
                "status": "randomized",
            }
        )
        out["demographics"].append(
            {
                "subject_id": sid,
                "age": 60 + sid,
                "sex": "F",
                "race": "WHITE",
                "ethnicity": "NOT HISPANIC OR LATINO",
                "country": "USA",
                "region": "NORTH AMERICA",
                "site_type": "METROPOLITAN",
                "ecog_ps": 0,
                "braf_v600": "MUTANT",
                "m_stage": "M1a",
                "ldh_elevated": False,
                "brain_metastases": "N",
            }
        )
        out["regimen_period"].append(
            {"subject_id": sid, "regimen": "Q3W", "start_date": D0, "reason": "randomized"}
        )
        if dosed:
            out["dose"].append(
                {"subject_id": sid, "cycle": 1, "date": D0, "dose_mg": 200.0, "regimen": "Q3W"}
            )
    return out


def source(
    rows: dict[str, list[dict[str, Any]]], arms: dict[int, str] | None = None
) -> StudySource:
    """The StudySource of ``rows``; every subject BIO unless ``arms`` says otherwise."""
    allocated = {r["id"]: "BIO" for r in rows["subject"]} if arms is None else arms
    return StudySource(
        study={"code": "EQT-PEM-301", "title": "t", "protocol_version": "1.0"},
        protocol=PROTOCOL,
        tables=rows,
        arms=allocated,
    )


def assess(
    rows: dict[str, list[dict[str, Any]]],
    sid: int,
    points: list[tuple[int, str | None]],
    *,
    reader: str = "central",
    irecist: list[str | None] | None = None,
) -> None:
    """Tumour assessments of subject ``sid``: (days after D0, RECIST response) pairs."""
    table = rows.setdefault("tumour_assessment", [])
    for i, (n, code) in enumerate(points):
        table.append(
            {
                "subject_id": sid,
                "assessment_date": day(n),
                "reader": reader,
                "overall_response": code,
                "rule_version": "RECIST 1.1",
                "irecist_response": irecist[i] if irecist else None,
            }
        )
