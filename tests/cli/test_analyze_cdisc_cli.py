"""``equitrial analyze-cdisc FOLDER --out DIR`` on the CDISC Pilot 01 ADaM files.

The contract (fixed, checked outside the suite too): four files with these columns. The command
is tested as ``equitrial.cli.__init__`` registers it (an :class:`~equitrial.cli._common.App` with
``app.command("analyze-cdisc")(analyze_cdisc.command)``), through Typer's runner, and as a user
runs it (a subprocess) once it is registered. The values themselves are checked against the
published displays and R in ``tests/analysis/test_cdisc_generic_pilot.py``.
"""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from equitrial.cli import analyze_cdisc as module
from equitrial.cli._common import App

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "cdiscpilot01"
COLUMNS = {
    "teae_by_soc.csv": ["soc", "arm", "subjects", "events"],
    "km_at_risk.csv": ["param", "arm", "day", "n_risk"],
    "demographics.csv": ["variable", "statistic", "arm", "value"],
}
ARMS = {"Placebo", "Xanomeline Low Dose", "Xanomeline High Dose"}


def _app() -> App:
    app = App(name="equitrial", no_args_is_help=True)

    @app.callback()
    def _root() -> None:
        """Root."""

    app.command("analyze-cdisc")(module.command)
    return app


def _pilot(tmp_path: Path, *names: str) -> Path:
    folder = tmp_path / "adam"
    folder.mkdir()
    for name in names:
        shutil.copy(DATA / name, folder / name)
    return folder


def _rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        return list(reader.fieldnames or []), list(reader)


def test_writes_the_four_files_with_the_contract_columns(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(_app(), ["analyze-cdisc", str(DATA), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == sorted([*COLUMNS, "report.html"])
    for name, columns in COLUMNS.items():
        header, rows = _rows(out / name)
        assert header == columns, name
        assert rows and {r["arm"] for r in rows} == ARMS, name
    _, teae = _rows(out / "teae_by_soc.csv")
    # Table 14-5.01 (Atorus replication, see the analysis test): any TEAE 65 / 77 / 76 subjects
    assert {r["arm"]: int(r["subjects"]) for r in teae if r["soc"] == "ANY"} == {
        "Placebo": 65, "Xanomeline Low Dose": 77, "Xanomeline High Dose": 76}  # fmt: skip
    _, km = _rows(out / "km_at_risk.csv")
    assert {r["param"] for r in km} == {"Time to First Dermatologic Event"}
    assert sorted({int(r["day"]) for r in km}) == list(range(0, 181, 20))  # last AVAL is 198
    page = (out / "report.html").read_text("utf-8")
    assert page.startswith("<!DOCTYPE html>") and "data:image/png;base64," in page
    assert "Fisher" in page and "log-rank" in page


@pytest.mark.parametrize("missing", ["adsl.xpt", "adae.xpt", "adtte.xpt"])
def test_missing_file_is_named_exit_2_no_traceback(tmp_path: Path, missing: str) -> None:
    present = [n for n in ("adsl.xpt", "adae.xpt", "adtte.xpt") if n != missing]
    folder = _pilot(tmp_path, *present)
    out = tmp_path / "out"
    result = CliRunner().invoke(_app(), ["analyze-cdisc", str(folder), "--out", str(out)])
    assert result.exit_code == 2
    assert isinstance(result.exception, SystemExit)  # no other exception escaped
    assert missing in result.output and "Traceback" not in result.output
    assert not out.exists()  # nothing written


def test_upper_case_file_names_are_found(tmp_path: Path) -> None:
    folder = tmp_path / "adam"
    folder.mkdir()
    for name in ("adsl.xpt", "adae.xpt", "adtte.xpt"):
        shutil.copy(DATA / name, folder / name.upper())
    out = tmp_path / "out"
    result = CliRunner().invoke(_app(), ["analyze-cdisc", str(folder), "--out", str(out)])
    assert result.exit_code == 0, result.output


def test_folder_that_does_not_exist_exits_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        _app(), ["analyze-cdisc", str(tmp_path / "nowhere"), "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 2
    assert "is not a folder" in result.output and "Traceback" not in result.output


def test_a_file_that_is_not_xpt_exits_2(tmp_path: Path) -> None:
    folder = _pilot(tmp_path, "adsl.xpt", "adtte.xpt")
    (folder / "adae.xpt").write_bytes(b"not a transport file\n" * 10)
    result = CliRunner().invoke(
        _app(), ["analyze-cdisc", str(folder), "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 2
    assert "adae.xpt" in result.output and "Traceback" not in result.output


def test_a_file_without_a_needed_variable_names_it(tmp_path: Path) -> None:
    # dm.xpt (SDTM) in place of adae.xpt: it has no TRTEMFL
    folder = _pilot(tmp_path, "adsl.xpt", "adtte.xpt")
    shutil.copy(DATA / "dm.xpt", folder / "adae.xpt")
    result = CliRunner().invoke(
        _app(), ["analyze-cdisc", str(folder), "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 2
    assert "ADAE" in result.output and "TRTEMFL" in result.output


def test_as_a_user_runs_it(tmp_path: Path) -> None:
    """``python -m equitrial analyze-cdisc``: runs once cli/__init__.py registers the command."""
    probe = subprocess.run([sys.executable, "-m", "equitrial", "analyze-cdisc", "--help"],
                           capture_output=True, text=True, timeout=120)  # fmt: skip
    if probe.returncode != 0:
        pytest.skip("analyze-cdisc is not registered in equitrial.cli yet")
    out = tmp_path / "out"
    command = [sys.executable, "-m", "equitrial", "analyze-cdisc", str(DATA), "--out", str(out)]
    ok = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert ok.returncode == 0, ok.stderr
    assert sorted(p.name for p in out.iterdir()) == sorted([*COLUMNS, "report.html"])
    folder = _pilot(tmp_path, "adsl.xpt", "adtte.xpt")
    bad = subprocess.run([sys.executable, "-m", "equitrial", "analyze-cdisc", str(folder),
                          "--out", str(tmp_path / "o")], capture_output=True, text=True,
                         timeout=600)  # fmt: skip
    assert bad.returncode == 2 and "adae.xpt" in bad.stderr and "Traceback" not in bad.stderr
