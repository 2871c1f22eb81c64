"""Shared pieces of the protocol models: the frozen base class and cross-field issues."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Strict

__all__ = [
    "FloatTuple",
    "IntTuple",
    "Issue",
    "IssueList",
    "Model",
    "StrTuple",
    "check_unique",
    "fmt_number",
    "raise_issues",
]


class Model(BaseModel):
    """Base of every protocol table: frozen, strict types, unknown keys refused.

    ``strict=True`` keeps a quoted ``"0.33"`` from passing as a number. Sequences are tuples
    that also accept a TOML array (:data:`StrTuple` and friends), so a frozen model stays
    immutable.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


# Sequences: tuples (immutable) that also accept a TOML array; their items stay strict.
StrTuple = Annotated[tuple[str, ...], Strict(False)]
IntTuple = Annotated[tuple[int, ...], Strict(False)]
FloatTuple = Annotated[tuple[float, ...], Strict(False)]


@dataclass(frozen=True, slots=True)
class Issue:
    """One cross-field problem: key path (relative to the table that found it), value, text."""

    loc: tuple[str | int, ...]
    value: Any
    message: str


class IssueList(ValueError):
    """Raised by a model validator with every cross-field problem it found.

    pydantic wraps it in its ``ValidationError`` (``ctx["error"]``); :mod:`._errors` unpacks it so
    each issue is reported under its own key path.
    """

    def __init__(self, issues: Iterable[Issue]) -> None:
        self.issues = tuple(issues)
        super().__init__("; ".join(f"{i.loc}: {i.message}" for i in self.issues))


def raise_issues(issues: list[Issue]) -> None:
    """Raise :class:`IssueList` if ``issues`` is not empty."""
    if issues:
        raise IssueList(issues)


def check_unique(
    values: Iterable[Any], loc: tuple[str | int, ...], what: str, key: str | None = None
) -> list[Issue]:
    """One issue per repeated value (second and later occurrences) at ``loc[i]`` (``.key``)."""
    seen: set[Any] = set()
    issues = []
    for i, value in enumerate(values):
        if value in seen:
            where = (*loc, i) if key is None else (*loc, i, key)
            issues.append(Issue(where, value, f"repeats an earlier {what}; expected unique"))
        seen.add(value)
    return issues


def fmt_number(x: float) -> str:
    """``200.0`` -> ``"200"``, ``0.5`` -> ``"0.5"``."""
    return f"{x:g}"
