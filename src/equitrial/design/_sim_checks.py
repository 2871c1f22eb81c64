"""Checks of the simulator's specification values: numbers in range, probabilities."""

from __future__ import annotations

import math

from equitrial.errors import InvalidInputError

__all__ = ["check_number", "check_probability"]


def check_number(
    value: float, name: str, *, low: float = 0.0, strict: bool = True, inf_ok: bool = False
) -> float:
    """Return ``value`` as a float if it exceeds ``low`` (or equals it when not ``strict``)."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InvalidInputError(f"{name} must be a number, got {value!r}", field=name) from None
    finite_ok = math.isfinite(v) or (inf_ok and v == math.inf)
    if not finite_ok or v < low or (strict and v == low):
        relation = ">" if strict else ">="
        raise InvalidInputError(
            f"{name} must be a {'' if inf_ok else 'finite '}number {relation} {low}, got {value!r}",
            field=name,
            value=value,
            expected=f"{relation} {low}",
        )
    return v


def check_probability(value: float, name: str) -> float:
    v = check_number(value, name, strict=False)
    if v > 1.0:
        raise InvalidInputError(
            f"{name} must lie in [0, 1], got {value!r}", field=name, value=value, expected="[0, 1]"
        )
    return v
