"""Adverse events and laboratory values of a virtual patient.

Pure. Each term of :data:`~equitrial.demo.assumptions.AE_PROFILE` happens to a patient with its
published cumulative incidence; its onset is exponential around the term's median onset,
truncated to the time the patient is on treatment plus 30 days (immune-related events also
come late, so an event is kept when treatment stopped earlier for another reason); its grade
follows the term's distribution. Immune-related hepatitis shows in the labs: ALT and AST rise
into the CTCAE band of the event's grade (CTCAE v5.0: grade 1 > ULN - 3 x ULN, grade 2 > 3 - 5 x
ULN, grade 3 > 5 - 20 x ULN, grade 4 > 20 x ULN), so the lab grade derived on save agrees.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np

from equitrial.demo.assumptions import AE_PROFILE, HEPATITIS_INCIDENCE, AdverseEventProfile

__all__ = ["LAB_TESTS", "AdverseEventSpec", "LabTest", "draw_adverse_events", "lab_panel"]

IMMUNE_TERMS = frozenset(
    {
        "Hypothyroidism",
        "Hyperthyroidism",
        "Pneumonitis",
        "Colitis",
        "Rash maculo-papular",
        "Alanine aminotransferase increased",
    }
)
"""The terms the demo treats as immune-related adverse events."""

_STEROID_TERMS = frozenset(
    {"Pneumonitis", "Colitis", "Rash maculo-papular", "Alanine aminotransferase increased"}
)
"""Immune-related terms treated with systemic corticosteroids from grade 2."""

_DISCONTINUE = frozenset({"Pneumonitis", "Colitis", "Alanine aminotransferase increased"})
"""Terms that end treatment from grade 3 (any immune-related term at grade 4); KEYTRUDA label,
section 2.4 (dose modifications)."""


@dataclass(frozen=True)
class AdverseEventSpec:
    """An adverse event as the site will report it."""

    term: str
    grade: int
    onset: dt.date
    end: dt.date | None
    immune: bool

    @property
    def steroids(self) -> bool:
        """Treated with systemic corticosteroids (grade 2 or more of a steroid-treated term)."""
        return self.term in _STEROID_TERMS and self.grade >= 2

    @property
    def withholds_dose(self) -> bool:
        """Dosing is withheld while the event lasts (immune-related, grade 2 or 3)."""
        return self.immune and self.grade >= 2 and self.term != "Hypothyroidism"

    @property
    def ends_treatment(self) -> bool:
        """Treatment stops for good (label dose modifications)."""
        return self.immune and (self.grade >= 4 or (self.grade >= 3 and self.term in _DISCONTINUE))

    @property
    def serious(self) -> bool:
        return self.grade >= 3


@dataclass(frozen=True)
class LabTest:
    """A test of the lab panel: CTCAE term, unit, normal range and a typical value."""

    term: str
    unit: str
    lln: float | None
    uln: float | None
    typical: float
    cv: float


LAB_TESTS: tuple[LabTest, ...] = (
    LabTest("Alanine aminotransferase increased", "U/L", None, 40.0, 22.0, 0.30),
    LabTest("Aspartate aminotransferase increased", "U/L", None, 40.0, 24.0, 0.25),
    LabTest("Blood bilirubin increased", "umol/L", None, 21.0, 9.0, 0.30),
    LabTest("Creatinine increased", "umol/L", 60.0, 110.0, 80.0, 0.15),
    LabTest("Neutrophil count decreased", "10^9/L", 1.8, 7.5, 4.0, 0.30),
    LabTest("Platelet count decreased", "10^9/L", 150.0, 400.0, 250.0, 0.25),
    LabTest("Anemia", "g/L", 120.0, 170.0, 134.0, 0.09),
    LabTest("Hyponatremia", "mmol/L", 135.0, 145.0, 139.0, 0.015),
)
"""Haematology and chemistry at every dosing visit (protocol schedule "labs")."""

_HEPATITIS = AdverseEventProfile(
    "Alanine aminotransferase increased", HEPATITIS_INCIDENCE, (0.2, 0.4, 0.35, 0.05), 8.0, 5.0
)
"""Immune-related hepatitis, reported as ALT increased (grade and timing assumed)."""

_ALT_BAND = {1: (1.3, 2.8), 2: (3.2, 4.8), 3: (5.5, 15.0), 4: (21.0, 30.0)}


def _onset(rng: np.random.Generator, profile: AdverseEventProfile, window_days: float) -> int:
    """Days after the first dose: exponential with the term's median, truncated to the window
    (inverse transform on the truncated distribution)."""
    rate = math.log(2.0) / (profile.onset_weeks * 7.0)
    top = 1.0 - math.exp(-rate * window_days)
    return max(1, int(-math.log(1.0 - rng.random() * top) / rate))


def draw_adverse_events(
    rng: np.random.Generator, day1: dt.date, on_treatment_days: float, end: dt.date
) -> list[AdverseEventSpec]:
    """The patient's adverse events, by onset; ``end`` is the last day of the study (an event
    still going on then has no end date)."""
    window = max(on_treatment_days + 30.0, 30.0)
    profiles = (*AE_PROFILE, _HEPATITIS)
    events = []
    for profile in profiles:
        if rng.random() >= profile.incidence:
            continue
        onset = day1 + dt.timedelta(days=_onset(rng, profile, window))
        if onset > end:
            continue
        grade = int(rng.choice([1, 2, 3, 4], p=profile.grades))
        stop = onset + dt.timedelta(days=max(1, round(rng.exponential(profile.duration_weeks * 7))))
        events.append(
            AdverseEventSpec(
                profile.term,
                grade,
                onset,
                None if stop > end else stop,
                profile.term in IMMUNE_TERMS,
            )
        )
    return sorted(events, key=lambda e: (e.onset, e.term))


def lab_panel(
    rng: np.random.Generator,
    baseline: dict[str, float],
    on: dt.date,
    events: list[AdverseEventSpec],
) -> list[tuple[LabTest, float]]:
    """The panel's values on ``on``: each test's patient baseline with visit-to-visit noise;
    ALT and AST in the CTCAE band of an ongoing hepatitis."""
    hepatitis = [
        e
        for e in events
        if e.term == "Alanine aminotransferase increased"
        and e.onset <= on
        and (e.end is None or on <= e.end)
    ]
    out = []
    for test in LAB_TESTS:
        value = baseline[test.term] * rng.lognormal(0.0, test.cv / 2)
        if hepatitis and test.term.endswith("aminotransferase increased") and test.uln:
            low, high = _ALT_BAND[hepatitis[0].grade]
            value = (
                test.uln
                * rng.uniform(low, high)
                * (1.0 if test.term.startswith("Alanine") else 0.8)
            )
        digits = 2 if test.typical < 10 else (1 if test.typical < 100 else 0)
        out.append((test, round(float(value), digits)))
    return out


def lab_baseline(rng: np.random.Generator) -> dict[str, float]:
    """A patient's own typical value of each test (log-normal around the population's)."""
    return {t.term: t.typical * float(rng.lognormal(0.0, t.cv / 2)) for t in LAB_TESTS}
