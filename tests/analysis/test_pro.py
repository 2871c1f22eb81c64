"""analysis.pro against R (tests/reference/analysis_pkpro.R: t.test(var.equal = FALSE),
survfit(conf.type = "log-log") and coxph(ties = "efron")). Tolerance 1e-6 relative."""

from __future__ import annotations

import json

import pytest
from pkpro_support import REFERENCE, build, protocol

from equitrial.analysis.pro import pro, pro_tables, pro_timepoint

R = REFERENCE
TOL = 1e-6


def test_timepoint_from_the_protocol() -> None:
    assert pro_timepoint(protocol()) == 27.0


def test_welch_difference_matches_t_test() -> None:
    res = pro(build(), protocol())
    pf2 = next(d for d in res["difference"] if d["paramcd"] == "PF2")
    ref = R["welch"]
    assert (pf2["n_test"], pf2["n_reference"]) == (ref["n_test"], ref["n_reference"])
    for key in ("estimate", "lower", "upper", "df", "pvalue"):
        assert pf2[key] == pytest.approx(ref[key], rel=TOL)


def test_change_summary_by_visit() -> None:
    res = pro(build(), protocol())
    row = next(r for r in res["change"] if r["paramcd"] == "PF2" and r["week"] == 27)
    chg = [
        c
        for c, a in zip(R["data"]["chg27"], R["data"]["arm"], strict=True)
        if a == "BIO" and c is not None
    ]
    assert row["BIO"]["n"] == len(chg)
    assert row["BIO"]["mean"] == pytest.approx(sum(chg) / len(chg), rel=1e-12)
    assert row["BIO"]["median"] == pytest.approx(sorted(chg)[len(chg) // 2], rel=1e-12)


def test_time_to_deterioration_matches_survival() -> None:
    res = pro(build(), protocol())
    ql2 = next(d for d in res["deterioration"] if d["paramcd"] == "QL2")
    for arm in ("BIO", "REF"):
        ref = R["ttd"][arm]
        assert ql2[arm]["n"] == 10
        assert ql2[arm]["median_days"] == pytest.approx(ref["median"], rel=TOL)
        assert ql2[arm]["lower"] == pytest.approx(ref["lower"], rel=TOL)
        if ref["upper"] is None:
            assert ql2[arm]["upper"] is None
        else:
            assert ql2[arm]["upper"] == pytest.approx(ref["upper"], rel=TOL)
    hr = ql2["hazard_ratio"]
    assert hr["estimate"] == pytest.approx(R["ttd"]["hr"], rel=TOL)
    assert hr["lower"] == pytest.approx(R["ttd"]["lower"], rel=TOL)
    assert hr["upper"] == pytest.approx(R["ttd"]["upper"], rel=TOL)
    # PF2 has no deterioration assessment: every subject censored at day 0, no hazard ratio
    pf2 = next(d for d in res["deterioration"] if d["paramcd"] == "PF2")
    assert pf2["BIO"]["events"] == 0 and pf2["hazard_ratio"] is None


def test_deterministic_json_and_tables() -> None:
    a = json.dumps(pro(build(), protocol()), sort_keys=True)
    assert a == json.dumps(pro(build(), protocol()), sort_keys=True)
    assert "NaN" not in a
    assert [t.number for t in pro_tables(json.loads(a))] == ["14.5.1", "14.5.2", "14.5.3"]
