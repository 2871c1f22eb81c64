"""The hand-made ADaM frames of the safety and monitoring tests, and checks of the frames.

Nine subjects in the safety population of the example protocol (BIO: S01-S05, REF: R01-R04),
one subject outside it (S06, SAFFL = N, whose events must be ignored) and the TEAEs below
(``ASTDT = TRTSDT + ASTDY - 1``). Every expected count in the tests is counted by hand from this
table.

=====  ====================================  =====  ===========  ======  ======  ==========
subj   SOC / term                            grade  AEREL        AESER   AEACN   IRAECAT/DY
=====  ====================================  =====  ===========  ======  ======  ==========
S01    GI / Diarrhea                         1      NOT RELATED  N
S01    GI / Diarrhea                         3      RELATED      N                -, day 40
S01    GI / Colitis                          2      RELATED      N               colitis, 20
S02    Skin / Rash                           1      RELATED      N               skin, 10
S02    General / Fatigue                     5      NOT RELATED  Y      WITHDRAWN
S03    GI / Diarrhea                         2      (missing)    N
S04    GI / Diarrhea (TRTEMFL missing)       4      RELATED      Y
S06    Skin / Rash (SAFFL = N)               3      RELATED      N               skin, 5
R01    GI / Diarrhea                         1      NOT RELATED  N
R01    Skin / Rash                           3      RELATED      Y      WITHDRAWN  skin, 30
R02    Skin / Rash                           2      RELATED      N               skin, 50
R02    Skin / Rash                           1      RELATED      N               skin, 8
R03    General / Fatigue                     1      NOT RELATED  N
=====  ====================================  =====  ===========  ======  ======  ==========

Deaths (ADSL DTHFL): S02, R01.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from equitrial.protocol import Protocol, load_protocol

EXAMPLE = Path(__file__).resolve().parents[2] / "examples/melanoma-pembrolizumab/protocol.toml"
BIO, REF = "Proposed pembrolizumab biosimilar", "Keytruda (EU-sourced)"
GI, SKIN, GEN = (
    "Gastrointestinal disorders",
    "Skin and subcutaneous tissue disorders",
    "General disorders and administration site conditions",
)

START = {
    "S01": "2024-01-01",
    "S02": "2024-01-10",
    "S03": "2024-02-15",
    "S04": "2024-03-01",
    "S05": "2024-03-01",
    "S06": "2024-01-02",
    "R01": "2024-01-05",
    "R02": "2024-01-20",
    "R03": "2024-02-20",
    "R04": "2024-03-10",
}

# subject, SOC, term, grade, AEREL, AESER, AEACN, IRAECAT, ASTDY, TRTEMFL
EVENTS = [
    ("S01", GI, "Diarrhea", 1, "NOT RELATED", "N", "DOSE NOT CHANGED", None, 3, "Y"),
    ("S01", GI, "Diarrhea", 3, "RELATED", "N", "DRUG INTERRUPTED", None, 40, "Y"),
    ("S01", GI, "Colitis", 2, "RELATED", "N", "DOSE NOT CHANGED", "colitis", 20, "Y"),
    ("S02", SKIN, "Rash", 1, "RELATED", "N", "DOSE NOT CHANGED", "skin reactions", 10, "Y"),
    ("S02", GEN, "Fatigue", 5, "NOT RELATED", "Y", "DRUG WITHDRAWN", None, 60, "Y"),
    ("S03", GI, "Diarrhea", 2, None, "N", "DOSE NOT CHANGED", None, 15, "Y"),
    ("S04", GI, "Diarrhea", 4, "RELATED", "Y", "DRUG WITHDRAWN", None, -3, None),
    ("S06", SKIN, "Rash", 3, "RELATED", "N", "DOSE NOT CHANGED", "skin reactions", 5, "Y"),
    ("R01", GI, "Diarrhea", 1, "NOT RELATED", "N", "DOSE NOT CHANGED", None, 4, "Y"),
    ("R01", SKIN, "Rash", 3, "RELATED", "Y", "DRUG WITHDRAWN", "skin reactions", 30, "Y"),
    ("R02", SKIN, "Rash", 2, "RELATED", "N", "DOSE NOT CHANGED", "skin reactions", 50, "Y"),
    ("R02", SKIN, "Rash", 1, "RELATED", "N", "DOSE NOT CHANGED", "skin reactions", 8, "Y"),
    ("R03", GEN, "Fatigue", 1, "NOT RELATED", "N", "DOSE NOT CHANGED", None, 2, "Y"),
]


def protocol() -> Protocol:
    """The example protocol (arms BIO = test, REF = reference)."""
    return load_protocol(EXAMPLE)


def _date(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def adsl() -> pd.DataFrame:
    rows = []
    for subject, start in START.items():
        rows.append(
            {
                "USUBJID": subject,
                "SAFFL": "N" if subject == "S06" else "Y",
                "TRT01A": BIO if subject.startswith("S") else REF,
                "TRTSDT": _date(start),
                "DTHFL": "Y" if subject in ("S02", "R01") else None,
            }
        )
    return pd.DataFrame(rows)


def adae() -> pd.DataFrame:
    rows = []
    for subject, soc, term, grade, rel, ser, acn, cat, day, flag in EVENTS:
        start = _date(START[subject]) + dt.timedelta(days=day - 1 if day > 0 else day)
        rows.append(
            {
                "USUBJID": subject,
                "TRTEMFL": flag,
                "AESOC": soc,
                "AEBODSYS": soc,
                "AEDECOD": term,
                "ATOXGR": str(grade),
                "ATOXGRN": float(grade),
                "AEREL": rel,
                "AESER": ser,
                "AEACN": acn,
                "IRAECAT": cat,
                "ASTDY": float(day),
                "ASTDT": start,
            }
        )
    return pd.DataFrame(rows)


def adlb() -> pd.DataFrame:
    """ALT: S01 baseline 0 -> worst 2 (values 1, 2, 0); S02 baseline 1 -> worst 1; S03 no
    baseline grade -> worst 3; R01 baseline 0 -> worst 0; a pre-treatment record of R02
    (ONTRTFL missing, grade 4) is not counted. PLAT: S01 0 -> 1."""
    rows = [
        ("S01", "ALT", 1, 0, "Y"),
        ("S01", "ALT", 2, 0, "Y"),
        ("S01", "ALT", 0, 0, "Y"),
        ("S02", "ALT", 1, 1, "Y"),
        ("S03", "ALT", 3, None, "Y"),
        ("R01", "ALT", 0, 0, "Y"),
        ("R02", "ALT", 4, 0, None),
        ("S01", "PLAT", 1, 0, "Y"),
        ("S06", "ALT", 4, 0, "Y"),
    ]
    return pd.DataFrame(
        [
            {
                "USUBJID": s,
                "PARAMCD": p,
                "PARAM": "Alanine Aminotransferase (U/L)" if p == "ALT" else "Platelets",
                "ATOXGRN": float(g),
                "BTOXGRN": None if b is None else float(b),
                "ONTRTFL": f,
            }
            for s, p, g, b, f in rows
        ]
    )


EXPOSURE = {  # subject: (DURD, NINF, TOTDOSE, DI, RDI)
    "S01": (63.0, 3.0, 600.0, 600 / 9, 100.0),
    "S02": (21.0, 1.0, 200.0, 200 / 3, 100.0),
    "S03": (126.0, 6.0, 1200.0, 1200 / 18, 100.0),
    "R01": (42.0, 2.0, 400.0, 400 / 6, 100.0),
    "R02": (84.0, 2.0, 600.0, 50.0, 75.0),
}


def adex() -> pd.DataFrame:
    codes = ("DURD", "NINF", "TOTDOSE", "DI", "RDI")
    rows = [
        {"USUBJID": s, "PARAMCD": c, "PARCAT2": "OVERALL", "AVAL": v}
        for s, values in EXPOSURE.items()
        for c, v in zip(codes, values, strict=True)
    ]
    rows.append({"USUBJID": "S01", "PARAMCD": "DURD", "PARCAT2": "BY REGIMEN", "AVAL": 999.0})
    rows.append({"USUBJID": "S01", "PARAMCD": "DOSE", "PARCAT2": None, "AVAL": 200.0})
    return pd.DataFrame(rows)


def adam() -> dict[str, pd.DataFrame]:
    """The four frames by name."""
    return {"ADSL": adsl(), "ADAE": adae(), "ADLB": adlb(), "ADEX": adex()}


def test_fixture_dates_follow_study_days() -> None:
    frame = adae().merge(adsl()[["USUBJID", "TRTSDT"]], on="USUBJID")
    for start, onset, day in zip(frame["TRTSDT"], frame["ASTDT"], frame["ASTDY"], strict=True):
        expected = (onset - start).days + (1 if onset >= start else 0)
        assert expected == day
