"""``--help`` of every group and command: plain metavars, no stray markup.

Typer 0.29 would show ``{protocol}`` in the usage line and ``<bool>``, ``<path>``, ``<int range>``
next to the parameters, and reStructuredText in a docstring (double backticks) shows literally.
``equitrial.cli._common`` (App, Group, Command) shows arguments in capitals and options by their
metavar instead. The commands are found by walking the app, so a new command is checked too.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import typer.main
from typer import _click
from typer.core import TyperArgument, TyperOption
from typer.testing import CliRunner

from equitrial.cli import app

ROOT = typer.main.get_command(app)


def _commands(
    command: _click.Command, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], _click.Command]]:
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from _commands(sub, (*path, name))


COMMANDS = dict(_commands(ROOT))


def _help(path: tuple[str, ...]) -> str:
    result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "120"})
    assert result.exit_code == 0, result.output
    return result.output


def _words(text: str) -> str:
    """The text with the help panels' borders dropped and runs of blanks made one space."""
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", text).split())


def test_the_walk_finds_every_group_and_command() -> None:
    assert {(), ("design",), ("db", "upgrade"), ("user", "set-password")} <= set(COMMANDS)
    assert ("randomization", "list") in COMMANDS and ("audit", "verify") in COMMANDS


@pytest.mark.parametrize("markup", ["rich", None], ids=["rich", "plain"])
@pytest.mark.parametrize("path", list(COMMANDS), ids=lambda p: " ".join(("equitrial", *p)))
def test_help_has_no_placeholder_braces_type_labels_or_double_backticks(
    path: tuple[str, ...], markup: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app, "rich_markup_mode", markup)  # None: Typer's plain help (no rich)
    text = _help(path)
    assert ("╭" in text) == (markup == "rich")
    assert not re.search(r"\{\w+\}", text), text  # {protocol}
    assert not re.search(r"<[a-z][^<>]*>", text), text  # <bool>, <path>, <int range>, <str>
    assert "``" not in text, text


@pytest.mark.parametrize("path", list(COMMANDS), ids=lambda p: " ".join(("equitrial", *p)))
def test_every_argument_and_valued_option_has_a_metavar_in_capitals(
    path: tuple[str, ...],
) -> None:
    command = COMMANDS[path]
    usage = next(line for line in _help(path).splitlines() if "Usage:" in line).split()
    for param in command.params:
        if isinstance(param, TyperArgument):
            assert param.metavar is not None and param.metavar.isupper(), param.name
            assert (param.metavar if param.required else f"[{param.metavar}]") in usage, usage
        elif isinstance(param, TyperOption) and not param.is_flag:
            assert param.metavar is not None and param.metavar.isupper(), param.opts


@pytest.mark.parametrize(
    ("args", "shown"),
    [
        (("design",), "Usage: equitrial design [OPTIONS] PROTOCOL"),
        (("design",), "--out DIR Folder"),
        (("design",), "--json Print one JSON"),
        (("simulate",), "--replicates N [x>=2] Trials per scenario"),
        (("simulate",), "--seed N [x>=0]"),
        (("randomize",), "Usage: equitrial randomize [OPTIONS] SUBJECT"),
        (("randomization", "list"), "* --as USER The user who acts"),
        (("randomization", "list"), "--password-stdin Read the password"),
        (("restore",), "Usage: equitrial restore [OPTIONS] SRC"),
        (("user", "grant"), "* --as ADMIN"),
        (("subject", "enrol"), "--stratum FACTOR=LEVEL"),
        ((), "--version Print the version."),
    ],
)
def test_help_shows_metavars_and_bare_flags(args: tuple[str, ...], shown: str) -> None:
    assert shown in _words(_help(args))
