"""Response-rate comparisons of the efficacy analyses: primary, sensitivity and subgroups.

Private to :mod:`equitrial.analysis.efficacy`; the intervals come from
:mod:`equitrial.stats.proportions`, the decisions from :func:`equitrial.stats.equivalence.assess`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from equitrial.analysis._efficacy_data import (
    READER_SUFFIX,
    Arms,
    arms_of,
    clean,
    column,
    counts,
    dataset,
    evaluable_missing,
    parameter_values,
    population,
    secondary_difference_hypothesis,
)
from equitrial.errors import InvalidInputError
from equitrial.protocol import Protocol
from equitrial.stats._proportions_mn import mn_difference_limits, mn_ratio_limits
from equitrial.stats.equivalence import Margin, assess
from equitrial.stats.proportions import (
    Interval,
    difference_ci,
    ratio_ci,
    stratified_difference_ci,
)

__all__ = ["Comparison", "ResponseData", "avalc", "compare", "response_data", "result_dict"]


@dataclass(frozen=True)
class Comparison:
    """How two response rates are compared: scale, interval method, level, margin (optional)."""

    scale: str
    method: str
    level: float
    margin: Margin | None


@dataclass(frozen=True)
class ResponseData:
    """The subjects of one analysis: ADSL rows, responder flags, arm codes, and the context."""

    subjects: pd.DataFrame
    responder: pd.Series
    arm: pd.Series
    arms: Arms
    endpoint: str
    population: str
    reader: str
    paramcd: str


def response_data(
    adam: Mapping[str, pd.DataFrame],
    protocol: Protocol,
    *,
    population_name: str | None = None,
    review: str | None = None,
    stem: str = "RSP24",
) -> ResponseData:
    """The primary endpoint's responders (ADRS ``stem`` + reader suffix ``= "Y"``) per subject.

    A subject of the population without the parameter's record is a non-responder (ITT: no
    evaluable response counts as no response).
    """
    endpoint = protocol.primary_endpoint
    adsl, adrs = dataset(adam, "ADSL"), dataset(adam, "ADRS")
    arms = arms_of(adsl, protocol)
    pop_name = population_name or endpoint.estimand.population
    subjects = population(adsl, pop_name)
    reader = review or endpoint.review or "blinded-central"
    paramcd = stem + READER_SUFFIX[reader]
    values = avalc(adrs, paramcd)
    responder = (subjects["USUBJID"].map(values) == "Y").astype(bool)
    arm = subjects["USUBJID"].map(arms.code)
    return ResponseData(subjects, responder, arm, arms, endpoint.id, pop_name, reader, paramcd)


def avalc(adrs: pd.DataFrame, paramcd: str) -> pd.Series:
    """AVALC of one ADRS parameter by USUBJID; an error naming it if ADRS has no such record."""
    column(adrs, "ADRS", "USUBJID", "PARAMCD", "AVALC")
    rows = parameter_values(adrs, "ADRS", paramcd)
    if rows.empty:
        raise InvalidInputError(
            f"dataset ADRS has no records of parameter {paramcd}",
            field="ADRS.PARAMCD",
            expected=paramcd,
        )
    return rows["AVALC"]


def primary_comparison(protocol: Protocol) -> Comparison:
    """The protocol's ``[hypothesis]``: scale, interval method, level and margin."""
    hyp = protocol.hypothesis
    return Comparison(hyp.scale, hyp.interval_method, hyp.level, hyp.to_margin())


def compare(n: Mapping[str, int], x: Mapping[str, int], arms: Arms, how: Comparison) -> Interval:
    """Test arm against reference arm on ``how.scale`` (ratio test / reference)."""
    t, r = arms.order
    for code in (t, r):
        if n[code] < 1:
            raise InvalidInputError(
                f"no subject of arm {code} in the analysis population", field="arm_n", value=code
            )
    if how.scale == "ratio":
        return ratio_ci(x[t], n[t], x[r], n[r], level=how.level, method=how.method)  # type: ignore[arg-type]
    return difference_ci(x[t], n[t], x[r], n[r], level=how.level, method=how.method)  # type: ignore[arg-type]


def result_dict(
    data: ResponseData,
    n: Mapping[str, int],
    x: Mapping[str, int],
    interval: Interval,
    how: Comparison,
    **extra: Any,
) -> dict[str, Any]:
    """The result shape of :func:`equitrial.analysis.efficacy.primary`."""
    margin = how.margin
    decision, assessment = None, None
    if margin is not None:
        a = assess(interval, margin)
        shown = "equivalent" if margin.bounded_above else "non-inferior"
        decision = shown if a.equivalent else f"not {shown}"
        assessment = {
            "equivalent": a.equivalent,
            "failing_bound": a.failing_bound,
            "conclusion": a.conclusion,
        }
    t, r = data.arms.order
    sign = "/" if how.scale == "ratio" else "-"
    out: dict[str, Any] = {
        "endpoint": data.endpoint,
        "population": data.population,
        "reader": data.reader,
        "parameter": data.paramcd,
        "arm_n": dict(n),
        "responders": dict(x),
        "scale": how.scale,
        "estimate": interval.estimate,
        "lower": interval.lower,
        "upper": interval.upper,
        "level": interval.level,
        "method": f"{interval.method}, {100 * interval.level:g}% CI of {t} {sign} {r}",
        "margin": None if margin is None else {"lower": margin.lower, "upper": margin.upper},
        "decision": decision,
        "assessment": assessment,
    }
    out.update(extra)
    return clean(out)  # type: ignore[no-any-return]


def analyse(data: ResponseData, how: Comparison, **extra: Any) -> dict[str, Any]:
    """Count, compare and assess one :class:`ResponseData`."""
    n, x = counts(data.responder, data.arm, data.arms.order)
    return result_dict(data, n, x, compare(n, x, data.arms, how), how, **extra)


def stratified(data: ResponseData, protocol: Protocol) -> dict[str, Any]:
    """CMH-weighted stratified Miettinen-Nurminen difference over ADSL ``STRATAR``.

    Strata where an arm has no subject carry no weight (``n1 n2 / (n1 + n2) = 0``) and are
    left out (``strata_dropped``). The margin is that of a difference-scale hypothesis of the
    primary variable if the protocol has one (the EMA-style secondary endpoint), else none.
    """
    column(data.subjects, "ADSL", "STRATAR")
    hyp = secondary_difference_hypothesis(protocol)
    how = Comparison(
        "difference",
        "mn-cmh",
        hyp.level if hyp else protocol.hypothesis.level,
        hyp.to_margin() if hyp else None,
    )
    t, r = data.arms.order
    frame = pd.DataFrame(
        {"s": data.subjects["STRATAR"].fillna("(missing)"), "a": data.arm, "y": data.responder}
    )
    x1, n1, x2, n2, dropped = [], [], [], [], []
    for stratum, g in sorted(frame.groupby("s"), key=lambda kv: str(kv[0])):
        a, b = g[g["a"] == t], g[g["a"] == r]
        if a.empty or b.empty:
            dropped.append(str(stratum))
            continue
        x1.append(int(a["y"].sum()))
        n1.append(len(a))
        x2.append(int(b["y"].sum()))
        n2.append(len(b))
    if not x1:
        raise InvalidInputError("no stratum has subjects of both arms", field="ADSL.STRATAR")
    interval = stratified_difference_ci(x1, n1, x2, n2, level=how.level)
    n, x = counts(data.responder, data.arm, data.arms.order)
    return result_dict(
        data,
        n,
        x,
        interval,
        how,
        analysis="stratified",
        strata=len(x1),
        strata_dropped=dropped,
    )


def missing_by_arm(
    data: ResponseData, adam: Mapping[str, pd.DataFrame], week: float | None
) -> pd.Series:
    """Whether each subject of ``data`` has no evaluable response up to ``week`` (BOR24)."""
    bor = avalc(dataset(adam, "ADRS"), "BOR24" + READER_SUFFIX[data.reader])
    return evaluable_missing(data.subjects, bor, week)


def tipping_point(
    data: ResponseData, missing: pd.Series, how: Comparison, primary_equivalent: bool | None
) -> dict[str, Any]:
    """Impute ``i`` responders among the test arm's and ``j`` among the reference arm's
    subjects without an evaluable response, for every ``(i, j)``; the decision of each.

    ``tipping_points``: for each ``i``, the smallest ``j`` whose decision differs from the
    primary decision (None if none does).
    """
    t, r = data.arms.order
    n, x = counts(data.responder, data.arm, data.arms.order)
    m = {code: int((missing & (data.arm == code)).sum()) for code in (t, r)}
    cells = _grid(n, x, m, data.arms, how)
    rows, tips = [], []
    for i in range(m[t] + 1):
        flips = None
        for j in range(m[r] + 1):
            ci = cells[(i, j)]
            ok = None if how.margin is None else assess(ci, how.margin).equivalent
            rows.append(
                {
                    "test_imputed": i,
                    "reference_imputed": j,
                    "estimate": ci.estimate,
                    "lower": ci.lower,
                    "upper": ci.upper,
                    "equivalent": ok,
                }
            )
            if flips is None and ok is not None and ok != primary_equivalent:
                flips = j
        tips.append({"test_imputed": i, "reference_imputed": flips})
    base = result_dict(data, n, x, compare(n, x, data.arms, how), how)
    base.update(
        analysis="tipping-point",
        missing=m,
        grid=clean(rows),
        tipping_points=tips,
    )
    return base


def _grid(
    n: Mapping[str, int], x: Mapping[str, int], m: Mapping[str, int], arms: Arms, how: Comparison
) -> dict[tuple[int, int], Interval]:
    """The interval of every cell ``(i, j)`` of the tipping-point grid.

    Miettinen-Nurminen intervals come from the vectorized limits of
    :mod:`equitrial.stats.proportions` (one call for the whole grid, the same code as
    :func:`~equitrial.stats.proportions.ratio_ci` and ``difference_ci``); other methods call
    :func:`compare` cell by cell.
    """
    t, r = arms.order
    cells = [(i, j) for i in range(m[t] + 1) for j in range(m[r] + 1)]
    if how.method != "miettinen-nurminen":
        return {(i, j): compare(n, {t: x[t] + i, r: x[r] + j}, arms, how) for i, j in cells}
    compare(n, x, arms, how)  # validates the counts and the level
    x1 = np.array([x[t] + i for i, _ in cells], dtype=np.float64)
    x2 = np.array([x[r] + j for _, j in cells], dtype=np.float64)
    limits = mn_ratio_limits if how.scale == "ratio" else mn_difference_limits
    lower, upper = limits(x1, n[t], x2, n[r], how.level)
    p1, p2 = x1 / n[t], x2 / n[r]
    with np.errstate(divide="ignore", invalid="ignore"):
        est = np.where(x2 == 0, np.where(x1 == 0, np.nan, np.inf), p1 / p2)
    if how.scale == "difference":
        est = p1 - p2
    return {
        cell: Interval(float(est[k]), float(lower[k]), float(upper[k]), how.level, how.method)
        for k, cell in enumerate(cells)
    }


def subgroup_rows(
    data: ResponseData, how: Comparison, groups: Sequence[tuple[str, pd.Series]], min_n: int
) -> list[dict[str, Any]]:
    """The primary comparison within each level of each subgroup variable.

    ``groups``: (subgroup name, level of each subject, aligned with ``data.subjects``). A level
    where an arm has fewer than ``min_n`` subjects gets ``estimate``, ``lower``, ``upper`` None.
    """
    out: list[dict[str, Any]] = []
    for name, levels in groups:
        for level in _ordered(levels):
            inside = (levels == level).to_numpy()
            n, x = counts(data.responder[inside], data.arm[inside], data.arms.order)
            est = lo = hi = None
            if min(n.values()) >= max(min_n, 1):
                ci = compare(n, x, data.arms, how)
                est, lo, hi = ci.estimate, ci.lower, ci.upper
            row = {
                "subgroup": name,
                "level": str(level),
                "arm_n": n,
                "responders": x,
                "estimate": est,
                "lower": lo,
                "upper": hi,
            }
            out.append(clean(row))
    return out


def _ordered(levels: pd.Series) -> list[Any]:
    seen = [v for v in pd.unique(levels) if not (isinstance(v, float) and math.isnan(v))]
    if hasattr(levels, "cat"):
        return [c for c in levels.cat.categories if c in seen]
    return sorted(seen, key=str)
