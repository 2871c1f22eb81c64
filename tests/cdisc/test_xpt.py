"""SAS XPT v5 writer and reader: metadata from the variables, values back, refusals.

Expected values: SAS dates are days since 1960-01-01 (SAS TS-140 / SAS language reference);
lengths, labels and names are the hand-made metadata of ``cdisc_samples``.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import pandas as pd
import pytest
from cdisc_samples import LONG_TEXT, mixed, samples, subjects

from equitrial.cdisc.xpt import read_xpt, sas_date, write_xpt
from equitrial.datasets import Dataset, Variable
from equitrial.errors import InvalidInputError


def _one(variable: Variable, values: list[object]) -> Dataset:
    frame = pd.DataFrame({variable.name: values})
    return Dataset("XX", "Test", "FINDINGS", "One record", "SDTMIG 3.4", (variable,), frame)


def test_sas_date_is_days_since_1960() -> None:
    assert sas_date(dt.date(1960, 1, 1)) == 0
    assert sas_date(dt.date(1959, 12, 31)) == -1
    assert sas_date(dt.date(2024, 1, 3)) == 23378  # 64 years: 16 leap days, 64*365+16+2


@pytest.mark.parametrize("dataset", samples(), ids=lambda d: d.name)
def test_metadata_round_trip(dataset: Dataset, tmp_path: Path) -> None:
    path = tmp_path / f"{dataset.name.lower()}.xpt"
    write_xpt(dataset, path)
    frame, meta = read_xpt(path)
    assert meta.name == dataset.name
    assert meta.label == dataset.label
    assert list(frame.columns) == [v.name for v in dataset.variables]
    for variable in dataset.variables:
        assert meta.labels[variable.name] == variable.label
        assert meta.types[variable.name] == variable.type
        assert meta.lengths[variable.name] == (8 if variable.type == "Num" else variable.length)
        expected_format = "DATE9." if variable.data_type == "date" else ""
        assert meta.formats[variable.name] == expected_format


def test_values_round_trip(tmp_path: Path) -> None:
    dataset = mixed()
    write_xpt(dataset, tmp_path / "adlb.xpt")
    frame, _ = read_xpt(tmp_path / "adlb.xpt")
    assert frame["COMMENT"].tolist() == [LONG_TEXT, "", "", "Ünïcödé in Latin-1: ÀÿßØ", "plain"]
    assert len(frame["COMMENT"][0]) == 200
    expected = dataset.frame["AVAL"].tolist()
    for got, want in zip(frame["AVAL"].tolist(), expected, strict=True):
        if math.isnan(want):
            assert math.isnan(got)
        else:
            assert got == pytest.approx(want, rel=1e-15)
    dates = frame["ADT"].tolist()
    assert dates[0] == dt.date(2024, 2, 29) and dates[2] == dt.date(2000, 1, 1)
    assert pd.isna(dates[1]) and pd.isna(dates[4])


def test_missing_char_is_blank_and_missing_num_is_nan(tmp_path: Path) -> None:
    write_xpt(subjects(), tmp_path / "adsl.xpt")
    frame, _ = read_xpt(tmp_path / "adsl.xpt")
    assert frame["SEX"].tolist() == ["F", "M", "", "U"]
    assert math.isnan(frame["AGE"][2])
    assert frame["TRTSDT"][1] == dt.date(1959, 12, 31)


def test_char_length_is_declared_not_longest_value(tmp_path: Path) -> None:
    dataset = _one(Variable("AETERM", "Reported Term", "Char", 100), ["A", None])
    write_xpt(dataset, tmp_path / "x.xpt")
    frame, meta = read_xpt(tmp_path / "x.xpt")
    assert meta.lengths["AETERM"] == 100
    assert frame["AETERM"].tolist() == ["A", ""]


def test_all_missing_char_column_keeps_its_type(tmp_path: Path) -> None:
    dataset = _one(Variable("AESER", "Serious Event", "Char", 1), [None, None])
    write_xpt(dataset, tmp_path / "x.xpt")
    _, meta = read_xpt(tmp_path / "x.xpt")
    assert meta.types["AESER"] == "Char" and meta.lengths["AESER"] == 1


def test_empty_dataset_keeps_declared_lengths(tmp_path: Path) -> None:
    variables = (
        Variable("USUBJID", "Unique Subject Identifier", "Char", 40),
        Variable("AGE", "Age", "Num", data_type="integer"),
        Variable("AETERM", "Reported Term", "Char", 200),
    )
    frame = pd.DataFrame({v.name: [] for v in variables})
    dataset = Dataset(
        "AE", "Adverse Events", "EVENTS", "One record", "SDTMIG 3.4", variables, frame
    )
    write_xpt(dataset, tmp_path / "ae.xpt")
    frame, meta = read_xpt(tmp_path / "ae.xpt")
    assert len(frame) == 0
    assert meta.lengths == {"USUBJID": 40, "AGE": 8, "AETERM": 200}
    assert meta.types == {"USUBJID": "Char", "AGE": "Num", "AETERM": "Char"}


def test_value_longer_than_length_is_refused(tmp_path: Path) -> None:
    dataset = _one(Variable("SITEID", "Study Site Identifier", "Char", 3), ["0001"])
    with pytest.raises(InvalidInputError, match="SITEID") as info:
        write_xpt(dataset, tmp_path / "x.xpt")
    assert info.value.field == "SITEID"
    assert not (tmp_path / "x.xpt").exists()


def test_length_counts_utf8_bytes(tmp_path: Path) -> None:
    # "é" is 2 bytes in UTF-8: "café" is 5 bytes, too long for a length of 4
    with pytest.raises(InvalidInputError, match="5 bytes"):
        write_xpt(_one(Variable("CITY", "City", "Char", 4), ["café"]), tmp_path / "x.xpt")
    write_xpt(_one(Variable("CITY", "City", "Char", 5), ["café"]), tmp_path / "y.xpt")
    assert read_xpt(tmp_path / "y.xpt")[0]["CITY"][0] == "café"


@pytest.mark.parametrize("text", ["Łódź", "東京", "emoji 🙂"])
def test_non_latin1_text_is_refused(text: str, tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match=r"CITY.*Latin-1"):
        write_xpt(_one(Variable("CITY", "City", "Char", 40), [text]), tmp_path / "x.xpt")


@pytest.mark.parametrize("value", [1e300, -1e80, 1e-300, math.inf])
def test_number_outside_ibm_range_is_refused(value: float, tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="AVAL"):
        write_xpt(
            _one(Variable("AVAL", "Value", "Num", data_type="double"), [value]), tmp_path / "x"
        )


def test_text_in_num_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="AGE"):
        write_xpt(_one(Variable("AGE", "Age", "Num", data_type="integer"), ["34"]), tmp_path / "x")


def test_read_refuses_a_file_that_is_not_xpt(tmp_path: Path) -> None:
    path = tmp_path / "x.xpt"
    path.write_text("not a transport file")
    with pytest.raises(InvalidInputError, match="not a readable SAS transport file"):
        read_xpt(path)


def test_numeric_datetime_is_sas_seconds_with_datetime20(tmp_path: Path) -> None:
    variable = Variable("ADTM", "Analysis Datetime", "Num", data_type="datetime")
    write_xpt(_one(variable, [dt.datetime(2024, 1, 3, 10, 0), None]), tmp_path / "x.xpt")
    frame, meta = read_xpt(tmp_path / "x.xpt")
    assert meta.formats["ADTM"] == "DATETIME20."
    assert frame["ADTM"][0] == dt.datetime(2024, 1, 3, 10, 0)  # 23378 * 86400 + 36000 seconds
    assert pd.isna(frame["ADTM"][1])


def test_pandas_timestamp_in_a_date_variable(tmp_path: Path) -> None:
    variable = Variable("ADT", "Analysis Date", "Num", data_type="date")
    write_xpt(_one(variable, [pd.Timestamp("2024-02-29")]), tmp_path / "x.xpt")
    assert read_xpt(tmp_path / "x.xpt")[0]["ADT"][0] == dt.date(2024, 2, 29)
