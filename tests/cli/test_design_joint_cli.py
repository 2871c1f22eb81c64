"""``equitrial design`` with the joint group-sequential design, as a user runs it."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "melanoma-pembrolizumab"
THREE = EXAMPLES / "protocol-three-interims.toml"
FLAGSHIP = EXAMPLES / "protocol.toml"
NON_FINITE = re.compile(r"\b(inf|-inf|nan|Infinity|-Infinity|NaN)\b", re.IGNORECASE)


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "equitrial", *args], capture_output=True, text=True, cwd=cwd
    )


def test_three_interims_json_contract_and_report_files(tmp_path: Path) -> None:
    out_dir = tmp_path / "out"
    out = run("design", str(THREE), "--json", "--out", str(out_dir), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    seq = doc["sequential"]
    for key in ("information_rates", "critical_values", "cumulative_alpha_spent"):
        assert len(seq[key]) == 4, key  # three interims and the final
    assert seq["information_rates"] == [0.25, 0.5, 0.75, 1.0]
    assert abs(seq["cumulative_alpha_spent"][-1] - 0.05) < 1e-12
    assert 1.0 < seq["inflation_factor"] < 1.1
    # rpact's getDesignGroupSequential (design_joint.json), printed decimals
    assert [round(c, 4) for c in seq["critical_values"]] == [3.7496, 2.5399, 2.0161, 1.7202]
    assert not NON_FINITE.search(out.stdout)
    grid = doc["hypotheses"][0]["sensitivity_reference_rate"]
    assert grid["reference_rate"] == [0.25, 0.3, 0.35, 0.4, 0.45]
    assert all(0.0 <= p <= 1.0 for p in grid["exact_power_at_planned"])
    assert doc["hypotheses"][0]["power_curve"]["reference_rate_held_fixed"] == 0.33
    assert seq["inflated_evaluable_per_arm"] == [376, 376]  # 365 x 1.0289, rounded up
    written = (out_dir / "design.json").read_text()
    assert not NON_FINITE.search(written)
    assert json.loads(written)["sequential"] == seq
    html = (out_dir / "design.html").read_text()
    assert html.startswith("<!DOCTYPE html>") and html.rstrip().endswith("</html>")
    assert '<table id="boundaries">' in html and '<table id="sensitivity-orr-w24">' in html
    assert (out_dir / "EQT-PEM-301-orr-w24-sensitivity.png").read_bytes()[:4] == b"\x89PNG"
    assert "3.7496" in html and "data:image/png;base64," in html


def test_flagship_month_six_look_counts_from_the_first_patient(tmp_path: Path) -> None:
    out = run("design", str(FLAGSHIP), "--json", "--out", str(tmp_path), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    (interim,) = doc["interim_analyses"]
    assert interim["formal"] is False
    assert round(interim["expected_enrolled"], 1) == 90.4
    assert round(interim["expected_evaluable"], 1) == 2.7
    assert doc["sequential"]["critical_values"] == [doc["sequential"]["critical_values"][0]]
    assert doc["sequential"]["inflation_factor"] == 1.0
    assert any("90.4 patients enrolled" in w and "2.7" in w for w in doc["warnings"])


def test_spending_functions_that_disagree_are_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    text = THREE.read_text()
    marker = 'name = "half"\ninformation_fraction = 0.5\npurpose = "efficacy"\n'
    assert marker in text
    bad.write_text(
        text.replace(marker + 'spending = "obrien-fleming"', marker + 'spending = "pocock"')
    )
    out = run("design", str(bad), "--json", "--out", str(tmp_path / "o"), cwd=tmp_path)
    assert out.returncode == 2
    assert "interim_analyses.1.spending" in out.stderr
    assert "pocock" in out.stderr
    assert "Traceback" not in out.stderr
    assert out.stdout == ""


def test_an_interim_where_spending_spends_nothing_is_null_with_a_note(tmp_path: Path) -> None:
    early = tmp_path / "early.toml"
    early.write_text(
        THREE.read_text().replace("information_fraction = 0.25", "information_fraction = 0.002")
    )
    out = run("design", str(early), "--json", "--out", str(tmp_path / "o"), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert not NON_FINITE.search(out.stdout)
    seq = json.loads(out.stdout)["sequential"]
    assert seq["critical_values"][0] is None
    assert "infinite" in seq["critical_values_note"]
    warnings = json.loads(out.stdout)["warnings"]
    assert any("first quarter" in w and "infinite" in w for w in warnings)
