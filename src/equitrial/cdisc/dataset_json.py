"""Dataset-JSON v1.1 files of a :class:`~equitrial.datasets.Dataset`, and their validation.

One dataset per file, its top-level attributes in the order of the specification [1]_ (which
recommends keeping it, so that a streaming reader meets the metadata before the rows):
``datasetJSONCreationDateTime``, ``datasetJSONVersion``, ``fileOID``, ``dbLastModifiedDateTime``,
``originator``, ``sourceSystem``, ``studyOID``, ``metaDataVersionOID``, ``metaDataRef``,
``itemGroupOID``, ``records``, ``name``, ``label``, ``columns``, ``rows``.

Conventions (section "Data types" of [1]_):

- ``itemGroupOID`` is ``IG.<NAME>`` and each column's ``itemOID`` ``IT.<NAME>.<VARIABLE>``, the
  OIDs of the same dataset and variable in the define.xml written by
  :func:`equitrial.cdisc.define.write_define`;
- ``string`` -> JSON string; ``integer`` -> JSON integer; ``float`` / ``double`` -> JSON number;
- an ADaM numeric date (``date`` / ``datetime``) -> ISO 8601 text (``"2024-01-03"``) with
  ``targetDataType`` ``"integer"`` and ``displayFormat`` ``"E8601DA."`` / ``"E8601DT."``: the
  reader converts it back to a SAS numeric date;
- a missing value is ``null``; an empty string is ``""``.

The schema used by :func:`validate_dataset_json` is the official one, shipped as package data
(``equitrial/cdisc/data/dataset.schema.json``; source in the README beside it).

References
----------
.. [1] CDISC, "Dataset-JSON v1.1", final specification, 2024-12-05,
   https://github.com/cdisc-org/DataExchange-DatasetJson (``doc/dataset-json1-1.md``).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Final

import jsonschema

from equitrial import __version__
from equitrial.datasets import Dataset, Variable
from equitrial.errors import InvalidInputError

__all__ = [
    "DATASET_JSON_VERSION",
    "dataset_json",
    "item_group_oid",
    "item_oid",
    "validate_dataset_json",
    "write_dataset_json",
]

DATASET_JSON_VERSION: Final = "1.1.0"
_DISPLAY_FORMATS: Final = {"date": "E8601DA.", "datetime": "E8601DT."}


def item_group_oid(dataset: Dataset) -> str:
    """``IG.<NAME>``: the OID of the dataset's ItemGroupDef in define.xml."""
    return f"IG.{dataset.name}"


def item_oid(dataset: Dataset, variable: Variable) -> str:
    """``IT.<NAME>.<VARIABLE>``: the OID of the variable's ItemDef in define.xml."""
    return f"IT.{dataset.name}.{variable.name}"


def _column(dataset: Dataset, variable: Variable) -> dict[str, Any]:
    column: dict[str, Any] = {
        "itemOID": item_oid(dataset, variable),
        "name": variable.name,
        "label": variable.label,
        "dataType": variable.data_type,
    }
    if variable.data_type in _DISPLAY_FORMATS and variable.type == "Num":
        column["targetDataType"] = "integer"
    if variable.type == "Char":
        column["length"] = variable.length
    if variable.data_type in _DISPLAY_FORMATS and variable.type == "Num":
        column["displayFormat"] = _DISPLAY_FORMATS[variable.data_type]
    if variable.key is not None:
        column["keySequence"] = variable.key
    return column


def _value(dataset: Dataset, variable: Variable, value: Any) -> Any:  # noqa: C901 - one case each
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if type(value).__name__ in {"NAType", "NaTType"}:
        return None
    where = f"{dataset.name}.{variable.name}"
    if variable.type == "Char":  # text, or ISO 8601 text (SDTM --DTC, dataType date/datetime)
        if not isinstance(value, str):
            raise InvalidInputError(f"{where}: {value!r} is not text", field=variable.name)
        return value
    if variable.data_type == "datetime" and isinstance(value, dt.datetime):
        return value.isoformat()
    if variable.data_type == "date" and isinstance(value, dt.datetime):  # a pandas Timestamp
        return value.date().isoformat()
    if variable.data_type == "date" and isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInputError(f"{where}: {value!r} is not a number", field=variable.name)
    if variable.data_type == "integer":
        if float(value) != int(value):
            raise InvalidInputError(f"{where}: {value!r} is not an integer", field=variable.name)
        return int(value)
    if not math.isfinite(value):
        raise InvalidInputError(f"{where}: {value!r} is not a finite number", field=variable.name)
    return float(value)


def dataset_json(
    dataset: Dataset,
    *,
    study_oid: str,
    created: dt.datetime,
    metadata_version_oid: str | None = None,
    metadata_ref: str | None = "define.xml",
    originator: str | None = None,
) -> dict[str, Any]:
    """The Dataset-JSON v1.1 document of ``dataset`` (a dict in the specification's order).

    Parameters
    ----------
    dataset
        The dataset; its frame follows the conventions of :mod:`equitrial.datasets._meta`.
    study_oid
        ``studyOID`` (ODM ``Study/@OID``, the same as in define.xml).
    created
        ``datasetJSONCreationDateTime``; written to the second, with its UTC offset when aware.
    metadata_version_oid, metadata_ref, originator
        Optional attributes, omitted when ``None``.

    Raises
    ------
    InvalidInputError
        A value that does not match its variable's data type (text in a number, a fraction in an
        integer, a non-finite number).
    """
    doc: dict[str, Any] = {
        "datasetJSONCreationDateTime": created.replace(microsecond=0).isoformat(),
        "datasetJSONVersion": DATASET_JSON_VERSION,
        "fileOID": f"{study_oid}.{dataset.name}",
    }
    if originator is not None:
        doc["originator"] = originator
    doc["sourceSystem"] = {"name": "equitrial", "version": __version__}
    doc["studyOID"] = study_oid
    if metadata_version_oid is not None:
        doc["metaDataVersionOID"] = metadata_version_oid
    if metadata_ref is not None:
        doc["metaDataRef"] = metadata_ref
    doc["itemGroupOID"] = item_group_oid(dataset)
    doc["records"] = len(dataset.frame)
    doc["name"] = dataset.name
    doc["label"] = dataset.label
    doc["columns"] = [_column(dataset, v) for v in dataset.variables]
    columns = [dataset.frame[v.name].tolist() for v in dataset.variables]
    doc["rows"] = [
        [
            _value(dataset, v, column[i])
            for v, column in zip(dataset.variables, columns, strict=True)
        ]
        for i in range(len(dataset.frame))
    ]
    return doc


def write_dataset_json(
    dataset: Dataset,
    path: Path | str,
    *,
    study_oid: str,
    created: dt.datetime,
    metadata_version_oid: str | None = None,
) -> dict[str, Any]:
    """Write ``dataset`` as a Dataset-JSON v1.1 file (UTF-8) at ``path``, checked by the schema.

    Parameters are those of :func:`dataset_json`. Returns the document written.

    Raises
    ------
    InvalidInputError
        A value that does not match its data type, or a document the official schema refuses.
    """
    doc = dataset_json(
        dataset, study_oid=study_oid, created=created, metadata_version_oid=metadata_version_oid
    )
    validate_dataset_json(doc)
    text = json.dumps(doc, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    Path(path).write_text(text + "\n", encoding="utf-8")
    return doc


@cache
def _validator() -> jsonschema.protocols.Validator:
    text = (
        resources.files("equitrial.cdisc").joinpath("data/dataset.schema.json").read_text("utf-8")
    )
    schema = json.loads(text)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def validate_dataset_json(doc: Any) -> None:
    """Check ``doc`` against the official Dataset-JSON v1.1 JSON schema.

    Beyond the schema, also checks what the specification states in words: ``records`` equals
    the number of rows, and each row has one value per column.

    Raises
    ------
    InvalidInputError
        The first problem found, with its JSON path in the message.
    """
    error = jsonschema.exceptions.best_match(_validator().iter_errors(doc))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "(document)"
        raise InvalidInputError(f"Dataset-JSON at {where}: {error.message}", field=where)
    rows = doc.get("rows")
    if rows is None:
        return
    if len(rows) != doc["records"]:
        raise InvalidInputError(
            f"Dataset-JSON: records is {doc['records']} but there are {len(rows)} rows",
            field="records",
        )
    width = len(doc["columns"])
    for index, row in enumerate(rows):
        if len(row) != width:
            raise InvalidInputError(
                f"Dataset-JSON at rows/{index}: {len(row)} values for {width} columns",
                field=f"rows/{index}",
            )
