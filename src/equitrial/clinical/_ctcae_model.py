"""Typed form of a CTCAE criteria file and its parser (structure checks only, no grading)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal, cast

from equitrial.errors import InvalidInputError

__all__ = [
    "Assumption",
    "CatalogueTerm",
    "CriteriaSet",
    "Direction",
    "LabCriterion",
    "Operator",
    "Reference",
    "Rule",
    "UnitConversion",
    "criteria_from_mapping",
]

Direction = Literal["increased", "decreased"]
Reference = Literal["uln", "lln", "baseline", "absolute"]
Operator = Literal[">", ">=", "<", "<="]
Assumption = Literal["worst", "best"]

_DIRECTIONS = ("increased", "decreased")
_REFERENCES = ("uln", "lln", "baseline", "absolute")
_OPERATORS = (">", ">=", "<", "<=")
_ASSUMPTIONS = ("worst", "best")
_GRADES = ("1", "2", "3", "4", "5")

GradeTexts = tuple[str, str, str, str, str]


@dataclass(frozen=True)
class Rule:
    """One way of reaching ``grade``: ``value op bound``.

    ``bound`` is ``factor * reference`` for ``ref`` in ``{"uln", "lln", "baseline"}`` and the
    printed number for the unit (``values[unit]``) for ``ref == "absolute"``. ``assume`` limits
    the rule to one assumption about a clinical qualifier (``None``: always applies).
    """

    grade: int
    ref: Reference
    op: Operator
    factor: float | None
    values: Mapping[str, float] | None
    assume: Assumption | None


@dataclass(frozen=True)
class UnitConversion:
    """``value_in_to = value_in_from * multiply_by``."""

    from_unit: str
    to_unit: str
    multiply_by: float


@dataclass(frozen=True)
class LabCriterion:
    """The lab-based criteria of one CTCAE term."""

    term: str
    soc: str
    direction: Direction
    canonical_unit: str
    units: tuple[str, ...]
    unit_aliases: Mapping[str, str]
    conversions: tuple[UnitConversion, ...]
    grade_text: GradeTexts
    lab_gradable_grades: tuple[int, ...]
    rules: tuple[Rule, ...]
    rules_baseline_abnormal: tuple[Rule, ...] | None
    assumption: Mapping[str, str] | None
    notes: str | None

    @cached_property
    def to_canonical(self) -> Mapping[str, float]:
        """The factor converting a value in each of the criterion's units to its canonical unit
        (from the conversions to or from the canonical unit)."""
        factors = {self.canonical_unit: 1.0}
        for c in self.conversions:
            if c.to_unit == self.canonical_unit:
                factors[c.from_unit] = c.multiply_by
            elif c.from_unit == self.canonical_unit:
                factors[c.to_unit] = 1.0 / c.multiply_by
        return factors

    @cached_property
    def bands(self) -> Mapping[tuple[bool, Assumption], tuple[tuple[int, tuple[Rule, ...]], ...]]:
        """The rules by grade, highest grade first, under each (baseline abnormal, assumption):
        the rules that apply (``assume`` ``None`` or the assumption's) grouped by their grade.
        Built once per criterion (grading a value walks them)."""
        sets = {False: self.rules, True: self.rules_baseline_abnormal}
        bands: dict[tuple[bool, Assumption], tuple[tuple[int, tuple[Rule, ...]], ...]] = {}
        for abnormal, rules in sets.items():
            if rules is None:
                continue
            for assume in cast(tuple[Assumption, ...], _ASSUMPTIONS):
                applicable = [r for r in rules if r.assume in (None, assume)]
                bands[abnormal, assume] = tuple(
                    (grade, tuple(r for r in applicable if r.grade == grade))
                    for grade in sorted({r.grade for r in applicable}, reverse=True)
                )
        return bands


@dataclass(frozen=True)
class CatalogueTerm:
    """A CTCAE term for adverse-event entry.

    ``grade_text`` holds the verbatim criterion of grades 1-5 (``"-"``: grade not available),
    or is ``None`` where the text has not been transcribed; ``text_source`` says where a text
    comes from. ``lab_gradable`` tells whether :func:`grade_lab` grades the term.
    ``meddra_code`` is the MedDRA code of the term (each CTCAE v5.0 term is a MedDRA lowest
    level term), ``None`` where the data file has none.
    """

    term: str
    soc: str
    grade_text: GradeTexts | None
    lab_gradable: bool
    immune_category: str | None
    text_source: str | None
    notes: str | None
    meddra_code: int | None = None


@dataclass(frozen=True)
class CriteriaSet:
    """One CTCAE version: lab criteria, catalogue and immune-related categories."""

    version: str
    title: str
    published: str
    source: str
    unit_aliases: Mapping[str, str]
    lab: Mapping[str, LabCriterion]
    catalogue: tuple[CatalogueTerm, ...]
    immune_categories: Mapping[str, str]

    @cached_property
    def unit_tables(self) -> Mapping[str, Mapping[str, str]]:
        """For each lab term, its accepted unit spellings (case-folded) -> the criterion's own
        unit: its units, then the set's and the term's aliases of them. Built once per set
        (every graded value's unit is looked up here)."""
        tables: dict[str, Mapping[str, str]] = {}
        for term, criterion in self.lab.items():
            table = {u.casefold(): u for u in criterion.units}
            for aliases in (self.unit_aliases, criterion.unit_aliases):
                for alias, target in aliases.items():
                    if target in criterion.units:
                        table.setdefault(alias.casefold(), target)
            tables[term] = table
        return tables


def _fail(where: str, what: str) -> InvalidInputError:
    return InvalidInputError(f"CTCAE criteria: {where}: {what}", field=where)


def _get(obj: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in obj:
        raise _fail(where, f"missing key {key!r}")
    return obj[key]


def _choice(value: Any, allowed: tuple[str, ...], where: str) -> str:
    if value not in allowed:
        raise _fail(where, f"{value!r} is not one of {', '.join(allowed)}")
    return str(value)


def _texts(raw: Any, where: str) -> GradeTexts:
    if not isinstance(raw, Mapping) or set(raw) != set(_GRADES):
        raise _fail(where, "grade_text must map '1'..'5' to the criterion text")
    texts = tuple(raw[g] for g in _GRADES)
    if not all(isinstance(t, str) and t.strip() for t in texts):
        raise _fail(where, "every grade text must be a non-empty string ('-' if not available)")
    return cast(GradeTexts, texts)


def _rule(raw: Mapping[str, Any], units: tuple[str, ...], where: str) -> Rule:
    ref = cast(Reference, _choice(_get(raw, "ref", where), _REFERENCES, f"{where}.ref"))
    op = cast(Operator, _choice(_get(raw, "op", where), _OPERATORS, f"{where}.op"))
    grade = _get(raw, "grade", where)
    if grade not in (1, 2, 3, 4):
        raise _fail(where, f"grade must be 1-4, got {grade!r}")
    assume = raw.get("assume")
    if assume is not None:
        _choice(assume, _ASSUMPTIONS, f"{where}.assume")
    if ref == "absolute":
        values = {str(u): float(v) for u, v in dict(_get(raw, "value", where)).items()}
        if set(values) != set(units):
            raise _fail(where, f"absolute rule needs a printed value for each of {units}")
        return Rule(grade, ref, op, None, values, cast(Assumption | None, assume))
    factor = float(_get(raw, "factor", where))
    return Rule(grade, ref, op, factor, None, cast(Assumption | None, assume))


def _rules(raw: Any, units: tuple[str, ...], where: str) -> tuple[Rule, ...]:
    if not isinstance(raw, list) or not raw:
        raise _fail(where, "rules must be a non-empty list")
    return tuple(_rule(r, units, f"{where}[{i}]") for i, r in enumerate(raw))


def _lab(raw: Mapping[str, Any]) -> LabCriterion:
    term = str(_get(raw, "term", "lab_terms"))
    where = f"lab term {term!r}"
    units = tuple(str(u) for u in _get(raw, "units", where))
    conversions = tuple(
        UnitConversion(str(c["from"]), str(c["to"]), float(c["multiply_by"]))
        for c in _get(raw, "conversions", where)
    )
    abnormal = raw.get("rules_baseline_abnormal")
    return LabCriterion(
        term=term,
        soc=str(_get(raw, "soc", where)),
        direction=cast(
            Direction, _choice(_get(raw, "direction", where), _DIRECTIONS, f"{where}.direction")
        ),
        canonical_unit=str(_get(raw, "canonical_unit", where)),
        units=units,
        unit_aliases=dict(raw.get("unit_aliases") or {}),
        conversions=conversions,
        grade_text=_texts(_get(raw, "grade_text", where), where),
        lab_gradable_grades=tuple(int(g) for g in _get(raw, "lab_gradable_grades", where)),
        rules=_rules(_get(raw, "rules", where), units, f"{where}.rules"),
        rules_baseline_abnormal=None
        if abnormal is None
        else _rules(abnormal, units, f"{where}.rules_baseline_abnormal"),
        assumption=raw.get("assumption"),
        notes=raw.get("notes"),
    )


def _meddra_code(raw: Mapping[str, Any], where: str) -> int | None:
    code = raw.get("meddra_code")
    if code is None:
        return None
    if not isinstance(code, int) or isinstance(code, bool) or not 10_000_000 <= code <= 99_999_999:
        raise _fail(where, f"meddra_code must be an 8-digit MedDRA code, got {code!r}")
    return code


def _catalogue(
    lab: Mapping[str, LabCriterion],
    clinical: list[Any],
    immune: Mapping[str, str],
    lab_source: str,
    lab_codes: Mapping[str, int | None],
) -> tuple[CatalogueTerm, ...]:
    terms = [
        CatalogueTerm(
            c.term,
            c.soc,
            c.grade_text,
            True,
            immune.get(c.term),
            lab_source,
            c.notes,
            lab_codes.get(c.term),
        )
        for c in lab.values()
    ]
    for raw in clinical:
        term = str(_get(raw, "term", "clinical_terms"))
        texts = raw.get("grade_text")
        terms.append(
            CatalogueTerm(
                term=term,
                soc=str(_get(raw, "soc", f"clinical term {term!r}")),
                grade_text=None if texts is None else _texts(texts, f"clinical term {term!r}"),
                lab_gradable=False,
                immune_category=immune.get(term),
                text_source=raw.get("text_source"),
                notes=raw.get("notes"),
                meddra_code=_meddra_code(raw, f"clinical term {term!r}"),
            )
        )
    return tuple(terms)


def criteria_from_mapping(data: Mapping[str, Any]) -> CriteriaSet:
    """Build a :class:`CriteriaSet` from the parsed JSON of a criteria file.

    Raises :class:`~equitrial.errors.InvalidInputError` naming the entry at fault when the
    structure is wrong (a missing key, an unknown operator, an absolute rule lacking a unit).
    """
    lab: dict[str, LabCriterion] = {}
    codes: dict[str, int | None] = {}
    for raw in _get(data, "lab_terms", "top level"):
        criterion = _lab(raw)
        if criterion.term in lab:
            raise _fail("lab_terms", f"duplicate term {criterion.term!r}")
        lab[criterion.term] = criterion
        codes[criterion.term] = _meddra_code(raw, f"lab term {criterion.term!r}")
    immune = {str(k): str(v) for k, v in dict(data.get("immune_categories") or {}).items()}
    source = str(data.get("source", ""))
    catalogue = _catalogue(lab, list(data.get("clinical_terms") or []), immune, source, codes)
    known = {t.term for t in catalogue}
    unknown = sorted(set(immune) - known)
    if unknown:
        raise _fail("immune_categories", f"terms not in the catalogue: {unknown}")
    return CriteriaSet(
        version=str(_get(data, "version", "top level")),
        title=str(data.get("title", "")),
        published=str(data.get("published", "")),
        source=source,
        unit_aliases={str(k): str(v) for k, v in dict(data.get("unit_aliases") or {}).items()},
        lab=lab,
        catalogue=catalogue,
        immune_categories=immune,
    )
