"""What the generic CDISC analysis needs of its ADaM frames, checked before anything is counted.

Each problem is an :class:`~equitrial.errors.InvalidInputError` whose ``field`` names the
dataset and variable (``"ADAE.TRTEMFL"``), so the command line can say what is missing.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from equitrial.errors import InvalidInputError

__all__ = [
    "ADAE_VARIABLES",
    "ADSL_VARIABLES",
    "ADTTE_VARIABLES",
    "arm_order",
    "require",
    "safety_population",
]

ADSL_VARIABLES = ("USUBJID", "SAFFL", "TRT01A", "AGE", "SEX", "RACE")
"""ADSL variables the analysis reads (AGEGR1, TRT01AN, AGEGR1N and RACEN are used when present)."""
ADAE_VARIABLES = ("USUBJID", "TRTEMFL", "AEBODSYS")
"""ADAE variables the analysis reads."""
ADTTE_VARIABLES = ("USUBJID", "PARAM", "AVAL", "CNSR")
"""ADTTE variables the analysis reads."""


def require(frame: pd.DataFrame, dataset: str, variables: Iterable[str]) -> None:
    """Refuse a frame that lacks one of ``variables`` (``field`` = ``"DATASET.VARIABLE"``)."""
    missing = [v for v in variables if v not in frame.columns]
    if missing:
        raise InvalidInputError(
            f"{dataset} lacks the variable{'s' if len(missing) > 1 else ''} {', '.join(missing)}",
            field=f"{dataset}.{missing[0]}",
            expected=", ".join(variables),
        )


def safety_population(adsl: pd.DataFrame) -> pd.DataFrame:
    """The ADSL records with SAFFL = "Y": USUBJID, TRT01A and the demographic variables.

    Raises
    ------
    InvalidInputError
        If a variable is missing, a USUBJID repeats, an arm is blank or nobody is in the
        safety population.
    """
    require(adsl, "ADSL", ADSL_VARIABLES)
    if adsl["USUBJID"].duplicated().any():
        raise InvalidInputError("ADSL holds a USUBJID twice", field="ADSL.USUBJID")
    safety = adsl[adsl["SAFFL"] == "Y"].copy()
    if safety.empty:
        raise InvalidInputError("ADSL has no subject with SAFFL = 'Y'", field="ADSL.SAFFL")
    arms = safety["TRT01A"]
    if arms.isna().any() or (arms.astype(str).str.strip() == "").any():
        raise InvalidInputError(
            "ADSL has a subject of the safety population without TRT01A", field="ADSL.TRT01A"
        )
    return safety


def arm_order(safety: pd.DataFrame) -> list[str]:
    """The arms in the order of their TRT01AN code (then name), as the pilot's displays."""
    if "TRT01AN" in safety.columns and safety["TRT01AN"].notna().all():
        codes = safety.groupby("TRT01A")["TRT01AN"].min()
        return sorted(codes.index.astype(str), key=lambda arm: (float(codes[arm]), arm))
    return sorted(safety["TRT01A"].astype(str).unique())
