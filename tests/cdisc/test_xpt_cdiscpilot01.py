"""``read_xpt`` on SAS-written files: the CDISC Pilot 01 DM and ADSL (SAS 9.3).

Expected values: R's haven 2.5.1 reading the same files (``tests/reference/cdiscpilot01_haven.R``
-> ``cdiscpilot01_haven.json``): subjects, counts by arm, labels, formats, the first record; and
the pilot's published design (254 randomized subjects: 86 placebo, 84 xanomeline high dose, 84
low dose; ``tests/data/cdiscpilot01/SOURCES.md``). Numbers: 1e-12 relative.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from equitrial.cdisc.xpt import read_xpt

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "cdiscpilot01"
HAVEN = json.loads((ROOT / "tests/reference/cdiscpilot01_haven.json").read_text("utf-8"))
ARMS = {"Placebo": 86, "Xanomeline High Dose": 84, "Xanomeline Low Dose": 84}


@pytest.mark.parametrize(("name", "by"), [("dm", "ARM"), ("adsl", "TRT01P")])
def test_agrees_with_haven(name: str, by: str) -> None:
    haven = HAVEN[name]
    frame, meta = read_xpt(DATA / f"{name}.xpt")
    assert meta.name == name.upper()
    assert meta.label == ""  # the pilot's files carry no member label (haven: NULL)
    assert len(frame) == haven["rows"]
    assert frame["USUBJID"].nunique() == haven["subjects"]
    assert list(frame.columns) == haven["columns"]
    assert meta.labels == haven["labels"]
    assert {k: v.rstrip(".") for k, v in meta.formats.items()} == haven["formats"]
    assert dict(Counter(frame[by])) == haven["counts"]
    assert math.isclose(frame["AGE"].mean(), float(haven["age_mean"]), rel_tol=1e-12)
    for column, expected in haven["first_row"].items():
        value: Any = frame[column][0]
        if isinstance(value, dt.date):
            assert value.isoformat() == expected, column
        elif isinstance(value, float):
            assert math.isclose(value, float(expected), rel_tol=1e-12), column
        else:
            assert value == expected, column


def test_published_design() -> None:
    adsl, _ = read_xpt(DATA / "adsl.xpt")
    assert len(adsl) == 254 and adsl["USUBJID"].is_unique
    assert dict(Counter(adsl["TRT01P"])) == ARMS
    dm, meta = read_xpt(DATA / "dm.xpt")
    assert dict(Counter(dm["ARM"])) == {**ARMS, "Screen Failure": 52}
    assert set(adsl["USUBJID"]) == set(dm.loc[dm["ARM"] != "Screen Failure", "USUBJID"])
    assert meta.labels["USUBJID"] == "Unique Subject Identifier"
    assert meta.types["AGE"] == "Num" and meta.lengths["AGE"] == 8


def test_numeric_dates_are_dates() -> None:
    adsl, meta = read_xpt(DATA / "adsl.xpt")
    assert meta.formats["TRTSDT"] == "DATE9."
    assert adsl["TRTSDT"][0] == dt.date(2014, 1, 2)  # 01-701-1015: RFSTDTC 2014-01-02 in DM
