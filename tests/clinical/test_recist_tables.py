"""RECIST 1.1 Tables 1, 2 and 3, row by row.

Reference: Eisenhauer EA et al. Eur J Cancer 2009;45:228-247, Tables 1-3, as transcribed in
the RECIST 1.1 paper (Eisenhauer et al., Eur J Cancer 2009;45:228-47) and the iRECIST paper
(Seymour et al., Lancet Oncol 2017;18:e143-52) sections 5, 6 and 8 (source [S1]). Each parametrize
id quotes the
row "target | non-target | new lesions -> overall" (Tables 1-2) or "first | subsequent -> best"
(Table 3).
"""

import datetime as dt

import pytest

from equitrial.clinical.recist import best_overall_response, timepoint_response
from equitrial.errors import InvalidInputError, UnknownOptionError

TARGETS = ["CR", "PR", "SD", "PD", "NE"]
NON_TARGETS = ["CR", "NON-CR/NON-PD", "PD", "NE"]
NON_PD = ["CR", "NON-CR/NON-PD"]


def _rows(row_id, targets, non_targets, news, expected):
    return [
        pytest.param(t, nt, new, expected, id=f"{row_id} [{t} | {nt} | {'Yes' if new else 'No'}]")
        for t in targets
        for nt in non_targets
        for new in news
    ]


# Table 1 - time point response, patients with target (+/- non-target) disease
TABLE_1 = [
    *_rows("T1 row 1: CR | CR | No -> CR", ["CR"], ["CR"], [False], "CR"),
    *_rows("T1 row 2: CR | Non-CR/non-PD | No -> PR", ["CR"], ["NON-CR/NON-PD"], [False], "PR"),
    *_rows("T1 row 3: CR | Not evaluated | No -> PR", ["CR"], ["NE"], [False], "PR"),
    *_rows(
        "T1 row 4: PR | Non-PD or not all evaluated | No -> PR",
        ["PR"],
        [*NON_PD, "NE"],
        [False],
        "PR",
    ),
    *_rows(
        "T1 row 5: SD | Non-PD or not all evaluated | No -> SD",
        ["SD"],
        [*NON_PD, "NE"],
        [False],
        "SD",
    ),
    # "Non-PD" in row 6 read as any non-PD non-target response, NE included
    *_rows(
        "T1 row 6: Not all evaluated | Non-PD | No -> NE", ["NE"], [*NON_PD, "NE"], [False], "NE"
    ),
    *_rows("T1 row 7: PD | Any | Yes or No -> PD", ["PD"], NON_TARGETS, [False, True], "PD"),
    *_rows("T1 row 8: Any | PD | Yes or No -> PD", TARGETS, ["PD"], [False, True], "PD"),
    *_rows("T1 row 9: Any | Any | Yes -> PD", TARGETS, NON_TARGETS, [True], "PD"),
]


@pytest.mark.parametrize(("target", "non_target", "new", "expected"), TABLE_1)
def test_timepoint_response_matches_eisenhauer_2009_table_1(target, non_target, new, expected):
    assert timepoint_response(target, non_target, new) == expected


# Table 1 applied to a patient without non-target disease (non_target None): the non-target
# column then never blocks CR ("CR | CR" read as "CR | no non-target lesion left").
@pytest.mark.parametrize(
    ("target", "new", "expected"),
    [
        pytest.param("CR", False, "CR", id="targets only: CR | none | No -> CR"),
        pytest.param("PR", False, "PR", id="targets only: PR | none | No -> PR"),
        pytest.param("SD", False, "SD", id="targets only: SD | none | No -> SD"),
        pytest.param("NE", False, "NE", id="targets only: NE | none | No -> NE"),
        pytest.param("PD", False, "PD", id="targets only: PD | none | No -> PD"),
        pytest.param("CR", True, "PD", id="targets only: CR | none | Yes -> PD"),
    ],
)
def test_timepoint_response_target_only_disease(target, new, expected):
    assert timepoint_response(target, None, new) == expected


# Table 2 - time point response, patients with non-target disease only
TABLE_2 = [
    *_rows("T2 row 1: CR | No -> CR", [None], ["CR"], [False], "CR"),
    *_rows(
        "T2 row 2: Non-CR/non-PD | No -> Non-CR/non-PD",
        [None],
        ["NON-CR/NON-PD"],
        [False],
        "NON-CR/NON-PD",
    ),
    *_rows("T2 row 3: Not all evaluated | No -> NE", [None], ["NE"], [False], "NE"),
    *_rows("T2 row 4: Unequivocal PD | Yes or No -> PD", [None], ["PD"], [False, True], "PD"),
    *_rows("T2 row 5: Any | Yes -> PD", [None], NON_TARGETS, [True], "PD"),
]


@pytest.mark.parametrize(("target", "non_target", "new", "expected"), TABLE_2)
def test_timepoint_response_matches_eisenhauer_2009_table_2(target, non_target, new, expected):
    assert timepoint_response(target, non_target, new) == expected


def test_timepoint_response_without_any_disease_is_an_error():
    # judgement call: no disease at baseline is not evaluable by RECIST 1.1 -> error, not "NE"
    with pytest.raises(InvalidInputError, match="not evaluable"):
        timepoint_response(None, None, False)


@pytest.mark.parametrize(
    ("target", "non_target"),
    [("SD", "SD"), ("NON-CR/NON-PD", "CR"), ("cr", "CR"), ("CR", "PR"), ("iCR", None)],
)
def test_timepoint_response_unknown_code(target, non_target):
    with pytest.raises(UnknownOptionError):
        timepoint_response(target, non_target, False)


@pytest.mark.parametrize("new", ["Y", 1, None])
def test_timepoint_response_new_lesions_must_be_bool(new):
    with pytest.raises(InvalidInputError, match="new_lesions"):
        timepoint_response("SD", "CR", new)


# Table 3 - best overall response when confirmation of CR and PR is required.
# Reference date day 0, minimum SD duration 42 days, confirmation >= 28 days. "met" puts the first
# assessment on day 56 (>= day 42) and the second on day 84; "not met" puts them on days 14 and 35
# (the second 21 days later, so no confirmation either way).
REF = dt.date(2024, 1, 1)


def _day(n):
    return REF + dt.timedelta(days=n)


MET = (56, 84)
NOT_MET = (14, 35)
TABLE_3 = [
    ("T3 row 1: CR | CR -> CR", "CR", "CR", MET, "CR"),
    (
        "T3 row 2: CR | PR -> SD, PD or PR (a); SD when minimum SD duration met",
        "CR",
        "PR",
        MET,
        "SD",
    ),
    ("T3 row 2: CR | PR -> SD, PD or PR (a); PD when not met", "CR", "PR", NOT_MET, "PD"),
    (
        "T3 row 3: CR | SD -> SD provided minimum criteria for SD duration met",
        "CR",
        "SD",
        MET,
        "SD",
    ),
    ("T3 row 3: CR | SD -> otherwise PD", "CR", "SD", NOT_MET, "PD"),
    (
        "T3 row 4: CR | PD -> SD provided minimum criteria for SD duration met",
        "CR",
        "PD",
        MET,
        "SD",
    ),
    ("T3 row 4: CR | PD -> otherwise PD", "CR", "PD", NOT_MET, "PD"),
    (
        "T3 row 5: CR | NE -> SD provided minimum criteria for SD duration met",
        "CR",
        "NE",
        MET,
        "SD",
    ),
    ("T3 row 5: CR | NE -> otherwise NE", "CR", "NE", NOT_MET, "NE"),
    ("T3 row 6: PR | CR -> PR", "PR", "CR", MET, "PR"),
    ("T3 row 7: PR | PR -> PR", "PR", "PR", MET, "PR"),
    ("T3 row 8: PR | SD -> SD", "PR", "SD", MET, "SD"),
    (
        "T3 row 9: PR | PD -> SD provided minimum criteria for SD duration met",
        "PR",
        "PD",
        MET,
        "SD",
    ),
    ("T3 row 9: PR | PD -> otherwise PD", "PR", "PD", NOT_MET, "PD"),
    (
        "T3 row 10: PR | NE -> SD provided minimum criteria for SD duration met",
        "PR",
        "NE",
        MET,
        "SD",
    ),
    ("T3 row 10: PR | NE -> otherwise NE", "PR", "NE", NOT_MET, "NE"),
    ("T3 row 11: NE | NE -> NE", "NE", "NE", MET, "NE"),
]


@pytest.mark.parametrize(
    ("first", "second", "days", "expected"),
    [pytest.param(f, s, d, e, id=row) for row, f, s, d, e in TABLE_3],
)
def test_confirmed_bor_matches_eisenhauer_2009_table_3(first, second, days, expected):
    timepoints = [(_day(days[0]), first), (_day(days[1]), second)]
    bor = best_overall_response(timepoints, reference_date=REF, confirmation_required=True)
    assert bor == expected


def test_table_3_footnote_a_downgrade_option_gives_pr():
    # footnote (a): "the original CR should be changed to PR and the best response is PR"
    timepoints = [(_day(56), "CR"), (_day(84), "PR")]
    bor = best_overall_response(
        timepoints, reference_date=REF, confirmation_required=True, cr_then_pr="downgrade"
    )
    assert bor == "PR"


def test_table_3_pr_then_sd_both_too_early_is_ne():
    # judgement call: row 8 "PR | SD -> SD" still needs the minimum SD duration; with both
    # assessments before day 42 and nothing after, the best response is NE
    timepoints = [(_day(14), "PR"), (_day(35), "SD")]
    assert best_overall_response(timepoints, reference_date=REF, confirmation_required=True) == "NE"
