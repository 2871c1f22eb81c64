"""QLQ-C30 entry (issue 9): scores derived on save from the answers, never typed.

Expected scores come from the EORTC QLQ-C30 Scoring Manual (3rd ed., 2001), as summarized in
``shared/reference/qlqc30.md``: its worked check ("PF items all = 1 -> PF = 100; FA items all
= 4 -> FA = 100; QL items 29 = 30 = 4 -> QL = 50") and its formulas, implemented again below
from the manual's item table (not from ``equitrial.clinical.qlq_c30``).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from forms_support import TODAY, audit_rows, count, enrol, rules

from equitrial.clinical import qlq_c30
from equitrial.errors import InvalidInputError
from equitrial.services import forms, questionnaires
from equitrial.store import models as m

# Scale: (items, item range, kind) -- the manual's Table 1 for version 3.0
MANUAL_SCALES = {
    "QL2": ((29, 30), 6, "global"),
    "PF2": ((1, 2, 3, 4, 5), 3, "functional"),
    "RF2": ((6, 7), 3, "functional"),
    "EF": ((21, 22, 23, 24), 3, "functional"),
    "CF": ((20, 25), 3, "functional"),
    "SF": ((26, 27), 3, "functional"),
    "FA": ((10, 12, 18), 3, "symptom"),
    "NV": ((14, 15), 3, "symptom"),
    "PA": ((9, 19), 3, "symptom"),
    "DY": ((8,), 3, "symptom"),
    "SL": ((11,), 3, "symptom"),
    "AP": ((13,), 3, "symptom"),
    "CO": ((16,), 3, "symptom"),
    "DI": ((17,), 3, "symptom"),
    "FI": ((28,), 3, "symptom"),
}


def manual_scores(items: dict[int, int | None]) -> dict[str, float | None]:
    """Scores by the manual: RS = mean of answered items (half-scale rule), then
    functional S = (1 - (RS - 1) / range) * 100, symptom and global S = (RS - 1) / range * 100;
    summary = mean of PF2, RF2, EF, CF, SF and 100 - each of FA..DI (Giesinger 2016)."""
    out: dict[str, float | None] = {}
    for code, (numbers, item_range, kind) in MANUAL_SCALES.items():
        answered = [items[i] for i in numbers if items.get(i) is not None]
        if len(answered) * 2 < len(numbers) or not answered:
            out[code] = None
            continue
        raw = sum(a for a in answered if a is not None) / len(answered)
        symptom = (raw - 1) / item_range * 100
        out[code] = 100 - symptom if kind == "functional" else symptom
    parts = [out[c] for c in ("PF2", "RF2", "EF", "CF", "SF")]
    parts += [None if out[c] is None else 100 - out[c] for c in ("FA", "NV", "PA", "DY", "SL")]
    parts += [None if out[c] is None else 100 - out[c] for c in ("AP", "CO", "DI")]
    out["SUM"] = None if None in parts else sum(p for p in parts if p is not None) / 13
    return out


# the worked check: PF items (1-5) all 1, FA items (10, 12, 18) all 4, QL items 29 = 30 = 4;
# the other items varied so that every scale has a different score
WORKED = {i: (i % 4) + 1 for i in range(1, 29)} | {1: 1, 2: 1, 3: 1, 4: 1, 5: 1}
WORKED |= {10: 4, 12: 4, 18: 4, 29: 4, 30: 4}


@pytest.fixture
def subject(trial: Any) -> Any:
    return enrol(trial)


def _qlq(trial: Any, subject: Any, items: dict[int, int | None], actor: str = "coordinator") -> Any:
    return questionnaires.record_qlq_c30(
        trial.engine, trial[actor], subject.id, date=TODAY, items=items
    )


def test_scores_stored_on_save_equal_the_manuals(trial: Any, subject: Any) -> None:
    view = _qlq(trial, subject, WORKED)
    scores = questionnaires.stored_scores(view)
    assert (scores["PF2"], scores["FA"], scores["QL2"]) == (100.0, 100.0, 50.0)
    expected = manual_scores(WORKED)
    assert scores.keys() == expected.keys()
    for code, value in expected.items():
        assert scores[code] == pytest.approx(value, abs=1e-12), code
    assert scores == qlq_c30.score(WORKED)
    assert json.loads(view.values["items_json"]) == {str(i): WORKED[i] for i in range(1, 31)}


def test_missing_items_follow_the_half_scale_rule_and_open_a_query(
    trial: Any, subject: Any
) -> None:
    # EF keeps 2 of 4 items (scored from them), FA keeps 1 of 3 (not scored), DY is missing
    items: dict[int, int | None] = WORKED | {21: None, 22: None, 10: None, 12: None, 8: None}
    view = _qlq(trial, subject, items)
    scores = questionnaires.stored_scores(view)
    expected = manual_scores(items)
    assert scores["EF"] == pytest.approx(expected["EF"], abs=1e-12)
    assert expected["EF"] is not None
    assert (scores["FA"], scores["DY"], scores["SUM"]) == (None, None, None)
    assert rules(trial, view) == [("items_json", "half-scale")]


@pytest.mark.parametrize(
    ("change", "field"),
    [({5: 0}, "item 5"), ({28: 5}, "item 28"), ({30: 8}, "item 30"), ({31: 1}, "items")],
)
def test_an_answer_out_of_range_is_refused_naming_the_item(
    trial: Any, subject: Any, change: dict[int, int], field: str
) -> None:
    before = audit_rows(trial.engine)
    with pytest.raises(InvalidInputError) as error:
        _qlq(trial, subject, WORKED | change)
    assert error.value.field == field
    assert (count(trial.engine, m.QuestionnaireResponse), audit_rows(trial.engine)) == (0, before)


def test_an_empty_questionnaire_is_refused(trial: Any, subject: Any) -> None:
    with pytest.raises(InvalidInputError, match="no QLQ-C30 item"):
        _qlq(trial, subject, {})
    assert count(trial.engine, m.QuestionnaireResponse) == 0


def test_an_edit_of_the_answers_scores_again_and_scores_cannot_be_typed(
    trial: Any, subject: Any
) -> None:
    view = _qlq(trial, subject, WORKED)
    with pytest.raises(InvalidInputError, match="scores_json cannot be edited"):
        forms.update_form(
            trial.engine,
            trial["coordinator"],
            "questionnaire_response",
            view.id,
            {"scores_json": json.dumps({"QL2": 100.0})},
            reason="typed by hand",
        )
    items = WORKED | {29: 7, 30: 6}
    changed = forms.update_form(
        trial.engine,
        trial["investigator"],
        "questionnaire_response",
        view.id,
        {"items_json": questionnaires.items_json(items)},
        reason="transcription error",
    )
    # QL2: RS = (7 + 6) / 2 = 6.5 -> (6.5 - 1) / 6 * 100
    assert questionnaires.stored_scores(changed)["QL2"] == pytest.approx(550 / 6, abs=1e-12)
    assert questionnaires.stored_scores(changed) == pytest.approx(manual_scores(items))
