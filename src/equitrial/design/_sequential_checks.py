"""Argument checks of :mod:`equitrial.design.sequential`, raising from :mod:`equitrial.errors`."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from equitrial.errors import InvalidInputError
from equitrial.stats._validation import check_array, check_level

__all__ = ["check_alpha", "check_finite", "check_futility", "check_gamma", "check_rates"]

FloatArray = NDArray[np.float64]


def check_rates(information_rates: ArrayLike) -> FloatArray:
    t = check_array(information_rates, "information_rates").astype(np.float64)
    if abs(t[-1] - 1.0) <= 1e-10:
        t[-1] = 1.0
    if t[-1] != 1.0 or t[0] <= 0.0 or np.any(np.diff(t) <= 0.0):
        raise InvalidInputError(
            f"information_rates must be strictly increasing in (0, 1] and end at 1, got "
            f"{t.tolist()}",
            field="information_rates",
            value=t.tolist(),
            expected="0 < t_1 < ... < t_K = 1",
        )
    return t


def check_alpha(alpha: float) -> float:
    level = check_level(alpha, "alpha")
    if level >= 0.5:
        raise InvalidInputError(
            f"alpha is one-sided and must lie in (0, 0.5), got {alpha!r}",
            field="alpha",
            value=alpha,
            expected="0 < alpha < 0.5",
        )
    return level


def check_finite(value: Any, name: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number) or isinstance(value, bool):
        raise InvalidInputError(
            f"{name} must be a finite number, got {value!r}", field=name, value=value
        )
    return number


def check_gamma(gamma: float | None, family: str) -> float | None:
    if family != "hwang-shih-decani":
        if gamma is not None:
            raise InvalidInputError(
                f"gamma applies only to spending='hwang-shih-decani', not {family!r}",
                field="gamma",
                value=gamma,
                expected="None",
            )
        return None
    if gamma is None:
        raise InvalidInputError(
            "spending='hwang-shih-decani' needs gamma (e.g. -4 for O'Brien–Fleming-like, "
            "1 for Pocock-like spending)",
            field="gamma",
            value=None,
            expected="a finite number",
        )
    return check_finite(gamma, "gamma")


def check_futility(values: ArrayLike, upper: FloatArray, name: str) -> FloatArray:
    bounds = check_array(values, name, finite=False, min_size=0)
    if bounds.size != upper.size - 1:
        raise InvalidInputError(
            f"{name} needs one value per interim look ({upper.size - 1}), got {bounds.size}",
            field=name,
            value=bounds.tolist(),
        )
    if np.any(np.isnan(bounds)) or np.any(bounds == np.inf):
        raise InvalidInputError(
            f"{name} must be numbers or -inf, not NaN or +inf", field=name, value=bounds.tolist()
        )
    above = np.flatnonzero(bounds >= upper[:-1])
    if above.size:
        k = int(above[0])
        raise InvalidInputError(
            f"{name}[{k}] = {bounds[k]} must lie below the critical value {upper[k]} of look "
            f"{k + 1}",
            field=name,
            value=bounds.tolist(),
        )
    return bounds
