"""``[[eligibility]]``: the inclusion and exclusion criteria (the eligibility checklist)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Literal

from pydantic import Field

from equitrial.protocol._base import Issue, Model, check_unique

__all__ = ["CriterionKind", "EligibilityCriterion", "eligibility_issues"]

CriterionKind = Literal["inclusion", "exclusion"]

CriterionId = Annotated[
    str, Field(min_length=1, max_length=32, pattern=r"^[A-Za-z][A-Za-z0-9_-]*$")
]


class EligibilityCriterion(Model):
    """``[[eligibility]]``: one inclusion or exclusion criterion of the protocol.

    The investigator answers each criterion on the eligibility checklist
    (:func:`equitrial.services.subjects.confirm_eligibility`): ``true`` means an inclusion
    criterion is met, or an exclusion criterion is present. A subject is eligible when every
    inclusion criterion is met and no exclusion criterion is present.

    Attributes
    ----------
    id
        Short identifier (a letter, then letters, digits, ``-`` or ``_``; at most 32), the key of
        the answer in the checklist, e.g. ``"inc-age"``.
    kind
        ``"inclusion"`` or ``"exclusion"``.
    text
        The criterion as the protocol words it.
    """

    id: CriterionId
    kind: CriterionKind
    text: str = Field(min_length=1, max_length=2000)


def eligibility_issues(criteria: Sequence[EligibilityCriterion]) -> list[Issue]:
    """Unique ids and, when criteria are listed, at least one inclusion criterion."""
    issues = check_unique((c.id for c in criteria), ("eligibility",), "criterion id", "id")
    if criteria and not any(c.kind == "inclusion" for c in criteria):
        msg = "lists no inclusion criterion; expected at least one kind = 'inclusion'"
        issues.append(Issue(("eligibility",), len(criteria), msg))
    return issues
