"""Dataset-JSON v1.1: attribute order, OIDs, data types, rows, and the official JSON schema.

Expected values come from the Dataset-JSON v1.1 specification (attribute order, ``IG.``/``IT.``
OIDs as in its examples, numeric dates as ISO text with ``targetDataType`` ``integer``, ``null``
for missing) and from the schema shipped in ``equitrial/cdisc/data/dataset.schema.json``.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest
from cdisc_samples import LONG_TEXT, mixed, subjects

from equitrial.cdisc.dataset_json import (
    dataset_json,
    validate_dataset_json,
    write_dataset_json,
)
from equitrial.datasets import Dataset, Variable
from equitrial.errors import InvalidInputError

CREATED = dt.datetime(2026, 12, 7, 15, 0, 0, tzinfo=dt.UTC)
ORDER = [
    "datasetJSONCreationDateTime",
    "datasetJSONVersion",
    "fileOID",
    "dbLastModifiedDateTime",
    "originator",
    "sourceSystem",
    "studyOID",
    "metaDataVersionOID",
    "metaDataRef",
    "itemGroupOID",
    "records",
    "name",
    "label",
    "columns",
    "rows",
]
"""Top-level attributes in the order of the specification (section 'Dataset-JSON structure')."""
COLUMN_ORDER = [
    "itemOID", "name", "label", "dataType", "targetDataType", "length", "displayFormat",
    "keySequence",
]  # fmt: skip


def _write(dataset: Dataset, tmp_path: Path) -> dict[str, object]:
    path = tmp_path / f"{dataset.name.lower()}.json"
    write_dataset_json(dataset, path, study_oid="EQT-001", created=CREATED)
    doc: dict[str, object] = json.loads(path.read_text("utf-8"))
    return doc


def _subsequence(keys: list[str], order: list[str]) -> bool:
    positions = [order.index(k) for k in keys]
    return positions == sorted(positions)


def test_attributes_in_the_specification_order(tmp_path: Path) -> None:
    doc = _write(subjects(), tmp_path)
    assert _subsequence(list(doc), ORDER)
    for column in doc["columns"]:  # type: ignore[attr-defined]
        assert _subsequence(list(column), COLUMN_ORDER)
    assert doc["datasetJSONCreationDateTime"] == "2026-12-07T15:00:00+00:00"
    assert doc["datasetJSONVersion"] == "1.1.0"
    assert doc["itemGroupOID"] == "IG.ADSL"
    assert doc["studyOID"] == "EQT-001"
    assert doc["records"] == 4
    assert (doc["name"], doc["label"]) == ("ADSL", "Subject-Level Analysis Dataset")


def test_columns_and_rows(tmp_path: Path) -> None:
    doc = _write(subjects(), tmp_path)
    columns = {c["name"]: c for c in doc["columns"]}  # type: ignore[attr-defined]
    assert columns["USUBJID"] == {
        "itemOID": "IT.ADSL.USUBJID",
        "name": "USUBJID",
        "label": "Unique Subject Identifier",
        "dataType": "string",
        "length": 20,
        "keySequence": 2,
    }
    assert columns["AGE"] == {
        "itemOID": "IT.ADSL.AGE", "name": "AGE", "label": "Age", "dataType": "integer"
    }  # fmt: skip
    assert columns["TRTSDT"] == {
        "itemOID": "IT.ADSL.TRTSDT",
        "name": "TRTSDT",
        "label": "Date of First Exposure to Treatment",
        "dataType": "date",
        "targetDataType": "integer",
        "displayFormat": "E8601DA.",
    }
    assert doc["rows"] == [
        ["EQT-001", "EQT-001-01-001", "F", 34, "2024-01-03", "Zürich"],
        ["EQT-001", "EQT-001-01-002", "M", 71, "1959-12-31", "São Paulo"],
        ["EQT-001", "EQT-001-02-001", None, None, None, ""],
        ["EQT-001", "EQT-001-02-002", "U", 18, "1960-01-01", "Malmö naïve café"],
    ]


def test_doubles_and_long_text(tmp_path: Path) -> None:
    doc = _write(mixed(), tmp_path)
    rows = doc["rows"]
    assert [r[2] for r in rows] == [1 / 3, -123456789.123456789, 1e-70, None, 6.02214076e23]  # type: ignore[attr-defined]
    assert rows[0][4] == LONG_TEXT and rows[2][4] is None  # type: ignore[index]


def test_file_is_utf8_json(tmp_path: Path) -> None:
    _write(subjects(), tmp_path)
    assert "São Paulo".encode() in (tmp_path / "adsl.json").read_bytes()


def test_schema_accepts_our_documents() -> None:
    for dataset in (subjects(), mixed()):
        validate_dataset_json(dataset_json(dataset, study_oid="S", created=CREATED))


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda d: d.pop("itemGroupOID"), "itemGroupOID"),
        (lambda d: d.update(datasetJSONVersion="1.0.0"), "datasetJSONVersion"),
        (lambda d: d.update(datasetJSONCreationDateTime="7 Dec 2026"), "datasetJSONCreation"),
        (lambda d: d["columns"][0].update(dataType="text"), "columns/0/dataType"),
        (lambda d: d["columns"][0].update(colour="red"), "columns/0"),
        (lambda d: d["columns"][0].update(length=0), "columns/0/length"),
        (lambda d: d.update(records=-1), "records"),
        (lambda d: d["rows"][0].append(None), "rows/0"),
        (lambda d: d.update(records=3), "records"),
    ],
)
def test_schema_refuses(change: object, where: str) -> None:
    doc = copy.deepcopy(dataset_json(subjects(), study_oid="S", created=CREATED))
    change(doc)  # type: ignore[operator]
    with pytest.raises(InvalidInputError, match=where):
        validate_dataset_json(doc)


def test_metadata_only_document_is_valid() -> None:
    empty = Dataset(
        "AE", "Adverse Events", "EVENTS", "One record per event", "SDTMIG 3.4",
        (Variable("AETERM", "Reported Term", "Char", 200),), pd.DataFrame({"AETERM": []}),
    )  # fmt: skip
    doc = dataset_json(empty, study_oid="S", created=CREATED)
    assert doc["records"] == 0 and doc["rows"] == []
    validate_dataset_json(doc)


def test_fraction_in_integer_is_refused() -> None:
    dataset = Dataset(
        "DM", "Demographics", "SPECIAL PURPOSE", "One record per subject", "SDTMIG 3.4",
        (Variable("AGE", "Age", "Num", data_type="integer"),), pd.DataFrame({"AGE": [34.5]}),
    )  # fmt: skip
    with pytest.raises(InvalidInputError, match=r"DM\.AGE"):
        dataset_json(dataset, study_oid="S", created=CREATED)


def test_sdtm_dtc_is_iso_text_without_target_type() -> None:
    variable = Variable("AESTDTC", "Start Date/Time of Adverse Event", "Char", 19, data_type="date")
    dataset = Dataset(
        "AE", "Adverse Events", "EVENTS", "One record per event", "SDTMIG 3.4",
        (variable,), pd.DataFrame({"AESTDTC": ["2024-01", "2024-01-03T10:00", None]}),
    )  # fmt: skip
    doc = dataset_json(dataset, study_oid="S", created=CREATED)
    assert doc["columns"][0] == {
        "itemOID": "IT.AE.AESTDTC", "name": "AESTDTC", "label": variable.label,
        "dataType": "date", "length": 19,
    }  # fmt: skip
    assert doc["rows"] == [["2024-01"], ["2024-01-03T10:00"], [None]]
    validate_dataset_json(doc)


def test_pandas_timestamp_in_a_numeric_date() -> None:
    variable = Variable("ADT", "Analysis Date", "Num", data_type="date")
    dataset = Dataset(
        "ADLB", "Lab", "BASIC DATA STRUCTURE", "One record", "ADaMIG 1.3",
        (variable,), pd.DataFrame({"ADT": [pd.Timestamp("2024-02-29")]}),
    )  # fmt: skip
    assert dataset_json(dataset, study_oid="S", created=CREATED)["rows"] == [["2024-02-29"]]
