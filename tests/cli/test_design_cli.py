"""``equitrial design`` and ``equitrial simulate`` as a user runs them (subprocesses)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "melanoma-pembrolizumab" / "protocol.toml"


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "equitrial", *args], capture_output=True, text=True, cwd=cwd
    )


def test_design_json_reports_the_published_exact_power(tmp_path: Path) -> None:
    out = run("design", str(EXAMPLE), "--json", "--out", str(tmp_path / "fig"), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)  # stdout is one JSON document and nothing else
    primary = doc["hypotheses"][0]
    assert primary["endpoint"] == "orr-w24"
    assert primary["planned_per_arm"] == {"test": 150, "reference": 150}
    # statistics.md (exact enumeration, MN, 150/arm, ORR 0.33 both arms, RR 0.73-1.36, 90 % CI):
    # 0.192, printed to 3 decimals.
    assert round(primary["exact_power_at_planned"], 3) == 0.192
    # statistics.md: "80 % power ... needs about 367 per arm (normal approximation)"
    assert abs(primary["normal_approximation"]["evaluable_per_arm"][0] - 367) <= 1
    assert primary["exact"]["power"] >= 0.8
    assert any("0.192" in w for w in doc["warnings"])
    for fig in doc["figures"]:
        assert Path(fig).read_bytes()[:4] == b"\x89PNG"


def test_design_prints_tables_and_writes_figures(tmp_path: Path) -> None:
    out = run("design", str(EXAMPLE), "--out", str(tmp_path), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "exact search" in out.stdout
    assert "warning:" in out.stdout
    assert len(list(tmp_path.glob("*-power-curve.png"))) == 2


def test_bad_protocol_is_a_clear_error_and_nothing_is_written(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(EXAMPLE.read_text().replace("level = 0.90", "level = 1.5", 1))
    out = run("design", str(bad), "--out", str(tmp_path / "fig"), cwd=tmp_path)
    assert out.returncode == 2
    assert "hypothesis.level" in out.stderr
    assert "1.5" in out.stderr
    assert not (tmp_path / "fig").exists()


def test_missing_protocol_file_is_a_clear_error(tmp_path: Path) -> None:
    out = run("design", str(tmp_path / "nope.toml"), cwd=tmp_path)
    assert out.returncode == 2
    assert "nope.toml" in out.stderr


def test_simulate_json_is_one_document_and_reproducible(tmp_path: Path) -> None:
    args = ("simulate", str(EXAMPLE), "--replicates", "300", "--seed", "7", "--json")
    first, second = run(*args, cwd=tmp_path), run(*args, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    a, b = json.loads(first.stdout), json.loads(second.stdout)
    assert a["power"] == b["power"]
    assert a["replicates"] == 300
    assert set(a["type_i_error"]) == {"null_lower", "null_upper"}


@pytest.mark.slow
def test_simulate_two_dask_workers_give_the_numbers_of_one(tmp_path: Path) -> None:
    base = ("simulate", str(EXAMPLE), "--replicates", "3000", "--seed", "11", "--json")
    one = json.loads(run(*base, cwd=tmp_path).stdout)
    two = run(*base, "--workers", "2", cwd=tmp_path)
    assert two.returncode == 0, two.stderr
    two_doc = json.loads(two.stdout)
    for key in ("power", "type_i_error", "scenarios"):
        assert one[key] == two_doc[key]


def test_simulate_json_concludes_by_look_one_value_per_formal_look(tmp_path: Path) -> None:
    three = EXAMPLE.parent / "protocol-three-interims.toml"
    design = json.loads(run("design", str(three), "--json", cwd=tmp_path).stdout)
    out = run("simulate", str(three), "--replicates", "400", "--seed", "3", "--json", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    n_looks = len(design["sequential"]["information_rates"])
    assert n_looks == 4 and doc["formal_looks"][-1] == "final"
    for s in doc["scenarios"]:
        by_look = s["conclude_by_look"]
        assert len(by_look) == n_looks and all(isinstance(p, float) for p in by_look)
        assert sum(by_look) == pytest.approx(s["conclusion"]["estimate"], abs=1e-12)
        assert [look["name"] for look in s["looks"]] == doc["formal_looks"][:-1]
    strings: list[str] = []

    def walk(value: object) -> None:
        if isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)
        elif isinstance(value, str):
            strings.append(value)

    walk(doc)
    assert not {"inf", "-inf", "nan"} & set(strings)
