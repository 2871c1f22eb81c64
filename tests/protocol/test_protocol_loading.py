"""Reading protocol files: TOML syntax errors, unknown keys in the text, missing files."""

from __future__ import annotations

from pathlib import Path

import pytest

from equitrial.errors import InvalidInputError, NotFoundError
from equitrial.protocol import ProtocolError, load_protocol, parse_protocol


def test_toml_syntax_error_names_file_line_and_column():
    # an unterminated string, found at the end of line 4
    text = 'study = { id = "X" }\n\n[[arms]]\ncode = "BIO\n'
    with pytest.raises(ProtocolError) as info:
        parse_protocol(text, source="trial.toml")
    error = info.value
    assert (error.line, error.column) == (4, 12)
    assert (
        str(error).splitlines()[1].startswith("trial.toml: TOML syntax error at line 4, column 12:")
    )
    assert error.field is None


def test_toml_syntax_error_missing_equals_sign():
    with pytest.raises(ProtocolError, match=r"TOML syntax error at line 2, column"):
        parse_protocol('[study]\nid "X"\n')


def test_duplicate_toml_key_is_a_syntax_error():
    with pytest.raises(ProtocolError, match=r"<string>: TOML syntax error at line 3"):
        parse_protocol('[study]\nid = "A"\nid = "B"\n')


def test_misspelt_key_in_the_text_is_refused(example_path: Path):
    text = example_path.read_text(encoding="utf-8").replace("block_sizes =", "block_size =")
    with pytest.raises(ProtocolError) as info:
        parse_protocol(text, source="trial.toml")
    lines = str(info.value).splitlines()
    unknown = "trial.toml: randomization.block_size: unknown key; expected one of: method, "
    assert any(line.startswith(unknown) for line in lines)
    assert "trial.toml: randomization.block_sizes: missing required key" in lines


def test_empty_text_lists_the_missing_tables():
    with pytest.raises(ProtocolError) as info:
        parse_protocol("", source="empty.toml")
    text = str(info.value)
    for table in ("study", "arms", "randomization", "endpoints", "hypothesis", "assumptions"):
        assert f"empty.toml: {table}: missing required key" in text
    assert "empty.toml: stratification" not in text  # optional


def test_missing_file_is_not_found(tmp_path: Path):
    path = tmp_path / "nope.toml"
    with pytest.raises(NotFoundError, match=r"protocol file .*nope\.toml does not exist") as info:
        load_protocol(path)
    assert info.value.value == str(path)


def test_directory_is_invalid_input(tmp_path: Path):
    with pytest.raises(InvalidInputError, match=r"cannot read protocol file"):
        load_protocol(tmp_path)


def test_file_not_utf8_is_refused(tmp_path: Path):
    path = tmp_path / "latin1.toml"
    path.write_bytes('[study]\ntitle = "Étude"\n'.encode("latin-1"))
    with pytest.raises(ProtocolError, match=r"latin1\.toml: byte 17: not UTF-8"):
        load_protocol(path)


def test_load_protocol_error_names_the_file(tmp_path: Path, example_path: Path):
    path = tmp_path / "protocol.toml"
    text = example_path.read_text(encoding="utf-8")
    path.write_text(
        text.replace("interval_weeks = 3, max_cycles", "interval_weeks = 4, max_cycles")
    )
    with pytest.raises(ProtocolError) as info:
        load_protocol(str(path))
    assert f"{path}: arms[0].dose.interval_weeks = 4.0: 200 mg Q4W is not an approved" in str(
        info.value
    )
    assert info.value.source == str(path)
