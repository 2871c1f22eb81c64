"""RECIST 1.1: lesion records, baseline checks, time-point and best overall response.

A thin public namespace over private modules:

- :class:`Lesion`, :class:`LesionMeasurement`: typed lesion records; :func:`validate_baseline`
  checks measurability and target selection;
- :func:`target_response`, :func:`non_target_response`, :func:`timepoint_response`: responses at
  one time point (Tables 1 and 2 of Eisenhauer 2009);
- :func:`best_overall_response` (with or without confirmation, Table 3),
  :func:`first_response_date`, :func:`progression_date`, :func:`duration_of_response`;
- :func:`assess_patient`: lesion records of one patient and one reader in, every time-point
  response and the best overall response out.

The judgement calls where the paper is silent or ambiguous are listed in the Notes of each
function and collected in ``docs/clinical-rules.md``.

References
----------
.. [1] Eisenhauer EA, Therasse P, Bogaerts J, et al. New response evaluation criteria in solid
   tumours: revised RECIST guideline (version 1.1). Eur J Cancer 2009;45:228-247.
"""

from equitrial.clinical._recist_bor import (
    RESPONSE_ORDER,
    CrThenPr,
    best_overall_response,
    duration_of_response,
    first_response_date,
    progression_date,
)
from equitrial.clinical._recist_patient import (
    PatientAssessment,
    TimepointAssessment,
    assess_patient,
)
from equitrial.clinical._recist_records import (
    TOO_SMALL_TO_MEASURE_MM,
    Lesion,
    LesionMeasurement,
    LesionRole,
    MeasurementStatus,
    Reader,
    validate_baseline,
)
from equitrial.clinical._recist_timepoint import (
    NonTargetResponse,
    NonTargetStatus,
    OverallResponse,
    TargetResponse,
    non_target_response,
    target_response,
    timepoint_response,
)

__all__ = [
    "RESPONSE_ORDER",
    "TOO_SMALL_TO_MEASURE_MM",
    "CrThenPr",
    "Lesion",
    "LesionMeasurement",
    "LesionRole",
    "MeasurementStatus",
    "NonTargetResponse",
    "NonTargetStatus",
    "OverallResponse",
    "PatientAssessment",
    "Reader",
    "TargetResponse",
    "TimepointAssessment",
    "assess_patient",
    "best_overall_response",
    "duration_of_response",
    "first_response_date",
    "non_target_response",
    "progression_date",
    "target_response",
    "timepoint_response",
    "validate_baseline",
]
