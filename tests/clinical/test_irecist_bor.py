"""equitrial.clinical.irecist.best_overall_response: iBOR.

Reference: Seymour L et al. Lancet Oncol 2017;18:e143-e152, Table 3 "Scenarios of assignments
of best overall response using iRECIST" (randomised study, confirmation of iCR/iPR not
required), as transcribed in the RECIST 1.1 paper (Eisenhauer et al., Eur J Cancer 2009;45:228-47)
and the iRECIST paper (Seymour et al., Lancet Oncol 2017;18:e143-52) section 9 and checked against
the
PMC5648544 table. Every alternative listed in a cell is expanded; combinations that iRECIST
itself rules out (an iCPD not directly preceded by iUPD, possibly with NE between) are left
out, and a test checks that every listed alternative still occurs in some kept combination.
Minimum SD duration: RECIST 1.1 (Eisenhauer 2009) section 4.4, "not less than 6-8 weeks"
(default 42 days, as admiralonco's ref_start_window).
"""

from __future__ import annotations

import datetime
import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from equitrial.clinical.irecist import best_overall_response
from equitrial.errors import InvalidInputError, UnknownOptionError

REF = datetime.date(2024, 1, 1)
ANY = ("iCR", "iPR", "iSD", "iUPD", "iCPD", "NE")


def day(n: int) -> datetime.date:
    return REF + datetime.timedelta(days=n)


def series(*codes: str, every: int = 56) -> list[tuple[datetime.date, str]]:
    """Time points every 8 weeks (TPR1 at day 56), as in a Q8W imaging schedule."""
    return [(day(every * (k + 1)), c) for k, c in enumerate(codes)]


# Table 3: (example, alternatives of TPR1..TPR5, iBOR), verbatim cell contents
TABLE3 = [
    (
        1,
        [
            ("iCR",),
            ("iCR", "iPR", "iUPD", "NE"),
            ("iCR", "iPR", "iUPD", "NE"),
            ("iUPD",),
            ("iCPD",),
        ],
        "iCR",
    ),
    (
        2,
        [
            ("iUPD",),
            ("iPR", "iSD", "NE"),
            ("iCR",),
            ("iCR", "iUPD", "NE"),
            ("iCR", "iPR", "iSD", "iUPD", "iCPD", "NE"),
        ],
        "iCR",
    ),
    (
        3,
        [
            ("iUPD",),
            ("iPR",),
            ("iPR", "iSD", "iUPD", "NE"),
            ("iPR", "iSD", "iUPD", "NE", "iCPD"),
            ("iPR", "iSD", "iUPD", "NE", "iCPD"),
        ],
        "iPR",
    ),
    (
        4,
        [
            ("iUPD",),
            ("iSD", "NE"),
            ("iPR",),
            ("iPR", "iSD", "iUPD", "NE"),
            ("iPR", "iSD", "iUPD", "iCPD", "NE"),
        ],
        "iPR",
    ),
    (
        5,
        [
            ("iUPD",),
            ("iSD",),
            ("iSD", "iUPD", "NE"),
            ("iSD", "iUPD", "iCPD", "NE"),
            ("iSD", "iUPD", "iCPD", "NE"),
        ],
        "iSD",
    ),
    (6, [("iUPD",), ("iCPD",), ANY, ANY, ANY], "iCPD"),
    (7, [("iUPD",), ("iUPD",), ("iCPD",), ANY, ANY], "iCPD"),
    (8, [("iUPD",), ("NE",), ("NE",), ("NE",), ("NE",)], "iUPD"),
]


def _consistent(codes: tuple[str, ...]) -> bool:
    """iCPD only right after iUPD (NE allowed between); anything after the first iCPD."""
    open_iupd = False
    for code in codes:
        if code == "iCPD":
            return open_iupd
        if code == "iUPD":
            open_iupd = True
        elif code != "NE":
            open_iupd = False
    return True


def _cases() -> list[object]:
    cases = []
    for example, cells, expected in TABLE3:
        for codes in itertools.product(*cells):
            if _consistent(codes):
                cases.append(pytest.param(codes, expected, id=f"ex{example}-" + "-".join(codes)))
    return cases


@pytest.mark.parametrize(("codes", "expected"), _cases())
def test_ibor_matches_seymour_2017_table_3(codes: tuple[str, ...], expected: str) -> None:
    assert best_overall_response(series(*codes), reference_date=REF) == expected


@pytest.mark.parametrize(("example", "cells", "expected"), TABLE3, ids=lambda x: str(x))
def test_every_table_3_alternative_is_covered(
    example: int, cells: list[tuple[str, ...]], expected: str
) -> None:
    kept = [c for c in itertools.product(*cells) if _consistent(c)]
    for position, alternatives in enumerate(cells):
        assert {c[position] for c in kept} == set(alternatives), (example, position)


# --- minimum duration of iSD (RECIST 1.1 section 4.4; iRECIST follows RECIST 1.1) -----------


def test_isd_counts_from_min_sd_days_after_reference_date() -> None:
    # "SD ... must have met the SD criteria at least once after study entry at a minimum
    # interval": day 42 counts, day 41 does not (the comparison is date - reference >= 42)
    assert best_overall_response([(day(42), "iSD")], reference_date=REF) == "iSD"
    assert best_overall_response([(day(41), "iSD")], reference_date=REF) == "NE"


def test_early_isd_then_progression_is_the_progression() -> None:
    # RECIST 1.1: SD too early then PD -> PD; here the unconfirmed and confirmed analogues
    early = [(day(28), "iSD"), (day(84), "iUPD")]
    assert best_overall_response(early, reference_date=REF) == "iUPD"
    confirmed = [*early, (day(140), "iCPD")]
    assert best_overall_response(confirmed, reference_date=REF) == "iCPD"


def test_min_sd_days_is_a_keyword_option() -> None:
    tps = [(day(50), "iSD"), (day(100), "NE")]
    assert best_overall_response(tps, reference_date=REF, min_sd_days=56) == "NE"
    assert best_overall_response(tps, reference_date=REF, min_sd_days=50) == "iSD"
    assert best_overall_response(tps, reference_date=REF, min_sd_days=0) == "iSD"


def test_non_target_only_disease_best_response() -> None:
    # Table 3 footnote: with non-target disease only, iCR or non-iCR/non-iUPD per time point
    tps = series("NON-iCR/NON-iUPD", "iCR", "NON-iCR/NON-iUPD")
    assert best_overall_response(tps, reference_date=REF) == "iCR"
    only_non = series("NON-iCR/NON-iUPD", "iUPD", "iCPD")
    assert best_overall_response(only_non, reference_date=REF) == "NON-iCR/NON-iUPD"
    too_early = [(day(30), "NON-iCR/NON-iUPD"), (day(60), "iUPD")]
    assert best_overall_response(too_early, reference_date=REF) == "iUPD"


def test_responses_after_the_first_icpd_do_not_count() -> None:
    # Table 3 example 6: "iUPD, iCPD, Any, Any, Any -> iCPD"
    tps = series("iUPD", "iCPD", "iCR", "iUPD", "iCPD")
    assert best_overall_response(tps, reference_date=REF) == "iCPD"


def test_no_time_point_is_ne() -> None:
    assert best_overall_response([], reference_date=REF) == "NE"


# --- errors -------------------------------------------------------------------------------


def test_unknown_code_is_refused() -> None:
    with pytest.raises(UnknownOptionError, match="entry 1"):
        best_overall_response(series("iSD", "PD"), reference_date=REF)


@pytest.mark.parametrize(
    "tps",
    [
        [(day(56), "iSD"), (day(56), "iPR")],  # same date
        [(day(112), "iSD"), (day(56), "iPR")],  # out of order
        [(day(-1), "iSD")],  # before the reference date
    ],
    ids=["same-date", "out-of-order", "before-reference"],
)
def test_dates_must_increase_from_the_reference_date(tps: list[tuple[datetime.date, str]]) -> None:
    with pytest.raises(InvalidInputError, match="time point"):
        best_overall_response(tps, reference_date=REF)


@pytest.mark.parametrize(
    "codes", [("iCPD",), ("iUPD", "iSD", "iCPD"), ("iPR", "NE", "iCPD")], ids="-".join
)
def test_icpd_without_preceding_iupd_is_refused(codes: tuple[str, ...]) -> None:
    # "iCPD is assigned at the next assessment after iUPD" (Seymour 2017); a reset in between
    # (iSD, iPR, iCR) means a new iUPD is needed first
    with pytest.raises(InvalidInputError, match="without a preceding iUPD"):
        best_overall_response(series(*codes), reference_date=REF)


def test_target_and_non_target_only_codes_are_not_mixed() -> None:
    with pytest.raises(InvalidInputError, match="mixed"):
        best_overall_response(series("iSD", "NON-iCR/NON-iUPD"), reference_date=REF)


@pytest.mark.parametrize("bad", [-1, 1.5, True, "42"])
def test_min_sd_days_must_be_a_whole_number(bad: object) -> None:
    with pytest.raises(InvalidInputError, match="min_sd_days"):
        best_overall_response(series("iSD"), reference_date=REF, min_sd_days=bad)  # type: ignore[arg-type]


# --- properties ---------------------------------------------------------------------------

RANK = {"iCR": 3, "iPR": 2, "iSD": 1}


@st.composite
def valid_series(draw: st.DrawFn) -> list[tuple[datetime.date, str]]:
    codes = draw(st.lists(st.sampled_from(ANY), max_size=8))
    fixed: list[str] = []
    for code in codes:  # an iCPD needs an open iUPD: otherwise record the iUPD
        fixed.append(code if code != "iCPD" or _consistent((*fixed, code)) else "iUPD")
    gaps = draw(st.lists(st.integers(1, 120), min_size=len(fixed), max_size=len(fixed)))
    dates = list(itertools.accumulate(gaps))
    return [(day(d), c) for d, c in zip(dates, fixed, strict=True)]


@given(valid_series(), st.integers(0, 120))
def test_ibor_is_never_better_than_the_best_time_point(
    tps: list[tuple[datetime.date, str]], min_sd_days: int
) -> None:
    bor = best_overall_response(tps, reference_date=REF, min_sd_days=min_sd_days)
    codes = [c for _, c in tps]
    assert bor == "NE" or bor in codes
    assert RANK.get(bor, 0) <= max((RANK.get(c, 0) for c in codes), default=0)


@given(valid_series())
def test_ibor_is_a_progression_code_only_without_a_counted_response(
    tps: list[tuple[datetime.date, str]],
) -> None:
    bor = best_overall_response(tps, reference_date=REF, min_sd_days=0)
    codes = [c for _, c in tps]
    before_icpd = codes[: codes.index("iCPD") + 1] if "iCPD" in codes else codes
    if bor in ("iUPD", "iCPD", "NE"):
        assert not {"iCR", "iPR", "iSD"} & set(before_icpd)
    else:
        assert RANK[bor] == max(RANK.get(c, 0) for c in before_icpd)
