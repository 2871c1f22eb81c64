"""The looks of ``equitrial design``: one time origin; warnings for looks that cannot work."""

from __future__ import annotations

from pathlib import Path

import pytest

from equitrial.errors import InvalidInputError
from equitrial.protocol import Protocol, load_protocol
from equitrial.services._design_sequential import (
    SequentialSummary,
    look_warnings,
    sequential_summary,
)
from equitrial.services.design import _joint

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "melanoma-pembrolizumab"
THREE = EXAMPLES / "protocol-three-interims.toml"
FLAGSHIP = EXAMPLES / "protocol.toml"


def _load(tmp_path: Path, source: Path, *replacements: tuple[str, str]) -> Protocol:
    text = source.read_text()
    for old, new in replacements:
        assert old in text
        text = text.replace(old, new, 1)
    path = tmp_path / "p.toml"
    path.write_text(text)
    return load_protocol(path)


def _summary(protocol: Protocol) -> SequentialSummary:
    return sequential_summary(
        protocol, fixed_evaluable=(365, 365), allocation=(1, 1), dropout=0.0, planned=(150, 150)
    )


def test_flagship_month_six_look_is_descriptive_with_counts_after_first_patient() -> None:
    s = _summary(load_protocol(FLAGSHIP))
    interim, final = s.looks
    assert not interim.formal and interim.critical_value is None
    # design.accrual: E[enrolled 6 months after FPI] (not the study-start clock's 76)
    assert interim.expected_enrolled == pytest.approx(90.388, abs=1e-3)
    assert interim.expected_evaluable == pytest.approx(2.713, abs=1e-3)
    assert final.formal and s.design is not None and s.design.kmax == 1
    assert s.inflation_factor == pytest.approx(1.0, abs=1e-9)
    (warning,) = look_warnings(s, 24)
    assert "90.4 patients enrolled" in warning and "2.7" in warning and "week 24" in warning


def test_formal_interim_with_nobody_evaluable_and_one_after_the_last_patient(
    tmp_path: Path,
) -> None:
    protocol = _load(
        tmp_path,
        THREE,
        ("information_fraction = 0.25", "months_after_first_patient = 3"),
        ("information_fraction = 0.75", "months_after_first_patient = 30"),
    )
    s = _summary(protocol)
    assert s.design is None and s.inflation_factor is None and s.scenarios == ()
    warnings = look_warnings(s, 24)
    assert any("'first quarter' at month 3" in w and "no information" in w for w in warnings)
    assert any("'three quarters' at month 30" in w and "all the information" in w for w in warnings)
    assert all("move the look" in w for w in warnings)


def test_a_look_where_spending_spends_nothing_is_an_infinite_boundary(tmp_path: Path) -> None:
    protocol = _load(
        tmp_path, THREE, ("information_fraction = 0.25", "information_fraction = 0.002")
    )
    s = _summary(protocol)
    first = s.looks[0]
    assert first.critical_value == float("inf")
    (warning,) = look_warnings(s, 24)
    assert "'first quarter'" in warning and "infinite" in warning and "pocock" in warning


def test_a_descriptive_look_after_the_final_is_said(tmp_path: Path) -> None:
    protocol = _load(
        tmp_path, FLAGSHIP, ("months_after_first_patient = 6", "months_after_first_patient = 25")
    )
    warnings = look_warnings(_summary(protocol), 24)
    assert any("month 25.0 falls after the last patient's week 24" in w for w in warnings)


def test_spending_functions_that_disagree_name_the_field(tmp_path: Path) -> None:
    marker = 'name = "half"\ninformation_fraction = 0.5\npurpose = "efficacy"\nspending = '
    protocol = _load(tmp_path, THREE, (marker + '"obrien-fleming"', marker + '"pocock"'))
    with pytest.raises(InvalidInputError) as info:
        _joint(protocol)
    assert info.value.field == "interim_analyses.1.spending"
    assert str(info.value).startswith("interim_analyses.1.spending: ")
