"""Schema of the packaged CTCAE criteria files, checked on the raw JSON.

Every lab term has verbatim texts for grades 1-5, accepted units with conversions, rules whose
operators fit the direction, thresholds monotone in the grade for every unit and reference, and
lab-gradable grades that match its rules. Every clinical term has an SOC and either no grade
texts or five with a stated source.
"""

from __future__ import annotations

import json
from importlib import resources
from itertools import pairwise
from typing import Any

import pytest

from equitrial.clinical.ctcae import available_versions

GRADES = ["1", "2", "3", "4", "5"]
OPS = {"increased": {">", ">="}, "decreased": {"<", "<="}}


def _load(version: str) -> dict[str, Any]:
    path = resources.files("equitrial.clinical").joinpath("data", f"ctcae_{version}.json")
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _lab_terms() -> list[Any]:
    return [
        pytest.param(version, term, id=f"v{version} {term['term']}")
        for version in available_versions()
        for term in _load(version)["lab_terms"]
    ]


@pytest.mark.parametrize("version", available_versions())
def test_file_header(version: str) -> None:
    data = _load(version)
    assert data["version"] == version
    assert data["published"] and data["source"] and data["title"]
    terms = [t["term"] for t in data["lab_terms"]] + [t["term"] for t in data["clinical_terms"]]
    assert len(terms) == len(set(terms)), "duplicate terms"
    assert set(data["immune_categories"]) <= set(terms)
    assert all(target in {u for t in data["lab_terms"] for u in t["units"]}
               for target in data["unit_aliases"].values())  # fmt: skip


@pytest.mark.parametrize(("version", "term"), _lab_terms())
def test_lab_term_texts_and_units(version: str, term: dict[str, Any]) -> None:
    assert term["soc"] and term["direction"] in OPS
    assert sorted(term["grade_text"]) == GRADES
    assert all(isinstance(t, str) and t.strip() for t in term["grade_text"].values())
    for grade in term["lab_gradable_grades"]:
        assert term["grade_text"][str(grade)] != "-", f"grade {grade} is not available"
    units = term["units"]
    assert units and term["canonical_unit"] in units and len(units) == len(set(units))
    converted = {term["canonical_unit"]}
    for c in term["conversions"]:
        assert term["canonical_unit"] in (c["from"], c["to"]) and c["multiply_by"] > 0
        converted |= {c["from"], c["to"]}
    assert converted == set(units), "every unit needs a conversion from the canonical unit"
    assert set(term["unit_aliases"].values()) <= set(units)


def _rule_sets(term: dict[str, Any]) -> list[list[dict[str, Any]]]:
    sets = [term["rules"]]
    if term["rules_baseline_abnormal"] is not None:
        sets.append(term["rules_baseline_abnormal"])
    return sets


@pytest.mark.parametrize(("version", "term"), _lab_terms())
def test_lab_term_rules_are_well_formed(version: str, term: dict[str, Any]) -> None:
    grades = set()
    for rules in _rule_sets(term):
        for rule in rules:
            grades.add(rule["grade"])
            assert rule["op"] in OPS[term["direction"]]
            assert rule["ref"] in {"uln", "lln", "baseline", "absolute"}
            if rule["ref"] == "absolute":
                assert set(rule["value"]) == set(term["units"])
                assert all(v > 0 for v in rule["value"].values())
            else:
                assert rule["factor"] > 0
            if rule.get("assume") is not None:
                assert set(term["assumption"]) == {"worst", "best"}
    assert grades == set(term["lab_gradable_grades"])


def _monotone(pairs: list[tuple[int, float]], increasing: bool) -> bool:
    """Bounds, ordered by grade, strictly increase (or decrease) with the grade."""
    ordered = [b for _, b in sorted(pairs)]
    return all((b > a) if increasing else (b < a) for a, b in pairwise(ordered))


@pytest.mark.parametrize(("version", "term"), _lab_terms())
@pytest.mark.parametrize("assume", ["worst", "best"])
def test_lab_term_thresholds_are_monotone(version: str, term: dict[str, Any], assume: str) -> None:
    up = term["direction"] == "increased"
    for rules in _rule_sets(term):
        active = [r for r in rules if r.get("assume") in (None, assume)]
        for ref in ("uln", "lln", "baseline"):
            pairs = [(r["grade"], r["factor"]) for r in active if r["ref"] == ref]
            assert _monotone(pairs, up), f"{ref} multiples not monotone"
        for unit in term["units"]:
            pairs = [(r["grade"], r["value"][unit]) for r in active if r["ref"] == "absolute"]
            assert _monotone(pairs, up), f"{unit} thresholds not monotone"
        keys = [(r["grade"], r["ref"]) for r in active]
        assert len(keys) == len(set(keys)), "two rules of one grade on the same reference"


@pytest.mark.parametrize("version", available_versions())
def test_clinical_terms(version: str) -> None:
    for term in _load(version)["clinical_terms"]:
        assert term["soc"], term["term"]
        texts = term["grade_text"]
        if texts is None:
            assert term["notes"], f"{term['term']}: say why there are no grade texts"
        else:
            assert sorted(texts) == GRADES and all(t.strip() for t in texts.values())
            assert term["text_source"], f"{term['term']}: texts need a source"
