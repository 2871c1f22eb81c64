"""ADIS: immunogenicity (anti-drug antibody) analysis dataset (ADaM BDS).

One record per ADA sample and tier of the subjects in ADSL:

=========  ====================================  =================================
PARAMCD    PARAM                                  value
=========  ====================================  =================================
ADASCR     ADA screening assay                    AVALC POSITIVE / NEGATIVE
ADACONF    ADA confirmatory assay                 AVALC POSITIVE / NEGATIVE
ADATITER   ADA titre                              AVAL (reciprocal dilution)
ADANAB     Neutralizing antibodies                AVALC POSITIVE / NEGATIVE / NOT DONE
ADARES     ADA result of the sample (derived)     AVALC POSITIVE / NEGATIVE
=========  ====================================  =================================

A sample is ADA positive (``ADARES``) when screening and confirmatory assays are both
positive (the tiered approach [1]_), negative when the screen is negative or the screen is
positive and the confirmation negative; missing while a tier is pending.

Subject status (``ADASTAT``, on every record of the subject), per the FDA guidance [1]_ with
the terms of Shankar et al. [2]_:

- ``TREATMENT-INDUCED``: ADA negative at baseline and positive in at least one
  post-baseline sample (ADA "developed de novo (seroconversion) following administration");
- ``TREATMENT-BOOSTED``: ADA positive at baseline and a post-baseline positive sample whose
  titre is at least 4 times the baseline titre ("pre-existing ADA that were boosted to a
  higher level following administration"; the 4-fold increase of [2]_, two steps of a
  2-fold dilution series);
- ``TREATMENT-UNAFFECTED``: ADA positive at baseline, not boosted;
- ``NEGATIVE``: ADA negative at baseline and in every post-baseline sample;
- ``NOT EVALUABLE``: no baseline result or no post-baseline result.

Baseline: the last sample collected on or before the first dose date (``TRTSDT``; the
protocol draws it pre-dose on day 1); post-baseline: samples after that date.

References
----------
.. [1] U.S. Food and Drug Administration. Immunogenicity Testing of Therapeutic Protein
   Products - Developing and Validating Assays for Anti-Drug Antibody Detection. Guidance for
   Industry, January 2019 (section on the multi-tiered approach; Appendix, definitions of
   treatment-induced and treatment-boosted ADA).
.. [2] Shankar G, Arkin S, Cocea L, et al. Assessment and reporting of the clinical
   immunogenicity of therapeutic proteins and peptides - harmonized terminology and tactical
   recommendations. *AAPS J* 2014;16:658-673.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pandas as pd

from equitrial.datasets._bds import (
    SUBJECT_VARIABLES,
    YN,
    Y,
    char,
    date_var,
    make_dataset,
    num,
    study_day,
    to_datetime,
    trtan,
    with_subjects,
)
from equitrial.datasets._meta import Dataset, StudySource, Variable

__all__ = ["ADA_STATUSES", "BOOST_FOLD", "PARAMETERS", "build_adis"]

BOOST_FOLD: Final = 4.0
"""Titre increase over baseline that makes pre-existing ADA treatment-boosted (Shankar 2014)."""

ADA_STATUSES: Final = (
    "TREATMENT-INDUCED",
    "TREATMENT-BOOSTED",
    "TREATMENT-UNAFFECTED",
    "NEGATIVE",
    "NOT EVALUABLE",
)

PARAMETERS: Final = {
    "ADASCR": ("Anti-Drug Antibody Screening Result", "screening_result"),
    "ADACONF": ("Anti-Drug Antibody Confirmatory Result", "confirmatory_result"),
    "ADATITER": ("Anti-Drug Antibody Titer", "titre"),
    "ADANAB": ("Neutralizing Antibody Result", "neutralizing"),
    "ADARES": ("Anti-Drug Antibody Sample Result", None),
}
"""PARAMCD -> (PARAM, the ``ada_sample`` column it comes from; ``None``: derived)."""

_LABEL: Final = "Immunogenicity Analysis Dataset"

VARIABLES: Final[tuple[Variable, ...]] = (
    *SUBJECT_VARIABLES,
    char("PARAMCD", "Parameter Code", key=3, codelist=tuple(PARAMETERS)),
    char("PARAM", "Parameter"),
    num(
        "ASEQ",
        "Analysis Sequence Number",
        data_type="integer",
        key=4,
        derivation="1, 2, ... within subject by collection time, sample id, PARAMCD",
    ),
    char(
        "AVALC",
        "Analysis Value (C)",
        origin="Collected",
        codelist=("POSITIVE", "NEGATIVE", "NOT DONE"),
        derivation="ADARES: POSITIVE if ADASCR and ADACONF are POSITIVE, NEGATIVE if ADASCR "
        "is NEGATIVE or ADACONF is NEGATIVE",
    ),
    num("AVAL", "Analysis Value", origin="Collected", derivation="ADATITER: the titre"),
    date_var("ADT", "Analysis Date", derivation="Date of collection"),
    num(
        "ADY",
        "Analysis Relative Day",
        data_type="integer",
        derivation="ADT - TRTSDT + 1 if ADT >= TRTSDT, else ADT - TRTSDT",
    ),
    char("AVISIT", "Analysis Visit", derivation="BASELINE, POST-BASELINE or PRE-BASELINE"),
    char(
        "ABLFL",
        "Baseline Record Flag",
        codelist=YN,
        derivation="The last sample with ADT <= TRTSDT",
    ),
    char("BASEC", "Baseline Value (C)", derivation="AVALC of the ABLFL record"),
    num("BASE", "Baseline Value", derivation="AVAL of the ABLFL record"),
    char(
        "ADASTAT",
        "Subject ADA Status",
        codelist=ADA_STATUSES,
        derivation="FDA 2019 / Shankar 2014: see the module documentation",
    ),
    char(
        "NABFL",
        "Subject Post-Baseline NAb Positive Flag",
        codelist=YN,
        derivation="Y if a post-baseline ADANAB is POSITIVE",
    ),
)


def _sample_result(screen: pd.Series, confirm: pd.Series) -> pd.Series:
    positive = (screen == "POSITIVE") & (confirm == "POSITIVE")
    negative = (screen == "NEGATIVE") | ((screen == "POSITIVE") & (confirm == "NEGATIVE"))
    result = pd.Series(None, index=screen.index, dtype=object)
    result[negative.to_numpy()] = "NEGATIVE"
    result[positive.to_numpy()] = "POSITIVE"
    return result


def _status(samples: pd.DataFrame) -> pd.Series:
    """ADASTAT per USUBJID from one row per sample (RES, TITRE, baseline, post)."""
    base = samples[samples["baseline"]].set_index("USUBJID")
    post = samples[samples["post"] & samples["RES"].notna()]
    subjects = pd.Index(samples["USUBJID"].unique())
    base_res = base["RES"].reindex(subjects)
    base_titre = base["TITRE"].reindex(subjects)
    any_post = post.groupby("USUBJID").size().reindex(subjects).fillna(0) > 0
    positive = post[post["RES"] == "POSITIVE"]
    any_positive = positive.groupby("USUBJID").size().reindex(subjects).fillna(0) > 0
    top = positive.groupby("USUBJID")["TITRE"].max().reindex(subjects)
    boosted = top >= BOOST_FOLD * base_titre
    status = np.select(
        [
            base_res.isna() | ~any_post,
            (base_res == "NEGATIVE") & any_positive,
            base_res == "NEGATIVE",
            boosted.fillna(False).astype(bool),
        ],
        ["NOT EVALUABLE", "TREATMENT-INDUCED", "NEGATIVE", "TREATMENT-BOOSTED"],
        default="TREATMENT-UNAFFECTED",
    )
    return pd.Series(status, index=subjects, dtype=object)


def build_adis(source: StudySource, adsl: Dataset) -> Dataset:
    """ADIS from the ADA samples of the subjects in ADSL.

    Parameters
    ----------
    source : StudySource
        The study's records (table ``ada_sample``).
    adsl : Dataset
        ADSL, with ``STUDYID USUBJID SUBJID SITEID TRT01A TRTSDT SAFFL``.

    Returns
    -------
    Dataset
        One record per sample and parameter (a tier not assayed has no record), keys
        ``STUDYID, USUBJID, PARAMCD, ASEQ``; class ``BASIC DATA STRUCTURE``.

    Raises
    ------
    InvalidInputError
        ADSL lacks a needed column.

    Notes
    -----
    ``ADASTAT`` as in the module documentation [1]_ [2]_; a positive baseline without a
    titre cannot be shown boosted and is ``TREATMENT-UNAFFECTED``.
    """
    frame = with_subjects(source, adsl, "ada_sample")
    empty = pd.DataFrame(columns=[v.name for v in VARIABLES])
    if frame.empty:
        return make_dataset(
            "ADIS",
            _LABEL,
            "BASIC DATA STRUCTURE",
            "One record per subject per parameter per sample",
            VARIABLES,
            empty,
        )
    frame["collected"] = to_datetime(frame["collected_at"].astype(object))
    frame["ADT"] = frame["collected"].dt.normalize()
    frame = frame.sort_values(["USUBJID", "collected", "id"], kind="mergesort").reset_index(
        drop=True
    )
    frame["RES"] = _sample_result(frame["screening_result"], frame["confirmatory_result"])
    frame["TITRE"] = pd.to_numeric(frame["titre"], errors="coerce")
    before = frame["TRTSDT"].notna() & (frame["ADT"] <= frame["TRTSDT"])
    frame["baseline"] = False
    frame.loc[frame[before].groupby("USUBJID").tail(1).index, "baseline"] = True
    frame["post"] = frame["ADT"] > frame["TRTSDT"]
    status = _status(frame)
    nab = frame["post"] & (frame["neutralizing"] == "POSITIVE")
    nab_subjects = set(frame.loc[nab, "USUBJID"])
    records = []
    for order, (code, (param, column)) in enumerate(PARAMETERS.items()):
        part = frame.copy()
        part["PARAMCD"], part["PARAM"], part["_order"] = code, param, order
        if column is None:
            part["AVALC"], part["AVAL"] = part["RES"], np.nan
        elif code == "ADATITER":
            part["AVALC"], part["AVAL"] = None, part["TITRE"]
        else:
            part["AVALC"], part["AVAL"] = part[column], np.nan
        records.append(part[part["AVALC"].notna() | part["AVAL"].notna()])
    out = pd.concat(records, ignore_index=True)
    out = out.sort_values(["USUBJID", "collected", "id", "_order"], kind="mergesort")
    out = out.reset_index(drop=True)
    out["ASEQ"] = out.groupby("USUBJID").cumcount() + 1
    out["ADY"] = study_day(out["ADT"], out["TRTSDT"])
    out["ABLFL"] = out["baseline"].map({True: Y, False: None})
    out["AVISIT"] = np.where(
        out["baseline"], "BASELINE", np.where(out["post"], "POST-BASELINE", "PRE-BASELINE")
    )
    base = out.loc[out["baseline"], ["USUBJID", "PARAMCD", "AVALC", "AVAL"]]
    base = base.rename(columns={"AVALC": "BASEC", "AVAL": "BASE"})
    out = out.merge(base, on=["USUBJID", "PARAMCD"], how="left")
    out["ADASTAT"] = out["USUBJID"].map(status)
    out["NABFL"] = out["USUBJID"].map(lambda u: Y if u in nab_subjects else None)
    out["TRTA"] = out["TRT01A"]
    out["TRTAN"] = trtan(source.protocol, out["TRTA"])
    return make_dataset(
        "ADIS",
        _LABEL,
        "BASIC DATA STRUCTURE",
        "One record per subject per parameter per sample",
        VARIABLES,
        out,
    )
