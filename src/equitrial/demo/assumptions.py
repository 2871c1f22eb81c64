"""What the virtual trial assumes about patients, disease, safety and pharmacokinetics.

Every figure is an input of the demo (:mod:`equitrial.demo`), kept here as data with its source,
so a test can check that what the demo stored agrees with what it was told (simulated ORR,
immune-related AE rates, PK troughs). The efficacy figures come from the protocol file
(``[assumptions]``); this module holds the rest.

References
----------
.. [1] Robert C, et al. Pembrolizumab versus ipilimumab in advanced melanoma (KEYNOTE-006).
   N Engl J Med 2015;372:2521-32 (baseline characteristics, Table 1; adverse events, Table 3).
.. [2] Robert C, et al. Five-year characterization of immune-related adverse events with
   pembrolizumab in advanced melanoma (pooled KEYNOTE-001/002/006, n = 1567). Eur J Cancer
   2020;144:182-191: any immune-mediated AE 23.0 % (hypothyroidism 9.1 %, pneumonitis 3.3 %,
   hyperthyroidism 3.0 %), grade 3/4 immune-mediated AE 6.9 %, most within 16 weeks.
.. [3] KEYTRUDA (pembrolizumab) prescribing information, section 12.3: steady-state volume of
   distribution 6.0 L (CV 20 %), clearance 195 mL/day (CV 40 %) at steady state, 23 % lower
   than after the first dose (252 mL/day); half-life 22 days; steady state by 16 weeks.
.. [4] Li H, et al. Time dependent pharmacokinetics of pembrolizumab in patients with solid
   tumor and its correlation with best overall response. J Pharmacokinet Pharmacodyn
   2017;44:403-414 (sigmoid decline of clearance with time).
.. [5] KEYTRUDA prescribing information, section 6.2 (immunogenicity): 2.1 % of evaluable
   patients with treatment-emergent anti-pembrolizumab antibodies, few neutralizing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

__all__ = [
    "AE_PROFILE",
    "HEPATITIS_INCIDENCE",
    "PK",
    "POPULATION",
    "AdverseEventProfile",
    "PkModel",
    "Population",
]


@dataclass(frozen=True)
class Population:
    """Baseline characteristics of first-line advanced melanoma (KEYNOTE-006 Table 1 [1]_,
    rounded); screen failures and site mix are assumptions of the demo."""

    age_mean: float = 61.0
    age_sd: float = 13.0
    male: float = 0.60
    ecog_0: float = 0.68
    braf_mutant: float = 0.36
    m_stage: tuple[tuple[str, float], ...] = (
        ("M0", 0.04),
        ("M1a", 0.12),
        ("M1b", 0.18),
        ("M1c", 0.66),
    )
    ldh_elevated: float = 0.32
    brain_metastases: float = 0.09
    prior_adjuvant: float = 0.12
    screen_failure: float = 0.15  # assumed: about one screened patient in seven fails
    start_q6w: float = 0.25  # assumed share starting on 400 mg Q6W
    switch_to_q6w: float = 0.15  # assumed share of Q3W patients switching later
    regional_site_share: float = 1 / 3  # assumed: a third of the sites are regional
    enrolment_months: float = 12.0
    activation_months: float = 4.0
    follow_up_months: float = 24.0  # after the last randomization, to the end of the study


@dataclass(frozen=True)
class AdverseEventProfile:
    """One adverse event term: cumulative incidence while on treatment, the grade
    distribution (grades 1..4) and the median onset (weeks), exponential around it."""

    term: str
    incidence: float
    grades: tuple[float, float, float, float]
    onset_weeks: float
    duration_weeks: float


AE_PROFILE: Final[tuple[AdverseEventProfile, ...]] = (
    # immune-related, pooled KEYNOTE-001/002/006 [2]_ (colitis, hepatitis, skin: [1]_)
    AdverseEventProfile("Hypothyroidism", 0.091, (0.30, 0.68, 0.02, 0.0), 12.0, 40.0),
    AdverseEventProfile("Hyperthyroidism", 0.030, (0.55, 0.40, 0.05, 0.0), 6.0, 6.0),
    AdverseEventProfile("Pneumonitis", 0.033, (0.30, 0.45, 0.20, 0.05), 16.0, 8.0),
    AdverseEventProfile("Colitis", 0.030, (0.15, 0.40, 0.40, 0.05), 10.0, 6.0),
    AdverseEventProfile("Rash maculo-papular", 0.030, (0.40, 0.45, 0.15, 0.0), 5.0, 5.0),
    # not immune-specific, KEYNOTE-006 Table 3 [1]_ (rounded)
    AdverseEventProfile("Fatigue", 0.20, (0.70, 0.28, 0.02, 0.0), 8.0, 10.0),
    AdverseEventProfile("Diarrhea", 0.15, (0.75, 0.22, 0.03, 0.0), 8.0, 2.0),
    AdverseEventProfile("Pruritus", 0.14, (0.85, 0.15, 0.0, 0.0), 6.0, 8.0),
    AdverseEventProfile("Arthralgia", 0.12, (0.80, 0.19, 0.01, 0.0), 12.0, 8.0),
    AdverseEventProfile("Nausea", 0.10, (0.85, 0.15, 0.0, 0.0), 4.0, 2.0),
)
"""The terms the virtual patients may have (CTCAE v5.0 terms)."""

HEPATITIS_INCIDENCE: Final = 0.018
"""Immune-related hepatitis (KEYNOTE-006 [1]_, about 2 %): shown by ALT/AST rising over the
CTCAE thresholds in the labs and reported as "Alanine aminotransferase increased"."""


@dataclass(frozen=True)
class PkModel:
    """One-compartment model with a sigmoid decline of clearance over time ([3]_, [4]_).

    CL(t) = CL_ss + (CL_1 - CL_ss) / (1 + (t / t50) ** hill); between-subject variability
    log-normal (CV of CL and V); proportional residual error. The two-compartment model of the
    label is simplified to one compartment of the steady-state volume: the trough, which the
    analyses use, is what it keeps (half-life about 21 days).
    """

    cl_first_l_per_day: float = 0.252
    cl_ss_l_per_day: float = 0.195
    volume_l: float = 6.0
    cv_cl: float = 0.40
    cv_v: float = 0.20
    t50_days: float = 60.0  # assumed: half of the decline by about two months
    hill: float = 2.0
    residual_cv: float = 0.10
    lloq_ug_per_ml: float = 0.5
    ada_incidence: float = 0.021  # [5]_
    ada_neutralizing_share: float = 0.2  # assumed
    ada_clearance_factor: float = 1.3  # assumed: ADA-positive patients clear 30 % faster


POPULATION: Final = Population()
PK: Final = PkModel()
