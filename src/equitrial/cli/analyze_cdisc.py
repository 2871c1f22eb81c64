"""``equitrial analyze-cdisc FOLDER --out DIR``: safety and time-to-event displays of a study
delivered as standard ADaM SAS transport files.

Reads ``adsl.xpt``, ``adae.xpt`` and ``adtte.xpt`` (any case) from FOLDER, such as the CDISC
Pilot 01 package, and writes into DIR (created if needed):

- ``teae_by_soc.csv``: ``soc, arm, subjects, events`` (``soc`` = ``ANY`` for any TEAE);
- ``km_at_risk.csv``: ``param, arm, day, n_risk`` every 20 days from 0;
- ``demographics.csv``: ``variable, statistic, arm, value`` (age, age group, sex, race);
- ``report.html``: a self-contained page (tables, Kaplan-Meier figure, log-rank, Fisher p).

See :mod:`equitrial.analysis.cdisc_generic`. A missing file or variable, or an unreadable
file, prints ``error: ...`` naming it and exits 2; nothing is written then.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import typer

from equitrial.cli._common import fail
from equitrial.errors import EquitrialError, InvalidInputError

__all__ = ["REQUIRED_FILES", "analyze_cdisc", "command"]

REQUIRED_FILES = ("adsl.xpt", "adae.xpt", "adtte.xpt")
"""The ADaM transport files the command reads."""
EXIT_BAD_INPUT = 2


def _find(folder: Path, name: str) -> Path:
    matches = sorted(p for p in folder.iterdir() if p.is_file() and p.name.lower() == name)
    if not matches:
        raise InvalidInputError(
            f"{folder} has no {name} (the command needs {', '.join(REQUIRED_FILES)})",
            field=name,
            expected=", ".join(REQUIRED_FILES),
        )
    return matches[0]


def _csv(columns: tuple[str, ...], rows: list[dict[str, object]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if row[c] is None else row[c] for c in columns])
    return buffer.getvalue()


def analyze_cdisc(folder: Path, out: Path) -> None:
    """Analyse the ADaM files of ``folder`` and write the four outputs into ``out``.

    Raises
    ------
    InvalidInputError
        ``folder`` is not a folder, a required file is missing (``field`` = its name) or not a
        readable SAS transport file, or a dataset lacks a variable (``field`` = ``"ADAE.X"``).
    OSError
        ``out`` cannot be created or written.
    """
    from equitrial.analysis.cdisc_generic import analyze_adam, render_html
    from equitrial.cdisc.xpt import read_xpt

    if not folder.is_dir():
        raise InvalidInputError(f"{folder} is not a folder", field="FOLDER", value=str(folder))
    paths = {name: _find(folder, name) for name in REQUIRED_FILES}
    frames = {name: read_xpt(path)[0] for name, path in paths.items()}
    result = analyze_adam(frames["adsl.xpt"], frames["adae.xpt"], frames["adtte.xpt"])
    outputs = {
        "teae_by_soc.csv": _csv(("soc", "arm", "subjects", "events"), result.teae),
        "km_at_risk.csv": _csv(("param", "arm", "day", "n_risk"), result.at_risk),
        "demographics.csv": _csv(("variable", "statistic", "arm", "value"), result.demographics),
        "report.html": render_html(result, f"Safety and time-to-event analysis: {folder.name}"),
    }
    out.mkdir(parents=True, exist_ok=True)
    for name, text in outputs.items():
        (out / name).write_text(text, encoding="utf-8", newline="")


def command(
    folder: Path = typer.Argument(
        ..., metavar="FOLDER", help="Folder of ADaM XPT files: adsl.xpt, adae.xpt, adtte.xpt."
    ),
    out: Path = typer.Option(..., "--out", metavar="DIR", help="Where to write the outputs."),
) -> None:
    """Tables, Kaplan-Meier figure and tests of a study's ADaM files (ADSL, ADAE, ADTTE)."""
    try:
        analyze_cdisc(folder, out)
    except EquitrialError as exc:
        fail(exc, EXIT_BAD_INPUT)
    except OSError as exc:
        fail(f"{exc.filename or out}: {exc.strerror or exc}", EXIT_BAD_INPUT)
    typer.echo(
        f"teae_by_soc.csv, km_at_risk.csv, demographics.csv and report.html written to {out}"
    )
