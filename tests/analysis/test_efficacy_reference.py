"""equitrial.analysis.efficacy against R on hand-made ADaM data.

Data: tests/data/efficacy/{adsl,adrs,adtte}.csv (60 subjects), written by
tests/reference/analysis_efficacy.R, which computes every expected number of
tests/reference/analysis_efficacy.json with R's survival (survfit, survdiff, coxph), binom.test,
the independent Miettinen-Nurminen implementation of tests/reference/proportions.R and an RMST
integrated by hand. Tolerance: 1e-6 relative (R's JSON keeps 15 significant digits).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from equitrial.analysis.efficacy import (
    efficacy_tables,
    primary,
    secondary,
    sensitivity,
    subgroups,
)
from equitrial.protocol import load_protocol

ROOT = Path(__file__).parents[2]
DATA = ROOT / "tests" / "data" / "efficacy"
PROTOCOL = load_protocol(ROOT / "examples" / "melanoma-pembrolizumab" / "protocol.toml")
R = json.loads((ROOT / "tests" / "reference" / "analysis_efficacy.json").read_text())
REL = 1e-6


def _date(value: Any) -> dt.date | None:
    return dt.date.fromisoformat(value) if isinstance(value, str) and value else None


def load_adam() -> dict[str, pd.DataFrame]:
    """The hand-made ADSL, ADRS, ADTTE as the analyses expect them (dates as ``date``)."""
    adsl = pd.read_csv(DATA / "adsl.csv", dtype=str, keep_default_na=False)
    adsl["AGE"] = adsl["AGE"].astype(int)
    for name in ("RANDDT", "DTHDT"):
        adsl[name] = adsl[name].map(_date)
    adrs = pd.read_csv(DATA / "adrs.csv", dtype=str, keep_default_na=False)
    adtte = pd.read_csv(DATA / "adtte.csv", dtype={"USUBJID": str, "PARAMCD": str})
    return {"ADSL": adsl, "ADRS": adrs, "ADTTE": adtte}


ADAM = load_adam()


def close(actual: Any, expected: Any) -> None:
    """Numbers to REL relative (None for R's null), nested dicts and lists alike."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict)
        for key, value in expected.items():
            close(actual[key], value)
    elif expected is None or isinstance(expected, bool | str):
        assert actual == expected
    else:
        assert actual == pytest.approx(expected, rel=REL, abs=0)


def _binary(result: dict[str, Any], ref: dict[str, Any]) -> None:
    assert result["arm_n"] == ref["arm_n"]
    assert result["responders"] == ref["responders"]
    close(result["estimate"], ref["estimate"])
    close(result["lower"], ref["lower"])
    close(result["upper"], ref["upper"])
    assert result["assessment"]["equivalent"] is ref["equivalent"]


def test_primary_matches_r() -> None:
    result = primary(ADAM, PROTOCOL)
    _binary(result, R["primary"])
    assert result["scale"] == "ratio"
    assert result["level"] == 0.9
    assert result["margin"] == {"lower": 0.73, "upper": 1.36}
    assert (result["endpoint"], result["population"], result["reader"]) == (
        "orr-w24",
        "ITT",
        "blinded-central",
    )
    assert set(result) >= {"method", "decision", "arm_n", "responders"}


@pytest.fixture(scope="module")
def sens() -> dict[str, dict[str, Any]]:
    return {r["analysis"]: r for r in sensitivity(ADAM, PROTOCOL)}


def test_sensitivity_per_protocol_and_investigator(sens: dict[str, dict[str, Any]]) -> None:
    _binary(sens["per-protocol"], R["per_protocol"])
    _binary(sens["investigator"], R["investigator"])
    assert sens["per-protocol"]["population"] == "per-protocol"
    assert sens["investigator"]["parameter"] == "RSP24INV"


def test_sensitivity_missing_and_evaluable(sens: dict[str, dict[str, Any]]) -> None:
    assert sens["missing-as-non-response"]["missing"] == R["missing"]
    _binary(sens["missing-as-non-response"], R["primary"])
    _binary(sens["evaluable-only"], R["evaluable_only"])


def test_sensitivity_stratified(sens: dict[str, dict[str, Any]]) -> None:
    s, ref = sens["stratified"], R["stratified"]
    assert s["scale"] == "difference"
    assert s["strata"] == ref["strata"]
    for key in ("estimate", "lower", "upper"):
        close(s[key], ref[key])
    assert s["margin"] == {"lower": -0.12, "upper": 0.15}
    assert s["assessment"]["equivalent"] is ref["equivalent"]


def test_tipping_point_grid(sens: dict[str, dict[str, Any]]) -> None:
    tip = sens["tipping-point"]
    assert tip["missing"] == R["missing"]
    assert len(tip["grid"]) == len(R["tipping_grid"])
    for cell, ref in zip(tip["grid"], R["tipping_grid"], strict=True):
        assert (cell["test_imputed"], cell["reference_imputed"]) == (
            ref["test_imputed"],
            ref["reference_imputed"],
        )
        for key in ("estimate", "lower", "upper"):
            close(cell[key], ref[key])
        assert cell["equivalent"] is ref["equivalent"]
    primary_ok = R["primary"]["equivalent"]
    for row in tip["tipping_points"]:
        flips = [
            g["reference_imputed"]
            for g in R["tipping_grid"]
            if g["test_imputed"] == row["test_imputed"] and g["equivalent"] != primary_ok
        ]
        assert row["reference_imputed"] == (min(flips) if flips else None)


def test_subgroups_match_r() -> None:
    rows = subgroups(ADAM, PROTOCOL)
    key = [(r["subgroup"], r["level"]) for r in rows]
    ref = {(r["subgroup"], r["level"]): r for r in R["subgroups"]}
    assert sorted(key) == sorted(ref)
    for row in rows:
        expected = ref[(row["subgroup"], row["level"])]
        assert row["arm_n"] == expected["arm_n"]
        assert row["responders"] == expected["responders"]
        for k in ("estimate", "lower", "upper"):
            close(row[k], expected[k])
    assert any(r["estimate"] is None for r in rows)  # a level too small for an estimate


@pytest.fixture(scope="module")
def sec() -> dict[str, Any]:
    return secondary(ADAM, PROTOCOL)


@pytest.mark.parametrize("endpoint", ["pfs", "os", "dor"])
def test_kaplan_meier_per_arm(sec: dict[str, Any], endpoint: str) -> None:
    for arm, ref in R[endpoint]["arms"].items():
        got = sec[endpoint]["arms"][arm]
        assert (got["n"], got["events"]) == (ref["n"], ref["events"])
        for k in ("median", "median_lower", "median_upper"):
            close(got[k], ref[k])
        for mark, value in ref["landmarks"].items():
            close(got["landmarks"][mark], value)


@pytest.mark.parametrize("endpoint", ["pfs", "os"])
def test_survival_comparisons(sec: dict[str, Any], endpoint: str) -> None:
    got, ref = sec[endpoint], R[endpoint]
    close(got["logrank"]["pvalue"], ref["logrank_p"])
    assert got["logrank"]["stratified"] and got["cox"]["stratified"]
    close({k: got["cox"][k] for k in ("hr", "lower", "upper")}, ref["cox"])
    close({k: got["rmst"][k] for k in ref["rmst"]}, ref["rmst"])


def test_time_to_response(sec: dict[str, Any]) -> None:
    for arm, ref in R["ttr"].items():
        close(sec["ttr"][arm], ref)


@pytest.mark.parametrize(("key", "ref_key"), [("dcr", "dcr"), ("irecist_orr", "irecist")])
def test_rates(sec: dict[str, Any], key: str, ref_key: str) -> None:
    for arm in ("BIO", "REF"):
        close(sec[key][arm], R[ref_key][arm])
    if key == "irecist_orr":
        close({k: sec[key]["ratio"][k] for k in ("lower", "upper")}, R["irecist"]["ratio"])


def test_tables_and_json(sec: dict[str, Any], sens: dict[str, dict[str, Any]]) -> None:
    results = {
        "primary": primary(ADAM, PROTOCOL),
        "sensitivity": list(sens.values()),
        "secondary": sec,
        "subgroups": subgroups(ADAM, PROTOCOL),
    }
    tables = efficacy_tables(results)
    assert [t.number for t in tables] == [f"14.2.{i}" for i in range(1, 7)]
    text = json.dumps([t.as_json() for t in tables], allow_nan=False, sort_keys=True)
    again = efficacy_tables(results)
    assert json.dumps([t.as_json() for t in again], allow_nan=False, sort_keys=True) == text
    json.dumps(results, allow_nan=False)  # no NaN or infinity anywhere
    first = tables[0].rows[0]
    assert first[3:6] == ("BIO", 30, R["primary"]["responders"]["BIO"])
