"""A subject's stratum: every stratification factor present with a level the protocol lists."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from equitrial.errors import InvalidInputError
from equitrial.protocol import Protocol
from equitrial.randomization.blocks import stratum_key

__all__ = ["complete_strata", "parse_stratum_key", "subject_stratum"]


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
    return stratum_key(complete_strata(protocol, _parse_strata(strata_json)))


def complete_strata(protocol: Protocol, given: Mapping[str, Any]) -> dict[str, str]:
    """``given`` checked to hold every stratification factor, each with a level the protocol lists.

    Enrolment, a strata correction and randomization all call this, so a subject is never
    enrolled, corrected or randomized on a partial or unknown stratum.

    Parameters
    ----------
    protocol
        The study's protocol (its ``[stratification]`` table).
    given
        Factor -> level.

    Returns
    -------
    dict
        Factor -> level, sorted by factor.

    Raises
    ------
    InvalidInputError
        Naming the factor (``field="strata.<factor>"``) that is missing, is not a factor of the
        protocol, or has a level the protocol does not list; the message lists what is expected.
    """
    levels = protocol.stratification_levels()
    for factor, value in given.items():
        if factor not in levels:
            raise InvalidInputError(
                f"stratum {factor}={value}: {factor!r} is not a stratification factor of the "
                f"study; expected only {', '.join(levels) or 'none'}",
                field=f"strata.{factor}",
                value=value,
            )
        if value is not None and value != "" and value not in levels[factor]:
            raise InvalidInputError(
                f"stratum {factor}={value}: expected one of {', '.join(map(repr, levels[factor]))}",
                field=f"strata.{factor}",
                value=value,
                expected=f"one of {levels[factor]}",
            )
    missing = [factor for factor in levels if given.get(factor) in (None, "")]
    if missing:
        factor = missing[0]
        raise InvalidInputError(
            f"stratification factor{'s' if len(missing) > 1 else ''} "
            f"{', '.join(map(repr, missing))} {'are' if len(missing) > 1 else 'is'} missing; "
            f"every factor needs a level ({factor}: one of {', '.join(map(repr, levels[factor]))})",
            field=f"strata.{factor}",
            expected=f"one of {levels[factor]}",
        )
    return {factor: str(given[factor]) for factor in sorted(levels)}


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
