"""Typed records of iRECIST: response codes, per-assessment inputs, carried state, results.

Seymour L et al. iRECIST: guidelines for response criteria for use in trials testing
immunotherapeutics. Lancet Oncol 2017;18:e143-e152.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "BORCode",
    "Category",
    "IrecistAssessment",
    "IrecistBaseline",
    "IrecistState",
    "IrecistTimepoint",
    "IupdCycle",
    "NewLesionTarget",
    "NonTargetCategory",
    "TargetCategory",
    "TargetLesionMeasure",
    "TimepointCode",
    "TimepointStatus",
]

TargetCategory = Literal["iCR", "iPR", "iSD", "iUPD", "NE"]
"""Target-lesion category at one time point (RECIST 1.1 principles, "i" prefix)."""

NonTargetCategory = Literal["iCR", "NON-iCR/NON-iUPD", "iUPD", "NE"]
"""Non-target category: disappeared, persisting, unequivocal progression, not evaluated."""

TimepointCode = Literal["iCR", "iPR", "iSD", "NON-iCR/NON-iUPD", "iUPD", "iCPD", "NE"]
"""Overall time-point response (iRECIST Table 2); NON-iCR/NON-iUPD: non-target-only disease."""

BORCode = Literal["iCR", "iPR", "iSD", "NON-iCR/NON-iUPD", "iUPD", "iCPD", "NE"]
"""Best overall response (iBOR) codes."""

Category = Literal["target", "non_target", "new_lesions"]
"""The three disease categories in which iUPD can be shown."""

TARGET_CATEGORIES: tuple[str, ...] = ("iCR", "iPR", "iSD", "iUPD", "NE")
NON_TARGET_CATEGORIES: tuple[str, ...] = ("iCR", "NON-iCR/NON-iUPD", "iUPD", "NE")
TIMEPOINT_CODES: tuple[str, ...] = ("iCR", "iPR", "iSD", "NON-iCR/NON-iUPD", "iUPD", "iCPD", "NE")


@dataclass(frozen=True)
class TargetLesionMeasure:
    """One baseline target lesion measured at one assessment.

    Attributes
    ----------
    lesion_id
        Identifier, the same at baseline and every follow-up.
    measure_mm
        Longest diameter (non-nodal) or short axis (nodal) in mm; ``0`` if it disappeared;
        ``None`` if not evaluated at this assessment.
    nodal
        Whether the lesion is a lymph node (short axis; CR needs < 10 mm, not 0).
    """

    lesion_id: str
    measure_mm: float | None
    nodal: bool = False


@dataclass(frozen=True)
class NewLesionTarget:
    """A measured new lesion ("new lesion target", NLT); up to 5, at most 2 per organ.

    Attributes
    ----------
    lesion_id
        Identifier, the same at every assessment where the lesion is recorded.
    organ
        Organ of the lesion (for the 2-per-organ limit).
    measure_mm
        Measure in mm (RECIST 1.1 principles); ``0`` once it has disappeared.
    """

    lesion_id: str
    organ: str
    measure_mm: float


@dataclass(frozen=True)
class TimepointStatus:
    """Per-category status of one assessment: the input of :func:`assess_timepoint`.

    Attributes
    ----------
    date
        Assessment date.
    target
        Target category per RECIST 1.1 principles (PD, here ``"iUPD"``, is +20 % and +5 mm
        from the nadir); ``None`` when the patient has no target disease at baseline.
    target_sum
        Sum of measures of the baseline target lesions measured at this assessment (mm),
        used for the +5 mm confirmation; ``None`` if unknown or no target disease. With
        unmeasured lesions it is the sum of those measured (a lower bound).
    non_target
        Non-target category; ``"iUPD"`` means unequivocal progression (RECIST 1.1);
        ``None`` when there was no non-target disease at baseline.
    non_target_increase
        Any increase in size of non-target disease since the previous assessment (need not
        be unequivocal); used only to confirm a non-target iUPD.
    new_target
        Measured new lesions (NLT) recorded at this assessment; never part of ``target_sum``.
    new_non_target_count
        Number of non-measured new lesions (NLNT) present.
    new_non_target_increase
        Any increase in size of the NLNT since the previous assessment.
    new_non_target_unequivocal
        Unequivocal progression of the NLNT (RECIST 1.1 sense) first seen at this assessment
        (a trigger, not a standing status: a later assessment with no further change sets it
        ``False``).
    new_clinical_sign
        The scan was done to investigate a new clinical symptom or sign (allows an early
        scan, < 4 weeks after iUPD, to confirm iCPD by an additional new lesion).
    """

    date: datetime.date
    target: TargetCategory | None
    target_sum: float | None = None
    non_target: NonTargetCategory | None = None
    non_target_increase: bool = False
    new_target: tuple[NewLesionTarget, ...] = ()
    new_non_target_count: int = 0
    new_non_target_increase: bool = False
    new_non_target_unequivocal: bool = False
    new_clinical_sign: bool = False


@dataclass(frozen=True)
class IupdCycle:
    """An open (unconfirmed) iUPD: what the first iUPD assessment of the cycle showed.

    Attributes
    ----------
    start_date
        Date of the iUPD assessment that opened the cycle.
    categories
        Categories that showed iUPD at that assessment.
    target_sum
        Target sum at that assessment (reference for the additive +5 mm).
    new_target_sum
        NLT sum at that assessment (reference for the additive +5 mm).
    new_target_ids
        NLT identifiers seen up to and including that assessment.
    new_non_target_count
        Largest NLNT count seen up to and including that assessment.
    non_target_increased, new_non_target_increased
        An increase was seen at a later assessment that could not confirm (< 4 weeks).
    """

    start_date: datetime.date
    categories: frozenset[Category]
    target_sum: float | None
    new_target_sum: float
    new_target_ids: frozenset[str]
    new_non_target_count: int
    non_target_increased: bool = False
    new_non_target_increased: bool = False


@dataclass(frozen=True)
class IrecistState:
    """What one assessment hands to the next; start a patient with ``IrecistState()``.

    Attributes
    ----------
    cycle
        The open iUPD cycle, or ``None`` (no iUPD, or the bar was reset).
    confirmed_date
        Date iCPD was assigned; ``None`` before.
    seen_new_target_ids
        NLT identifiers recorded (with a measure > 0) so far.
    max_new_non_target_count
        Largest NLNT count recorded so far.
    new_target_nadir
        Smallest NLT sum since the last appearance of an NLT (``None`` before any NLT).
    last_date
        Date of the previous assessment.
    """

    cycle: IupdCycle | None = None
    confirmed_date: datetime.date | None = None
    seen_new_target_ids: frozenset[str] = frozenset()
    max_new_non_target_count: int = 0
    new_target_nadir: float | None = None
    last_date: datetime.date | None = None


@dataclass(frozen=True)
class IrecistTimepoint:
    """The iRECIST result of one assessment.

    Attributes
    ----------
    date
        Assessment date.
    response
        Overall time-point response.
    target, non_target
        The category inputs of this assessment.
    new_lesions_present
        Any new lesion (NLT with measure > 0, or NLNT) present.
    new_lesion_progression
        RECIST 1.1 PD in the new-lesion category: a new lesion never seen before, NLT sum
        +20 % and +5 mm from its nadir, or unequivocal NLNT progression.
    target_sum
        Sum of the baseline target lesions (new lesions never included).
    new_target_sum
        Sum of the NLT measures, kept apart from ``target_sum``.
    iupd_categories
        Categories of the open iUPD cycle after this assessment (empty if none).
    state
        The state to pass to the next assessment.
    """

    date: datetime.date
    response: TimepointCode
    target: TargetCategory | None
    non_target: NonTargetCategory | None
    new_lesions_present: bool
    new_lesion_progression: bool
    target_sum: float | None
    new_target_sum: float
    iupd_categories: frozenset[Category]
    state: IrecistState


@dataclass(frozen=True)
class IrecistBaseline:
    """Baseline disease of one patient.

    Attributes
    ----------
    target
        Target lesions (up to 5) with their baseline measures; empty if none.
    non_target
        Whether non-target disease was recorded at baseline.
    """

    target: tuple[TargetLesionMeasure, ...]
    non_target: bool


@dataclass(frozen=True)
class IrecistAssessment:
    """Structured measurements of one follow-up assessment (input of :func:`assess_series`).

    Attributes
    ----------
    date
        Assessment date.
    target
        The baseline target lesions measured now (every baseline ``lesion_id`` once).
    non_target
        Non-target status (see :class:`TimepointStatus`); ignored without baseline non-target
        disease, required (not ``None``) with it.
    non_target_increase, new_target, new_non_target_count, new_non_target_increase,
    new_non_target_unequivocal, new_clinical_sign
        As in :class:`TimepointStatus`.
    """

    date: datetime.date
    target: tuple[TargetLesionMeasure, ...] = ()
    non_target: NonTargetCategory | None = None
    non_target_increase: bool = False
    new_target: tuple[NewLesionTarget, ...] = ()
    new_non_target_count: int = 0
    new_non_target_increase: bool = False
    new_non_target_unequivocal: bool = False
    new_clinical_sign: bool = False
