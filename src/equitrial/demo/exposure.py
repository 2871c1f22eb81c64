"""Pharmacokinetics, anti-drug antibodies and QLQ-C30 answers of a virtual patient.

Pure. Concentrations follow :class:`~equitrial.demo.assumptions.PkModel`: one compartment of
volume V, intravenous doses given as boluses (a 30-minute infusion against a 3-week half-life),
clearance falling from CL_1 to CL_ss along ``CL(t) = CL_ss + (CL_1 - CL_ss) / (1 + (t/t50)^2)``
(t in days since the first dose), whose integral is closed-form,
``A(t) = CL_ss t + (CL_1 - CL_ss) t50 atan(t / t50)``, so that a dose D given at t_i leaves
``D / V exp(-(A(t) - A(t_i)) / V)`` at t. ADA-positive patients clear ``ada_clearance_factor``
times faster from their ADA onset.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from equitrial.demo.assumptions import PK, PkModel

__all__ = ["AdaStatus", "PkSubject", "concentration", "draw_ada", "draw_pk_subject", "qlq_answers"]


@dataclass(frozen=True)
class PkSubject:
    """A patient's own PK parameters (clearances in L/day, volume in L)."""

    cl_first: float
    cl_ss: float
    volume: float
    ada_onset_day: float | None = None
    model: PkModel = PK


@dataclass(frozen=True)
class AdaStatus:
    """Whether and from which day after the first dose the patient has anti-drug antibodies,
    their titre and whether they neutralize."""

    onset_day: int | None
    titre: float | None
    neutralizing: bool

    def result(self, day: float) -> tuple[str, str | None, float | None, str | None]:
        """(screening, confirmatory, titre, neutralizing) of a sample taken on ``day``."""
        if self.onset_day is None or day < self.onset_day:
            return "NEGATIVE", None, None, None
        return "POSITIVE", "POSITIVE", self.titre, "POSITIVE" if self.neutralizing else "NEGATIVE"


def draw_ada(rng: np.random.Generator, model: PkModel = PK) -> AdaStatus:
    """Treatment-emergent ADA with the label's incidence, from week 3 to week 21."""
    if rng.random() >= model.ada_incidence:
        return AdaStatus(None, None, False)
    titre = float(2 ** int(rng.integers(3, 10)))
    return AdaStatus(
        int(rng.integers(21, 148)), titre, bool(rng.random() < model.ada_neutralizing_share)
    )


def draw_pk_subject(rng: np.random.Generator, ada: AdaStatus, model: PkModel = PK) -> PkSubject:
    """A patient's PK parameters: log-normal around the model's typical values (the CV of CL
    applies to both clearances, the patient keeping its ratio)."""
    eta_cl = rng.normal(0.0, math.sqrt(math.log1p(model.cv_cl**2)))
    eta_v = rng.normal(0.0, math.sqrt(math.log1p(model.cv_v**2)))
    factor = math.exp(eta_cl)
    return PkSubject(
        model.cl_first_l_per_day * factor,
        model.cl_ss_l_per_day * factor,
        model.volume_l * math.exp(eta_v),
        None if ada.onset_day is None else float(ada.onset_day),
        model,
    )


def _cleared(subject: PkSubject, t: float) -> float:
    """``A(t)``: the integral of clearance from day 0 to day ``t`` (litres)."""
    t50 = subject.model.t50_days
    a = subject.cl_ss * t + (subject.cl_first - subject.cl_ss) * t50 * math.atan(t / t50)
    onset = subject.ada_onset_day
    if onset is not None and t > onset:
        extra = subject.model.ada_clearance_factor - 1.0
        a0 = subject.cl_ss * onset + (subject.cl_first - subject.cl_ss) * t50 * math.atan(
            onset / t50
        )
        a += extra * (a - a0)
    return a


def concentration(subject: PkSubject, doses: Sequence[tuple[float, float]], t: float) -> float:
    """Serum concentration (ug/mL) on day ``t`` after the first dose, from the doses
    ``(day, mg)`` given before ``t`` (a dose at ``t`` itself is not yet in: a pre-dose
    sample)."""
    total = 0.0
    at = _cleared(subject, t)
    for day, mg in doses:
        if day < t:
            total += mg / subject.volume * math.exp(-(at - _cleared(subject, day)) / subject.volume)
    return total


def qlq_answers(rng: np.random.Generator, health: float) -> dict[int, int | None]:
    """The 30 answers of the EORTC QLQ-C30 for a latent health in [0, 1] (1 = best).

    Items 1-28: 1 (not at all) to 4 (very much), higher = worse; items 29-30 (global health):
    1 (very poor) to 7 (excellent). About one answer in a hundred is left blank.
    """
    out: dict[int, int | None] = {}
    for item in range(1, 31):
        if rng.random() < 0.01:
            out[item] = None
        elif item <= 28:
            out[item] = int(np.clip(round(1 + 3 * (1 - health) + rng.normal(0, 0.6)), 1, 4))
        else:
            out[item] = int(np.clip(round(1 + 6 * health + rng.normal(0, 0.8)), 1, 7))
    return out


def hours(delta: dt.timedelta) -> float:
    """A time difference in hours."""
    return delta.total_seconds() / 3600.0
