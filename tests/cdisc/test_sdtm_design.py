"""TA, TE, TV, TI, TS from the flagship protocol (examples/melanoma-pembrolizumab)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from sdtm_case import case, rows

from equitrial.cdisc.sdtm import build_sdtm
from equitrial.datasets import Dataset


@pytest.fixture(scope="module")
def domains() -> dict[str, Dataset]:
    return {d.name: d for d in build_sdtm(case())}


def test_ta_three_elements_per_arm(domains: dict[str, Dataset]) -> None:
    got = [(r["ARMCD"], r["TAETORD"], r["ETCD"], r["EPOCH"]) for r in rows(domains["TA"])]
    assert got == [
        ("BIO", 1, "SCRN", "SCREENING"),
        ("BIO", 2, "BIO", "TREATMENT"),
        ("BIO", 3, "FU", "FOLLOW-UP"),
        ("REF", 1, "SCRN", "SCREENING"),
        ("REF", 2, "REF", "TREATMENT"),
        ("REF", 3, "FU", "FOLLOW-UP"),
    ]
    assert rows(domains["TA"])[3]["TABRANCH"] == "Randomized to Keytruda (EU-sourced)"


def test_te_elements(domains: dict[str, Dataset]) -> None:
    te = {r["ETCD"]: r for r in rows(domains["TE"])}
    assert list(te) == ["SCRN", "BIO", "REF", "FU"]
    assert te["BIO"]["TEDUR"] == "P104W"  # [treatment] max_weeks = 104


def test_tv_planned_visits(domains: dict[str, Dataset]) -> None:
    tv = rows(domains["TV"])
    names = [r["VISIT"] for r in tv]
    # week 0 is day 1; every 3 weeks to week 102 (dosing and labs): day 715 = 102 * 7 + 1
    assert names[:3] == ["day 1", "day 22", "day 43"] and "day 715" in names
    assert "day 729" not in names  # week 104: no infusion at or after the maximum duration
    day64 = next(r for r in tv if r["VISIT"] == "day 64")  # week 9: first scan, ADA, QLQ-C30
    assert day64["TVSTRL"].endswith("ada, dosing, labs, questionnaire, tumour-imaging")
    follow = [r for r in tv if r["VISIT"].startswith("survival follow-up")]
    assert follow[0]["VISIT"] == "survival follow-up 1" and follow[0]["VISITNUM"] == 10001
    assert len(follow) == 21  # weeks 12, 24, ..., 252 after the end of treatment (< 260)
    visitnum = [r["VISITNUM"] for r in tv]
    assert visitnum == sorted(visitnum) and len(set(visitnum)) == len(visitnum)


def test_ti_criteria(domains: dict[str, Dataset]) -> None:
    ti = rows(domains["TI"])
    # the protocol lists 6 inclusion then 8 exclusion criteria
    assert [r["IETESTCD"] for r in ti] == [f"INCL0{i}" for i in range(1, 7)] + [
        f"EXCL0{i}" for i in range(1, 9)
    ]
    assert ti[0]["IETEST"] == "Aged 18 years or older on the day the informed consent is signed"
    assert (ti[0]["IECAT"], ti[0]["TIRL"], ti[0]["TIVERS"]) == ("INCLUSION", "inc-age", "2.0")
    assert max(len(r["IETEST"]) for r in ti) == 200  # inc-organ-function is longer: cut


def test_ts_parameters(domains: dict[str, Dataset]) -> None:
    ts = rows(domains["TS"])
    value = {(r["TSPARMCD"], r["TSSEQ"]): r["TSVAL"] for r in ts}
    assert value[("PLANSUB", 1)] == "300" and value[("RANDOM", 1)] == "Y"
    assert value[("TRT", 1)] == "Proposed pembrolizumab biosimilar"
    assert value[("COMPTRT", 1)] == "Keytruda (EU-sourced)"
    assert (value[("DOSE", 1)], value[("DOSE", 2)]) == ("200", "400")  # Q3W, Q6W
    assert value[("SSTDTC", 1)] == "2024-01-02"  # the first informed consent
    assert value[("SDTIGVER", 1)] == "3.4" and value[("ACTSUB", 1)] == "2"
    assert value[("TPHASE", 1)] == "PHASE III TRIAL"
    title = next(r for r in ts if r["TSPARMCD"] == "TITLE")
    assert title["TSVAL"] == "A hand-made study"
    assert "TSVAL1" not in title  # no value over 200 characters: no continuation variable
    assert ("DCUTDTC", 1) not in value


def test_ts_long_title_continues_and_cutoff(domains: dict[str, Dataset]) -> None:
    title = "word " * 60  # 300 characters: 200 in TSVAL (cut at a space), the rest in TSVAL1
    source = dataclasses.replace(
        case(), study={"code": "STUDY1", "title": title}, cutoff=dt.date(2024, 6, 30)
    )
    ts = {d.name: d for d in build_sdtm(source)}["TS"]
    (row,) = rows(ts, TSPARMCD="TITLE")
    assert row["TSVAL"] == " ".join(["word"] * 40)  # 40 words and 39 spaces: 199 characters
    assert row["TSVAL1"] == " ".join(["word"] * 20)
    assert rows(ts, TSPARMCD="DCUTDTC")[0]["TSVAL"] == "2024-06-30"
