"""Shared steps of the safety, PK, immunogenicity and PRO datasets (ADAE ... ADQS).

Private: the builders of :mod:`equitrial.datasets.adae`, ``adlb``, ``adex``, ``adpc``,
``adis`` and ``adqs`` use these to

- attach a store table's rows to the subjects of ADSL (:func:`with_subjects`);
- compute the ADaM study day vectorized (:func:`study_day`), the rule of
  :func:`equitrial.clinical.calendar.study_day` (no day 0);
- flag a baseline record and carry its value (:func:`flag_baseline`);
- turn a frame into a :class:`~equitrial.datasets._meta.Dataset` whose ``Char`` lengths are
  the longest value's, ``Char`` missing values ``None`` and dates ``datetime.date``
  (:func:`make_dataset`).

References
----------
.. [1] CDISC ADaM Implementation Guide v1.3 (2021), section 3.3 (BDS variables: ADY, ABLFL,
   BASE, CHG) and the ADaM Basic Data Structure.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from typing import Any, Final

import numpy as np
import pandas as pd

from equitrial.datasets._meta import Dataset, StudySource, Variable
from equitrial.errors import InvalidInputError

__all__ = [
    "ADSL_KEYS",
    "YN",
    "Y",
    "carry_baseline",
    "char",
    "date_var",
    "flag_baseline",
    "flag_first",
    "make_dataset",
    "num",
    "regimen_history",
    "study_day",
    "to_date",
    "to_datetime",
    "trtan",
    "with_subjects",
]

ADSL_KEYS: Final = ("STUDYID", "USUBJID", "SUBJID", "SITEID", "TRT01P", "TRT01A", "TRTSDT")
"""ADSL columns every builder needs."""
YN: Final = ("Y",)
"""Codelist of a ``Y``/missing flag (ADaMIG: "Y" or null)."""
Y: Final = "Y"


def char(
    name: str,
    label: str,
    *,
    origin: str = "Derived",
    derivation: str | None = None,
    codelist: tuple[str, ...] | None = None,
    key: int | None = None,
) -> Variable:
    """A ``Char`` variable; its length is set to the longest value by :func:`make_dataset`."""
    return Variable(name, label, "Char", 1, "string", origin, derivation, codelist, key)


def num(
    name: str,
    label: str,
    *,
    data_type: str = "float",
    origin: str = "Derived",
    derivation: str | None = None,
    key: int | None = None,
) -> Variable:
    """A ``Num`` variable (``data_type`` ``"float"`` or ``"integer"``)."""
    return Variable(name, label, "Num", 8, data_type, origin, derivation, None, key)


def date_var(
    name: str, label: str, *, origin: str = "Derived", derivation: str | None = None
) -> Variable:
    """An ADaM numeric date (``datetime.date`` in the frame)."""
    return Variable(name, label, "Num", 8, "date", origin, derivation)


SUBJECT_VARIABLES: Final = (
    char("STUDYID", "Study Identifier", origin="Predecessor", key=1),
    char("USUBJID", "Unique Subject Identifier", origin="Predecessor", key=2),
    char("SUBJID", "Subject Identifier for the Study", origin="Predecessor"),
    char("SITEID", "Study Site Identifier", origin="Predecessor"),
    char("TRTA", "Actual Treatment", origin="Predecessor", derivation="ADSL.TRT01A"),
    num(
        "TRTAN",
        "Actual Treatment (N)",
        data_type="integer",
        derivation="Position of TRTA in the protocol's arms (1 = test, 2 = reference)",
    ),
    char("SAFFL", "Safety Population Flag", origin="Predecessor", codelist=("Y", "N")),
    date_var("TRTSDT", "Date of First Exposure to Treatment", origin="Predecessor"),
)
"""The ADSL variables that lead every safety, exposure, PK and ADA dataset, in that order."""
LAST_DOSE: Final = date_var("TRTEDT", "Date of Last Exposure to Treatment", origin="Predecessor")


def to_date(values: pd.Series) -> pd.Series:
    """Dates, datetimes or ISO text as ``datetime64[ns]`` days (time of day dropped, UTC)."""
    if len(values) == 0:
        return pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    stamps = pd.to_datetime(values, utc=True, errors="raise")
    return stamps.dt.tz_localize(None).dt.normalize().astype("datetime64[ns]")


def to_datetime(values: pd.Series) -> pd.Series:
    """Datetimes as naive UTC ``datetime64[ns]`` (naive input is taken as UTC)."""
    if len(values) == 0:
        return pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    return pd.to_datetime(values, utc=True).dt.tz_localize(None).astype("datetime64[ns]")


def study_day(date: pd.Series, reference: pd.Series) -> pd.Series:
    """ADaM study day: ``date - reference + 1`` on or after the reference, ``date - reference``
    before it (no day 0); missing when either is missing (ADaMIG 1.3, ``ADY``)."""
    days = (date - reference).dt.days.astype("float64")
    return days.where(days < 0, days + 1)


def trtan(protocol: Any, arms: pd.Series) -> pd.Series:
    """Numeric treatment: 1 + the position in the protocol's ``[[arms]]`` of the arm whose code
    or name is the value (missing when none is)."""
    order: dict[str, float] = {}
    for i, arm in enumerate(getattr(protocol, "arms", ())):
        order[str(arm.code)] = float(i + 1)
        order[str(arm.name)] = float(i + 1)
    return arms.map(order).astype("float64")


def with_subjects(source: StudySource, adsl: Dataset, table: str) -> pd.DataFrame:
    """The rows of ``table`` of the subjects in ADSL, with the ADSL columns joined.

    ``USUBJID`` is ``<study code>-<subject code>`` (as in ADSL); rows of subjects not in ADSL
    are left out. ``TRTSDT``/``TRTEDT``/``RANDDT`` become ``datetime64`` days.

    Raises
    ------
    InvalidInputError
        ADSL lacks one of :data:`ADSL_KEYS`.
    """
    missing = [c for c in ADSL_KEYS if c not in adsl.frame.columns]
    if missing:
        raise InvalidInputError(f"ADSL lacks {', '.join(missing)}", field="adsl")
    rows = source.frame(table)
    subjects = source.frame("subject")
    if rows.empty or subjects.empty:
        return pd.DataFrame()
    code = str(source.study["code"])
    ids = pd.DataFrame(
        {"subject_id": subjects["id"], "USUBJID": code + "-" + subjects["subject_code"].astype(str)}
    )
    keep = [
        c for c in adsl.frame.columns if c in (*ADSL_KEYS, "TRTEDT", "SAFFL", "ITTFL", "RANDDT")
    ]
    subject_level = adsl.frame[keep].copy()
    for column in ("TRTSDT", "TRTEDT", "RANDDT"):
        if column in subject_level:
            subject_level[column] = to_date(subject_level[column].astype(object))
        else:
            subject_level[column] = pd.Series(pd.NaT, index=subject_level.index).astype(
                "datetime64[ns]"
            )
    for column in ("SAFFL", "ITTFL"):
        if column not in subject_level:
            subject_level[column] = None
    merged = rows.merge(ids, on="subject_id", how="inner")
    return merged.merge(subject_level, on="USUBJID", how="inner").reset_index(drop=True)


def flag_first(frame: pd.DataFrame, by: Sequence[str], eligible: pd.Series) -> pd.Series:
    """``"Y"`` on the first eligible row of each ``by`` group in the frame's current order."""
    flags = pd.Series(None, index=frame.index, dtype=object)
    chosen = frame[eligible.fillna(False).astype(bool)]
    if chosen.empty:
        return flags
    first = chosen.groupby(list(by), sort=False, dropna=False).head(1).index
    flags.loc[first] = Y
    return flags


def flag_baseline(
    frame: pd.DataFrame, by: Sequence[str], when: str, reference: str, order: Sequence[str]
) -> pd.Series:
    """``"Y"`` on the last row of each ``by`` group dated on or before its ``reference`` date
    (sorted by ``order``, the last wins): the ADaM baseline, "the last non-missing value on or
    before the first dose" (ADaMIG 1.3, ``ABLFL``); rows without a value (``AVAL`` and
    ``AVALC`` missing, when those columns exist) are not candidates."""
    eligible = frame[when].notna() & frame[reference].notna() & (frame[when] <= frame[reference])
    values = [frame[c].notna() for c in ("AVAL", "AVALC") if c in frame]
    if values:
        has_value = values[0]
        for other in values[1:]:
            has_value = has_value | other
        eligible &= has_value
    flags = pd.Series(None, index=frame.index, dtype=object)
    chosen = frame[eligible].sort_values([*by, *order], kind="mergesort")
    if not chosen.empty:
        flags.loc[chosen.groupby(list(by), sort=False).tail(1).index] = Y
    return flags


def carry_baseline(
    frame: pd.DataFrame, by: Sequence[str], column: str, flag: pd.Series
) -> pd.Series:
    """The ``column`` value of the group's ``flag == "Y"`` row on every row of the group."""
    base = frame.loc[flag == Y, [*by, column]].rename(columns={column: "_base"})
    merged = frame[list(by)].merge(base, on=list(by), how="left")
    return pd.Series(merged["_base"].to_numpy(), index=frame.index)


def _char_values(series: pd.Series) -> list[str | None]:
    out: list[str | None] = []
    for value in series.tolist():
        if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
            out.append(None)
        else:
            out.append(str(value))
    return out


def _date_values(series: pd.Series) -> list[dt.date | None]:
    if len(series) == 0:
        return []
    days = to_date(series.astype(object))
    return [None if pd.isna(v) else v.date() for v in days]


def make_dataset(
    name: str,
    label: str,
    klass: str,
    structure: str,
    variables: Sequence[Variable],
    frame: pd.DataFrame,
) -> Dataset:
    """The :class:`Dataset` of ``frame``'s columns named by ``variables``, in their order.

    ``Char`` columns become ``str``/``None`` and get the length of their longest value (at
    least 1); ``date`` columns become ``datetime.date``/``None``; ``Num`` columns ``float``
    (``NaN`` missing). Every builder here calls it with ``standard="ADaMIG 1.3"``.

    Raises
    ------
    InvalidInputError
        A variable has no column, or a ``Char`` value is longer than 200 characters.
    """
    columns: dict[str, Any] = {}
    final: list[Variable] = []
    for variable in variables:
        if variable.name not in frame.columns:
            raise InvalidInputError(f"{name}: no column {variable.name}", field=variable.name)
        series = frame[variable.name]
        if variable.type == "Char":
            values = _char_values(series)
            longest = max((len(v) for v in values if v is not None), default=1)
            if longest > 200:
                raise InvalidInputError(
                    f"{name}.{variable.name}: a value of {longest} characters (SAS V5: 200)",
                    field=variable.name,
                )
            columns[variable.name] = pd.Series(values, dtype=object)
            variable = dataclasses.replace(variable, length=max(longest, variable.length, 1))
        elif variable.data_type == "date":
            columns[variable.name] = pd.Series(_date_values(series), dtype=object)
        else:
            columns[variable.name] = pd.to_numeric(series, errors="coerce").astype("float64")
            columns[variable.name] = columns[variable.name].reset_index(drop=True)
        final.append(variable)
    out = pd.DataFrame(columns, columns=[v.name for v in final])
    out.index = pd.RangeIndex(len(out))
    return Dataset(name, label, klass, structure, "ADaMIG 1.3", tuple(final), out)


def regimen_history(source: StudySource) -> dict[int, list[tuple[dt.date, str]]]:
    """Subject id -> its regimen periods ``(start, regimen)`` in order."""
    periods = source.frame("regimen_period")
    if periods.empty:
        return {}
    sort = ["subject_id", "start_date", "id"] if "id" in periods else ["subject_id", "start_date"]
    periods = periods.sort_values(sort, kind="mergesort")
    history: dict[int, list[tuple[dt.date, str]]] = {}
    for subject, start, regimen in zip(
        periods["subject_id"], periods["start_date"], periods["regimen"], strict=True
    ):
        history.setdefault(int(subject), []).append((start, str(regimen)))
    return history
