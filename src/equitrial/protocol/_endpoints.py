"""Endpoints with their estimands, the equivalence hypothesis, the interim analyses."""

from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from equitrial.protocol._base import Issue, Model, raise_issues
from equitrial.stats.equivalence import Margin

__all__ = [
    "SPENDING_FUNCTIONS",
    "Endpoint",
    "Estimand",
    "Hypothesis",
    "InterimAnalysis",
    "MarginSpec",
]

Strategy = Literal[
    "treatment-policy", "hypothetical", "composite", "while-on-treatment", "principal-stratum"
]
SummaryMeasure = Literal[
    "risk-ratio",
    "risk-difference",
    "hazard-ratio",
    "median",
    "proportion",
    "geometric-mean-ratio",
    "mean-difference",
]
IntervalMethod = Literal["miettinen-nurminen", "newcombe", "wald", "agresti-caffo", "log"]
INTERVAL_METHODS: dict[str, tuple[str, ...]] = {
    # equitrial.stats.proportions: DifferenceMethod and RatioMethod
    "difference": ("miettinen-nurminen", "newcombe", "wald", "agresti-caffo"),
    "ratio": ("miettinen-nurminen", "log"),
}
SUMMARY_FOR_SCALE = {"difference": "risk-difference", "ratio": "risk-ratio"}
SPENDING_FUNCTIONS = (
    "obrien-fleming",
    "pocock",
    "hwang-shih-decani",
    "classical-obrien-fleming",
    "classical-pocock",
    "none",
)
SpendingName = Literal[
    "obrien-fleming",
    "pocock",
    "hwang-shih-decani",
    "classical-obrien-fleming",
    "classical-pocock",
    "none",
]
Text = Annotated[str, Field(min_length=1)]


class Estimand(Model):
    """``[endpoints.estimand]``: the ICH E9(R1) attributes of the quantity estimated.

    Attributes
    ----------
    population : {"ITT", "modified-ITT", "per-protocol", "safety", "PK"}
        Analysis population.
    variable
        The variable (endpoint) obtained for each patient, in words.
    intercurrent_events
        Each intercurrent event (in words) mapped to its strategy, one of
        ``{"treatment-policy", "hypothetical", "composite", "while-on-treatment",
        "principal-stratum"}``.
    summary_measure : {"risk-ratio", "risk-difference", "hazard-ratio", "median", "proportion", \
"geometric-mean-ratio", "mean-difference"}
        Population-level summary comparing the arms (or describing them).

    References
    ----------
    .. [1] ICH E9(R1) Addendum on estimands and sensitivity analysis in clinical trials, 2019.
    """

    population: Literal["ITT", "modified-ITT", "per-protocol", "safety", "PK"]
    variable: Text
    intercurrent_events: dict[str, Strategy] = Field(default_factory=dict)
    summary_measure: SummaryMeasure


class MarginSpec(Model):
    """``[hypothesis.margin]``: ``lower`` and (equivalence only) ``upper``.

    Attributes
    ----------
    lower, upper
        The margin's bounds on the hypothesis' scale; ``upper`` only for equivalence.
    """

    lower: float = Field(allow_inf_nan=False)
    upper: float | None = None

    @field_validator("upper")
    @classmethod
    def _inf_is_absent(cls, upper: float | None) -> float | None:
        return None if upper == math.inf else upper


class Hypothesis(Model):
    """``[hypothesis]``: equivalence or non-inferiority of the test arm to the reference arm.

    Attributes
    ----------
    kind : {"equivalence", "non-inferiority"}
        Equivalence needs both margins; non-inferiority only ``lower`` (``upper`` absent or inf).
    scale : {"difference", "ratio"}
        ``p_test - p_reference`` (null value 0) or ``p_test / p_reference`` (null value 1).
    margin
        :class:`MarginSpec`; the null value must lie strictly inside, ratio bounds positive.
    interval_method : {"miettinen-nurminen", "newcombe", "wald", "agresti-caffo", "log"}
        As in :mod:`equitrial.stats.proportions`: the difference takes the first four, the ratio
        ``"miettinen-nurminen"`` or ``"log"``.
    level
        Two-sided confidence level of the interval (0.90 for equivalence at 5 % per side).
    """

    kind: Literal["equivalence", "non-inferiority"]
    scale: Literal["difference", "ratio"]
    margin: MarginSpec
    interval_method: IntervalMethod
    level: float = Field(gt=0, lt=1)

    @model_validator(mode="after")
    def _check(self) -> Hypothesis:
        issues = self._margin_issues()
        allowed = INTERVAL_METHODS[self.scale]
        if self.interval_method not in allowed:
            choices = ", ".join(repr(m) for m in allowed)
            msg = f"is not a method for the {self.scale} scale; expected one of {choices}"
            issues.append(Issue(("interval_method",), self.interval_method, msg))
        raise_issues(issues)
        return self

    def _margin_issues(self) -> list[Issue]:
        null, lower, upper = self.null_value, self.margin.lower, self.margin.upper
        issues = []
        if self.scale == "ratio" and not lower > 0:
            issues.append(Issue(("margin", "lower"), lower, "expected a ratio bound > 0"))
        elif not lower < null:
            msg = f"expected a bound below the null value {null:g} of the {self.scale} scale"
            issues.append(Issue(("margin", "lower"), lower, msg))
        if self.kind == "equivalence":
            if upper is None or not math.isfinite(upper):
                msg = "expected a finite upper margin for equivalence"
                issues.append(Issue(("margin", "upper"), upper, msg))
            elif not upper > null:
                msg = f"expected a bound above the null value {null:g} of the {self.scale} scale"
                issues.append(Issue(("margin", "upper"), upper, msg))
        elif upper is not None and upper != math.inf:
            msg = "expected no upper margin (or inf) for non-inferiority"
            issues.append(Issue(("margin", "upper"), upper, msg))
        return issues

    @property
    def null_value(self) -> float:
        """0 on the difference scale, 1 on the ratio scale."""
        return 0.0 if self.scale == "difference" else 1.0

    @property
    def alpha(self) -> float:
        """One-sided significance level of each of the two one-sided tests, ``(1 - level) / 2``."""
        return (1.0 - self.level) / 2.0

    def to_margin(self) -> Margin:
        """The margin as :class:`equitrial.stats.equivalence.Margin` (``upper=inf`` if absent)."""
        upper = math.inf if self.margin.upper is None else self.margin.upper
        return Margin(scale=self.scale, lower=self.margin.lower, upper=upper)


class Endpoint(Model):
    """``[[endpoints]]``: one endpoint and its estimand.

    Attributes
    ----------
    id, name
        Unique short id (e.g. ``"orr-w24"``) and display name.
    role : {"primary", "secondary", "exploratory"}
        Exactly one endpoint is primary; the protocol's ``[hypothesis]`` is about it.
    kind : {"binary", "time-to-event", "continuous", "count"}
        Type of the variable; the primary endpoint must be binary (response).
    criteria : {"RECIST 1.1", "iRECIST", "CTCAE 5.0"}, optional
        Assessment criteria.
    review : {"blinded-central", "investigator"}, optional
        Who assesses (tumour response).
    timepoint_weeks
        Week at which the endpoint is read (e.g. 24 for ORR at week 24), optional.
    confirmation_required
        Whether a response needs confirmation by a later scan (RECIST 1.1), optional.
    estimand
        :class:`Estimand`.
    hypothesis
        A :class:`Hypothesis` for a secondary endpoint (e.g. the EMA-style difference analysis);
        the primary endpoint's hypothesis is the protocol's ``[hypothesis]`` table.
    """

    id: Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")]
    name: Text
    role: Literal["primary", "secondary", "exploratory"]
    kind: Literal["binary", "time-to-event", "continuous", "count"]
    criteria: Literal["RECIST 1.1", "iRECIST", "CTCAE 5.0"] | None = None
    review: Literal["blinded-central", "investigator"] | None = None
    timepoint_weeks: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    confirmation_required: bool | None = None
    estimand: Estimand
    hypothesis: Hypothesis | None = None

    @model_validator(mode="after")
    def _check(self) -> Endpoint:
        issues = []
        if self.role == "primary" and self.hypothesis is not None:
            msg = "expected no hypothesis on the primary endpoint; use the [hypothesis] table"
            issues.append(Issue(("hypothesis",), "{...}", msg))
        if self.hypothesis is not None:
            issues += _summary_issues(self.hypothesis, self.estimand, ("estimand",))
        raise_issues(issues)
        return self


def _summary_issues(hyp: Hypothesis, estimand: Estimand, loc: tuple[str | int, ...]) -> list[Issue]:
    """The estimand's summary measure must be the hypothesis' scale."""
    wanted = SUMMARY_FOR_SCALE[hyp.scale]
    if estimand.summary_measure != wanted:
        msg = f"expected {wanted!r} to match the hypothesis scale {hyp.scale!r}"
        return [Issue((*loc, "summary_measure"), estimand.summary_measure, msg)]
    return []


class InterimAnalysis(Model):
    """``[[interim_analyses]]``: one interim look.

    Attributes
    ----------
    name
        Unique name.
    months_after_first_patient, information_fraction
        Timing: exactly one of calendar months after the first patient in (``> 0``) or the
        fraction of the final information (``0 < f < 1``).
    purpose : {"preliminary effectiveness", "futility", "efficacy", "safety"}
        Why the look is taken.
    spending : {"obrien-fleming", "pocock", "hwang-shih-decani", "classical-obrien-fleming", \
"classical-pocock", "none"}
        Error-spending function, as :mod:`equitrial.design.sequential` names them; ``"none"``
        spends nothing (no formal test). An efficacy look needs one.
    gamma
        Parameter of ``"hwang-shih-decani"`` (required for it, refused otherwise).
    binding
        Whether stopping at the boundary is binding.
    futility_bound
        Optional non-binding futility bound on the z-scale of each one-sided test at this
        look (stop for futility when a one-sided statistic is at or below it); only on a look
        that spends alpha. It leaves the efficacy boundaries unchanged and lowers the power
        (``equitrial design`` accounts for it in the inflation factor).
    """

    name: Text
    months_after_first_patient: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    information_fraction: float | None = Field(default=None, gt=0, lt=1)
    purpose: Literal["preliminary effectiveness", "futility", "efficacy", "safety"]
    spending: SpendingName = "none"
    gamma: float | None = Field(default=None, allow_inf_nan=False)
    binding: bool = False
    futility_bound: float | None = Field(default=None, allow_inf_nan=False)

    @model_validator(mode="after")
    def _check(self) -> InterimAnalysis:
        issues = []
        if self.futility_bound is not None and self.spending == "none":
            msg = "expected futility_bound only on a look that spends alpha (spending != 'none')"
            issues.append(Issue(("futility_bound",), self.futility_bound, msg))
        if (self.months_after_first_patient is None) == (self.information_fraction is None):
            msg = "expected exactly one of months_after_first_patient and information_fraction"
            issues.append(Issue(("months_after_first_patient",), None, msg))
        if self.spending == "hwang-shih-decani" and self.gamma is None:
            issues.append(Issue(("gamma",), None, "missing; expected gamma for hwang-shih-decani"))
        if self.spending != "hwang-shih-decani" and self.gamma is not None:
            msg = "expected gamma only with spending = 'hwang-shih-decani'"
            issues.append(Issue(("gamma",), self.gamma, msg))
        if self.purpose == "efficacy" and self.spending == "none":
            msg = "expected a spending function for an efficacy look"
            issues.append(Issue(("spending",), self.spending, msg))
        raise_issues(issues)
        return self
