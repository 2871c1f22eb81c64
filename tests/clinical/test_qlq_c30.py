"""QLQ-C30 v3.0 scoring against the EORTC scoring manual (Fayers et al. 2001) and Giesinger 2016.

Reference: the EORTC QLQ-C30 Scoring Manual, 3rd ed. (Fayers et al., 2001) (the manual's Table 1
transcribed, cross-checked
against PROscorer's qlq_c30.R). Every expected score below is hand arithmetic from the manual's
formulas, written out with exact fractions; nothing is copied from equitrial's own output.

Formulas quoted from the manual:
    "RS = (I1 + I2 + ... + In) / n"
    "Functional scales: S = { 1 - (RS - 1) / range } x 100"
    "Symptom scales / items: S = { (RS - 1) / range } x 100"
    "Global health status / QoL: S = { (RS - 1) / range } x 100"
Tolerance: the arithmetic is exact in fractions; the floats must agree to rel 1e-12.
"""

from __future__ import annotations

from fractions import Fraction as F

import numpy as np
import pytest

from equitrial.clinical.qlq_c30 import SCALES, SUMMARY_SCALES, score
from equitrial.errors import InvalidInputError

REL = 1e-12


def approx(x: F | int) -> object:
    return pytest.approx(float(x), rel=REL, abs=1e-12)


# --- Table 1 transcription ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "items", "item_range", "kind"),
    [
        ("QL2", (29, 30), 6, "global"),
        ("PF2", (1, 2, 3, 4, 5), 3, "functional"),
        ("RF2", (6, 7), 3, "functional"),
        ("EF", (21, 22, 23, 24), 3, "functional"),
        ("CF", (20, 25), 3, "functional"),
        ("SF", (26, 27), 3, "functional"),
        ("FA", (10, 12, 18), 3, "symptom"),
        ("NV", (14, 15), 3, "symptom"),
        ("PA", (9, 19), 3, "symptom"),
        ("DY", (8,), 3, "symptom"),
        ("SL", (11,), 3, "symptom"),
        ("AP", (13,), 3, "symptom"),
        ("CO", (16,), 3, "symptom"),
        ("DI", (17,), 3, "symptom"),
        ("FI", (28,), 3, "symptom"),
    ],
)
def test_scale_definitions_match_manual_table_1(
    code: str, items: tuple[int, ...], item_range: int, kind: str
) -> None:
    scale = SCALES[code]
    assert scale.items == items
    assert scale.item_range == item_range
    assert scale.kind == kind


def test_scales_cover_each_item_exactly_once_manual_table_1() -> None:
    # Table 1 v3.0: the 15 scales use items 1-30, each exactly once.
    used = sorted(i for s in SCALES.values() for i in s.items)
    assert used == list(range(1, 31))
    assert list(SCALES) == [
        "QL2", "PF2", "RF2", "EF", "CF", "SF", "FA", "NV", "PA", "DY", "SL", "AP", "CO", "DI", "FI",
    ]  # fmt: skip


def test_scale_mapping_is_frozen() -> None:
    with pytest.raises(TypeError):
        SCALES["XX"] = SCALES["PF2"]  # type: ignore[index]


def test_summary_scales_are_giesinger_2016_thirteen() -> None:
    # Giesinger 2016: "mean of 13 scales ... excluding QL (global health) and FI".
    assert set(SUMMARY_SCALES) == {
        "PF2", "RF2", "EF", "CF", "SF", "FA", "NV", "PA", "DY", "SL", "AP", "CO", "DI",
    }  # fmt: skip
    assert len(SUMMARY_SCALES) == 13


def test_result_keys() -> None:
    assert list(score({})) == [*SCALES, "SUM"]


# --- the manual's worked checks (qlqc30.md "Worked check") ----------------------------------


def test_worked_check_pf_all_1_gives_100() -> None:
    # "PF items all = 1 -> RS = 1 -> PF = 100"
    assert score({i: 1 for i in range(1, 6)})["PF2"] == approx(100)


def test_worked_check_fa_all_4_gives_100() -> None:
    # "FA items all = 4 -> RS = 4 -> FA = 100"
    assert score({10: 4, 12: 4, 18: 4})["FA"] == approx(100)


def test_worked_check_ql_29_30_equal_4_gives_50() -> None:
    # "QL items 29 = 30 = 4 -> RS = 4 -> QL = (3/6) x 100 = 50"
    assert score({29: 4, 30: 4})["QL2"] == approx(50)


# --- a hand-scored questionnaire: every scale --------------------------------------------------

# One full questionnaire with varied answers.
FULL = {
    1: 1, 2: 2, 3: 2, 4: 3, 5: 1,  # PF2
    6: 2, 7: 3,  # RF2
    8: 2,  # DY
    9: 3,  # PA
    10: 2,  # FA
    11: 4,  # SL
    12: 3,  # FA
    13: 1,  # AP
    14: 1, 15: 2,  # NV
    16: 3,  # CO
    17: 2,  # DI
    18: 4,  # FA
    19: 2,  # PA
    20: 1,  # CF
    21: 2, 22: 2, 23: 3, 24: 1,  # EF
    25: 2,  # CF
    26: 4, 27: 3,  # SF
    28: 2,  # FI
    29: 5, 30: 6,  # QL2
}  # fmt: skip

# Hand arithmetic, functional: S = (1 - (RS - 1)/3) * 100; symptom: S = (RS - 1)/3 * 100;
# QL2: S = (RS - 1)/6 * 100.
FULL_EXPECTED = {
    # QL2: RS = (5 + 6)/2 = 11/2; (11/2 - 1)/6 * 100 = (9/2)/6 * 100 = 3/4 * 100 = 75
    "QL2": F(75),
    # PF2: RS = (1+2+2+3+1)/5 = 9/5; (9/5 - 1)/3 = 4/15; (1 - 4/15) * 100 = 1100/15 = 220/3
    "PF2": F(220, 3),
    # RF2: RS = (2+3)/2 = 5/2; (5/2 - 1)/3 = 1/2; (1 - 1/2) * 100 = 50
    "RF2": F(50),
    # EF: RS = (2+2+3+1)/4 = 2; (2 - 1)/3 = 1/3; (1 - 1/3) * 100 = 200/3
    "EF": F(200, 3),
    # CF: RS = (1+2)/2 = 3/2; (3/2 - 1)/3 = 1/6; (1 - 1/6) * 100 = 250/3
    "CF": F(250, 3),
    # SF: RS = (4+3)/2 = 7/2; (7/2 - 1)/3 = 5/6; (1 - 5/6) * 100 = 50/3
    "SF": F(50, 3),
    # FA: RS = (2+3+4)/3 = 3; (3 - 1)/3 * 100 = 200/3
    "FA": F(200, 3),
    # NV: RS = (1+2)/2 = 3/2; (3/2 - 1)/3 * 100 = 100/6 = 50/3
    "NV": F(50, 3),
    # PA: RS = (3+2)/2 = 5/2; (5/2 - 1)/3 * 100 = 50
    "PA": F(50),
    # DY: RS = 2; (2 - 1)/3 * 100 = 100/3
    "DY": F(100, 3),
    # SL: RS = 4; (4 - 1)/3 * 100 = 100
    "SL": F(100),
    # AP: RS = 1; 0
    "AP": F(0),
    # CO: RS = 3; (3 - 1)/3 * 100 = 200/3
    "CO": F(200, 3),
    # DI: RS = 2; 100/3
    "DI": F(100, 3),
    # FI: RS = 2; 100/3
    "FI": F(100, 3),
}

# Summary (Giesinger 2016): (PF + RF + EF + CF + SF + (100-FA) + (100-NV) + (100-PA) + (100-DY)
#   + (100-SL) + (100-AP) + (100-CO) + (100-DI)) / 13
# functional part: 220/3 + 50 + 200/3 + 250/3 + 50/3 = (220 + 150 + 200 + 250 + 50)/3 = 870/3
# symptom part, in the order FA, NV, PA, DY, SL, AP, CO, DI:
#   (100 - 200/3) + (100 - 50/3) + (100 - 50) + (100 - 100/3) + (100 - 100) + (100 - 0)
#   + (100 - 200/3) + (100 - 100/3)
#   = (100 + 250 + 150 + 200 + 0 + 300 + 100 + 200)/3 = 1300/3
# SUM = (870/3 + 1300/3)/13 = 2170/39
FULL_SUM = F(2170, 39)


@pytest.mark.parametrize("code", list(FULL_EXPECTED))
def test_hand_scored_questionnaire_every_scale_manual_formulas(code: str) -> None:
    assert score(FULL)[code] == approx(FULL_EXPECTED[code])


def test_hand_scored_questionnaire_summary_giesinger_2016() -> None:
    assert score(FULL)["SUM"] == approx(FULL_SUM)


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        # functional: all 4 -> RS = 4 -> (1 - 3/3) * 100 = 0
        (4, {"PF2": 0, "RF2": 0, "EF": 0, "CF": 0, "SF": 0}),
        # functional: all 1 -> RS = 1 -> (1 - 0) * 100 = 100
        (1, {"PF2": 100, "RF2": 100, "EF": 100, "CF": 100, "SF": 100}),
    ],
    ids=["functional all 4 -> 0", "functional all 1 -> 100"],
)
def test_functional_scale_ends(answers: int, expected: dict[str, int]) -> None:
    result = score({i: answers for i in range(1, 29)})
    for code, value in expected.items():
        assert result[code] == approx(value)


def test_symptom_scale_ends_and_ql_ends() -> None:
    # symptom all 1 -> 0, all 4 -> 100; QL2 all 1 -> 0, all 7 -> (7 - 1)/6 * 100 = 100
    low = score({**{i: 1 for i in range(1, 29)}, 29: 1, 30: 1})
    high = score({**{i: 4 for i in range(1, 29)}, 29: 7, 30: 7})
    symptoms = [c for c, s in SCALES.items() if s.kind == "symptom"]
    for code in symptoms:
        assert low[code] == approx(0)
        assert high[code] == approx(100)
    assert low["QL2"] == approx(0)
    assert high["QL2"] == approx(100)
    # Summary: all functional 100, all symptoms 0 -> 13 * 100 / 13 = 100; reverse -> 0.
    assert low["SUM"] == approx(100)
    assert high["SUM"] == approx(0)


# --- half-scale rule ("at least half of the items answered") at every boundary -----------------

# qlqc30.md: "QL2 (2 items) needs >= 1; PF2 (5) needs >= 3; RF2, CF, SF, NV, PA (2) need >= 1;
# EF (4) needs >= 2; FA (3) needs >= 2"; "Single-item measures: score missing if the item is
# missing".


def test_pf2_three_of_five_answered_is_scored() -> None:
    # items 1, 2, 3 = 2, 3, 4; RS = 9/3 = 3; (1 - (3 - 1)/3) * 100 = 100/3
    result = score({1: 2, 2: 3, 3: 4, 4: None})
    assert result["PF2"] == approx(F(100, 3))


def test_pf2_two_of_five_answered_is_missing() -> None:
    assert score({1: 2, 2: 3, 3: None, 4: None, 5: None})["PF2"] is None


def test_ef_two_of_four_answered_is_scored() -> None:
    # items 21, 24 = 1, 4; RS = 5/2; (1 - (5/2 - 1)/3) * 100 = (1 - 1/2) * 100 = 50
    assert score({21: 1, 24: 4})["EF"] == approx(50)


def test_ef_one_of_four_answered_is_missing() -> None:
    assert score({22: 3, 21: None, 23: None, 24: None})["EF"] is None


def test_fa_two_of_three_answered_is_scored() -> None:
    # items 10, 18 = 2, 3; RS = 5/2; (5/2 - 1)/3 * 100 = 50
    assert score({10: 2, 18: 3, 12: None})["FA"] == approx(50)


def test_fa_one_of_three_answered_is_missing() -> None:
    assert score({12: 4})["FA"] is None


@pytest.mark.parametrize(
    ("code", "answered_item", "answer", "expected"),
    [
        # QL2, item 30 = 3: (3 - 1)/6 * 100 = 100/3
        ("QL2", 30, 3, F(100, 3)),
        # RF2, item 6 = 2: (1 - (2 - 1)/3) * 100 = 200/3
        ("RF2", 6, 2, F(200, 3)),
        # CF, item 25 = 4: (1 - 3/3) * 100 = 0
        ("CF", 25, 4, F(0)),
        # SF, item 26 = 3: (1 - 2/3) * 100 = 100/3
        ("SF", 26, 3, F(100, 3)),
        # NV, item 15 = 2: (2 - 1)/3 * 100 = 100/3
        ("NV", 15, 2, F(100, 3)),
        # PA, item 9 = 4: (4 - 1)/3 * 100 = 100
        ("PA", 9, 4, F(100)),
    ],
)
def test_two_item_scale_one_answered_is_scored(
    code: str, answered_item: int, answer: int, expected: F
) -> None:
    other = next(i for i in SCALES[code].items if i != answered_item)
    assert score({answered_item: answer, other: None})[code] == approx(expected)


@pytest.mark.parametrize("code", ["QL2", "RF2", "CF", "SF", "NV", "PA"])
def test_two_item_scale_none_answered_is_missing(code: str) -> None:
    answers = {i: None for i in SCALES[code].items}
    assert score(answers)[code] is None


@pytest.mark.parametrize("code", ["DY", "SL", "AP", "CO", "DI", "FI"])
def test_single_item_scored_if_answered_missing_if_not(code: str) -> None:
    (item,) = SCALES[code].items
    # answer 3: (3 - 1)/3 * 100 = 200/3
    assert score({item: 3})[code] == approx(F(200, 3))
    assert score({item: None})[code] is None
    assert score({})[code] is None


def test_absent_key_and_none_are_the_same_missing_answer() -> None:
    with_none = {**FULL, 4: None, 12: None, 29: None}
    without = {k: v for k, v in FULL.items() if k not in (4, 12, 29)}
    assert score(with_none) == score(without)


# --- summary score present / absent ----------------------------------------------------------


def test_summary_present_when_scales_scored_from_half_their_items() -> None:
    # Drop item 4 (PF2 4 of 5 answered) and item 12 (FA 2 of 3): all 13 scales still scored.
    # PF2: RS = (1+2+2+1)/4 = 3/2; (1 - 1/6) * 100 = 250/3  (was 220/3: +30/3)
    # FA: RS = (2+4)/2 = 3; 200/3 (unchanged)
    # SUM = (2170/3 + 30/3)/13 = 2200/39
    answers = {**FULL, 4: None, 12: None}
    result = score(answers)
    assert result["PF2"] == approx(F(250, 3))
    assert result["SUM"] == approx(F(2200, 39))


@pytest.mark.parametrize("code", SUMMARY_SCALES)
def test_summary_missing_when_any_of_the_13_scales_missing(code: str) -> None:
    answers: dict[int, int | None] = dict(FULL)
    for item in SCALES[code].items:
        answers[item] = None
    result = score(answers)
    assert result[code] is None
    assert result["SUM"] is None


@pytest.mark.parametrize("code", ["QL2", "FI"])
def test_summary_ignores_ql2_and_fi(code: str) -> None:
    answers: dict[int, int | None] = dict(FULL)
    for item in SCALES[code].items:
        answers[item] = None
    assert score(answers)["SUM"] == approx(FULL_SUM)


def test_empty_questionnaire_is_all_missing() -> None:
    assert all(v is None for v in score({}).values())


def test_numpy_integer_answers_are_accepted() -> None:
    answers = {np.int64(k): np.int8(v) for k, v in FULL.items()}
    assert score(answers) == score(FULL)  # type: ignore[arg-type]


# --- errors ------------------------------------------------------------------------------


@pytest.mark.parametrize("key", [0, 31, -1, "1", 1.0, True, None])
def test_item_key_outside_1_to_30_is_an_error(key: object) -> None:
    with pytest.raises(InvalidInputError, match=r"item numbers are 1 to 30"):
        score({key: 1})  # type: ignore[dict-item]


@pytest.mark.parametrize(
    ("item", "answer"),
    [
        (1, 0),  # items 1-28: 1-4
        (1, 5),
        (28, 5),
        (28, 0),
        (29, 0),  # items 29-30: 1-7
        (29, 8),
        (30, 8),
        (30, -1),
    ],
)
def test_answer_out_of_range_names_the_item(item: int, answer: int) -> None:
    with pytest.raises(InvalidInputError, match=rf"^item {item}: .*between 1 and") as info:
        score({item: answer})
    assert info.value.field == f"item {item}"
    assert info.value.value == answer


@pytest.mark.parametrize("answer", [2.0, 2.5, True, False, "2", float("nan")])
def test_non_integer_or_bool_answer_names_the_item(answer: object) -> None:
    with pytest.raises(InvalidInputError, match=r"^item 7: the answer must be an integer"):
        score({7: answer})  # type: ignore[dict-item]


def test_items_must_be_a_mapping() -> None:
    with pytest.raises(InvalidInputError, match="mapping"):
        score([1, 2, 3])  # type: ignore[arg-type]


def test_answers_at_range_ends_are_accepted() -> None:
    # items 1-28 accept 1 and 4, items 29-30 accept 1 and 7
    assert score({28: 4, 1: 1, 29: 7, 30: 1})["QL2"] == approx(50)  # RS = 4 -> (3/6)*100
