"""``services.export.export_package``: the package's layout, its audit row, and its refusals.

The SDTM/ADaM derivations are other modules' work (``equitrial.cdisc.sdtm``,
``equitrial.datasets.build_adam``); here the builders are injected: a DM and an ADSL derived by
hand from the source's ``subject`` rows, so the test exercises the real store read, file writers,
audit and directory handling. ``tests/cli/test_export_cli.py`` runs the real derivations.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import select

from equitrial.cdisc.xpt import read_xpt
from equitrial.datasets import Dataset, StudySource, Variable
from equitrial.errors import InvalidInputError
from equitrial.services.export import export_package
from equitrial.store import models as m
from equitrial.store.db import transaction


def _dm(source: StudySource) -> list[Dataset]:
    code = str(source.study["code"])
    rows = source.tables.get("subject", [])
    variables = (
        Variable("STUDYID", "Study Identifier", "Char", 20, origin="Protocol", key=1),
        Variable("DOMAIN", "Domain Abbreviation", "Char", 2, origin="Assigned"),
        Variable("USUBJID", "Unique Subject Identifier", "Char", 40, origin="Assigned", key=2),
    )
    frame = pd.DataFrame(
        {
            "STUDYID": [code] * len(rows),
            "DOMAIN": ["DM"] * len(rows),
            "USUBJID": [f"{code}-{r['subject_code']}" for r in rows],
        },
        columns=[v.name for v in variables],
    )
    return [Dataset("DM", "Demographics", "SPECIAL PURPOSE", "One record per subject",
                    "SDTMIG 3.4", variables, frame)]  # fmt: skip


def _adsl(source: StudySource) -> list[Dataset]:
    (dm,) = _dm(source)
    variables = (dm.variables[0], dm.variables[2])
    frame = dm.frame[["STUDYID", "USUBJID"]]
    return [Dataset("ADSL", "Subject-Level Analysis Dataset", "SUBJECT LEVEL ANALYSIS DATASET",
                    "One record per subject", "ADaMIG 1.3", variables, frame)]  # fmt: skip


BUILDERS = (_dm, _adsl)
EXPECTED = (
    "adam/adsl.json", "adam/adsl.xpt", "define.xml", "odm.xml", "sdtm/dm.json", "sdtm/dm.xpt",
)  # fmt: skip


def _exports(trial: Any) -> list[m.AuditTrail]:
    with transaction(trial.engine, read_only=True) as session:
        return list(
            session.scalars(select(m.AuditTrail).where(m.AuditTrail.action == "export")).all()
        )


def test_package_layout_and_audit(trial: Any, tmp_path: Path) -> None:
    out = tmp_path / "package"
    seen: list[tuple[str, int, int]] = []
    result = export_package(
        trial.engine, out, builders=BUILDERS, progress=lambda *a: seen.append(a)
    )
    assert result.files == EXPECTED
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()) == list(EXPECTED)
    assert seen == [("sdtm/dm", 1, 4), ("adam/adsl", 2, 4), ("define.xml", 3, 4), ("odm.xml", 4, 4)]
    _, meta = read_xpt(out / "sdtm" / "dm.xpt")
    assert meta.name == "DM" and meta.lengths["USUBJID"] == 40
    doc = json.loads((out / "adam" / "adsl.json").read_text("utf-8"))
    assert doc["itemGroupOID"] == "IG.ADSL" and doc["records"] == result.records["ADSL"]
    (row,) = _exports(trial)
    assert row.username.startswith("system:")
    assert row.table_name == "study" and "1 SDTM and 1 ADaM datasets" in (row.reason or "")
    assert [p.name for p in tmp_path.iterdir()] == ["package"]  # no scratch directory left


def test_a_previous_export_is_replaced(trial: Any, tmp_path: Path) -> None:
    out = tmp_path / "package"
    export_package(trial.engine, out, builders=BUILDERS)
    (out / "sdtm" / "old.xpt").write_bytes(b"")  # a dataset of an earlier export
    export_package(trial.engine, out, builders=BUILDERS, cutoff=dt.date(2025, 1, 1))
    assert not (out / "sdtm" / "old.xpt").exists()
    assert len(_exports(trial)) == 2
    assert "cut-off 2025-01-01" in (_exports(trial)[1].reason or "")


@pytest.mark.parametrize("stray", ["notes.txt", "sdtm/notes.txt", "adam/sub/x.xpt"])
def test_a_directory_with_other_files_is_refused(stray: str, trial: Any, tmp_path: Path) -> None:
    out = tmp_path / "package"
    (out / stray).parent.mkdir(parents=True)
    (out / stray).write_text("keep me")
    before = sorted(p for p in tmp_path.rglob("*"))
    with pytest.raises(InvalidInputError, match="not part of an export") as info:
        export_package(trial.engine, out, builders=BUILDERS)
    assert info.value.field == "out"
    assert sorted(p for p in tmp_path.rglob("*")) == before
    assert _exports(trial) == []


def test_a_failure_writes_nothing(trial: Any, tmp_path: Path) -> None:
    def bad_adam(source: StudySource) -> list[Dataset]:
        variable = Variable("SITEID", "Study Site Identifier", "Char", 2)
        frame = pd.DataFrame({"SITEID": ["TOO LONG"]})
        return [Dataset("ADSL", "Subject-Level", "SUBJECT LEVEL ANALYSIS DATASET",
                        "One record per subject", "ADaMIG 1.3", (variable,), frame)]  # fmt: skip

    out = tmp_path / "package"
    with pytest.raises(InvalidInputError, match="SITEID"):
        export_package(trial.engine, out, builders=(_dm, bad_adam))
    assert list(tmp_path.iterdir()) == []
    assert _exports(trial) == []


def test_odm_file_reads_back_to_the_store_snapshot(trial: Any, tmp_path: Path) -> None:
    from equitrial.cdisc.odm import read_odm
    from equitrial.services.export import study_source

    export_package(trial.engine, tmp_path / "package", builders=BUILDERS)
    source = study_source(trial.engine)
    expected = {name: rows for name, rows in source.tables.items() if rows}
    assert expected  # the study's sites, at least
    assert read_odm(tmp_path / "package" / "odm.xml") == expected
