"""The trial specification the simulator runs: frozen dataclasses, checked on construction.

Times are in months (calendar time from the first patient in, or time on study), scan times
in weeks as protocols state them; one month is 365.25 / 12 days.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

from equitrial.design._sim_checks import check_number as _check
from equitrial.design._sim_checks import check_probability as _check_probability
from equitrial.design._sim_spec_analysis import (
    Analysis,
    Hypothesis,
    InterimLook,
    InterimPopulation,
    IntervalMethod,
    Scale,
)
from equitrial.errors import InvalidInputError

__all__ = [
    "WEEKS_PER_MONTH",
    "Accrual",
    "Analysis",
    "Hypothesis",
    "InterimLook",
    "InterimPopulation",
    "IntervalMethod",
    "Randomization",
    "ResponseModel",
    "Scale",
    "ScanSchedule",
    "StratificationFactor",
    "SurvivalModel",
    "TrialSpec",
]

WEEKS_PER_MONTH = 365.25 / 12.0 / 7.0


@dataclass(frozen=True)
class Accrual:
    """Recruitment: ``n_patients`` from ``n_sites`` opened evenly over ``ramp_months``.

    Site ``k = 0, ..., n_sites - 1`` opens at ``ramp_months * k / n_sites`` and then recruits
    ``rate_per_site`` patients per month (a Poisson process); the first patient in is time 0.
    """

    n_patients: int = 300
    n_sites: int = 30
    ramp_months: float = 6.0
    rate_per_site: float = 1.0

    def __post_init__(self) -> None:
        _check(self.n_patients, "accrual.n_patients", low=2.0, strict=False)
        _check(self.n_sites, "accrual.n_sites", low=1.0, strict=False)
        if int(self.n_patients) != self.n_patients or int(self.n_sites) != self.n_sites:
            raise InvalidInputError(
                "accrual.n_patients and accrual.n_sites must be whole numbers",
                field="accrual",
                value=(self.n_patients, self.n_sites),
            )
        _check(self.ramp_months, "accrual.ramp_months", strict=False)
        _check(self.rate_per_site, "accrual.rate_per_site")


@dataclass(frozen=True)
class StratificationFactor:
    """A stratification factor: its name and the prevalence of each level (summing to 1)."""

    name: str
    prevalences: tuple[float, ...]

    def __post_init__(self) -> None:
        where = f"randomization factor {self.name!r}"
        if len(self.prevalences) < 2:
            raise InvalidInputError(f"{where} needs at least two levels", field=self.name)
        for p in self.prevalences:
            _check(p, f"{where} prevalence")
        if not math.isclose(sum(self.prevalences), 1.0, abs_tol=1e-9):
            raise InvalidInputError(
                f"{where}: prevalences must sum to 1, got {sum(self.prevalences)!r}",
                field=self.name,
                value=self.prevalences,
            )


@dataclass(frozen=True)
class Randomization:
    """Permuted blocks within strata; each block's size drawn from ``block_sizes``.

    ``allocation = (test, reference)``: the allocation ratio (``(2, 1)``: two test patients for
    each reference patient); every block size is a multiple of its sum, and a block of size
    ``b`` holds ``b * test / (test + reference)`` test slots.
    """

    block_sizes: tuple[int, ...] = (4, 6)
    factors: tuple[StratificationFactor, ...] = ()
    allocation: tuple[int, int] = (1, 1)

    def __post_init__(self) -> None:
        ratio = self.allocation
        if len(ratio) != 2 or any(isinstance(a, bool) or int(a) != a or a < 1 for a in ratio):
            raise InvalidInputError(
                f"randomization.allocation must be two whole numbers >= 1 (test, reference), "
                f"got {ratio!r}",
                field="randomization.allocation",
                value=ratio,
            )
        unit = int(ratio[0]) + int(ratio[1])
        if not self.block_sizes or any(
            int(b) != b or b < unit or b % unit for b in self.block_sizes
        ):
            raise InvalidInputError(
                f"randomization.block_sizes must be whole multiples of {unit} (the sum of the "
                f"allocation ratio {ratio[0]}:{ratio[1]}), got {self.block_sizes!r}",
                field="randomization.block_sizes",
                value=self.block_sizes,
            )


@dataclass(frozen=True)
class ScanSchedule:
    """Tumour scans at ``first_weeks``, then every ``interval_weeks``; primary at ``primary_weeks``.

    The primary response counts responses seen at scans on or before ``primary_weeks``.
    """

    first_weeks: float = 9.0
    interval_weeks: float = 9.0
    primary_weeks: float = 24.0

    def __post_init__(self) -> None:
        _check(self.first_weeks, "schedule.first_weeks")
        _check(self.interval_weeks, "schedule.interval_weeks")
        _check(self.primary_weeks, "schedule.primary_weeks", low=self.first_weeks, strict=False)


@dataclass(frozen=True)
class ResponseModel:
    """Objective response: who responds, when, for how long; confirmation rule.

    ``orr_test`` and ``orr_reference`` are the probabilities of a primary-endpoint response
    (seen on a scan by the primary time point, confirmed if required) for a patient who does not
    drop out; the probability of ever responding is that divided by the probability that the
    response process shows a response by then (it must come out <= 1). A responder's response
    starts after a gamma-distributed time (``time_to_response_median_months``,
    ``time_to_response_shape``; shape 1 is exponential) and lasts an exponential time with
    median ``duration_median_months`` (``inf``: it does not end before the analysis); progression
    ends it. ``stratum_multipliers`` (one per stratum, in
    :func:`~equitrial.design._sim_randomize.stratum_probabilities` order) scale the response
    probability within strata; they are rescaled to a prevalence-weighted mean of 1, so the
    marginal probabilities stay ``orr_test`` and ``orr_reference``.
    """

    orr_test: float = 0.37
    orr_reference: float = 0.37
    time_to_response_median_months: float = 2.8
    time_to_response_shape: float = 1.0
    duration_median_months: float = math.inf
    confirmation: bool = False
    confirmation_weeks: float = 4.0
    stratum_multipliers: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        _check_probability(self.orr_test, "response.orr_test")
        _check_probability(self.orr_reference, "response.orr_reference")
        _check(self.time_to_response_median_months, "response.time_to_response_median_months")
        _check(self.time_to_response_shape, "response.time_to_response_shape")
        _check(self.duration_median_months, "response.duration_median_months", inf_ok=True)
        _check(self.confirmation_weeks, "response.confirmation_weeks")
        for m in self.stratum_multipliers or ():
            _check(m, "response.stratum_multipliers", strict=False)


@dataclass(frozen=True)
class SurvivalModel:
    """Time-to-event model of the reference arm; the test arm's hazard is ``hazard_ratio`` times it.

    Piecewise-exponential hazards (``hazards_per_month[j]`` from ``knots_months[j]``, the last
    for ever; ``knots_months[0] = 0``) for the patients not cured; a fraction ``cure_fraction``
    never has the event (an immunotherapy plateau). The constructors :meth:`exponential`,
    :meth:`piecewise` and :meth:`cure` cover the usual cases.
    """

    knots_months: tuple[float, ...] = (0.0,)
    hazards_per_month: tuple[float, ...] = (math.log(2.0) / 8.3,)
    cure_fraction: float = 0.0
    hazard_ratio: float = 1.0

    def __post_init__(self) -> None:
        knots, hazards = self.knots_months, self.hazards_per_month
        if len(knots) != len(hazards) or not knots or knots[0] != 0.0:
            raise InvalidInputError(
                "survival model: knots_months must start at 0 and have one hazard per knot",
                field="knots_months",
                value=(knots, hazards),
            )
        if any(b <= a for a, b in itertools.pairwise(knots)):
            raise InvalidInputError(
                f"survival model: knots_months must increase, got {knots!r}", field="knots_months"
            )
        for h in hazards:
            _check(h, "survival model hazards_per_month", strict=False)
        _check_probability(self.cure_fraction, "survival model cure_fraction")
        _check(self.hazard_ratio, "survival model hazard_ratio")

    @classmethod
    def exponential(cls, median_months: float, *, hazard_ratio: float = 1.0) -> SurvivalModel:
        """Exponential times with the given median in the reference arm."""
        median = _check(median_months, "median_months")
        return cls((0.0,), (math.log(2.0) / median,), 0.0, hazard_ratio)

    @classmethod
    def piecewise(
        cls,
        knots_months: tuple[float, ...],
        hazards_per_month: tuple[float, ...],
        *,
        hazard_ratio: float = 1.0,
    ) -> SurvivalModel:
        """Piecewise-constant hazards starting at ``knots_months`` (the first knot 0)."""
        return cls(tuple(knots_months), tuple(hazards_per_month), 0.0, hazard_ratio)

    @classmethod
    def cure(
        cls, cure_fraction: float, uncured_median_months: float, *, hazard_ratio: float = 1.0
    ) -> SurvivalModel:
        """Cure mixture: ``S(t) = pi + (1 - pi) exp(-lambda t)``; the ratio acts on ``lambda``."""
        median = _check(uncured_median_months, "uncured_median_months")
        return cls((0.0,), (math.log(2.0) / median,), cure_fraction, hazard_ratio)


def _default_pfs() -> SurvivalModel:
    return SurvivalModel.cure(0.22, 6.4)


def _default_os() -> SurvivalModel:
    return SurvivalModel.cure(0.35, 15.5)


@dataclass(frozen=True)
class TrialSpec:
    """Everything the simulator needs to run one design.

    The defaults describe the melanoma pembrolizumab biosimilar example: 300 patients, ORR 0.37
    in both arms (KEYNOTE-006, Schachter et al. 2017), time to response median 2.8 months, scans
    every 9 weeks, primary ORR at week 24, ratio margins 0.73-1.36 with a 90% interval, interim
    six months after the first patient in, PFS and OS as cure mixtures matching KEYNOTE-006's
    medians and plateaus (PFS: 22% cured, uncured median 6.4 months, overall median ~9.4; OS:
    35% cured, uncured median 15.5, overall median ~32.7; Robert et al. 2023), 10% dropout per
    patient-year (an exponential hazard of 0.1 per year).
    """

    accrual: Accrual = field(default_factory=Accrual)
    randomization: Randomization = field(default_factory=Randomization)
    schedule: ScanSchedule = field(default_factory=ScanSchedule)
    response: ResponseModel = field(default_factory=ResponseModel)
    pfs: SurvivalModel = field(default_factory=_default_pfs)
    os: SurvivalModel = field(default_factory=_default_os)
    dropout_rate_per_year: float = 0.1
    analysis: Analysis = field(default_factory=Analysis)

    def __post_init__(self) -> None:
        _check(self.dropout_rate_per_year, "dropout_rate_per_year", strict=False)
        for look in self.analysis.interims:
            if look.evaluable is not None and look.evaluable > self.accrual.n_patients:
                raise InvalidInputError(
                    f"interim {look.name!r}: {look.evaluable} evaluable patients is more than "
                    f"the {self.accrual.n_patients} enrolled",
                    field="analysis.interims",
                    value=look.evaluable,
                )
        n_strata = 1
        for factor in self.randomization.factors:
            n_strata *= len(factor.prevalences)
        multipliers = self.response.stratum_multipliers
        if multipliers is not None and len(multipliers) != n_strata:
            raise InvalidInputError(
                f"response.stratum_multipliers needs one value per stratum ({n_strata}), got "
                f"{len(multipliers)}",
                field="response.stratum_multipliers",
                value=multipliers,
            )
