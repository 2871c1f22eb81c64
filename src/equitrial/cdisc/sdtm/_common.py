"""What every SDTM domain shares: identifiers, ISO 8601 dates, study days, epochs, --SEQ, visits
and the assembly of a :class:`~equitrial.datasets.Dataset` from a frame and its variables.

Rules (CDISC SDTMIG v3.4):

- ``USUBJID`` is ``<STUDYID>-<subject code>`` (section 4.1.2.3: unique within a submission);
- ``--DTC`` is ISO 8601 text (section 4.4.1): ``YYYY-MM-DD`` for dates, ``YYYY-MM-DDThh:mm``
  for date-times (the store keeps UTC; SDTM carries no time zone);
- ``--DY`` is ``date - RFSTDTC + 1`` on or after ``RFSTDTC`` and ``date - RFSTDTC`` before it:
  there is no day 0 (section 4.4.4); ``RFSTDTC`` is the first dose date;
- ``EPOCH`` (section 4.1.3.1, CT C99079): ``SCREENING`` before the first dose, ``TREATMENT`` from
  the first dose to the end-of-treatment disposition date (both included), ``FOLLOW-UP`` after;
  a subject never dosed is in ``SCREENING``;
- ``--SEQ`` numbers a subject's records 1..n in a stable sort (section 4.1.2.5).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

import numpy as np
import pandas as pd

from equitrial.datasets import Dataset, StudySource, Variable

__all__ = [
    "EPOCH_CT",
    "STANDARD",
    "Subjects",
    "Var",
    "assemble",
    "attach",
    "char",
    "dy_var",
    "epoch",
    "epoch_var",
    "identifiers",
    "iso_date",
    "iso_datetime",
    "num",
    "per_value",
    "seq_var",
    "sequence",
    "study_day",
    "table",
    "to_day",
    "visit_number",
]

STANDARD: Final = "SDTMIG 3.4"
EPOCH_CT: Final = ("SCREENING", "TREATMENT", "FOLLOW-UP")
"""EPOCH values used (CDISC CT EPOCH, C99079)."""

_DAY_VISIT: Final = re.compile(r"^day (-?\d+)$")
_NUMBERED_VISIT: Final = re.compile(r"^(.*\D) (\d+)$")


@dataclass(frozen=True)
class Var:
    """A variable before its length is known: ``assemble`` sets the length from the data."""

    name: str
    label: str
    type: Literal["Char", "Num"] = "Char"
    origin: str = "Collected"
    derivation: str | None = None
    codelist: tuple[str, ...] | None = None
    data_type: str | None = None


def char(
    name: str,
    label: str,
    origin: str = "Collected",
    derivation: str | None = None,
    codelist: Iterable[str] | None = None,
) -> Var:
    """A ``Char`` variable."""
    codes = None if codelist is None else tuple(codelist)
    return Var(name, label, "Char", origin, derivation, codes)


def num(
    name: str,
    label: str,
    origin: str = "Collected",
    derivation: str | None = None,
    data_type: str = "integer",
) -> Var:
    """A ``Num`` variable (``data_type`` ``integer`` or ``float``)."""
    return Var(name, label, "Num", origin, derivation, None, data_type)


def identifiers() -> list[Var]:
    """``STUDYID``, ``DOMAIN``, ``USUBJID`` (SDTMIG v3.4 section 4.1.2)."""
    return [
        char("STUDYID", "Study Identifier", "Protocol"),
        char("DOMAIN", "Domain Abbreviation", "Assigned"),
        char("USUBJID", "Unique Subject Identifier", "Derived", "STUDYID-SUBJID"),
    ]


def seq_var(domain: str, order: str) -> Var:
    """``--SEQ`` numbered 1..n per subject in the order ``order`` (words)."""
    text = f"1..n within USUBJID, sorted by {order}"
    return num(f"{domain}SEQ", "Sequence Number", "Derived", text)


def epoch_var() -> Var:
    """``EPOCH`` derived from the record's date (see the module notes)."""
    text = (
        "SCREENING before RFSTDTC (or no dose), TREATMENT from RFSTDTC to the end-of-treatment "
        "disposition date inclusive, FOLLOW-UP after it"
    )
    return char("EPOCH", "Epoch", "Derived", text, EPOCH_CT)


def dy_var(name: str, label: str, dtc: str) -> Var:
    """A ``--DY`` study day of the date ``dtc``."""
    text = f"{dtc} - RFSTDTC + 1 on or after RFSTDTC, else {dtc} - RFSTDTC (no day 0)"
    return num(name, label, "Derived", text)


def table(source: StudySource, name: str, columns: Sequence[str]) -> pd.DataFrame:
    """The rows of ``name`` with at least ``columns`` (empty, with those columns, if none)."""
    frame = source.frame(name)
    missing = [c for c in columns if c not in frame.columns]
    for column in missing:
        frame[column] = pd.Series([None] * len(frame), dtype=object)
    return frame


def to_day(values: pd.Series) -> pd.Series:
    """Dates or date-times (naive = UTC) -> ``datetime64`` calendar days (time dropped)."""
    return to_time(values).dt.normalize()


def to_time(values: pd.Series) -> pd.Series:
    """Dates or date-times (naive = UTC) -> naive UTC ``datetime64``."""
    if len(values) == 0:
        return pd.Series(pd.to_datetime([]), index=values.index)
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        tz = getattr(values.dt, "tz", None)
        return values if tz is None else values.dt.tz_convert(None)
    stamps = pd.to_datetime(values, utc=True, errors="coerce")
    return stamps.dt.tz_convert(None)


def _iso(times: pd.Series, unit: Literal["D", "m"]) -> pd.Series:
    text = np.datetime_as_string(times.to_numpy(dtype="datetime64[ns]"), unit=unit)
    return pd.Series(text, index=times.index, dtype=object).where(times.notna(), None)


def iso_date(values: pd.Series) -> pd.Series:
    """ISO 8601 ``YYYY-MM-DD`` text of dates (``None`` when missing)."""
    return _iso(to_day(values), "D")


def iso_datetime(values: pd.Series) -> pd.Series:
    """ISO 8601 ``YYYY-MM-DDThh:mm`` text of UTC date-times (``None`` when missing)."""
    return _iso(to_time(values), "m")


def per_value(values: pd.Series, func: Callable[[Any], Any]) -> pd.Series:
    """``func`` of each present value, computed once per distinct value (missing: ``None``)."""
    mapping = {v: func(v) for v in values.dropna().unique()}
    return values.map(mapping).astype(object).where(values.notna(), None)


def study_day(dates: pd.Series, reference: pd.Series) -> pd.Series:
    """``--DY``: ``date - reference + 1`` on or after the reference, ``date - reference`` before
    (SDTMIG v3.4 section 4.4.4; no day 0); ``NaN`` when either is missing."""
    delta = (to_day(dates) - to_day(reference)).dt.days
    return delta.where(delta < 0, delta + 1).astype(float)


def epoch(dates: pd.Series, first_dose: pd.Series, end_treatment: pd.Series) -> pd.Series:
    """``EPOCH`` of each date: ``SCREENING`` before the first dose (or without one),
    ``TREATMENT`` from the first dose to the end of treatment inclusive (open while no end of
    treatment is recorded), ``FOLLOW-UP`` after it; ``None`` for a missing date."""
    day, start, end = to_day(dates), to_day(first_dose), to_day(end_treatment)
    treated = start.notna() & (day >= start)
    after = treated & end.notna() & (day > end)
    out = np.where(after, "FOLLOW-UP", np.where(treated, "TREATMENT", "SCREENING"))
    return pd.Series(out, index=dates.index, dtype=object).where(day.notna(), None)


def sequence(frame: pd.DataFrame, by: Sequence[str]) -> pd.DataFrame:
    """The frame sorted (stable) by ``USUBJID`` then ``by``, with ``SEQ`` = 1..n per subject."""
    ordered = frame.sort_values(["USUBJID", *by], kind="mergesort", na_position="last")
    ordered = ordered.reset_index(drop=True)
    ordered["SEQ"] = ordered.groupby("USUBJID", sort=False).cumcount().astype(float) + 1.0
    return ordered


def visit_number(names: pd.Series) -> pd.Series:
    """``VISITNUM`` of a visit name, the same in every subject and every cut.

    ``day N`` (the visits the protocol plans, named by their planned study day) is ``N``; a
    numbered visit ``<name> K`` (``survival follow-up 3``) is ``10000 * (1 + i) + K``, ``i`` the
    rank of ``<name>`` among such names; any other name ``90000 + its rank``; missing ``NaN``.
    """
    unique = sorted({n for n in names.dropna().unique()})
    numbered = sorted({m.group(1) for n in unique if (m := _NUMBERED_VISIT.match(n))})
    numbered = [n for n in numbered if n != "day"]
    others = [n for n in unique if not _DAY_VISIT.match(n) and not _NUMBERED_VISIT.match(n)]
    mapping: dict[str, float] = {}
    for name in unique:
        if day := _DAY_VISIT.match(name):
            mapping[name] = float(day.group(1))
        elif (match := _NUMBERED_VISIT.match(name)) and match.group(1) in numbered:
            mapping[name] = 10000.0 * (1 + numbered.index(match.group(1))) + int(match.group(2))
        else:
            mapping[name] = 90000.0 + others.index(name) + 1
    return names.map(mapping).astype(float)


@dataclass(frozen=True)
class Subjects:
    """Subject-level keys every domain joins: one row per subject id (the frame's index) with
    ``USUBJID``, ``SUBJID``, ``SITEID``, ``RFST`` (first dose day), ``EOT`` (end-of-treatment
    disposition day) and ``RFSTDTC``; ``study`` is ``STUDYID``."""

    study: str
    frame: pd.DataFrame

    @classmethod
    def of(cls, source: StudySource) -> Subjects:
        """Keys of the source's subjects (first dose from ``dose``, end of treatment from
        ``disposition`` with scope ``END OF TREATMENT``)."""
        study = str(source.study["code"])
        subjects = table(source, "subject", ["id", "subject_code", "site_id"])
        sites = table(source, "site", ["id", "code"]).set_index("id")["code"]
        doses = table(source, "dose", ["subject_id", "date"])
        first = to_day(doses["date"]).groupby(doses["subject_id"]).min()
        dispositions = table(source, "disposition", ["subject_id", "scope", "date"])
        eot = dispositions[dispositions["scope"] == "END OF TREATMENT"]
        end = to_day(eot["date"]).groupby(eot["subject_id"]).min()
        frame = pd.DataFrame(index=pd.Index(subjects["id"].astype(int), name="subject_id"))
        codes = subjects["subject_code"].astype(str).to_numpy()
        frame["SUBJID"] = codes
        frame["USUBJID"] = [f"{study}-{c}" for c in codes]
        frame["SITEID"] = subjects["site_id"].map(sites).to_numpy()
        frame["RFST"] = first.reindex(frame.index)
        frame["EOT"] = end.reindex(frame.index)
        frame["RFSTDTC"] = iso_date(frame["RFST"])
        return cls(study, frame)


def attach(
    frame: pd.DataFrame,
    subjects: Subjects,
    dates: Sequence[str] = (),
    column: str = "subject_id",
) -> pd.DataFrame:
    """``frame`` with ``STUDYID``, ``USUBJID``, ``RFST`` and ``EOT`` of its subject (rows of
    subjects not in the source are dropped), its ``dates`` columns as naive UTC
    ``datetime64`` (converted once)."""
    keys = subjects.frame[["USUBJID", "RFST", "EOT"]]
    out = frame.merge(keys, left_on=column, right_index=True, how="inner")
    out = out.reset_index(drop=True)
    out["STUDYID"] = subjects.study
    for name in dates:
        out[name] = to_time(out[name])
    return out


def _as_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _char_column(values: pd.Series) -> pd.Series:
    if pd.api.types.infer_dtype(values, skipna=True) not in ("string", "empty"):
        values = values.map(_as_text, na_action="ignore")
    out = values.astype(object)
    return out.where(out.notna() & (out != ""), None)


def assemble(
    name: str,
    label: str,
    klass: str,
    structure: str,
    variables: Sequence[Var],
    frame: pd.DataFrame,
    keys: Sequence[str] = (),
) -> Dataset:
    """The :class:`Dataset` of ``frame``'s ``variables`` (in their order; absent columns are
    missing values): ``Char`` columns as ``str``/``None`` with the length the longest value
    needs (at least 1), ``Num`` columns as ``float``; ``keys`` (default ``STUDYID``,
    ``USUBJID``, ``--SEQ`` when the domain has a ``--SEQ``) numbered as the key sequence."""
    names = [v.name for v in variables]
    if not keys and f"{name}SEQ" in names:
        keys = ("STUDYID", "USUBJID", f"{name}SEQ")
    columns: dict[str, pd.Series] = {}
    out: list[Variable] = []
    for var in variables:
        if var.name in frame.columns:
            values = frame[var.name].reset_index(drop=True)
        else:
            values = pd.Series([None] * len(frame), dtype=object)
        if var.type == "Char":
            values = _char_column(values)
            lengths = values.dropna().map(len)
            length = max(1, int(lengths.max()) if len(lengths) else 1)
            data_type = var.data_type or "string"
        else:
            values = pd.to_numeric(values, errors="coerce").astype(float)
            length, data_type = 8, var.data_type or "float"
        columns[var.name] = values
        out.append(
            Variable(
                name=var.name,
                label=var.label,
                type=var.type,
                length=length,
                data_type=data_type,
                origin=var.origin,
                derivation=var.derivation,
                codelist=var.codelist,
                key=keys.index(var.name) + 1 if var.name in keys else None,
            )
        )
    data = pd.DataFrame(columns, index=pd.RangeIndex(len(frame)))
    return Dataset(name, label, klass, structure, STANDARD, tuple(out), data)
