"""docs/protocol.md is the text generated from the protocol models, key for key."""

from __future__ import annotations

from pathlib import Path

from equitrial.protocol import Protocol
from equitrial.protocol._doc import protocol_reference

DOC = Path(__file__).parents[2] / "docs" / "protocol.md"


def test_docs_protocol_md_is_the_generated_reference() -> None:
    generated = protocol_reference()
    assert DOC.read_text(encoding="utf-8") == generated, (
        "docs/protocol.md differs from the protocol models; regenerate it with "
        "`python -m equitrial.protocol._doc > docs/protocol.md`"
    )


def test_every_top_level_key_and_interim_key_is_documented() -> None:
    text = protocol_reference()
    for name in Protocol.model_fields:
        assert f"| `{name}` |" in text
    assert "## [[interim_analyses]]" in text
    assert "| `information_fraction` | number (> 0, < 1) | none |" in text
    assert "| `binding` | boolean | `false` |" in text
    assert "| `study` | table | required |" in text


def test_every_key_has_a_meaning() -> None:
    rows = [line for line in protocol_reference().splitlines() if line.startswith("| `")]
    assert rows
    assert [row for row in rows if row.endswith("|  |")] == []
