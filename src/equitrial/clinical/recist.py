"""RECIST 1.1: lesion records, baseline checks, time-point and best overall response.

A thin public namespace over private modules:

- :class:`Lesion`, :class:`LesionMeasurement`: typed lesion records; :func:`validate_baseline`
  checks measurability and target selection;
- :func:`target_response`, :func:`non_target_response`, :func:`timepoint_response`: responses at
  one time point (Tables 1 and 2 of Eisenhauer 2009).

References
----------
.. [1] Eisenhauer EA, Therasse P, Bogaerts J, et al. New response evaluation criteria in solid
   tumours: revised RECIST guideline (version 1.1). Eur J Cancer 2009;45:228-247.
"""

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
    "TOO_SMALL_TO_MEASURE_MM",
    "Lesion",
    "LesionMeasurement",
    "LesionRole",
    "MeasurementStatus",
    "NonTargetResponse",
    "NonTargetStatus",
    "OverallResponse",
    "Reader",
    "TargetResponse",
    "non_target_response",
    "target_response",
    "timepoint_response",
    "validate_baseline",
]
