"""SAS transport (XPT) version 5 files of a :class:`~equitrial.datasets.Dataset`, via pyreadstat.

Version 5 is the format FDA and PMDA accept for SDTM/ADaM submissions: names of at most 8
characters, labels of at most 40, character variables of at most 200 bytes, numbers as IBM
double precision floats [1]_. pyreadstat (ReadStat) writes and reads the bytes; this module
fixes what the metadata say and ReadStat would otherwise guess:

- the **length of a Char variable** is its declared :attr:`Variable.length`, not the longest
  value: ReadStat takes the widest value as the width, so every value is written right-padded
  with blanks to the declared length. XPT stores a character value blank-padded anyway (TS-140:
  "character data are padded with blanks"), so the bytes are those of a SAS-written file, and
  readers (SAS, haven, pyreadstat) strip the trailing blanks. A missing Char value is all blanks,
  as SAS writes it;
- **numeric dates** (``data_type`` ``"date"``) are SAS dates (days since 1960-01-01) with the
  format ``DATE9.``; ``datetime`` values are SAS datetimes (seconds since 1960-01-01T00:00)
  with ``DATETIME20.``;
- **text encoding**: ReadStat writes character data as UTF-8 bytes and V5 files carry no
  encoding. A value may hold only Latin-1 characters (what a SAS session in a western encoding
  can hold, and what the FDA's technical conformance guide allows beyond ASCII); it is written as
  its UTF-8 bytes, and the declared length counts those bytes (``é`` takes 2). Any other
  character, or a value longer than its length, is refused with :class:`InvalidInputError`
  naming the variable: nothing is silently cut or transcoded.

References
----------
.. [1] SAS Institute, "The record layout of a data set in SAS transport (XPORT) format",
   Technical Support document TS-140.
"""

from __future__ import annotations

import datetime as dt
import math
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import pandas as pd
import pyreadstat

from equitrial.datasets import Dataset, Variable
from equitrial.errors import InvalidInputError

__all__ = ["XptMeta", "read_xpt", "sas_date", "write_xpt"]

SAS_EPOCH: Final = dt.date(1960, 1, 1)
"""Day 0 of SAS dates."""
_SAS_EPOCH_TIME: Final = dt.datetime(1960, 1, 1)
_IBM_MAX: Final = 16.0**63 * (1 - 16.0**-14)
"""The largest magnitude of an IBM double (TS-140: numbers are IBM mainframe floats)."""
_IBM_MIN: Final = 16.0**-65
"""The smallest normalised non-zero magnitude of an IBM double."""
DATE_FORMAT: Final = "DATE9."
DATETIME_FORMAT: Final = "DATETIME20."


@dataclass(frozen=True)
class XptMeta:
    """What an XPT file says about its dataset and variables.

    Attributes
    ----------
    name, label
        The member (dataset) name and label.
    labels
        Variable name -> label (``""`` when none).
    types
        Variable name -> ``"Char"`` or ``"Num"``.
    lengths
        Variable name -> storage width in bytes (8 for a number).
    formats
        Variable name -> SAS format (``""`` when none), e.g. ``"DATE9"``.
    """

    name: str
    label: str
    labels: dict[str, str]
    types: dict[str, str]
    lengths: dict[str, int]
    formats: dict[str, str]


def sas_date(value: dt.date) -> int:
    """Days from 1960-01-01 to ``value`` (a SAS date value)."""
    return (value - SAS_EPOCH).days


def _missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def _char_column(dataset: Dataset, variable: Variable) -> list[str]:
    values: list[str] = []
    for row, value in enumerate(dataset.frame[variable.name].tolist(), start=1):
        if _missing(value):
            values.append(" " * variable.length)
            continue
        if not isinstance(value, str):
            raise InvalidInputError(
                f"{dataset.name}.{variable.name}: row {row} holds {type(value).__name__}, "
                "expected text",
                field=variable.name,
                value=value,
            )
        try:
            value.encode("latin-1")
        except UnicodeEncodeError:
            raise InvalidInputError(
                f"{dataset.name}.{variable.name}: row {row} holds a character outside Latin-1, "
                "which a SAS V5 transport file cannot hold",
                field=variable.name,
                value=value,
                expected="Latin-1 text",
            ) from None
        size = len(value.encode("utf-8"))
        if size > variable.length:
            raise InvalidInputError(
                f"{dataset.name}.{variable.name}: row {row} is {size} bytes, longer than its "
                f"length {variable.length}",
                field=variable.name,
                value=value,
                expected=f"at most {variable.length} bytes",
            )
        values.append(value.ljust(variable.length - (size - len(value))))
    return values


def _num_column(dataset: Dataset, variable: Variable) -> list[float]:
    values: list[float] = []
    for row, value in enumerate(dataset.frame[variable.name].tolist(), start=1):
        if _missing(value):
            values.append(math.nan)
        elif variable.data_type == "datetime" and isinstance(value, dt.datetime):
            values.append((value.replace(tzinfo=None) - _SAS_EPOCH_TIME).total_seconds())
        elif variable.data_type == "date" and isinstance(value, dt.datetime):  # a Timestamp
            values.append(float(sas_date(value.date())))
        elif variable.data_type == "date" and isinstance(value, dt.date):
            values.append(float(sas_date(value)))
        elif isinstance(value, int | float) and not isinstance(value, bool):
            if value != 0 and not _IBM_MIN <= abs(value) <= _IBM_MAX:
                raise InvalidInputError(
                    f"{dataset.name}.{variable.name}: row {row} holds {value!r}, outside the "
                    "range of an IBM double of a V5 transport file (about 5.4e-79 to 7.2e75)",
                    field=variable.name,
                    value=value,
                )
            values.append(float(value))
        else:
            raise InvalidInputError(
                f"{dataset.name}.{variable.name}: row {row} holds {value!r}, expected a "
                + ("date" if variable.data_type in {"date", "datetime"} else "number"),
                field=variable.name,
                value=value,
            )
    return values


def _check_names(dataset: Dataset) -> None:
    if not (1 <= len(dataset.name) <= 8 and dataset.name.isalnum() and dataset.name.isascii()):
        raise InvalidInputError(
            f"dataset name {dataset.name!r}: expected 1 to 8 letters or digits (SAS V5)",
            field="name",
        )
    for text in [dataset.label, *(v.label for v in dataset.variables)]:
        try:
            text.encode("ascii")
        except UnicodeEncodeError:
            raise InvalidInputError(
                f"{dataset.name}: label {text!r} is not ASCII text", field="label"
            ) from None


def write_xpt(dataset: Dataset, path: Path | str) -> None:
    """Write ``dataset`` as a SAS transport version 5 file at ``path``.

    Parameters
    ----------
    dataset
        Its name becomes the member name, its label the member label; each variable's label,
        length (Char) and format (``DATE9.`` / ``DATETIME20.`` for numeric dates) go to the
        variable's NAMESTR record [1]_.
    path
        The file to write (overwritten if it exists).

    Raises
    ------
    InvalidInputError
        A dataset name that is not 1 to 8 letters or digits, a label that is not ASCII, a Char
        value longer than its variable's length (in UTF-8 bytes) or holding a character outside
        Latin-1, or a Num value that is not a number (or a date for a date variable), is
        infinite or outside the range of IBM doubles. The message and ``field`` name the
        variable.

    References
    ----------
    .. [1] SAS Institute, Technical Support document TS-140 (record layout of SAS transport
       files, version 5).
    """
    _check_names(dataset)
    columns: dict[str, list[Any]] = {}
    formats: dict[str, str] = {}
    for variable in dataset.variables:
        if variable.type == "Char":
            columns[variable.name] = _char_column(dataset, variable)
        else:
            columns[variable.name] = _num_column(dataset, variable)
            if variable.data_type == "date":
                formats[variable.name] = DATE_FORMAT
            elif variable.data_type == "datetime":
                formats[variable.name] = DATETIME_FORMAT
    frame = pd.DataFrame(columns, columns=[v.name for v in dataset.variables])
    for variable in dataset.variables:  # an empty frame has no dtype to guess from
        frame[variable.name] = frame[variable.name].astype(
            object if variable.type == "Char" else "float64"
        )
    try:
        pyreadstat.write_xport(
            frame,
            str(path),
            file_label=dataset.label,
            column_labels=[v.label for v in dataset.variables],
            table_name=dataset.name,
            file_format_version=5,
            variable_format=formats or None,
        )
    except (pyreadstat.ReadstatError, pyreadstat.PyreadstatError) as exc:
        raise InvalidInputError(f"{dataset.name}: SAS transport file not written ({exc})") from None
    if len(frame) == 0:
        _set_lengths_of_empty(path, dataset)


_NAMESTR_HEADER: Final = b"HEADER RECORD*******NAMESTR HEADER RECORD!!!!!!!"
_NAMESTR_SIZE: Final = 140


def _set_lengths_of_empty(path: Path | str, dataset: Dataset) -> None:
    """Give the Char variables of a dataset WITHOUT rows their declared lengths.

    ReadStat takes a Char variable's width from its longest value, 1 when there is none; with
    no observation the padding of :func:`write_xpt` cannot help, so the NAMESTR records are
    mended in place: ``nlng`` (bytes 4-5) and ``npos`` (bytes 84-87, the offset in an
    observation), big-endian, as TS-140 lays them out. No observation depends on them.
    """
    data = bytearray(Path(path).read_bytes())
    first = data.index(_NAMESTR_HEADER) + 80
    position = 0
    for index, variable in enumerate(dataset.variables):
        at = first + index * _NAMESTR_SIZE
        length = variable.length if variable.type == "Char" else 8
        struct.pack_into(">h", data, at + 4, length)
        struct.pack_into(">i", data, at + 84, position)
        position += length
    Path(path).write_bytes(bytes(data))


def read_xpt(path: Path | str) -> tuple[pd.DataFrame, XptMeta]:
    """Read a SAS transport file (version 5 or 8).

    Returns
    -------
    frame : pandas.DataFrame
        Char columns as ``str`` (trailing blanks stripped, ``""`` for a blank value), Num
        columns as ``float`` (``NaN`` missing); columns with a SAS date or datetime format come
        back as ``datetime.date`` / ``datetime.datetime`` (``NaT``/``None`` missing).
    meta : XptMeta
        The member's name and label and each variable's label, type, length and format.

    Raises
    ------
    InvalidInputError
        The file is not a readable SAS transport file.
    """
    try:
        frame, raw = pyreadstat.read_xport(str(path), encoding="utf-8")
    except (pyreadstat.ReadstatError, pyreadstat.PyreadstatError, UnicodeError) as exc:
        raise InvalidInputError(f"{path}: not a readable SAS transport file ({exc})") from None
    names = list(frame.columns)
    labels = raw.column_names_to_labels
    return frame, XptMeta(
        name=raw.table_name or "",
        label=raw.file_label or "",
        labels={n: labels.get(n) or "" for n in names},
        types={n: "Char" if raw.readstat_variable_types[n] == "string" else "Num" for n in names},
        lengths={n: int(raw.variable_storage_width[n]) for n in names},
        formats={n: raw.original_variable_types.get(n) or "" for n in names},
    )
