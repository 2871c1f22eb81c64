"""CSR 14.4: trough exposure (Ctrough) and immunogenicity (anti-drug antibodies).

Ctrough is the pre-dose serum concentration of a cycle after the first (the concentration at
the end of the previous dosing interval, as ADPP defines it), taken at the protocol's
steady-state timepoints: the ``timepoint_weeks`` of the endpoints summarized by a geometric mean
ratio, and the pre-dose PK weeks from 16 on (steady state by 16 weeks of Q3W [3]_). A sample
counts for week ``w`` when its nominal time from the first dose (``NFRLT``) is within the
protocol's visit window of ``w``. Summaries per arm and per regimen (Q3W, Q6W): geometric mean
with 95 % t interval, geometric CV, and the test/reference geometric mean ratio with a 90 %
interval [1]_ (pooled log-scale variance), all from :mod:`equitrial.stats.pk`.

Below the limit of quantification: ``blq="half-lloq"`` (default) sets a BLQ trough to LLOQ/2,
``blq="exclude"`` leaves it out; the number of BLQ troughs is reported either way.

ADA (safety population, ADIS ``ADASTAT``): treatment-emergent ADA = treatment-induced or
treatment-boosted [2]_; evaluable = every status except ``NOT EVALUABLE``; neutralizing =
``NABFL``. Counts, % of evaluable subjects with exact 95 % intervals; Ctrough and the response
rate at the primary timepoint by ADA status.

References
----------
.. [1] Hauschke D, Steinijans V, Pigeot I. *Bioequivalence Studies in Drug Development*.
   Wiley, 2007, chapter 3.
.. [2] Shankar G, Arkin S, Cocea L, et al. Assessment and reporting of the clinical
   immunogenicity of therapeutic proteins and peptides. *AAPS J* 2014;16:658-673.
.. [3] KEYTRUDA (pembrolizumab) EU Summary of Product Characteristics, section 5.2
   (steady state by 16 weeks of repeated dosing every 3 weeks).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd

from equitrial.analysis._pkpro_common import (
    Arms,
    clean,
    interval_json,
    need,
    proportion,
    responders,
    subjects,
)
from equitrial.analysis.tables import Cell, Table
from equitrial.errors import InvalidInputError
from equitrial.stats.pk import geometric_cv, geometric_mean, geometric_mean_ratio

__all__ = ["BLQ_RULES", "ctrough_values", "pk_ada", "pk_ada_tables", "steady_state_weeks"]

BlqRule = Literal["half-lloq", "exclude"]
BLQ_RULES: tuple[BlqRule, ...] = ("half-lloq", "exclude")
STEADY_STATE_WEEK = 16.0
"""Weeks of Q3W dosing to steady state (KEYTRUDA SmPC, section 5.2)."""
TE_ADA = ("TREATMENT-INDUCED", "TREATMENT-BOOSTED")


def steady_state_weeks(protocol: Any) -> list[float]:
    """The steady-state Ctrough weeks: geometric-mean-ratio endpoints' timepoints, then the
    protocol's pre-dose PK weeks from :data:`STEADY_STATE_WEEK` on, ascending, unique."""
    weeks = {
        float(e.timepoint_weeks)
        for e in getattr(protocol, "endpoints", ())
        if e.timepoint_weeks is not None and e.estimand.summary_measure == "geometric-mean-ratio"
    }
    for item in getattr(protocol, "schedule", ()):
        if item.kind == "pk" and item.timing == "pre-dose" and item.weeks:
            weeks.update(float(w) for w in item.weeks if w >= STEADY_STATE_WEEK)
    return sorted(weeks)


def ctrough_values(
    adam: Mapping[str, pd.DataFrame], protocol: Any, week: float, *, blq: BlqRule = "half-lloq"
) -> pd.DataFrame:
    """One steady-state trough per subject of the PK population at ``week``.

    Returns a frame ``USUBJID, ARMCD, REGIMEN, CTROUGH, BLQ`` sorted by USUBJID; ``CTROUGH`` is
    missing for a BLQ trough under ``blq="exclude"``.
    """
    if blq not in BLQ_RULES:
        raise InvalidInputError(
            f"blq must be one of {BLQ_RULES}, got {blq!r}", field="blq", value=blq
        )
    cols = ("USUBJID", "PCTPT", "NFRLT", "ACYCLE", "AVAL", "BLQFL", "LLOQ", "REGIMEN", "ADT")
    adpc = need(adam, "ADPC", cols)
    arms = Arms(protocol)
    pk = subjects(need(adam, "ADSL", ("USUBJID", "PKFL", "TRT01A")), arms, "PKFL", "TRT01A")
    window = float(getattr(getattr(protocol, "treatment", None), "window_days", 3)) / 7.0
    pre = adpc[
        (adpc["PCTPT"] == "PRE-DOSE")
        & (adpc["ACYCLE"] >= 2)
        & ((adpc["NFRLT"] / 168.0 - week).abs() <= window + 1e-9)
    ]
    pre = pre.sort_values(["USUBJID", "ADT", "NFRLT"], kind="mergesort")
    pre = pre.groupby("USUBJID", sort=True).head(1)
    frame = pre.merge(pk[["USUBJID", "ARMCD"]], on="USUBJID", how="inner")
    is_blq = (frame["BLQFL"] == "Y") | frame["AVAL"].isna()
    value = frame["AVAL"].astype("float64")
    if blq == "half-lloq":
        value = value.where(~is_blq, frame["LLOQ"].astype("float64") / 2.0)
    else:
        value = value.where(~is_blq)
    return pd.DataFrame(
        {
            "USUBJID": frame["USUBJID"].to_numpy(),
            "ARMCD": frame["ARMCD"].to_numpy(),
            "REGIMEN": frame["REGIMEN"].to_numpy(),
            "CTROUGH": value.to_numpy(),
            "BLQ": is_blq.to_numpy(),
        }
    ).reset_index(drop=True)


def _summary(values: pd.Series, n_blq: int) -> dict[str, Any]:
    """n, BLQ count, geometric mean (95 % CI) and geometric CV of positive values."""
    x = values.dropna().to_numpy(dtype=np.float64)
    out: dict[str, Any] = {"n": int(x.size), "n_blq": n_blq}
    if x.size >= 2 and np.all(x > 0):
        out["geometric_mean"] = interval_json(geometric_mean(x, level=0.95))
        out["geometric_cv"] = clean(geometric_cv(x))
    else:
        out["geometric_mean"], out["geometric_cv"] = None, None
    return out


def _gmr(test: pd.Series, reference: pd.Series) -> dict[str, Any] | None:
    t, r = test.dropna().to_numpy(np.float64), reference.dropna().to_numpy(np.float64)
    if t.size < 2 or r.size < 2 or np.any(t <= 0) or np.any(r <= 0):
        return None
    return interval_json(geometric_mean_ratio(t, r, level=0.90, variance="pooled"))


def _by_arm(frame: pd.DataFrame, arms: Arms) -> dict[str, Any]:
    out: dict[str, Any] = {
        code: _summary(
            frame.loc[frame["ARMCD"] == code, "CTROUGH"],
            int(frame.loc[frame["ARMCD"] == code, "BLQ"].sum()),
        )
        for code in arms.codes
    }
    out["gmr_test_reference"] = _gmr(
        frame.loc[frame["ARMCD"] == arms.test, "CTROUGH"],
        frame.loc[frame["ARMCD"] == arms.reference, "CTROUGH"],
    )
    return out


def _ctrough(adam: Mapping[str, pd.DataFrame], protocol: Any, blq: BlqRule) -> list[dict[str, Any]]:
    arms = Arms(protocol)
    results = []
    for week in steady_state_weeks(protocol):
        frame = ctrough_values(adam, protocol, week, blq=blq)
        regimens = sorted(str(r) for r in frame["REGIMEN"].dropna().unique())
        results.append(
            {
                "week": week,
                "overall": _by_arm(frame, arms),
                "by_regimen": {r: _by_arm(frame[frame["REGIMEN"] == r], arms) for r in regimens},
            }
        )
    return results


def _ada_status(adam: Mapping[str, pd.DataFrame], protocol: Any) -> pd.DataFrame:
    """Safety-population subjects with ARMCD, ADASTAT, TEADA (bool), NAB (bool), EVAL."""
    arms = Arms(protocol)
    saf = subjects(need(adam, "ADSL", ("USUBJID", "SAFFL", "TRT01A")), arms, "SAFFL", "TRT01A")
    adis = need(adam, "ADIS", ("USUBJID", "ADASTAT", "NABFL"))
    first = adis.sort_values("USUBJID", kind="mergesort").groupby("USUBJID").head(1)
    out = saf[["USUBJID", "ARMCD"]].merge(
        first[["USUBJID", "ADASTAT", "NABFL"]], on="USUBJID", how="left"
    )
    out["ADASTAT"] = out["ADASTAT"].fillna("NOT EVALUABLE")
    out["EVAL"] = out["ADASTAT"] != "NOT EVALUABLE"
    out["TEADA"] = out["ADASTAT"].isin(TE_ADA)
    out["NAB"] = out["NABFL"] == "Y"
    return out


def _ada(adam: Mapping[str, pd.DataFrame], protocol: Any, blq: BlqRule) -> dict[str, Any]:
    arms = Arms(protocol)
    status = _ada_status(adam, protocol)
    incidence: dict[str, Any] = {}
    for code in arms.codes:
        s = status[status["ARMCD"] == code]
        evaluable = s[s["EVAL"]]
        incidence[code] = {
            "n_safety": len(s),
            "n_evaluable": len(evaluable),
            "statuses": {k: int(v) for k, v in sorted(s["ADASTAT"].value_counts().items())},
            "treatment_emergent": proportion(int(evaluable["TEADA"].sum()), len(evaluable)),
            "neutralizing": proportion(int(evaluable["NAB"].sum()), len(evaluable)),
        }
    rsp = responders(adam)
    status["RESP"] = status["USUBJID"].isin(rsp)
    label = {True: "TE-ADA positive", False: "TE-ADA negative"}
    orr = {
        code: {
            label[flag]: proportion(int(g["RESP"].sum()), len(g))
            for flag, g in (
                (f, status[(status["ARMCD"] == code) & status["EVAL"] & (status["TEADA"] == f)])
                for f in (True, False)
            )
        }
        for code in arms.codes
    }
    ctrough: dict[str, Any] = {}
    weeks = steady_state_weeks(protocol)
    if weeks:
        frame = ctrough_values(adam, protocol, weeks[0], blq=blq)
        frame = frame.merge(status[["USUBJID", "TEADA", "EVAL"]], on="USUBJID", how="inner")
        frame = frame[frame["EVAL"]]
        ctrough = {
            "week": weeks[0],
            **{
                label[flag]: _summary(g["CTROUGH"], int(g["BLQ"].sum()))
                for flag, g in ((f, frame[frame["TEADA"] == f]) for f in (True, False))
            },
        }
    return {"incidence": incidence, "orr_by_status": orr, "ctrough_by_status": ctrough}


def pk_ada(
    adam: Mapping[str, pd.DataFrame], protocol: Any, *, blq: BlqRule = "half-lloq"
) -> dict[str, Any]:
    """Ctrough at steady state and ADA incidence, by arm (CSR 14.4).

    Parameters
    ----------
    adam : mapping of str to DataFrame
        ADaM frames; uses ADSL (``PKFL``, ``SAFFL``, ``TRT01A``), ADPC, ADIS and ADRS
        (``RSP24``).
    protocol : Protocol
        The study protocol (arms, endpoints, PK schedule, visit window).
    blq : {"half-lloq", "exclude"}
        How a trough below the limit of quantification enters the summaries.

    Returns
    -------
    dict
        ``{"arms", "blq_rule", "ctrough": [{"week", "overall": {ARM: summary,
        "gmr_test_reference"}, "by_regimen": {REGIMEN: same}}], "ada": {"incidence",
        "orr_by_status", "ctrough_by_status"}}``; a summary is ``{"n", "n_blq",
        "geometric_mean": interval, "geometric_cv"}``.

    Raises
    ------
    InvalidInputError
        A dataset or column is missing, or ``blq`` is not a listed option.
    """
    arms = Arms(protocol)
    return {
        "arms": {
            "codes": list(arms.codes),
            "test": arms.test,
            "reference": arms.reference,
            "labels": arms.label,
        },
        "blq_rule": blq,
        "ctrough": _ctrough(adam, protocol, blq),
        "ada": _ada(adam, protocol, blq),
    }


def _gm_cell(summary: Mapping[str, Any] | None) -> tuple[Cell, Cell, Cell, Cell, Cell]:
    if not summary:
        return (0, 0, None, None, None)
    gm = summary.get("geometric_mean") or {}
    return (
        summary["n"],
        summary["n_blq"],
        gm.get("estimate"),
        gm.get("lower"),
        summary.get("geometric_cv"),
    )


def pk_ada_tables(results: Mapping[str, Any]) -> list[Table]:
    """Tables 14.4.1 (Ctrough) and 14.4.2 (ADA) of :func:`pk_ada`'s results."""
    codes = results["arms"]["codes"]
    rows: list[tuple[Cell, ...]] = []
    for point in results["ctrough"]:
        groups = [("All", point["overall"]), *sorted(point["by_regimen"].items())]
        for regimen, block in groups:
            ratio = block.get("gmr_test_reference") or {}
            for code in codes:
                rows.append(
                    (
                        point["week"],
                        regimen,
                        code,
                        *_gm_cell(block.get(code)),
                        ratio.get("estimate"),
                        ratio.get("lower"),
                        ratio.get("upper"),
                    )
                )
    ctrough = Table(
        "14.4.1",
        "Trough serum concentration (ug/mL) at steady state, PK population",
        (
            "Week",
            "Regimen",
            "Arm",
            "n",
            "n BLQ",
            "Geometric mean",
            "95% CI lower",
            "Geometric CV",
            "GMR test/reference",
            "90% CI lower",
            "90% CI upper",
        ),
        tuple(rows),
        (
            f"BLQ troughs: {results['blq_rule']} (LLOQ/2 when half-lloq).",
            "GMR: ratio of geometric means, 90% t interval with pooled log-scale variance.",
            "Ctrough: pre-dose sample within the visit window of the nominal week.",
        ),
    )
    ada_rows: list[tuple[Cell, ...]] = []
    for code in codes:
        inc = results["ada"]["incidence"][code]
        te, nab = inc["treatment_emergent"], inc["neutralizing"]
        orr = results["ada"]["orr_by_status"][code]
        ada_rows.append(
            (
                code,
                inc["n_safety"],
                inc["n_evaluable"],
                te["x"],
                te["estimate"],
                te["lower"],
                te["upper"],
                nab["x"],
                nab["estimate"],
                orr["TE-ADA positive"]["estimate"],
                orr["TE-ADA negative"]["estimate"],
            )
        )
    ada = Table(
        "14.4.2",
        "Anti-drug antibodies, safety population",
        (
            "Arm",
            "N",
            "Evaluable",
            "TE-ADA n",
            "TE-ADA %",
            "95% CI lower",
            "95% CI upper",
            "NAb n",
            "NAb %",
            "ORR TE-ADA positive",
            "ORR TE-ADA negative",
        ),
        tuple(ada_rows),
        (
            "TE-ADA: treatment-induced or treatment-boosted (Shankar 2014); % of evaluable.",
            "Exact (Clopper-Pearson) 95% intervals.",
        ),
    )
    return [ctrough, ada]
