"""equitrial.stats.proportions against R: tests/reference/proportions.R -> proportions.json.

Each block of the JSON sits under the R call that produced it (its "calls" field). Tolerance:
1e-6 relative against R's full-precision output (jsonlite writes 15 significant digits), with an
absolute floor of 1e-12 for limits at or near 0.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from equitrial.stats.proportions import (
    binomial_ci,
    cmh_test,
    difference_ci,
    ratio_ci,
    stratified_difference_ci,
)

REF = json.loads((Path(__file__).parents[1] / "reference" / "proportions.json").read_text())
RTOL = 1e-6
ATOL = 1e-12


def _num(value: Any) -> float:
    """jsonlite's na = "string" writes Inf as "Inf", NA as "NA" and NaN as "NaN"."""
    if isinstance(value, str):
        return {"Inf": math.inf, "-Inf": -math.inf, "NA": math.nan, "NaN": math.nan}[value]
    return float(value)


def _close(got: float, want: Any) -> bool:
    w = _num(want)
    if math.isinf(w) or math.isnan(w):
        return got == w or (math.isnan(w) and math.isnan(got))
    return got == pytest.approx(w, rel=RTOL, abs=ATOL)


def _case_id(case: dict[str, Any]) -> str:
    if "x" in case:
        return f"{case['x']}/{case['n']}@{case['level']}"
    return f"{case['x1']}/{case['n1']}-{case['x2']}/{case['n2']}@{case['level']}"


SINGLE = REF["single"]
TWO = REF["two"]
STRATA = REF["strata"]
BINOMIAL_METHODS = ["clopper-pearson", "wilson", "wilson-cc", "jeffreys", "agresti-coull"]
DIFFERENCE_METHODS = ["miettinen-nurminen", "newcombe", "wald", "agresti-caffo"]


@pytest.mark.parametrize("case", SINGLE, ids=[_case_id(c) for c in SINGLE])
@pytest.mark.parametrize("method", BINOMIAL_METHODS)
def test_binomial_ci_matches_r(case: dict[str, Any], method: str) -> None:
    # clopper-pearson: binom.test; wilson(-cc): prop.test(correct = FALSE/TRUE);
    # jeffreys: qbeta with the Brown-Cai-DasGupta boundary convention; agresti-coull: formula
    res = binomial_ci(case["x"], case["n"], level=case["level"], method=method)  # type: ignore[arg-type]
    lower, upper = case[method]
    assert _close(res.lower, lower)
    assert _close(res.upper, upper)
    assert res.estimate == case["x"] / case["n"]


@pytest.mark.parametrize("case", TWO, ids=[_case_id(c) for c in TWO])
@pytest.mark.parametrize("method", DIFFERENCE_METHODS)
def test_difference_ci_matches_r(case: dict[str, Any], method: str) -> None:
    # miettinen-nurminen: independent R implementation (uniroot on the score, restricted MLE by
    # uniroot on the constrained likelihood equation); newcombe: from prop.test's Wilson limits
    res = difference_ci(
        case["x1"],
        case["n1"],
        case["x2"],
        case["n2"],
        level=case["level"],
        method=method,  # type: ignore[arg-type]
    )
    lower, upper = case["difference"][method]
    assert _close(res.lower, lower)
    assert _close(res.upper, upper)


@pytest.mark.parametrize("case", TWO, ids=[_case_id(c) for c in TWO])
def test_ratio_ci_mn_matches_independent_r_implementation(case: dict[str, Any]) -> None:
    res = ratio_ci(case["x1"], case["n1"], case["x2"], case["n2"], level=case["level"])
    lower, upper = case["ratio"]["miettinen-nurminen"]
    assert _close(res.lower, lower)
    assert _close(res.upper, upper)


@pytest.mark.parametrize("case", TWO, ids=[_case_id(c) for c in TWO])
def test_ratio_ci_log_matches_epir_epi_2by2_wald(case: dict[str, Any]) -> None:
    # epi.2by2(..., method = "cohort.count")$massoc.detail$RR.strata.wald, on the table with 0.5
    # added to each cell when x1 or x2 is 0; both zero: nan estimate, (0, inf)
    res = ratio_ci(
        case["x1"], case["n1"], case["x2"], case["n2"], level=case["level"], method="log"
    )
    lower, upper = case["ratio"]["log"]
    assert _close(res.estimate, case["ratio"]["log_estimate"])
    assert _close(res.lower, lower)
    assert _close(res.upper, upper)


@pytest.mark.parametrize("case", STRATA, ids=[c["name"] for c in STRATA])
@pytest.mark.parametrize("level", [0.9, 0.95])
def test_stratified_difference_matches_independent_r_implementation(
    case: dict[str, Any], level: float
) -> None:
    res = stratified_difference_ci(case["x1"], case["n1"], case["x2"], case["n2"], level=level)
    want = case[f"mn_cmh_{level:g}"]
    assert _close(res.estimate, want["estimate"])
    assert _close(res.lower, want["ci"][0])
    assert _close(res.upper, want["ci"][1])


@pytest.mark.parametrize(
    "case", [c for c in STRATA if "epiR_mh_risk_difference" in c], ids=lambda c: c["name"]
)
def test_stratified_estimate_is_epir_mantel_haenszel_risk_difference(case: dict[str, Any]) -> None:
    # epi.2by2(arr, method = "cohort.count", units = 1)$massoc.detail$ARisk.mh.wald$est
    res = stratified_difference_ci(case["x1"], case["n1"], case["x2"], case["n2"])
    assert _close(res.estimate, case["epiR_mh_risk_difference"])


@pytest.mark.parametrize("case", [c for c in STRATA if "cmh" in c], ids=lambda c: c["name"])
@pytest.mark.parametrize("correct", [False, True])
def test_cmh_test_matches_r_mantelhaen_test(case: dict[str, Any], correct: bool) -> None:
    # mantelhaen.test(array(rbind(x1, x2, n1 - x1, n2 - x2), c(2, 2, K)), correct = correct)
    res = cmh_test(case["x1"], case["n1"], case["x2"], case["n2"], correct=correct)
    want = case["cmh_correct" if correct else "cmh"]
    assert res.df == 1
    assert res.correct is correct
    assert _close(res.statistic, want["statistic"])
    assert _close(res.pvalue, want["pvalue"])
    assert _close(res.odds_ratio, want["odds_ratio"])
    for level, key in [(0.95, "ci_95"), (0.9, "ci_90")]:
        ci = res.confidence_interval(level)
        if math.isnan(_num(want[key][0])):
            # R's Robins-Breslow-Greenland interval is NaN when the MH odds ratio is 0 or inf
            # (its variance divides by 0); ours is then the documented (0, inf)
            assert math.isinf(res.odds_ratio) or res.odds_ratio == 0.0
            assert (ci.lower, ci.upper) == (0.0, math.inf)
        else:
            assert _close(ci.lower, want[key][0])
            assert _close(ci.upper, want[key][1])


def test_cmh_one_stratum_matches_r_pearson_chisq_and_woolf_interval() -> None:
    # R's mantelhaen.test refuses K = 1; then CMH = (N - 1)/N * chisq.test(tab, correct = FALSE)
    # and the MH odds ratio with its RBG interval is epi.2by2's Woolf (OR.strata.wald) interval
    (case,) = [c for c in STRATA if "pearson_chisq_times_n_minus_1_over_n" in c]
    res = cmh_test(case["x1"], case["n1"], case["x2"], case["n2"])
    assert _close(res.statistic, case["pearson_chisq_times_n_minus_1_over_n"])
    ci = res.confidence_interval()
    assert _close(res.odds_ratio, case["woolf_odds_ratio"]["estimate"])
    assert _close(ci.lower, case["woolf_odds_ratio"]["ci_95"][0])
    assert _close(ci.upper, case["woolf_odds_ratio"]["ci_95"][1])
