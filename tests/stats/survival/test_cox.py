"""Cox proportional hazards: R reference values, a loop oracle, properties and input checks.

Reference values come from ``tests/reference/survival_cox.R`` (R 4.2.2, survival 3.5-3), which
wrote ``survival_cox.json`` with the data of every fit, so these tests need no R. Tolerance
against R: ``rtol = 1e-6`` on every quantity (the fits agree to about 1e-13 in practice).
"""

from __future__ import annotations

import dataclasses
import json
import math
import time as clock
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray
from scipy import stats

from equitrial.errors import ConvergenceWarning, InvalidInputError, UnknownOptionError
from equitrial.stats.survival import CoxResult, cox_ph
from equitrial.stats.survival._cox_fit import evaluate, prepare

RTOL = 1e-6  # against R's full-precision output
REFERENCE = json.loads(
    (Path(__file__).parents[2] / "reference" / "survival_cox.json").read_text(encoding="utf-8")
)
FITS = {fit["name"]: fit for fit in REFERENCE["fits"]}


def _close(actual: Any, expected: Any, what: str) -> None:
    np.testing.assert_allclose(
        np.asarray(actual, dtype=float),
        np.asarray(expected, dtype=float),
        rtol=RTOL,
        atol=0,
        err_msg=what,
    )


def _fit_reference(fit: dict[str, Any]) -> CoxResult:
    data = REFERENCE["datasets"][fit["dataset"]]
    return cox_ph(
        data["time"],
        data["event"],
        {name: data[name] for name in fit["covariates"]},
        strata=None if fit["strata"] is None else data[fit["strata"]],
        ties=fit["ties"],
        max_iter=fit["iter_max"],
    )


# ---- R reference values ------------------------------------------------------------------------


@pytest.mark.parametrize("name", [n for n, f in FITS.items() if not f["warnings"]])
def test_matches_r_coxph(name: str) -> None:
    fit = FITS[name]
    res = _fit_reference(fit)
    assert res.names == tuple(fit["covariates"])
    for attr, key in [
        ("coef", "coef"), ("se", "se"), ("hr", "hr"), ("hr_lower", "hr_lower"),
        ("hr_upper", "hr_upper"), ("z", "z"), ("pvalue", "pvalue"), ("variance", "var"),
        ("loglik", "loglik"), ("score_statistic", "score"), ("score_pvalue", "score_pvalue"),
        ("wald_statistic", "wald_test"), ("wald_pvalue", "wald_pvalue"),
        ("lr_statistic", "lr_test"), ("lr_pvalue", "lr_pvalue"),
    ]:  # fmt: skip
        _close(getattr(res, attr), fit[key], f"{name}: {attr}")
    assert (res.n, res.n_events, res.df) == (fit["n"], fit["nevent"], fit["df"])
    assert res.iterations == fit["iter"]
    assert res.converged
    assert res.ties == fit["ties"]


def test_monotone_likelihood_warns_and_matches_r() -> None:
    # R: "Loglik converged before variable 1; coefficient may be infinite."
    fit = FITS["monotone_grp"]
    with pytest.warns(ConvergenceWarning, match="'grp'.*may be infinite"):
        res = _fit_reference(fit)
    for attr, key in [
        ("coef", "coef"),
        ("se", "se"),
        ("loglik", "loglik"),
        ("score_statistic", "score"),
        ("lr_statistic", "lr_test"),
        ("wald_statistic", "wald_test"),
        ("hr_upper", "hr_upper"),
    ]:
        _close(getattr(res, attr), fit[key], f"monotone_grp: {attr}")
    assert res.iterations == fit["iter"]
    assert res.converged  # the log-likelihood did converge; the coefficient did not
    assert res.coef[0] > 20 and np.isinf(res.hr_upper[0])


@pytest.mark.parametrize("name", ["lung_iter2", "monotone_grp_w", "monotone_tiny_info"])
def test_out_of_iterations_warns_and_matches_r(name: str) -> None:
    # R: "Ran out of iterations and did not converge". R 3.5-3 then reports iter.max + 1
    # iterations and a variance of 1/diag(information) (it inverts the unfactored matrix), so
    # only the estimates, log-likelihoods and score test are compared; we return the inverse.
    fit = FITS[name]
    with pytest.warns(ConvergenceWarning, match="did not converge in"):
        res = _fit_reference(fit)
    for attr, key in [
        ("coef", "coef"),
        ("loglik", "loglik"),
        ("score_statistic", "score"),
        ("score_pvalue", "score_pvalue"),
        ("lr_statistic", "lr_test"),
    ]:
        _close(getattr(res, attr), fit[key], f"{name}: {attr}")
    assert not res.converged
    assert res.iterations == fit["iter_max"] == fit["iter"] - 1
    np.testing.assert_allclose(np.diag(res.variance), res.se**2)


def test_monotone_likelihood_with_tiny_information_matches_r() -> None:
    # time 1, 2, 3; event 1, 0, 0; x 1, 0.99, 0. R: coef 1527.654, se 207,614 (information
    # about 2e-11), after running out of iterations. Computing the information as
    # s2 / s0 - (s1 / s0)^2 from products of risk-set sums underflowed (1 / s0^2 = 0 once
    # exp(eta) is ~1e165) and stopped at coef 1127.65, se 2.97. With one covariate R's
    # 1 / diag(information) is the inverse, so the se is compared too. The last Newton steps
    # are driven by an information known to ~1e-5 relative (the cancellation of ~1 - 1 to
    # 2e-11), so the path matches R's to rel 2e-7, not to the last digit: rtol 1e-6.
    fit = FITS["monotone_tiny_info"]
    with pytest.warns(ConvergenceWarning, match="did not converge in 20 iterations"):
        res = _fit_reference(fit)
    for attr, key in [
        ("coef", "coef"),
        ("se", "se"),
        ("z", "z"),
        ("pvalue", "pvalue"),
        ("loglik", "loglik"),
        ("lr_statistic", "lr_test"),
        ("wald_statistic", "wald_test"),
    ]:
        _close(getattr(res, attr), fit[key], f"monotone_tiny_info: {attr}")
    assert not res.converged
    assert fit["warnings"] == [
        "Ran out of iterations and did not converge",
        "one or more coefficients may be infinite",
    ]


def test_out_of_iterations_variance_is_the_inverse_information() -> None:
    # Two iterations from 0 land within 1e-4 of the converged estimate on lung, so the inverse
    # information there must be close to the converged variance (R's diagonal is not).
    with pytest.warns(ConvergenceWarning):
        res = _fit_reference(FITS["lung_iter2"])
    converged = FITS["lung_multi_efron"]
    scale = np.outer(converged["se"], converged["se"])  # compare on the correlation scale
    np.testing.assert_allclose(res.variance / scale, np.divide(converged["var"], scale), atol=1e-3)
    assert abs(res.variance[0, 2]) > 0.1 * math.sqrt(res.variance[0, 0] * res.variance[2, 2])


def test_near_equal_times_are_tied_as_in_r() -> None:
    # 0.1 + 0.2 and 0.3 differ in the last bit; coxph's timefix ties them (the reference above
    # passes only because of that). Rounding the times gives the identical fit.
    data = REFERENCE["datasets"]["near_ties"]
    exact = cox_ph(data["time"], data["event"], data["x"])
    rounded = cox_ph(np.round(data["time"], 6), data["event"], data["x"])
    np.testing.assert_allclose(exact.coef, rounded.coef, rtol=1e-14)
    np.testing.assert_allclose(exact.loglik, rounded.loglik, rtol=1e-14)


# ---- a slow, obviously correct oracle on seeded random data -----------------------------------


def _oracle_loglik(
    time: list[float],
    event: list[int],
    x: list[list[float]],
    strata: list[int],
    beta: list[float],
    ties: str,
) -> float:
    """The partial log-likelihood, one stratum and one event time at a time.

    For an event time with ``d`` tied events, total risk ``R`` and risk of the tied events
    ``D``, Breslow subtracts ``d log R`` and Efron ``sum_j log(R - j/d D)``, j = 0..d-1
    (Therneau & Grambsch 2000, sec. 3.3).
    """
    eta = [sum(b * v for b, v in zip(beta, row, strict=True)) for row in x]
    total = 0.0
    for s in sorted(set(strata)):
        members = [i for i in range(len(time)) if strata[i] == s]
        for t in sorted({time[i] for i in members if event[i]}):
            deaths = [i for i in members if time[i] == t and event[i]]
            risk = sum(math.exp(eta[i]) for i in members if time[i] >= t)
            tied = sum(math.exp(eta[i]) for i in deaths)
            d = len(deaths)
            for j, i in enumerate(deaths):
                total += eta[i]
                total -= math.log(risk - j / d * tied if ties == "efron" else risk)
    return total


def _random_data(seed: int, stratified: bool) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    n = 50
    x = np.column_stack([rng.normal(size=n), rng.integers(0, 2, n), rng.exponential(size=n)])
    strata = np.unique(rng.integers(0, 3, n), return_inverse=True)[1] if stratified else None
    return {
        "time": rng.integers(1, 12, n).astype(float),  # about 5 events per distinct time
        "event": rng.random(n) < 0.7,
        "x": x,
        "strata": strata,
        "beta": rng.normal(scale=0.7, size=3),
    }


def _oracle(data: dict[str, Any], beta: NDArray[np.float64], ties: str) -> float:
    strata = data["strata"] if data["strata"] is not None else np.zeros(len(data["time"]), int)
    return _oracle_loglik(
        data["time"].tolist(),
        data["event"].astype(int).tolist(),
        data["x"].tolist(),
        strata.tolist(),
        beta.tolist(),
        ties,
    )


@pytest.mark.parametrize("ties", ["efron", "breslow"])
@pytest.mark.parametrize("stratified", [False, True])
@pytest.mark.parametrize("seed", range(6))
def test_vectorized_loglik_score_information_match_loop_oracle(
    seed: int, stratified: bool, ties: str
) -> None:
    data = _random_data(seed, stratified)
    strata = data["strata"]
    n_strata = 1 if strata is None else int(strata.max()) + 1
    rs = prepare(
        data["time"], data["event"], data["x"].T.copy(), strata, n_strata, efron=ties == "efron"
    )
    beta = data["beta"]
    loglik, score, information = evaluate(rs, beta)
    assert loglik == pytest.approx(_oracle(data, beta, ties), rel=1e-12)

    h = 1e-4  # central differences of the oracle: error O(h^2) relative
    eye = np.eye(beta.size) * h
    grad = np.array(
        [(_oracle(data, beta + e, ties) - _oracle(data, beta - e, ties)) / (2 * h) for e in eye]
    )
    np.testing.assert_allclose(score, grad, rtol=1e-6, atol=1e-7)
    hess = np.array(
        [
            [
                (
                    _oracle(data, beta + a + b, ties)
                    - _oracle(data, beta + a - b, ties)
                    - _oracle(data, beta - a + b, ties)
                    + _oracle(data, beta - a - b, ties)
                )
                / (4 * h * h)
                for b in eye
            ]
            for a in eye
        ]
    )
    np.testing.assert_allclose(information, -hess, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("ties", ["efron", "breslow"])
@pytest.mark.parametrize("seed", range(3))
def test_fit_maximizes_the_oracle_likelihood(seed: int, ties: str) -> None:
    data = _random_data(seed, stratified=True)
    res = cox_ph(data["time"], data["event"], data["x"], strata=data["strata"], ties=ties)
    assert res.loglik[0] == pytest.approx(_oracle(data, np.zeros(3), ties), rel=1e-12)
    assert res.loglik[1] == pytest.approx(_oracle(data, res.coef, ties), rel=1e-12)
    for k in range(3):  # no coordinate step improves on the fit
        for h in (1e-3, -1e-3):
            step = np.zeros(3)
            step[k] = h
            assert _oracle(data, res.coef + step, ties) < res.loglik[1]


# ---- properties ---------------------------------------------------------------------------------


def _lung() -> dict[str, NDArray[Any]]:
    return {k: np.asarray(v) for k, v in REFERENCE["datasets"]["lung"].items()}


def test_contract_attributes_exist() -> None:
    lung = _lung()
    res = cox_ph(lung["time"], lung["event"], lung["age"])
    for attr in (
        "coef",
        "se",
        "hr",
        "hr_lower",
        "hr_upper",
        "loglik",
        "score_statistic",
        "wald_pvalue",
    ):
        assert hasattr(res, attr)
    assert isinstance(res.loglik, tuple) and len(res.loglik) == 2


def test_names_from_mapping_data_frame_and_arrays() -> None:
    pd = pytest.importorskip("pandas")
    lung = _lung()
    by_map = cox_ph(lung["time"], lung["event"], {"age": lung["age"], "sex": lung["sex"]})
    frame = pd.DataFrame({"age": lung["age"], "sex": lung["sex"]})
    by_frame = cox_ph(lung["time"], lung["event"], frame)
    by_array = cox_ph(lung["time"], lung["event"], np.column_stack([lung["age"], lung["sex"]]))
    one = cox_ph(lung["time"], lung["event"], lung["age"])
    assert by_map.names == by_frame.names == ("age", "sex")
    assert by_array.names == ("x1", "x2") and one.names == ("x1",)
    np.testing.assert_array_equal(by_map.coef, by_array.coef)
    np.testing.assert_array_equal(by_map.coef, by_frame.coef)


def test_result_is_frozen_and_read_only() -> None:
    lung = _lung()
    res = cox_ph(lung["time"], lung["event"], lung["age"])
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.coef = np.zeros(1)  # type: ignore[misc]
    with pytest.raises(ValueError, match="read-only"):
        res.coef[0] = 0.0


def test_subject_order_does_not_matter() -> None:
    lung = _lung()
    perm = np.random.default_rng(3).permutation(lung["time"].size)
    cov = np.column_stack([lung["age"], lung["ph.ecog"]])
    a = cox_ph(lung["time"], lung["event"], cov, strata=lung["sex"])
    b = cox_ph(lung["time"][perm], lung["event"][perm], cov[perm], strata=lung["sex"][perm])
    np.testing.assert_allclose(a.coef, b.coef, rtol=1e-12)
    np.testing.assert_allclose(a.variance, b.variance, rtol=1e-12)
    np.testing.assert_allclose(a.loglik, b.loglik, rtol=1e-13)


def test_linear_change_of_covariate_rescales_coefficient_only() -> None:
    lung = _lung()
    a = cox_ph(lung["time"], lung["event"], lung["age"])
    b = cox_ph(lung["time"], lung["event"], lung["age"] / 10 + 3)
    np.testing.assert_allclose(b.coef, a.coef * 10, rtol=1e-12)
    np.testing.assert_allclose(b.se, a.se * 10, rtol=1e-12)
    np.testing.assert_allclose(b.loglik, a.loglik, rtol=1e-13)
    assert b.score_statistic == pytest.approx(a.score_statistic, rel=1e-12)
    np.testing.assert_allclose(b.hr_lower, a.hr_lower**10, rtol=1e-10)


def test_without_ties_efron_equals_breslow() -> None:
    rng = np.random.default_rng(11)
    t = rng.exponential(size=200)
    e = rng.random(200) < 0.8
    x = rng.normal(size=200)
    efron, breslow = cox_ph(t, e, x), cox_ph(t, e, x, ties="breslow")
    np.testing.assert_allclose(efron.coef, breslow.coef, rtol=1e-13)
    np.testing.assert_allclose(efron.loglik, breslow.loglik, rtol=1e-13)


def test_strata_add_separate_null_log_likelihoods() -> None:
    lung = _lung()
    both = cox_ph(lung["time"], lung["event"], lung["age"], strata=lung["sex"])
    parts = [
        cox_ph(lung["time"][m], lung["event"][m], lung["age"][m]).loglik[0]
        for m in (lung["sex"] == 1, lung["sex"] == 2)
    ]
    assert both.loglik[0] == pytest.approx(sum(parts), rel=1e-13)


def test_strata_without_events_or_with_one_subject_change_nothing() -> None:
    lung = _lung()
    base = cox_ph(lung["time"], lung["event"], lung["age"], strata=lung["sex"])
    time = np.concatenate([lung["time"], [5.0, 50.0, 500.0, 7.0]])
    event = np.concatenate([lung["event"], [0, 0, 0, 1]])
    age = np.concatenate([lung["age"], [40.0, 60.0, 80.0, 70.0]])
    strata = np.concatenate([lung["sex"], [3, 3, 3, 4]])  # 3: all censored; 4: one subject
    more = cox_ph(time, event, age, strata=strata)
    np.testing.assert_allclose(more.coef, base.coef, rtol=1e-12)
    np.testing.assert_allclose(more.loglik, base.loglik, rtol=1e-13)
    assert more.n_events == base.n_events + 1


def test_bool_events_and_string_strata() -> None:
    vet = REFERENCE["datasets"]["veteran"]
    fit = FITS["veteran_strata_celltype"]
    res = cox_ph(
        np.asarray(vet["time"]),
        np.asarray(vet["event"]) == 1,
        {k: vet[k] for k in fit["covariates"]},
        strata=vet["celltype"],
    )
    _close(res.coef, fit["coef"], "coef")


def test_level_sets_the_interval() -> None:
    lung = _lung()
    res = cox_ph(lung["time"], lung["event"], lung["age"], level=0.9)
    q = stats.norm.ppf(0.95)
    np.testing.assert_allclose(res.hr_lower, np.exp(res.coef - q * res.se), rtol=1e-14)
    np.testing.assert_allclose(res.hr_upper, np.exp(res.coef + q * res.se), rtol=1e-14)
    assert res.level == 0.9


def test_all_events_in_one_group_warns() -> None:
    t = np.arange(1.0, 21.0)
    g = (t <= 10).astype(float)
    e = g.copy()  # events only in group 1, all before any time in group 0
    with pytest.warns(ConvergenceWarning, match="may be infinite"):
        res = cox_ph(t, e, {"arm": g})
    assert res.coef[0] > 10


# ---- input checks -------------------------------------------------------------------------------


def test_unknown_ties_option() -> None:
    with pytest.raises(UnknownOptionError, match="ties"):
        cox_ph([1, 2, 3], [1, 0, 1], [0, 1, 0], ties="exact")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"time": [1, 2]}, "same length"),
        ({"time": [1, np.nan, 3, 4]}, "finite"),
        ({"time": [1, -2, 3, 4]}, "non-negative"),
        ({"event": [1, 2, 0, 1]}, "0 \\(censored\\) or 1"),
        ({"event": [0, 0, 0, 0]}, "no events"),
        ({"covariates": [0.1, 0.2, 0.3]}, "one value per subject"),
        ({"covariates": [0.1, np.inf, 0.3, 0.4]}, "finite"),
        ({"covariates": np.zeros((4, 2, 2))}, "shape"),
        ({"covariates": {}}, "at least one covariate"),
        ({"covariates": {"a": [1, 2, 3, 4], "b": [1, 2, 3]}}, "one value per subject"),
        ({"strata": [1, 2, np.nan, 1]}, "NaN"),
        ({"strata": [1, 2, 1]}, "one entry per subject"),
        ({"level": 1.5}, "level"),
        ({"max_iter": 0}, "max_iter"),
        ({"eps": 0.0}, "eps"),
    ],
)
def test_invalid_input(kwargs: dict[str, Any], match: str) -> None:
    args: dict[str, Any] = {
        "time": [1, 2, 3, 4],
        "event": [1, 0, 1, 1],
        "covariates": [0.5, 1.5, -0.2, 0.9],
    }
    args.update(kwargs)
    with pytest.raises(InvalidInputError, match=match):
        cox_ph(args.pop("time"), args.pop("event"), args.pop("covariates"), **args)


def test_constant_covariate_is_named() -> None:
    lung = _lung()
    with pytest.raises(InvalidInputError, match="'site' is constant") as info:
        cox_ph(lung["time"], lung["event"], {"age": lung["age"], "site": np.ones(226)})
    assert info.value.field == "site"


def test_collinear_covariate_is_named() -> None:
    lung = _lung()
    with pytest.raises(InvalidInputError, match="singular in covariate\\(s\\) 'age10'"):
        cox_ph(lung["time"], lung["event"], {"age": lung["age"], "age10": lung["age"] * 10})


def test_covariate_constant_within_strata_is_named() -> None:
    lung = _lung()
    with pytest.raises(InvalidInputError, match="'sex'"):
        cox_ph(
            lung["time"],
            lung["event"],
            {"age": lung["age"], "sex": lung["sex"]},
            strata=lung["sex"],
        )


# ---- scale (run with -m slow; prints, asserts nothing about time) ------------------------------


@pytest.mark.slow
def test_one_million_subjects_heavily_tied(capsys: pytest.CaptureFixture[str]) -> None:
    # The data shape of shared/reference/benchmarks.md: times rounded to 0.1, uniform censoring.
    rng = np.random.default_rng(1)
    n = 1_000_000
    g = rng.binomial(1, 0.5, n)
    t = np.round(rng.exponential(10 * (1 + 0.1 * g)), 1) + 0.1
    c = rng.uniform(0, 30, n)
    e = t <= c
    t = np.minimum(t, c)
    for ties in ("efron", "breslow"):
        start = clock.perf_counter()
        res = cox_ph(t, e, g, ties=ties)
        elapsed = clock.perf_counter() - start
        assert res.converged
        assert res.hr_lower[0] < 1 / 1.1 < res.hr_upper[0]
        with capsys.disabled():
            print(
                f"\ncox_ph({ties}) on 1e6 subjects: {elapsed:.2f} s, "
                f"coef {res.coef[0]:.6f}, {res.iterations} iterations"
            )
