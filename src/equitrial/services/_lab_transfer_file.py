"""Reading a central-lab transfer file: the CSV parsed and every row checked, before any write.

The columns and their checks are described in :mod:`equitrial.services.lab_import`. Problems
are collected over the whole file and refused together (:class:`Problems`).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, TextIO

from equitrial.errors import InvalidInputError
from equitrial.services._base import today
from equitrial.services.checks import CheckContext, Finding, run_checks
from equitrial.store import models as m
from equitrial.store.validation import check_values

__all__ = [
    "COLUMNS",
    "LAB_TABLE",
    "MAX_PROBLEMS",
    "MAX_ROWS",
    "OPTIONAL",
    "REQUIRED",
    "Problems",
    "Row",
    "parse",
    "read",
]

REQUIRED: Final = ("subject", "test", "value", "unit", "collected_at")
OPTIONAL: Final = ("lln", "uln", "accession")
COLUMNS: Final = REQUIRED + OPTIONAL
"""The columns of a transfer file (``lab_id`` is accepted for ``accession``)."""

_ALIASES: Final = {"lab_id": "accession"}

MAX_PROBLEMS: Final = 20
"""At most this many problems are listed in the error of a refused file."""

MAX_ROWS: Final = 200_000
"""A transfer file holds at most this many results."""

LAB_TABLE: Final = m.Base.metadata.tables["lab_result"]


@dataclass
class Row:
    """One row of the file: its number (1: the first under the header), its line, the subject
    reference, the checked values and the implausible findings (queries to open)."""

    number: int
    line: int
    subject: str
    values: dict[str, Any]
    implausible: list[Finding]


class Problems:
    """The problems found in a file, refused together as one InvalidInputError."""

    def __init__(self) -> None:
        self.items: list[str] = []
        self.first: tuple[str, Any] | None = None

    def add(self, row: Row | None, column: str, message: str, value: Any = None) -> None:
        where = "header" if row is None else f"row {row.number} (line {row.line})"
        self.items.append(f"{where}, column {column}: {message}")
        if self.first is None:
            self.first = (column, value)

    def raise_if_any(self) -> None:
        if not self.items:
            return
        shown = self.items[:MAX_PROBLEMS]
        more = len(self.items) - len(shown)
        tail = f"; and {more} more" if more else ""
        column, value = self.first or ("file", None)
        raise InvalidInputError(
            f"lab transfer refused, nothing imported: {len(self.items)} problem(s): "
            + "; ".join(shown)
            + tail,
            field=column,
            value=value,
        )


def read(source: str | Path | TextIO) -> tuple[bytes, str | None]:
    if isinstance(source, str | Path):
        path = Path(source)
        try:
            return path.read_bytes(), path.name
        except OSError as error:
            raise InvalidInputError(
                f"cannot read {path}: {error.strerror}", field="file", value=str(path)
            ) from None
    return source.read().encode("utf-8"), getattr(source, "name", None)


def _number(text: str, row: Row, column: str, problems: Problems) -> float | None:
    try:
        value = float(text)
    except ValueError:
        problems.add(row, column, f"{text!r} is not a number", text)
        return None
    if not math.isfinite(value):
        problems.add(row, column, f"{text!r} is not a finite number", text)
        return None
    return value


def _timestamp(text: str, row: Row, problems: Problems) -> dt.datetime | None:
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        value = None
    if value is None or value.tzinfo is None:
        problems.add(
            row,
            "collected_at",
            f"{text!r} is not an ISO 8601 date and time with its time zone "
            "(e.g. 2024-03-02T08:15:00+01:00)",
            text,
        )
        return None
    return value


def _header(fields: list[str] | None, problems: Problems) -> list[str]:
    if not fields:
        problems.add(None, "header", "the file is empty; expected a header row")
        problems.raise_if_any()
    names = [_ALIASES.get(f.strip(), f.strip()) for f in fields or []]
    for name in names:
        if name not in COLUMNS:
            problems.add(None, name or "(empty)", f"unknown column; expected {', '.join(COLUMNS)}")
    for name in REQUIRED:
        if name not in names:
            problems.add(None, name, "required column missing")
    if len(set(names)) != len(names):
        problems.add(None, "header", "a column is named twice")
    problems.raise_if_any()
    return names


def _parse_row(
    row: Row, cells: Mapping[str, str], problems: Problems, context: CheckContext
) -> None:
    """Check one row's cells (stripped, by column name; a column the file lacks is absent)."""
    before = len(problems.items)
    for name in REQUIRED:
        if not cells.get(name):
            problems.add(row, name, "is empty; a value is required")
    if len(problems.items) > before:
        return
    values: dict[str, Any] = {"test": cells["test"], "unit": cells["unit"]}
    values["value"] = _number(cells["value"], row, "value", problems)
    values["collected_at"] = _timestamp(cells["collected_at"], row, problems)
    for name in ("lln", "uln"):
        text = cells.get(name)
        values[name] = _number(text, row, name, problems) if text else None
    values["accession"] = cells.get("accession") or None
    if len(problems.items) > before:
        return
    try:
        values = check_values(LAB_TABLE, values)
    except InvalidInputError as error:
        problems.add(row, error.field or "value", error.message, error.value)
        return
    findings = run_checks("lab_result", values, context)
    for finding in findings:
        if finding.severity == "impossible":
            problems.add(row, finding.field, finding.message, values.get(finding.field))
    row.values = values
    row.implausible = [f for f in findings if f.severity == "implausible"]


def parse(data: bytes) -> list[Row]:
    problems = Problems()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InvalidInputError(
            f"the file is not UTF-8 text (byte {error.start})", field="file"
        ) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    context = CheckContext(today())
    try:
        names = _header(next(reader, None), problems)
        rows: list[Row] = []
        for number, cells in enumerate(reader, start=1):
            stripped = [c.strip() for c in cells]
            if not any(stripped):
                continue  # a blank line
            row = Row(number, reader.line_num, "", {}, [])
            if len(cells) != len(names):
                problems.add(row, "*", f"{len(cells)} cells; the header has {len(names)}")
            else:
                by_name = dict(zip(names, stripped, strict=True))
                row.subject = by_name["subject"]
                _parse_row(row, by_name, problems, context)
            rows.append(row)
            if len(rows) > MAX_ROWS:
                problems.add(row, "*", f"more than {MAX_ROWS} rows; split the transfer")
                break
    except csv.Error as error:
        problems.add(None, "file", f"not a valid CSV file (line {reader.line_num}): {error}")
    if not rows and not problems.items:
        problems.add(None, "file", "no result rows under the header")
    problems.raise_if_any()
    return rows
