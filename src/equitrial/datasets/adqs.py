"""ADQS: EORTC QLQ-C30 scale scores (ADaM BDS).

One record per completed questionnaire and scale (the 15 scales of QLQ-C30 version 3.0, coded
as in the scoring manual [1]_: QL2 PF2 RF2 EF CF SF FA NV PA DY SL AP CO DI FI) for the
subjects in ADSL. The scores are computed from the item answers with
:func:`equitrial.clinical.qlq_c30.score` (linear transformation to 0-100, half-scale rule for
missing items), not read from the stored scores.

Baseline: the last questionnaire on or before the first dose (``TRTSDT``; the randomization
date ``RANDDT`` for a subject never dosed, so the ITT analysis keeps every subject). Change
``CHG = AVAL - BASE`` after the baseline date.

Deterioration (``CRIT1FL``): a worsening of at least 10 points from baseline, the smallest
change patients perceive as "a little" [2]_: ``CHG <= -10`` on the global health status and
the functional scales (high = better), ``CHG >= 10`` on the symptom scales (high = worse).

References
----------
.. [1] Fayers PM, Aaronson NK, Bjordal K, Groenvold M, Curran D, Bottomley A, on behalf of the
   EORTC Quality of Life Group. *The EORTC QLQ-C30 Scoring Manual*, 3rd ed. EORTC, Brussels,
   2001.
.. [2] Osoba D, Rodrigues G, Myles J, Zee B, Pater J. Interpreting the significance of changes
   in health-related quality-of-life scores. *J Clin Oncol* 1998;16:139-144.
.. [3] CDISC ADaM Implementation Guide v1.3 (2021), BDS: ``ABLFL``, ``BASE``, ``CHG``,
   ``CRITy``/``CRITyFL``.
"""

from __future__ import annotations

import json
from typing import Any, Final

import pandas as pd

from equitrial.clinical.qlq_c30 import SCALES, score
from equitrial.datasets._bds import (
    YN,
    Y,
    carry_baseline,
    char,
    date_var,
    flag_baseline,
    make_dataset,
    num,
    study_day,
    to_date,
    trtan,
    with_subjects,
)
from equitrial.datasets._meta import Dataset, StudySource, Variable

__all__ = ["DETERIORATION_POINTS", "build_adqs"]

DETERIORATION_POINTS: Final = 10.0
"""Points of worsening from baseline that count as deterioration (Osoba 1998)."""

_LABEL: Final = "EORTC QLQ-C30 Analysis Dataset"
_ORDER: Final = {code: i + 1 for i, code in enumerate(SCALES)}

VARIABLES: Final[tuple[Variable, ...]] = (
    char("STUDYID", "Study Identifier", origin="Predecessor", key=1),
    char("USUBJID", "Unique Subject Identifier", origin="Predecessor", key=2),
    char("SUBJID", "Subject Identifier for the Study", origin="Predecessor"),
    char("SITEID", "Study Site Identifier", origin="Predecessor"),
    char("TRTP", "Planned Treatment", origin="Predecessor", derivation="ADSL.TRT01P"),
    char("TRTA", "Actual Treatment", origin="Predecessor", derivation="ADSL.TRT01A"),
    num(
        "TRTAN",
        "Actual Treatment (N)",
        data_type="integer",
        derivation="Position of TRTA in the protocol's arms",
    ),
    char("ITTFL", "Intent-To-Treat Population Flag", origin="Predecessor", codelist=("Y", "N")),
    date_var("TRTSDT", "Date of First Exposure to Treatment", origin="Predecessor"),
    char(
        "PARAMCD",
        "Parameter Code",
        key=3,
        codelist=tuple(SCALES),
        derivation="QLQ-C30 v3.0 scale abbreviation (scoring manual 3rd ed.)",
    ),
    char("PARAM", "Parameter"),
    num("PARAMN", "Parameter (N)", data_type="integer"),
    char("PARCAT1", "Parameter Category 1", codelist=("EORTC QLQ-C30",)),
    char("PARCAT2", "Parameter Category 2", codelist=("GLOBAL", "FUNCTIONAL", "SYMPTOM")),
    num(
        "ASEQ",
        "Analysis Sequence Number",
        data_type="integer",
        key=4,
        derivation="1, 2, ... within subject by date, record id, PARAMN",
    ),
    num(
        "AVAL",
        "Analysis Value",
        derivation="Scale score 0-100 from the items (clinical.qlq_c30.score; half-scale rule)",
    ),
    date_var("ADT", "Analysis Date", derivation="Date the questionnaire was completed"),
    num(
        "ADY",
        "Analysis Relative Day",
        data_type="integer",
        derivation="ADT - TRTSDT + 1 if ADT >= TRTSDT, else ADT - TRTSDT",
    ),
    char(
        "AVISIT",
        "Analysis Visit",
        derivation="BASELINE on the baseline record; else WEEK n, n = round((ADT - reference)"
        " / 7) with reference TRTSDT (RANDDT if not dosed)",
    ),
    num("AVISITN", "Analysis Visit (N)", data_type="integer", derivation="n of WEEK n; 0"),
    char(
        "ABLFL",
        "Baseline Record Flag",
        codelist=YN,
        derivation="Last non-missing score with ADT <= TRTSDT (RANDDT if not dosed)",
    ),
    num("BASE", "Baseline Value", derivation="AVAL of the ABLFL record"),
    num("CHG", "Change from Baseline", derivation="AVAL - BASE after the baseline date"),
    char("CRIT1", "Analysis Criterion 1"),
    char(
        "CRIT1FL",
        "Criterion 1 Evaluation Result Flag",
        codelist=("Y", "N"),
        derivation="Y if CHG <= -10 (QL2, functional) or CHG >= 10 (symptom); N if CHG "
        "is present otherwise (Osoba 1998)",
    ),
)


def _scores(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per questionnaire and scale: ``id`` and PARAMCD, AVAL."""
    rows: list[dict[str, Any]] = []
    for record, text in zip(frame["id"], frame["items_json"], strict=True):
        raw = json.loads(text) if isinstance(text, str) else dict(text)
        items = {int(k): v for k, v in raw.items()}
        for code, value in score(items).items():
            if code in SCALES:
                rows.append({"id": record, "PARAMCD": code, "AVAL": value})
    return pd.DataFrame(rows, columns=["id", "PARAMCD", "AVAL"])


def build_adqs(source: StudySource, adsl: Dataset) -> Dataset:
    """ADQS from the QLQ-C30 responses of the subjects in ADSL.

    Parameters
    ----------
    source : StudySource
        The study's records (table ``questionnaire_response``).
    adsl : Dataset
        ADSL, with ``STUDYID USUBJID SUBJID SITEID TRT01P TRT01A TRTSDT ITTFL RANDDT``.

    Returns
    -------
    Dataset
        One record per questionnaire and scale (15 per questionnaire; a scale the half-scale
        rule leaves unscored has a missing ``AVAL``), keys ``STUDYID, USUBJID, PARAMCD,
        ASEQ``; class ``BASIC DATA STRUCTURE``.

    Raises
    ------
    InvalidInputError
        ADSL lacks a needed column; an answer out of its item's range (from
        :func:`~equitrial.clinical.qlq_c30.score`).

    Notes
    -----
    Scoring [1]_, deterioration [2]_ and baseline as in the module documentation.
    """
    frame = with_subjects(source, adsl, "questionnaire_response")
    if frame.empty:
        return make_dataset(
            "ADQS",
            _LABEL,
            "BASIC DATA STRUCTURE",
            "One record per subject per parameter per analysis date",
            VARIABLES,
            pd.DataFrame(columns=[v.name for v in VARIABLES]),
        )
    frame = frame.merge(_scores(frame), on="id", how="inner")
    frame["ADT"] = to_date(frame["date"].astype(object))
    frame["PARAMN"] = frame["PARAMCD"].map(_ORDER)
    frame = frame.sort_values(["USUBJID", "ADT", "id", "PARAMN"], kind="mergesort")
    frame = frame.reset_index(drop=True)
    frame["ASEQ"] = frame.groupby("USUBJID").cumcount() + 1
    frame["PARAM"] = frame["PARAMCD"].map(lambda c: f"QLQ-C30 {SCALES[c].name}")
    frame["PARCAT1"] = "EORTC QLQ-C30"
    kind = frame["PARAMCD"].map(lambda c: SCALES[c].kind)
    frame["PARCAT2"] = kind.str.upper()
    frame["ADY"] = study_day(frame["ADT"], frame["TRTSDT"])
    frame["REF"] = frame["TRTSDT"].where(frame["TRTSDT"].notna(), frame["RANDDT"])
    by = ["USUBJID", "PARAMCD"]
    frame["ABLFL"] = flag_baseline(frame, by, "ADT", "REF", ["ADT", "id"])
    frame["BASE"] = carry_baseline(frame, by, "AVAL", frame["ABLFL"]).astype("float64")
    after = frame["ADT"] > frame["REF"]
    frame["CHG"] = (frame["AVAL"] - frame["BASE"]).where(after)
    worse = frame["CHG"].where(kind == "symptom", -frame["CHG"])
    frame["CRIT1"] = kind.map(
        lambda k: "Deterioration: CHG >= 10" if k == "symptom" else "Deterioration: CHG <= -10"
    )
    frame["CRIT1FL"] = (worse >= DETERIORATION_POINTS).map({True: "Y", False: "N"})
    frame.loc[frame["CHG"].isna(), "CRIT1FL"] = None
    weeks = ((frame["ADT"] - frame["REF"]).dt.days / 7).round()
    frame["AVISITN"] = weeks
    frame["AVISIT"] = weeks.map(lambda w: None if pd.isna(w) else f"WEEK {int(w)}")
    frame.loc[frame["ABLFL"] == Y, "AVISIT"] = "BASELINE"
    frame.loc[frame["ABLFL"] == Y, "AVISITN"] = 0
    frame["TRTP"] = frame["TRT01P"]
    frame["TRTA"] = frame["TRT01A"]
    frame["TRTAN"] = trtan(source.protocol, frame["TRTA"])
    return make_dataset(
        "ADQS",
        _LABEL,
        "BASIC DATA STRUCTURE",
        "One record per subject per parameter per analysis date",
        VARIABLES,
        frame,
    )
