"""analysis.pk_ada against R (tests/reference/analysis_pkpro.R: t.test on logs, binom.test).

Tolerance: 1e-6 relative (R's full-precision output).
"""

from __future__ import annotations

import json

import pytest
from pkpro_support import REFERENCE, build, protocol

from equitrial.analysis.pk_ada import pk_ada, pk_ada_tables, steady_state_weeks
from equitrial.errors import InvalidInputError

R = REFERENCE
TOL = 1e-6


def _check_summary(ours: dict, ref: dict) -> None:
    assert ours["n"] == ref["n"]
    gm = ours["geometric_mean"]
    assert gm["estimate"] == pytest.approx(ref["gm"], rel=TOL)
    assert gm["lower"] == pytest.approx(ref["lower"], rel=TOL)
    assert gm["upper"] == pytest.approx(ref["upper"], rel=TOL)
    assert ours["geometric_cv"] == pytest.approx(ref["gcv"], rel=TOL)


def _check_ratio(ours: dict, ref: dict) -> None:
    for key in ("estimate", "lower", "upper"):
        assert ours[key] == pytest.approx(ref[key], rel=TOL)
    assert ours["level"] == 0.90


def test_steady_state_weeks_from_the_protocol() -> None:
    # ctrough-c8 endpoint at week 21; pre-dose PK weeks 0, 3, 21, 51 -> 21 and 51 (>= 16)
    assert steady_state_weeks(protocol()) == [21.0, 51.0]


def test_ctrough_half_lloq_matches_r() -> None:
    res = pk_ada(build(), protocol())
    week21 = res["ctrough"][0]
    assert week21["week"] == 21.0
    ref = R["ctrough"]["half_lloq"]
    _check_summary(week21["overall"]["BIO"], ref["BIO"])
    _check_summary(week21["overall"]["REF"], ref["REF"])
    assert week21["overall"]["REF"]["n_blq"] == 1
    _check_ratio(week21["overall"]["gmr_test_reference"], ref["gmr"])
    for regimen in ("Q3W", "Q6W"):
        block = week21["by_regimen"][regimen]
        _check_summary(block["BIO"], ref[regimen]["BIO"])
        _check_summary(block["REF"], ref[regimen]["REF"])
        _check_ratio(block["gmr_test_reference"], ref[regimen]["gmr"])
    # no trough at week 51 in this study
    assert res["ctrough"][1]["overall"]["BIO"]["n"] == 0


def test_ctrough_exclude_blq_matches_r() -> None:
    res = pk_ada(build(), protocol(), blq="exclude")
    overall = res["ctrough"][0]["overall"]
    _check_summary(overall["REF"], R["ctrough"]["exclude"]["REF"])
    assert overall["REF"]["n_blq"] == 1
    _check_ratio(overall["gmr_test_reference"], R["ctrough"]["exclude"]["gmr"])


def test_ada_incidence_matches_binom_test() -> None:
    ada = pk_ada(build(), protocol())["ada"]
    for arm in ("BIO", "REF"):
        for ours, ref in (
            (ada["incidence"][arm]["treatment_emergent"], R["ada"][arm]["te"]),
            (ada["incidence"][arm]["neutralizing"], R["ada"][arm]["nab"]),
        ):
            assert (ours["x"], ours["n"]) == (ref["x"], ref["n"])
            for key in ("estimate", "lower", "upper"):
                assert ours[key] == pytest.approx(ref[key], rel=TOL)
    neg = ada["orr_by_status"]["REF"]["TE-ADA negative"]
    ref = R["ada"]["orr_ref_negative"]
    assert (neg["x"], neg["n"]) == (ref["x"], ref["n"])
    assert neg["lower"] == pytest.approx(ref["lower"], rel=TOL)
    assert neg["upper"] == pytest.approx(ref["upper"], rel=TOL)


def test_deterministic_json_and_tables() -> None:
    a = json.dumps(pk_ada(build(), protocol()), sort_keys=True)
    b = json.dumps(pk_ada(build(), protocol()), sort_keys=True)
    assert a == b and "NaN" not in a
    tables = pk_ada_tables(json.loads(a))
    assert [t.number for t in tables] == ["14.4.1", "14.4.2"]


def test_bad_input_names_the_field() -> None:
    adam = build()
    with pytest.raises(InvalidInputError) as err:
        pk_ada(adam, protocol(), blq="zero")  # type: ignore[arg-type]
    assert err.value.field == "blq"
    del adam["ADIS"]
    with pytest.raises(InvalidInputError) as err:
        pk_ada(adam, protocol())
    assert err.value.field == "ADIS"
