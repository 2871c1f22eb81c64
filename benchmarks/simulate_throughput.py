"""Benchmark: whole-trial simulator throughput per core, and 1 against 2 Dask workers.

Simulates the flagship protocol (``examples/melanoma-pembrolizumab/protocol.toml``) with the
public API only, ``simulate(spec_from_protocol(load_protocol(...)), replicates=..., seed=1,
workers=...)``, so it measures whatever simulator the tree holds. A trial is one replicate of one
scenario (the alternative and each margin): ``simulate`` runs ``replicates`` trials of each.

1. Trials per second per core: ``workers=1`` (in this process, no Dask) on
   ``--replicates`` replicates, after an untimed warm-up; the goal is 10,000.
2. Dask: the same seed on ``--dask-replicates`` replicates with ``workers=1`` and
   ``workers=2`` (a local cluster of two single-threaded processes, start-up included); the
   goal is 1.7. Both runs must give the same conclusion probabilities (the result does not
   depend on ``workers``): the script prints their differences in Monte-Carlo standard errors.

The last three lines are ``same_result_1_vs_2_workers=<True|False>`` (all conclusion
probabilities within 4 Monte-Carlo SE), ``trials_per_second_per_core=<x>`` and
``dask_speedup_2_vs_1=<ratio>``. Run from the repository root::

    .venv/bin/python benchmarks/simulate_throughput.py            # 20,000 and 200,000
    .venv/bin/python benchmarks/simulate_throughput.py --quick    # 5,000 and 20,000
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from equitrial.design.simulate import SimulationResult, simulate, spec_from_protocol
from equitrial.protocol import load_protocol

PROTOCOL = Path(__file__).resolve().parents[1] / "examples/melanoma-pembrolizumab/protocol.toml"
GOAL_TRIALS_PER_SECOND = 10_000.0
GOAL_DASK_SPEEDUP = 1.7


@contextmanager
def _bar(label: str) -> Iterator[Callable[[int, int], None]]:
    """A progress bar fed by ``simulate``'s ``progress(done, total)`` callback."""
    with Progress(
        TextColumn(label),
        BarColumn(),
        TextColumn("{task.completed:,.0f} trials"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def _run(replicates: int, workers: int, label: str) -> tuple[SimulationResult, float]:
    spec = spec_from_protocol(load_protocol(PROTOCOL))
    with _bar(label) as progress:
        start = time.perf_counter()
        result = simulate(spec, replicates=replicates, seed=1, workers=workers, progress=progress)
        seconds = time.perf_counter() - start
    return result, seconds


def _trials(result: SimulationResult) -> int:
    return result.replicates * len(result.scenarios)


def _compare(a: SimulationResult, b: SimulationResult) -> bool:
    """Print each scenario's conclusion probability in both runs; True if all agree in MC error."""
    same = True
    for sa, sb in zip(a.scenarios, b.scenarios, strict=True):
        p, q = sa.conclusion, sb.conclusion
        se = math.hypot(p.se, q.se)
        z = (p.estimate - q.estimate) / se if se > 0 else 0.0
        same = same and sa.name == sb.name and abs(z) < 4.0
        print(
            f"  {sa.name:12s} 1 worker {p.estimate:.5f}  2 workers {q.estimate:.5f} "
            f"(MC SE {p.se:.5f}; difference {z:+.2f} SE)"
        )
    return same


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=20_000, help="throughput run")
    parser.add_argument("--dask-replicates", type=int, default=200_000, help="1 vs 2 workers")
    parser.add_argument("--quick", action="store_true", help="5,000 and 20,000 replicates")
    args = parser.parse_args(argv)
    replicates, dask_replicates = (
        (5_000, 20_000)
        if args.quick
        else (
            args.replicates,
            args.dask_replicates,
        )
    )
    _run(min(replicates, 1_000), 1, "warm-up")
    result, seconds = _run(replicates, 1, "1 core")
    per_core = _trials(result) / seconds
    print(f"[trials per second per core: {result.replicates:,} replicates x "
          f"{len(result.scenarios)} scenarios in {seconds:.2f} s, workers=1]")  # fmt: skip
    for s in result.scenarios:
        print(
            f"  {s.name:12s} conclusion {s.conclusion.estimate:.5f} (MC SE {s.conclusion.se:.5f})"
        )
    print(
        f"  goal {GOAL_TRIALS_PER_SECOND:,.0f}; "
        f"ratio to goal {per_core / GOAL_TRIALS_PER_SECOND:.3f}"
    )

    one, one_seconds = _run(dask_replicates, 1, "1 worker")
    two, two_seconds = _run(dask_replicates, 2, "2 workers")
    speedup = one_seconds / two_seconds
    print(f"[Dask: {dask_replicates:,} replicates, 1 worker {one_seconds:.2f} s, "
          f"2 workers {two_seconds:.2f} s]")  # fmt: skip
    same = _compare(one, two)
    print(f"  goal {GOAL_DASK_SPEEDUP}; ratio to goal {speedup / GOAL_DASK_SPEEDUP:.3f}")
    print(f"same_result_1_vs_2_workers={same}")
    print(f"trials_per_second_per_core={per_core:.1f}")
    print(f"dask_speedup_2_vs_1={speedup:.3f}")


if __name__ == "__main__":
    main()
