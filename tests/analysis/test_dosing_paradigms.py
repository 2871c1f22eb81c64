"""analysis.dosing against R (tests/reference/analysis_pkpro.R: exposure sums, binom.test).
Tolerance 1e-6 relative. The Miettinen-Nurminen difference is stats.difference_ci, itself
tested against R in tests/stats; here only its wiring (sign and groups) is checked."""

from __future__ import annotations

import json

import pytest
from pkpro_support import REFERENCE, build, protocol

from equitrial.analysis.dosing import dosing, dosing_tables

R = REFERENCE
TOL = 1e-6


def test_exposure_by_regimen_matches_r() -> None:
    exp = dosing(build(), protocol())["exposure"]
    for regimen in ("Q3W", "Q6W"):
        ref = R["exposure"][regimen]
        ours = exp[regimen]
        assert ours["subjects"] == ref["subjects"]
        assert ours["infusions_per_patient_year"] == pytest.approx(ref["infusions_per_py"], rel=TOL)
        assert ours["mg_per_patient_year"] == pytest.approx(ref["mg_per_py"], rel=TOL)
        assert ours["mg_per_patient"]["mean"] == pytest.approx(ref["mg_mean"], rel=TOL)
        assert ours["mg_per_patient"]["median"] == pytest.approx(ref["mg_median"], rel=TOL)


def test_outcomes_by_site_type_match_binom_test() -> None:
    access = dosing(build(), protocol())["access"]
    for ours, ref in (
        (access["orr"]["ALL"]["METROPOLITAN"], R["site"]["orr_all_metro"]),
        (access["orr"]["ALL"]["REGIONAL"], R["site"]["orr_all_regional"]),
        (access["grade3_teae"]["REF"]["METROPOLITAN"], R["site"]["g3_ref_metro"]),
    ):
        assert (ours["x"], ours["n"]) == (ref["x"], ref["n"])
        for key in ("estimate", "lower", "upper"):
            assert ours[key] == pytest.approx(ref[key], rel=TOL)
    diff = access["orr"]["ALL"]["difference_metropolitan_regional"]
    metro, regional = R["site"]["orr_all_metro"], R["site"]["orr_all_regional"]
    assert diff["estimate"] == pytest.approx(metro["estimate"] - regional["estimate"], rel=TOL)
    assert diff["lower"] < diff["estimate"] < diff["upper"]
    assert diff["method"] == "miettinen-nurminen"


def test_troughs_by_regimen_come_from_pk_ada() -> None:
    res = dosing(build(), protocol())
    q6w = res["ctrough"][0]["by_regimen"]["Q6W"]["BIO"]["geometric_mean"]["estimate"]
    assert q6w == pytest.approx(R["ctrough"]["half_lloq"]["Q6W"]["BIO"]["gm"], rel=TOL)


def test_deterministic_json_and_tables() -> None:
    a = json.dumps(dosing(build(), protocol()), sort_keys=True)
    assert a == json.dumps(dosing(build(), protocol()), sort_keys=True)
    assert "NaN" not in a
    assert [t.number for t in dosing_tables(json.loads(a))] == ["14.6.1", "14.6.2"]
