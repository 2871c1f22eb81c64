"""equitrial.clinical.irecist.assess_timepoint: iRECIST Table 2, confirmation and the reset.

References (each test quotes the row or sentence it checks):
- Seymour L et al. Lancet Oncol 2017;18:e143-e152, Table 2 "Assignment of timepoint response
  using iRECIST" (PMC5648544), rows 1-9 as transcribed in the RECIST 1.1 paper (Eisenhauer et al.,
  Eur J Cancer 2009;45:228-47) and the iRECIST paper (Seymour et al., Lancet Oncol 2017;18:e143-52)
  section 9; row 9's end and row 10 are marked [recalled] there.
- RECIST working group iRECIST FAQ (recist.eortc.org/irecist): "Can imaging be used to confirm
  progression, even when done LESS than four weeks after the scans that showed iUPD" and
  "If iUPD is driven by non-target disease, how is progression confirmed".
The previous-iUPD column is tested with the state left by an iUPD assessment 8 weeks earlier.
"""

from __future__ import annotations

import dataclasses
import datetime

import pytest

from equitrial.clinical.irecist import (
    IrecistState,
    NewLesionTarget,
    TimepointStatus,
    assess_timepoint,
)
from equitrial.errors import InvalidInputError, UnknownOptionError

D0 = datetime.date(2024, 1, 1)


def day(n: int) -> datetime.date:
    return D0 + datetime.timedelta(days=n)


def nlt(*mm: float, organ: str = "liver") -> tuple[NewLesionTarget, ...]:
    return tuple(NewLesionTarget(f"N{i}", organ if i < 2 else f"o{i}", m) for i, m in enumerate(mm))


def status(n: int = 112, **kw: object) -> TimepointStatus:
    base: dict[str, object] = {
        "date": day(n),
        "target": "iSD",
        "target_sum": 50.0,
        "non_target": "NON-iCR/NON-iUPD",
    }
    base.update(kw)
    return TimepointStatus(**base)  # type: ignore[arg-type]


def after(*previous: TimepointStatus) -> IrecistState:
    state = IrecistState()
    for s in previous:
        state = assess_timepoint(s, state).state
    return state


# iUPD states 8 weeks before the assessment under test (day 56, assessed at day 112)
TARGET_IUPD = status(56, target="iUPD", target_sum=60.0)
NON_TARGET_IUPD = status(56, target="iSD", target_sum=50.0, non_target="iUPD")
NEW_IUPD = status(56, target="iSD", target_sum=50.0, new_target=nlt(12.0), new_non_target_count=1)
ALL_IUPD = status(
    56,
    target="iUPD",
    target_sum=60.0,
    non_target="iUPD",
    new_target=nlt(12.0),
    new_non_target_count=1,
)


def response(s: TimepointStatus, state: IrecistState | None = None) -> str:
    return assess_timepoint(s, state).response


def test_the_previous_states_are_iupd() -> None:
    for s in (TARGET_IUPD, NON_TARGET_IUPD, NEW_IUPD, ALL_IUPD):
        assert response(s) == "iUPD"


# --- rows 1-4: no category in iUPD --------------------------------------------------------

ROWS_1_4 = [
    pytest.param(
        "iCR", "iCR", 0.0, "iCR", id="row1: target iCR; non-target iCR; new no -> iCR | iCR"
    ),
    pytest.param(
        "iCR",
        "NON-iCR/NON-iUPD",
        0.0,
        "iPR",
        id="row2: target iCR; non-target non-iCR/non-iUPD; new no -> iPR | iPR",
    ),
    pytest.param(
        "iPR",
        "NON-iCR/NON-iUPD",
        30.0,
        "iPR",
        id="row3: target iPR; non-target non-iCR/non-iUPD; new no -> iPR | iPR",
    ),
    pytest.param(
        "iSD",
        "NON-iCR/NON-iUPD",
        45.0,
        "iSD",
        id="row4: target iSD; non-target non-iCR/non-iUPD; new no -> iSD | iSD",
    ),
]


@pytest.mark.parametrize(("target", "non_target", "total", "expected"), ROWS_1_4)
def test_table_2_rows_1_to_4_no_previous_iupd(
    target: str, non_target: str, total: float, expected: str
) -> None:
    s = status(target=target, non_target=non_target, target_sum=total)
    assert response(s) == expected


@pytest.mark.parametrize(("target", "non_target", "total", "expected"), ROWS_1_4)
@pytest.mark.parametrize("previous", [TARGET_IUPD, NON_TARGET_IUPD], ids=["target", "non-target"])
def test_table_2_rows_1_to_4_after_iupd_reset_the_bar(
    target: str, non_target: str, total: float, expected: str, previous: TimepointStatus
) -> None:
    # "If iUPD is not confirmed ... and the next assessment is iSD, iPR or iCR, the bar is reset"
    result = assess_timepoint(
        status(target=target, non_target=non_target, target_sum=total), after(previous)
    )
    assert result.response == expected
    assert result.state.cycle is None


# --- row 5 --------------------------------------------------------------------------------
# "Target lesions: iUPD with no change, or with a decrease from last timepoint; non-target
# lesions: iUPD with no change, or decrease from last timepoint; new lesions: yes | Not
# applicable | New lesions confirm iCPD if new lesions were previously identified and they have
# increased in size (>=5 mm in sum of measures for new lesion target or any increase for new
# lesion non-target) or number; if no change is seen in new lesions (size or number) from last
# timepoint, assignment remains iUPD"

ROW5 = {"target": "iUPD", "target_sum": 58.0, "non_target": "iUPD"}


@pytest.mark.parametrize(
    ("new", "expected"),
    [
        pytest.param(
            {"new_target": nlt(17.0), "new_non_target_count": 1}, "iCPD", id="NLT sum +5 mm -> iCPD"
        ),
        pytest.param(
            {"new_target": nlt(16.9), "new_non_target_count": 1},
            "iUPD",
            id="NLT sum +4.9 mm -> remains iUPD",
        ),
        pytest.param(
            {"new_target": nlt(12.0), "new_non_target_count": 1, "new_non_target_increase": True},
            "iCPD",
            id="any NLNT increase -> iCPD",
        ),
        pytest.param(
            {"new_target": nlt(12.0), "new_non_target_count": 2}, "iCPD", id="one more NLNT -> iCPD"
        ),
        pytest.param(
            {"new_target": nlt(12.0, 10.0), "new_non_target_count": 1},
            "iCPD",
            id="one more NLT -> iCPD",
        ),
        pytest.param(
            {"new_target": nlt(12.0), "new_non_target_count": 1},
            "iUPD",
            id="no change -> remains iUPD",
        ),
        pytest.param(
            {"new_target": nlt(9.0), "new_non_target_count": 1},
            "iUPD",
            id="decrease -> remains iUPD",
        ),
    ],
)
def test_table_2_row_5_new_lesions_confirm_icpd(new: dict[str, object], expected: str) -> None:
    assert response(status(**ROW5, **new), after(ALL_IUPD)) == expected


# --- row 6 --------------------------------------------------------------------------------
# "Target lesions: iSD, iPR, iCR; non-target lesions: iUPD; new lesions: no | iUPD | Remains
# iUPD unless iCPD is confirmed on the basis of a further increase in the size of non-target
# disease (does not need to meet RECIST 1.1 criteria for unequivocal progression)"


@pytest.mark.parametrize(("target", "total"), [("iSD", 45.0), ("iPR", 30.0), ("iCR", 0.0)])
def test_table_2_row_6_non_target_iupd_no_previous_iupd(target: str, total: float) -> None:
    assert response(status(target=target, target_sum=total, non_target="iUPD")) == "iUPD"


@pytest.mark.parametrize(
    ("non_target", "increase", "expected"),
    [
        ("iUPD", True, "iCPD"),
        ("NON-iCR/NON-iUPD", True, "iCPD"),  # the increase need not be unequivocal
        ("iUPD", False, "iUPD"),
    ],
    ids=["further increase -> iCPD", "increase not unequivocal -> iCPD", "no change -> iUPD"],
)
def test_table_2_row_6_non_target_iupd_after_iupd(
    non_target: str, increase: bool, expected: str
) -> None:
    s = status(target="iSD", non_target=non_target, non_target_increase=increase)
    assert response(s, after(NON_TARGET_IUPD)) == expected


# --- row 7 --------------------------------------------------------------------------------
# "Target lesions: iUPD; non-target lesions: non-iCR/non-iUPD, or iCR; new lesions: no | iUPD |
# Remains iUPD unless iCPD is confirmed on the basis of a further increase in sum of measures
# >=5 mm; otherwise, assignment remains iUPD"


@pytest.mark.parametrize("non_target", ["NON-iCR/NON-iUPD", "iCR"])
def test_table_2_row_7_target_iupd_no_previous_iupd(non_target: str) -> None:
    assert response(status(target="iUPD", target_sum=60.0, non_target=non_target)) == "iUPD"


@pytest.mark.parametrize(
    ("total", "expected"), [(65.0, "iCPD"), (64.9, "iUPD"), (60.0, "iUPD"), (58.0, "iUPD")]
)
@pytest.mark.parametrize("non_target", ["NON-iCR/NON-iUPD", "iCR"])
def test_table_2_row_7_target_sum_plus_5_mm_confirms(
    total: float, expected: str, non_target: str
) -> None:
    s = status(target="iUPD", target_sum=total, non_target=non_target)
    assert response(s, after(TARGET_IUPD)) == expected


# --- row 8 --------------------------------------------------------------------------------
# "Target lesions: iUPD; non-target lesions: iUPD; new lesions: no | iUPD | Remains iUPD unless
# iCPD is confirmed based on a further increase in previously identified target lesion iUPD in
# sum of measures >5 mm or non-target lesion iUPD (previous assessment need not have shown
# unequivocal progression)"

TARGET_AND_NON_TARGET_IUPD = status(56, target="iUPD", target_sum=60.0, non_target="iUPD")


def test_table_2_row_8_no_previous_iupd() -> None:
    assert response(TARGET_AND_NON_TARGET_IUPD) == "iUPD"


@pytest.mark.parametrize(
    ("total", "increase", "expected"),
    [(65.0, False, "iCPD"), (64.0, True, "iCPD"), (64.0, False, "iUPD")],
    ids=["target +5 mm (>= as in rows 7 and 9)", "non-target increase", "neither -> iUPD"],
)
def test_table_2_row_8_after_iupd(total: float, increase: bool, expected: str) -> None:
    s = status(target="iUPD", target_sum=total, non_target="iUPD", non_target_increase=increase)
    assert response(s, after(TARGET_AND_NON_TARGET_IUPD)) == expected


# --- row 9 --------------------------------------------------------------------------------
# "Target lesions: iUPD; non-target lesions: iUPD; new lesions: yes | iUPD | Remains iUPD unless
# iCPD is confirmed on the basis of a further increase in previously identified target lesion
# iUPD sum of measures >=5 mm, previously identified non-target lesion iUPD, or an increase in
# size or number of new lesions previously identified" (end of row [recalled])

ROW9 = {"target": "iUPD", "non_target": "iUPD", "new_non_target_count": 1}


def test_table_2_row_9_no_previous_iupd() -> None:
    assert response(status(target_sum=60.0, new_target=nlt(12.0), **ROW9)) == "iUPD"


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"target_sum": 65.0}, "iCPD"),
        ({"non_target_increase": True}, "iCPD"),
        ({"new_target": nlt(17.0)}, "iCPD"),
        ({"new_non_target_count": 2}, "iCPD"),
        ({}, "iUPD"),
    ],
    ids=["target +5 mm", "non-target increase", "NLT +5 mm", "more new lesions", "no change"],
)
def test_table_2_row_9_after_iupd(changes: dict[str, object], expected: str) -> None:
    kw: dict[str, object] = {**ROW9, "target_sum": 60.0, "new_target": nlt(12.0), **changes}
    assert response(status(**kw), after(ALL_IUPD)) == expected


# --- row 10 [recalled] ------------------------------------------------------------------------
# "Non-iUPD or progression | Non-iUPD or progression | Yes | iUPD | Remains iUPD unless iCPD is
# confirmed on the basis of an increase in the size or number of new lesions previously
# identified"


def test_table_2_row_10_new_lesion_no_previous_iupd() -> None:
    assert response(status(new_target=nlt(12.0))) == "iUPD"
    assert response(status(new_non_target_count=1)) == "iUPD"


@pytest.mark.parametrize(
    ("new", "expected"),
    [
        ({"new_target": nlt(12.0), "new_non_target_count": 1}, "iUPD"),
        ({"new_target": nlt(17.0), "new_non_target_count": 1}, "iCPD"),
        ({"new_target": nlt(12.0), "new_non_target_count": 3}, "iCPD"),
    ],
    ids=["no change -> iUPD", "NLT +5 mm -> iCPD", "more NLNT -> iCPD"],
)
def test_table_2_row_10_after_new_lesion_iupd(new: dict[str, object], expected: str) -> None:
    assert response(status(**new), after(NEW_IUPD)) == expected


# --- non-target-only disease (Table 3 footnote; RECIST 1.1 Table 2) ------------------------


@pytest.mark.parametrize(
    ("non_target", "new_count", "expected"),
    [
        ("iCR", 0, "iCR"),
        ("NON-iCR/NON-iUPD", 0, "NON-iCR/NON-iUPD"),
        ("NE", 0, "NE"),
        ("iUPD", 0, "iUPD"),
        ("iCR", 1, "iUPD"),
    ],
)
def test_non_target_only_disease(non_target: str, new_count: int, expected: str) -> None:
    s = TimepointStatus(day(56), target=None, non_target=non_target, new_non_target_count=new_count)  # type: ignore[arg-type]
    assert response(s) == expected


# --- RECIST 1.1 Table 1 rows with unevaluated lesions --------------------------------------


@pytest.mark.parametrize(
    ("target", "non_target", "expected"),
    [
        ("iCR", "NE", "iPR"),
        ("iPR", "NE", "iPR"),
        ("iSD", "NE", "iSD"),
        ("NE", "NON-iCR/NON-iUPD", "NE"),
    ],
    ids=[
        "CR, not evaluated -> PR",
        "PR, not all evaluated -> PR",
        "SD, not all evaluated -> SD",
        "not all evaluated, non-PD -> NE",
    ],
)
def test_recist_table_1_not_evaluated_rows(target: str, non_target: str, expected: str) -> None:
    assert response(status(target=target, non_target=non_target)) == expected


# --- confirmation at < 4 weeks (iRECIST FAQ) ----------------------------------------------


def test_scan_less_than_4_weeks_after_iupd_does_not_confirm() -> None:
    # "scans done prior to 4 weeks after 1st iUPD ... should not be used to define iCPD"
    early = status(56 + 27, target="iUPD", target_sum=70.0)
    assert response(early, after(TARGET_IUPD)) == "iUPD"
    on_time = status(56 + 28, target="iUPD", target_sum=70.0)
    assert response(on_time, after(TARGET_IUPD)) == "iCPD"


def test_protocol_window_of_minus_2_days() -> None:
    # "with a protocol defined variance permitted of a recommended +/- 2 days"
    s = status(56 + 26, target="iUPD", target_sum=70.0)
    assert assess_timepoint(s, after(TARGET_IUPD), min_confirm_days=26).response == "iCPD"


def test_early_scan_for_a_new_sign_with_an_additional_new_lesion_confirms() -> None:
    # "UNLESS the scans were also performed to investigate a new clinical symptom or sign AND
    # an (additional) new lesion is identified"
    with_sign = status(70, new_target=nlt(12.0), new_non_target_count=2, new_clinical_sign=True)
    assert response(with_sign, after(NEW_IUPD)) == "iCPD"
    without_sign = dataclasses.replace(with_sign, new_clinical_sign=False)
    assert response(without_sign, after(NEW_IUPD)) == "iUPD"


def test_early_scan_growth_of_existing_lesions_does_not_confirm_even_with_a_new_sign() -> None:
    # "Increases in size of existing lesions (including new lesions identified at the time of
    # iUPD) would not allow iCPD to be assigned"
    s = status(70, new_target=nlt(20.0), new_non_target_count=1, new_clinical_sign=True)
    assert response(s, after(NEW_IUPD)) == "iUPD"


def test_increase_seen_early_confirms_at_the_next_valid_scan() -> None:
    early = status(70, target="iSD", non_target="iUPD", non_target_increase=True)
    state = after(NON_TARGET_IUPD, early)
    assert response(early, after(NON_TARGET_IUPD)) == "iUPD"
    later = status(112, target="iSD", non_target="iUPD", non_target_increase=False)
    assert response(later, state) == "iCPD"


# --- PD in a category that had not shown iUPD ([recalled] in recist.md) --------------------


@pytest.mark.parametrize(
    ("previous", "changes"),
    [
        (TARGET_IUPD, {"target": "iUPD", "target_sum": 60.0, "non_target": "iUPD"}),
        (TARGET_IUPD, {"target": "iUPD", "target_sum": 60.0, "new_non_target_count": 1}),
        (NON_TARGET_IUPD, {"target": "iUPD", "target_sum": 60.0, "non_target": "iUPD"}),
        (
            NEW_IUPD,
            {
                "target": "iUPD",
                "target_sum": 60.0,
                "new_target": nlt(12.0),
                "new_non_target_count": 1,
            },
        ),
    ],
    ids=[
        "target iUPD, then non-target PD",
        "target iUPD, then a new lesion",
        "non-target iUPD, then target PD",
        "new-lesion iUPD, then target PD",
    ],
)
def test_pd_in_another_category_confirms(
    previous: TimepointStatus, changes: dict[str, object]
) -> None:
    assert response(status(**changes), after(previous)) == "iCPD"


# --- state bookkeeping ----------------------------------------------------------------------


def test_ne_keeps_the_iupd_open_and_a_later_assessment_confirms() -> None:
    ne = status(112, target="NE", target_sum=None, non_target="NE")
    state = after(TARGET_IUPD, ne)
    assert response(ne, after(TARGET_IUPD)) == "NE"
    assert state.cycle is not None
    assert response(status(168, target="iUPD", target_sum=66.0), state) == "iCPD"


def test_icpd_is_final() -> None:
    state = after(TARGET_IUPD, status(112, target="iUPD", target_sum=66.0))
    assert state.confirmed_date == day(112)
    assert response(status(168, target="iPR", target_sum=20.0), state) == "iCPD"


def test_result_keeps_target_and_new_lesion_sums_apart() -> None:
    r = assess_timepoint(status(target_sum=50.0, new_target=nlt(12.0, 8.5)))
    assert (r.target_sum, r.new_target_sum) == (50.0, 20.5)
    assert r.new_lesions_present and r.new_lesion_progression
    assert r.iupd_categories == {"new_lesions"}


# --- errors ---------------------------------------------------------------------------------


def test_date_must_follow_the_previous_assessment() -> None:
    with pytest.raises(InvalidInputError, match="not after the previous"):
        assess_timepoint(status(56), after(TARGET_IUPD))


def test_no_disease_in_any_category_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="no target and no non-target"):
        assess_timepoint(TimepointStatus(day(56), target=None, non_target=None))


def test_unknown_category_codes_are_refused() -> None:
    with pytest.raises(UnknownOptionError, match="target category"):
        assess_timepoint(status(target="PD"))
    with pytest.raises(UnknownOptionError, match="non-target category"):
        assess_timepoint(status(non_target="Non-CR/Non-PD"))


@pytest.mark.parametrize(
    ("new_target", "match"),
    [
        (tuple(NewLesionTarget(f"N{i}", f"o{i}", 10.0) for i in range(6)), "at most 5"),
        (tuple(NewLesionTarget(f"N{i}", "lung", 10.0) for i in range(3)), "more than 2"),
        ((NewLesionTarget("N1", "lung", 10.0), NewLesionTarget("N1", "liver", 9.0)), "twice"),
        ((NewLesionTarget("N1", "lung", -1.0),), "finite number"),
        ((NewLesionTarget("N1", "lung", float("nan")),), "finite number"),
    ],
    ids=["six NLT", "three in one organ", "duplicate id", "negative", "nan"],
)
def test_new_lesion_target_records_are_checked(
    new_target: tuple[NewLesionTarget, ...], match: str
) -> None:
    with pytest.raises(InvalidInputError, match=match):
        assess_timepoint(status(new_target=new_target))


@pytest.mark.parametrize("bad", [-1, True])
def test_new_non_target_count_must_be_a_count(bad: object) -> None:
    with pytest.raises(InvalidInputError, match="new_non_target_count"):
        assess_timepoint(status(new_non_target_count=bad))


def test_negative_target_sum_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="target_sum"):
        assess_timepoint(status(target_sum=-1.0))
