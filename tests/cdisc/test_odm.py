"""ODM 1.3.2 export of the captured data and its import: the round trip is exact.

A hand-made :class:`StudySource` (subjects, a subject-level table, a table attached through
another one, a site table), parsed back with ElementTree to check the ODM 1.3.2 structure
(ODM > Study / ReferenceData / ClinicalData > SubjectData > StudyEventData > FormData >
ItemGroupData > ItemData, section 2.8 of the specification), then imported with ``read_odm``.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from equitrial.cdisc.odm import column_types, read_odm, write_odm
from equitrial.datasets import StudySource
from equitrial.errors import InvalidInputError

Q = "{http://www.cdisc.org/ns/odm/v1.3}"
UTC = dt.UTC


def _source(**extra: list[dict[str, Any]]) -> StudySource:
    tables: dict[str, list[dict[str, Any]]] = {
        "site": [{"id": 1, "code": "S01", "name": "Hôpital Saint-Louis, \"Paris\" & <Co>"}],
        "subject": [
            {"id": 7, "site_id": 1, "subject_code": "S01-0001", "eligible": True,
             "consent_date": dt.date(2024, 6, 2)},
            {"id": 9, "site_id": 1, "subject_code": "S01-0002", "eligible": None,
             "consent_date": dt.date(2024, 7, 1)},
        ],
        "dose": [
            {"id": 1, "subject_id": 9, "dose_mg": 200.0, "delayed": False, "reason": None,
             "infusion_start": dt.datetime(2024, 6, 11, 9, 30, tzinfo=UTC)},
            {"id": 2, "subject_id": 7, "dose_mg": 1 / 3, "delayed": True, "reason": "",
             "infusion_start": dt.datetime(2024, 6, 12, 9, 30, 15, 250000, tzinfo=UTC)},
            {"id": 3, "subject_id": 7, "dose_mg": 400, "delayed": False,
             "reason": "Fièvre\n38.5 °C",
             "infusion_start": dt.datetime(2024, 7, 24, 10, 0)},
        ],
        "lesion": [{"id": 4, "subject_id": 7, "nodal": False}],
        "lesion_measurement": [{"id": 11, "lesion_id": 4, "diameter_mm": None},
                               {"id": 12, "lesion_id": 4, "diameter_mm": 12.5}],
        "con_med": [],
        **extra,
    }  # fmt: skip
    return StudySource(
        study={"code": "EQT-001", "title": "T", "protocol_version": "1"},
        protocol=None,
        tables=tables,
        arms={7: "BIO", 9: "REF"},
    )


@pytest.fixture
def odm_file(tmp_path: Path) -> Path:
    path = tmp_path / "odm.xml"
    write_odm(_source(), path, created=dt.datetime(2026, 12, 7, 15, 0, tzinfo=UTC))
    return path


def test_round_trip_is_exact(odm_file: Path) -> None:
    source = _source()
    back = read_odm(odm_file)
    assert back == {name: rows for name, rows in source.tables.items() if rows}
    # the types too (1 == 1.0 == True in Python); dose_mg mixes 400 and 200.0: a float column
    for name, rows in back.items():
        for ours, theirs in zip(rows, source.tables[name], strict=True):
            for column, value in theirs.items():
                if (name, column) != ("dose", "dose_mg"):
                    assert type(ours[column]) is type(value), (name, column)
    assert back["dose"][2]["dose_mg"] == 400.0 and isinstance(back["dose"][2]["dose_mg"], float)
    assert back["dose"][1]["infusion_start"].microsecond == 250000
    assert back["dose"][2]["infusion_start"].tzinfo is None


def test_structure(odm_file: Path) -> None:
    root = ET.parse(odm_file).getroot()
    assert root.tag == Q + "ODM"
    assert root.get("ODMVersion") == "1.3.2" and root.get("FileType") == "Snapshot"
    assert root.get("CreationDateTime") == "2026-12-07T15:00:00+00:00"
    assert [c.tag.removeprefix(Q) for c in root] == ["Study", "ReferenceData", "ClinicalData"]
    mdv = root.find(f"{Q}Study/{Q}MetaDataVersion")
    assert mdv is not None
    kinds = {e.get("OID"): e.get("DataType") for e in mdv.findall(f"{Q}ItemDef")}
    assert kinds["IT.dose.dose_mg"] == "float"
    assert kinds["IT.dose.delayed"] == "boolean"
    assert kinds["IT.dose.infusion_start"] == "datetime"
    assert kinds["IT.subject.consent_date"] == "date"
    assert kinds["IT.dose.reason"] == "text"
    assert kinds["IT.lesion_measurement.id"] == "integer"
    clinical = root.find(f"{Q}ClinicalData")
    assert clinical is not None
    subjects = clinical.findall(f"{Q}SubjectData")
    assert [s.get("SubjectKey") for s in subjects] == ["7", "9"]
    forms = [f.get("FormOID") for f in subjects[0].iter(f"{Q}FormData")]
    assert forms == ["F.subject", "F.dose", "F.lesion", "F.lesion_measurement"]
    reference = root.find(f"{Q}ReferenceData")
    assert reference is not None
    assert [g.get("ItemGroupOID") for g in reference] == ["IG.site"]


def test_missing_has_no_item_data_and_empty_text_has_an_empty_value(odm_file: Path) -> None:
    root = ET.parse(odm_file).getroot()
    groups = {
        (g.get("ItemGroupOID"), g.get("ItemGroupRepeatKey")): g
        for g in root.iter(f"{Q}ItemGroupData")
    }
    first_dose = {i.get("ItemOID") for i in groups[("IG.dose", "1")]}
    assert "IT.dose.reason" not in first_dose  # None
    second = {i.get("ItemOID"): i.get("Value") for i in groups[("IG.dose", "2")]}
    assert second["IT.dose.reason"] == ""
    assert second["IT.dose.delayed"] == "true"


def test_column_types() -> None:
    assert column_types([{"a": 1, "b": None}, {"a": 2.5, "b": None}]) == {
        "a": "float", "b": "text"
    }  # fmt: skip
    with pytest.raises(InvalidInputError, match="'a' mixes"):
        column_types([{"a": 1}, {"a": "1"}])


def test_unsupported_value_is_refused(tmp_path: Path) -> None:
    source = _source(kit=[{"id": 1, "subject_id": 7, "payload": {"x": 1}}])
    with pytest.raises(InvalidInputError, match="no ODM data type"):
        write_odm(source, tmp_path / "odm.xml")


def test_import_refuses_broken_files(tmp_path: Path) -> None:
    path = tmp_path / "odm.xml"
    path.write_text("<ODM><Study>")
    with pytest.raises(InvalidInputError, match="not well-formed"):
        read_odm(path)
