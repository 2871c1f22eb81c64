"""Design assumptions: response rates, accrual, dropout, PFS/OS models, power, sample size."""

from __future__ import annotations

import math
from typing import Annotated, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from pydantic import Field, Strict, model_validator

from equitrial.protocol._base import Issue, Model, raise_issues
from equitrial.protocol._limits import MAX_SAMPLE_SIZE

__all__ = [
    "Accrual",
    "Assumptions",
    "CureMixture",
    "Exponential",
    "HazardPiece",
    "PiecewiseExponential",
    "SurvivalModel",
]

Positive = Annotated[float, Field(gt=0, allow_inf_nan=False)]
Probability = Annotated[float, Field(ge=0, le=1)]


class Accrual(Model):
    """``[assumptions.accrual]``: sites opened linearly over ``activation_months``, each then
    recruiting ``rate_per_site_per_month`` patients (a Poisson rate).

    Attributes
    ----------
    sites
        Number of sites.
    activation_months
        Months over which the sites open, linearly (0: all at once).
    rate_per_site_per_month
        Patients recruited per open site per month.
    """

    sites: int = Field(ge=1)
    activation_months: float = Field(ge=0, allow_inf_nan=False)
    rate_per_site_per_month: Positive


class Exponential(Model):
    """``model = "exponential"``: constant hazard ``log(2) / median_months``.

    Attributes
    ----------
    model
        ``"exponential"``.
    median_months
        Median survival, in months.
    """

    model: Literal["exponential"]
    median_months: Positive

    def survival(self, months: ArrayLike) -> NDArray[np.float64]:
        """``S(t) = exp(-log(2) t / median)``."""
        t = np.asarray(months, dtype=float)
        return np.asarray(np.exp(-math.log(2.0) * t / self.median_months))


class HazardPiece(Model):
    """One piece: constant ``hazard`` (per month) from ``start_month`` on.

    Attributes
    ----------
    start_month
        Where the piece starts, in months (the first piece starts at 0).
    hazard
        The hazard on the piece, per month (0: a plateau).
    """

    start_month: float = Field(ge=0, allow_inf_nan=False)
    hazard: float = Field(ge=0, allow_inf_nan=False)


class PiecewiseExponential(Model):
    """``model = "piecewise-exponential"``: pieces start at 0, in increasing order; the last
    hazard holds for ever (it may be 0: a plateau)."""

    model: Literal["piecewise-exponential"]
    pieces: Annotated[tuple[HazardPiece, ...], Strict(False)]

    @model_validator(mode="after")
    def _check(self) -> PiecewiseExponential:
        issues = []
        if not self.pieces:
            issues.append(Issue(("pieces",), [], "is empty; expected at least one piece"))
        elif self.pieces[0].start_month != 0:
            msg = "expected the first piece to start at month 0"
            issues.append(Issue(("pieces", 0, "start_month"), self.pieces[0].start_month, msg))
        for i in range(1, len(self.pieces)):
            prev, start = self.pieces[i - 1].start_month, self.pieces[i].start_month
            if start <= prev:
                msg = f"expected a start after the previous piece's ({prev:g})"
                issues.append(Issue(("pieces", i, "start_month"), start, msg))
        raise_issues(issues)
        return self

    def survival(self, months: ArrayLike) -> NDArray[np.float64]:
        """``S(t) = exp(-sum_k h_k * |[s_k, s_{k+1}) ∩ [0, t)|)``."""
        t = np.asarray(months, dtype=float)
        starts = np.array([p.start_month for p in self.pieces])
        hazards = np.array([p.hazard for p in self.pieces])
        ends = np.append(starts[1:], np.inf)
        exposure = np.clip(t[..., None], starts, ends) - starts
        return np.asarray(np.exp(-(exposure * hazards).sum(axis=-1)))


class CureMixture(Model):
    """``model = "cure-mixture"``: ``S(t) = c + (1 - c) exp(-log(2) t / m)`` with cure fraction
    ``c`` (``0 <= c < 1``) and median ``m`` of the uncured.

    Attributes
    ----------
    model
        ``"cure-mixture"``.
    cure_fraction
        The fraction ``c`` never at risk of the event.
    median_uncured_months
        The median ``m`` of the uncured, in months.
    """

    model: Literal["cure-mixture"]
    cure_fraction: float = Field(ge=0, lt=1)
    median_uncured_months: Positive

    def survival(self, months: ArrayLike) -> NDArray[np.float64]:
        """``S(t) = c + (1 - c) exp(-log(2) t / m)``."""
        t = np.asarray(months, dtype=float)
        c = self.cure_fraction
        return np.asarray(c + (1 - c) * np.exp(-math.log(2.0) * t / self.median_uncured_months))


SurvivalModel = Annotated[
    Exponential | PiecewiseExponential | CureMixture, Field(discriminator="model")
]


class Assumptions(Model):
    """``[assumptions]``: what the sample size and the simulator assume.

    Attributes
    ----------
    sample_size
        Total number of patients randomized (2 to 100,000).
    power, alpha
        Target power and the one-sided level of each one-sided test (for equivalence at a 90 %
        two-sided interval, 0.05; it must equal ``(1 - hypothesis.level) / 2``).
    response_rate
        Expected response probability (primary endpoint) by arm code; every arm exactly once.
    dropout_per_year
        Proportion of patients lost to follow-up within a year (``0 <= p < 1``).
    accrual
        :class:`Accrual`.
    pfs, os
        Time-to-event models (months) assumed for both arms, one of :class:`Exponential`,
        :class:`PiecewiseExponential`, :class:`CureMixture` (key ``model``).
    """

    sample_size: int = Field(ge=2, le=MAX_SAMPLE_SIZE)
    power: float = Field(gt=0, lt=1)
    alpha: float = Field(gt=0, lt=0.5)
    response_rate: dict[str, Probability]
    dropout_per_year: float = Field(ge=0, lt=1)
    accrual: Accrual
    pfs: SurvivalModel
    os: SurvivalModel
