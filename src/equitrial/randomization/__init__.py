"""Allocation algorithms (pure, reproducible from a seed) and their persistent service.

The pure algorithms are re-exported here: stratified permuted blocks with random block sizes
(:mod:`equitrial.randomization.blocks`) and Pocock–Simon minimization with a random element
(:mod:`equitrial.randomization.minimization`). The database-backed, concurrency-safe service
lives in :mod:`equitrial.randomization.service` (imported on its own: it needs the store).
"""

from equitrial.randomization.blocks import (
    BlockSchedule,
    check_ratio,
    permuted_blocks,
    stratum_key,
    stratum_schedule,
    stratum_seed,
)
from equitrial.randomization.minimization import (
    Imbalance,
    MinimizationDecision,
    level_counts,
    minimization_probabilities,
    minimization_scores,
    minimize,
)

__all__ = [
    "BlockSchedule",
    "Imbalance",
    "MinimizationDecision",
    "check_ratio",
    "level_counts",
    "minimization_probabilities",
    "minimization_scores",
    "minimize",
    "permuted_blocks",
    "stratum_key",
    "stratum_schedule",
    "stratum_seed",
]
