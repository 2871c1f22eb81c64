"""Hand-made inputs of the ADAE ... ADQS tests: a StudySource from rows, a small ADSL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

from equitrial.datasets import Dataset, StudySource, Variable
from equitrial.protocol import Protocol, load_protocol

STUDY = "EQT"
PROTOCOL_FILE = Path(__file__).parents[2] / "examples" / "melanoma-pembrolizumab" / "protocol.toml"


@lru_cache(maxsize=1)
def protocol() -> Protocol:
    """The flagship protocol (arms BIO, REF; regimens Q3W 200 mg, Q6W 400 mg)."""
    return load_protocol(PROTOCOL_FILE)


def source(tables: Mapping[str, list[dict[str, Any]]], n_subjects: int = 3) -> StudySource:
    """A study ``EQT`` with subjects 1..n (codes ``S01-000k``) and the given tables."""
    subjects = [
        {"id": k, "subject_code": f"S01-{k:04d}", "site_id": 1} for k in range(1, n_subjects + 1)
    ]
    return StudySource(
        study={"code": STUDY, "title": "test", "protocol_version": "1.0"},
        protocol=protocol(),
        tables={"subject": subjects, **tables},
        arms={k: "BIO" if k % 2 else "REF" for k in range(1, n_subjects + 1)},
    )


_ADSL_NAMES = (
    "STUDYID",
    "USUBJID",
    "SUBJID",
    "SITEID",
    "TRT01P",
    "TRT01A",
    "TRTSDT",
    "TRTEDT",
    "SAFFL",
    "ITTFL",
    "RANDDT",
)


def _adsl_dataset(records: list[dict[str, Any]], length: int) -> Dataset:
    """The hand-built ADSL of ``records`` (Char variables of ``length``, ``*DT`` dates)."""
    variables = tuple(
        Variable(n, n, "Num", data_type="date")
        if n.endswith("DT")
        else Variable(n, n, "Char", length)
        for n in _ADSL_NAMES
    )
    frame = pd.DataFrame(records, columns=list(_ADSL_NAMES))
    return Dataset(
        "ADSL",
        "Subject-Level",
        "SUBJECT LEVEL ANALYSIS DATASET",
        "One record per subject",
        "ADaMIG 1.3",
        variables,
        frame,
    )


def adsl(rows: Sequence[Mapping[str, Any]]) -> Dataset:
    """An ADSL with the columns the builders read; each row gives ``subject`` (1, 2, ...)
    and optionally TRTSDT, TRTEDT, RANDDT, TRT01A, SAFFL."""
    records = []
    for row in rows:
        k = int(row["subject"])
        arm = row.get("TRT01A", "BIO" if k % 2 else "REF")
        records.append(
            {
                "STUDYID": STUDY,
                "USUBJID": f"{STUDY}-S01-{k:04d}",
                "SUBJID": f"S01-{k:04d}",
                "SITEID": "S01",
                "TRT01P": arm,
                "TRT01A": arm,
                "TRTSDT": row.get("TRTSDT"),
                "TRTEDT": row.get("TRTEDT"),
                "SAFFL": row.get("SAFFL", "Y"),
                "ITTFL": "Y",
                "RANDDT": row.get("RANDDT", row.get("TRTSDT")),
            }
        )
    return _adsl_dataset(records, 20)


def adsl_from(study: StudySource) -> Dataset:
    """A hand-built ADSL of every randomized subject of ``study``: TRTSDT/TRTEDT the first and
    last dose date, TRT01A the randomized arm, SAFFL Y when dosed."""
    code = str(study.study["code"])
    doses = study.frame("dose")
    first: dict[int, dt.date] = {}
    last: dict[int, dt.date] = {}
    if not doses.empty:
        given = doses[doses["dose_mg"] > 0]
        first = given.groupby("subject_id")["date"].min().to_dict()
        last = given.groupby("subject_id")["date"].max().to_dict()
    records = []
    for subject in study.tables["subject"]:
        sid = subject["id"]
        if sid not in study.arms:
            continue
        arm = study.arms[sid]
        records.append(
            {
                "STUDYID": code,
                "USUBJID": f"{code}-{subject['subject_code']}",
                "SUBJID": subject["subject_code"],
                "SITEID": str(subject.get("site_id")),
                "TRT01P": arm,
                "TRT01A": arm,
                "TRTSDT": first.get(sid),
                "TRTEDT": last.get(sid),
                "SAFFL": "Y" if sid in first else "N",
                "ITTFL": "Y",
                "RANDDT": first.get(sid),
            }
        )
    return _adsl_dataset(records, 40)


def check_dataset(ds: Dataset, name: str, klass: str) -> None:
    """The contract every ADaM dataset here keeps: name, class, standard, keys, Char values
    ``str``/``None`` within the declared length, dates ``datetime.date``/``None``."""
    assert ds.name == name
    assert ds.klass == klass
    assert ds.standard == "ADaMIG 1.3"
    assert list(ds.frame.columns) == [v.name for v in ds.variables]
    keys = sorted(v.key for v in ds.variables if v.key is not None)
    assert keys == list(range(1, len(keys) + 1)) and keys
    for v in ds.variables:
        assert len(v.name) <= 8 and len(v.label) <= 40
        column = ds.frame[v.name]
        if v.type == "Char":
            assert all(x is None or isinstance(x, str) for x in column), v.name
            assert max((len(x) for x in column if x is not None), default=0) <= v.length
            if v.codelist is not None:
                assert set(x for x in column if x is not None) <= set(v.codelist), v.name
        elif v.data_type == "date":
            assert all(x is None or type(x) is dt.date for x in column), v.name
        else:
            assert column.dtype.kind == "f", v.name
        described = v.derivation or v.codelist or v.name in _OBVIOUS
        assert v.origin != "Derived" or described, v.name


_OBVIOUS = frozenset(
    {"PARAM", "PARAMN", "PARCAT1", "PARCAT2", "AVALU", "CRIT1", "ADURU", "RRLTU", "STUDYID"}
)


def row(ds: Dataset, **where: Any) -> dict[str, Any]:
    """The one record of ``ds`` whose columns equal ``where``."""
    frame = ds.frame
    mask = pd.Series(True, index=frame.index)
    for column, value in where.items():
        mask &= frame[column] == value
    found = frame[mask]
    assert len(found) == 1, (where, len(found))
    return dict(found.iloc[0])
