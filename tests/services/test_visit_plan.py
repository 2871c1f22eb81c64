"""The planned visits of one subject from the protocol (pure: no database)."""

from __future__ import annotations

import copy
import datetime as dt
import tomllib
from pathlib import Path

from equitrial.protocol import protocol_from_dict
from equitrial.services._visit_plan import dosing_regimens, plan_rows

EXAMPLE = Path(__file__).parents[2] / "examples" / "melanoma-pembrolizumab" / "protocol.toml"
DATA = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
D = dt.date(2025, 1, 6)


def _d(days: int) -> dt.date:
    return D + dt.timedelta(days=days)


def _protocol(schedule):
    data = copy.deepcopy(DATA)
    data["schedule"] = schedule
    return protocol_from_dict(data)


SCHEDULE = [
    {"name": "dosing", "kind": "dosing", "interval_weeks": 3, "until_week": 102},
    {"name": "scan at 9", "kind": "tumour-imaging", "weeks": [9, 10], "window_days": 7},
    {"name": "follow-up", "kind": "follow-up", "anchor": "end-of-treatment", "weeks": [12]},
]


def test_assessments_on_an_infusion_day_share_its_visit_and_narrowest_window():
    p = _protocol(SCHEDULE)
    rows = {r.name: r for r in plan_rows(p, p.regimen("Q3W"), D)}
    assert len(rows) == 35 + 1  # 35 infusions, the week-10 scan alone; no follow-up visit
    week9 = rows["day 64"]  # 63 days after day 1
    assert (week9.assessments, week9.window_start, week9.window_end) == (
        ("dosing", "tumour-imaging"),
        _d(60),
        _d(66),
    )
    week10 = rows["day 71"]
    assert (week10.assessments, week10.window_start, week10.window_end) == (
        ("tumour-imaging",),
        _d(63),
        _d(77),
    )


def test_a_switch_plans_from_its_first_infusion_on():
    p = _protocol(SCHEDULE)
    rows = plan_rows(p, p.regimen("Q6W"), D, regimen_start=_d(63))
    dosing = [r.planned_date for r in rows if "dosing" in r.assessments]
    assert dosing == [_d(63 + 42 * k) for k in range(16)]  # offsets 63 .. 693 (< 728)
    assert [r.name for r in rows if r.assessments == ("tumour-imaging",)] == ["day 71"]
    assert min(r.planned_date for r in rows) == _d(63)


def test_dosing_regimens_in_days():
    regimens = dosing_regimens(_protocol(SCHEDULE))
    assert [(r.code, r.dose_mg, r.interval_days, r.max_cycles) for r in regimens.values()] == [
        ("Q3W", 200.0, 21, 35),
        ("Q6W", 400.0, 42, 18),
    ]
