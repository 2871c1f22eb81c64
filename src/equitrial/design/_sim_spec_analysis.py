"""The simulator's analysis: the decision rule, the interim looks and their bounds."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from equitrial.design._sim_checks import check_number as _check
from equitrial.errors import InvalidInputError
from equitrial.stats._interval import two_sided_z
from equitrial.stats._validation import check_level, check_option

__all__ = ["Analysis", "Hypothesis", "InterimLook", "InterimPopulation", "IntervalMethod", "Scale"]

Hypothesis = Literal["equivalence", "non-inferiority"]
Scale = Literal["ratio", "difference"]
IntervalMethod = Literal["miettinen-nurminen", "log", "newcombe", "wald", "agresti-caffo"]
InterimPopulation = Literal["completed", "scanned"]

_METHODS_BY_SCALE = {
    "ratio": ("miettinen-nurminen", "log"),
    "difference": ("miettinen-nurminen", "newcombe", "wald", "agresti-caffo"),
}


@dataclass(frozen=True)
class InterimLook:
    """An interim look: when it is taken and what it may decide.

    Timed at ``months`` after the first patient in (calendar) or when ``evaluable`` patients
    have reached the primary time point (the look a design timed by information fraction
    takes; exactly one of the two). ``critical`` is the efficacy boundary on the z scale of
    each one-sided test (equivalence is concluded, and the trial stops, when both exceed it;
    ``inf``: it can never stop); ``None`` makes the look descriptive (it estimates and stops
    nothing). ``futility`` is a non-binding futility bound: the trial stops when a one-sided
    statistic is at or below it (``None``: none).
    """

    name: str
    months: float | None = None
    evaluable: int | None = None
    critical: float | None = None
    futility: float | None = None

    def __post_init__(self) -> None:
        where = f"interim {self.name!r}"
        if (self.months is None) == (self.evaluable is None):
            raise InvalidInputError(
                f"{where}: expected exactly one of months and evaluable", field="interims"
            )
        if self.months is not None:
            _check(self.months, f"{where} months")
        if self.evaluable is not None and (
            isinstance(self.evaluable, bool) or int(self.evaluable) != self.evaluable
        ):
            raise InvalidInputError(
                f"{where}: evaluable must be a whole number, got {self.evaluable!r}",
                field="interims",
            )
        if self.evaluable is not None:
            _check(self.evaluable, f"{where} evaluable", low=1.0, strict=False)
        if self.critical is not None:
            _check(self.critical, f"{where} critical", inf_ok=True)
        if self.futility is not None:
            if self.critical is None or not self.futility < self.critical:
                raise InvalidInputError(
                    f"{where}: a futility bound needs an efficacy boundary above it, got "
                    f"futility {self.futility!r} and critical {self.critical!r}",
                    field="interims",
                )
            _check(self.futility, f"{where} futility", low=-math.inf)


@dataclass(frozen=True)
class Analysis:
    """Decision rule, looks, interim population, survival data cutoff.

    Equivalence is two one-sided tests at the margins, ``lower_margin < theta`` and ``theta <
    upper_margin`` for the ORR ratio (test / reference) or difference (test - reference);
    non-inferiority the first alone. At the final analysis each test is at ``final_critical``
    (z scale; ``None``: ``z_(1 - (1 - level) / 2)``, the fixed design whose two-sided ``level``
    interval lies strictly inside the margins); ``interims`` are the looks before it, in
    calendar order (a group-sequential design's formal looks carry their boundaries).
    ``survival_cutoff_months``: calendar time of the PFS/OS cutoff (``None``: the primary ORR
    analysis date).
    """

    hypothesis: Hypothesis = "equivalence"
    scale: Scale = "ratio"
    lower_margin: float = 0.73
    upper_margin: float | None = 1.36
    method: IntervalMethod = "miettinen-nurminen"
    level: float = 0.90
    interims: tuple[InterimLook, ...] = (InterimLook("interim", months=6.0),)
    interim_population: InterimPopulation = "completed"
    survival_cutoff_months: float | None = None
    final_critical: float | None = None

    def __post_init__(self) -> None:
        check_option(self.hypothesis, ("equivalence", "non-inferiority"), "analysis.hypothesis")
        check_option(self.scale, ("ratio", "difference"), "analysis.scale")
        check_option(self.method, _METHODS_BY_SCALE[self.scale], f"{self.scale} method")
        check_option(self.interim_population, ("completed", "scanned"), "interim_population")
        check_level(self.level, "analysis.level")
        self._check_margins()
        names = [look.name for look in self.interims]
        if len(set(names)) != len(names) or "final" in names:
            raise InvalidInputError(
                f"analysis.interims: names must be unique and not 'final', got {names!r}",
                field="analysis.interims",
            )
        negative = any(look.futility is not None and look.futility < 0 for look in self.interims)
        if negative and self.method == "newcombe":
            raise InvalidInputError(
                "a futility bound below 0 needs a method with a test statistic "
                "(miettinen-nurminen, wald, agresti-caffo); newcombe has none",
                field="analysis.method",
                value=self.method,
            )
        if self.final_critical is not None:
            _check(self.final_critical, "analysis.final_critical")
        if self.survival_cutoff_months is not None:
            _check(self.survival_cutoff_months, "analysis.survival_cutoff_months")

    @property
    def final_z(self) -> float:
        """The final analysis' critical value of each one-sided test."""
        if self.final_critical is not None:
            return self.final_critical
        return two_sided_z(self.level)

    def _check_margins(self) -> None:
        null = 1.0 if self.scale == "ratio" else 0.0
        low = 0.0 if self.scale == "ratio" else -1.0
        lower = _check(self.lower_margin, "analysis.lower_margin", low=low)
        if lower >= null:
            raise InvalidInputError(
                f"analysis.lower_margin must be below {null} on the {self.scale} scale, got "
                f"{lower!r}",
                field="analysis.lower_margin",
                value=lower,
            )
        if self.hypothesis == "equivalence":
            upper = self.upper_margin
            if upper is None or not null < upper < (math.inf if self.scale == "ratio" else 1.0):
                raise InvalidInputError(
                    f"analysis.upper_margin must exceed {null} for equivalence on the "
                    f"{self.scale} scale, got {upper!r}",
                    field="analysis.upper_margin",
                    value=upper,
                )
