"""Argument checks shared by the statistics modules; each raises from :mod:`equitrial.errors`."""

from __future__ import annotations

import math
from collections.abc import Collection
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from equitrial.errors import InvalidInputError, UnknownOptionError

__all__ = ["check_array", "check_count", "check_level", "check_option", "check_same_length"]


def check_level(level: float, name: str = "level") -> float:
    """Return ``level`` as a float if it lies strictly between 0 and 1."""
    try:
        value = float(level)
    except (TypeError, ValueError):
        raise InvalidInputError(
            f"{name} must be a number in (0, 1), got {level!r}",
            field=name,
            value=level,
            expected="0 < level < 1",
        ) from None
    if not 0.0 < value < 1.0:
        raise InvalidInputError(
            f"{name} must lie strictly between 0 and 1, got {level!r}",
            field=name,
            value=level,
            expected="0 < level < 1",
        )
    return value


def check_option(value: Any, allowed: Collection[str], name: str) -> str:
    """Return ``value`` if it is one of ``allowed``; otherwise raise naming the choices."""
    if value not in allowed:
        choices = ", ".join(repr(a) for a in allowed)
        raise UnknownOptionError(
            f"unknown {name} {value!r}; expected one of {choices}",
            field=name,
            value=value,
            expected=f"one of {choices}",
        )
    return str(value)


def check_count(x: Any, n: Any, *, x_name: str = "x", n_name: str = "n") -> tuple[int, int]:
    """Validate a binomial count ``x`` of ``n`` trials: whole, ``0 <= x <= n``, ``n >= 1``."""
    xi = _whole(x, x_name)
    ni = _whole(n, n_name)
    if ni < 1:
        raise InvalidInputError(
            f"{n_name} must be at least 1, got {n!r}", field=n_name, value=n, expected=">= 1"
        )
    if xi < 0 or xi > ni:
        raise InvalidInputError(
            f"{x_name} must lie between 0 and {n_name}={ni}, got {x!r}",
            field=x_name,
            value=x,
            expected=f"0 <= {x_name} <= {ni}",
        )
    return xi, ni


def _whole(value: Any, name: str) -> int:
    if isinstance(value, bool):
        raise InvalidInputError(
            f"{name} must be a whole number, got {value!r}", field=name, value=value
        )
    try:
        f = float(value)
    except (TypeError, ValueError):
        raise InvalidInputError(
            f"{name} must be a whole number, got {value!r}", field=name, value=value
        ) from None
    if not math.isfinite(f) or f != math.floor(f):
        raise InvalidInputError(
            f"{name} must be a whole number, got {value!r}", field=name, value=value
        )
    return int(f)


def check_array(
    values: ArrayLike, name: str, *, dtype: Any = float, finite: bool = True, min_size: int = 1
) -> NDArray[Any]:
    """Return ``values`` as a 1-D numpy array, refusing NaN/inf (if ``finite``) and short input."""
    try:
        arr = np.asarray(values, dtype=dtype)
    except (TypeError, ValueError):
        raise InvalidInputError(
            f"{name} must be a sequence of numbers", field=name, value=values
        ) from None
    if arr.ndim != 1:
        raise InvalidInputError(
            f"{name} must be one-dimensional, got shape {arr.shape}", field=name, value=arr.shape
        )
    if arr.size < min_size:
        raise InvalidInputError(
            f"{name} needs at least {min_size} value(s), got {arr.size}", field=name, value=arr.size
        )
    if finite and arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
        bad = int(np.flatnonzero(~np.isfinite(arr))[0])
        raise InvalidInputError(
            f"{name} must be finite; entry {bad} is {arr[bad]!r}", field=name, value=arr[bad]
        )
    return arr


def check_same_length(**arrays: NDArray[Any]) -> int:
    """Raise unless every array has the same length; return that length."""
    lengths = {name: len(a) for name, a in arrays.items()}
    if len(set(lengths.values())) > 1:
        desc = ", ".join(f"{k} has {v}" for k, v in lengths.items())
        raise InvalidInputError(f"arguments must have the same length: {desc}", value=lengths)
    return next(iter(lengths.values()))
