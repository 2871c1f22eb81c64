"""The analysis figures draw what equitrial.stats computes and what a hand count gives."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from PIL import Image

from equitrial.errors import InvalidInputError
from equitrial.report.figures import (
    ConsortCounts,
    SwimmerLane,
    best_percent_change,
    figure_png,
    km_groups_from_adtte,
    numbers_at_risk,
    plot_consort,
    plot_forest,
    plot_km,
    plot_spider,
    plot_swimmer,
    plot_waterfall,
)
from equitrial.stats.survival import kaplan_meier

# Arm A by hand (Kaplan & Meier 1958 product limit): times 1, 2, 2+, 3, 4+
#   t=1: 5 at risk, 1 event -> 4/5 = 0.8; t=2: 4 at risk, 1 event -> 0.8 * 3/4 = 0.6;
#   t=3: 2 at risk, 1 event -> 0.6 * 1/2 = 0.3; t=4: 1 at risk, censored -> 0.3
A_TIME, A_EVENT = [1.0, 2.0, 2.0, 3.0, 4.0], [1, 1, 0, 1, 0]
A_STEPS = [1.0, 0.8, 0.6, 0.3, 0.3]
B_TIME, B_EVENT = [0.5, 1.5, 2.5, 6.0], [0, 1, 1, 0]


def _line(fig: Figure, gid: str) -> tuple[np.ndarray, np.ndarray]:
    (line,) = [ln for ln in fig.axes[0].lines if ln.get_gid() == gid]
    return np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float)


def _decoded(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    image.load()
    return image


def test_km_steps_are_the_estimator_s_and_the_hand_computed_values() -> None:
    fig = plot_km({"A": (A_TIME, A_EVENT), "B": (B_TIME, B_EVENT)}, at_risk_times=[0, 1, 2, 3])
    x, y = _line(fig, "km:A")
    km = kaplan_meier(A_TIME, A_EVENT)
    np.testing.assert_allclose(x, [0.0, *km.time], rtol=0, atol=0)
    np.testing.assert_allclose(y, [1.0, *km.survival], rtol=0, atol=0)
    np.testing.assert_allclose(y, A_STEPS, rtol=1e-12)
    assert fig.axes[0].lines[0].get_drawstyle() == "steps-post"
    # censoring ticks at the censored times (2 and 4), on the curve
    cx, cy = _line(fig, "censor:A")
    np.testing.assert_allclose(cx, [2.0, 4.0])
    np.testing.assert_allclose(cy, [0.6, 0.3], rtol=1e-12)


def test_numbers_at_risk_match_a_hand_count() -> None:
    # at risk at t = follow-up >= t; A: 5 5 4 2 1 0 at t = 0 1 2 3 4 5; B: 4 3 2 2 1 1 0
    km_a, km_b = kaplan_meier(A_TIME, A_EVENT), kaplan_meier(B_TIME, B_EVENT)
    assert numbers_at_risk(km_a, [0, 1, 2, 3, 4, 5]) == [5, 5, 4, 2, 1, 0]
    assert numbers_at_risk(km_b, [0, 1, 2, 2.5, 3, 6, 7]) == [4, 3, 2, 2, 1, 1, 0]
    fig = plot_km({"A": (A_TIME, A_EVENT), "B": (B_TIME, B_EVENT)}, at_risk_times=[0, 2, 4])
    shown = {
        name: [t.get_text() for t in fig.axes[1].texts if t.get_gid() == f"risk:{name}"]
        for name in ("A", "B")
    }
    assert shown == {"A": ["5", "4", "1"], "B": ["4", "2", "1"]}


def test_km_png_decodes_at_its_size_and_is_reproducible() -> None:
    fig = plot_km({"A": (A_TIME, A_EVENT), "B": (B_TIME, B_EVENT)}, title="PFS")
    png = figure_png(fig)
    assert _decoded(png).size == (1050, round((4.9 + 0.45 * 2) * 150))  # 150 dpi
    again = plot_km({"A": (A_TIME, A_EVENT), "B": (B_TIME, B_EVENT)}, title="PFS")
    assert figure_png(again) == png


def test_km_groups_from_adtte_select_parameter_population_and_events() -> None:
    adtte = pd.DataFrame(
        {
            "PARAMCD": ["PFS", "PFS", "PFS", "OS", "PFS"],
            "TRTP": ["A", "B", "A", "A", "B"],
            "ITTFL": ["Y", "Y", "Y", "Y", "N"],
            "AVAL": [30.0, 60.0, 90.0, 10.0, 5.0],
            "CNSR": [0, 1, 0, 0, 0],
        }
    )
    groups = km_groups_from_adtte(adtte, "PFS", time_divisor=1.0)
    assert list(groups) == ["A", "B"]
    np.testing.assert_array_equal(groups["A"][0], [30.0, 90.0])
    np.testing.assert_array_equal(groups["A"][1], [1, 1])
    np.testing.assert_array_equal(groups["B"][1], [0])
    with pytest.raises(InvalidInputError) as err:
        km_groups_from_adtte(adtte.drop(columns="CNSR"), "PFS")
    assert err.value.field == "CNSR"


def test_km_bad_times_name_the_arm() -> None:
    with pytest.raises(InvalidInputError, match="arm 'B'"):
        plot_km({"A": (A_TIME, A_EVENT), "B": ([1.0, -2.0], [1, 0])})


ROWS = [
    {"label": "ITT", "estimate": 0.97, "lower": 0.82, "upper": 1.15, "n": 300},
    {"label": "PP", "estimate": 0.95, "lower": 0.79, "upper": 1.14, "n": 281},
]


def test_forest_draws_each_row_top_down_with_its_interval() -> None:
    fig = plot_forest(ROWS, xlabel="Risk ratio", log_scale=True, margin=(0.8, 1.25))
    ax = fig.axes[0]
    assert ax.get_xscale() == "log"
    segments = [ln for ln in ax.lines if str(ln.get_gid()).startswith("ci:")]
    drawn = sorted((float(ln.get_ydata()[0]), *map(float, ln.get_xdata())) for ln in segments)
    assert drawn == [(0.0, 0.79, 1.14), (1.0, 0.82, 1.15)]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["PP", "ITT"]
    assert _decoded(figure_png(fig)).size[0] == round(7.5 * 150)


@pytest.mark.parametrize(
    ("rows", "log", "field"),
    [
        ([], False, "rows"),
        ([{"label": "x", "estimate": 1.0, "lower": 0.5}], False, "rows[0].upper"),
        ([{"label": "x", "estimate": 1.0, "lower": 1.2, "upper": 2.0}], False, "rows[0]"),
        ([{"label": "x", "estimate": 0.1, "lower": -0.1, "upper": 0.2}], True, "rows[0].lower"),
        ([{"label": "x", "estimate": "a", "lower": 0, "upper": 1}], False, "rows[0].estimate"),
    ],
)
def test_forest_bad_rows_name_the_field(rows: list, log: bool, field: str) -> None:
    with pytest.raises(InvalidInputError) as err:
        plot_forest(rows, xlabel="x", log_scale=log)
    assert err.value.field == field


ADTR = pd.DataFrame(
    {
        "USUBJID": ["S1", "S1", "S2", "S2", "S3", "S4"],
        "TRTP": ["A", "A", "B", "B", "A", "B"],
        "ADY": [43, 85, 43, 85, 43, 43],
        "PCHG": [-10.0, -40.0, 15.0, 30.0, None, 0.0],
    }
)


def test_best_percent_change_is_the_lowest_post_baseline_change() -> None:
    best = best_percent_change(ADTR)
    # S1 min(-10, -40) = -40; S2 min(15, 30) = 15; S3 has no PCHG; S4 0; largest first
    assert best.to_dict("list") == {
        "USUBJID": ["S2", "S4", "S1"],
        "TRTP": ["B", "B", "A"],
        "BESTPCHG": [15.0, 0.0, -40.0],
    }
    fig = plot_waterfall(best)
    heights = [p.get_height() for p in fig.axes[0].patches]
    assert heights == [15.0, 0.0, -40.0]
    lines = sorted(float(ln.get_ydata()[0]) for ln in fig.axes[0].lines)
    assert lines == [-30.0, 0.0, 20.0]
    colours = {p.get_facecolor() for p in fig.axes[0].patches[:2]}
    assert len(colours) == 1 and fig.axes[0].patches[2].get_facecolor() not in colours


def test_spider_starts_each_subject_at_baseline() -> None:
    fig = plot_spider(ADTR, days_per_unit=1.0)
    subject_lines = [ln for ln in fig.axes[0].lines if ln.get_marker() == "."]
    assert len(subject_lines) == 3  # S3 has no change
    first = subject_lines[0]
    np.testing.assert_array_equal(first.get_xdata(), [0, 43, 85])
    np.testing.assert_array_equal(first.get_ydata(), [0, -10, -40])


def test_swimmer_draws_one_bar_per_subject_and_its_events() -> None:
    lanes = [
        SwimmerLane("S1", "A", end=6.0, response=2.0, progression=5.0),
        SwimmerLane("S2", "B", end=3.0, ongoing=True, death=4.0),
    ]
    fig = plot_swimmer(lanes)
    ax = fig.axes[0]
    assert [p.get_width() for p in ax.patches if p.get_height() == 0.7] == [6.0, 3.0]
    offsets = sorted(tuple(map(float, c.get_offsets()[0])) for c in ax.collections)
    assert offsets == [(2.0, 1.0), (4.0, 0.0), (5.0, 1.0)]
    with pytest.raises(InvalidInputError):
        plot_swimmer([])


def _counts(**change: object) -> ConsortCounts:
    base: dict = {
        "screened": 100,
        "screen_failures": {"Not eligible": 15, "Declined": 5},
        "randomized": {"Bio": 40, "Ref": 39},
        "received": {"Bio": 40, "Ref": 38},
        "discontinued": {"Bio": {"Progression": 10}, "Ref": {"Progression": 9, "AE": 2}},
        "analysed": {"Bio": {"ITT": 40, "Safety": 40}, "Ref": {"ITT": 39, "Safety": 38}},
    }
    base.update(change)
    return ConsortCounts(**base)


def test_consort_shows_every_count() -> None:
    fig = plot_consort(_counts(), title="CONSORT")
    text = "\n".join(t.get_text() for t in fig.axes[0].texts)
    for expected in (
        "Assessed for eligibility (n = 100)",
        "Excluded (n = 20)",
        "Not eligible (n = 15)",
        "Randomized (n = 79)",
        "Allocated to Bio\n  (n = 40)",
        "Received allocated treatment (n = 38)",
        "Discontinued treatment (n = 11)",
        "AE (n = 2)",
        "Safety (n = 38)",
    ):
        assert expected in text
    assert _decoded(figure_png(fig)).size[0] == round(8.5 * 150)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"screened": -1}, "screened"),
        ({"received": {"Bio": 41}}, "received['Bio']"),
        ({"screened": 50}, "screened"),
        ({"analysed": {"Bio": {"ITT": 1.5}}}, "analysed['Bio']['ITT']"),
        ({"randomized": {}, "received": {}}, "randomized"),
    ],
)
def test_consort_refuses_inconsistent_counts(change: dict, field: str) -> None:
    with pytest.raises(InvalidInputError) as err:
        _counts(**change)
    assert err.value.field == field
