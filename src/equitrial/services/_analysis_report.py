"""The report of ``equitrial analyze``: the CSR sections assembled from the results and the ADaM
frames, rendered by :mod:`equitrial.report` (HTML, PDF) into the analysis' scratch directory.

Sections (ICH E3 numbering of the tables section): 14.1 populations and demographics (CONSORT
flow), 14.2 efficacy (Kaplan-Meier of PFS and OS with numbers at risk, subgroup forest,
waterfall and spider of the target-lesion sums; the interim decision at an interim), 14.3
safety (and the sequential monitoring rules), 14.4 PK/ADA, 14.5 PRO, 14.6 dosing paradigms and
access, 14.7 published comparisons (constancy check, external comparison forest).

The open report of an interim (``open-report.html``) shows only pooled figures: the
enrolment and disposition of all arms together, the pooled baseline characteristics and the
pooled safety overview; no number in it is by arm.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from equitrial.analysis.tables import Cell, Table
from equitrial.protocol import Protocol
from equitrial.services.analysis import NOT_ESTIMABLE

__all__ = ["write_reports"]


def _png(figure: Any) -> bytes:
    import matplotlib.pyplot as plt

    from equitrial.report._style import figure_png

    try:
        return figure_png(figure)
    finally:
        plt.close(figure)


def _drawable(row: Mapping[str, Any], *, ratio: bool = False) -> bool:
    """A forest row with an estimate and both limits (published figures without an interval
    are in the table, not in the plot), all positive on a ratio's log axis."""
    values = [row.get(k) for k in ("estimate", "lower", "upper")]
    numbers = [float(v) for v in values if isinstance(v, int | float)]
    if len(numbers) < 3 or not all(math.isfinite(v) for v in numbers):
        return False
    return not ratio or min(numbers) > 0


def _names(results: Mapping[str, Any]) -> dict[str, str]:
    names: dict[str, str] = results["populations"]["arms"]
    return names


def _consort_figure(results: Mapping[str, Any]) -> bytes:
    from equitrial.report.consort import ConsortCounts, plot_consort

    c, names = results["consort"], _names(results)
    counts = ConsortCounts(
        screened=c["screened"],
        screen_failures=c["screen_failures"],
        randomized={names[k]: v for k, v in c["randomized"].items()},
        received={names[k]: v for k, v in c["received"].items()},
        discontinued={names[k]: v for k, v in c["discontinued"].items()},
        analysed={names[k]: {p: c["analysed"][p][k] for p in c["analysed"]} for k in names},
    )
    return _png(plot_consort(counts, arm_order=list(names.values())))


def _efficacy_figures(
    results: Mapping[str, Any], frames: Mapping[str, pd.DataFrame], protocol: Protocol
) -> list[tuple[str, bytes]]:
    from equitrial.report.forest import plot_forest
    from equitrial.report.km import km_groups_from_adtte, plot_km
    from equitrial.report.tumour import (
        best_percent_change,
        plot_spider,
        plot_swimmer,
        plot_waterfall,
    )

    order = list(_names(results).values())
    figures = []
    adtte = frames.get("ADTTE")
    for paramcd, what in (("PFS", "Progression-free survival"), ("OS", "Overall survival")):
        if adtte is None or not (adtte["PARAMCD"] == paramcd).any():
            continue
        groups = km_groups_from_adtte(adtte, paramcd)
        figure = plot_km(
            groups,
            ylabel=f"{what} probability",
            title=what,
            arm_order=order,
            at_risk_times=list(range(0, 37, 6)),
        )
        figures.append((f"Kaplan-Meier estimate of {what.lower()}, ITT", _png(figure)))
    rows = [
        {
            "label": f"{g['subgroup']}: {g['level']}",
            "estimate": g["estimate"],
            "lower": g["lower"],
            "upper": g["upper"],
            "n": sum(g["arm_n"].values()),
        }
        for g in results.get("subgroups", [])
        if _drawable(g, ratio=protocol.hypothesis.scale == "ratio")
    ]
    primary = results.get("primary")
    if rows and primary is not None:
        ratio = primary["scale"] == "ratio"
        margin = primary["margin"]
        band = (
            None
            if margin is None or margin["upper"] is None
            else (margin["lower"], margin["upper"])
        )
        figure = plot_forest(
            rows,
            xlabel=f"Objective response rate, {primary['method']}",
            log_scale=ratio,
            reference=1.0 if ratio else 0.0,
            margin=band,
            title="Primary endpoint by subgroup",
        )
        figures.append(("Objective response rate at week 24 by subgroup (ITT)", _png(figure)))
    lanes = swimmer_lanes(frames)
    if lanes:
        figure = plot_swimmer(lanes, arm_order=order, title="Responders: time on treatment")
        figures.append(
            (
                "Time on treatment of the responders (blinded central review) with "
                "response, progression and death",
                _png(figure),
            )
        )
    adtr = frames.get("ADTR")
    if adtr is not None and len(adtr) and "PCHG" in adtr.columns:
        central = adtr[(adtr["PARAMCD"] == "SDIAM") & adtr["PCHG"].notna()]
        if len(central):
            best = best_percent_change(central)
            figures.append(
                (
                    "Best percentage change of the sum of target-lesion diameters "
                    "(blinded central review)",
                    _png(plot_waterfall(best, arm_order=order)),
                )
            )
            figures.append(
                (
                    "Percentage change of the sum of target-lesion diameters over time "
                    "(blinded central review)",
                    _png(plot_spider(central, arm_order=order)),
                )
            )
    return figures


_DAYS_PER_MONTH = 30.4375


def swimmer_lanes(frames: Mapping[str, pd.DataFrame]) -> list[Any]:
    """The responders' lanes (best overall response CR or PR by blinded central review), longest
    time on treatment first: treatment from randomization to its end (or to the last contact
    while ongoing), the first CR/PR, progression (the PFS event when it is one) and death, in
    months."""
    from equitrial.report.tumour import SwimmerLane

    adsl, adrs, adtte = frames.get("ADSL"), frames.get("ADRS"), frames.get("ADTTE")
    if adsl is None or adrs is None or adtte is None or not len(adrs):
        return []
    bor = adrs[(adrs["PARAMCD"] == "BOR") & adrs["AVALC"].isin(["CR", "PR"])]
    visits = adrs[(adrs["PARAMCD"] == "OVR") & adrs["AVALC"].isin(["CR", "PR"])]
    first = visits.groupby("USUBJID")["ADT"].min()
    pfs = adtte[(adtte["PARAMCD"] == "PFS") & (adtte["CNSR"] == 0)].set_index("USUBJID")["AVAL"]
    subjects = adsl.set_index("USUBJID")

    def months(start: Any, end: Any) -> float | None:
        if pd.isna(start) or pd.isna(end):
            return None
        return float((pd.Timestamp(end) - pd.Timestamp(start)).days) / _DAYS_PER_MONTH

    lanes = []
    for subject in sorted(set(bor["USUBJID"])):
        row = subjects.loc[subject]
        ongoing = row.get("EOTSTT") == "ONGOING"
        end = months(row["RANDDT"], row["LSTALVDT"] if ongoing else row["TRTEDT"])
        if end is None:
            continue
        progression = pfs.get(subject)
        died = months(row["RANDDT"], row.get("DTHDT"))
        lanes.append(
            SwimmerLane(
                subject=str(row.get("SUBJID", subject)),
                arm=str(row["TRT01P"]),
                end=end,
                ongoing=bool(ongoing),
                response=months(row["RANDDT"], first.get(subject)),
                progression=None
                if progression is None
                or (died is not None and abs(float(progression) / _DAYS_PER_MONTH - died) < 1e-9)
                else float(progression) / _DAYS_PER_MONTH,
                death=died,
            )
        )
    return sorted(lanes, key=lambda lane: (-lane.end, lane.subject))


def _interim_table(interim: Mapping[str, Any]) -> Table:
    power = interim["conditional_power"]
    rows: list[tuple[Cell, ...]] = [
        ("Look", interim["look"]),
        ("Purpose", interim["purpose"]),
        ("Error spending", interim["spending"]),
        ("Information (patients with the endpoint / planned)", interim["information_rate"]),
        ("Efficacy boundary (z)", interim["critical_value"]),
        ("Futility bound (z)", interim["futility_bound"]),
        ("z, lower one-sided test", interim["z_lower"]),
        ("z, upper one-sided test", interim["z_upper"]),
        ("Decision", interim["decision"]),
        ("Conditional power, design's rates", power["under_design"]),
        ("Conditional power, current trend", power["under_trend"]),
    ]
    return Table(
        "14.2.0",
        "Interim look: group-sequential decision and conditional power",
        ("", "Value"),
        tuple(rows),
        (interim["statement"],),
    )


def _monitoring_table(monitoring: Mapping[str, Any]) -> Table:
    rows: list[tuple[Cell, ...]] = []
    for rule in monitoring["rules"]:
        rows.append(
            (
                rule["label"],
                rule["comparison"]["probability"],
                rule["threshold"],
                "yes" if rule["crossed"] else "no",
                rule["sentence"],
            )
        )
    return Table(
        "14.3.7",
        "Continuous safety monitoring: sequential beta-binomial rules",
        ("Rule", "Posterior probability", "Threshold", "Crossed", "For the DSMB"),
        tuple(rows),
    )


def _sections(
    results: Mapping[str, Any], frames: Mapping[str, pd.DataFrame], protocol: Protocol
) -> list[Any]:
    from equitrial.analysis.dosing import dosing_tables
    from equitrial.analysis.efficacy import efficacy_tables
    from equitrial.analysis.pk_ada import pk_ada_tables
    from equitrial.analysis.populations import populations_tables
    from equitrial.analysis.pro import pro_tables
    from equitrial.analysis.published import published_tables
    from equitrial.analysis.safety import safety_tables
    from equitrial.report.forest import plot_forest
    from equitrial.report.html import Section

    ok = {k: v for k, v in results.items() if not _missing(v)}
    notes = {k: v[NOT_ESTIMABLE] for k, v in results.items() if _missing(v)}
    efficacy = efficacy_tables(ok)
    if "interim" in results:
        efficacy = [_interim_table(results["interim"]), *efficacy]
    published_figures = []
    external = ok.get("external_comparison", {}).get("orr", [])
    if any(_drawable(r) for r in external):
        figure = plot_forest(
            [r for r in external if _drawable(r)],
            xlabel="Objective response rate (%)",
            title="Both arms against published cohorts",
        )
        published_figures.append(
            (
                "Objective response rate: this trial and published "
                "North-American and European cohorts",
                _png(figure),
            )
        )
    published = {"constancy": ok.get("constancy"), "external": ok.get("external_comparison")}
    first = (
        populations_tables(ok["populations"], ok["demographics"])
        if {"populations", "demographics"} <= ok.keys()
        else []
    )
    consort = (
        [("CONSORT flow diagram", _consort_figure(ok))]
        if {"consort", "populations"} <= ok.keys()
        else []
    )
    safety = safety_tables(ok["safety"]) if "safety" in ok else []
    if "monitoring" in ok:
        safety.append(_monitoring_table(ok["monitoring"]))
    parts = [
        (
            "14.1",
            "Populations and demographics",
            first,
            consort,
            ("populations", "demographics", "consort"),
        ),
        (
            "14.2",
            "Efficacy",
            efficacy,
            _efficacy_figures(ok, frames, protocol),
            ("primary", "sensitivity", "secondary", "subgroups"),
        ),
        ("14.3", "Safety", safety, [], ("safety", "monitoring")),
        (
            "14.4",
            "Pharmacokinetics and immunogenicity",
            pk_ada_tables(ok["pk_ada"]) if "pk_ada" in ok else [],
            [],
            ("pk_ada",),
        ),
        (
            "14.5",
            "Patient-reported outcomes",
            pro_tables(ok["pro"]) if "pro" in ok else [],
            [],
            ("pro",),
        ),
        (
            "14.6",
            "Dosing paradigms and access",
            dosing_tables(ok["dosing"]) if "dosing" in ok else [],
            [],
            ("dosing",),
        ),
        (
            "14.7",
            "Published comparisons",
            published_tables(published) if None not in published.values() else [],
            published_figures,
            ("constancy", "external_comparison"),
        ),
    ]
    sections = []
    for number, title, tables, figures, keys in parts:
        missing = [(k, notes[k]) for k in keys if k in notes]
        if missing:
            rows = tuple((k, why) for k, why in missing)
            tables = [
                *tables,
                Table(
                    f"{number}.99",
                    "Analyses not estimable at this data cut",
                    ("Analysis", "Why"),
                    rows,
                ),
            ]
        sections.append(Section(number, title, tables, figures))
    return sections


def _missing(value: Any) -> bool:
    return isinstance(value, Mapping) and NOT_ESTIMABLE in value


def _reproducibility(results: Mapping[str, Any]) -> dict[str, str]:
    r = results["reproducibility"]
    head = r["audit_chain_head"]
    return {
        "Data cut": r["data_cut"] or "every record in the store",
        "Data content hash": r["content_hash"],
        "Audit chain (last data row)": "none"
        if head is None
        else f"row {head['row']}, {head['hash']}",
        "Protocol version": str(r["protocol_version"]),
        "Software version": f"equitrial {r['software_version']}",
    }


def _open_sections(results: Mapping[str, Any]) -> list[Any]:
    """The open (pooled) report: no number by arm."""
    from equitrial.report.html import Section

    if any(_missing(results.get(k)) for k in ("populations", "consort", "demographics", "safety")):
        return [
            Section(
                "14.1",
                "Enrolment and disposition (pooled)",
                [
                    Table(
                        "14.1.1",
                        "Pooled figures not estimable at this data cut",
                        ("",),
                        (("too few subjects",),),
                    )
                ],
            )
        ]
    pops, c = results["populations"], results["consort"]
    total = sum(pops["randomized"].values())
    rows: list[tuple[Cell, ...]] = [("Screened", c["screened"]), ("Randomized", total)]
    rows += [(f"Screen failure: {k}", v) for k, v in c["screen_failures"].items()]
    for p in pops["populations"]:
        rows.append((p["name"], sum(a["n"] for a in p["arms"].values())))
    for reason, arms in pops["treatment"]["reasons"].items():
        rows.append((f"Treatment discontinued: {reason.lower()}", sum(arms.values())))
    age = results["demographics"]["age"]["total"]
    demo: list[tuple[Cell, ...]] = [
        (f"Age (years): {k}", age[k]) for k in ("n", "mean", "sd", "median", "min", "max")
    ]
    for category in results["demographics"]["categories"]:
        for level in category["levels"]:
            demo.append((f"{category['name']}: {level['level']}", level["counts"]["total"]["n"]))
    safety = [
        (r["label"], sum(a["n"] for a in r["arms"].values())) for r in results["safety"]["overview"]
    ]
    note = ("Open report: every figure pools the arms; the closed report is for the DSMB only.",)
    return [
        Section(
            "14.1",
            "Enrolment and disposition (pooled)",
            [
                Table(
                    "14.1.1",
                    "Enrolment, populations and disposition, all arms",
                    ("", "Subjects"),
                    tuple(rows),
                    note,
                ),
                Table(
                    "14.1.2",
                    "Baseline characteristics, all arms",
                    ("", "All subjects"),
                    tuple(demo),
                    note,
                ),
            ],
        ),
        Section(
            "14.3",
            "Safety (pooled)",
            [
                Table(
                    "14.3.1",
                    "Adverse events overview, all arms",
                    ("", "Subjects"),
                    tuple(safety),
                    note,
                )
            ],
        ),
    ]


def write_reports(
    scratch: Path,
    results: Mapping[str, Any],
    frames: Mapping[str, pd.DataFrame],
    protocol: Protocol,
    *,
    interim: bool,
    pdf: bool,
) -> list[Table]:
    """Write ``report.html`` (and ``report.pdf``; ``open-report.html`` at an interim) into
    ``scratch``; return every table of the report, in order."""
    from equitrial.report.html import ReportContent, render_html
    from equitrial.report.pdf import render_pdf

    study = results["study"]
    kind = (
        "Interim analysis (closed report, unblinded: DSMB only)" if interim else ("Final analysis")
    )
    sections = _sections(results, frames, protocol)
    box = _reproducibility(results)
    content = ReportContent(f"{study['code']}: {study['title']}", kind, box, sections)
    html = render_html(content)
    (scratch / "report.html").write_text(html, encoding="utf-8")
    if pdf:
        render_pdf(html, scratch / "report.pdf")
    if interim:  # the data's hash covers the allocation: it could be searched for the arms
        box = {k: v for k, v in box.items() if k != "Data content hash"}
        box["Data content hash"] = "in the closed report (it covers the allocation)"
        opened = ReportContent(
            f"{study['code']}: {study['title']}",
            "Interim analysis (open report: pooled)",
            box,
            _open_sections(results),
        )
        (scratch / "open-report.html").write_text(render_html(opened), encoding="utf-8")
    return [t for s in sections for t in s.tables]
