"""What every command shares: loading the protocol, reporting errors, printing JSON."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any, NoReturn

import typer
from rich.console import Console

from equitrial.errors import EquitrialError
from equitrial.protocol import Protocol, load_protocol

__all__ = ["err_console", "fail", "load", "print_json"]

err_console = Console(stderr=True)


def fail(error: EquitrialError | str, code: int = 2) -> NoReturn:
    """Print the error on stderr and exit with ``code`` (2: bad input)."""
    err_console.print(f"[bold red]error:[/] {error}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def load(path: Path) -> Protocol:
    """Load a protocol file, or exit with its error message."""
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
