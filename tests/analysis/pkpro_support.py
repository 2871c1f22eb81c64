"""A small hand-made study for the tests of analysis.pk_ada, pro, dosing and published.

The per-subject numbers come from ``tests/reference/analysis_pkpro.json`` (written by
``tests/reference/analysis_pkpro.R``, which computes the expected values from the same data).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from equitrial.protocol import Protocol, load_protocol

ROOT = Path(__file__).resolve().parents[2]
REFERENCE: dict[str, Any] = json.loads(
    (ROOT / "tests" / "reference" / "analysis_pkpro.json").read_text("utf-8")
)
NAMES = {"BIO": "Proposed pembrolizumab biosimilar", "REF": "Keytruda (EU-sourced)"}
DAY0 = pd.Timestamp("2024-01-01")


def protocol() -> Protocol:
    return load_protocol(ROOT / "examples" / "melanoma-pembrolizumab" / "protocol.toml")


def _day(n: float) -> pd.Timestamp:
    return DAY0 + pd.Timedelta(days=float(n))


def build() -> dict[str, pd.DataFrame]:
    """ADSL, ADPC, ADIS, ADRS, ADQS, ADTTE, ADAE and ADEX of the 20 subjects."""
    d = REFERENCE["data"]
    ids, arm = d["ids"], d["arm"]
    adsl = pd.DataFrame(
        {
            "USUBJID": ids,
            "TRT01P": [NAMES[a] for a in arm],
            "TRT01A": [NAMES[a] for a in arm],
            "ITTFL": "Y",
            "SAFFL": "Y",
            "PKFL": "Y",
            "SITETYPE": d["site"],
            "REGIMEN": d["regimen"],
        }
    )
    pc = []
    for u, reg, c in zip(ids, d["regimen"], d["ctrough"], strict=True):
        pc.append(
            {
                "USUBJID": u,
                "PCTPT": "PRE-DOSE",
                "NFRLT": 0.0,
                "ACYCLE": 1.0,
                "AVAL": None,
                "BLQFL": "Y",
                "LLOQ": 0.5,
                "REGIMEN": reg,
                "ADT": DAY0,
            }
        )
        pc.append(
            {
                "USUBJID": u,
                "PCTPT": "PRE-DOSE",
                "NFRLT": 21 * 168.0,
                "ACYCLE": 8.0,
                "AVAL": c,
                "BLQFL": "Y" if c is None else None,
                "LLOQ": 0.5,
                "REGIMEN": reg,
                "ADT": _day(147),
            }
        )
        pc.append(
            {
                "USUBJID": u,
                "PCTPT": "END OF INFUSION",
                "NFRLT": 21 * 168.0 + 0.5,
                "ACYCLE": 8.0,
                "AVAL": 90.0,
                "BLQFL": None,
                "LLOQ": 0.5,
                "REGIMEN": reg,
                "ADT": _day(147),
            }
        )
    adpc = pd.DataFrame(pc)
    adpc["AVAL"] = adpc["AVAL"].astype("float64")
    adis = pd.DataFrame(
        {"USUBJID": ids, "ADASTAT": d["ada"], "NABFL": ["Y" if n else None for n in d["nab"]]}
    )
    adrs = pd.DataFrame(
        {"USUBJID": ids, "PARAMCD": "RSP24", "AVALC": ["Y" if r else "N" for r in d["resp"]]}
    )
    qs = []
    for u, chg, t, e in zip(ids, d["chg27"], d["ttd"], d["ttd_event"], strict=True):
        qs.append(
            {
                "USUBJID": u,
                "PARAMCD": "QL2",
                "PARAM": "GHS",
                "PARAMN": 1,
                "AVISIT": "BASELINE",
                "AVISITN": 0,
                "ADT": DAY0,
                "ABLFL": "Y",
                "CHG": None,
                "CRIT1FL": None,
            }
        )
        qs.append(
            {
                "USUBJID": u,
                "PARAMCD": "QL2",
                "PARAM": "GHS",
                "PARAMN": 1,
                "AVISIT": f"WEEK {t // 7}",
                "AVISITN": t // 7,
                "ADT": _day(t),
                "ABLFL": None,
                "CHG": -20.0 if e else 0.0,
                "CRIT1FL": "Y" if e else "N",
            }
        )
        qs.append(
            {
                "USUBJID": u,
                "PARAMCD": "PF2",
                "PARAM": "PF",
                "PARAMN": 2,
                "AVISIT": "BASELINE",
                "AVISITN": 0,
                "ADT": DAY0,
                "ABLFL": "Y",
                "CHG": None,
                "CRIT1FL": None,
            }
        )
        if chg is not None:
            qs.append(
                {
                    "USUBJID": u,
                    "PARAMCD": "PF2",
                    "PARAM": "PF",
                    "PARAMN": 2,
                    "AVISIT": "WEEK 27",
                    "AVISITN": 27,
                    "ADT": _day(189),
                    "ABLFL": None,
                    "CHG": chg,
                    "CRIT1FL": None,
                }
            )
    adqs = pd.DataFrame(qs)
    adqs["CHG"] = adqs["CHG"].astype("float64")
    adtte = pd.DataFrame(
        {"USUBJID": ids, "PARAMCD": "PFS", "AVAL": d["pfs_days"], "CNSR": d["pfs_cnsr"]}
    )
    adae = pd.DataFrame(
        {
            "USUBJID": ids,
            "TRTEMFL": "Y",
            "ATOXGRN": [3 if g else 1 for g in d["g3"]],
            "RELFL": ["Y" if r else None for r in d["rel"]],
        }
    )
    ex = []
    for u, reg, n, dur, tot in zip(
        ids, d["regimen"], d["ninf"], d["durd"], d["totdose"], strict=True
    ):
        dose = 200 if reg == "Q3W" else 400
        for code, value in (
            ("TOTDOSE", tot),
            ("NINF", n),
            ("DURD", dur),
            ("DI", tot / (dur / 7)),
            ("RDI", 100.0),
        ):
            for cat in ("OVERALL", "BY REGIMEN"):
                ex.append(
                    {"USUBJID": u, "PARAMCD": code, "PARCAT2": cat, "AVAL": value, "REGIMEN": reg}
                )
        ex.append({"USUBJID": u, "PARAMCD": "DOSE", "PARCAT2": None, "AVAL": dose, "REGIMEN": reg})
    adex = pd.DataFrame(ex)
    return {
        "ADSL": adsl,
        "ADPC": adpc,
        "ADIS": adis,
        "ADRS": adrs,
        "ADQS": adqs,
        "ADTTE": adtte,
        "ADAE": adae,
        "ADEX": adex,
    }
