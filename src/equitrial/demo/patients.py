"""Virtual sites and screened patients: who comes, where, when, with what disease at baseline.

Pure: a seed and the assumptions in, frozen records out (no database). The arm of a patient is
not known here: the randomization service decides it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np

from equitrial.demo.assumptions import POPULATION, Population
from equitrial.protocol import Protocol

__all__ = [
    "ScreenedPatient",
    "SiteSpec",
    "checklist",
    "demographics",
    "make_patients",
    "make_sites",
    "medical_history",
    "study_start",
]

_COUNTRIES = (
    ("USA", "NORTH AMERICA"),
    ("DEU", "EUROPE"),
    ("CAN", "NORTH AMERICA"),
    ("FRA", "EUROPE"),
    ("ESP", "EUROPE"),
    ("USA", "NORTH AMERICA"),
    ("ITA", "EUROPE"),
    ("POL", "EUROPE"),
    ("GBR", "EUROPE"),
    ("AUS", "ASIA-PACIFIC"),
)
"""Countries of the sites in turn (ISO 3166-1 alpha-3) with their region."""

_SCREEN_FAILURES = (
    ("FAILED ELIGIBILITY CRITERIA", "ECOG performance status 2", 0.45),
    ("FAILED ELIGIBILITY CRITERIA", "active brain metastases", 0.25),
    ("WITHDRAWAL BY SUBJECT", "withdrew consent before randomization", 0.20),
    ("OTHER", "did not return for randomization", 0.10),
)


@dataclass(frozen=True)
class SiteSpec:
    """A site of the virtual trial."""

    code: str
    name: str
    site_type: str  # "METROPOLITAN" or "REGIONAL"
    country: str
    region: str
    activated: dt.date


@dataclass(frozen=True)
class ScreenedPatient:
    """A screened patient: baseline data, and either a screen failure or a randomization date.

    ``seed`` is the patient's own random stream for everything after randomization, so a
    patient's course does not depend on the order in which the trial runs.
    """

    number: int
    site: int
    consent_date: dt.date
    randomization_date: dt.date | None
    screen_failure: tuple[str, str] | None
    age: int
    sex: str
    race: str
    ethnicity: str
    ecog: int
    braf: str
    m_stage: str
    ldh_uln: float
    ldh: float
    brain_metastases: bool
    prior_adjuvant: bool
    regimen: str
    switch_after_cycle: int | None
    seed: int

    @property
    def ldh_elevated(self) -> bool:
        return self.ldh > self.ldh_uln

    @property
    def strata(self) -> dict[str, str]:
        """The protocol's stratification levels of this patient."""
        advanced = self.m_stage in ("M1c", "M1d") or self.ldh_elevated
        return {
            "braf_v600": "mutant" if self.braf == "MUTANT" else "wild-type",
            "ecog_ps": str(min(self.ecog, 1)),
            "m_stage_ldh": "M1c or elevated LDH" if advanced else "M0-M1b, normal LDH",
        }


def study_start(today: dt.date, population: Population = POPULATION) -> dt.date:
    """The first site's activation: enrolment and follow-up end the day before ``today``."""
    months = population.enrolment_months + population.follow_up_months + 1
    start = today - dt.timedelta(days=round(months * 30.4375))
    return start - dt.timedelta(days=start.weekday())  # a Monday


def make_sites(
    count: int, start: dt.date, rng: np.random.Generator, population: Population = POPULATION
) -> list[SiteSpec]:
    """``count`` sites: every third regional, activated evenly over the activation months."""
    sites = []
    for i in range(count):
        country, region = _COUNTRIES[i % len(_COUNTRIES)]
        regional = (i % 3) == 2 if population.regional_site_share else False
        days = round(population.activation_months * 30.4375 * i / max(count - 1, 1))
        sites.append(
            SiteSpec(
                code=f"S{i + 1:02d}",
                name=f"{'Regional' if regional else 'Metropolitan'} cancer centre {i + 1}",
                site_type="REGIONAL" if regional else "METROPOLITAN",
                country=country,
                region=region,
                activated=start + dt.timedelta(days=days + int(rng.integers(0, 7))),
            )
        )
    return sites


def _choice(rng: np.random.Generator, options: tuple[tuple[str, float], ...]) -> str:
    p = np.array([w for _, w in options])
    return options[int(rng.choice(len(options), p=p / p.sum()))][0]


def _race(rng: np.random.Generator, region: str) -> tuple[str, str]:
    if region == "NORTH AMERICA":
        race = _choice(
            rng,
            (
                ("WHITE", 0.92),
                ("BLACK OR AFRICAN AMERICAN", 0.02),
                ("ASIAN", 0.03),
                ("OTHER", 0.03),
            ),
        )
        ethnic = _choice(rng, (("NOT HISPANIC OR LATINO", 0.94), ("HISPANIC OR LATINO", 0.06)))
    else:
        race = _choice(rng, (("WHITE", 0.97), ("ASIAN", 0.02), ("OTHER", 0.01)))
        ethnic = _choice(rng, (("NOT HISPANIC OR LATINO", 0.97), ("HISPANIC OR LATINO", 0.03)))
    return race, ethnic


def make_patients(
    randomized: int,
    sites: list[SiteSpec],
    start: dt.date,
    rng: np.random.Generator,
    population: Population = POPULATION,
) -> list[ScreenedPatient]:
    """Screen patients until ``randomized`` are randomized; by consent date.

    Sites enrol at equal rates while open, so a site's share grows with how long it is open;
    consent dates are uniform over each site's open period (enrolment closes
    ``enrolment_months`` after ``start``); randomization follows 7 to 21 days after consent.
    """
    close = start + dt.timedelta(days=round(population.enrolment_months * 30.4375))
    open_days = np.array([max((close - s.activated).days, 1) for s in sites], dtype=float)
    patients: list[ScreenedPatient] = []
    number = 0
    while sum(p.randomization_date is not None for p in patients) < randomized:
        number += 1
        site = int(rng.choice(len(sites), p=open_days / open_days.sum()))
        spec = sites[site]
        consent = spec.activated + dt.timedelta(days=int(rng.integers(0, open_days[site])))
        failure = None
        if rng.random() < population.screen_failure:
            decod, text, _ = _SCREEN_FAILURES[
                int(rng.choice(len(_SCREEN_FAILURES), p=[w for *_, w in _SCREEN_FAILURES]))
            ]
            failure = (decod, text)
        race, ethnic = _race(rng, spec.region)
        ecog = 0 if rng.random() < population.ecog_0 else 1
        if failure is not None and "ECOG" in failure[1]:
            ecog = 2
        ldh_uln = 250.0
        elevated = rng.random() < population.ldh_elevated
        ldh = float(
            np.round(ldh_uln * (rng.uniform(1.05, 3.0) if elevated else rng.uniform(0.5, 0.98)))
        )
        q6w = rng.random() < population.start_q6w
        switch = None
        if not q6w and rng.random() < population.switch_to_q6w:
            switch = int(rng.integers(4, 12))
        patients.append(
            ScreenedPatient(
                number=number,
                site=site,
                consent_date=consent,
                randomization_date=None
                if failure
                else consent + dt.timedelta(days=int(rng.integers(7, 22))),
                screen_failure=failure,
                age=int(np.clip(round(rng.normal(population.age_mean, population.age_sd)), 18, 92)),
                sex="M" if rng.random() < population.male else "F",
                race=race,
                ethnicity=ethnic,
                ecog=ecog,
                braf="MUTANT" if rng.random() < population.braf_mutant else "WILD-TYPE",
                m_stage=_choice(rng, population.m_stage),
                ldh_uln=ldh_uln,
                ldh=ldh,
                brain_metastases=bool(rng.random() < population.brain_metastases),
                prior_adjuvant=bool(rng.random() < population.prior_adjuvant),
                regimen="Q6W" if q6w else "Q3W",
                switch_after_cycle=switch,
                seed=int(rng.integers(2**62)),
            )
        )
    patients.sort(key=lambda p: (p.consent_date, p.number))
    return patients


def demographics(p: ScreenedPatient, site: SiteSpec) -> dict[str, Any]:
    """The demographics form of ``p`` as the site enters it."""
    therapy = None
    if p.prior_adjuvant:
        therapy = "DABRAFENIB + TRAMETINIB" if p.braf == "MUTANT" else "INTERFERON ALFA-2B"
    return {
        "age": p.age,
        "sex": p.sex,
        "race": p.race,
        "ethnicity": p.ethnicity,
        "country": site.country,
        "region": site.region,
        "ecog_ps": p.ecog,
        "braf_v600": p.braf,
        "m_stage": p.m_stage,
        "ldh_value": p.ldh,
        "ldh_uln": p.ldh_uln,
        "brain_metastases": "Y" if p.brain_metastases else "N",
        "prior_adjuvant": "Y" if p.prior_adjuvant else "N",
        "prior_adjuvant_therapy": therapy,
    }


_CONDITIONS = (
    ("HYPERTENSION", "GENERAL", True, 0.35),
    ("TYPE 2 DIABETES MELLITUS", "GENERAL", True, 0.12),
    ("HYPERCHOLESTEROLAEMIA", "GENERAL", True, 0.25),
    ("BASAL CELL CARCINOMA", "PRIOR CANCER", False, 0.08),
    ("APPENDICECTOMY", "GENERAL", False, 0.10),
)
"""Common conditions of a first-line melanoma population: term, MHCAT, still present, share
(assumed)."""


def medical_history(p: ScreenedPatient) -> list[dict[str, Any]]:
    """The patient's medical history conditions (from its own random stream)."""
    rng = np.random.default_rng(p.seed ^ 0x5EED)
    out: list[dict[str, Any]] = []
    for term, category, ongoing, share in _CONDITIONS:
        if rng.random() < share:
            start = p.consent_date - dt.timedelta(days=int(rng.integers(400, 9000)))
            item: dict[str, Any] = {"term": term, "category": category,
                                       "start_date": start, "ongoing": ongoing}  # fmt: skip
            if not ongoing:
                item["end_date"] = start + dt.timedelta(days=int(rng.integers(7, 200)))
            out.append(item)
    return out


def checklist(protocol: Protocol, p: ScreenedPatient) -> dict[str, bool]:
    """The investigator's eligibility checklist: every inclusion met and no exclusion present,
    except what makes ``p`` fail (ECOG 2, active brain metastases)."""
    answers = {c.id: c.kind == "inclusion" for c in protocol.eligibility}
    if p.ecog >= 2 and "inc-ecog" in answers:
        answers["inc-ecog"] = False
    if p.screen_failure is not None and "brain" in p.screen_failure[1]:
        answers["exc-active-brain-mets"] = True
    return answers
