"""``equitrial subject enrol``: screen a subject at a site (as a named user)."""

from __future__ import annotations

import typer

from equitrial.cli.db import database, fail_with
from equitrial.cli.users import AS_OPTION, PASSWORD_STDIN_OPTION, login
from equitrial.errors import InvalidInputError
from equitrial.services import subjects as subjects_service

__all__ = ["app", "enrol", "parse_strata"]

app = typer.Typer(help="Subjects: screening and enrolment.", no_args_is_help=True)


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
        False, "--eligible", help="The eligibility checklist is met (confirm eligibility now)."
    ),
) -> None:
    """Enrol a subject; prints the new subject id alone on the last line."""
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
    status = subject.values["status"]
    typer.echo(f"enrolled at site {site}, screening number {screening_number}, status {status}")
    typer.echo(subject.values["subject_code"])
