"""Continuous safety monitoring for the DSMB: a Bayesian beta-binomial rule per safety signal.

The protocol file has no monitoring section, so the rule is set here, with its parameters as
arguments (:class:`SafetyRule`) and documented defaults (:data:`DEFAULT_RULES`). At a data cut
each arm's rate of subjects with the event has the posterior ``Beta(a + x, b + n - x)`` from
the prior ``Beta(a, b)`` centred on the reference product's published rate, ``a = w * r``,
``b = w * (1 - r)`` (prior mean ``r``, worth ``w`` patients), with ``x`` subjects with the event
among ``n`` dosed by the cut. A rule is crossed when

- comparison: ``P(p_test > p_reference + delta | data) > threshold``, or
- absolute, per arm: ``P(p_arm > unacceptable_rate | data) > threshold``.

Both arms get the same prior, so the comparison starts neutral. The first probability is the
integral of one posterior's density against the other's upper tail, the second the
complemented regularized incomplete beta function (both in ``_safety_bayes``; checked against
R's ``integrate`` and ``pbeta`` in ``tests/reference/analysis_safety.R``).

Signals (:data:`DEFAULT_RULES`):

- ``immune-related``: subjects with a treatment-emergent immune-related AE (ADAE ``IRAECAT``
  populated); reference rate 0.23, the pooled KEYNOTE-001/002/006 rate of immune-mediated AEs
  of pembrolizumab (23.0%, n = 1567) [2]_;
- ``grade3-trae``: subjects with a treatment-related TEAE of CTCAE grade 3 or higher;
  reference rate 0.17, KEYNOTE-006 final analysis (grade 3-4 TRAEs 17%, 10 mg/kg Q2W,
  n = 278) [3]_, close to the pooled 17.7% [2]_ (the first report, Robert et al. 2015 [4]_,
  at shorter follow-up, gave lower rates of grade 3-5 TRAEs).

References
----------
.. [1] Thall PF, Simon R, Estey EH. Bayesian sequential monitoring designs for single-arm
   clinical trials with multiple outcomes. *Stat Med* 1995;14:357-379.
.. [2] Robert C, Hwu WJ, Hamid O, et al. Long-term safety of pembrolizumab monotherapy and
   relationship with clinical outcome: a landmark analysis in patients with advanced melanoma.
   *Eur J Cancer* 2021;144:182.
.. [3] Schachter J, Ribas A, Long GV, et al. Pembrolizumab versus ipilimumab for advanced
   melanoma: final overall survival results of a multicentre, randomised, open-label phase 3
   study (KEYNOTE-006). *Lancet* 2017;390:1853-1862.
.. [4] Robert C, Schachter J, Long GV, et al. Pembrolizumab versus ipilimumab in advanced
   melanoma. *N Engl J Med* 2015;372:2521-2532.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import pandas as pd

from equitrial.analysis._safety_bayes import posterior, prob_difference_exceeds, prob_exceeds
from equitrial.analysis._safety_input import (
    arms_of,
    frame_of,
    grade_of,
    numeric_grade,
    related,
    require,
    safety_population,
)
from equitrial.errors import InvalidInputError
from equitrial.protocol import Protocol

__all__ = ["DEFAULT_RULES", "SafetyRule", "evaluate_rule", "monitoring", "monitoring_over_time"]


@dataclass(frozen=True)
class SafetyRule:
    """One monitored signal and its stopping rule.

    Attributes
    ----------
    key : {"immune-related", "grade3-trae"}
        The event counted: a treatment-emergent immune-related AE, or a treatment-related
        TEAE of grade 3 or higher.
    label
        Name in the DSMB report.
    reference_rate
        Prior mean: the reference product's published rate, in (0, 1).
    prior_weight
        ``a + b`` of the prior, in patients (default 10: the data dominate after a few
        dozen patients).
    delta
        Excess of the test arm over the reference arm judged unacceptable, in [0, 1).
    unacceptable_rate
        Rate of an arm judged unacceptable whatever the other arm's, in (0, 1).
    threshold
        Posterior probability above which the rule is crossed, in (0, 1).
    """

    key: str
    label: str
    reference_rate: float
    unacceptable_rate: float
    prior_weight: float = 10.0
    delta: float = 0.10
    threshold: float = 0.90

    def __post_init__(self) -> None:
        if self.key not in _EVENTS:
            raise InvalidInputError(
                f"unknown safety rule {self.key!r}",
                field="key",
                value=self.key,
                expected="one of " + ", ".join(repr(k) for k in _EVENTS),
            )
        for name, low, high, closed in (
            ("reference_rate", 0.0, 1.0, False),
            ("unacceptable_rate", 0.0, 1.0, False),
            ("delta", 0.0, 1.0, True),
            ("threshold", 0.0, 1.0, False),
        ):
            value = getattr(self, name)
            if not (low <= value < high if closed else low < value < high):
                raise InvalidInputError(
                    f"{name} of rule {self.key!r} must lie in "
                    f"{'[' if closed else '('}{low:g}, {high:g}), got {value!r}",
                    field=name,
                    value=value,
                )
        if not (math.isfinite(self.prior_weight) and self.prior_weight > 0):
            raise InvalidInputError(
                f"prior_weight of rule {self.key!r} must be positive, got {self.prior_weight!r}",
                field="prior_weight",
                value=self.prior_weight,
            )

    @property
    def prior(self) -> tuple[float, float]:
        """``(a, b)`` of the prior."""
        return self.prior_weight * self.reference_rate, self.prior_weight * (
            1 - self.reference_rate
        )


_EVENTS: Final = ("immune-related", "grade3-trae")

DEFAULT_RULES: Final = (
    SafetyRule("immune-related", "Immune-related adverse events", 0.23, unacceptable_rate=0.40),
    SafetyRule("grade3-trae", "Treatment-related adverse events of grade 3 or higher", 0.17, 0.30),
)
"""The rules monitored by default: prior weight 10 patients, ``delta`` 10 percentage points,
threshold 0.90; unacceptable rates 40% (immune-related) and 30% (grade >= 3 related), set
about twice the published rates (assumptions, no published rule)."""


def _p(value: float) -> str:
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def _percent(x: int, n: int) -> str:
    return f"{x}/{n} ({100 * x / n:.1f}%)" if n else f"{x}/0"


def evaluate_rule(
    rule: SafetyRule, events: Mapping[str, int], n: Mapping[str, int], test: str, reference: str
) -> dict[str, Any]:
    """The rule at one look, from the counts per arm code.

    Returns
    -------
    dict
        ``{"key", "label", "n", "events", "prior": {"a", "b"}, "delta", "unacceptable_rate",
        "threshold", "comparison": {"probability", "crossed"}, "arms": {code: {"probability",
        "crossed"}}, "crossed", "sentence"}``; probabilities are ``None`` for an arm with no
        subject (the comparison then too).
    """
    a, b = rule.prior
    arms: dict[str, dict[str, Any]] = {}
    post: dict[str, tuple[float, float]] = {}
    for code in n:
        post[code] = posterior(a, b, int(events[code]), int(n[code]))
        p = prob_exceeds(*post[code], rule.unacceptable_rate) if n[code] else None
        arms[code] = {"probability": p, "crossed": p is not None and p > rule.threshold}
    both = n[test] > 0 and n[reference] > 0
    diff = prob_difference_exceeds(*post[test], *post[reference], rule.delta) if both else None
    comparison = {"probability": diff, "crossed": diff is not None and diff > rule.threshold}
    crossed = bool(comparison["crossed"]) or any(v["crossed"] for v in arms.values())
    return {
        "key": rule.key,
        "label": rule.label,
        "n": {c: int(v) for c, v in n.items()},
        "events": {c: int(events[c]) for c in n},
        "prior": {"a": a, "b": b},
        "delta": rule.delta,
        "unacceptable_rate": rule.unacceptable_rate,
        "threshold": rule.threshold,
        "comparison": comparison,
        "arms": arms,
        "crossed": crossed,
        "sentence": _sentence(rule, events, n, test, reference, diff, arms, crossed),
    }


def _sentence(
    rule: SafetyRule,
    events: Mapping[str, int],
    n: Mapping[str, int],
    test: str,
    reference: str,
    diff: float | None,
    arms: Mapping[str, Mapping[str, Any]],
    crossed: bool,
) -> str:
    counts = " vs ".join(f"{_percent(int(events[c]), int(n[c]))} on {c}" for c in n)
    parts = [f"{rule.label}: {counts}."]
    if diff is not None:
        parts.append(
            f"Posterior probability that the {test} rate exceeds the {reference} rate by more "
            f"than {100 * rule.delta:g} points: {_p(diff)} (threshold {rule.threshold:g})."
        )
    tails = ", ".join(
        f"{_p(v['probability'])} on {c}" for c, v in arms.items() if v["probability"] is not None
    )
    if tails:
        parts.append(
            f"Probability that the rate exceeds {100 * rule.unacceptable_rate:g}%: {tails}."
        )
    parts.append("The rule is CROSSED." if crossed else "The rule is not crossed.")
    return " ".join(parts)


def _as_date(value: Any, field: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise InvalidInputError(
            f"{field} must be a date (YYYY-MM-DD), got {value!r}",
            field=field,
            value=value,
            expected="a date",
        ) from None


class _Data:
    """The subjects and flagged events of the rules, ready to be cut at any date."""

    def __init__(self, adam: Mapping[str, pd.DataFrame], protocol: Protocol) -> None:
        arms = arms_of(protocol)
        roles = {a.role: a.code for a in arms}
        self.codes = [a.code for a in arms]
        self.test, self.reference = roles.get("test"), roles.get("reference")
        require(frame_of(adam, "ADSL"), "ADSL", ("TRTSDT",))
        self.population = safety_population(frame_of(adam, "ADSL"), arms)
        adae = frame_of(adam, "ADAE")
        grade = grade_of(adae)
        require(adae, "ADAE", ("USUBJID", "TRTEMFL", "ASTDT", "AEREL", "IRAECAT", grade))
        events = adae[adae["TRTEMFL"] == "Y"].copy()
        events["USUBJID"] = events["USUBJID"].astype(str)
        events = events.merge(self.population[["USUBJID", "ARM"]], on="USUBJID", how="inner")
        events["ONSET"] = pd.to_datetime(events["ASTDT"], errors="coerce")
        high = numeric_grade(events[grade], f"ADAE.{grade}") >= 3
        events["immune-related"] = events["IRAECAT"].notna()
        events["grade3-trae"] = high & related(events["AEREL"])
        self.events = events

    def counts(self, key: str, cut: dt.date | None) -> tuple[dict[str, int], dict[str, int]]:
        pop, events = self.population, self.events[self.events[key]]
        if cut is not None:
            stamp = pd.Timestamp(cut)
            pop = pop[pop["TRTSDT"] <= stamp]
            events = events[events["ONSET"] <= stamp]
            events = events[events["USUBJID"].isin(pop["USUBJID"])]
        n = {c: int((pop["ARM"] == c).sum()) for c in self.codes}
        x = {c: int(events.loc[events["ARM"] == c, "USUBJID"].nunique()) for c in self.codes}
        return x, n


def _look(data: _Data, rules: Sequence[SafetyRule], cut: dt.date | None) -> dict[str, Any]:
    if data.test is None or data.reference is None:
        raise InvalidInputError(
            "the protocol needs a test and a reference arm for the monitoring rule",
            field="arms",
        )
    out = []
    for rule in rules:
        x, n = data.counts(rule.key, cut)
        out.append(evaluate_rule(rule, x, n, data.test, data.reference))
    return {
        "cut": None if cut is None else cut.isoformat(),
        "test": data.test,
        "reference": data.reference,
        "rules": out,
        "crossed": any(r["crossed"] for r in out),
    }


def monitoring(
    adam: Mapping[str, pd.DataFrame],
    protocol: Protocol,
    *,
    cut: dt.date | str | None = None,
    rules: Sequence[SafetyRule] = DEFAULT_RULES,
) -> dict[str, Any]:
    """The safety monitoring rules at a data cut.

    Parameters
    ----------
    adam : mapping of str to DataFrame
        ``ADSL`` (``USUBJID``, ``SAFFL``, ``TRT01A``, ``TRTSDT``) and ``ADAE`` (``USUBJID``,
        ``TRTEMFL``, ``ASTDT``, ``AEREL``, ``IRAECAT``, a grade ``ATOXGRN``/``ATOXGR``/
        ``AETOXGR``).
    protocol : Protocol
        The study: arm names (``TRT01A``) and roles (test, reference).
    cut : date or ISO text, optional
        Data cut: subjects dosed on or before it (``TRTSDT``) and their TEAEs with onset
        (``ASTDT``) on or before it. ``None``: all the data.
    rules : sequence of SafetyRule, default DEFAULT_RULES
        The rules evaluated, in that order.

    Returns
    -------
    dict
        ``{"cut", "test", "reference", "rules": [evaluate_rule(...) per rule], "crossed"}``.

    Raises
    ------
    InvalidInputError
        A dataset or variable is missing (field ``"ADAE.IRAECAT"``, say), a bad ``cut``, or a
        protocol without a test and a reference arm.
    """
    data = _Data(adam, protocol)
    return _look(data, rules, None if cut is None else _as_date(cut, "cut"))


def monitoring_over_time(
    adam: Mapping[str, pd.DataFrame],
    protocol: Protocol,
    cuts: Iterable[dt.date | str],
    *,
    rules: Sequence[SafetyRule] = DEFAULT_RULES,
) -> dict[str, Any]:
    """The rules at successive calendar cut dates, for a plot of the monitoring statistics.

    Returns
    -------
    dict
        ``{"cuts": [ISO dates, ascending], "test", "reference", "series": [{"key", "label",
        "threshold", "points": [{"cut", "n", "events", "probability", "arm_probability",
        "crossed"}]}]}``, one series per rule and one point per cut; ``probability`` is the
        comparison's, ``arm_probability`` the per-arm ones.

    Raises
    ------
    InvalidInputError
        No cut (field ``"cuts"``), a cut that is not a date (``"cuts[i]"``), and as
        :func:`monitoring`.
    """
    dates = sorted({_as_date(c, f"cuts[{i}]") for i, c in enumerate(cuts)})
    if not dates:
        raise InvalidInputError("cuts must hold at least one date", field="cuts")
    data = _Data(adam, protocol)
    looks = [_look(data, rules, d) for d in dates]
    series = []
    for i, rule in enumerate(rules):
        points = [
            {
                "cut": look["cut"],
                "n": look["rules"][i]["n"],
                "events": look["rules"][i]["events"],
                "probability": look["rules"][i]["comparison"]["probability"],
                "arm_probability": {
                    c: v["probability"] for c, v in look["rules"][i]["arms"].items()
                },
                "crossed": look["rules"][i]["crossed"],
            }
            for look in looks
        ]
        series.append(
            {"key": rule.key, "label": rule.label, "threshold": rule.threshold, "points": points}
        )
    return {
        "cuts": [d.isoformat() for d in dates],
        "test": data.test,
        "reference": data.reference,
        "series": series,
    }
