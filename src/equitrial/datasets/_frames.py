"""Helpers shared by the ADaM builders: dates, flags, variables sized to their values.

Not public: the builders (:mod:`equitrial.datasets.adsl`, ``adrs``, ``adtte``) use them so that
every dataset follows the conventions of :mod:`equitrial.datasets._meta` (``Char`` values are
``str`` or ``None``, numeric dates ``datetime.date`` or ``None``, ``Num`` values ``float``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any, Final

import pandas as pd

from equitrial.datasets._meta import Dataset, StudySource, Variable

__all__ = [
    "ADAM",
    "YN",
    "Y_ONLY",
    "as_date",
    "char",
    "dataset",
    "date_var",
    "num",
    "stack",
    "study_code",
    "table",
]

ADAM: Final = "ADaMIG 1.3"
YN: Final = ("Y", "N")
"""Codelist of a population flag (ADaMIG 1.3 section 3.1.4: "Y"/"N", never null)."""
Y_ONLY: Final = ("Y",)
"""Codelist of an event flag such as DTHFL ("Y" or null)."""


def as_date(value: Any) -> dt.date | None:
    """A ``datetime.date`` (from a date, datetime, ISO text or pandas timestamp), else None."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    if value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        day: dt.date = value.date()
        return day
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and value:
        return dt.date.fromisoformat(value[:10])
    return None


def table(source: StudySource, name: str, columns: Sequence[str]) -> pd.DataFrame:
    """The rows of table ``name`` with at least ``columns`` (missing columns are all None)."""
    frame = source.frame(name)
    for column in columns:
        if column not in frame.columns:
            frame[column] = None
    return frame


def study_code(source: StudySource) -> str:
    """The study's code (STUDYID)."""
    return str(source.study["code"])


def _length(values: Iterable[Any]) -> int:
    longest = max((len(str(v)) for v in values if v is not None), default=1)
    return max(1, min(200, longest))


def char(
    frame: pd.DataFrame, name: str, label: str, *, origin: str = "Derived", **kw: Any
) -> Variable:
    """A ``Char`` variable whose length is the longest value of ``frame[name]`` (at least 1)."""
    return Variable(name, label, "Char", _length(frame[name]), "string", origin, **kw)


def num(name: str, label: str, *, data_type: str = "integer", **kw: Any) -> Variable:
    """A ``Num`` variable (``integer`` by default)."""
    kw.setdefault("origin", "Derived")
    return Variable(name, label, "Num", 8, data_type, **kw)


def date_var(name: str, label: str, **kw: Any) -> Variable:
    """An ADaM numeric date (``datetime.date`` values, Dataset-JSON ``date``)."""
    kw.setdefault("origin", "Derived")
    return Variable(name, label, "Num", 8, "date", **kw)


def dataset(
    name: str,
    label: str,
    klass: str,
    structure: str,
    variables: Sequence[Variable],
    frame: pd.DataFrame,
) -> Dataset:
    """The :class:`Dataset`: ``frame``'s columns put in the variables' order, Char NaN -> None."""
    names = [v.name for v in variables]
    out = frame.reindex(columns=names).reset_index(drop=True)
    for v in variables:
        column = out[v.name]
        if v.type == "Char" or v.data_type == "date":
            out[v.name] = column.astype(object).where(column.notna(), None)
        else:
            out[v.name] = pd.to_numeric(column, errors="coerce").astype(float)
    return Dataset(name, label, klass, structure, ADAM, tuple(variables), out)


def stack(frames: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Rows of ``frames`` one after the other (columns in first-seen order).

    Row by row, so empty or all-missing columns never change another column's type (what
    ``pandas.concat`` warns about).
    """
    columns = list(dict.fromkeys(c for f in frames for c in f.columns))
    rows = [row for f in frames for row in f.to_dict("records")]
    return pd.DataFrame(rows, columns=columns)
