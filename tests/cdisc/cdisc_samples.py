"""Hand-made datasets shared by the CDISC file tests and ``tests/reference/make_haven_inputs.py``.

Fixed values (no randomness): the XPT files written from them are committed under
``tests/data/haven/`` and read by R's haven (``tests/reference/haven_read.R``).
"""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd

from equitrial.datasets import Dataset, Variable

__all__ = ["LONG_TEXT", "empty", "mixed", "samples", "subjects"]

LONG_TEXT = ("Lorem ipsum dolor sit amet " * 8)[:199] + "Z"
"""A 200-character value (the longest a V5 Char variable holds)."""


def subjects() -> Dataset:
    """An ADSL-like dataset: keys, Char of several lengths, integers, numeric dates, non-ASCII."""
    variables = (
        Variable("STUDYID", "Study Identifier", "Char", 12, origin="Protocol", key=1),
        Variable("USUBJID", "Unique Subject Identifier", "Char", 20, origin="Assigned", key=2),
        Variable("SEX", "Sex", "Char", 1, origin="Collected", codelist=("F", "M", "U")),
        Variable("AGE", "Age", "Num", data_type="integer", origin="Collected"),
        Variable(
            "TRTSDT",
            "Date of First Exposure to Treatment",
            "Num",
            data_type="date",
            derivation="Date of the first dose (EX.EXSTDTC of the first record)",
        ),
        Variable("CITY", "City of Site", "Char", 30, origin="Collected"),
    )
    frame = pd.DataFrame(
        {
            "STUDYID": ["EQT-001"] * 4,
            "USUBJID": ["EQT-001-01-001", "EQT-001-01-002", "EQT-001-02-001", "EQT-001-02-002"],
            "SEX": ["F", "M", None, "U"],
            "AGE": [34.0, 71.0, math.nan, 18.0],
            "TRTSDT": [dt.date(2024, 1, 3), dt.date(1959, 12, 31), None, dt.date(1960, 1, 1)],
            "CITY": ["Zürich", "São Paulo", "", "Malmö naïve café"],
        }
    )
    return Dataset(
        "ADSL",
        "Subject-Level Analysis Dataset",
        "SUBJECT LEVEL ANALYSIS DATASET",
        "One record per subject",
        "ADaMIG 1.3",
        variables,
        frame,
    )


def mixed() -> Dataset:
    """A BDS-like dataset: floats at the edges of double precision, missing values, 200 chars."""
    variables = (
        Variable("USUBJID", "Unique Subject Identifier", "Char", 20, origin="Predecessor", key=1),
        Variable("PARAMCD", "Parameter Code", "Char", 8, key=2),
        Variable("AVAL", "Analysis Value", "Num", data_type="double"),
        Variable("ADT", "Analysis Date", "Num", data_type="date"),
        Variable("COMMENT", "Comment", "Char", 200, origin="Collected"),
    )
    frame = pd.DataFrame(
        {
            "USUBJID": ["EQT-001-01-001"] * 5,
            "PARAMCD": ["PCHG", "PCHG", "CONC", "CONC", "X"],
            "AVAL": [1 / 3, -123456789.123456789, 1e-70, math.nan, 6.02214076e23],
            "ADT": [dt.date(2024, 2, 29), None, dt.date(2000, 1, 1), dt.date(2024, 12, 31), None],
            "COMMENT": [LONG_TEXT, "", None, "Ünïcödé in Latin-1: ÀÿßØ", "plain"],
        }
    )
    return Dataset(
        "ADLB",
        "Laboratory Analysis Dataset",
        "BASIC DATA STRUCTURE",
        "One record per subject per parameter per analysis date",
        "ADaMIG 1.3",
        variables,
        frame,
    )


def empty() -> Dataset:
    """An SDTM domain without records (metadata only): the lengths must still be declared."""
    variables = (
        Variable("STUDYID", "Study Identifier", "Char", 12, origin="Protocol", key=1),
        Variable("USUBJID", "Unique Subject Identifier", "Char", 40, origin="Assigned", key=2),
        Variable("AESEQ", "Sequence Number", "Num", data_type="integer", key=3),
        Variable("AETERM", "Reported Term for the Adverse Event", "Char", 200),
    )
    frame = pd.DataFrame({v.name: [] for v in variables})
    return Dataset(
        "AE", "Adverse Events", "EVENTS", "One record per adverse event per subject",
        "SDTMIG 3.4", variables, frame,
    )  # fmt: skip


def samples() -> list[Dataset]:
    """Every hand-made dataset, in a fixed order."""
    return [subjects(), mixed(), empty()]
