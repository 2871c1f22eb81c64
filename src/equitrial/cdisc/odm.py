"""CDISC ODM 1.3.2 snapshot of the captured clinical data, and its import.

What is exported: every table of a :class:`~equitrial.datasets.StudySource` (the store's rows as
of a data cut), one ODM *form* per table, in one study event ``SE.CAPTURED``:

- ``Study/MetaDataVersion`` (``MDV.<code>.CAPTURED``): ``Protocol`` -> ``StudyEventDef``
  ``SE.CAPTURED`` -> one ``FormDef`` ``F.<table>`` per table -> ``ItemGroupDef`` ``IG.<table>``
  (repeating) -> one ``ItemDef`` ``IT.<table>.<column>`` per column, whose ``DataType`` says how
  to read the values back: ``text``, ``integer``, ``float``, ``boolean``, ``date``, ``datetime``;
- ``ClinicalData``: one ``SubjectData`` per subject (``SubjectKey`` = the subject's store id)
  holding its rows of every table whose rows belong to a subject (a ``subject_id`` column; a
  lesion measurement through its lesion, and the ``subject`` row itself);
- ``ReferenceData``: the rows of the other tables (sites, ...);
- every row is one ``ItemGroupData`` whose ``ItemGroupRepeatKey`` is its position in its table
  (1, 2, ...), so the import restores the tables' order; a ``None`` value has no ``ItemData``
  (ODM section 2.11: absent means no value), an empty string is ``Value=""``.

:func:`read_odm` reads such a file back into the same ``{table: rows}`` mapping: the import is
exact for the exported tables (the round trip is tested). It reads files written here, not
arbitrary ODM from another EDC (no audit records, signatures, annotations or
``TransactionType``).

The file is streamed (written row by row, read with ``iterparse``): a large study's data never
sit in memory as an XML tree. odmlib builds an object per element, which is right for define.xml
(metadata) but too heavy for clinical data.

References
----------
.. [1] CDISC, "Specification for the Operational Data Model (ODM) Version 1.3.2 Final",
   2013-12-01, sections 2.8 (ClinicalData), 2.11 (missing data), 3.1.1 (DataType).
"""

from __future__ import annotations

import datetime as dt
import math
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any, Final
from xml.sax.saxutils import quoteattr

from equitrial import __version__
from equitrial.datasets import StudySource
from equitrial.errors import InvalidInputError

__all__ = ["ODM_NS", "column_types", "read_odm", "write_odm"]

ODM_NS: Final = "http://www.cdisc.org/ns/odm/v1.3"
_Q: Final = "{" + ODM_NS + "}"
_EVENT: Final = "SE.CAPTURED"
_PARENT: Final = {"lesion_measurement": ("lesion_id", "lesion")}
"""Tables whose rows belong to a subject through another table: column, parent table."""

Tables = Mapping[str, list[dict[str, Any]]]


def _type_of(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    if isinstance(value, dt.datetime):
        return "datetime"
    if isinstance(value, dt.date):
        return "date"
    if isinstance(value, str):
        return "text"
    raise InvalidInputError(f"{type(value).__name__} value {value!r}: no ODM data type")


def column_types(rows: list[dict[str, Any]]) -> dict[str, str]:
    """The ODM ``DataType`` of each column of ``rows`` (``text`` when every value is missing).

    Raises
    ------
    InvalidInputError
        A column mixing kinds of values (a number and a text, say); integers and floats mix
        as ``float``.
    """
    kinds: dict[str, set[str]] = {}
    for row in rows:
        for column, value in row.items():
            seen = kinds.setdefault(column, set())
            if value is not None:
                seen.add(_type_of(value))
    types: dict[str, str] = {}
    for column, seen in kinds.items():
        if seen == {"integer", "float"}:
            seen = {"float"}
        if len(seen) > 1:
            raise InvalidInputError(f"column {column!r} mixes {sorted(seen)}", field=column)
        types[column] = seen.pop() if seen else "text"
    return types


def _text(value: Any, kind: str) -> str:
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "float":
        if not math.isfinite(value):
            raise InvalidInputError(f"{value!r}: ODM float values are finite")
        return repr(float(value))
    if kind in {"date", "datetime"}:
        return str(value.isoformat())
    return str(value)


def _value(text: str, kind: str) -> Any:
    if kind == "boolean":
        return text in {"true", "1"}
    if kind == "integer":
        return int(text)
    if kind == "float":
        return float(text)
    if kind == "datetime":
        return dt.datetime.fromisoformat(text)
    if kind == "date":
        return dt.date.fromisoformat(text)
    return text


def _owners(tables: Tables) -> dict[str, list[int | None]]:
    """For each table, the subject id of each row (``None``: reference data)."""
    subject_ids = {row["id"] for row in tables.get("subject", [])}
    owners: dict[str, list[int | None]] = {}
    for table, rows in tables.items():
        if table == "subject":
            owners[table] = [row["id"] for row in rows]
        elif table in _PARENT:
            column, parent = _PARENT[table]
            of_parent = {r["id"]: r.get("subject_id") for r in tables.get(parent, [])}
            owners[table] = [of_parent.get(row.get(column)) for row in rows]
        else:
            owners[table] = [row.get("subject_id") for row in rows]
        owners[table] = [s if s in subject_ids else None for s in owners[table]]
    return owners


def _metadata(study_oid: str, mdv_oid: str, code: str, types: dict[str, dict[str, str]]) -> str:
    study = ET.Element("Study", OID=study_oid)
    variables = ET.SubElement(study, "GlobalVariables")
    ET.SubElement(variables, "StudyName").text = code
    ET.SubElement(variables, "StudyDescription").text = f"Captured data of study {code}"
    ET.SubElement(variables, "ProtocolName").text = code
    mdv = ET.SubElement(study, "MetaDataVersion", OID=mdv_oid, Name="Captured data")
    protocol = ET.SubElement(mdv, "Protocol")
    ET.SubElement(protocol, "StudyEventRef", StudyEventOID=_EVENT, OrderNumber="1", Mandatory="No")
    event = ET.SubElement(
        mdv, "StudyEventDef", OID=_EVENT, Name="Captured data", Repeating="No", Type="Common"
    )
    for number, table in enumerate(types, start=1):
        ET.SubElement(event, "FormRef", FormOID=f"F.{table}", OrderNumber=str(number),
                      Mandatory="No")  # fmt: skip
    for table in types:
        form = ET.SubElement(mdv, "FormDef", OID=f"F.{table}", Name=table, Repeating="No")
        ET.SubElement(form, "ItemGroupRef", ItemGroupOID=f"IG.{table}", Mandatory="No")
    for table, columns in types.items():
        group = ET.SubElement(mdv, "ItemGroupDef", OID=f"IG.{table}", Name=table, Repeating="Yes")
        for number, column in enumerate(columns, start=1):
            ET.SubElement(group, "ItemRef", ItemOID=f"IT.{table}.{column}",
                          OrderNumber=str(number), Mandatory="No")  # fmt: skip
    for table, columns in types.items():
        for column, kind in columns.items():
            ET.SubElement(mdv, "ItemDef", OID=f"IT.{table}.{column}", Name=column, DataType=kind)
    ET.indent(study)
    return ET.tostring(study, encoding="unicode")


def _group(out: IO[str], table: str, key: int, row: dict[str, Any], kinds: dict[str, str]) -> None:
    out.write(f'      <ItemGroupData ItemGroupOID={quoteattr("IG." + table)} '
              f'ItemGroupRepeatKey="{key}">\n')  # fmt: skip
    for column, value in row.items():
        if value is None:
            continue
        text = _text(value, kinds[column])
        out.write(f"        <ItemData ItemOID={quoteattr(f'IT.{table}.{column}')} "
                  f"Value={quoteattr(text)}/>\n")  # fmt: skip
    out.write("      </ItemGroupData>\n")


def write_odm(source: StudySource, path: Path | str, *, created: dt.datetime | None = None) -> None:
    """Write the captured data of ``source`` as an ODM 1.3.2 snapshot (UTF-8) at ``path``.

    Raises
    ------
    InvalidInputError
        A column mixing kinds of values, a value of a kind ODM has no type for, or a non-finite
        float.
    """
    code = str(source.study["code"])
    study_oid, mdv_oid = f"ST.{code}", f"MDV.{code}.CAPTURED"
    tables = {name: rows for name, rows in source.tables.items() if rows}
    types = {name: column_types(rows) for name, rows in tables.items()}
    owners = _owners(tables)
    when = (created or dt.datetime.now(dt.UTC)).replace(microsecond=0).isoformat()
    with open(path, "w", encoding="utf-8") as out:
        out.write("<?xml version='1.0' encoding='UTF-8'?>\n")
        out.write(f'<ODM xmlns="{ODM_NS}" ODMVersion="1.3.2" FileType="Snapshot" '
                  f"FileOID={quoteattr(f'ODM.{code}.CAPTURED')} CreationDateTime=\"{when}\" "
                  f'Originator="equitrial" SourceSystem="equitrial" '
                  f'SourceSystemVersion="{__version__}">\n')  # fmt: skip
        out.write(_metadata(study_oid, mdv_oid, code, types) + "\n")
        attrs = f"StudyOID={quoteattr(study_oid)} MetaDataVersionOID={quoteattr(mdv_oid)}"
        out.write(f"<ReferenceData {attrs}>\n")
        for table, rows in tables.items():
            for key, (row, owner) in enumerate(zip(rows, owners[table], strict=True), start=1):
                if owner is None:
                    _group(out, table, key, row, types[table])
        out.write(f"</ReferenceData>\n<ClinicalData {attrs}>\n")
        by_subject: dict[int, dict[str, list[tuple[int, dict[str, Any]]]]] = {}
        for table, rows in tables.items():
            for key, (row, owner) in enumerate(zip(rows, owners[table], strict=True), start=1):
                if owner is not None:
                    by_subject.setdefault(owner, {}).setdefault(table, []).append((key, row))
        for subject in sorted(by_subject):
            out.write(f'<SubjectData SubjectKey="{subject}">\n'
                      f' <StudyEventData StudyEventOID="{_EVENT}">\n')  # fmt: skip
            for table, keyed in by_subject[subject].items():
                out.write(f"  <FormData FormOID={quoteattr('F.' + table)}>\n")
                for key, row in keyed:
                    _group(out, table, key, row, types[table])
                out.write("  </FormData>\n")
            out.write(" </StudyEventData>\n</SubjectData>\n")
        out.write("</ClinicalData>\n</ODM>\n")


def _definitions(
    events: Iterator[tuple[str, Any]],
) -> tuple[dict[str, list[str]], dict[str, str]]:
    """The item groups (their item OIDs) and the items' data types, up to the metadata's end."""
    groups: dict[str, list[str]] = {}
    kinds: dict[str, str] = {}
    for _, element in events:
        if element.tag == _Q + "ItemGroupDef":
            groups[element.get("OID", "")] = [
                ref.get("ItemOID", "") for ref in element.findall(_Q + "ItemRef")
            ]
        elif element.tag == _Q + "ItemDef":
            kinds[element.get("OID", "")] = element.get("DataType", "text")
        elif element.tag == _Q + "MetaDataVersion":
            break
    return groups, kinds


def read_odm(path: Path | str) -> dict[str, list[dict[str, Any]]]:
    """Read an ODM file written by :func:`write_odm` back into ``{table: rows}``.

    Each row has every column of its table (``None`` where the file has no ``ItemData``), with
    the value types of the ``ItemDef`` s; the rows are in their original order.

    Raises
    ------
    InvalidInputError
        The file is not well-formed XML, or refers to an item group or item it does not define.
    """
    keyed: dict[str, list[tuple[int, dict[str, Any]]]] = {}
    try:
        events = ET.iterparse(str(path), events=("end",))
        groups, kinds = _definitions(events)
        for _, element in events:
            if element.tag != _Q + "ItemGroupData":
                continue
            oid = element.get("ItemGroupOID", "")
            if oid not in groups:
                raise InvalidInputError(f"{path}: ItemGroupData of undefined {oid!r}")
            table = oid.removeprefix("IG.")
            row: dict[str, Any] = {item.removeprefix(oid.replace("IG.", "IT.", 1) + "."): None
                                   for item in groups[oid]}  # fmt: skip
            for item in element.findall(_Q + "ItemData"):
                item_oid = item.get("ItemOID", "")
                if item_oid not in kinds:
                    raise InvalidInputError(f"{path}: ItemData of undefined {item_oid!r}")
                column = item_oid.removeprefix(f"IT.{table}.")
                row[column] = _value(item.get("Value", ""), kinds[item_oid])
            keyed.setdefault(table, []).append((int(element.get("ItemGroupRepeatKey", "0")), row))
            element.clear()
    except ET.ParseError as exc:
        raise InvalidInputError(f"{path}: not well-formed XML ({exc})") from None
    return {table: [row for _, row in sorted(rows, key=lambda kr: kr[0])]
            for table, rows in keyed.items()}  # fmt: skip
