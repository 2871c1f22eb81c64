"""iRECIST: response criteria for trials of immunotherapeutics (Seymour et al. 2017).

A thin public namespace over private implementation modules:

- :func:`assess_timepoint`: one assessment's per-category status (target, non-target, new
  lesions) plus the state carried from earlier assessments -> the iRECIST time-point response
  (iRECIST Table 2: iUPD, confirmation as iCPD, the reset of the bar);
- :func:`assess_series`: a patient's structured assessments (target lesion measures,
  non-target status, new lesions as NLT measures and NLNT count) -> one response per
  assessment; new lesions are kept apart from the baseline target sum;
- :func:`target_category`: the RECIST 1.1 target category used by :func:`assess_series`;
- :func:`best_overall_response`: iBOR from dated time-point responses (iRECIST Table 3,
  randomised trial, no confirmation of response).

Codes: "iCR", "iPR", "iSD", "iUPD", "iCPD", "NE", and "NON-iCR/NON-iUPD" for non-target-only
disease. Reference: Seymour L et al. iRECIST: guidelines for response criteria for use in
trials testing immunotherapeutics. Lancet Oncol 2017;18:e143-e152; the rules as transcribed in
the project's shared reference (recist.md, section 9).
"""

from equitrial.clinical._irecist_bor import best_overall_response
from equitrial.clinical._irecist_series import assess_series, target_category
from equitrial.clinical._irecist_timepoint import assess_timepoint
from equitrial.clinical._irecist_types import (
    BORCode,
    Category,
    IrecistAssessment,
    IrecistBaseline,
    IrecistState,
    IrecistTimepoint,
    IupdCycle,
    NewLesionTarget,
    NonTargetCategory,
    TargetCategory,
    TargetLesionMeasure,
    TimepointCode,
    TimepointStatus,
)

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
    "assess_series",
    "assess_timepoint",
    "best_overall_response",
    "target_category",
]
