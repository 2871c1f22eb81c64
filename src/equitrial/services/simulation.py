"""Use case: simulate a protocol's operating characteristics (no database involved)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from equitrial.design.simulate import (
    SimulationResult,
    planned_looks,
    simulate,
    spec_from_protocol,
)
from equitrial.protocol import Protocol

__all__ = ["simulate_protocol"]


def simulate_protocol(
    protocol: Protocol,
    *,
    replicates: int,
    seed: int,
    workers: int = 1,
    scheduler: str | None = None,
    out_dir: str | Path | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> SimulationResult:
    """Simulate the trial a protocol describes (see :func:`equitrial.design.simulate.simulate`).

    The result depends on ``protocol``, ``replicates`` and ``seed`` only, not on ``workers`` or
    ``scheduler``: the replicates are cut into fixed chunks, each with its own child seed.
    Every look of the protocol's joint group-sequential design is simulated; the design's
    expected month, enrolment and evaluable count of each interim come with the result.
    """
    spec = spec_from_protocol(protocol)
    return simulate(
        spec,
        replicates=replicates,
        seed=seed,
        workers=workers,
        scheduler=scheduler,
        progress=progress,
        out_dir=out_dir,
        planned=planned_looks(protocol),
    )
