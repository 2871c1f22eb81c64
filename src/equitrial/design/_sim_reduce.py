"""Mergeable per-chunk summaries of the trial simulator: what a worker sends back.

A chunk of replicates reduces to counts of events (for probabilities), count, mean and sum of
squared deviations (for means; merged by Chan, Golub and LeVeque's pairwise update) and the
estimates themselves (for their quantiles: one float per replicate and look). Merging the
chunks in any grouping gives the same summaries as the whole arrays, to rounding.

References
----------
.. [1] Chan TF, Golub GH, LeVeque RJ. Algorithms for computing the sample variance: analysis
   and recommendations. *Am Stat* 1983;37:242-247.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from equitrial.design._sim_analysis import Columns, run_scenario
from equitrial.design._sim_spec import TrialSpec

__all__ = ["ChunkStats", "merge", "reduce_chunk", "run_chunk"]

Moment = tuple[int, float, float]  # count, mean, sum of squared deviations


@dataclass
class ChunkStats:
    """Counts of flags, moments of quantities and the estimates of some replicates."""

    n: int
    counts: dict[str, int] = field(default_factory=dict)
    moments: dict[str, Moment] = field(default_factory=dict)
    samples: dict[str, NDArray[np.float64]] = field(default_factory=dict)


def _moment(values: NDArray[np.generic]) -> Moment:
    v = np.asarray(values, dtype=np.float64)
    mean = float(v.mean())
    return int(v.size), mean, float(np.sum((v - mean) ** 2))


def _merge_moments(a: Moment, b: Moment) -> Moment:
    n = a[0] + b[0]
    delta = b[1] - a[1]
    return n, a[1] + delta * b[0] / n, a[2] + b[2] + delta * delta * a[0] * b[0] / n


def reduce_chunk(spec: TrialSpec, cols: Columns) -> ChunkStats:
    """The summaries :func:`equitrial.design._sim_result.summarize` needs, from one chunk."""
    flags: dict[str, NDArray[np.bool_]] = {}
    stop, concluded = cols["stop_look"], cols["concluded"].astype(bool)
    final = cols["final_conclusion"].astype(bool)
    n_formal = sum(look.critical is not None for look in spec.analysis.interims) + 1
    flags["concluded"] = concluded
    flags["final_conclusion"] = final
    for k in range(n_formal):
        flags[f"stop{k}_conclude"] = (stop == k) & concluded
        flags[f"stop{k}_futility"] = (stop == k) & ~concluded & (k < n_formal - 1)
    means = ["sample_size", "evaluable_at_stop", "duration_months"]
    means += ["pfs_events_final", "os_events_final"]
    samples = ["final_estimate"]
    for i in range(1, len(spec.analysis.interims) + 1):
        p = f"interim{i}_"
        early = cols[p + "conclusion"].astype(bool)
        flags[p + "conclusion"] = early
        flags[p + "evaluable"] = cols[p + "evaluable"].astype(bool)
        flags[p + "after_primary"] = cols[p + "after_primary"].astype(bool)
        flags[p + "conclusion_and_final"] = early & final
        flags[p + "agreement"] = early == final
        running = cols["duration_months"] >= cols[p + "months"]
        flags[p + "reached"] = (stop == n_formal - 1) | running
        if p + "futility" in cols:
            flags[p + "futility"] = cols[p + "futility"].astype(bool)
        cols = {**cols, p + "patients": cols[p + "n_test"] + cols[p + "n_reference"]}
        means += [p + q for q in ("months", "enrolled", "patients", "pfs_events", "os_events")]
        samples.append(p + "estimate")
    return ChunkStats(
        n=int(stop.size),
        counts={k: int(np.count_nonzero(v)) for k, v in flags.items()},
        moments={k: _moment(cols[k]) for k in means},
        samples={k: np.asarray(cols[k], dtype=np.float64) for k in samples},
    )


def merge(chunks: Sequence[ChunkStats]) -> ChunkStats:
    """One :class:`ChunkStats` for all ``chunks`` (at least one), samples in chunk order."""
    first = chunks[0]
    counts, moments = dict(first.counts), dict(first.moments)
    for c in chunks[1:]:
        for k, count in c.counts.items():
            counts[k] += count
        for k, m in c.moments.items():
            moments[k] = _merge_moments(moments[k], m)
    samples = {k: np.concatenate([c.samples[k] for c in chunks]) for k in first.samples}
    return ChunkStats(sum(c.n for c in chunks), counts, moments, samples)


def run_chunk(
    spec: TrialSpec,
    ever: tuple[float, float],
    seed: np.random.SeedSequence,
    n_rows: int,
    keep_columns: bool,
) -> tuple[ChunkStats, Columns | None]:
    """Simulate one chunk and reduce it; the per-replicate columns too if ``keep_columns``."""
    cols = run_scenario(spec, ever, seed, n_rows)
    return reduce_chunk(spec, cols), (cols if keep_columns else None)
