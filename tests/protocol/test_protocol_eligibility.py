"""``[[eligibility]]``: the example's criteria and the refusals of a malformed list."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from equitrial.protocol import ProtocolError, load_protocol, protocol_from_dict

INCLUSION = {"id": "inc-age", "kind": "inclusion", "text": "Aged 18 years or older"}
EXCLUSION = {"id": "exc-steroids", "kind": "exclusion", "text": "Systemic steroids"}


def test_both_examples_list_first_line_melanoma_criteria(example_path: Any) -> None:
    for name in ("protocol.toml", "protocol-three-interims.toml"):
        protocol = load_protocol(example_path.parent / name)
        kinds = {c.id: c.kind for c in protocol.eligibility}
        assert kinds["inc-age"] == kinds["inc-ecog"] == kinds["inc-measurable"] == "inclusion"
        assert kinds["exc-prior-systemic"] == kinds["exc-active-brain-mets"] == "exclusion"
        assert kinds["exc-autoimmune"] == kinds["exc-steroids"] == "exclusion"
        assert "inc-braf-known" in kinds and "inc-organ-function" in kinds
        ecog = next(c for c in protocol.eligibility if c.id == "inc-ecog")
        assert "0 or 1" in ecog.text


def test_a_protocol_without_criteria_is_valid(data: dict[str, Any]) -> None:
    data.pop("eligibility")
    assert protocol_from_dict(data).eligibility == ()


def test_repeated_ids_are_refused(
    data: dict[str, Any], refused: Callable[[dict[str, Any]], ProtocolError]
) -> None:
    data["eligibility"] = [INCLUSION, EXCLUSION, {**EXCLUSION, "text": "again"}]
    assert "eligibility[2].id" in str(refused(data))


def test_at_least_one_inclusion_criterion(
    data: dict[str, Any], refused: Callable[[dict[str, Any]], ProtocolError]
) -> None:
    data["eligibility"] = [EXCLUSION]
    assert "no inclusion criterion" in str(refused(data))


def test_unknown_keys_kinds_and_ids_are_refused(
    data: dict[str, Any], refused: Callable[[dict[str, Any]], ProtocolError]
) -> None:
    for criterion, where in (
        ({**INCLUSION, "note": "x"}, "eligibility[0].note"),
        ({**INCLUSION, "kind": "optional"}, "eligibility[0].kind"),
        ({**INCLUSION, "id": "1-age"}, "eligibility[0].id"),
        ({**INCLUSION, "text": ""}, "eligibility[0].text"),
    ):
        data["eligibility"] = [criterion]
        assert where in str(refused(data)), criterion
