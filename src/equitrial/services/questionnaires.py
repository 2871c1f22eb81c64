"""Use case of patient-reported outcomes: the EORTC QLQ-C30 (version 3.0) questionnaire.

Site staff (investigator or coordinator of the subject's site) enter the 30 answers from the
paper questionnaire; auth has no patient (ePRO) role, so patients do not enter it themselves.
The scale scores are computed on every save and edit with :func:`equitrial.clinical.qlq_c30.
score` and stored (``scores_json``); they are never typed. Missing answers are allowed as the
scoring manual allows: a scale that the half-scale rule leaves unscored opens a query, an
answer outside its item's range is refused naming the item.

References
----------
.. [1] Fayers PM, Aaronson NK, Bjordal K, Groenvold M, Curran D, Bottomley A, on behalf of the
   EORTC Quality of Life Group. *The EORTC QLQ-C30 Scoring Manual*, 3rd ed. EORTC, Brussels,
   2001 ("Scoring procedures", "Missing data").
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any, Final

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from equitrial.clinical import qlq_c30
from equitrial.errors import InvalidInputError
from equitrial.services._base import RecordView
from equitrial.services.auth import Actor
from equitrial.services.checks import Finding
from equitrial.services.forms import Form, new_record, register
from equitrial.store import models as m

__all__ = ["QLQ_C30_FORM", "items_json", "record_qlq_c30", "stored_items", "stored_scores"]


def items_json(items: Mapping[int, int | None]) -> str:
    """The stored form of a QLQ-C30's answers: JSON of all 30 items, ``null`` when missing.

    Raises
    ------
    InvalidInputError
        As :func:`equitrial.clinical.qlq_c30.score` (an item number or answer out of range,
        naming the item), or no item answered at all.
    """
    qlq_c30.score(items)  # refuses bad keys and answers, naming the item
    answers = {str(i): items.get(i) for i in range(1, qlq_c30.N_ITEMS + 1)}
    if all(v is None for v in answers.values()):
        raise InvalidInputError("no QLQ-C30 item is answered", field="items")
    return json.dumps(answers)


def stored_items(text: str) -> dict[int, int | None]:
    """The answers of a stored ``items_json`` (item number to answer or ``None``).

    Raises
    ------
    InvalidInputError
        ``text`` is not a JSON object of item numbers.
    """
    try:
        raw = json.loads(text)
        return {int(k): v for k, v in raw.items()}
    except (ValueError, TypeError, AttributeError) as error:
        raise InvalidInputError(
            "items_json must be a JSON object of item number to answer", field="items_json"
        ) from error


def stored_scores(view: RecordView) -> dict[str, float | None]:
    """The scale scores of a saved questionnaire (``"QL2"``, ``"PF2"``, ..., ``"SUM"``)."""
    scores: dict[str, float | None] = json.loads(view.values["scores_json"])
    return scores


def _derive(session: Session, obj: m.QuestionnaireResponse, subject: m.Subject) -> list[Finding]:
    items = stored_items(obj.items_json)
    items_json(items)  # the same refusals on an edit as on entry
    scores = qlq_c30.score(items)
    obj.scores_json = json.dumps(scores)
    missing = [code for code in qlq_c30.SCALES if scores[code] is None]
    if not missing:
        return []
    message = (
        f"too few items answered to score {', '.join(missing)} (half-scale rule of the "
        "EORTC scoring manual); check the questionnaire for unanswered items"
    )
    return [Finding("items_json", "half-scale", message, "implausible")]


QLQ_C30_FORM: Final = register(
    Form("questionnaire_response", m.QuestionnaireResponse, _derive, frozenset({"scores_json"}))
)
"""The QLQ-C30 form (table ``questionnaire_response``)."""


def record_qlq_c30(
    engine: Engine,
    actor: Actor,
    subject: int | str,
    *,
    date: dt.date,
    items: Mapping[int, int | None],
) -> RecordView:
    """Record a completed QLQ-C30 and its scale scores (site staff of the subject's site).

    Parameters
    ----------
    date
        Completion date of the questionnaire (not in the future).
    items
        Item number (1-30) to the answer: 1-4 for items 1-28, 1-7 for items 29-30; ``None``
        or an absent item is a missing answer.

    Returns
    -------
    RecordView
        The saved response; ``scores_json`` holds the scores of
        :func:`equitrial.clinical.qlq_c30.score` (read them with :func:`stored_scores`). A
        scale left unscored by missing answers opens a query.

    Raises
    ------
    InvalidInputError
        An item number or answer out of range (the error names the item), no answer at all, a
        future date; nothing is written.
    PermissionDeniedError, StudyLockedError
        Not site staff of the subject's site; the study is locked.
    """
    fields: dict[str, Any] = {"date": date, "items_json": items_json(items)}
    return new_record(engine, actor, QLQ_C30_FORM, subject, fields)
