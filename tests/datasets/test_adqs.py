"""ADQS on a hand-made study: QLQ-C30 scales by the manual's formulas, baseline, deterioration."""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any

import pytest
from adam2_support import adsl, check_dataset, row, source

from equitrial.datasets.adqs import build_adqs

D = dt.date
S1, S2 = "EQT-S01-0001", "EQT-S01-0002"


def _response(qid: int, subject: int, day: dt.date, items: dict[int, int | None]) -> dict[str, Any]:
    return {
        "id": qid,
        "subject_id": subject,
        "date": day,
        "items_json": json.dumps({str(k): v for k, v in items.items() if v is not None}),
    }


EVERY_2 = {**{i: 2 for i in range(1, 29)}, 29: 5, 30: 6}
# After treatment: PF2 items 1-4 = 3 and item 5 missing (3 of 5 answered is enough), fatigue
# items 10, 12, 18 = 2, 2, 3, global health 29 = 30 = 5, item 20 missing (CF from item 25
# alone), item 28 missing (FI single item: no score).
LATER = {**EVERY_2, 1: 3, 2: 3, 3: 3, 4: 3, 5: None, 18: 3, 29: 5, 30: 5, 20: None, 28: None}
RESPONSES = [
    _response(1, 1, D(2023, 12, 20), {**EVERY_2, 29: 7, 30: 7}),  # screening: not the baseline
    _response(2, 1, D(2024, 1, 1), EVERY_2),  # day 1: the baseline
    _response(3, 1, D(2024, 3, 4), LATER),  # 63 days later: week 9
    _response(4, 2, D(2024, 1, 3), EVERY_2),  # subject 2, never dosed: baseline by RANDDT
]
ADSL = adsl(
    [
        {"subject": 1, "TRTSDT": D(2024, 1, 1), "TRTEDT": D(2024, 6, 1)},
        {"subject": 2, "RANDDT": D(2024, 1, 5), "SAFFL": "N"},
    ]
)


def _adqs() -> Any:
    return build_adqs(source({"questionnaire_response": RESPONSES}, 2), ADSL)


def test_structure() -> None:
    ds = _adqs()
    check_dataset(ds, "ADQS", "BASIC DATA STRUCTURE")
    assert len(ds.frame) == 4 * 15
    assert list(ds.frame["PARAMCD"][:15]) == [
        "QL2",
        "PF2",
        "RF2",
        "EF",
        "CF",
        "SF",
        "FA",
        "NV",
        "PA",
        "DY",
        "SL",
        "AP",
        "CO",
        "DI",
        "FI",
    ]


def test_scores_follow_the_manual() -> None:
    ds = _adqs()
    base = {r: row(ds, USUBJID=S1, ABLFL="Y", PARAMCD=r)["AVAL"] for r in ("PF2", "FA", "QL2")}
    # functional: (1 - (RS - 1) / 3) * 100 with RS = 2; symptom: (RS - 1) / 3 * 100;
    # global: (RS - 1) / 6 * 100 with RS = (5 + 6) / 2
    assert base["PF2"] == pytest.approx(200 / 3, rel=1e-12)
    assert base["FA"] == pytest.approx(100 / 3, rel=1e-12)
    assert base["QL2"] == pytest.approx(75.0, rel=1e-12)
    later = ds.frame[(ds.frame["USUBJID"] == S1) & (ds.frame["ADT"] == D(2024, 3, 4))]
    got = dict(zip(later["PARAMCD"], later["AVAL"], strict=True))
    assert got["PF2"] == pytest.approx(100 / 3, rel=1e-12)  # RS = 3 over the 4 answered items
    assert got["FA"] == pytest.approx(400 / 9, rel=1e-12)  # RS = 7 / 3
    assert got["QL2"] == pytest.approx(200 / 3, rel=1e-12)  # RS = 5
    assert got["CF"] == pytest.approx(200 / 3, rel=1e-12)  # item 25 = 2 alone
    assert math.isnan(got["FI"])


def test_baseline_change_and_deterioration() -> None:
    ds = _adqs()
    records = ds.frame[(ds.frame["USUBJID"] == S1) & (ds.frame["PARAMCD"] == "PF2")]
    assert list(records["ABLFL"]) == [None, "Y", None]  # the last on or before 2024-01-01
    assert list(records["AVISIT"]) == ["WEEK -2", "BASELINE", "WEEK 9"]
    later = {
        r: row(ds, USUBJID=S1, ADT=D(2024, 3, 4), PARAMCD=r)
        for r in ("PF2", "FA", "QL2", "FI", "EF")
    }
    assert later["PF2"]["CHG"] == pytest.approx(-100 / 3, rel=1e-12)
    assert later["PF2"]["CRIT1FL"] == "Y"  # functional: worse by 33.3 >= 10
    assert later["FA"]["CHG"] == pytest.approx(100 / 9, rel=1e-12)
    assert later["FA"]["CRIT1FL"] == "Y"  # symptom: up by 11.1 >= 10
    assert later["QL2"]["CHG"] == pytest.approx(-25 / 3, rel=1e-12)
    assert later["QL2"]["CRIT1FL"] == "N"  # worse by 8.3 < 10
    assert later["EF"]["CHG"] == 0 and later["EF"]["CRIT1FL"] == "N"
    assert later["FI"]["CRIT1FL"] is None  # no score, no change
    assert row(ds, USUBJID=S1, ABLFL="Y", PARAMCD="PF2")["CRIT1FL"] is None


def test_undosed_subject_baseline_by_randomization() -> None:
    ds = _adqs()
    qol = row(ds, USUBJID=S2, PARAMCD="QL2")
    assert qol["ABLFL"] == "Y" and qol["BASE"] == pytest.approx(75.0)
    assert qol["AVISIT"] == "BASELINE" and math.isnan(qol["ADY"])
