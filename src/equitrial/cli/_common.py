"""What every command shares: the Typer app class, loading the protocol, reporting errors,
printing JSON and tables, and the checks of what comes in from outside (the arguments and stdin)
before any command runs.

Start-up stays light: this module and every command module import only typer, rich and the
thin CLI modules at the top. The protocol model (pydantic), the store (SQLAlchemy), the services
(argon2, numpy, scipy ...) are imported inside the function that needs them, so ``--version``
and ``--help`` load none of them (``tests/cli/test_cli_startup.py``; Typer 0.29 itself imports
pydantic when it converts a parameter's value).
"""

from __future__ import annotations

import io
import json
import math
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from typer import _click
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption
from typer.models import CommandFunctionType

from equitrial.errors import EquitrialError, InvalidInputError

if TYPE_CHECKING:
    from equitrial.protocol import Protocol

__all__ = [
    "MAX_ARGUMENT_LENGTH",
    "MAX_STDIN_LINE",
    "App",
    "Command",
    "Group",
    "StrictStdin",
    "argument_problem",
    "check_text_line",
    "err_console",
    "fail",
    "install_strict_stdin",
    "load",
    "print_json",
    "print_table",
    "report",
]

err_console = Console(stderr=True)

MAX_ARGUMENT_LENGTH: Final = 4096
"""A command-line argument has at most 4,096 characters."""

MAX_STDIN_LINE: Final = 4096
"""A line read from stdin (a password) has at most 4,096 characters."""

_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f-\x9f]")  # C0, DEL and C1 control characters
_STDIN_CONTROL: Final = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")  # tab, CR, LF pass


def report(error: EquitrialError | str) -> None:
    """Print ``error: <message>`` on stderr, whatever characters the message holds."""
    text = str(error).encode("utf-8", "backslashreplace").decode("utf-8")
    err_console.print(f"[bold red]error:[/] {escape(text)}", highlight=False, soft_wrap=True)


def fail(error: EquitrialError | str, code: int = 2) -> NoReturn:
    """Print the error on stderr and exit with ``code`` (2: bad input)."""
    report(error)
    raise typer.Exit(code)


def _shown(text: str) -> str:
    return ascii(text if len(text) <= 40 else text[:37] + "...")


def argument_problem(args: Sequence[str]) -> str | None:
    """What is wrong with the command line, or ``None``: checked before any command runs.

    An argument must be valid UTF-8 (Python hands undecodable bytes over as lone surrogates),
    hold no control character, not be empty, and have at most :data:`MAX_ARGUMENT_LENGTH`
    characters. No command of equitrial takes such a value, and refusing them here means no
    command (and no database driver) ever sees one.
    """
    for position, arg in enumerate(args, start=1):
        where = f"argument {position}"
        if not arg:
            return f"{where} is empty; expected a value"
        if len(arg) > MAX_ARGUMENT_LENGTH:
            return f"{where} has {len(arg)} characters; expected at most {MAX_ARGUMENT_LENGTH}"
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            return f"{where} {_shown(arg)} is not valid UTF-8 text"
        if _CONTROL.search(arg):
            return f"{where} {_shown(arg)} holds a control character; expected text"
    return None


class StrictStdin(io.TextIOWrapper):
    """stdin as strict UTF-8 text: invalid bytes, NUL or control characters, or a line longer
    than :data:`MAX_STDIN_LINE` raise :class:`InvalidInputError` (``field="stdin"``).

    :func:`equitrial.cli.main` puts it in place of :data:`sys.stdin`, so every command that
    reads stdin (passwords) gets clean text or a clear error, never a traceback.
    """

    # typeshed types _IOBase.readline/__next__ as bytes, TextIOWrapper's as str: mypy sees both
    def readline(self, size: int = -1, /) -> str:  # type: ignore[override]
        """One line, checked (at most :data:`MAX_STDIN_LINE` characters before its line end)."""
        limit = MAX_STDIN_LINE + 2 if size < 0 else min(size, MAX_STDIN_LINE + 2)
        try:
            line = super().readline(limit)
        except UnicodeDecodeError:
            raise InvalidInputError("stdin is not valid UTF-8 text", field="stdin") from None
        check_text_line(line)
        return line

    def read(self, size: int | None = -1, /) -> str:
        """The text, checked."""
        try:
            text = super().read(size)
        except UnicodeDecodeError:
            raise InvalidInputError("stdin is not valid UTF-8 text", field="stdin") from None
        check_text_line(text, limit=None)
        return text

    def __next__(self) -> str:  # type: ignore[override]
        line = self.readline()
        if not line:
            raise StopIteration
        return line


def check_text_line(text: str, *, limit: int | None = MAX_STDIN_LINE) -> None:
    """Refuse text from stdin that holds NUL or a control character (tab and line ends pass),
    or a line longer than ``limit`` characters (:class:`InvalidInputError`, ``field="stdin"``).
    """
    if limit is not None and len(text.rstrip("\r\n")) > limit:
        raise InvalidInputError(f"a line of stdin is longer than {limit} characters", field="stdin")
    if "\x00" in text:
        raise InvalidInputError("stdin holds a NUL character; expected text", field="stdin")
    if _STDIN_CONTROL.search(text):
        raise InvalidInputError("stdin holds a control character; expected text", field="stdin")


def install_strict_stdin() -> None:
    """Replace :data:`sys.stdin` by a :class:`StrictStdin` over the same bytes (once)."""
    stream = sys.stdin
    if stream is None or isinstance(stream, StrictStdin) or not hasattr(stream, "buffer"):
        return
    sys.stdin = StrictStdin(stream.buffer, encoding="utf-8", errors="strict")


def load(path: Path) -> Protocol:
    """Load a protocol file, or exit with its error message."""
    from equitrial.protocol import load_protocol

    try:
        return load_protocol(path)
    except EquitrialError as exc:
        fail(exc)


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def print_json(document: Any) -> None:
    """One JSON document on stdout (non-finite floats as null / "inf")."""
    sys.stdout.write(json.dumps(_clean(document), indent=2, allow_nan=False) + "\n")


_UNWRAPPED_WIDTH: Final = 100_000  # wider than any row: a piped table is never wrapped


def print_table(
    columns: Sequence[str], rows: Iterable[Sequence[object]], *, right: Sequence[str] = ()
) -> None:
    """Rows under a one-line header on stdout (the columns named in ``right`` right-aligned).

    On a terminal the table fits the terminal's width; piped or redirected, each row stays on
    one line however long it is, so 'grep' sees one row per line. Cells are plain
    text, never rich markup.
    """
    from rich import box
    from rich.table import Table
    from rich.text import Text

    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for column in columns:
        table.add_column(column, justify="right" if column in right else "left", overflow="fold")
    for row in rows:
        table.add_row(*(Text(str(cell)) for cell in row))
    console = Console(highlight=False)
    if not console.is_terminal:
        console = Console(highlight=False, width=_UNWRAPPED_WIDTH)
    console.print(table)


# --- help text: arguments and options by their metavar, no type labels ---------------------------
# Typer 0.29 shows a required argument as '{protocol}' in the usage line and a type label such as
# '<path>' or '<bool>' next to every parameter. Every group and command of equitrial is built
# from App, Group and Command below, which show instead 'PROTOCOL' in the usage line, an option
# with its metavar ('--out DIR'), a flag alone ('--json'), and no type label anywhere. Typer
# creates its parameters itself (there is no hook for a parameter class), so get_params sets the
# class of each TyperArgument / TyperOption to one of the two subclasses below: they add no state
# and override only what help shows (usage piece, type column); parsing is Typer's own.
# tests/cli/test_cli_help.py checks the help of every command.


class _Argument(TyperArgument):
    """An argument shown by its metavar: 'PROTOCOL', '[NAME]', 'FILE...'; no type label."""

    def get_usage_pieces(self, ctx: _click.Context) -> list[str]:
        """The argument in the usage line, in capitals, bracketed when optional."""
        name = self.metavar or (self.name or "").upper()
        if self.nargs != 1:
            name += "..."
        return [name if self.required else f"[{name}]"]

    def display_type_rich(self, ctx: _click.Context) -> str | None:
        """No type label: the metavar says what the argument is."""
        return None


class _Option(TyperOption):
    """An option shown with its metavar ('--out DIR'), a flag with nothing ('--json')."""

    def display_type_rich(self, ctx: _click.Context) -> str | None:
        """The metavar (the option's name in capitals if it has none); nothing for a flag."""
        if self.is_flag or self.count:
            return None
        if self.metavar is not None:
            return self.metavar
        name = (self.name or "value").upper()
        return name if self.nargs == 1 else f"{name}..."


def _plain(params: list[_click.Parameter]) -> list[_click.Parameter]:
    for param in params:
        if type(param) is TyperArgument:
            param.__class__ = _Argument
        elif type(param) is TyperOption:
            param.__class__ = _Option
    return params


class Command(TyperCommand):
    """A command whose help names its parameters by their metavars, without type labels."""

    def get_params(self, ctx: _click.Context) -> list[_click.Parameter]:
        """The parameters (with --help), shown by their metavars."""
        return _plain(super().get_params(ctx))


class Group(TyperGroup):
    """A command group whose help names its parameters by their metavars, without type labels."""

    def get_params(self, ctx: _click.Context) -> list[_click.Parameter]:
        """The parameters (with --help), shown by their metavars."""
        return _plain(super().get_params(ctx))


class App(typer.Typer):
    """A :class:`typer.Typer` made of a :class:`Group` and :class:`Command` s: every command
    group of equitrial is one, so every ``--help`` shows plain metavars."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(cls=Group, **kwargs)

    def command(
        self, name: str | None = None, *, cls: type[TyperCommand] | None = Command, **kwargs: Any
    ) -> Callable[[CommandFunctionType], CommandFunctionType]:
        """Register a command, a :class:`Command` unless ``cls`` says otherwise."""
        return super().command(name, cls=cls, **kwargs)
