"""Argument checks shared by the sample-size modules; each raises from :mod:`equitrial.errors`."""

from __future__ import annotations

import math
from typing import Any, Literal, NoReturn, cast

from equitrial.errors import InvalidInputError, UnknownOptionError
from equitrial.stats._validation import check_count, check_level, check_option
from equitrial.stats.equivalence import Margin

__all__ = [
    "DIFFERENCE_METHODS",
    "RATIO_METHODS",
    "IntervalMethod",
    "check_allocation",
    "check_design",
    "check_dropout",
    "check_margin",
    "check_method",
    "check_probability",
    "check_scale_option",
    "check_size",
]

IntervalMethod = Literal["miettinen-nurminen", "newcombe", "wald", "agresti-caffo", "log"]
DIFFERENCE_METHODS = ("miettinen-nurminen", "newcombe", "wald", "agresti-caffo")
RATIO_METHODS = ("miettinen-nurminen", "log")


def _fail(field: str, message: str, value: Any, expected: str | None = None) -> NoReturn:
    raise InvalidInputError(message, field=field, value=value, expected=expected)


def check_probability(value: Any, name: str, *, open_interval: bool = False) -> float:
    """Return ``value`` as a float in [0, 1] (in (0, 1) with ``open_interval``)."""
    try:
        p = math.nan if isinstance(value, bool) else float(value)
    except (TypeError, ValueError):
        p = math.nan
    inside = 0.0 < p < 1.0 if open_interval else 0.0 <= p <= 1.0
    if not inside:
        expected = "0 < p < 1" if open_interval else "0 <= p <= 1"
        _fail(name, f"{name} must be a probability ({expected}), got {value!r}", value, expected)
    return p


def check_size(value: Any, name: str) -> int:
    """Return a number of patients per arm: a whole number, at least 1."""
    return check_count(0, value, x_name=name, n_name=name)[1]


def check_margin(margin: Any) -> Margin:
    """A :class:`Margin` whose finite difference bounds lie in (-1, 1)."""
    if not isinstance(margin, Margin):
        _fail("margin", f"margin must be a Margin, got {type(margin).__name__}", margin)
    bounds = (margin.lower, margin.upper)
    if margin.scale == "difference" and any(math.isfinite(b) and abs(b) >= 1 for b in bounds):
        msg = f"margin bounds of a difference must lie in (-1, 1) or be infinite, got {bounds}"
        _fail("margin", msg, margin, "-1 < bound < 1")
    return margin


def check_scale_option(value: Any, allowed: tuple[str, ...], name: str, scale: str) -> str:
    """An enumerated option that depends on the margin's scale; the error names the scale."""
    try:
        return check_option(value, allowed, name)
    except UnknownOptionError as err:
        message = f"{err.message} (for a {scale} margin)"
        raise UnknownOptionError(message, field=name, value=value, expected=err.expected) from None


def check_method(method: Any, margin: Margin) -> IntervalMethod:
    """The interval method, which must fit the margin's scale."""
    allowed = DIFFERENCE_METHODS if margin.scale == "difference" else RATIO_METHODS
    return cast(IntervalMethod, check_scale_option(method, allowed, "method", margin.scale))


def check_design(margin: Any, method: Any, level: Any) -> tuple[Margin, IntervalMethod, float]:
    """Check the analysis the power refers to: margin, interval method and its level."""
    checked = check_margin(margin)
    return checked, check_method(method, checked), check_level(level)


def check_allocation(allocation: Any) -> tuple[int, int]:
    """Allocation ``(a1, a2)``: two whole numbers >= 1 (``n1 : n2 = a1 : a2``)."""
    try:
        a1, a2 = allocation
    except (TypeError, ValueError):
        _fail("allocation", f"allocation must be a pair (a1, a2), got {allocation!r}", allocation)
    return check_size(a1, "allocation[0]"), check_size(a2, "allocation[1]")


def check_dropout(dropout: Any) -> float:
    """Dropout fraction in [0, 1)."""
    try:
        d = math.nan if isinstance(dropout, bool) else float(dropout)
    except (TypeError, ValueError):
        d = math.nan
    if not 0.0 <= d < 1.0:
        _fail("dropout", f"dropout must lie in [0, 1), got {dropout!r}", dropout, "0 <= d < 1")
    return d
