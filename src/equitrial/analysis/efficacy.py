"""Efficacy analyses of the statistical analysis plan, from ADSL, ADRS and ADTTE.

- :func:`primary`: the primary endpoint (ORR at the protocol's week by its reader, in its
  population) compared test / reference (or test - reference) with the protocol's interval
  method and level, and the equivalence decision of :func:`equitrial.stats.equivalence.assess`;
- :func:`sensitivity`: per-protocol, investigator-assessed, stratified (CMH-weighted
  Miettinen-Nurminen difference over the randomization strata), missing data as non-response
  made explicit, evaluable subjects only, and a tipping-point grid;
- :func:`secondary`: PFS and OS (Kaplan-Meier medians and 6- and 12-month rates, stratified
  log-rank and Cox, RMST difference), duration of response, time to response, disease control
  rate, iRECIST ORR;
- :func:`subgroups`: the primary comparison per subgroup level (forest plot);
- :func:`efficacy_tables`: the CSR displays 14.2.x of these results.

Every function returns plain JSON-able values (None where a number is undefined). Missing
datasets and columns raise :class:`~equitrial.errors.InvalidInputError` naming them.

References
----------
.. [1] ICH E9(R1) Addendum on estimands and sensitivity analysis in clinical trials (2019).
.. [2] Eisenhauer EA, et al. RECIST 1.1. Eur J Cancer 2009;45:228-247.
.. [3] Miettinen O, Nurminen M. Comparative analysis of two rates. Stat Med 1985;4:213-226.
.. [4] Uno H, et al. Moving beyond the hazard ratio in quantifying the between-group difference
   in survival analysis. J Clin Oncol 2014;32:2380-2385 (RMST, default tau).
.. [5] Yan X, Lee S, Li N. Missing data handling methods in medical device clinical trials.
   J Biopharm Stat 2009;19:1085-1098 (tipping-point analysis).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from equitrial.analysis._efficacy_binary import (
    analyse,
    avalc,
    missing_by_arm,
    primary_comparison,
    response_data,
    stratified,
    subgroup_rows,
    tipping_point,
)
from equitrial.analysis._efficacy_data import READER_SUFFIX, arms_of, column, dataset, population
from equitrial.analysis._efficacy_tables import efficacy_tables
from equitrial.analysis._efficacy_tte import (
    rate_by_arm,
    survival_endpoint,
    tte_frame,
    ttr_summary,
)
from equitrial.protocol import Protocol

__all__ = [
    "MIN_SUBGROUP_ARM_N",
    "efficacy_tables",
    "primary",
    "secondary",
    "sensitivity",
    "subgroups",
]

MIN_SUBGROUP_ARM_N = 5
"""A subgroup level with fewer subjects in an arm gets no estimate (None)."""


def primary(adam: Mapping[str, pd.DataFrame], protocol: Protocol) -> dict[str, Any]:
    """The primary efficacy analysis.

    Parameters
    ----------
    adam
        ADaM frames by name; uses ``ADSL`` (USUBJID, TRT01P or ARMCD, the population flag) and
        ``ADRS`` (USUBJID, PARAMCD, AVALC: ``RSP24`` central, ``RSP24INV`` investigator).
    protocol
        The study protocol: its primary endpoint (population, reader) and ``[hypothesis]``.

    Returns
    -------
    dict
        ``endpoint``, ``population``, ``reader``, ``parameter``, ``arm_n`` and ``responders``
        (keyed by arm code), ``scale`` (``"ratio"``: test / reference; ``"difference"``: test -
        reference), ``estimate``, ``lower``, ``upper``, ``level``, ``method``, ``margin``
        (``{"lower", "upper"}``, None for an absent bound), ``decision`` (``"equivalent"`` or
        ``"not equivalent"``; ``"non-inferior"`` or ``"not non-inferior"`` for a margin without
        an upper bound) and ``assessment`` (``{"equivalent", "failing_bound", "conclusion"}``).

    Raises
    ------
    InvalidInputError
        A dataset or column is missing (``field`` names it, e.g. ``"ADSL.ITTFL"``), an arm
        is unknown or empty.

    Notes
    -----
    The responder variable is ADRS ``RSP24``: best overall response CR or PR on scans up to
    the endpoint's week (plus the imaging window) and no composite intercurrent event before
    it; a subject without an evaluable response (or without the record) is a non-responder.
    """
    data = response_data(adam, protocol)
    return analyse(data, primary_comparison(protocol))


def sensitivity(adam: Mapping[str, pd.DataFrame], protocol: Protocol) -> list[dict[str, Any]]:
    """Sensitivity analyses of the primary endpoint, each the shape of :func:`primary` plus
    ``analysis``.

    ``"per-protocol"`` (ADSL PPROTFL); ``"investigator"`` (ADRS RSP24INV);
    ``"stratified"`` (CMH-weighted stratified Miettinen-Nurminen difference over ADSL STRATAR,
    with the margin of the protocol's difference-scale hypothesis of the primary variable if
    any); ``"missing-as-non-response"`` (the primary analysis with ``missing``, per arm, the
    subjects without an evaluable response counted as non-responders); ``"evaluable-only"``
    (those subjects left out); ``"tipping-point"`` (``grid`` of every number of imputed
    responders among them per arm, with the decision, and ``tipping_points``).

    Raises
    ------
    InvalidInputError
        As :func:`primary`; also ADSL PPROTFL, STRATAR, ADRS BOR24 missing.
    """
    how = primary_comparison(protocol)
    week = protocol.primary_endpoint.timepoint_weeks
    data = response_data(adam, protocol)
    main = analyse(data, how)
    missing = missing_by_arm(data, adam, week)
    miss = {c: int((missing & (data.arm == c)).sum()) for c in data.arms.order}
    kept = ~missing.to_numpy()
    evaluable = type(data)(
        data.subjects[kept], data.responder[kept], data.arm[kept], *_context(data)
    )
    pp = response_data(adam, protocol, population_name="per-protocol")
    inv = response_data(adam, protocol, review="investigator")
    equivalent = None if main["assessment"] is None else main["assessment"]["equivalent"]
    return [
        analyse(pp, how, analysis="per-protocol"),
        analyse(inv, how, analysis="investigator"),
        stratified(data, protocol),
        {**main, "analysis": "missing-as-non-response", "missing": miss},
        analyse(evaluable, how, analysis="evaluable-only", excluded=miss),
        tipping_point(data, missing, how, equivalent),
    ]


def _context(data: Any) -> tuple[Any, ...]:
    return (data.arms, data.endpoint, data.population, data.reader, data.paramcd)


def secondary(
    adam: Mapping[str, pd.DataFrame], protocol: Protocol, *, tau: float | None = None
) -> dict[str, Any]:
    """Secondary efficacy analyses, ITT, central review, 95% intervals.

    Parameters
    ----------
    adam
        ``ADSL``, ``ADRS`` (BOR, IBOR) and ``ADTTE`` (PFS, OS, DOR, TTR; AVAL days, CNSR).
    protocol
        The protocol (arms, primary endpoint's reader).
    tau
        RMST truncation time in days; default the smaller of the arms' last follow-up times.

    Returns
    -------
    dict
        ``"pfs"``, ``"os"``: per arm (``arms``) n, events, KM median with CI (log-log),
        landmark rates ``"6m"``, ``"12m"`` with CI (None beyond the arm's follow-up);
        ``logrank`` (stratified by STRATAR), ``cox`` (HR test / reference, stratified),
        ``rmst`` (difference test - reference). ``"dor"``: KM per arm among responders.
        ``"ttr"``: n, mean, median, min, max of the time to response among responders.
        ``"dcr"``: disease control (BOR CR, PR or SD) per arm with Clopper-Pearson CI.
        ``"irecist_orr"``: IBOR iCR or iPR per arm, CI and the MN ratio test / reference.

    Raises
    ------
    InvalidInputError
        A dataset or column is missing (``field`` names it).
    """
    adsl = dataset(adam, "ADSL")
    arms = arms_of(adsl, protocol)
    itt = population(adsl, "ITT")
    suffix = READER_SUFFIX[protocol.primary_endpoint.review or "blinded-central"]
    out: dict[str, Any] = {}
    for key, code in (("pfs", "PFS" + suffix), ("os", "OS")):
        out[key] = survival_endpoint(tte_frame(adam, code, itt, arms), arms, code, tau)
    dor = tte_frame(adam, "DOR" + suffix, itt, arms)
    out["dor"] = {
        "parameter": "DOR" + suffix,
        "arms": survival_endpoint(dor, arms, "DOR" + suffix, None)["arms"],
    }
    out["ttr"] = {
        "parameter": "TTR" + suffix,
        **ttr_summary(tte_frame(adam, "TTR" + suffix, itt, arms), arms),
    }
    adrs = dataset(adam, "ADRS")
    arm = itt["USUBJID"].map(arms.code)
    for key, code, good, ratio in (
        ("dcr", "BOR" + suffix, ("CR", "PR", "SD"), False),
        ("irecist_orr", "IBOR" + suffix, ("iCR", "iPR"), True),
    ):
        flags = itt["USUBJID"].map(avalc(adrs, code)).isin(good)
        out[key] = {
            "parameter": code,
            "categories": list(good),
            **rate_by_arm(flags, arm, arms, with_ratio=ratio),
        }
    return out


def subgroups(
    adam: Mapping[str, pd.DataFrame],
    protocol: Protocol,
    *,
    min_arm_n: int = MIN_SUBGROUP_ARM_N,
) -> list[dict[str, Any]]:
    """The primary comparison within subgroups, for a forest plot.

    Subgroups: each stratification factor (its level from ADSL STRATAR, the factors in protocol
    order joined by ``" / "``), age (< 65, >= 65; ADSL AGE), sex (SEX), region (REGION1), site
    type (SITETYPE), initial regimen (REGIMEN).

    Returns
    -------
    list of dict
        ``{"subgroup", "level", "arm_n", "responders", "estimate", "lower", "upper"}`` on the
        primary scale, method and level; the estimate and limits are None where an arm has
        fewer than ``min_arm_n`` subjects.

    Raises
    ------
    InvalidInputError
        As :func:`primary`; also an ADSL column above missing.
    """
    data = response_data(adam, protocol)
    s = data.subjects
    column(s, "ADSL", "STRATAR", "AGE", "SEX", "REGION1", "SITETYPE", "REGIMEN")
    groups: list[tuple[str, pd.Series]] = []
    factors = list(protocol.stratification)
    parts = s["STRATAR"].fillna("").astype(str).str.split(" / ")
    for i, factor in enumerate(factors):
        level = parts.map(lambda p, i=i: p[i] if len(p) == len(factors) else None)
        groups.append((factor, pd.Categorical(level, categories=protocol.stratification[factor])))
    age = pd.to_numeric(s["AGE"], errors="coerce")
    age_group = pd.Series([None if pd.isna(a) else ("< 65" if a < 65 else ">= 65") for a in age])
    groups.append(("age", pd.Categorical(age_group, categories=["< 65", ">= 65"])))
    for name, col in (
        ("sex", "SEX"),
        ("region", "REGION1"),
        ("site type", "SITETYPE"),
        ("regimen", "REGIMEN"),
    ):
        groups.append((name, s[col].reset_index(drop=True)))
    series = [(n, pd.Series(g).reset_index(drop=True)) for n, g in groups]
    flat = type(data)(
        s.reset_index(drop=True),
        data.responder.reset_index(drop=True),
        data.arm.reset_index(drop=True),
        *_context(data),
    )
    return subgroup_rows(flat, primary_comparison(protocol), series, min_arm_n)
