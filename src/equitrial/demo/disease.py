"""The course of a randomized virtual patient's melanoma: lesions, scans, progression, death.

Pure. The patient's response, progression-free and overall survival come from the protocol's
assumptions (``[assumptions]``: the response rate of its arm, the PFS and OS models), joined by
a Gaussian copula so that responders tend to progress late; the tumour-size model then draws
lesions whose measured sums follow that course, read independently by the investigator and
by the blinded central reader (measurement error, and now and then a disagreement on a
non-target lesion). Some non-responders show pseudo-progression: growth at the first scan, then
shrinkage (RECIST 1.1 calls it progression; iRECIST an unconfirmed iUPD).

Sizes: a responder's target sum shrinks by 40 to 100 % (so measurement error does not move it
across the -30 % PR threshold), a patient with stable disease changes by -20 % to +12 %, a
progression grows by 25 to 60 % over the nadir or shows a new lesion (Eisenhauer et al. 2009:
PR -30 %, PD +20 % and 5 mm).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr, ndtri

__all__ = ["Course", "LesionSpec", "Scan", "draw_course", "survival_inverse"]

_ORGANS = (
    ("lung", False),
    ("liver", False),
    ("lymph node", True),
    ("skin", False),
    ("soft tissue", False),
    ("adrenal", False),
)
_RHO_RESPONSE_PFS = 0.7
_RHO_PFS_OS = 0.6
_PSEUDO_PROGRESSION = 0.05
_READER_CV = 0.04
_DISAGREEMENT = 0.03


@dataclass(frozen=True)
class LesionSpec:
    """A lesion followed by both readers."""

    code: str
    organ: str
    nodal: bool
    role: str  # "target", "non-target" or "new"
    baseline_mm: float


@dataclass(frozen=True)
class Scan:
    """One imaging date: each reader's measurements (``lesion_code``, ``status``,
    ``diameter_mm``) and the new lesions first seen at it."""

    date: dt.date
    reads: dict[str, list[dict[str, object]]]
    new_lesions: tuple[LesionSpec, ...] = ()


@dataclass(frozen=True)
class Course:
    """What happens to the patient's disease, in dates."""

    lesions: tuple[LesionSpec, ...]
    scans: tuple[Scan, ...]
    responder: bool
    pseudo_progression: bool
    progression: dt.date | None  # the first scan that shows RECIST 1.1 progression (truth)
    stop: (
        dt.date | None
    )  # the scan whose progression ends treatment (later after pseudo-progression)
    death: dt.date | None
    death_cause: str | None


def survival_inverse(survival: Callable[[np.ndarray], np.ndarray]) -> Callable[[float], float]:
    """``S^-1``: months at which the survival function falls to ``s`` (``inf`` below its
    value at 40 years: a cure plateau)."""
    grid = np.linspace(0.0, 480.0, 48001)
    values = np.asarray(survival(grid), dtype=float)

    def inverse(s: float) -> float:
        if s <= values[-1]:
            return math.inf
        # values decrease: find the first grid point where S <= s, interpolate linearly
        i = int(np.searchsorted(-values, -s, side="left"))
        if i == 0:
            return 0.0
        s0, s1 = values[i - 1], values[i]
        return float(grid[i - 1] + (grid[i] - grid[i - 1]) * (s0 - s) / (s0 - s1))

    return inverse


def _lesions(rng: np.random.Generator) -> list[LesionSpec]:
    """1 to 5 measurable targets (at most 2 per organ; non-nodal >= 10 mm, nodes >= 15 mm short
    axis, RECIST 1.1) and 0 to 2 non-targets."""
    count = int(rng.choice([1, 2, 3, 4, 5], p=[0.15, 0.3, 0.3, 0.15, 0.1]))
    per_organ: dict[str, int] = {}
    out: list[LesionSpec] = []
    while len(out) < count:
        organ, nodal = _ORGANS[int(rng.integers(len(_ORGANS)))]
        if per_organ.get(organ, 0) == 2:
            continue
        per_organ[organ] = per_organ.get(organ, 0) + 1
        if nodal:
            size = rng.uniform(18, 40)
        else:
            size = float(np.clip(rng.lognormal(math.log(24), 0.45), 13, 95))
        out.append(LesionSpec(f"T{len(out) + 1}", organ, nodal, "target", round(float(size))))
    for i in range(int(rng.choice([0, 1, 2], p=[0.4, 0.4, 0.2]))):
        organ, nodal = _ORGANS[int(rng.integers(len(_ORGANS)))]
        out.append(LesionSpec(f"NT{i + 1}", organ, nodal, "non-target", 0.0))
    return out


def _change(
    week: float, *, responder: bool, depth: float, t_resp: float, sd: float, pseudo: bool
) -> float:
    """The true fractional change of the target sum from baseline at ``week`` (before any
    progression)."""
    if pseudo:
        return 0.45 if week < 12 else -0.2
    if responder:
        return depth * min(1.0, week / t_resp)
    return sd


def _read(lesion: LesionSpec, change: float, rng: np.random.Generator) -> dict[str, object]:
    if lesion.role == "non-target":
        return {"lesion_code": lesion.code, "status": "absent" if change <= -0.95 else "present"}
    size = lesion.baseline_mm * max(0.0, 1.0 + change) * rng.lognormal(0.0, _READER_CV)
    if lesion.nodal:
        return {
            "lesion_code": lesion.code,
            "status": "measured",
            "diameter_mm": round(max(size, 4.0)),
        }
    if change <= -0.95:
        return {"lesion_code": lesion.code, "status": "disappeared"}
    if size < 5.0:
        return {"lesion_code": lesion.code, "status": "too small to measure"}
    return {"lesion_code": lesion.code, "status": "measured", "diameter_mm": round(size)}


@dataclass(frozen=True)
class _Latent:
    """The patient's hidden course: response, its depth and time, stable-disease change,
    pseudo-progression, and the weeks to progression and to death (``inf``: none)."""

    responder: bool
    depth: float
    t_resp: float
    sd: float
    pseudo: bool
    pfs_weeks: float
    os_weeks: float

    def change(self, week: float) -> float:
        """The true fractional change of the target sum at ``week`` before any progression."""
        return _change(week, responder=self.responder, depth=self.depth, t_resp=self.t_resp,
                       sd=self.sd, pseudo=self.pseudo)  # fmt: skip


def _latent(
    rng: np.random.Generator,
    response_rate: float,
    pfs_inverse: Callable[[float], float],
    os_inverse: Callable[[float], float],
) -> _Latent:
    z_pfs = rng.standard_normal()
    z_resp = _RHO_RESPONSE_PFS * z_pfs + math.sqrt(1 - _RHO_RESPONSE_PFS**2) * rng.standard_normal()
    z_os = _RHO_PFS_OS * z_pfs + math.sqrt(1 - _RHO_PFS_OS**2) * rng.standard_normal()
    responder = bool(z_resp > ndtri(1.0 - response_rate))
    pfs_weeks = pfs_inverse(float(ndtr(-z_pfs))) * 30.4375 / 7
    os_weeks = os_inverse(float(ndtr(-z_os))) * 30.4375 / 7
    depth = float(rng.uniform(-1.0, -0.42)) if responder else 0.0
    t_resp = float(rng.choice([9.0, 18.0], p=[0.7, 0.3]))
    pseudo = not responder and rng.random() < _PSEUDO_PROGRESSION
    sd = float(rng.uniform(-0.20, 0.12))
    if responder:
        pfs_weeks = max(pfs_weeks, t_resp + 12.0)  # a response is seen before progression
    if pseudo:
        pfs_weeks = max(pfs_weeks, 30.0)
    return _Latent(responder, depth, t_resp, sd, pseudo, pfs_weeks, os_weeks)


def _progressing(
    rng: np.random.Generator, nadir: float, change: float
) -> tuple[float, tuple[LesionSpec, ...]]:
    """A progression: a new lesion (always after a complete response), or growth of the
    target sum by 25 to 60 % over its nadir."""
    if nadir <= -0.9 or rng.random() < 0.35:
        organ, nodal = _ORGANS[int(rng.integers(len(_ORGANS)))]
        return change, (LesionSpec("N1", organ, nodal, "new", 0.0),)
    return (1.0 + nadir) * rng.uniform(1.25, 1.6) - 1.0, ()


def _reads(
    rng: np.random.Generator,
    lesions: list[LesionSpec],
    change: float,
    new: tuple[LesionSpec, ...],
    disagree: bool,
) -> dict[str, list[dict[str, object]]]:
    reads = {r: [_read(x, change, rng) for x in lesions] for r in ("investigator", "central")}
    for x in new:
        for r in reads:
            reads[r].append({"lesion_code": x.code, "status": "present"})
    if disagree:  # the investigator sees unequivocal growth of a non-target lesion; central not
        for item in reads["investigator"]:
            if str(item["lesion_code"]).startswith("NT"):
                item["status"] = "unequivocal progression"
                break
    return reads


def draw_course(
    rng: np.random.Generator,
    *,
    day1: dt.date,
    response_rate: float,
    pfs_inverse: Callable[[float], float],
    os_inverse: Callable[[float], float],
    scan_weeks: list[float],
    end: dt.date,
) -> Course:
    """Draw one patient's course from randomization (``day1``) to ``end`` (the last day of
    the study).

    The response is decided with probability ``response_rate`` (the patient's arm) and
    becomes visible at week 9 or 18, inside the primary endpoint's 24 weeks.
    """
    hidden = _latent(rng, response_rate, pfs_inverse, os_inverse)
    lesions = _lesions(rng)
    baseline = day1 - dt.timedelta(days=int(rng.integers(3, 15)))
    scans = [Scan(baseline, _reads(rng, lesions, 0.0, (), False))]
    death = None
    if math.isfinite(hidden.os_weeks):
        death = day1 + dt.timedelta(days=round(hidden.os_weeks * 7))
        death = None if death > end else death
    progression = stop = None
    nadir = 0.0
    for week in scan_weeks:
        date = day1 + dt.timedelta(days=round(week * 7) + int(rng.integers(-3, 4)))
        if date > end or (death is not None and date >= death):
            break
        change = hidden.change(week)
        new: tuple[LesionSpec, ...] = ()
        early_pseudo = hidden.pseudo and week < 12
        progressed = week >= hidden.pfs_weeks or early_pseudo
        if progressed and not early_pseudo:
            change, new = _progressing(rng, nadir, change)
        nadir = min(nadir, change)
        disagree = not progressed and rng.random() < _DISAGREEMENT
        scans.append(Scan(date, _reads(rng, lesions, change, new, disagree), new))
        if progressed:
            progression = progression or date
            if not early_pseudo:
                stop = date
                break
    cause = None
    if death is not None:
        cause = "PROGRESSIVE DISEASE" if progression is not None or rng.random() < 0.8 else "OTHER"
    return Course(
        tuple(lesions),
        tuple(scans),
        hidden.responder,
        hidden.pseudo,
        progression,
        stop,
        death,
        cause,
    )
