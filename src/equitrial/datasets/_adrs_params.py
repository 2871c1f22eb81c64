"""ADRS subject-level response parameters (BOR, CBOR, RSP, BOR24, RSP24, IBOR) per reader.

Rules: see :mod:`equitrial.datasets.adrs`. The best responses are computed by
:mod:`equitrial.clinical.recist` and :mod:`equitrial.clinical.irecist`, not re-implemented here.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from equitrial.clinical import irecist, recist
from equitrial.datasets._meta import StudySource

__all__ = [
    "CONFIRM_DAYS",
    "IRECIST_ORDER",
    "MIN_SD_DAYS",
    "READERS",
    "RECIST_ORDER",
    "best_records",
    "primary_endpoint",
]

RECIST_ORDER: tuple[str, ...] = tuple(recist.RESPONSE_ORDER)
"""Best first (AVAL = position + 1): CR, PR, SD, NON-CR/NON-PD, PD, NE."""
IRECIST_ORDER: tuple[str, ...] = ("iCR", "iPR", "iSD", "NON-iCR/NON-iUPD", "iUPD", "iCPD", "NE")
"""Best first (AVAL = position + 1)."""
READERS: dict[str, tuple[str, str]] = {
    "central": ("", "Independent Central Review"),
    "investigator": ("INV", "Investigator"),
}
"""Store reader -> (PARAMCD suffix, PARCAT2)."""
_PARAMS = {
    "BOR": "Best Overall Response",
    "CBOR": "Best Confirmed Overall Response",
    "RSP": "Response (CR or PR)",
    "BOR24": "Best Overall Response up to Week {w:g}",
    "RSP24": "Response (CR or PR) at Week {w:g}, Composite",
    "IBOR": "iRECIST Best Overall Response",
}
MIN_SD_DAYS = 42
"""Minimum SD duration from RANDDT (admiralonco ``ref_start_window``; RECIST 1.1: 6-8 weeks)."""
CONFIRM_DAYS = 28
"""CR/PR confirmation at least 4 weeks later (RECIST 1.1 section 4.4)."""


def primary_endpoint(protocol: Any) -> tuple[float, bool, tuple[str, ...]]:
    """(week, confirmation required, composite intercurrent events) of the ORR endpoint.

    The primary endpoint if it is binary RECIST 1.1 with a ``timepoint_weeks``, else the first
    such endpoint;
    24 weeks, no confirmation and no composite events when the protocol has none.
    """
    endpoints = sorted(getattr(protocol, "endpoints", ()), key=lambda e: e.role != "primary")
    for endpoint in endpoints:
        if endpoint.kind == "binary" and endpoint.criteria == "RECIST 1.1":
            if endpoint.timepoint_weeks is None:
                continue
            events = endpoint.estimand.intercurrent_events if endpoint.estimand else {}
            composite = tuple(k for k, v in events.items() if v == "composite")
            return float(endpoint.timepoint_weeks), bool(endpoint.confirmation_required), composite
    return 24.0, False, ()


def _first_date(
    series: list[tuple[dt.date, str]], code: str, after: dt.date | None
) -> dt.date | None:
    for day, value in series:
        if value == code:
            return day
    stable = ("CR", "PR", "SD", "iCR", "iPR", "iSD")
    for day, value in series:  # an unconfirmed response counted as SD
        if value in stable and after is not None and day >= after:
            return day
    return None


def _row(
    subject: pd.Series,
    paramcd: str,
    param: str,
    reader: str,
    value: str,
    aval: float,
    day: dt.date | None,
    criteria: str,
) -> dict[str, Any]:
    suffix, label = READERS[reader]
    row = {k: subject[k] for k in subject.index}
    randdt = subject["RANDDT"]
    ady = (
        (day - randdt).days + 1
        if isinstance(day, dt.date) and isinstance(randdt, dt.date)
        else None
    )
    row.update(
        PARAMCD=paramcd + suffix,
        PARAM=f"{param} by {label}",
        PARCAT2=label,
        PARCAT3=criteria,
        AVALC=value,
        AVAL=aval,
        ADT=day,
        ADY=ady,
        AVISIT=None,
        ANL01FL="Y",
    )
    return row


def _composite_event(
    composite: tuple[str, ...], death: Any, therapy: dt.date | None, end: dt.date
) -> bool:
    dead = isinstance(death, dt.date) and death < end
    treated = therapy is not None and therapy < end
    return any(("death" in k and dead) or ("anticancer" in k and treated) for k in composite)


def best_records(
    source: StudySource, adsl: pd.DataFrame, ovr: pd.DataFrame, therapy: dict[str, dt.date]
) -> pd.DataFrame:
    """BOR, CBOR, RSP, BOR24, RSP24 and IBOR per reader for every ADSL subject."""
    week, confirm, composite = primary_endpoint(source.protocol)
    schedule_window = max(
        (int(i.window_days or 0) for i in source.protocol.schedule if i.kind == "tumour-imaging"),
        default=0,
    )
    used = ovr[ovr["ANL01FL"] == "Y"].sort_values("ADT")
    series: dict[tuple[str, str, str], list[tuple[dt.date, str]]] = {}
    for key, group in used.groupby(["USUBJID", "reader", "PARCAT3"]):
        series[(str(key[0]), str(key[1]), str(key[2]))] = list(
            zip(group["ADT"], group["AVALC"], strict=True)
        )
    keep = [
        "STUDYID",
        "USUBJID",
        "SUBJID",
        "SITEID",
        "TRT01P",
        "TRT01A",
        "ITTFL",
        "RESPEVFL",
        "RANDDT",
        "DTHDT",
    ]
    rows: list[dict[str, Any]] = []
    for _, subject in adsl[keep].iterrows():
        ref = subject["RANDDT"]
        if not isinstance(ref, dt.date):
            continue
        sd_from = ref + dt.timedelta(days=MIN_SD_DAYS)
        end24 = ref + dt.timedelta(weeks=week)
        last24 = end24 + dt.timedelta(days=schedule_window)
        info = subject.drop("DTHDT")
        for reader in READERS:
            tp = series.get((subject["USUBJID"], reader, "RECIST 1.1"), [])
            for code, points, conf in (
                ("BOR", tp, confirm),
                ("CBOR", tp, True),
                ("BOR24", [p for p in tp if p[0] <= last24], confirm),
            ):
                value = recist.best_overall_response(
                    points,
                    reference_date=ref,
                    confirmation_required=conf,
                    confirmation_days=CONFIRM_DAYS,
                    min_sd_days=MIN_SD_DAYS,
                )
                name = _PARAMS[code].format(w=week)
                day = _first_date(points, value, sd_from)
                rows.append(
                    _row(
                        info,
                        code,
                        name,
                        reader,
                        value,
                        float(RECIST_ORDER.index(value) + 1),
                        day,
                        "RECIST 1.1",
                    )
                )
                if code in ("BOR", "BOR24"):
                    responder = value in ("CR", "PR")
                    rsp = "RSP" if code == "BOR" else "RSP24"
                    if rsp == "RSP24" and _composite_event(
                        composite, subject["DTHDT"], therapy.get(subject["USUBJID"]), end24
                    ):
                        responder = False
                    rows.append(
                        _row(
                            info,
                            rsp,
                            _PARAMS[rsp].format(w=week),
                            reader,
                            "Y" if responder else "N",
                            1.0 if responder else 0.0,
                            day if responder else None,
                            "RECIST 1.1",
                        )
                    )
            itp = series.get((subject["USUBJID"], reader, "iRECIST"), [])
            ivalue = irecist.best_overall_response(itp, reference_date=ref, min_sd_days=MIN_SD_DAYS)
            rows.append(
                _row(
                    info,
                    "IBOR",
                    _PARAMS["IBOR"],
                    reader,
                    str(ivalue),
                    float(IRECIST_ORDER.index(str(ivalue)) + 1),
                    _first_date(itp, str(ivalue), sd_from),
                    "iRECIST",
                )
            )
    return pd.DataFrame(rows)
