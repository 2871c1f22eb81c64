"""Result types of the trial simulator and the summaries of per-replicate arrays."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from equitrial.design._sim_reduce import ChunkStats
from equitrial.design._sim_spec import InterimLook, TrialSpec
from equitrial.design.looks import Look as PlannedLook

__all__ = [
    "Distribution",
    "LookSummary",
    "MeanEstimate",
    "Probability",
    "ScenarioSummary",
    "SimulationResult",
    "summarize",
    "write_parquet",
]

QUANTILES = (0.025, 0.1, 0.25, 0.5, 0.75, 0.9, 0.975)


@dataclass(frozen=True)
class Probability:
    """A Monte-Carlo probability: ``estimate = k / n`` and ``se = sqrt(p (1 - p) / n)``."""

    estimate: float
    se: float
    n: int

    @classmethod
    def of(cls, flags: NDArray[np.bool_]) -> Probability:
        """The proportion of True in ``flags`` (``n = 0`` gives NaN: nothing to estimate)."""
        n = int(flags.size)
        if n == 0:
            return cls(math.nan, math.nan, 0)
        return cls.from_counts(int(np.count_nonzero(flags)), n)

    @classmethod
    def from_counts(cls, k: int, n: int) -> Probability:
        """``k`` events in ``n`` replicates (``n = 0`` gives NaN)."""
        if n == 0:
            return cls(math.nan, math.nan, 0)
        p = k / n
        return cls(p, math.sqrt(p * (1.0 - p) / n), n)


@dataclass(frozen=True)
class MeanEstimate:
    """A Monte-Carlo mean with its standard error ``sd / sqrt(n)``."""

    mean: float
    se: float

    @classmethod
    def of(cls, values: NDArray[Any]) -> MeanEstimate:
        """Mean and standard error of ``values`` (at least two)."""
        v = np.asarray(values, dtype=np.float64)
        return cls(float(v.mean()), float(v.std(ddof=1) / math.sqrt(v.size)))

    @classmethod
    def from_moment(cls, moment: tuple[int, float, float]) -> MeanEstimate:
        """From ``(count, mean, sum of squared deviations)`` (count at least two)."""
        n, mean, m2 = moment
        return cls(mean, math.sqrt(max(m2, 0.0) / (n - 1) / n))


@dataclass(frozen=True)
class Distribution:
    """Distribution of an estimate over replicates.

    ``quantiles`` pairs each level with its value (inverted-CDF quantiles of the defined
    estimates, which may include ``inf`` for a ratio with no reference responder); ``mean`` and
    ``sd`` are over the finite estimates only (``n_finite`` of them); ``n`` counts the defined
    ones.
    """

    n: int
    n_finite: int
    mean: float
    sd: float
    quantiles: tuple[tuple[float, float], ...]

    @classmethod
    def of(cls, values: NDArray[np.float64]) -> Distribution | None:
        """Summary of the non-NaN ``values``; ``None`` if there are none."""
        defined = values[~np.isnan(values)]
        if defined.size == 0:
            return None
        finite = defined[np.isfinite(defined)]
        qs = np.quantile(defined, QUANTILES, method="inverted_cdf")
        mean = float(finite.mean()) if finite.size else math.nan
        sd = float(finite.std(ddof=1)) if finite.size > 1 else math.nan
        pairs = tuple((q, float(v)) for q, v in zip(QUANTILES, qs, strict=True))
        return cls(int(defined.size), int(finite.size), mean, sd, pairs)


@dataclass(frozen=True)
class LookSummary:
    """One interim over the replicates: when it falls, what it sees, what it decides.

    ``critical`` and ``futility`` are the look's bounds (``None``: descriptive, or no futility
    bound); ``expected_*`` the design's expected month, enrolment and evaluable count
    (:func:`equitrial.design.looks.plan_looks`; ``None`` without a protocol), printed beside
    the simulated means. ``conclusion``: both one-sided tests exceed the look's boundary (a
    descriptive look: the final analysis' critical value), whether or not the trial is still
    running; ``stops_for_equivalence`` and ``stops_for_futility`` (formal looks) count the
    trials that stop there. ``reached``: the trial has not stopped before the look.
    ``after_primary``: the look falls on or after the last patient's primary time point.
    """

    name: str
    formal: bool
    critical: float | None
    futility: float | None
    expected_months: float | None
    expected_enrolled: float | None
    expected_evaluable: float | None
    months: MeanEstimate
    enrolled: MeanEstimate
    patients: MeanEstimate
    evaluable: Probability
    after_primary: Probability
    reached: Probability
    conclusion: Probability
    stops_for_equivalence: Probability | None
    stops_for_futility: Probability | None
    conclusion_and_final: Probability
    agreement: Probability
    final_given_interim: Probability
    estimate: Distribution | None
    pfs_events: MeanEstimate
    os_events: MeanEstimate


@dataclass(frozen=True)
class ScenarioSummary:
    """Operating characteristics of one scenario (true response rates).

    ``orr_*`` are the primary-endpoint response probabilities without dropout (the spec's);
    ``primary_orr_*`` the intention-to-treat rates with dropouts as non-responders, whose ratio
    or difference is what the margins are about (the estimand). ``conclusion`` is the
    probability of concluding at any look (the power, or at a margin the type I error);
    ``conclude_by_look[k]`` that of concluding at formal look ``k`` (the final last), with its
    Monte-Carlo SE in ``conclude_by_look_se``; ``futility_by_look`` that of stopping for
    futility at each formal interim. ``final_conclusion``: the final analysis of every patient
    alone (the fixed design). ``sample_size``, ``evaluable_at_stop`` and ``duration_months``
    are taken when the trial stops (expected sample size and duration).
    """

    name: str
    orr_test: float
    orr_reference: float
    primary_orr_test: float
    primary_orr_reference: float
    replicates: int
    conclusion: Probability
    conclude_by_look: tuple[float, ...]
    conclude_by_look_se: tuple[float, ...]
    futility_by_look: tuple[float, ...]
    final_conclusion: Probability
    sample_size: MeanEstimate
    evaluable_at_stop: MeanEstimate
    duration_months: MeanEstimate
    final_estimate: Distribution | None
    pfs_events: MeanEstimate
    os_events: MeanEstimate
    looks: tuple[LookSummary, ...]


def _look(
    stats: ChunkStats, i: int, look: InterimLook, k: int | None, planned: PlannedLook | None
) -> LookSummary:
    p = f"interim{i}_"
    c, m = stats.counts, stats.moments

    def prob(key: str) -> Probability:
        return Probability.from_counts(c[key], stats.n)

    return LookSummary(
        name=look.name,
        formal=k is not None,
        critical=look.critical,
        futility=look.futility,
        expected_months=None if planned is None else planned.months_after_fpi,
        expected_enrolled=None if planned is None else planned.expected_enrolled,
        expected_evaluable=None if planned is None else planned.expected_evaluable,
        months=MeanEstimate.from_moment(m[p + "months"]),
        enrolled=MeanEstimate.from_moment(m[p + "enrolled"]),
        patients=MeanEstimate.from_moment(m[p + "patients"]),
        evaluable=prob(p + "evaluable"),
        after_primary=prob(p + "after_primary"),
        reached=prob(p + "reached"),
        conclusion=prob(p + "conclusion"),
        stops_for_equivalence=None if k is None else prob(f"stop{k}_conclude"),
        stops_for_futility=None if look.futility is None else prob(f"stop{k}_futility"),
        conclusion_and_final=prob(p + "conclusion_and_final"),
        agreement=prob(p + "agreement"),
        final_given_interim=Probability.from_counts(
            c[p + "conclusion_and_final"], c[p + "conclusion"]
        ),
        estimate=Distribution.of(stats.samples[p + "estimate"]),
        pfs_events=MeanEstimate.from_moment(m[p + "pfs_events"]),
        os_events=MeanEstimate.from_moment(m[p + "os_events"]),
    )


def summarize(
    name: str,
    orr: tuple[float, float],
    retention: float,
    spec: TrialSpec,
    stats: ChunkStats,
    planned: Mapping[str, PlannedLook] | None = None,
) -> ScenarioSummary:
    """Summaries of one scenario from its merged chunk statistics."""
    c, m, n = stats.counts, stats.moments, stats.n
    looks, k = [], 0
    for i, look in enumerate(spec.analysis.interims, start=1):
        formal = look.critical is not None
        looks.append(_look(stats, i, look, k if formal else None, (planned or {}).get(look.name)))
        k += formal
    by_look = [Probability.from_counts(c[f"stop{j}_conclude"], n) for j in range(k + 1)]
    return ScenarioSummary(
        name=name,
        orr_test=orr[0],
        orr_reference=orr[1],
        primary_orr_test=orr[0] * retention,
        primary_orr_reference=orr[1] * retention,
        replicates=n,
        conclusion=Probability.from_counts(c["concluded"], n),
        conclude_by_look=tuple(p.estimate for p in by_look),
        conclude_by_look_se=tuple(p.se for p in by_look),
        futility_by_look=tuple(c[f"stop{j}_futility"] / n for j in range(k)),
        final_conclusion=Probability.from_counts(c["final_conclusion"], n),
        sample_size=MeanEstimate.from_moment(m["sample_size"]),
        evaluable_at_stop=MeanEstimate.from_moment(m["evaluable_at_stop"]),
        duration_months=MeanEstimate.from_moment(m["duration_months"]),
        final_estimate=Distribution.of(stats.samples["final_estimate"]),
        pfs_events=MeanEstimate.from_moment(m["pfs_events_final"]),
        os_events=MeanEstimate.from_moment(m["os_events_final"]),
        looks=tuple(looks),
    )


NULL_MEANS = (
    "null stands for a number that is not finite: an infinite boundary (the look can never "
    "stop the trial), an infinite ratio estimate (no reference responder), or nothing to "
    "estimate (no replicate defines it)"
)


def _jsonable(value: Any) -> Any:
    """Plain JSON types: tuples to lists, non-finite floats to ``None`` (see NULL_MEANS)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


@dataclass(frozen=True)
class SimulationResult:
    """Operating characteristics of a design, from :func:`~equitrial.design.simulate.simulate`.

    ``scenarios`` holds ``"alternative"`` (the spec's response rates: its conclusion
    probability is the power) and, at the margins, ``"null_lower"`` and (for equivalence)
    ``"null_upper"`` (their conclusion probabilities are the type I errors).
    ``detection_probability``: probability that a responder who does not drop out counts as a
    primary responder; ``retention``: the share of those the dropout leaves (ITT rate over the
    spec's rate). ``formal_looks`` names the looks of ``conclude_by_look`` (the formal
    interims, then ``"final"``); ``warnings`` says what in the design cannot work as meant
    (a look with nobody evaluable, an infinite boundary, a look after the last patient's
    primary time point), each with what to change.
    """

    spec: TrialSpec
    replicates: int
    seed: int
    chunk_size: int
    detection_probability: float
    retention: float
    scenarios: tuple[ScenarioSummary, ...]
    seconds: float
    parquet_path: str | None = None
    formal_looks: tuple[str, ...] = ("final",)
    warnings: tuple[str, ...] = ()

    def scenario(self, name: str) -> ScenarioSummary:
        """The scenario called ``name``."""
        for s in self.scenarios:
            if s.name == name:
                return s
        raise KeyError(name)

    @property
    def power(self) -> Probability:
        """Probability of concluding under the spec's response rates."""
        return self.scenario("alternative").conclusion

    @property
    def type_i_error(self) -> dict[str, Probability]:
        """Probability of concluding with the true effect at each margin, by scenario name."""
        return {s.name: s.conclusion for s in self.scenarios if s.name.startswith("null")}

    def to_dict(self) -> dict[str, Any]:
        """Everything as JSON-ready types (non-finite floats as null, ``null_means`` says why)."""
        out = dataclasses.asdict(self)
        out["null_means"] = NULL_MEANS
        out["power"] = dataclasses.asdict(self.power)
        out["type_i_error"] = {k: dataclasses.asdict(v) for k, v in self.type_i_error.items()}
        return dict(_jsonable(out))


def write_parquet(path: Path, scenario_columns: Mapping[str, Mapping[str, NDArray[Any]]]) -> None:
    """One row per replicate and scenario, with a ``scenario`` and a ``replicate`` column."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    tables = []
    for name, columns in scenario_columns.items():
        n = len(next(iter(columns.values())))
        data: dict[str, Any] = {"scenario": pa.array([name] * n), "replicate": np.arange(n)}
        data.update({k: np.asarray(v) for k, v in columns.items()})
        tables.append(pa.table(data))
    pq.write_table(pa.concat_tables(tables), path)
