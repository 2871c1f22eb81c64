"""CSR 14.7: the reference product's published figures, the constancy check and the external
comparison.

The figures live in ``analysis/data/published.json`` (each with its citation, place in the
source, population and n; see the README beside it). :func:`constancy` puts the reference arm's
ORR at the primary timepoint (ITT, exact 95 % interval), median PFS and 6-month PFS rate
(Kaplan-Meier, log-log 95 % interval) and grade >= 3 treatment-related adverse event rate
(safety population, exact interval) next to the published figures marked ``constancy``, with
whether the intervals overlap (or, for a figure published without an interval, whether our
interval contains it). :func:`external_comparison` gives forest-plot rows: both arms' ORR and
median PFS next to every published cohort of the same endpoint.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd

from equitrial.analysis._pkpro_common import (
    DAYS_PER_MONTH,
    Arms,
    clean,
    need,
    proportion,
    responders,
    subjects,
)
from equitrial.analysis.tables import Cell, Table
from equitrial.errors import InvalidInputError
from equitrial.stats.survival import kaplan_meier

__all__ = ["constancy", "external_comparison", "load_published", "published_tables"]

LANDMARK_MONTHS = 6.0
_SCALE = {"percent": 100.0, "months": 1.0}


@lru_cache(maxsize=1)
def _published_text() -> str:
    return resources.files("equitrial.analysis").joinpath("data/published.json").read_text("utf-8")


def load_published() -> dict[str, Any]:
    """The published figures, as written in ``published.json`` (a fresh copy each call)."""
    data: dict[str, Any] = json.loads(_published_text())
    for figure in data["figures"]:
        if figure["source"] not in data["sources"]:
            raise InvalidInputError(
                f"published figure {figure['id']} cites an unknown source", field="source"
            )
    return data


def _pfs(adam: Mapping[str, pd.DataFrame], ids: pd.Series) -> dict[str, Any]:
    adtte = need(adam, "ADTTE", ("USUBJID", "PARAMCD", "AVAL", "CNSR"))
    pfs = adtte[(adtte["PARAMCD"] == "PFS") & adtte["USUBJID"].isin(ids)]
    if pfs.empty:
        return {"n": 0, "median": None, "rate_6m": None}
    months = pfs["AVAL"].to_numpy(np.float64) / DAYS_PER_MONTH
    km = kaplan_meier(months, (pfs["CNSR"] == 0).to_numpy(), conf_type="log-log")
    i = int(np.searchsorted(km.time, LANDMARK_MONTHS, side="right")) - 1
    rate = (1.0, 1.0, 1.0) if i < 0 else (km.survival[i], km.lower[i], km.upper[i])
    return {
        "n": len(pfs),
        "median": {
            "estimate": clean(km.median),
            "lower": clean(km.median_ci[0]),
            "upper": clean(km.median_ci[1]),
            "level": km.level,
            "method": "log-log",
        },
        "rate_6m": {
            "estimate": clean(100 * rate[0]),
            "lower": clean(100 * rate[1]),
            "upper": clean(100 * rate[2]),
            "level": km.level,
            "method": "log-log",
        },
    }


def _percent(p: Mapping[str, Any]) -> dict[str, Any]:
    scaled = {k: (None if p[k] is None else 100.0 * p[k]) for k in ("estimate", "lower", "upper")}
    return {**scaled, "x": p["x"], "n": p["n"], "level": p["level"], "method": p["method"]}


def _arm_estimates(adam: Mapping[str, pd.DataFrame], protocol: Any, arm: str) -> dict[str, Any]:
    arms = Arms(protocol)
    adsl = need(adam, "ADSL", ("USUBJID", "ITTFL", "SAFFL", "TRT01P", "TRT01A"))
    itt = subjects(adsl, arms, "ITTFL", "TRT01P")
    itt = itt[itt["ARMCD"] == arm]
    saf = subjects(adsl, arms, "SAFFL", "TRT01A")
    saf = saf[saf["ARMCD"] == arm]
    adae = need(adam, "ADAE", ("USUBJID", "TRTEMFL", "ATOXGRN", "RELFL"))
    trae = adae[
        (adae["TRTEMFL"] == "Y") & (adae["RELFL"] == "Y") & (pd.to_numeric(adae["ATOXGRN"]) >= 3)
    ]
    rsp = int(itt["USUBJID"].isin(responders(adam)).sum())
    pfs = _pfs(adam, itt["USUBJID"])
    return {
        "orr": _percent(proportion(rsp, len(itt))),
        "pfs_median": {**(pfs["median"] or {}), "n": pfs["n"]},
        "pfs_rate_6m": {**(pfs["rate_6m"] or {}), "n": pfs["n"]},
        "grade3_trae": _percent(
            proportion(int(saf["USUBJID"].isin(trae["USUBJID"]).sum()), len(saf))
        ),
    }


def _overlap(ours: Mapping[str, Any], figure: Mapping[str, Any]) -> tuple[bool | None, str]:
    lo, hi = ours.get("lower"), ours.get("upper")
    if lo is None or hi is None:
        return None, "our interval is not estimable"
    if figure["lower"] is not None and figure["upper"] is not None:
        hit = bool(lo <= figure["upper"] and figure["lower"] <= hi)
        return hit, ("intervals overlap" if hit else "intervals do not overlap")
    hit = bool(lo <= figure["estimate"] <= hi)
    return hit, (
        "published estimate inside our interval"
        if hit
        else "published estimate outside our interval"
    )


def constancy(adam: Mapping[str, pd.DataFrame], protocol: Any) -> dict[str, Any]:
    """The reference arm's ORR, PFS and grade >= 3 TRAE rate next to the published figures.

    Returns
    -------
    dict
        ``{"arm", "estimates": {endpoint: {"estimate", "lower", "upper", "level", "method",
        "n"}}, "comparisons": [{"endpoint", "id", "study", "population", "n", "estimate",
        "lower", "upper", "unit", "citation", "location", "ours": {...}, "overlap",
        "statement"}]}``; endpoints ``orr``, ``pfs_median``, ``pfs_rate_6m`` and
        ``grade3_trae``, in percent or months as the published figures.
    """
    arms = Arms(protocol)
    ours = _arm_estimates(adam, protocol, arms.reference)
    data = load_published()
    rows = []
    for figure in data["figures"]:
        if not figure["constancy"] or figure["endpoint"] not in ours:
            continue
        mine = ours[figure["endpoint"]]
        hit, text = _overlap(mine, figure)
        rows.append(
            {
                "endpoint": figure["endpoint"],
                "id": figure["id"],
                "study": figure["study"],
                "population": figure["population"],
                "n": figure["n"],
                "unit": figure["unit"],
                "estimate": figure["estimate"],
                "lower": figure["lower"],
                "upper": figure["upper"],
                "citation": data["sources"][figure["source"]]["citation"],
                "location": figure["location"],
                "ours": mine,
                "overlap": hit,
                "statement": text,
            }
        )
    return {"arm": arms.reference, "estimates": ours, "comparisons": rows}


def external_comparison(adam: Mapping[str, pd.DataFrame], protocol: Any) -> dict[str, Any]:
    """Forest-plot rows of ORR and median PFS: both arms, then every published cohort.

    Returns
    -------
    dict
        ``{"orr" | "pfs_median": [{"label", "region", "setting", "estimate", "lower",
        "upper", "n", "unit", "source"}]}``; our rows first (``source`` ``"this trial"``).
    """
    arms = Arms(protocol)
    estimates = {code: _arm_estimates(adam, protocol, code) for code in arms.codes}
    data = load_published()
    out: dict[str, Any] = {}
    for endpoint, unit in (("orr", "percent"), ("pfs_median", "months")):
        rows = [
            {
                "label": arms.label[code],
                "region": "this trial",
                "setting": "this trial",
                "estimate": estimates[code][endpoint].get("estimate"),
                "lower": estimates[code][endpoint].get("lower"),
                "upper": estimates[code][endpoint].get("upper"),
                "n": estimates[code][endpoint].get("n"),
                "unit": unit,
                "source": "this trial",
            }
            for code in arms.codes
        ]
        rows += [
            {
                "label": f"{f['study']}: {f['population']}",
                "region": f["region"],
                "setting": f["setting"],
                "estimate": f["estimate"],
                "lower": f["lower"],
                "upper": f["upper"],
                "n": f["n"],
                "unit": f["unit"],
                "source": data["sources"][f["source"]]["citation"],
            }
            for f in data["figures"]
            if f["endpoint"] == endpoint
        ]
        out[endpoint] = rows
    return out


def published_tables(results: Mapping[str, Any]) -> list[Table]:
    """Tables 14.7.1 (constancy) and 14.7.2 (external comparison).

    ``results`` is ``{"constancy": constancy(...), "external": external_comparison(...)}``.
    """
    con_rows: list[tuple[Cell, ...]] = [
        (
            r["endpoint"],
            r["ours"].get("estimate"),
            r["ours"].get("lower"),
            r["ours"].get("upper"),
            r["study"],
            r["n"],
            r["estimate"],
            r["lower"],
            r["upper"],
            r["statement"],
        )
        for r in results["constancy"]["comparisons"]
    ]
    ext_rows: list[tuple[Cell, ...]] = [
        (endpoint, r["label"], r["region"], r["n"], r["estimate"], r["lower"], r["upper"])
        for endpoint, rows in sorted(results["external"].items())
        for r in rows
    ]
    return [
        Table(
            "14.7.1",
            "Constancy: reference arm against the reference product's published results",
            (
                "Endpoint",
                "Ours",
                "Lower",
                "Upper",
                "Published study",
                "n",
                "Published",
                "Lower",
                "Upper",
                "Comparison",
            ),
            tuple(con_rows),
            (
                "Percent or months; our intervals 95% (exact for rates, log-log for KM).",
                "Sources: analysis/data/published.json and its README.",
            ),
        ),
        Table(
            "14.7.2",
            "External comparison: ORR and median PFS",
            ("Endpoint", "Cohort", "Region", "n", "Estimate", "Lower", "Upper"),
            tuple(ext_rows),
            ("Published cohorts differ in dose, line and response rules.",),
        ),
    ]
