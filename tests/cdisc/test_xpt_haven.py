"""Our XPT files against an independent reader: R's haven 2.5.1 (ReadStat in C, via R).

``tests/reference/make_haven_inputs.py`` wrote the datasets of ``cdisc_samples`` with our writer
into ``tests/data/haven/`` (committed); ``tests/reference/haven_read.R`` read them with
``haven::read_xpt`` (and the NAMESTR lengths byte by byte) into
``tests/reference/haven_read.json``. CI has no R: only the JSON is read here.

Tolerance: numbers 1e-12 relative (haven's values are printed with 17 significant digits, the
exact double; XPT v5 holds IBM doubles, which keep an IEEE double exactly in their range).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from pathlib import Path
from typing import Any

import pytest
from cdisc_samples import samples

from equitrial.cdisc.xpt import read_xpt, write_xpt
from equitrial.datasets import Dataset

ROOT = Path(__file__).resolve().parents[2]
HAVEN = json.loads((ROOT / "tests/reference/haven_read.json").read_text("utf-8"))
COMMITTED = ROOT / "tests/data/haven"
_STAMP = re.compile(rb"\d\d[A-Z]{3}\d\d:\d\d:\d\d:\d\d")
"""The creation / modification stamps (ddMMMyy:hh:mm:ss) of the library and member headers."""


def _unstamped(data: bytes) -> bytes:
    return _STAMP.sub(b"XXXXXXXXXXXXXXXX", data)


@pytest.mark.parametrize("dataset", samples(), ids=lambda d: d.name)
def test_writer_reproduces_the_committed_bytes(dataset: Dataset, tmp_path: Path) -> None:
    name = f"{dataset.name.lower()}.xpt"
    write_xpt(dataset, tmp_path / name)
    ours = (tmp_path / name).read_bytes()
    committed = (COMMITTED / name).read_bytes()
    assert len(_STAMP.findall(committed)) == 4  # only the 4 time stamps differ between runs
    assert _unstamped(ours) == _unstamped(committed)


def _same(ours: Any, theirs: Any, kind: str) -> bool:
    if theirs is None:
        return ours is None or (isinstance(ours, float) and math.isnan(ours))
    if kind == "Date":
        return isinstance(ours, dt.date) and ours.isoformat() == theirs
    if kind == "double":
        return math.isclose(ours, float(theirs), rel_tol=1e-12, abs_tol=0.0)
    return bool(ours == theirs)


@pytest.mark.parametrize("name", sorted(HAVEN["datasets"]))
def test_our_reader_agrees_with_haven(name: str) -> None:
    haven = HAVEN["datasets"][name]
    frame, meta = read_xpt(COMMITTED / name)
    assert meta.label == haven["label"]
    assert len(frame) == haven["rows"]
    assert list(frame.columns) == list(haven["columns"])
    for column, expected in haven["columns"].items():
        assert meta.labels[column] == expected["label"]
        assert meta.lengths[column] == expected["length"]
        assert meta.types[column] == ("Char" if expected["type"] == "character" else "Num")
        assert meta.formats[column].rstrip(".") == expected["format"]
        for ours, theirs in zip(frame[column].tolist(), expected["values"], strict=True):
            assert _same(ours, theirs, expected["type"]), (column, ours, theirs)


@pytest.mark.parametrize("dataset", samples(), ids=lambda d: d.name)
def test_haven_reads_what_the_metadata_say(dataset: Dataset) -> None:
    haven = HAVEN["datasets"][f"{dataset.name.lower()}.xpt"]
    assert haven["label"] == dataset.label
    for variable in dataset.variables:
        column = haven["columns"][variable.name]
        assert column["label"] == variable.label
        assert column["length"] == (variable.length if variable.type == "Char" else 8)
        if variable.data_type == "date":
            assert column["type"] == "Date" and column["format"] == "DATE9"
        else:
            assert column["type"] == ("character" if variable.type == "Char" else "double")
        for ours, theirs in zip(
            dataset.frame[variable.name].tolist(), column["values"], strict=True
        ):
            if variable.type == "Char":
                assert theirs == (ours or "")  # a missing Char value is blank in SAS
            else:
                assert _same(ours, theirs, column["type"]), (variable.name, ours, theirs)
