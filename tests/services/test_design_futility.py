"""Non-binding futility bounds of ``[[interim_analyses]]`` in the joint design.

Expected values: the ``futility`` block of ``tests/reference/design_joint.json`` (rpact 3.3.4,
``getDesignGroupSequential(..., futilityBounds = c(0, 0.5, -6), bindingFutility = FALSE)``,
``getDesignCharacteristics``, ``getPowerAndAverageSampleNumber``; see design_joint.R).
Tolerances as in test_design_joint_reference.py (1e-6; rpact's -6 stands for our -inf, a
difference below 1e-9).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from equitrial.errors import InvalidInputError
from equitrial.protocol import Protocol, load_protocol
from equitrial.services._design_report import _sequential_dict
from equitrial.services._design_sequential import SequentialSummary, sequential_summary
from equitrial.services.design import _joint

ROOT = Path(__file__).resolve().parents[2]
REF = json.loads((ROOT / "tests" / "reference" / "design_joint.json").read_text())["futility"]
THREE = ROOT / "examples" / "melanoma-pembrolizumab" / "protocol-three-interims.toml"
FIRST = 'name = "first quarter"\ninformation_fraction = 0.25\npurpose = "efficacy"\n'
HALF = 'name = "half"\ninformation_fraction = 0.5\npurpose = "efficacy"\n'


def _load(tmp_path: Path, first: str = "0", half: str = "0.5") -> Protocol:
    text = THREE.read_text()
    assert FIRST in text and HALF in text
    text = text.replace(FIRST, FIRST + f"futility_bound = {first}\n")
    text = text.replace(HALF, HALF + f"futility_bound = {half}\n")
    path = tmp_path / "futility.toml"
    path.write_text(text)
    return load_protocol(path)


@pytest.fixture
def summary(tmp_path: Path) -> SequentialSummary:
    return sequential_summary(
        _load(tmp_path),
        fixed_evaluable=(365, 365),
        allocation=(1, 1),
        dropout=0.0,
        planned=(150, 150),
    )


def test_non_binding_futility_keeps_the_boundaries_and_matches_rpact(
    summary: SequentialSummary,
) -> None:
    d = summary.design
    assert d is not None and d.futility_bounds is not None
    np.testing.assert_allclose(d.critical_values, REF["critical_values"], rtol=0, atol=1e-6)
    assert summary.inflation_factor == pytest.approx(REF["inflation_factor"], rel=1e-6)
    ours = {(c.name, t.test): t for c in summary.scenarios for t in c.tests}
    for ref in REF["scenarios"]:
        t = ours[(ref["scenario"], ref["test"])]
        np.testing.assert_allclose(t.probabilities.efficacy, ref["reject_per_stage"], atol=1e-6)
        np.testing.assert_allclose(t.probabilities.futility, ref["futility_per_stage"], atol=1e-6)
        assert t.probabilities.expected_information_rate == pytest.approx(
            ref["expected_information_rate"], abs=1e-6
        )


def test_futility_bounds_in_the_json_are_null_where_none(summary: SequentialSummary) -> None:
    doc = _sequential_dict(summary)
    assert doc["futility_bounds"] == [0.0, 0.5, None]
    assert not re.search(r"\b(-?inf|nan|-?infinity)\b", json.dumps(doc, allow_nan=False), re.I)


def test_a_futility_bound_above_the_boundary_names_its_field(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError) as info:
        _joint(_load(tmp_path, half="3"))
    assert info.value.field == "interim_analyses.1.futility_bound"
    assert "2.5399" in str(info.value)


def test_a_futility_bound_on_a_descriptive_look_is_refused(tmp_path: Path) -> None:
    flagship = ROOT / "examples" / "melanoma-pembrolizumab" / "protocol.toml"
    text = flagship.read_text().replace("binding = false", "binding = false\nfutility_bound = 0", 1)
    path = tmp_path / "p.toml"
    path.write_text(text)
    with pytest.raises(InvalidInputError, match="futility_bound"):
        load_protocol(path)
