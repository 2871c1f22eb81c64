"""``equitrial export --out DIR [--cut YYYY-MM-DD]`` as a user runs it: a subprocess.

The refusals need no study. The package itself is made from a small study that ``equitrial
demo`` runs through the real services (3 virtual patients, SQLite), with the real SDTM and ADaM
derivations: that test is skipped until ``equitrial.cdisc.sdtm`` is on the branch. Nothing in
the pipeline is replaced.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "melanoma-pembrolizumab" / "protocol.toml"
SDTM = ("dm", "ds", "ex", "ae", "lb", "rs", "tr", "tu", "pc", "is", "qs", "cm", "ts")
ADAM = ("adsl", "adrs", "adtte", "adae", "adlb", "adex", "adpc", "adis", "adqs")
"""The files of the external contract (issue 10)."""


def _run(url: str, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "EQUITRIAL_DATABASE_URL": url, "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "equitrial", *args],
        capture_output=True, text=True, cwd=cwd, env=env, input="", timeout=600,
    )  # fmt: skip


def _no_traceback(out: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in out.stderr and "Traceback" not in out.stdout


@pytest.mark.parametrize("cut", ["2024-13-01", "yesterday", "2024-1-5", "20240105"])
def test_bad_cut_exits_2_naming_cut_and_writes_nothing(cut: str, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'none.db'}"
    out = _run(url, tmp_path, "export", "--out", str(tmp_path / "pkg"), "--cut", cut)
    assert out.returncode == 2, out.stderr
    assert "--cut" in out.stderr and "YYYY-MM-DD" in out.stderr
    _no_traceback(out)
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_out_dir_with_other_files_is_refused(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "thesis.docx").write_text("precious")
    out = _run(f"sqlite:///{tmp_path / 'none.db'}", tmp_path, "export", "--out", str(pkg))
    assert out.returncode == 2
    assert "thesis.docx" in out.stderr and "not part of an export" in out.stderr
    _no_traceback(out)
    assert [p.name for p in pkg.iterdir()] == ["thesis.docx"]


def test_out_must_be_given(tmp_path: Path) -> None:
    out = _run(f"sqlite:///{tmp_path / 'none.db'}", tmp_path, "export")
    assert out.returncode == 2 and "--out" in out.stderr
    _no_traceback(out)


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    pytest.importorskip("equitrial.cdisc.sdtm")
    where = tmp_path_factory.mktemp("demo")
    demo = ("demo", "--patients", "3", "--out", str(where / "d"), "--protocol", str(EXAMPLE),
            "--demo-password", "correct horse battery staple", "--no-analyses")  # fmt: skip
    out = _run("sqlite:///unused.db", where, *demo)
    assert out.returncode == 0, out.stderr
    yield f"sqlite:///{where / 'd' / 'equitrial.db'}"


def test_package_follows_the_contract(demo_url: str, tmp_path: Path) -> None:
    from equitrial.cdisc.dataset_json import validate_dataset_json
    from equitrial.cdisc.xpt import read_xpt

    pkg = tmp_path / "pkg"
    out = _run(demo_url, tmp_path, "export", "--out", str(pkg))
    assert out.returncode == 0, out.stderr
    _no_traceback(out)
    assert "export" in out.stderr  # the rich progress bar, on stderr
    for folder, names in (("sdtm", SDTM), ("adam", ADAM)):
        for name in names:
            frame, meta = read_xpt(pkg / folder / f"{name}.xpt")
            assert meta.name == name.upper()
            doc = json.loads((pkg / folder / f"{name}.json").read_text("utf-8"))
            validate_dataset_json(doc)
            assert doc["name"] == name.upper() and doc["records"] == len(frame)
            assert [c["name"] for c in doc["columns"]] == list(frame.columns)
    define = (pkg / "define.xml").read_text("utf-8")
    for name in (*SDTM, *ADAM):
        assert f'OID="IG.{name.upper()}"' in define
    assert (pkg / "odm.xml").stat().st_size > 0
    engine = sa.create_engine(demo_url)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT username, reason FROM audit_trail WHERE action = 'export'")
        ).all()
    engine.dispose()
    assert rows and rows[-1][0].startswith("system:") and str(pkg) in rows[-1][1]


def test_cut_takes_fewer_records(demo_url: str, tmp_path: Path) -> None:
    from equitrial.cdisc.xpt import read_xpt

    early = _run(demo_url, tmp_path, "export", "--out", str(tmp_path / "a"), "--cut", "2000-01-01")
    assert early.returncode == 0, early.stderr
    frame, _ = read_xpt(tmp_path / "a" / "sdtm" / "dm.xpt")
    assert len(frame) == 0  # nobody had consented by 2000
    again = _run(demo_url, tmp_path, "export", "--out", str(tmp_path / "a"))  # replaces it
    assert again.returncode == 0, again.stderr
    assert len(read_xpt(tmp_path / "a" / "sdtm" / "dm.xpt")[0]) > 0  # the demo's patients
