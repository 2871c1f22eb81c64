"""``print_table``: what ``randomization list`` and ``study show`` print without --json."""

from __future__ import annotations

import pytest

from equitrial.cli._common import print_table


def test_a_piped_table_is_a_header_a_rule_and_one_line_per_row(
    capsys: pytest.CaptureFixture[str],
) -> None:
    long = "m_stage_ldh=" + "M1c or elevated LDH; " * 20  # far wider than any terminal
    print_table(
        ("seq", "subject", "stratum"),
        [(1, "A-0001", "[bold]braf_v600=mutant[/]"), (605, "A-0002", long)],
        right=("seq",),
    )
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["seq", "subject", "stratum"]
    assert set(lines[1].strip()) == {"─"}
    assert len(lines) == 4
    assert lines[2].split() == ["1", "A-0001", "[bold]braf_v600=mutant[/]"]  # text, not markup
    assert lines[3].rstrip().endswith(long.rstrip())
    assert lines[2].startswith("  1 ") and lines[3].startswith("605 ")  # seq right-aligned


def test_an_empty_table_is_its_header(capsys: pytest.CaptureFixture[str]) -> None:
    print_table(("factor", "levels"), [])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["factor", "levels"] and len(lines) == 2
