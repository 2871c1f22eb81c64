"""equitrial.analysis.monitoring: the beta-binomial safety rules.

Posterior probabilities against R (``tests/reference/analysis_safety.R``: ``pbeta`` for one
arm's tail; ``integrate`` of ``dbeta * pbeta`` for the difference of two arms, cross-checked
there against the closed form for integer parameters), at 1e-6 relative. Counts at each cut are
counted by hand from the table of ``test_safety_data``.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from test_safety_data import adam, protocol

from equitrial.analysis._safety_bayes import posterior, prob_difference_exceeds, prob_exceeds
from equitrial.analysis.monitoring import (
    DEFAULT_RULES,
    SafetyRule,
    evaluate_rule,
    monitoring,
    monitoring_over_time,
)
from equitrial.errors import InvalidInputError

REFERENCE = json.loads(
    (Path(__file__).parents[1] / "reference" / "analysis_safety.json").read_text("utf-8")
)
RTOL = 1e-6


def _tail(a: float, b: float, rate: float) -> float:
    found = [
        t["probability"]
        for t in REFERENCE["tails"]
        if (t["a"], t["b"], t["rate"]) == pytest.approx((a, b, rate), rel=1e-12)
    ]
    assert len(found) == 1, (a, b, rate)
    return float(found[0])


def _difference(a1: float, b1: float, a2: float, b2: float, delta: float) -> float:
    found = [
        t["probability"]
        for t in REFERENCE["difference_probabilities"]
        if (t["a1"], t["b1"], t["a2"], t["b2"], t["delta"])
        == pytest.approx((a1, b1, a2, b2, delta), rel=1e-12)
    ]
    assert len(found) == 1, (a1, b1, a2, b2, delta)
    return float(found[0])


@pytest.mark.parametrize("case", REFERENCE["tails"])
def test_tail_matches_pbeta(case: dict[str, float]) -> None:
    got = prob_exceeds(case["a"], case["b"], case["rate"])
    assert got == pytest.approx(case["probability"], rel=RTOL)


@pytest.mark.parametrize("case", REFERENCE["difference_probabilities"])
def test_difference_matches_integrate(case: dict[str, float]) -> None:
    got = prob_difference_exceeds(case["a1"], case["b1"], case["a2"], case["b2"], case["delta"])
    assert got == pytest.approx(case["probability"], rel=RTOL)


def test_difference_of_uniforms_by_hand() -> None:
    # p1 - p2 of two uniforms has the triangular density on (-1, 1): P(> d) = (1 - d)^2 / 2
    for d in (-0.5, 0.0, 0.3, 0.9):
        expected = (1 - d) ** 2 / 2 if d >= 0 else 1 - (1 + d) ** 2 / 2
        assert prob_difference_exceeds(1, 1, 1, 1, d) == pytest.approx(expected, rel=1e-9)


def test_concentrated_posteriors_are_integrated() -> None:
    # 3000 patients per arm: sd ~ 0.007; the two events cannot both fail
    p = prob_difference_exceeds(600, 2400, 450, 2550, 0.04)
    q = prob_difference_exceeds(450, 2550, 600, 2400, -0.04)
    assert p + q == pytest.approx(1.0, abs=1e-9)
    assert 0.5 < p < 1.0


def _rule(result: dict[str, Any], key: str) -> dict[str, Any]:
    return next(r for r in result["rules"] if r["key"] == key)


def test_all_data_counts_and_probabilities() -> None:
    result = monitoring(adam(), protocol())
    assert (result["cut"], result["test"], result["reference"]) == (None, "BIO", "REF")
    g3 = _rule(result, "grade3-trae")  # S01 | R01 (S06 is outside the safety population)
    assert (g3["n"], g3["events"]) == ({"BIO": 5, "REF": 4}, {"BIO": 1, "REF": 1})
    assert g3["comparison"]["probability"] == pytest.approx(
        _difference(2.7, 12.3, 2.7, 11.3, 0.10), rel=RTOL
    )
    assert g3["arms"]["BIO"]["probability"] == pytest.approx(_tail(2.7, 12.3, 0.30), rel=RTOL)
    assert g3["arms"]["REF"]["probability"] == pytest.approx(_tail(2.7, 11.3, 0.30), rel=RTOL)
    irae = _rule(result, "immune-related")  # S01 S02 | R01 R02
    assert irae["events"] == {"BIO": 2, "REF": 2}
    assert irae["comparison"]["probability"] == pytest.approx(
        _difference(4.3, 10.7, 4.3, 9.7, 0.10), rel=RTOL
    )
    assert irae["arms"]["REF"]["probability"] == pytest.approx(_tail(4.3, 9.7, 0.40), rel=RTOL)
    assert not result["crossed"]
    assert "2/5 (40.0%) on BIO vs 2/4 (50.0%) on REF" in irae["sentence"]
    assert irae["sentence"].endswith("The rule is not crossed.")


def test_cut_keeps_subjects_dosed_and_events_started_by_then() -> None:
    # 2024-02-01: dosed S01 S02 | R01 R02; immune-related S01 (Jan 20), S02 (Jan 19) | R02
    # (Jan 27; R01's is Feb 3); grade >= 3 related: none yet (S01 Feb 9, R01 Feb 3)
    result = monitoring(adam(), protocol(), cut="2024-02-01")
    irae = _rule(result, "immune-related")
    assert (irae["n"], irae["events"]) == ({"BIO": 2, "REF": 2}, {"BIO": 2, "REF": 1})
    assert irae["comparison"]["probability"] == pytest.approx(
        _difference(4.3, 7.7, 3.3, 8.7, 0.10), rel=RTOL
    )
    assert irae["arms"]["BIO"]["probability"] == pytest.approx(_tail(4.3, 7.7, 0.40), rel=RTOL)
    g3 = _rule(result, "grade3-trae")
    assert g3["events"] == {"BIO": 0, "REF": 0}
    assert g3["comparison"]["probability"] == pytest.approx(
        _difference(1.7, 10.3, 1.7, 10.3, 0.10), rel=RTOL
    )


def test_over_time_sorts_cuts_and_repeats_each_look() -> None:
    frames, study = adam(), protocol()
    out = monitoring_over_time(frames, study, ["2024-03-31", dt.date(2024, 2, 1)])
    assert out["cuts"] == ["2024-02-01", "2024-03-31"]
    assert [s["key"] for s in out["series"]] == [r.key for r in DEFAULT_RULES]
    for i, cut in enumerate(out["cuts"]):
        look = monitoring(frames, study, cut=cut)
        for series, rule in zip(out["series"], look["rules"], strict=True):
            point = series["points"][i]
            assert point["probability"] == rule["comparison"]["probability"]
            assert point["events"] == rule["events"]
    json.dumps(out, allow_nan=False)


def test_threshold_boundary() -> None:
    # 45/150 vs 20/150, delta 0.10: R gives 0.8954; crossed at 0.89, not at 0.90
    rule = DEFAULT_RULES[1]
    n, x = {"BIO": 150, "REF": 150}, {"BIO": 45, "REF": 20}
    expected = _difference(46.7, 113.3, 21.7, 138.3, 0.10)
    at_90 = evaluate_rule(rule, x, n, "BIO", "REF")
    assert at_90["comparison"]["probability"] == pytest.approx(expected, rel=RTOL)
    assert not at_90["comparison"]["crossed"]
    lower = SafetyRule(rule.key, rule.label, 0.17, 0.30, threshold=0.89)
    assert evaluate_rule(lower, x, n, "BIO", "REF")["crossed"]


def test_unacceptable_rate_crosses_for_one_arm() -> None:
    # immune-related 70/150 on REF: P(p > 0.40) = 0.9072 (R) > 0.90
    out = evaluate_rule(DEFAULT_RULES[0], {"BIO": 40, "REF": 70}, {"BIO": 150, "REF": 150},
                        "BIO", "REF")  # fmt: skip
    assert out["arms"]["REF"]["probability"] == pytest.approx(_tail(72.3, 87.7, 0.40), rel=RTOL)
    assert out["arms"]["BIO"]["probability"] == pytest.approx(_tail(42.3, 117.7, 0.40), rel=RTOL)
    assert (out["arms"]["REF"]["crossed"], out["arms"]["BIO"]["crossed"]) == (True, False)
    assert out["crossed"] and out["sentence"].endswith("The rule is CROSSED.")


def test_empty_arm_has_no_probability() -> None:
    out = evaluate_rule(DEFAULT_RULES[0], {"BIO": 0, "REF": 0}, {"BIO": 3, "REF": 0}, "BIO", "REF")
    assert out["comparison"] == {"probability": None, "crossed": False}
    assert out["arms"]["REF"] == {"probability": None, "crossed": False}


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"key": "nausea"}, "key"),
        ({"reference_rate": 0.0}, "reference_rate"),
        ({"unacceptable_rate": 1.0}, "unacceptable_rate"),
        ({"delta": -0.1}, "delta"),
        ({"threshold": 1.5}, "threshold"),
        ({"prior_weight": 0.0}, "prior_weight"),
    ],
)
def test_bad_rule_names_the_field(kwargs: dict[str, Any], field: str) -> None:
    args = {"key": "grade3-trae", "label": "x", "reference_rate": 0.17, "unacceptable_rate": 0.3}
    with pytest.raises(InvalidInputError) as info:
        SafetyRule(**(args | kwargs))
    assert info.value.field == field


@pytest.mark.parametrize(
    "change, field",
    [
        (lambda f: f["ADAE"].drop(columns=["IRAECAT"], inplace=True), "ADAE.IRAECAT"),
        (lambda f: f["ADAE"].drop(columns=["ASTDT"], inplace=True), "ADAE.ASTDT"),
        (lambda f: f["ADSL"].drop(columns=["TRTSDT"], inplace=True), "ADSL.TRTSDT"),
        (lambda f: f.pop("ADSL"), "ADSL"),
    ],
)
def test_bad_frames_name_the_field(change: Any, field: str) -> None:
    frames = adam()
    change(frames)
    with pytest.raises(InvalidInputError) as info:
        monitoring(frames, protocol())
    assert info.value.field == field


def test_bad_cuts() -> None:
    with pytest.raises(InvalidInputError) as info:
        monitoring(adam(), protocol(), cut="1 Feb 2024")
    assert info.value.field == "cut"
    with pytest.raises(InvalidInputError) as info:
        monitoring_over_time(adam(), protocol(), [])
    assert info.value.field == "cuts"
    with pytest.raises(InvalidInputError) as info:
        monitoring_over_time(adam(), protocol(), ["2024-02-01", "soon"])
    assert info.value.field == "cuts[1]"


def test_posterior_refuses_more_events_than_subjects() -> None:
    with pytest.raises(InvalidInputError) as info:
        posterior(1.0, 1.0, 5, 4)
    assert info.value.field == "events"
