"""Safety and time-to-event displays of any study delivered as standard ADaM (ADSL, ADAE, ADTTE).

What ``equitrial analyze-cdisc`` computes from a folder of ADaM datasets, such as the public CDISC
SDTM/ADaM Pilot Project study CDISCPILOT01 (xanomeline TTS in Alzheimer's disease) [1]_:

- :func:`count_teae_by_soc`: subjects and events with a treatment-emergent adverse event
  (ADAE.TRTEMFL = "Y") by system organ class (AEBODSYS) and arm, plus any TEAE (``soc`` =
  ``"ANY"``), in the safety population (ADSL.SAFFL = "Y"), arms named by ADSL.TRT01A: the
  layout of the pilot CSR's Table 14-5.01;
- :func:`compare_soc_fisher`: Fisher's exact test of the proportion of subjects with an event,
  the reference arm (the first one) against each other arm, per SOC, as Table 14-5.01 does
  (placebo vs each xanomeline dose);
- :func:`count_at_risk` and :func:`logrank_by_param`: Kaplan-Meier numbers at risk every 20
  days and the log-rank test for each PARAM of ADTTE (the pilot's time to first dermatologic
  event, PARAMCD TTDE), through :mod:`equitrial.stats.survival`;
- :func:`summarize_demographics`: age (n, mean, SD, median, min, max), age groups, sex and race
  by arm, as the pilot CSR's Table 14-2.01.

:func:`analyze_adam` runs them all and returns a :class:`CdiscAnalysis` (plain JSON-able rows
and :class:`~equitrial.analysis.tables.Table` displays); :mod:`._cdisc_generic_report` renders
the HTML page.

References
----------
.. [1] CDISC SDTM/ADaM Pilot Project, study CDISCPILOT01, clinical study report (tables 14-2.01
   and 14-5.01) and ADaM datasets; the displays were reproduced in R by Atorus Research
   (``atorus-research/CDISC_pilot_replication``) and the R Consortium R Submission Pilot 1
   (``RConsortium/submissions-pilot1``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import fisher_exact

from equitrial.analysis._cdisc_generic_checks import (
    ADAE_VARIABLES,
    ADTTE_VARIABLES,
    arm_order,
    require,
    safety_population,
)
from equitrial.analysis._cdisc_generic_report import render_report
from equitrial.analysis._cdisc_generic_tables import build_tables
from equitrial.analysis.tables import Table
from equitrial.errors import InvalidInputError
from equitrial.stats.survival import KaplanMeier, kaplan_meier, logrank

__all__ = [
    "ANY_SOC",
    "AT_RISK_STEP",
    "CdiscAnalysis",
    "analyze_adam",
    "compare_soc_fisher",
    "count_at_risk",
    "count_teae_by_soc",
    "km_by_param",
    "logrank_by_param",
    "render_html",
    "summarize_demographics",
]

ANY_SOC = "ANY"
"""The ``soc`` of the rows counting any TEAE."""
AT_RISK_STEP = 20
"""Days between two numbers at risk."""

Row = dict[str, Any]


def _arms(adsl: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    safety = safety_population(adsl)
    safety = safety.assign(TRT01A=safety["TRT01A"].astype(str))
    return safety, arm_order(safety)


def count_teae_by_soc(adsl: pd.DataFrame, adae: pd.DataFrame) -> list[Row]:
    """Subjects and events with a TEAE by SOC and arm, safety population.

    Parameters
    ----------
    adsl
        ADSL: USUBJID, SAFFL, TRT01A (TRT01AN orders the arms when present).
    adae
        ADAE: USUBJID, TRTEMFL, AEBODSYS; its records of subjects outside the safety
        population are not counted.

    Returns
    -------
    list of dict
        ``{"soc", "arm", "subjects", "events"}``: first ``soc`` = ``"ANY"`` for every arm, then
        each SOC in alphabetical order for every arm (0 where an arm has none).

    Raises
    ------
    InvalidInputError
        A variable is missing (``field`` = ``"ADAE.TRTEMFL"`` ...), or a TEAE has no AEBODSYS.
    """
    safety, arms = _arms(adsl)
    require(adae, "ADAE", ADAE_VARIABLES)
    teae = adae.loc[adae["TRTEMFL"] == "Y", ["USUBJID", "AEBODSYS"]]
    teae = teae.merge(safety[["USUBJID", "TRT01A"]], on="USUBJID", how="inner")
    soc = teae["AEBODSYS"]
    if soc.isna().any() or (soc.astype(str).str.strip() == "").any():
        raise InvalidInputError("ADAE has a TEAE without AEBODSYS", field="ADAE.AEBODSYS")
    rows: list[Row] = []
    for name, records in [(ANY_SOC, teae)] + [
        (s, teae[teae["AEBODSYS"] == s]) for s in sorted(teae["AEBODSYS"].astype(str).unique())
    ]:
        by_arm = records.groupby("TRT01A")["USUBJID"]
        subjects, events = by_arm.nunique(), by_arm.size()
        for arm in arms:
            rows.append({"soc": name, "arm": arm, "subjects": int(subjects.get(arm, 0)),
                         "events": int(events.get(arm, 0))})  # fmt: skip
    return rows


def compare_soc_fisher(
    teae: list[Row], n_by_arm: dict[str, int], reference: str | None = None
) -> list[Row]:
    """Fisher's exact test (two-sided) of subjects with a TEAE, reference arm vs each other arm.

    Parameters
    ----------
    teae
        Rows of :func:`count_teae_by_soc`.
    n_by_arm
        Subjects per arm in the safety population (the denominators), in display order.
    reference
        The arm every other is compared with; default the first of ``n_by_arm`` (placebo in the
        pilot, whose TRT01AN is 0).

    Returns
    -------
    list of dict
        ``{"soc", "reference", "arm", "pvalue"}`` per SOC (``"ANY"`` first) and compared arm;
        ``pvalue`` is ``None`` where neither arm has a subject with an event (the CSR leaves
        the cell blank).

    Notes
    -----
    The 2 x 2 table is (subjects with / without an event) x (reference, arm); the p-value is
    scipy's ``fisher_exact`` (the sum of the probabilities of the tables no more likely than
    the observed one), as R's ``fisher.test`` and SAS ``PROC FREQ`` report it.
    """
    arms = list(n_by_arm)
    ref = arms[0] if reference is None else reference
    if ref not in n_by_arm:
        raise InvalidInputError(f"no arm named {ref!r}", field="reference", value=ref)
    counts = {(r["soc"], r["arm"]): int(r["subjects"]) for r in teae}
    socs = list(dict.fromkeys(r["soc"] for r in teae))
    rows: list[Row] = []
    for soc in socs:
        a = counts.get((soc, ref), 0)
        for arm in (x for x in arms if x != ref):
            b = counts.get((soc, arm), 0)
            pvalue: float | None = None
            if a + b > 0:
                table = [[a, b], [n_by_arm[ref] - a, n_by_arm[arm] - b]]
                pvalue = float(fisher_exact(table, alternative="two-sided").pvalue)
            rows.append({"soc": soc, "reference": ref, "arm": arm, "pvalue": pvalue})
    return rows


def _tte(adsl: pd.DataFrame, adtte: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    safety, arms = _arms(adsl)
    require(adtte, "ADTTE", ADTTE_VARIABLES)
    tte = adtte[list(ADTTE_VARIABLES)].merge(safety[["USUBJID", "TRT01A"]], on="USUBJID")
    if tte.duplicated(["USUBJID", "PARAM"]).any():
        raise InvalidInputError("ADTTE holds a subject twice for one PARAM", field="ADTTE.PARAM")
    cnsr = pd.to_numeric(tte["CNSR"], errors="coerce")
    bad = tte["AVAL"].isna() | cnsr.isna() | (cnsr < 0) | (cnsr % 1 != 0)
    if bad.any() or tte.empty:
        raise InvalidInputError(
            "ADTTE needs AVAL and a CNSR (0 event, a positive integer censored) for every "
            "subject of the safety population",
            field="ADTTE.AVAL" if tte.empty or tte["AVAL"].isna().any() else "ADTTE.CNSR",
        )
    return tte, arms


def km_by_param(adsl: pd.DataFrame, adtte: pd.DataFrame) -> dict[str, dict[str, KaplanMeier]]:
    """Kaplan-Meier curve of each PARAM of ADTTE by arm (event: CNSR = 0), safety population.

    Returns ``{param: {arm: KaplanMeier}}``, params sorted, arms in display order (an arm
    without a record for the param is left out).
    """
    tte, arms = _tte(adsl, adtte)
    curves: dict[str, dict[str, KaplanMeier]] = {}
    for param in sorted(tte["PARAM"].astype(str).unique()):
        d = tte[tte["PARAM"] == param]
        curves[param] = {
            arm: kaplan_meier(g["AVAL"].to_numpy(float), (g["CNSR"] == 0).to_numpy())
            for arm in arms
            if not (g := d[d["TRT01A"] == arm]).empty
        }
    return curves


def count_at_risk(curves: dict[str, dict[str, KaplanMeier]], step: int = AT_RISK_STEP) -> list[Row]:
    """Numbers at risk every ``step`` days from 0 to the last follow-up of each PARAM.

    Returns
    -------
    list of dict
        ``{"param", "arm", "day", "n_risk"}``, by param, arm, then day: days 0, step, 2 step ...
        up to the longest AVAL of the param (any arm); ``n_risk`` counts the subjects with
        AVAL >= day (R's ``summary(survfit(...), times = days, extend = TRUE)$n.risk``).
    """
    if step <= 0:
        raise InvalidInputError("step must be a positive number of days", field="step")
    rows: list[Row] = []
    for param, by_arm in curves.items():
        last = max(float(km.time[-1]) for km in by_arm.values())
        days = range(0, math.floor(last / step) * step + 1, step)
        for arm, km in by_arm.items():
            first_at_or_after = np.searchsorted(km.time, np.asarray(days, float), side="left")
            for day, i in zip(days, first_at_or_after, strict=True):
                n = int(km.n_risk[i]) if i < km.time.size else 0
                rows.append({"param": param, "arm": arm, "day": day, "n_risk": n})
    return rows


def logrank_by_param(adsl: pd.DataFrame, adtte: pd.DataFrame) -> list[Row]:
    """The log-rank test of equal survival across the arms, for each PARAM of ADTTE.

    Returns ``{"param", "statistic", "df", "pvalue", "observed": {arm: events},
    "expected": {arm: events}}`` per param (R's ``survdiff``).
    """
    tte, _ = _tte(adsl, adtte)
    rows: list[Row] = []
    for param in sorted(tte["PARAM"].astype(str).unique()):
        d = tte[tte["PARAM"] == param]
        if d["TRT01A"].nunique() < 2:
            continue
        res = logrank(d["AVAL"].to_numpy(float), (d["CNSR"] == 0).to_numpy(),
                      d["TRT01A"].to_numpy(str))  # fmt: skip
        groups = [str(g) for g in res.groups]
        rows.append({
            "param": param, "statistic": float(res.statistic), "df": int(res.df),
            "pvalue": float(res.pvalue),
            "observed": {g: float(o) for g, o in zip(groups, res.observed, strict=True)},
            "expected": {g: float(e) for g, e in zip(groups, res.expected, strict=True)},
        })  # fmt: skip
    return rows


def _age_groups(safety: pd.DataFrame) -> tuple[pd.Series, list[str]]:
    if "AGEGR1" in safety.columns and safety["AGEGR1"].notna().all():
        groups = safety["AGEGR1"].astype(str)
    else:  # the pilot's SAP groups: <65, 65-80, >80 years
        age = safety["AGE"].astype(float)
        groups = pd.Series(np.where(age < 65, "<65", np.where(age <= 80, "65-80", ">80")),
                           index=safety.index)  # fmt: skip
    return groups, _ordered(safety, groups, "AGEGR1N")


def _ordered(safety: pd.DataFrame, values: pd.Series, code: str) -> list[str]:
    if code in safety.columns and safety[code].notna().all():
        codes = safety[code].groupby(values).min()
        return sorted(codes.index, key=lambda v: (float(codes[v]), v))
    return sorted(values.unique())


def summarize_demographics(adsl: pd.DataFrame) -> list[Row]:
    """Age, age group, sex and race by arm, safety population (the pilot CSR's Table 14-2.01).

    Returns
    -------
    list of dict
        ``{"variable", "statistic", "arm", "value"}``. ``variable`` ``"Age (y)"`` with
        ``statistic`` n, Mean, SD (n - 1 denominator), Median, Min, Max; then ``"Age group"``
        (ADSL.AGEGR1 in AGEGR1N order, or <65 / 65-80 / >80 derived from AGE), ``"Sex"``
        and ``"Race"`` (RACEN order when present) with the number of subjects in each
        category (0 where an arm has none).
    """
    safety, arms = _arms(adsl)
    age = pd.to_numeric(safety["AGE"], errors="coerce")
    if age.isna().any():
        raise InvalidInputError("ADSL has a subject without a numeric AGE", field="ADSL.AGE")
    groups, group_order = _age_groups(safety)
    categorical = [
        ("Age group", groups, group_order),
        ("Sex", safety["SEX"].astype(str), _ordered(safety, safety["SEX"].astype(str), "")),
        ("Race", safety["RACE"].astype(str),
         _ordered(safety, safety["RACE"].astype(str), "RACEN")),
    ]  # fmt: skip
    rows: list[Row] = []
    for arm in arms:
        a = age[safety["TRT01A"] == arm].to_numpy(float)
        sd = float(np.std(a, ddof=1)) if a.size > 1 else None
        stats = [("n", int(a.size)), ("Mean", float(a.mean())), ("SD", sd),
                 ("Median", float(np.median(a))), ("Min", float(a.min())),
                 ("Max", float(a.max()))]  # fmt: skip
        rows += [{"variable": "Age (y)", "statistic": s, "arm": arm, "value": v} for s, v in stats]
    for variable, values, order in categorical:
        counts = values.groupby([safety["TRT01A"], values]).size()
        for category in order:
            for arm in arms:
                n = int(counts.get((arm, category), 0))
                rows.append({"variable": variable, "statistic": category, "arm": arm, "value": n})
    return rows


@dataclass(frozen=True)
class CdiscAnalysis:
    """Everything :func:`analyze_adam` computes; every attribute is plain JSON-able data.

    Attributes
    ----------
    arms
        The arms (ADSL.TRT01A) in display order; the first is the reference of the Fisher tests.
    n
        Subjects per arm in the safety population.
    teae, fisher, at_risk, logrank, demographics
        The rows of :func:`count_teae_by_soc`, :func:`compare_soc_fisher`,
        :func:`count_at_risk`, :func:`logrank_by_param`, :func:`summarize_demographics`.
    curves
        ``{param: {arm: {"time": [...], "survival": [...]}}}``: the Kaplan-Meier steps.
    """

    arms: tuple[str, ...]
    n: dict[str, int]
    teae: list[Row]
    fisher: list[Row]
    at_risk: list[Row]
    logrank: list[Row]
    demographics: list[Row]
    curves: dict[str, dict[str, dict[str, list[float]]]] = field(default_factory=dict)

    def tables(self) -> tuple[Table, ...]:
        """The displays: demographics, TEAE by SOC with Fisher p-values, numbers at risk."""
        return build_tables(self.arms, self.n, self.teae, self.fisher, self.at_risk,
                            self.demographics)  # fmt: skip

    def as_json(self) -> dict[str, Any]:
        """The results as ``results.json`` keeps them (deterministic order)."""
        return {
            "arms": list(self.arms), "n": dict(self.n), "teae_by_soc": self.teae,
            "fisher": self.fisher, "km_at_risk": self.at_risk, "logrank": self.logrank,
            "demographics": self.demographics,
            "tables": [t.as_json() for t in self.tables()],
        }  # fmt: skip


def analyze_adam(adsl: pd.DataFrame, adae: pd.DataFrame, adtte: pd.DataFrame) -> CdiscAnalysis:
    """Run every analysis of this module on one study's ADSL, ADAE and ADTTE.

    Raises
    ------
    InvalidInputError
        A dataset lacks a variable the analyses need (``field`` names it) or holds values they
        cannot use.
    """
    safety, arms = _arms(adsl)
    n = {arm: int((safety["TRT01A"] == arm).sum()) for arm in arms}
    teae = count_teae_by_soc(adsl, adae)
    curves = km_by_param(adsl, adtte)
    steps = {
        param: {arm: {"time": [0.0, *km.time.tolist()], "survival": [1.0, *km.survival.tolist()]}
                for arm, km in by_arm.items()}
        for param, by_arm in curves.items()
    }  # fmt: skip
    return CdiscAnalysis(
        arms=tuple(arms), n=n, teae=teae, fisher=compare_soc_fisher(teae, n),
        at_risk=count_at_risk(curves), logrank=logrank_by_param(adsl, adtte),
        demographics=summarize_demographics(adsl), curves=steps,
    )  # fmt: skip


def render_html(analysis: CdiscAnalysis, title: str = "Safety and time-to-event analysis") -> str:
    """The self-contained HTML page of ``analysis``: the three displays, a Kaplan-Meier figure
    with its numbers at risk (inline PNG) per ADTTE parameter, the log-rank tests. Every text
    from the data is HTML-escaped."""
    return render_report(title, analysis.tables(), analysis.curves, analysis.at_risk,
                         analysis.logrank)  # fmt: skip
