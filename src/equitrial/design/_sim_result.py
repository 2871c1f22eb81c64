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

from equitrial.design._sim_spec import TrialSpec

__all__ = [
    "Distribution",
    "InterimSummary",
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
        p = float(np.mean(flags))
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
class InterimSummary:
    """What the interim shows, and how often it already shows what the final will."""

    evaluable: Probability
    conclusion: Probability
    conclusion_and_final: Probability
    agreement: Probability
    final_given_interim: Probability
    patients: MeanEstimate
    estimate: Distribution | None
    pfs_events: MeanEstimate
    os_events: MeanEstimate


@dataclass(frozen=True)
class ScenarioSummary:
    """Operating characteristics of one scenario (true response rates).

    ``orr_*`` are the primary-endpoint response probabilities without dropout (the spec's);
    ``primary_orr_*`` the intention-to-treat rates with dropouts as non-responders, whose ratio
    or difference is what the margins are about (the estimand).
    """

    name: str
    orr_test: float
    orr_reference: float
    primary_orr_test: float
    primary_orr_reference: float
    replicates: int
    conclusion: Probability
    duration_months: MeanEstimate
    final_estimate: Distribution | None
    pfs_events: MeanEstimate
    os_events: MeanEstimate
    interim: InterimSummary | None


def summarize(
    name: str,
    orr: tuple[float, float],
    retention: float,
    columns: Mapping[str, NDArray[Any]],
) -> ScenarioSummary:
    """Summaries of one scenario's per-replicate columns."""
    final = columns["final_conclusion"].astype(bool)
    interim = None
    if "interim_conclusion" in columns:
        early = columns["interim_conclusion"].astype(bool)
        interim = InterimSummary(
            evaluable=Probability.of(columns["interim_evaluable"].astype(bool)),
            conclusion=Probability.of(early),
            conclusion_and_final=Probability.of(early & final),
            agreement=Probability.of(early == final),
            final_given_interim=Probability.of(final[early]),
            patients=MeanEstimate.of(columns["interim_n_test"] + columns["interim_n_reference"]),
            estimate=Distribution.of(columns["interim_estimate"]),
            pfs_events=MeanEstimate.of(columns["pfs_events_interim"]),
            os_events=MeanEstimate.of(columns["os_events_interim"]),
        )
    return ScenarioSummary(
        name=name,
        orr_test=orr[0],
        orr_reference=orr[1],
        primary_orr_test=orr[0] * retention,
        primary_orr_reference=orr[1] * retention,
        replicates=int(final.size),
        conclusion=Probability.of(final),
        duration_months=MeanEstimate.of(columns["duration_months"]),
        final_estimate=Distribution.of(columns["final_estimate"]),
        pfs_events=MeanEstimate.of(columns["pfs_events_final"]),
        os_events=MeanEstimate.of(columns["os_events_final"]),
        interim=interim,
    )


def _jsonable(value: Any) -> Any:
    """Plain JSON types: tuples to lists, non-finite floats to the strings "inf", "-inf", "nan"."""
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
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
    spec's rate).
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
        """Everything as JSON-ready types (non-finite floats as strings)."""
        out = dataclasses.asdict(self)
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
