"""Cox proportional-hazards regression, matching R's ``survival::coxph`` (private module).

The public names are re-exported by :mod:`equitrial.stats.survival`. The numerical core (sorting,
risk-set sums, Efron's correction, the Newton–Raphson iteration) lives in ``_cox_fit``.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from equitrial.errors import ConvergenceWarning, InvalidInputError
from equitrial.stats._validation import check_array, check_level, check_option
from equitrial.stats.survival._counting import check_survival_data, encode_labels
from equitrial.stats.survival._cox_fit import (
    CHOL_TOL,
    FitOutcome,
    SingularInformation,
    newton,
    prepare,
)

__all__ = ["CoxResult", "cox_ph"]

FloatArray = NDArray[np.float64]
Ties = Literal["efron", "breslow"]
_TIES = ("efron", "breslow")


@dataclass(frozen=True, slots=True, eq=False)
class CoxResult:
    """A fitted Cox proportional-hazards model.

    Arrays hold one entry per covariate, in the order of ``names``; they are read-only.

    Attributes
    ----------
    names
        Covariate names: the mapping's keys, or ``"x1", "x2", ...`` for array input.
    coef, se
        Log hazard ratios and their standard errors ``sqrt(diag(variance))``.
    hr, hr_lower, hr_upper
        Hazard ratios ``exp(coef)`` and their Wald confidence limits ``exp(coef -+ z * se)``.
    z, pvalue
        Wald statistics ``coef / se`` and their two-sided p-values.
    level
        The confidence level of ``hr_lower`` and ``hr_upper``.
    variance
        The inverse of the information matrix at ``coef`` (R's ``fit$var``).
    loglik
        Partial log-likelihoods ``(null, fitted)``, at ``coef = 0`` and at ``coef``.
    score_statistic, score_pvalue
        The score (log-rank) test of ``coef = 0`` (R's ``fit$score``), chi-squared on ``df``.
    wald_statistic, wald_pvalue
        The joint Wald test ``coef' variance^-1 coef`` (R's ``fit$wald.test``).
    lr_statistic, lr_pvalue
        The likelihood-ratio test ``2 * (loglik[1] - loglik[0])``.
    df
        Degrees of freedom of the three joint tests: the number of covariates.
    n, n_events
        Subjects and events used.
    iterations
        Newton–Raphson iterations taken (``max_iter`` if it did not converge).
    converged
        Whether the log-likelihood converged within ``max_iter`` iterations.
    ties
        The tie-handling method used.
    """

    names: tuple[str, ...]
    coef: FloatArray
    se: FloatArray
    hr: FloatArray
    hr_lower: FloatArray
    hr_upper: FloatArray
    z: FloatArray
    pvalue: FloatArray
    level: float
    variance: FloatArray
    loglik: tuple[float, float]
    score_statistic: float
    score_pvalue: float
    wald_statistic: float
    wald_pvalue: float
    lr_statistic: float
    lr_pvalue: float
    df: int
    n: int
    n_events: int
    iterations: int
    converged: bool
    ties: str


def cox_ph(
    time: ArrayLike,
    event: ArrayLike,
    covariates: ArrayLike | Mapping[str, ArrayLike],
    *,
    strata: ArrayLike | None = None,
    ties: Ties = "efron",
    level: float = 0.95,
    max_iter: int = 20,
    eps: float = 1e-9,
) -> CoxResult:
    """Fit a Cox proportional-hazards model by maximum partial likelihood.

    Parameters
    ----------
    time : array_like of float, shape (n,)
        Follow-up times, finite and non-negative.
    event : array_like of {0, 1} or bool, shape (n,)
        1 (True) for an event, 0 (False) for a censored time.
    covariates : array_like, shape (n,) or (n, p), or mapping of str to array_like
        The covariates. A mapping keeps its keys as names (so does a pandas ``DataFrame``, by
        its columns); arrays get ``"x1", "x2", ...``.
    strata : array_like, shape (n,), optional
        Stratum labels. Each stratum has its own baseline hazard; risk sets and tied times do
        not cross strata (R's ``strata()`` term).
    ties : {"efron", "breslow"}
        How tied event times enter the partial likelihood. ``"efron"`` is R's default.
    level : float
        Confidence level of the hazard-ratio intervals, in (0, 1).
    max_iter : int
        Maximum Newton–Raphson iterations (R's ``coxph.control(iter.max = 20)``).
    eps : float
        Convergence tolerance on the relative change of the log-likelihood (R's ``eps``).

    Returns
    -------
    CoxResult

    Raises
    ------
    InvalidInputError
        Inputs of different lengths, non-finite values, negative times, ``event`` not 0/1, no
        events, or a covariate that is constant (within strata) or a linear combination of the
        others (the information matrix is singular; R would report ``NA`` for it).
    UnknownOptionError
        ``ties`` is not one of the values listed.

    Warns
    -----
    ConvergenceWarning
        The iteration did not converge within ``max_iter``, or the log-likelihood converged
        while a coefficient kept growing (monotone likelihood: the estimate may be infinite,
        e.g. when every event is in one group). The result is still returned.

    Notes
    -----
    This reproduces ``coxph`` of R's ``survival`` 3.5-3 (``coxph.fit`` and ``coxfit6.c``):
    covariates are centred and scaled (which changes neither the estimates nor the
    log-likelihood), Newton–Raphson starts at 0, a step that lowers the log-likelihood is
    halved back toward the best point, and iteration stops when the relative change of the
    log-likelihood is at most ``eps``. Times closer than ``sqrt(machine epsilon)`` (absolutely
    or relative to the mean absolute time) are treated as tied, as ``coxph``'s ``timefix``
    does, so ``0.1 + 0.2`` and ``0.3`` are one time.

    Differences from R: a singular information matrix at the start raises instead of giving
    ``NA`` coefficients; when the iteration runs out, ``iterations`` is ``max_iter`` (R reports
    ``iter.max + 1``) and ``variance`` is the inverse of the information matrix (R 3.5-3 then
    returns only the reciprocals of its diagonal); a linear predictor above 700 is shifted
    before exponentiation where R would overflow.

    The data are sorted once (by stratum, then time descending); risk-set sums come from
    cumulative sums, sums over tied events from ``np.add.reduceat``, and Efron's terms from
    per-event arrays. One fit costs ``O(n log n)`` for the sort plus ``O(n p^2)`` per iteration.

    References
    ----------
    .. [1] Cox DR (1972). Regression models and life-tables. J R Stat Soc B 34:187–220.
    .. [2] Efron B (1977). The efficiency of Cox's likelihood function for censored data.
       J Am Stat Assoc 72:557–565.
    .. [3] Therneau TM, Grambsch PM (2000). Modeling Survival Data: Extending the Cox Model.
       Springer, ch. 3 (partial likelihood, ties, Newton–Raphson).
    .. [4] Therneau T (2023). survival: A Package for Survival Analysis in R, version 3.5-3.
       ``coxph``, ``coxph.fit`` and ``src/coxfit6.c``.
    """
    ties = check_option(ties, _TIES, "ties")  # type: ignore[assignment]
    level = check_level(level)
    max_iter = _check_max_iter(max_iter)
    eps = _check_eps(eps)
    t, ev = check_survival_data(time, event)
    n = t.size
    names, x = _covariate_matrix(covariates, n)
    codes, n_strata = None, 1
    if strata is not None:
        labels, codes = encode_labels(strata, "strata", n)
        n_strata = len(labels)
    if not ev.any():
        raise InvalidInputError(
            "event has no events (all values are 0); a Cox model needs at least one event",
            field="event",
            expected="at least one 1",
        )
    for name, column in zip(names, x, strict=True):
        if np.ptp(column) == 0:
            raise InvalidInputError(
                f"covariate {name!r} is constant; its coefficient is not identifiable",
                field=name,
                value=float(column[0]),
            )

    centred = x - x.mean(axis=1, keepdims=True)
    scale = 1.0 / np.mean(np.abs(centred), axis=1)
    rs = prepare(t, ev, centred * scale[:, None], codes, n_strata, efron=ties == "efron")
    try:
        fit = newton(rs, max_iter=max_iter, eps=eps)
    except SingularInformation as exc:
        bad_names = ", ".join(repr(names[i]) for i in exc.columns)
        raise InvalidInputError(
            f"the information matrix is singular in covariate(s) {bad_names}: constant within "
            "every stratum or risk set, or a linear combination of the other covariates",
            field=names[exc.columns[0]],
        ) from None
    return _result(fit, names, scale, level=level, eps=eps, n=n, n_events=rs.n_events, ties=ties)


def _result(
    fit: FitOutcome,
    names: tuple[str, ...],
    scale: FloatArray,
    *,
    level: float,
    eps: float,
    n: int,
    n_events: int,
    ties: str,
) -> CoxResult:
    coef = fit.beta * scale
    var = fit.var * np.outer(scale, scale)
    u = fit.u / scale
    coef[fit.singular] = np.nan
    _warn_if_unreliable(fit, names, coef, u, var, eps)
    se = np.sqrt(np.diag(var))
    se[fit.singular] = np.nan
    q = float(stats.norm.ppf(0.5 + level / 2.0))
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        z = coef / se
        hr, hr_lower, hr_upper = np.exp(coef), np.exp(coef - q * se), np.exp(coef + q * se)
    pvalue = stats.chi2.sf(z * z, 1)
    df = int(np.count_nonzero(~fit.singular))
    wald = _wald(coef, var, fit.singular)
    lr = 2.0 * (fit.loglik - fit.loglik0)
    return CoxResult(
        names=names,
        coef=_frozen(coef),
        se=_frozen(se),
        hr=_frozen(hr),
        hr_lower=_frozen(hr_lower),
        hr_upper=_frozen(hr_upper),
        z=_frozen(z),
        pvalue=_frozen(pvalue),
        level=level,
        variance=_frozen(var),
        loglik=(fit.loglik0, fit.loglik),
        score_statistic=fit.score,
        score_pvalue=float(stats.chi2.sf(fit.score, df)),
        wald_statistic=wald,
        wald_pvalue=float(stats.chi2.sf(wald, df)),
        lr_statistic=lr,
        lr_pvalue=float(stats.chi2.sf(lr, df)),
        df=df,
        n=n,
        n_events=n_events,
        iterations=fit.iterations,
        converged=fit.converged,
        ties=ties,
    )


def _warn_if_unreliable(
    fit: FitOutcome,
    names: tuple[str, ...],
    coef: FloatArray,
    u: FloatArray,
    var: FloatArray,
    eps: float,
) -> None:
    """R's checks after ``coxfit6``: out of iterations, or a coefficient that may be infinite."""
    if not fit.converged:
        warnings.warn(
            f"Cox model did not converge in {fit.iterations} iterations; the estimates are "
            "those with the highest partial likelihood found (a coefficient may be infinite)",
            ConvergenceWarning,
            stacklevel=4,
        )
        return
    with np.errstate(invalid="ignore", over="ignore"):
        step = np.abs(u @ var)
        infinite = ~np.isfinite(u) | ((step > eps) & (step > np.sqrt(eps) * np.abs(coef)))
    infinite |= fit.singular
    if infinite.any():
        which = ", ".join(repr(names[i]) for i in np.flatnonzero(infinite))
        warnings.warn(
            f"the partial log-likelihood converged before the coefficient of {which} did; "
            "it may be infinite (monotone likelihood, e.g. all events in one group)",
            ConvergenceWarning,
            stacklevel=4,
        )


def _wald(coef: FloatArray, var: FloatArray, singular: NDArray[np.bool_]) -> float:
    keep = ~singular
    b, v = coef[keep], var[np.ix_(keep, keep)]
    try:
        return float(b @ np.linalg.solve(v, b))
    except np.linalg.LinAlgError:
        return float("nan")


def _frozen(a: NDArray[Any]) -> FloatArray:
    out = np.array(a, dtype=np.float64)
    out.flags.writeable = False
    return out


def _covariate_matrix(
    covariates: ArrayLike | Mapping[str, ArrayLike], n: int
) -> tuple[tuple[str, ...], FloatArray]:
    """Names and a ``(p, n)`` float matrix from a mapping, a data frame or an array."""
    if isinstance(covariates, Mapping) or hasattr(covariates, "columns"):
        table: Any = covariates
        keys = list(table.columns if hasattr(table, "columns") else table)
        names = tuple(str(k) for k in keys)
        if not names or len(set(names)) != len(names):
            raise InvalidInputError(
                f"covariates must name at least one covariate, each once; got {names}",
                field="covariates",
                value=names,
            )
        columns = [
            check_array(table[k], f"covariate {name!r}")
            for k, name in zip(keys, names, strict=True)
        ]
        arr = np.vstack(columns).T if all(c.size == n for c in columns) else None
    else:
        names, arr = (), _numeric_matrix(covariates)
    if arr is None or arr.shape[0] != n:
        raise InvalidInputError(
            f"covariates must have one value per subject ({n}) for every covariate",
            field="covariates",
            expected=f"{n} rows",
        )
    if not names:
        names = tuple(f"x{i + 1}" for i in range(arr.shape[1]))
    return names, np.ascontiguousarray(arr.T)


def _numeric_matrix(covariates: ArrayLike) -> FloatArray:
    try:
        arr = np.asarray(covariates, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidInputError("covariates must be numeric", field="covariates") from None
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[1] == 0:
        raise InvalidInputError(
            f"covariates must have shape (n,) or (n, p) with p >= 1, got {arr.shape}",
            field="covariates",
            value=arr.shape,
        )
    if not np.all(np.isfinite(arr)):
        row, col = (int(v[0]) for v in np.nonzero(~np.isfinite(arr)))
        raise InvalidInputError(
            f"covariates must be finite; row {row}, column {col} is {arr[row, col]!r}",
            field="covariates",
            value=float(arr[row, col]),
        )
    return arr


def _check_max_iter(max_iter: int) -> int:
    if isinstance(max_iter, bool) or not isinstance(max_iter, int | np.integer) or max_iter < 1:
        raise InvalidInputError(
            f"max_iter must be a whole number >= 1, got {max_iter!r}",
            field="max_iter",
            value=max_iter,
            expected=">= 1",
        )
    return int(max_iter)


def _check_eps(eps: float) -> float:
    value = float(eps)
    if not CHOL_TOL < value < 1.0:
        raise InvalidInputError(
            f"eps must lie in ({CHOL_TOL:.3g}, 1), got {eps!r}",
            field="eps",
            value=eps,
            expected=f"{CHOL_TOL:.3g} < eps < 1",
        )
    return value
