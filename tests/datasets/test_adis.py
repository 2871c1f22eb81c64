"""ADIS on a hand-made study: tiered sample result and subject ADA status (FDA 2019)."""

from __future__ import annotations

import datetime as dt
import math
from itertools import count
from typing import Any

from adam2_support import adsl, check_dataset, row, source

from equitrial.datasets.adis import BOOST_FOLD, build_adis

D = dt.date
_ids = count(1)


def _ada(
    subject: int,
    day: dt.date,
    screen: str,
    confirm: str | None = None,
    titre: float | None = None,
    nab: str | None = None,
) -> dict[str, Any]:
    return {
        "id": next(_ids),
        "subject_id": subject,
        "collected_at": dt.datetime(day.year, day.month, day.day, 8, 30, tzinfo=dt.UTC),
        "screening_result": screen,
        "confirmatory_result": confirm,
        "titre": titre,
        "neutralizing": nab,
    }


DAY1, POST = D(2024, 1, 1), D(2024, 2, 1)
SAMPLES = [
    # 1: negative at baseline, confirmed positive after: treatment-induced (NAb positive)
    _ada(1, DAY1, "NEGATIVE"),
    _ada(1, POST, "POSITIVE", "POSITIVE", 40.0, "POSITIVE"),
    # 2: positive at baseline (titre 20), 80 after: 4-fold, treatment-boosted
    _ada(2, DAY1, "POSITIVE", "POSITIVE", 20.0, "NEGATIVE"),
    _ada(2, POST, "POSITIVE", "POSITIVE", 80.0, "NEGATIVE"),
    # 3: positive at baseline (titre 20), 40 after: 2-fold, treatment-unaffected
    _ada(3, DAY1, "POSITIVE", "POSITIVE", 20.0),
    _ada(3, POST, "POSITIVE", "POSITIVE", 40.0),
    # 4: screen positive but not confirmed after baseline: the sample is negative
    _ada(4, DAY1, "NEGATIVE"),
    _ada(4, POST, "POSITIVE", "NEGATIVE"),
    # 5: baseline only: not evaluable
    _ada(5, DAY1, "NEGATIVE"),
    # 6: positive at screening (before day 1), negative on day 1 (the baseline: the last on or
    # before the first dose), positive after: treatment-induced
    _ada(6, D(2023, 12, 20), "POSITIVE", "POSITIVE", 10.0),
    _ada(6, DAY1, "NEGATIVE"),
    _ada(6, POST, "POSITIVE", "POSITIVE", 10.0),
]
ADSL = adsl([{"subject": k, "TRTSDT": DAY1, "TRTEDT": POST} for k in range(1, 7)])


def _adis() -> Any:
    return build_adis(source({"ada_sample": SAMPLES}, 6), ADSL)


def _status(ds: Any) -> dict[str, str]:
    first = ds.frame.drop_duplicates("USUBJID")
    return dict(zip(first["USUBJID"].str[-1].astype(int), first["ADASTAT"], strict=True))


def test_structure() -> None:
    ds = _adis()
    check_dataset(ds, "ADIS", "BASIC DATA STRUCTURE")
    s1 = ds.frame[ds.frame["USUBJID"] == "EQT-S01-0001"]
    # baseline: screen and the derived result; after: the four tiers and the derived result
    assert list(s1["PARAMCD"]) == [
        "ADASCR",
        "ADARES",
        "ADASCR",
        "ADACONF",
        "ADATITER",
        "ADANAB",
        "ADARES",
    ]
    assert list(s1["ASEQ"]) == list(range(1, 8))


def test_subject_status() -> None:
    assert BOOST_FOLD == 4
    assert _status(_adis()) == {
        1: "TREATMENT-INDUCED",
        2: "TREATMENT-BOOSTED",
        3: "TREATMENT-UNAFFECTED",
        4: "NEGATIVE",
        5: "NOT EVALUABLE",
        6: "TREATMENT-INDUCED",
    }


def test_sample_result_and_values() -> None:
    ds = _adis()
    s4 = "EQT-S01-0004"
    assert row(ds, USUBJID=s4, PARAMCD="ADARES", AVISIT="POST-BASELINE")["AVALC"] == "NEGATIVE"
    titre = row(ds, USUBJID="EQT-S01-0002", PARAMCD="ADATITER", AVISIT="POST-BASELINE")
    assert titre["AVAL"] == 80.0 and titre["BASE"] == 20.0 and titre["AVALC"] is None
    res = row(ds, USUBJID="EQT-S01-0002", PARAMCD="ADARES", ABLFL="Y")
    assert res["AVALC"] == "POSITIVE" and res["BASEC"] == "POSITIVE" and math.isnan(res["AVAL"])


def test_baseline_and_nab_flag() -> None:
    ds = _adis()
    s6 = ds.frame[(ds.frame["USUBJID"] == "EQT-S01-0006") & (ds.frame["PARAMCD"] == "ADASCR")]
    assert list(s6["AVISIT"]) == ["PRE-BASELINE", "BASELINE", "POST-BASELINE"]
    assert list(s6["ABLFL"]) == [None, "Y", None]
    assert list(s6["ADY"]) == [-12, 1, 32]
    nab = ds.frame.drop_duplicates("USUBJID").set_index("USUBJID")["NABFL"]
    assert nab.to_dict() == {f"EQT-S01-000{k}": ("Y" if k == 1 else None) for k in range(1, 7)}
