"""A subject's stratum: every stratification factor present with a level the protocol lists."""

from __future__ import annotations

import json
from typing import Any

from equitrial.errors import InvalidInputError
from equitrial.protocol import Protocol
from equitrial.randomization.blocks import stratum_key

__all__ = ["parse_stratum_key", "subject_stratum"]


def subject_stratum(protocol: Protocol, strata_json: str | None) -> str:
    """The canonical stratum of a subject, refusing a missing, unknown or invalid level.

    Parameters
    ----------
    protocol
        The study's protocol (its ``[stratification]`` table).
    strata_json
        The subject's ``strata_json``: a JSON object factor -> level.

    Returns
    -------
    str
        ``"factor=level;..."`` sorted by factor (``""`` when the study has no factors).

    Raises
    ------
    InvalidInputError
        Naming the factor (``field="strata.<factor>"``) that is missing, unknown or has a level
        the protocol does not list — never randomize on a partial stratum (OpenClinica's bug).
    """
    levels = protocol.stratification_levels()
    given = _parse_strata(strata_json)
    for factor, allowed in levels.items():
        value = given.get(factor)
        if value is None or value == "":
            raise InvalidInputError(
                f"stratification factor {factor!r} is missing; expected one of {allowed}",
                field=f"strata.{factor}",
                expected=f"one of {allowed}",
            )
        if value not in allowed:
            raise InvalidInputError(
                f"stratification factor {factor!r} has level {value!r}; expected one of {allowed}",
                field=f"strata.{factor}",
                value=value,
                expected=f"one of {allowed}",
            )
    unknown = sorted(set(given) - set(levels))
    if unknown:
        raise InvalidInputError(
            f"{unknown[0]!r} is not a stratification factor of the study; "
            f"expected only {sorted(levels)}",
            field=f"strata.{unknown[0]}",
            value=given[unknown[0]],
        )
    return stratum_key({f: given[f] for f in levels})


def _parse_strata(strata_json: str | None) -> dict[str, Any]:
    try:
        given = json.loads(strata_json) if strata_json else {}
    except json.JSONDecodeError:
        raise InvalidInputError(
            "the subject's strata are not valid JSON", field="strata", value=strata_json
        ) from None
    if not isinstance(given, dict):
        raise InvalidInputError(
            "the subject's strata must map each factor to its level",
            field="strata",
            value=strata_json,
        )
    return given


def parse_stratum_key(key: str) -> dict[str, str]:
    """Invert :func:`~equitrial.randomization.blocks.stratum_key` (``""`` -> ``{}``).

    Factors and levels never hold ``;`` or ``=`` (:func:`stratum_key` refuses them).
    """
    return dict(part.split("=", 1) for part in key.split(";")) if key else {}
