"""Inputs of the efficacy analyses: checked ADaM frames, arm codes, response flags per subject.

Private to :mod:`equitrial.analysis.efficacy`. Every missing dataset or column is an
:class:`~equitrial.errors.InvalidInputError` whose ``field`` names it (``"ADRS"``,
``"ADSL.PPROTFL"``).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from equitrial.errors import InvalidInputError
from equitrial.protocol import Hypothesis, Protocol

__all__ = [
    "POPULATION_FLAGS",
    "READER_SUFFIX",
    "Arms",
    "arms_of",
    "clean",
    "column",
    "counts",
    "dataset",
    "evaluable_missing",
    "parameter_values",
    "population",
    "secondary_difference_hypothesis",
]

POPULATION_FLAGS: dict[str, str] = {
    "ITT": "ITTFL",
    "modified-ITT": "RESPEVFL",
    "per-protocol": "PPROTFL",
    "safety": "SAFFL",
    "PK": "PKFL",
}
"""Estimand population -> ADSL flag (ADaMIG 1.3 section 3.1.4)."""

READER_SUFFIX: dict[str, str] = {"blinded-central": "", "investigator": "INV"}
"""Endpoint review -> ADRS/ADTTE PARAMCD suffix (see :mod:`equitrial.datasets.adrs`)."""


def dataset(adam: Mapping[str, pd.DataFrame], name: str) -> pd.DataFrame:
    """``adam[name]`` as a DataFrame, or an InvalidInputError naming the dataset."""
    if not isinstance(adam, Mapping):
        raise InvalidInputError(
            f"adam must be a mapping of dataset name to DataFrame, got {type(adam).__name__}",
            field="adam",
        )
    frame = adam.get(name)
    if not isinstance(frame, pd.DataFrame):
        raise InvalidInputError(
            f"dataset {name} is missing from the ADaM datasets", field=name, expected="DataFrame"
        )
    return frame


def column(frame: pd.DataFrame, dataset_name: str, *names: str) -> None:
    """Raise an InvalidInputError naming ``DATASET.COLUMN`` for the first absent column."""
    for name in names:
        if name not in frame.columns:
            raise InvalidInputError(
                f"dataset {dataset_name} has no column {name}",
                field=f"{dataset_name}.{name}",
            )


@dataclass(frozen=True)
class Arms:
    """The two arms of the protocol and each ITT subject's arm code (USUBJID -> code)."""

    test: str
    reference: str
    code: pd.Series

    @property
    def order(self) -> tuple[str, str]:
        """``(test, reference)``."""
        return (self.test, self.reference)


def arms_of(adsl: pd.DataFrame, protocol: Protocol) -> Arms:
    """Each subject's arm code: ADSL ``ARMCD`` if present, else ``TRT01P`` mapped to the code.

    ADSL of :mod:`equitrial.datasets.adsl` carries the arm's *name* in ``TRT01P`` (and ``ARM``);
    a name or a code found there is mapped to the protocol's arm code.
    """
    column(adsl, "ADSL", "USUBJID")
    test, ref = protocol.test_arm, protocol.reference_arm
    lookup = {a.name: a.code for a in protocol.arms} | {a.code: a.code for a in protocol.arms}
    source = "ARMCD" if "ARMCD" in adsl.columns else "TRT01P"
    column(adsl, "ADSL", source)
    codes = adsl[source].map(lambda v: lookup.get(v) if isinstance(v, str) else None)
    unknown = adsl.loc[codes.isna(), source]
    if len(unknown):
        raise InvalidInputError(
            f"ADSL.{source} value {unknown.iloc[0]!r} is not an arm of the protocol "
            f"({', '.join(sorted(lookup))})",
            field=f"ADSL.{source}",
            value=unknown.iloc[0],
        )
    return Arms(test.code, ref.code, pd.Series(codes.to_numpy(), index=adsl["USUBJID"]))


def population(adsl: pd.DataFrame, name: str) -> pd.DataFrame:
    """ADSL subjects of the estimand population ``name`` (flag ``"Y"``)."""
    flag = POPULATION_FLAGS.get(name)
    if flag is None:
        raise InvalidInputError(f"unknown population {name!r}", field="population", value=name)
    column(adsl, "ADSL", flag)
    return adsl[adsl[flag] == "Y"]


def parameter_values(adrs_or_tte: pd.DataFrame, dataset_name: str, paramcd: str) -> pd.DataFrame:
    """Rows of one PARAMCD, one per subject (the first if repeated), indexed by USUBJID."""
    column(adrs_or_tte, dataset_name, "USUBJID", "PARAMCD")
    rows = adrs_or_tte[adrs_or_tte["PARAMCD"] == paramcd]
    return rows.drop_duplicates("USUBJID", keep="first").set_index("USUBJID")


def secondary_difference_hypothesis(protocol: Protocol) -> Hypothesis | None:
    """The hypothesis of a secondary endpoint on the difference scale of the primary variable.

    The example protocol's ``orr-w24-difference`` (EMA-style margin) is such an endpoint: same
    variable and timepoint as the primary endpoint, a difference-scale hypothesis.
    """
    primary = protocol.primary_endpoint
    if protocol.hypothesis.scale == "difference":
        return protocol.hypothesis
    for endpoint in protocol.endpoints:
        hyp = endpoint.hypothesis
        if (
            hyp is not None
            and hyp.scale == "difference"
            and endpoint.kind == "binary"
            and endpoint.timepoint_weeks == primary.timepoint_weeks
        ):
            return hyp
    return None


def evaluable_missing(
    subjects: pd.DataFrame, bor: pd.Series, timepoint_weeks: float | None
) -> pd.Series:
    """Whether each subject has no evaluable response up to the timepoint.

    No evaluable response: the best overall response up to the timepoint is ``"NE"`` or absent.
    A death before the timepoint (ADSL ``DTHDT`` before ``RANDDT`` + the timepoint, when both
    columns exist) is not missing data: the estimand counts it as a non-response (composite
    strategy, ICH E9(R1)).
    """
    values = subjects["USUBJID"].map(bor)
    missing = values.isna() | (values == "NE")
    if timepoint_weeks is not None and {"DTHDT", "RANDDT"} <= set(subjects.columns):
        weeks = float(timepoint_weeks)
        died = [
            isinstance(d, dt.date) and isinstance(r, dt.date) and d < r + dt.timedelta(weeks=weeks)
            for d, r in zip(subjects["DTHDT"], subjects["RANDDT"], strict=True)
        ]
        missing = missing & ~pd.Series(died, index=subjects.index)
    return missing.astype(bool)


def clean(value: Any) -> Any:
    """A JSON-able copy: NaN and infinities become None, numpy scalars Python numbers."""
    if isinstance(value, Mapping):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def counts(
    flags: Iterable[bool], arm_codes: Iterable[str], order: tuple[str, str]
) -> tuple[dict[str, int], dict[str, int]]:
    """``(arm_n, responders)``, each keyed by the arm codes of ``order``."""
    n = dict.fromkeys(order, 0)
    x = dict.fromkeys(order, 0)
    for flag, code in zip(flags, arm_codes, strict=True):
        n[code] += 1
        x[code] += int(bool(flag))
    return n, x
