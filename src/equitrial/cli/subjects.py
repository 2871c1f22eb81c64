"""``equitrial subject enrol``, ``subject confirm-eligibility``, ``subject correct-strata``.

Each acts as a named user (``--as USER --password-stdin``). Only an investigator gives
``--eligible`` or confirms eligibility; strata can be corrected, with a reason, until the subject
is randomized.
"""

from __future__ import annotations

import typer

from equitrial.cli._common import App
from equitrial.cli.db import database, fail_with
from equitrial.cli.users import AS_OPTION, PASSWORD_STDIN_OPTION, login
from equitrial.errors import InvalidInputError

__all__ = ["app", "confirm", "correct_strata", "enrol", "parse_strata"]

app = App(help="Subjects: screening and enrolment.", no_args_is_help=True)


def parse_strata(pairs: list[str]) -> dict[str, str]:
    """``["factor=level", ...]`` as a dict; a malformed or repeated factor is an error."""
    strata: dict[str, str] = {}
    for pair in pairs:
        factor, sep, level = pair.partition("=")
        factor, level = factor.strip(), level.strip()
        if not sep or not factor or not level:
            fail_with(
                InvalidInputError(
                    f"--stratum {pair!r}: expected FACTOR=LEVEL, e.g. ecog_ps=0",
                    field="stratum",
                    value=pair,
                    expected="FACTOR=LEVEL",
                )
            )
        if factor in strata:
            fail_with(
                InvalidInputError(
                    f"--stratum {factor}: given twice ({strata[factor]!r} and {level!r})",
                    field=f"stratum.{factor}",
                    value=level,
                )
            )
        strata[factor] = level
    return strata


@app.command("enrol")
def enrol(
    site: str = typer.Option(..., "--site", metavar="SITE", help="Code of the enrolling site."),
    screening_number: str = typer.Option(
        ..., "--screening-number", metavar="N", help="The site's screening number (unique)."
    ),
    as_user: str = AS_OPTION,
    password_stdin: bool = PASSWORD_STDIN_OPTION,
    stratum: list[str] = typer.Option(
        [], "--stratum", metavar="FACTOR=LEVEL", help="A stratification factor's level (repeat)."
    ),
    eligible: bool = typer.Option(
        False,
        "--eligible",
        help="The eligibility checklist is met (confirm eligibility now; investigators only).",
    ),
) -> None:
    """Enrol a subject; prints the new subject id alone on the last line.

    Every stratification factor needs its level (one --stratum per factor). The screening
    number is normalized as the protocol says (NFKC, trimmed, leading zeros) and printed so.
    """
    from equitrial.services import subjects as subjects_service

    strata = parse_strata(stratum)
    with database() as engine:
        actor = login(engine, as_user, password_stdin)
        subject = subjects_service.enrol(
            engine,
            actor,
            site_code=site,
            screening_number=screening_number,
            strata=strata,
            eligible=eligible if eligible else None,
        )
    number, status = subject.values["screening_number"], subject.values["status"]
    typer.echo(f"enrolled at site {site}, screening number {number}, status {status}")
    typer.echo(subject.values["subject_code"])


@app.command("confirm-eligibility")
def confirm(
    subject: str = typer.Argument(..., metavar="SUBJECT", help="The subject id or code."),
    as_user: str = AS_OPTION,
    password_stdin: bool = PASSWORD_STDIN_OPTION,
    ineligible: bool = typer.Option(
        False, "--ineligible", help="Record the subject as NOT eligible (default: eligible)."
    ),
    reason: str | None = typer.Option(
        None, "--reason", metavar="TEXT", help="Why, when an earlier decision changes."
    ),
) -> None:
    """Record the investigator's eligibility decision (investigators of the site only)."""
    from equitrial.services import subjects as subjects_service

    with database() as engine:
        actor = login(engine, as_user, password_stdin)
        view = subjects_service.confirm_eligibility(
            engine, actor, subject, not ineligible, reason=reason
        )
    typer.echo(f"subject {view.subject_code}: status {view.status}")


@app.command("correct-strata")
def correct_strata(
    subject: str = typer.Argument(..., metavar="SUBJECT", help="The subject id or code."),
    stratum: list[str] = typer.Option(
        ..., "--stratum", metavar="FACTOR=LEVEL", help="A corrected level (repeat)."
    ),
    reason: str = typer.Option(
        ..., "--reason", metavar="TEXT", help="Why the strata change (audited)."
    ),
    as_user: str = AS_OPTION,
    password_stdin: bool = PASSWORD_STDIN_OPTION,
) -> None:
    """Correct a subject's stratification levels before randomization (site staff)."""
    from equitrial.services import subjects as subjects_service

    strata = parse_strata(stratum)
    with database() as engine:
        actor = login(engine, as_user, password_stdin)
        view = subjects_service.correct_strata(engine, actor, subject, strata, reason=reason)
    levels = ", ".join(f"{f}={lv}" for f, lv in view.strata.items())
    typer.echo(f"subject {view.subject_code}: strata {levels}")
