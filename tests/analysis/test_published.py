"""analysis.published: the published figures load as written, with their citations; the
constancy check and external comparison against R (binom.test, survfit). Tolerance 1e-6."""

from __future__ import annotations

import json

import pytest
from pkpro_support import REFERENCE, build, protocol

from equitrial.analysis.published import (
    constancy,
    external_comparison,
    load_published,
    published_tables,
)

R = REFERENCE
TOL = 1e-6

# Figures as printed in their sources (see src/equitrial/analysis/data/README.md):
# Schachter et al., Lancet 2017 (KEYNOTE-006 final analysis): ORR 37% (31-43), n = 279;
# Ribas et al., Lancet Oncol 2015;16:908, Table 2 (KEYNOTE-002): ORR 25% (19-32), n = 181;
# Cowey et al., J Immunother 2018: median PFS 4.2 months (2.9-5.3), n = 168;
# Mohr et al., Cancers 2022;14:1804: median rwPFS 3.9 months (3.5-4.9), n = 664.
AS_WRITTEN = {
    "kn006-final-orr-q2w": (37, 31, 43, 279, "Lancet 2017"),
    "kn002-orr-10mgkg": (25, 19, 32, 181, "Lancet Oncol 2015"),
    "rw-us-cowey2018-pfs-median": (4.2, 2.9, 5.3, 168, "J Immunother 2018"),
    "rw-de-mohr2022-pfs-median": (3.9, 3.5, 4.9, 664, "Cancers 2022"),
    "kn006-2015-pfs6-q3w": (46.4, None, None, 277, "N Engl J Med 2015;372:2521"),
}


def test_published_figures_load_as_written_with_citations() -> None:
    data = load_published()
    figures = {f["id"]: f for f in data["figures"]}
    for fid, (est, lo, hi, n, cite) in AS_WRITTEN.items():
        f = figures[fid]
        assert (f["estimate"], f["lower"], f["upper"], f["n"]) == (est, lo, hi, n)
        assert cite in data["sources"][f["source"]]["citation"]
    for f in data["figures"]:
        assert f["source"] in data["sources"] and f["location"] and f["population"]
        assert f["n"] > 0 and f["unit"] in ("percent", "months")
    regions = {f["region"] for f in data["figures"] if f["setting"] == "real-world"}
    assert any("North America" in r for r in regions) and any("Europe" in r for r in regions)
    assert "Lancet Oncol 2019;20:1239" in data["sources"]["robert2019"]["citation"]


def test_constancy_reference_arm_matches_r() -> None:
    res = constancy(build(), protocol())
    est = res["estimates"]
    assert res["arm"] == "REF"
    ref = R["pfs_ref"]
    assert est["pfs_median"]["estimate"] == pytest.approx(ref["median"], rel=TOL)
    assert est["pfs_median"]["lower"] == pytest.approx(ref["lower"], rel=TOL)
    assert est["pfs_median"]["upper"] is None and ref["upper"] is None
    assert est["pfs_rate_6m"]["estimate"] == pytest.approx(ref["rate6"], rel=TOL)
    assert est["pfs_rate_6m"]["lower"] == pytest.approx(ref["rate6_lower"], rel=TOL)
    assert est["pfs_rate_6m"]["upper"] == pytest.approx(ref["rate6_upper"], rel=TOL)
    trae = R["trae_ref"]
    assert est["grade3_trae"]["estimate"] == pytest.approx(100 * trae["estimate"], rel=TOL)
    assert est["grade3_trae"]["lower"] == pytest.approx(100 * trae["lower"], rel=TOL)
    assert est["grade3_trae"]["upper"] == pytest.approx(100 * trae["upper"], rel=TOL)


def test_constancy_overlap_statements() -> None:
    rows = {r["id"]: r for r in constancy(build(), protocol())["comparisons"]}
    assert "kn002-orr-10mgkg" not in rows  # ipilimumab-refractory: external comparison only
    orr = rows["kn006-final-orr-q2w"]
    ours = orr["ours"]  # REF: 4 responders of 10, exact 95% CI about 12.2% to 73.8%
    expected = ours["lower"] <= 43 and 31 <= ours["upper"]
    assert orr["overlap"] is expected and orr["statement"] == "intervals overlap"
    trae = rows["pooled-kn001-002-006-trae34"]  # 17.7%, no published interval
    assert trae["overlap"] is (ours_in := trae["ours"]["lower"] <= 17.7 <= trae["ours"]["upper"])
    assert ours_in and trae["statement"] == "published estimate inside our interval"


def test_external_comparison_rows() -> None:
    ext = external_comparison(build(), protocol())
    assert [r["source"] for r in ext["orr"][:2]] == ["this trial", "this trial"]
    d = R["data"]
    bio = sum(r for r, a in zip(d["resp"], d["arm"], strict=True) if a == "BIO")  # 4 of 10
    assert ext["orr"][0]["n"] == 10 and ext["orr"][0]["estimate"] == pytest.approx(10.0 * bio)
    labels = [r["region"] for r in ext["pfs_median"]]
    assert "North America (United States)" in labels and "Europe (Germany)" in labels
    a = json.dumps({"constancy": constancy(build(), protocol()), "external": ext}, sort_keys=True)
    assert "NaN" not in a
    assert [t.number for t in published_tables(json.loads(a))] == ["14.7.1", "14.7.2"]
