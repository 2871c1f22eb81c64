"""Survival analysis: Kaplan–Meier, log-rank, Cox proportional hazards, RMST.

A thin public namespace over private implementation modules, one per method family.
Every result matches R's ``survival`` package (``survfit``, ``survdiff``, ``coxph``); see
``tests/reference/survival*.R`` for the R calls that produced the reference values.
"""

from equitrial.stats.survival._cox import CoxResult, cox_ph
from equitrial.stats.survival._km import KaplanMeier, kaplan_meier
from equitrial.stats.survival._logrank import LogRankResult, logrank
from equitrial.stats.survival._rmst import RMSTDifference, RMSTResult, rmst, rmst_difference

__all__ = [
    "CoxResult",
    "KaplanMeier",
    "LogRankResult",
    "RMSTDifference",
    "RMSTResult",
    "cox_ph",
    "kaplan_meier",
    "logrank",
    "rmst",
    "rmst_difference",
]
