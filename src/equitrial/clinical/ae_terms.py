"""The coded fields of the adverse event form and their consistency rules (pure).

The coded values are the submission values of CDISC SDTM controlled terminology (ACN for the
action taken with study treatment, OUT for the outcome), a sponsor-defined causality scale for
``AEREL`` (CDISC publishes no codelist for it) and the SDTM seriousness flags ``AESDTH`` ...
``AESMIE`` as the codes of the seriousness criteria. The CTCAE part (the grades a term has and
the text of the recorded grade) reads the term catalogue of :mod:`equitrial.clinical.ctcae`.

Consistency rules (:func:`ae_inconsistencies`), each refused or queried:

- a grade the term does not have in CTCAE (``"-"``) is refused (field ``grade``);
- grade 5 is "death related to AE" (CTCAE): the outcome must be ``FATAL``, refused otherwise
  (field ``outcome``); an outcome ``FATAL`` with a grade below 5 opens a query on ``grade``;
- the seriousness criterion ``AESDTH`` (results in death) needs the outcome ``FATAL`` (refused,
  field ``outcome``); a ``FATAL`` outcome without ``AESDTH`` opens a query on
  ``serious_criteria``;
- unknown or repeated seriousness criteria are refused (field ``serious_criteria``).

References
----------
.. [1] CDISC SDTM Controlled Terminology (NCI EVS): codelist ACN (C66767, Action Taken with
   Study Treatment) and OUT (C66768, Outcome of Event), submission values. Not re-verified
   against the NCI EVS file for this module.
.. [2] CDISC SDTMIG v3.4, AE domain: ``AEREL``, ``AEACN``, ``AEOUT``, ``AESER`` and the flags
   ``AESDTH``, ``AESLIFE``, ``AESHOSP``, ``AESDISAB``, ``AESCONG``, ``AESMIE``; ICH E2A
   (definition of a serious adverse event).
.. [3] National Cancer Institute. Common Terminology Criteria for Adverse Events (CTCAE)
   Version 5.0, 27 November 2017 (Grade 5: death related to AE; "-": grade not available).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from equitrial.clinical.ctcae import CatalogueTerm
from equitrial.errors import InvalidInputError

__all__ = [
    "AE_ACTIONS",
    "AE_OUTCOMES",
    "AE_RELATIONSHIPS",
    "RESOLVED_OUTCOMES",
    "SERIOUS_CRITERIA",
    "Inconsistency",
    "ae_inconsistencies",
    "available_grades",
    "grade_definition",
    "serious_flags",
]

AE_RELATIONSHIPS: Final = ("NOT RELATED", "RELATED")
"""Causality to study treatment (``AEREL``): sponsor-defined, two levels (no CDISC codelist)."""

AE_ACTIONS: Final = (
    "DOSE INCREASED",
    "DOSE NOT CHANGED",
    "DOSE RATE REDUCED",
    "DOSE REDUCED",
    "DRUG INTERRUPTED",
    "DRUG WITHDRAWN",
    "NOT APPLICABLE",
    "UNKNOWN",
)
"""Action taken with study treatment (``AEACN``; CDISC codelist ACN). A delayed infusion is
``DRUG INTERRUPTED`` (ACN has no "dose delayed"); the dose form records the delay itself."""

AE_OUTCOMES: Final = (
    "FATAL",
    "NOT RECOVERED/NOT RESOLVED",
    "RECOVERED/RESOLVED",
    "RECOVERED/RESOLVED WITH SEQUELAE",
    "RECOVERING/RESOLVING",
    "UNKNOWN",
)
"""Outcome of the event (``AEOUT``; CDISC codelist OUT)."""

RESOLVED_OUTCOMES: Final = ("RECOVERED/RESOLVED", "RECOVERED/RESOLVED WITH SEQUELAE", "FATAL")
"""Outcomes of an event that has ended (an end date is expected)."""

SERIOUS_CRITERIA: Final = {
    "AESDTH": "results in death",
    "AESLIFE": "is life threatening",
    "AESHOSP": "requires or prolongs hospitalization",
    "AESDISAB": "persistent or significant disability/incapacity",
    "AESCONG": "congenital anomaly or birth defect",
    "AESMIE": "other medically important serious event",
}
"""Seriousness criteria by SDTM flag name (ICH E2A); entered comma-separated, e.g.
``"AESHOSP, AESLIFE"``."""


@dataclass(frozen=True)
class Inconsistency:
    """A rule broken by the values of one adverse event: refused (``refused``) or queried."""

    field: str
    rule: str
    message: str
    refused: bool


def serious_flags(value: str | None) -> tuple[str, ...]:
    """The seriousness criteria of a comma-separated entry, in entry order.

    Raises
    ------
    InvalidInputError
        An unknown or repeated criterion (``field="serious_criteria"``).
    """
    if value is None or not value.strip():
        return ()
    flags = tuple(part.strip().upper() for part in value.split(","))
    unknown = [f for f in flags if f not in SERIOUS_CRITERIA]
    if unknown or len(set(flags)) != len(flags):
        what = f"unknown {unknown[0]!r}" if unknown else "a criterion repeated"
        raise InvalidInputError(
            f"serious_criteria {value!r}: {what}; expected SDTM flags among "
            f"{', '.join(SERIOUS_CRITERIA)}",
            field="serious_criteria",
            value=value,
        )
    return flags


def available_grades(term: CatalogueTerm) -> tuple[int, ...]:
    """The CTCAE grades the term has (1-5 when its texts are not transcribed)."""
    if term.grade_text is None:
        return (1, 2, 3, 4, 5)
    return tuple(g for g, text in enumerate(term.grade_text, start=1) if text.strip() != "-")


def grade_definition(term: CatalogueTerm, grade: int) -> str | None:
    """The CTCAE criterion text of ``grade`` for ``term`` (``None``: texts not transcribed).

    Raises
    ------
    InvalidInputError
        The term has no such grade in CTCAE (``"-"``), or ``grade`` is not 1-5
        (``field="grade"``).
    """
    if grade not in available_grades(term):
        grades = ", ".join(str(g) for g in available_grades(term))
        raise InvalidInputError(
            f"grade {grade} does not exist for {term.term!r} in CTCAE; its grades are {grades}",
            field="grade",
            value=grade,
        )
    return None if term.grade_text is None else term.grade_text[int(grade) - 1]


def ae_inconsistencies(values: Mapping[str, object]) -> list[Inconsistency]:
    """The broken cross-field rules of an adverse event's ``grade``, ``outcome`` and
    ``serious_criteria`` (see the module docstring); an empty list when it is consistent.

    Raises
    ------
    InvalidInputError
        Unknown or repeated seriousness criteria (:func:`serious_flags`).
    """
    grade, outcome = values.get("grade"), values.get("outcome")
    criteria = values.get("serious_criteria")
    flags = serious_flags(criteria if isinstance(criteria, str) else None)
    found = []
    if grade == 5 and outcome != "FATAL":
        message = f"grade 5 is death related to the event: outcome must be FATAL, not {outcome!r}"
        found.append(Inconsistency("outcome", "grade-5-fatal", message, True))
    if "AESDTH" in flags and outcome != "FATAL":
        message = f"serious criterion AESDTH (death) needs outcome FATAL, not {outcome!r}"
        found.append(Inconsistency("outcome", "death-fatal", message, True))
    if outcome == "FATAL" and isinstance(grade, int | float) and grade < 5:
        message = f"outcome FATAL with grade {grade}: a fatal event is graded 5 where CTCAE allows"
        found.append(Inconsistency("grade", "fatal-grade", message, False))
    if outcome == "FATAL" and "AESDTH" not in flags:
        message = "outcome FATAL: the event is serious with criterion AESDTH (results in death)"
        found.append(Inconsistency("serious_criteria", "fatal-serious", message, False))
    return found
