"""The interim look of the primary endpoint: the group-sequential decision and conditional power.

At a protocol's interim (``[[interim_analyses]]``), :func:`interim_decision` reads the primary
analysis at the data cut (:func:`equitrial.analysis.efficacy.primary`) and says what the
protocol lets the DSMB conclude:

- a descriptive look (``spending = "none"``, the flagship's preliminary-effectiveness look)
  tests nothing: the trial continues whatever the estimate;
- a formal look (an alpha-spending interim of the protocol's joint design,
  :func:`equitrial.design.joint.joint_design`) stops for equivalence when both one-sided tests
  of the TOST pair reach the look's boundary, and for futility when one of them is at or below
  the look's non-binding futility bound. The tests' z-statistics are those of the design's
  normal approximation (Wald, on the log-ratio or the difference; Jennison & Turnbull 2000,
  chapter 6): ``Z_lower = (estimate - L) / se``, ``Z_upper = (U - estimate) / se``.

:func:`conditional_power` is the probability that the final analysis shows equivalence given
the responders so far, when the patients still to come respond with given rates. It is exact:
the future responders of each arm are binomial, and the final interval of the protocol's method
is decided for every pair of final counts by :func:`equitrial.design._sample_size_grid.
pass_grid` (the decision rule of the exact sample size, itself checked outcome by outcome
against :func:`equitrial.stats.proportions` and :func:`equitrial.stats.equivalence.assess`).

References
----------
.. [1] Jennison C, Turnbull BW. *Group Sequential Methods with Applications to Clinical
   Trials*. Chapman & Hall/CRC, 2000. Chapters 6 (equivalence) and 10 (conditional power).
.. [2] Lachin JM. A review of methods for futility stopping based on conditional power.
   *Statistics in Medicine* 2005;24:2747-2764.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import binom

from equitrial.design._sample_size_grid import pass_grid
from equitrial.design.joint import joint_design
from equitrial.errors import InvalidInputError
from equitrial.protocol import Protocol
from equitrial.protocol._endpoints import Hypothesis, InterimAnalysis

__all__ = ["conditional_power", "interim_counts", "interim_decision"]


def _count(value: Any, name: str, upper: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
        raise InvalidInputError(
            f"{name}: expected a count (an integer >= 0)", field=name, value=value
        )
    if upper is not None and value > upper:
        raise InvalidInputError(f"{name}: {value} is more than {upper}", field=name, value=value)
    return int(value)


def _rate(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise InvalidInputError(
            f"{name}: expected a probability in [0, 1]", field=name, value=value
        )
    return float(value)


def conditional_power(
    *,
    responders: tuple[int, int],
    evaluated: tuple[int, int],
    final: tuple[int, int],
    rates: tuple[float, float],
    hypothesis: Hypothesis,
) -> float:
    """Probability that the final analysis shows equivalence, given the interim counts.

    Parameters
    ----------
    responders, evaluated
        Responders and patients with the primary endpoint so far, ``(test, reference)``.
    final
        Patients of each arm at the final analysis (``>= evaluated``).
    rates
        Response rates of the patients still to come, ``(test, reference)``: the design's
        assumption, or the trend seen so far.
    hypothesis
        The protocol's hypothesis (scale, margin, interval method, level).

    Returns
    -------
    float
        ``sum P(Y_test = a) P(Y_ref = b) [final interval of (x_test + a, x_ref + b) inside the
        margin]`` over the future responders ``Y`` of each arm (binomial).

    Raises
    ------
    InvalidInputError
        A count that is negative or not an integer, more responders than patients, fewer final
        patients than evaluated ones, a rate outside [0, 1]; the error names the argument.
    """
    names = ("test", "reference")
    n_now = [_count(evaluated[i], f"evaluated.{names[i]}") for i in range(2)]
    x_now = [_count(responders[i], f"responders.{names[i]}", n_now[i]) for i in range(2)]
    n_end = [_count(final[i], f"final.{names[i]}") for i in range(2)]
    for i in range(2):
        if n_end[i] < n_now[i]:
            raise InvalidInputError(
                f"final.{names[i]}: {n_end[i]} patients at the final analysis, fewer than the "
                f"{n_now[i]} evaluated now",
                field=f"final.{names[i]}",
                value=n_end[i],
            )
    p = [_rate(rates[i], f"rates.{names[i]}") for i in range(2)]
    if min(n_end) == 0:
        raise InvalidInputError(
            "final: an arm without patients at the final analysis",
            field="final",
            value=tuple(n_end),
        )
    future = [n_end[i] - n_now[i] for i in range(2)]
    support = [np.arange(future[i] + 1, dtype=np.float64) for i in range(2)]
    pmf = [np.asarray(binom.pmf(support[i], future[i], p[i]), dtype=np.float64) for i in range(2)]
    grid = pass_grid(
        x_now[0] + support[0],
        n_end[0],
        x_now[1] + support[1],
        n_end[1],
        margin=hypothesis.to_margin(),
        method=hypothesis.interval_method,
        level=hypothesis.level,
    )
    value = float(pmf[0] @ grid.astype(np.float64) @ pmf[1])
    return min(1.0, max(0.0, value))


def interim_counts(
    adam: Mapping[str, pd.DataFrame], protocol: Protocol, cut: dt.date
) -> tuple[dict[str, int], dict[str, int]]:
    """Patients of each arm (ITT) whose primary endpoint is known at the cut, and the
    responders among them: ``(evaluated, responders)`` keyed by arm code.

    The endpoint is known for a patient randomized at least the endpoint's weeks before the cut,
    for a responder (central review, ADRS ``RSP24`` = ``Y``: the response is in, whatever
    follows), and for a patient who died before the cut (a non-responder under the composite
    strategy). The others have not reached week 24 yet: they are the patients still to come.
    """
    for name, columns in (
        ("ADSL", ("USUBJID", "ITTFL", "TRT01P", "RANDDT")),
        ("ADRS", ("USUBJID", "PARAMCD", "AVALC")),
    ):
        if name not in adam:
            raise InvalidInputError(f"the ADaM datasets have no {name}", field=name)
        for column in columns:
            if column not in adam[name].columns:
                raise InvalidInputError(f"{name} has no {column}", field=f"{name}.{column}")
    adsl = adam["ADSL"]
    adsl = adsl[adsl["ITTFL"] == "Y"]
    adrs = adam["ADRS"]
    responded = set(adrs.loc[(adrs["PARAMCD"] == "RSP24") & (adrs["AVALC"] == "Y"), "USUBJID"])
    weeks = float(protocol.primary_endpoint.timepoint_weeks or 0.0)
    due = pd.Timestamp(cut) - pd.Timedelta(days=round(weeks * 7))
    randomized = pd.to_datetime(adsl["RANDDT"])
    no_death = pd.Series(pd.NaT, index=adsl.index, dtype="datetime64[ns]")
    died = pd.to_datetime(adsl["DTHDT"]) if "DTHDT" in adsl.columns else no_death
    responder = adsl["USUBJID"].isin(responded).to_numpy()
    known = (randomized <= due).to_numpy() | responder | (died <= pd.Timestamp(cut)).to_numpy()
    names = {a.code: a.name for a in protocol.arms}
    evaluated, responders = {}, {}
    for code in (protocol.test_arm.code, protocol.reference_arm.code):
        arm = (adsl["TRT01P"] == names[code]).to_numpy()
        evaluated[code] = int((arm & known).sum())
        responders[code] = int((arm & known & responder).sum())
    return evaluated, responders


def _look(protocol: Protocol, name: str | None) -> InterimAnalysis:
    looks = protocol.interim_analyses
    if not looks:
        raise InvalidInputError("the protocol plans no interim analysis", field="interim")
    if name is None:
        return looks[0]
    for look in looks:
        if look.name == name:
            return look
    known = ", ".join(repr(look.name) for look in looks)
    raise InvalidInputError(
        f"no interim analysis named {name!r}; the protocol has {known}", field="interim", value=name
    )


def _z_tests(
    x: tuple[float, ...], n: tuple[float, ...], hypothesis: Hypothesis
) -> tuple[float, float] | None:
    """The Wald z-statistics of the two one-sided tests (``None`` without patients in an arm).

    An arm with no or only responders gets Haldane's correction (half a responder and half a
    non-responder added to both arms), so that a look with no response in the test arm can
    still stop for futility."""
    if min(n) == 0:
        return None
    if any(x[i] in (0, n[i]) for i in range(2)):
        x, n = tuple(v + 0.5 for v in x), tuple(v + 1.0 for v in n)
    p = [x[i] / n[i] for i in range(2)]
    margin = hypothesis.margin
    upper = margin.upper if margin.upper is not None else math.inf
    if hypothesis.scale == "ratio":
        estimate = math.log(p[0] / p[1])
        se = math.sqrt(sum((1 - p[i]) / x[i] for i in range(2)))
        low, high = math.log(margin.lower), math.log(upper) if math.isfinite(upper) else upper
    else:
        estimate = p[0] - p[1]
        se = math.sqrt(sum(p[i] * (1 - p[i]) / n[i] for i in range(2)))
        low, high = margin.lower, upper
    return (estimate - low) / se, (high - estimate) / se


def interim_decision(
    primary: Mapping[str, Any],
    protocol: Protocol,
    *,
    look: str | None = None,
    final_per_arm: tuple[int, int] | None = None,
    counts: tuple[Mapping[str, int], Mapping[str, int]] | None = None,
) -> dict[str, Any]:
    """What the protocol lets the DSMB conclude at an interim look (see the module notes).

    Parameters
    ----------
    primary
        The primary analysis at the data cut: ``arm_n`` and ``responders`` keyed by arm code
        (:func:`equitrial.analysis.efficacy.primary`).
    protocol
        The study's protocol.
    look
        The interim's name; ``None`` for the protocol's first interim.
    final_per_arm
        Patients per arm at the final analysis; by default the protocol's sample size split by
        the allocation ratio.
    counts
        ``(evaluated, responders)`` keyed by arm code: the patients whose endpoint is known at
        the cut (:func:`interim_counts`); by default the primary analysis' ``arm_n`` and
        ``responders`` (every randomized patient counted).

    Returns
    -------
    dict
        ``look``, ``purpose``, ``spending``, ``formal``, ``information_rate`` (patients with the
        endpoint over the final number), ``critical_value`` and ``futility_bound`` (z-scale,
        ``None`` for a descriptive look), ``z_lower`` and ``z_upper``, ``decision`` (``"continue"``,
        ``"stop for equivalence"`` or ``"stop for futility"``), ``statement`` (one sentence), and
        ``conditional_power`` under the design's rates and under the trend seen so far.
    """
    interim = _look(protocol, look)
    hypothesis = protocol.hypothesis
    arms = [protocol.test_arm.code, protocol.reference_arm.code]
    evaluated, responded = counts or (primary["arm_n"], primary["responders"])
    n_now = tuple(int(evaluated[a]) for a in arms)
    x_now = tuple(int(responded[a]) for a in arms)
    final = final_per_arm or protocol.planned_per_arm()
    design_rates = tuple(float(protocol.assumptions.response_rate[a]) for a in arms)
    trend = tuple(x_now[i] / n_now[i] if n_now[i] else design_rates[i] for i in range(2))
    power = {
        "under_design": conditional_power(
            responders=(x_now[0], x_now[1]),
            evaluated=(n_now[0], n_now[1]),
            final=final,
            rates=(design_rates[0], design_rates[1]),
            hypothesis=hypothesis,
        ),
        "under_trend": conditional_power(
            responders=(x_now[0], x_now[1]),
            evaluated=(n_now[0], n_now[1]),
            final=final,
            rates=(trend[0], trend[1]),
            hypothesis=hypothesis,
        ),
    }
    z = _z_tests(x_now, n_now, hypothesis)
    critical, futility = _bounds(protocol, interim)
    decision = "continue"
    if interim.spending == "none":
        statement = (
            f"{interim.name}: a descriptive look (no alpha spent); the trial continues "
            "whatever the estimate."
        )
    elif z is not None and critical is not None and min(z) >= critical:
        decision = "stop for equivalence"
        statement = (
            f"{interim.name}: both one-sided tests reach the boundary "
            f"{critical:.4f}; equivalence can be declared."
        )
    elif z is not None and futility is not None and min(z) <= futility:
        decision = "stop for futility"
        statement = (
            f"{interim.name}: a one-sided test is at or below the futility bound "
            f"{futility:.4f} (non-binding)."
        )
    else:
        statement = f"{interim.name}: the boundary is not reached; the trial continues."
    return {
        "look": interim.name,
        "purpose": interim.purpose,
        "spending": interim.spending,
        "formal": interim.spending != "none",
        "information_rate": sum(n_now) / sum(final),
        "evaluated": dict(zip(arms, n_now, strict=True)),
        "responders": dict(zip(arms, x_now, strict=True)),
        "final_per_arm": dict(zip(arms, final, strict=True)),
        "critical_value": critical,
        "futility_bound": futility,
        "z_lower": None if z is None else z[0],
        "z_upper": None if z is None else z[1],
        "decision": decision,
        "statement": statement,
        "conditional_power": power,
    }


def _bounds(protocol: Protocol, interim: InterimAnalysis) -> tuple[float | None, float | None]:
    """The look's efficacy boundary and futility bound (z-scale) in the joint design."""
    if interim.spending == "none":
        return None, None
    joint = joint_design(protocol)
    if joint.design is None:
        return None, None
    names = [look.name for look in joint.formal]
    k = names.index(interim.name)
    critical = float(joint.design.critical_values[k])
    bounds = joint.design.futility_bounds
    futility = None if bounds is None or k >= bounds.size else float(bounds[k])
    return critical, None if futility is None or not math.isfinite(futility) else futility
