"""The AE form's coded fields and consistency rules (pure), with CTCAE grades by hand from the
NCI CTCAE v5.0 CSV named in ``ctcae_5.0.json`` ("-": the grade does not exist)."""

from __future__ import annotations

import pytest

from equitrial.clinical.ae_terms import (
    ae_inconsistencies,
    available_grades,
    grade_definition,
    serious_flags,
)
from equitrial.clinical.ctcae import catalogue
from equitrial.errors import InvalidInputError

TERMS = {t.term: t for t in catalogue()}


@pytest.mark.parametrize(
    ("term", "grades"),
    [
        ("Pneumonitis", (1, 2, 3, 4, 5)),
        ("Fatigue", (1, 2, 3)),  # CSV: Grade 4 " -", Grade 5 " -"
        ("Acute kidney injury", (3, 4, 5)),  # Grades 1, 2 " -"
        ("Stevens-Johnson syndrome", (3, 4, 5)),
        ("Toxic epidermal necrolysis", (4, 5)),
        ("Myositis", (1, 2, 3, 4)),
        ("Myocarditis", (2, 3, 4, 5)),
        ("Pancreatitis", (2, 3, 4, 5)),
        ("Alanine aminotransferase increased", (1, 2, 3, 4)),
        ("Hypermagnesemia", (1, 3, 4, 5)),  # Grade 2 " -"
    ],
)
def test_available_grades_follow_the_dashes(term: str, grades: tuple[int, ...]) -> None:
    assert available_grades(TERMS[term]) == grades


def test_grade_definition_quotes_the_grade_and_refuses_a_dash() -> None:
    assert grade_definition(TERMS["Fatigue"], 2) == (
        "Fatigue not relieved by rest; limiting instrumental ADL"
    )
    with pytest.raises(InvalidInputError, match="its grades are 1, 2, 3") as error:
        grade_definition(TERMS["Fatigue"], 4)
    assert error.value.field == "grade"
    with pytest.raises(InvalidInputError):
        grade_definition(TERMS["Fatigue"], 0)


@pytest.mark.parametrize(
    ("entered", "flags"),
    [
        (None, ()),
        ("", ()),
        ("AESHOSP", ("AESHOSP",)),
        ("aeshosp, AESLIFE", ("AESHOSP", "AESLIFE")),
    ],
)
def test_serious_flags(entered: str | None, flags: tuple[str, ...]) -> None:
    assert serious_flags(entered) == flags


@pytest.mark.parametrize("entered", ["HOSPITALIZATION", "AESHOSP,AESHOSP", "AESHOSP,"])
def test_unknown_or_repeated_flags_are_refused(entered: str) -> None:
    with pytest.raises(InvalidInputError) as error:
        serious_flags(entered)
    assert error.value.field == "serious_criteria"


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"grade": 5, "outcome": "FATAL", "serious_criteria": "AESDTH"}, []),
        ({"grade": 2, "outcome": None, "serious_criteria": None}, []),
        ({"grade": 5, "outcome": None}, [("outcome", "grade-5-fatal", True)]),
        (
            {"grade": 5, "outcome": "FATAL"},
            [("serious_criteria", "fatal-serious", False)],
        ),
        (
            {"grade": 3, "outcome": "FATAL", "serious_criteria": "AESDTH"},
            [("grade", "fatal-grade", False)],
        ),
        (
            {"grade": 4, "outcome": "RECOVERING/RESOLVING", "serious_criteria": "AESDTH"},
            [("outcome", "death-fatal", True)],
        ),
    ],
)
def test_ae_inconsistencies(
    values: dict[str, object], expected: list[tuple[str, str, bool]]
) -> None:
    found = [(i.field, i.rule, i.refused) for i in ae_inconsistencies(values)]
    assert found == expected
