"""Bad input to equitrial.analysis.efficacy: an InvalidInputError naming the dataset or column."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from equitrial.analysis import efficacy
from equitrial.errors import InvalidInputError
from equitrial.protocol import load_protocol

ROOT = Path(__file__).parents[2]
PROTOCOL = load_protocol(ROOT / "examples" / "melanoma-pembrolizumab" / "protocol.toml")


def _adam() -> dict[str, pd.DataFrame]:
    adsl = pd.DataFrame(
        {
            "USUBJID": ["A", "B", "C", "D"],
            "TRT01P": ["Proposed pembrolizumab biosimilar", "Keytruda (EU-sourced)"] * 2,
            "ITTFL": ["Y"] * 4,
            "PPROTFL": ["Y"] * 4,
            "STRATAR": ["mutant / 0 / M0-M1b, normal LDH"] * 4,
            "AGE": [50, 70, 60, 66],
            "SEX": ["F", "M", "M", "F"],
            "REGION1": ["Europe"] * 4,
            "SITETYPE": ["METROPOLITAN"] * 4,
            "REGIMEN": ["Q3W"] * 4,
        }
    )
    adrs = pd.DataFrame(
        {
            "USUBJID": ["A", "B", "C", "D"] * 4,
            "PARAMCD": [p for p in ("RSP24", "BOR24", "RSP24INV", "BOR24INV") for _ in range(4)],
            "AVALC": ["Y", "N", "Y", "Y", "PR", "SD", "PR", "CR"] * 2,
        }
    )
    adtte = pd.DataFrame({"USUBJID": ["A"], "PARAMCD": ["PFS"], "AVAL": [1.0], "CNSR": [0]})
    return {"ADSL": adsl, "ADRS": adrs, "ADTTE": adtte}


FUNCTIONS: list[Callable[..., Any]] = [
    efficacy.primary,
    efficacy.sensitivity,
    efficacy.secondary,
    efficacy.subgroups,
]


@pytest.mark.parametrize("func", FUNCTIONS)
@pytest.mark.parametrize("name", ["ADSL", "ADRS"])
def test_missing_dataset(func: Callable[..., Any], name: str) -> None:
    adam = _adam()
    del adam[name]
    with pytest.raises(InvalidInputError) as err:
        func(adam, PROTOCOL)
    assert err.value.field == name
    assert name in str(err.value)


def test_missing_adtte_for_secondary() -> None:
    adam = _adam()
    del adam["ADTTE"]
    with pytest.raises(InvalidInputError) as err:
        efficacy.secondary(adam, PROTOCOL)
    assert err.value.field == "ADTTE"


@pytest.mark.parametrize(
    ("dataset", "column", "func"),
    [
        ("ADSL", "ITTFL", efficacy.primary),
        ("ADSL", "TRT01P", efficacy.primary),
        ("ADSL", "USUBJID", efficacy.primary),
        ("ADRS", "AVALC", efficacy.primary),
        ("ADRS", "PARAMCD", efficacy.primary),
        ("ADSL", "PPROTFL", efficacy.sensitivity),
        ("ADSL", "STRATAR", efficacy.sensitivity),
        ("ADSL", "AGE", efficacy.subgroups),
    ],
)
def test_missing_column(dataset: str, column: str, func: Callable[..., Any]) -> None:
    adam = _adam()
    adam[dataset] = adam[dataset].drop(columns=[column])
    with pytest.raises(InvalidInputError) as err:
        func(adam, PROTOCOL)
    assert err.value.field == f"{dataset}.{column}"
    assert column in str(err.value)


def test_missing_parameter_and_unknown_arm() -> None:
    adam = _adam()
    adam["ADRS"] = adam["ADRS"][adam["ADRS"]["PARAMCD"] != "RSP24"]
    with pytest.raises(InvalidInputError, match="RSP24") as err:
        efficacy.primary(adam, PROTOCOL)
    assert err.value.field == "ADRS.PARAMCD"
    adam = _adam()
    adam["ADSL"].loc[0, "TRT01P"] = "Placebo"
    with pytest.raises(InvalidInputError, match="Placebo") as err:
        efficacy.primary(adam, PROTOCOL)
    assert err.value.field == "ADSL.TRT01P"


def test_arm_code_column_and_empty_arm() -> None:
    adam = _adam()
    adam["ADSL"]["ARMCD"] = ["BIO", "REF"] * 2
    result = efficacy.primary(adam, PROTOCOL)
    assert result["arm_n"] == {"BIO": 2, "REF": 2}
    assert result["responders"] == {"BIO": 2, "REF": 1}
    adam["ADSL"]["ARMCD"] = ["BIO"] * 4
    with pytest.raises(InvalidInputError, match="REF"):
        efficacy.primary(adam, PROTOCOL)


def test_not_a_mapping() -> None:
    with pytest.raises(InvalidInputError) as err:
        efficacy.primary([], PROTOCOL)  # type: ignore[arg-type]
    assert err.value.field == "adam"
