"""EORTC QLQ-C30 version 3.0: scale scores and the summary score.

Only item numbers (1-30) and answer codes are handled here; the questionnaire's wording is
EORTC's copyright and is not part of equitrial. Use of the questionnaire needs EORTC's permission.

References
----------
.. [1] Fayers PM, Aaronson NK, Bjordal K, Groenvold M, Curran D, Bottomley A, on behalf of the
   EORTC Quality of Life Group. *The EORTC QLQ-C30 Scoring Manual*, 3rd ed. EORTC, Brussels,
   2001. Table 1 (scales, items, item ranges), "Scoring procedures" (linear transformation) and
   "Missing data" (half-scale rule).
.. [2] Giesinger JM, Kieffer JM, Fayers PM, Groenvold M, Petersen MA, Scott NW, Sprangers MAG,
   Velikova G, Aaronson NK. Replication and validation of higher order models demonstrated that
   a summary score for the EORTC QLQ-C30 is robust. *J Clin Epidemiol* 2016;69:79-88.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

from equitrial.errors import InvalidInputError

__all__ = [
    "N_ITEMS",
    "SCALES",
    "SUMMARY_SCALES",
    "QLQC30Scale",
    "ScaleKind",
    "score",
]

ScaleKind = Literal["global", "functional", "symptom"]

#: Number of items of the QLQ-C30 version 3.0 core questionnaire.
N_ITEMS = 30


@dataclass(frozen=True, slots=True)
class QLQC30Scale:
    """Definition of one QLQ-C30 v3.0 scale (Fayers et al. 2001, Table 1).

    Attributes
    ----------
    code
        The manual's abbreviation ("PF2", "FA", ...), also the key in :func:`score`'s result.
    name
        The scale's name in English.
    items
        Item numbers (1-30) that make up the scale.
    item_range
        Maximum minus minimum possible answer of the items: 3 for the 4-point items 1-28,
        6 for the 7-point items 29-30.
    kind
        ``"functional"`` (high score = better functioning), ``"symptom"`` (high score = more
        symptoms) or ``"global"`` (global health status / QoL, high score = better).
    """

    code: str
    name: str
    items: tuple[int, ...]
    item_range: int
    kind: ScaleKind


def _scale(code: str, name: str, items: tuple[int, ...], kind: ScaleKind) -> QLQC30Scale:
    item_range = 6 if items[0] >= 29 else 3
    return QLQC30Scale(code=code, name=name, items=items, item_range=item_range, kind=kind)


#: The 15 scales of QLQ-C30 version 3.0, in the manual's order, keyed by abbreviation.
SCALES: Mapping[str, QLQC30Scale] = MappingProxyType(
    {
        s.code: s
        for s in (
            _scale("QL2", "Global health status / QoL (revised)", (29, 30), "global"),
            _scale("PF2", "Physical functioning (revised)", (1, 2, 3, 4, 5), "functional"),
            _scale("RF2", "Role functioning (revised)", (6, 7), "functional"),
            _scale("EF", "Emotional functioning", (21, 22, 23, 24), "functional"),
            _scale("CF", "Cognitive functioning", (20, 25), "functional"),
            _scale("SF", "Social functioning", (26, 27), "functional"),
            _scale("FA", "Fatigue", (10, 12, 18), "symptom"),
            _scale("NV", "Nausea and vomiting", (14, 15), "symptom"),
            _scale("PA", "Pain", (9, 19), "symptom"),
            _scale("DY", "Dyspnoea", (8,), "symptom"),
            _scale("SL", "Insomnia", (11,), "symptom"),
            _scale("AP", "Appetite loss", (13,), "symptom"),
            _scale("CO", "Constipation", (16,), "symptom"),
            _scale("DI", "Diarrhoea", (17,), "symptom"),
            _scale("FI", "Financial difficulties", (28,), "symptom"),
        )
    }
)

#: The 13 scales averaged into the summary score (Giesinger et al. 2016): all but QL2 and FI.
SUMMARY_SCALES: tuple[str, ...] = tuple(c for c in SCALES if c not in ("QL2", "FI"))


def _max_answer(item: int) -> int:
    return 7 if item >= 29 else 4


def _check_items(items: Mapping[int, int | None]) -> dict[int, int]:
    """Return the answered items; raise on a bad item number or answer."""
    if not isinstance(items, Mapping):
        raise InvalidInputError(
            f"items must be a mapping of item number to answer, got {type(items).__name__}",
            field="items",
            value=items,
        )
    answered: dict[int, int] = {}
    for key, answer in items.items():
        if isinstance(key, bool) or not isinstance(key, numbers.Integral) or not 1 <= key <= 30:
            raise InvalidInputError(
                f"QLQ-C30 item numbers are 1 to {N_ITEMS}; got item key {key!r}",
                field="items",
                value=key,
                expected=f"an integer 1..{N_ITEMS}",
            )
        if answer is None:
            continue
        top = _max_answer(int(key))
        if isinstance(answer, bool) or not isinstance(answer, numbers.Integral):
            raise InvalidInputError(
                f"item {key}: the answer must be an integer 1 to {top} or None, got {answer!r}",
                field=f"item {key}",
                value=answer,
                expected=f"an integer 1..{top} or None",
            )
        if not 1 <= answer <= top:
            raise InvalidInputError(
                f"item {key}: the answer must lie between 1 and {top}, got {answer!r}",
                field=f"item {key}",
                value=answer,
                expected=f"an integer 1..{top} or None",
            )
        answered[int(key)] = int(answer)
    return answered


def _scale_score(scale: QLQC30Scale, answered: Mapping[int, int]) -> float | None:
    values = [answered[i] for i in scale.items if i in answered]
    # Half-scale rule: at least half of the items answered (a single item needs its answer).
    if not values or 2 * len(values) < len(scale.items):
        return None
    raw = sum(values) / len(values)
    symptom_like = (raw - 1.0) / scale.item_range * 100.0
    return 100.0 - symptom_like if scale.kind == "functional" else symptom_like


def _summary(scores: Mapping[str, float | None]) -> float | None:
    parts: list[float] = []
    for code in SUMMARY_SCALES:
        value = scores[code]
        if value is None:
            return None
        parts.append(value if SCALES[code].kind == "functional" else 100.0 - value)
    return sum(parts) / len(parts)


def score(items: Mapping[int, int | None]) -> dict[str, float | None]:
    """Score one completed EORTC QLQ-C30 (version 3.0) questionnaire.

    Parameters
    ----------
    items : Mapping[int, int | None]
        Item number (1-30) to the answer code: 1-4 for items 1-28, 1-7 for items 29-30.
        ``None`` or an absent key means the item was not answered.

    Returns
    -------
    dict[str, float | None]
        One score on 0-100 per scale of :data:`SCALES`, keyed "QL2", "PF2", "RF2", "EF", "CF",
        "SF", "FA", "NV", "PA", "DY", "SL", "AP", "CO", "DI", "FI" (in that order), then "SUM",
        the QLQ-C30 summary score. A score is ``None`` when too few of its items were answered.

    Raises
    ------
    InvalidInputError
        ``items`` is not a mapping; a key is not an integer 1-30; an answer is not an integer
        (floats such as ``2.0`` and booleans are refused) or lies outside its item's range.
        The message names the item.

    Notes
    -----
    For each scale the raw score is the mean of the answered items,
    ``RS = (I1 + ... + In) / n``, and the score is [1]_

    * functional scales (PF2, RF2, EF, CF, SF): ``S = (1 - (RS - 1) / range) * 100``;
    * symptom scales and items (FA ... FI) and global health status (QL2):
      ``S = (RS - 1) / range * 100``;

    with ``range`` = 3 for items 1-28 and 6 for items 29-30.

    Missing answers follow the manual's half-scale rule [1]_: a multi-item scale is scored from
    its answered items when at least half of them are answered (PF2 needs 3 of 5, EF 2 of 4,
    FA 2 of 3, the two-item scales 1 of 2), and is ``None`` otherwise; a single-item scale is
    ``None`` when its item is missing.

    The summary score [2]_ is the mean of 13 scales, ``(PF2 + RF2 + EF + CF + SF + (100 - FA)
    + (100 - NV) + (100 - PA) + (100 - DY) + (100 - SL) + (100 - AP) + (100 - CO) + (100 - DI))
    / 13`` (global health status QL2 and financial difficulties FI are not part of it). It is
    computed only when all 13 scale scores are present, and is ``None`` otherwise; this is
    how the R package PROscorer (``qlq_c30``) does it. The items that a scale's half-scale
    rule lets go missing are therefore still allowed within the summary score.

    References
    ----------
    .. [1] Fayers PM et al. *The EORTC QLQ-C30 Scoring Manual*, 3rd ed. EORTC, Brussels, 2001.
    .. [2] Giesinger JM et al. Replication and validation of higher order models demonstrated
       that a summary score for the EORTC QLQ-C30 is robust. *J Clin Epidemiol*
       2016;69:79-88.

    Examples
    --------
    >>> s = score({29: 4, 30: 4})
    >>> s["QL2"]
    50.0
    >>> s["PF2"] is None
    True
    """
    answered = _check_items(items)
    scores: dict[str, float | None] = {
        code: _scale_score(scale, answered) for code, scale in SCALES.items()
    }
    scores["SUM"] = _summary(scores)
    return scores
