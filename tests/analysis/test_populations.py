"""Section 14.1: populations, disposition, demographics and the CONSORT counts, on a hand-made
ADSL whose every count, mean and SD is worked out by hand below."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from equitrial.analysis.populations import (
    consort,
    demographics,
    populations,
    populations_tables,
)
from equitrial.errors import InvalidInputError
from equitrial.protocol import load_protocol

ROOT = Path(__file__).resolve().parents[2]
PROTOCOL = load_protocol(ROOT / "examples/melanoma-pembrolizumab/protocol.toml")
BIO = next(a.name for a in PROTOCOL.arms if a.code == "BIO")
REF = next(a.name for a in PROTOCOL.arms if a.code == "REF")


def _adsl() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "USUBJID": ["1", "2", "3", "4", "5"],
            "TRT01P": [BIO, BIO, BIO, REF, REF],
            "ITTFL": ["Y"] * 5,
            "SAFFL": ["Y", "Y", "N", "Y", "Y"],
            "PPROTFL": ["Y", "N", "N", "Y", "Y"],
            "AGE": [50.0, 70.0, 66.0, 40.0, None],
            "SEX": ["F", "M", "F", "F", "M"],
            "ECOG": [0.0, 1.0, 0.0, None, 1.0],
            "EOTSTT": ["DISCONTINUED", "ONGOING", "DISCONTINUED", "COMPLETED", "DISCONTINUED"],
            "DCTREAS": ["ADVERSE EVENT", None, "PROGRESSIVE DISEASE", None, "ADVERSE EVENT"],
        }
    )


def test_populations_and_disposition_by_arm() -> None:
    result = populations({"ADSL": _adsl()}, PROTOCOL)
    assert result["arms"] == {"BIO": BIO, "REF": REF}
    assert result["randomized"] == {"BIO": 3, "REF": 2}
    flags = {p["flag"]: p["arms"] for p in result["populations"]}
    assert list(flags) == ["ITTFL", "SAFFL", "PPROTFL"]  # RESPEVFL, PKFL absent from ADSL
    assert flags["SAFFL"]["BIO"] == {"n": 2, "percent": 100 * 2 / 3}
    assert flags["PPROTFL"]["REF"] == {"n": 2, "percent": 100.0}
    treatment = result["treatment"]
    assert treatment["discontinued"] == {"BIO": 2, "REF": 1}
    assert treatment["ongoing"] == {"BIO": 1, "REF": 0}
    assert treatment["reasons"] == {
        "ADVERSE EVENT": {"BIO": 1, "REF": 1},
        "PROGRESSIVE DISEASE": {"BIO": 1, "REF": 0},
    }


def test_demographics_age_and_categories() -> None:
    result = demographics({"ADSL": _adsl()}, PROTOCOL)
    bio = result["age"]["BIO"]  # 50, 70, 66: mean 62, SD sqrt(((12)^2 + 8^2 + 4^2) / 2)
    assert bio["n"] == 3 and bio["mean"] == pytest.approx(62.0, rel=1e-15)
    assert bio["sd"] == pytest.approx(math.sqrt((144 + 64 + 16) / 2), rel=1e-15)
    assert (bio["median"], bio["min"], bio["max"]) == (66.0, 50.0, 70.0)
    assert result["age"]["REF"] == {
        "n": 1,
        "mean": 40.0,
        "sd": None,
        "median": 40.0,
        "min": 40.0,
        "max": 40.0,
    }
    assert result["age"]["total"]["n"] == 4
    by_variable = {c["variable"]: c["levels"] for c in result["categories"]}
    groups = {lv["level"]: lv["counts"] for lv in by_variable["AGEGR1"]}
    assert groups["< 65"]["BIO"]["n"] == 1 and groups[">= 65"]["BIO"]["n"] == 2
    assert groups["Missing"]["REF"] == {"n": 1, "percent": 50.0}
    ecog = {lv["level"]: lv["counts"] for lv in by_variable["ECOG"]}
    assert set(ecog) == {"0", "1", "Missing"}
    assert ecog["0"]["total"] == {"n": 2, "percent": 40.0}


def test_consort_counts_from_dm_and_ds() -> None:
    dm = pd.DataFrame({"USUBJID": ["1", "2", "3", "4", "5", "6", "7", "8"]})
    ds = pd.DataFrame(
        {
            "USUBJID": ["6", "7", "8", "1"],
            "DSDECOD": ["SCREEN FAILURE", "SCREEN FAILURE", "SCREEN FAILURE", "RANDOMIZED"],
            "DSTERM": ["ECOG 2", "ECOG 2", "brain metastases", "randomized"],
        }
    )
    counts = consort({"ADSL": _adsl()}, {"DM": dm, "DS": ds}, PROTOCOL)
    assert counts["screened"] == 8
    assert counts["screen_failures"] == {"ECOG 2": 2, "brain metastases": 1}
    assert counts["randomized"] == {"BIO": 3, "REF": 2}
    assert counts["received"] == {"BIO": 2, "REF": 2}
    assert counts["discontinued"] == {
        "BIO": {"ADVERSE EVENT": 1, "PROGRESSIVE DISEASE": 1},
        "REF": {"ADVERSE EVENT": 1},
    }


def test_tables_are_numbered_and_rectangular() -> None:
    adam = {"ADSL": _adsl()}
    tables = populations_tables(populations(adam, PROTOCOL), demographics(adam, PROTOCOL))
    assert [t.number for t in tables] == ["14.1.1", "14.1.2"]
    assert tables[1].columns[-1] == "Total (N=5)"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda a: a.drop(columns="TRT01P"), "ADSL.TRT01P"),
        (lambda a: a.assign(TRT01P="Placebo"), "ADSL.TRT01P"),
        (lambda a: a.drop(columns="AGE"), "ADSL.AGE"),
    ],
)
def test_bad_adsl_is_refused_naming_the_variable(change, field) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidInputError) as caught:
        populations({"ADSL": change(_adsl())}, PROTOCOL)
    assert caught.value.field == field
    with pytest.raises(InvalidInputError) as missing:
        populations({}, PROTOCOL)
    assert missing.value.field == "ADSL"
