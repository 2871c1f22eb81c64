"""The generic CTCAE lab evaluator: criteria set in, grade out. Knows no term by name."""

from __future__ import annotations

import difflib
import math
import operator
from collections.abc import Callable
from typing import Any

from equitrial.clinical._ctcae_model import (
    Assumption,
    CriteriaSet,
    LabCriterion,
    Operator,
    Rule,
)
from equitrial.errors import InvalidInputError, NotFoundError
from equitrial.stats._validation import check_option

__all__ = ["convert_with", "find_lab_criterion", "grade_with", "signif"]

_COMPARE: dict[Operator, Callable[[float, float], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}
_SIGNIF_DIGITS = 15


def signif(x: float, digits: int = _SIGNIF_DIGITS) -> float:
    """Round ``x`` to ``digits`` significant digits, as R's ``signif`` (admiral compares so)."""
    return float(f"{x:.{digits}g}")


def find_lab_criterion(criteria: CriteriaSet, term: str) -> LabCriterion:
    """Return the lab criteria of ``term``; raise :class:`NotFoundError` with close matches."""
    found = criteria.lab.get(term)
    if found is not None:
        return found
    clinical = {t.term for t in criteria.catalogue if not t.lab_gradable}
    if term in clinical:
        raise NotFoundError(
            f"CTCAE v{criteria.version} term {term!r} has no lab-based criteria (it is graded "
            f"clinically); lab-gradable terms: {', '.join(sorted(criteria.lab))}",
            field="term",
            value=term,
        )
    by_fold = {t.casefold(): t for t in criteria.lab}
    close = [by_fold[m] for m in difflib.get_close_matches(str(term).casefold(), by_fold, n=5)]
    hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    raise NotFoundError(
        f"unknown CTCAE v{criteria.version} lab term {term!r}{hint}",
        field="term",
        value=term,
        expected=", ".join(sorted(criteria.lab)),
    )


def _accepted(criteria: CriteriaSet, criterion: LabCriterion) -> list[str]:
    names = list(criterion.units)
    for aliases in (criteria.unit_aliases, criterion.unit_aliases):
        names += [a for a, t in aliases.items() if t in criterion.units and a not in names]
    return names


def _unit(criteria: CriteriaSet, criterion: LabCriterion, unit: Any, name: str = "unit") -> str:
    key = unit.replace(" ", "").casefold() if isinstance(unit, str) else None
    table = criteria.unit_tables[criterion.term]
    if key is None or key not in table:
        accepted = ", ".join(_accepted(criteria, criterion))
        raise InvalidInputError(
            f"{name} {unit!r} is not accepted for CTCAE v{criteria.version} term "
            f"{criterion.term!r}; accepted units: {accepted}",
            field=name,
            value=unit,
            expected=accepted,
        )
    return table[key]


def _number(x: Any, name: str, *, positive: bool = False) -> float:
    if type(x) is float and 0.0 <= x < math.inf and (x > 0.0 or not positive):
        return x  # the common case, checked in full below
    if isinstance(x, bool | str | bytes):
        raise InvalidInputError(f"{name} must be a number, got {x!r}", field=name, value=x)
    try:
        value = float(x)
    except (TypeError, ValueError):
        raise InvalidInputError(
            f"{name} must be a number, got {x!r}", field=name, value=x
        ) from None
    if math.isnan(value) or math.isinf(value):
        raise InvalidInputError(f"{name} must be finite, got {x!r}", field=name, value=x)
    if value < 0 or (positive and value == 0):
        need = "> 0" if positive else ">= 0"
        raise InvalidInputError(
            f"{name} must be {need}, got {x!r}", field=name, value=x, expected=need
        )
    return value


def _optional(x: Any, name: str, *, positive: bool = False) -> float | None:
    return None if x is None else _number(x, name, positive=positive)


def _abnormal(
    criterion: LabCriterion,
    baseline: float | None,
    uln: float | None,
    baseline_abnormal: bool | None,
) -> bool | None:
    """Whether the baseline-abnormal rules apply; ``None`` when that cannot be decided."""
    if criterion.rules_baseline_abnormal is None:
        return False
    if baseline_abnormal is not None:
        return bool(baseline_abnormal)
    if baseline is None:
        return False
    if uln is None:
        return None
    return signif(baseline) > signif(uln)


def _rule_met(rule: Rule, value: float, unit: str, refs: dict[str, float | None]) -> bool | None:
    """``True``/``False``, or ``None`` when the rule's reference (LLN/ULN/baseline) is missing;
    ``value`` is already rounded by :func:`signif`."""
    if rule.ref == "absolute":
        assert rule.values is not None
        bound = rule.values[unit]
    else:
        ref = refs[rule.ref]
        if ref is None:
            return None
        assert rule.factor is not None
        bound = rule.factor * ref
    return _COMPARE[rule.op](value, signif(bound))


def _grade_met(
    rules: tuple[Rule, ...], value: float, unit: str, refs: dict[str, float | None]
) -> bool | None:
    """A grade is met if any of its rules is; undecidable if none is and none could be checked."""
    undecidable = True
    for rule in rules:
        met = _rule_met(rule, value, unit, refs)
        if met:
            return True
        if met is not None:
            undecidable = False
    return None if undecidable else False


def grade_with(
    criteria: CriteriaSet,
    term: str,
    value: Any,
    unit: Any,
    *,
    lln: Any = None,
    uln: Any = None,
    baseline: Any = None,
    baseline_abnormal: bool | None = None,
    assume: Assumption = "worst",
) -> int | None:
    """Grade ``value`` under ``criteria`` (see :func:`equitrial.clinical.ctcae.grade_lab`)."""
    criterion = find_lab_criterion(criteria, term)
    check_option(assume, ("worst", "best"), "assume")
    printed_unit = _unit(criteria, criterion, unit)
    x = _number(value, "value")
    refs: dict[str, float | None] = {
        "lln": _optional(lln, "lln"),
        "uln": _optional(uln, "uln", positive=True),
        "baseline": _optional(baseline, "baseline"),
    }
    if refs["lln"] is not None and refs["uln"] is not None and refs["lln"] > refs["uln"]:
        raise InvalidInputError(
            f"lln ({lln!r}) must not exceed uln ({uln!r})", field="lln", value=lln
        )
    if baseline_abnormal is not None and not isinstance(baseline_abnormal, bool):
        raise InvalidInputError(
            f"baseline_abnormal must be True, False or None, got {baseline_abnormal!r}",
            field="baseline_abnormal",
            value=baseline_abnormal,
        )
    abnormal = _abnormal(criterion, refs["baseline"], refs["uln"], baseline_abnormal)
    if abnormal is None:
        return None
    x = signif(x)
    for grade, rules in criterion.bands[abnormal, assume]:
        met = _grade_met(rules, x, printed_unit, refs)
        if met is None:
            return None
        if met:
            return grade
    return 0


def convert_with(
    criteria: CriteriaSet, term: str, value: Any, from_unit: Any, to_unit: Any
) -> float:
    """Convert ``value`` between two units of ``term`` (see ``ctcae.convert_unit``)."""
    criterion = find_lab_criterion(criteria, term)
    source = _unit(criteria, criterion, from_unit, "from_unit")
    target = _unit(criteria, criterion, to_unit, "to_unit")
    x = _number(value, "value")
    to_canonical = criterion.to_canonical
    return x * to_canonical[source] / to_canonical[target]
