"""equitrial.analysis.safety on the hand-made frames of ``test_safety_data``.

Counts are counted by hand from the table in ``test_safety_data``'s docstring; the intervals of
the differences come from R (``tests/reference/analysis_safety.R``: an independent
Miettinen-Nurminen implementation and Newcombe's method 10 from ``prop.test``), compared at
1e-6 relative; means and SDs are computed by hand below.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from test_safety_data import GEN, GI, SKIN, adam, protocol

from equitrial.analysis.safety import safety, safety_tables
from equitrial.errors import InvalidInputError, UnknownOptionError

REFERENCE = json.loads(
    (Path(__file__).parents[1] / "reference" / "analysis_safety.json").read_text("utf-8")
)
RTOL = 1e-6

# overview key -> (BIO subjects of 5, REF subjects of 4), counted by hand
OVERVIEW = {
    "any": (3, 3),  # S01 S02 S03 | R01 R02 R03
    "related": (3, 2),  # S01 S02 S03 (missing AEREL counts) | R01 R02
    "grade3": (2, 1),  # S01 (3) S02 (5) | R01 (3)
    "grade3_related": (1, 1),  # S01 | R01
    "serious": (1, 1),  # S02 | R01 (S04's is not emergent)
    "discontinuation": (1, 1),  # S02 | R01
    "fatal": (1, 0),  # S02
    "deaths": (1, 1),  # S02 | R01
}


@pytest.fixture(scope="module")
def result() -> dict[str, Any]:
    return safety(adam(), protocol())


def _reference(x1: int, x2: int) -> dict[str, Any]:
    found = [
        r
        for r in REFERENCE["differences"]
        if (r["x1"], r["n1"], r["x2"], r["n2"]) == (x1, 5, x2, 4)
    ]
    assert len(found) == 1
    return found[0]


def test_arms_and_population(result: dict[str, Any]) -> None:
    assert [(a["code"], a["role"], a["n"]) for a in result["arms"]] == [
        ("BIO", "test", 5),
        ("REF", "reference", 4),
    ]
    assert result["difference"] == {"test": "BIO", "reference": "REF"}


def test_overview_counts_by_hand(result: dict[str, Any]) -> None:
    assert [r["key"] for r in result["overview"]] == list(OVERVIEW)
    for row in result["overview"]:
        bio, ref = OVERVIEW[row["key"]]
        assert row["arms"]["BIO"] == {"n": bio, "percent": 100 * bio / 5}
        assert row["arms"]["REF"] == {"n": ref, "percent": 100 * ref / 4}


@pytest.mark.parametrize("method, key", [("miettinen-nurminen", "mn"), ("newcombe", "newcombe")])
def test_overview_differences_match_r(method: str, key: str) -> None:
    rows = safety(adam(), protocol(), method=method)["overview"]  # type: ignore[arg-type]
    for row in rows:
        bio, ref = OVERVIEW[row["key"]]
        expected = _reference(bio, ref)
        diff = row["difference"]
        assert diff["estimate"] == pytest.approx(bio / 5 - ref / 4, rel=1e-12, abs=1e-15)
        assert diff["lower"] == pytest.approx(expected[key][0], rel=RTOL)
        assert diff["upper"] == pytest.approx(expected[key][1], rel=RTOL)
        assert (diff["level"], diff["method"]) == (0.95, method)


def _counts(block: dict[str, Any]) -> tuple[tuple[int, float | None, int], ...]:
    return tuple(
        (block["arms"][c]["n"], block["arms"][c]["percent"], block["arms"][c]["events"])
        for c in ("BIO", "REF")
    )


def test_soc_pt_order_and_counts(result: dict[str, Any]) -> None:
    # GI and Skin have 3 subjects each (tie: by name), General 2; Diarrhea (3) before Colitis
    socs = result["soc_pt"]
    assert [s["soc"] for s in socs] == [GI, SKIN, GEN]
    assert [t["term"] for t in socs[0]["terms"]] == ["Diarrhea", "Colitis"]
    assert _counts(socs[0]) == ((2, 40.0, 4), (1, 25.0, 1))
    assert _counts(socs[0]["terms"][0]) == ((2, 40.0, 3), (1, 25.0, 1))
    assert _counts(socs[0]["terms"][1]) == ((1, 20.0, 1), (0, 0.0, 0))
    assert _counts(socs[1]) == ((1, 20.0, 1), (2, 50.0, 3))
    assert _counts(socs[2]) == ((1, 20.0, 1), (1, 25.0, 1))


def test_worst_grade_per_subject(result: dict[str, Any]) -> None:
    zero = {g: 0 for g in ("1", "2", "3", "4", "5", "missing")}
    expected = {
        (GI, "Diarrhea"): ({"2": 1, "3": 1}, {"1": 1}),
        (GI, "Colitis"): ({"2": 1}, {}),
        (SKIN, "Rash"): ({"1": 1}, {"2": 1, "3": 1}),
        (GEN, "Fatigue"): ({"5": 1}, {"1": 1}),
    }
    got = {(r["soc"], r["term"]): r["arms"] for r in result["worst_grade"]}
    assert list(got) == list(expected)
    for key, (bio, ref) in expected.items():
        assert got[key] == {"BIO": zero | bio, "REF": zero | ref}


def test_immune_related_by_category(result: dict[str, Any]) -> None:
    rows = {r["category"]: r["arms"] for r in result["immune_related"]}
    assert list(rows) == ["Any immune-related AE", "skin reactions", "colitis"]
    any_ = rows["Any immune-related AE"]
    assert any_["BIO"] == {
        "n": 2,
        "percent": 40.0,
        "onset_days": {"n": 2, "median": 15.0, "min": 10.0, "max": 20.0},
    }
    # R02: first of days 50 and 8
    assert any_["REF"]["onset_days"] == {"n": 2, "median": 19.0, "min": 8.0, "max": 30.0}
    assert rows["colitis"]["REF"] == {
        "n": 0,
        "percent": 0.0,
        "onset_days": {"n": 0, "median": None, "min": None, "max": None},
    }
    assert rows["skin reactions"]["REF"]["n"] == 2


def test_lab_shifts(result: dict[str, Any]) -> None:
    alt, plat = result["lab_shifts"]
    assert (alt["paramcd"], plat["paramcd"]) == ("ALT", "PLAT")
    assert alt["baseline_grades"] == ["0", "1", "2", "3", "4", "missing"]
    assert alt["worst_grades"] == ["0", "1", "2", "3", "4"]
    empty = [0, 0, 0, 0, 0]
    assert alt["arms"]["BIO"] == {
        "n": 3,
        "counts": [[0, 0, 1, 0, 0], [0, 1, 0, 0, 0], empty, empty, empty, [0, 0, 0, 1, 0]],
    }
    assert alt["arms"]["REF"] == {"n": 1, "counts": [[1, 0, 0, 0, 0]] + [empty] * 5}
    assert plat["arms"]["BIO"]["counts"][0] == [0, 1, 0, 0, 0]
    assert plat["arms"]["REF"] == {"n": 0, "counts": [empty] * 6}


def test_exposure_by_hand(result: dict[str, Any]) -> None:
    rows = {r["paramcd"]: r["arms"] for r in result["exposure"]}
    assert list(rows) == ["DURD", "NINF", "TOTDOSE", "DI", "RDI"]
    bio = rows["DURD"]["BIO"]  # 63, 21, 126 (the BY REGIMEN 999 is not read)
    assert (bio["n"], bio["median"], bio["min"], bio["max"]) == (3, 63.0, 21.0, 126.0)
    assert bio["mean"] == pytest.approx(70.0, rel=1e-12)
    assert bio["sd"] == pytest.approx(math.sqrt((49 + 2401 + 3136) / 2), rel=1e-12)
    ref = rows["DURD"]["REF"]  # 42, 84
    assert ref["mean"] == pytest.approx(63.0, rel=1e-12)
    assert ref["sd"] == pytest.approx(math.sqrt(2 * 21**2), rel=1e-12)
    assert rows["DI"]["REF"]["mean"] == pytest.approx((200 / 3 + 50) / 2, rel=1e-12)
    assert rows["RDI"]["REF"]["min"] == 75.0


def test_deterministic_and_json(result: dict[str, Any]) -> None:
    frames = adam()
    frames = {k: v.sample(frac=1.0, random_state=7) for k, v in frames.items()}
    again = safety(frames, protocol())
    text = json.dumps(result, sort_keys=True, allow_nan=False)
    assert json.dumps(again, sort_keys=True, allow_nan=False) == text


def test_aebodsys_when_no_aesoc(result: dict[str, Any]) -> None:
    frames = adam()
    frames["ADAE"] = frames["ADAE"].drop(columns=["AESOC"])
    assert safety(frames, protocol())["soc_pt"] == result["soc_pt"]


def test_without_labs_and_exposure() -> None:
    frames = adam()
    del frames["ADLB"], frames["ADEX"]
    out = safety(frames, protocol())
    assert (out["lab_shifts"], out["exposure"]) == ([], [])


def test_tables(result: dict[str, Any]) -> None:
    tables = safety_tables(result)
    assert [t.number for t in tables] == [f"14.3.{i}" for i in range(1, 7)]
    overview = tables[0].as_json()
    assert overview["rows"][0][:5] == ["Any TEAE", 3, 60.0, 3, 75.0]
    assert overview["rows"][0][5] == pytest.approx(-15.0, rel=1e-12)
    assert len(tables[1].rows) == 3 + 4  # 3 SOCs, 4 terms
    assert len(tables[2].rows) == 4 * 2
    assert len(tables[4].rows) == 2 * 2 * 6  # 2 parameters x 2 arms x 6 baseline grades
    json.dumps([t.as_json() for t in tables], allow_nan=False)


@pytest.mark.parametrize(
    "change, field",
    [
        (lambda f: f.pop("ADAE"), "ADAE"),
        (lambda f: f["ADAE"].drop(columns=["AEDECOD"], inplace=True), "ADAE.AEDECOD"),
        (lambda f: f["ADAE"].drop(columns=["AESER"], inplace=True), "ADAE.AESER"),
        (lambda f: f["ADSL"].drop(columns=["SAFFL"], inplace=True), "ADSL.SAFFL"),
        (lambda f: f["ADSL"].loc.__setitem__((0, "TRT01A"), "Placebo"), "ADSL.TRT01A"),
        (lambda f: f["ADAE"].loc.__setitem__((0, "ATOXGRN"), 7.0), "ADAE.ATOXGRN"),
        (lambda f: f["ADLB"].drop(columns=["ONTRTFL"], inplace=True), "ADLB.ONTRTFL"),
        (lambda f: f["ADEX"].drop(columns=["AVAL"], inplace=True), "ADEX.AVAL"),
    ],
)
def test_bad_input_names_the_field(change: Any, field: str) -> None:
    frames = adam()
    change(frames)
    with pytest.raises(InvalidInputError) as info:
        safety(frames, protocol())
    assert info.value.field == field


def test_unknown_method() -> None:
    with pytest.raises(UnknownOptionError) as info:
        safety(adam(), protocol(), method="exact")  # type: ignore[arg-type]
    assert info.value.field == "method"
