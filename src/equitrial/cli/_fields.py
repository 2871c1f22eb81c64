"""The hand-entered forms of ``equitrial record``: one table, fields read from the services.

:data:`FORMS` maps a form's name to the service function that saves it; adding a form is one
line. The fields of a form, their types and whether they are required are read from that
function's signature (its keyword parameters after ``engine, actor, subject``), so the command
line always takes exactly what the service takes. The signature is read from the service's
source with :mod:`ast`, not by importing it: ``--help`` must not load the services (SQLAlchemy,
argon2 ...; ``tests/cli/test_cli_startup.py``). ``tests/cli/test_record_cli.py`` checks that
what is read equals :func:`inspect.signature` of the imported function.

Values are parsed by type (:func:`parse_value`): a date ``YYYY-MM-DD``, a date and time in
ISO 8601 WITH its time zone, an integer, a finite number, a yes/no, text; the QLQ-C30 answers as
``q1=2 ... q30=6`` or ``items={"1": 2, ...}`` (JSON). An empty value (``end_date=``) is "not
given" for an optional field.
"""

from __future__ import annotations

import ast
import datetime as dt
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Final, Literal

from equitrial.errors import InvalidInputError

__all__ = [
    "EDIT_TABLES",
    "FORMS",
    "Field",
    "FieldType",
    "available",
    "describe",
    "form_fields",
    "parse_fields",
    "parse_value",
    "table_of",
]

FORMS: Final[dict[str, str]] = {
    "visit": "clinical.record_visit",
    "dose": "clinical.record_dose",
    "adverse_event": "clinical.report_adverse_event",
    "lab_result": "clinical.record_lab",
    "pk_sample": "samples.record_pk_sample",
    "ada_sample": "samples.record_ada_sample",
    "qlq_c30": "questionnaires.record_qlq_c30",
    "con_med": "conmeds.record_con_med",
    "subsequent_therapy": "conmeds.record_subsequent_therapy",
    "disposition": "outcomes.record_disposition",
    "death": "outcomes.record_death",
    "demographics": "baseline.record_demographics",
    "medical_history": "baseline.record_medical_history",
    "consent": "baseline.record_consent",
    "screen_failure": "outcomes.record_screen_failure",
}
"""Form name -> ``module.function`` of :mod:`equitrial.services` that saves it. A form whose
service is not in this installation (its module or function missing) is left out."""

EDIT_TABLES: Final[dict[str, str]] = {"qlq_c30": "questionnaire_response"}
"""The table of a form whose table has another name (every other form: its own name)."""

FieldType = Literal["date", "datetime", "int", "float", "bool", "text", "items"]

_TYPES: Final[dict[str, FieldType]] = {
    "dt.date": "date",
    "date": "date",
    "dt.datetime": "datetime",
    "datetime": "datetime",
    "int": "int",
    "float": "float",
    "bool": "bool",
    "str": "text",
    "Mapping[int, int | None]": "items",
}

_SHOWN: Final[dict[FieldType, str]] = {
    "date": "date YYYY-MM-DD",
    "datetime": "date and time with zone, e.g. 2024-03-02T08:15:00+01:00",
    "int": "integer (64-bit)",
    "float": "number",
    "bool": "yes or no",
    "text": "text",
    "items": 'answers q1=N ... q30=N, or items= a JSON object {"1": N, ...}',
}

_SERVICES: Final = Path(__file__).resolve().parents[1] / "services"
_SKIPPED: Final = ("engine", "actor", "subject")
_TRUE: Final = frozenset({"yes", "true", "y", "1"})
_FALSE: Final = frozenset({"no", "false", "n", "0"})


@dataclass(frozen=True)
class Field:
    """A field of a form: its name, type, and whether the service requires it."""

    name: str
    type: FieldType
    required: bool


def table_of(form: str) -> str:
    """The database table of a form's records."""
    return EDIT_TABLES.get(form, form)


def _field_type(annotation: str, where: str) -> tuple[FieldType, bool]:
    optional = annotation.endswith(" | None")
    base = annotation.removesuffix(" | None")
    if base not in _TYPES:
        raise TypeError(f"{where}: no command-line type for the annotation {annotation!r}")
    return _TYPES[base], optional


@cache
def available(form: str) -> bool:
    """Whether the service function of ``form`` is in this installation (a text search of its
    module's source, cheaper than parsing it at every start-up)."""
    module, _, function = FORMS[form].partition(".")
    path = _SERVICES / f"{module}.py"
    return path.is_file() and f"\ndef {function}(" in path.read_text(encoding="utf-8")


@cache
def form_fields(form: str) -> tuple[Field, ...] | None:
    """The fields of ``form`` from its service's signature; ``None`` if the service is absent."""
    module, _, function = FORMS[form].partition(".")
    path = _SERVICES / f"{module}.py"
    if not path.is_file():
        return None
    tree = ast.parse(path.read_text(encoding="utf-8"))
    node = next(
        (n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == function), None
    )
    if node is None:
        return None
    args = node.args
    positional = args.posonlyargs + args.args
    first_default = len(positional) - len(args.defaults)
    defaults = [i >= first_default for i in range(len(positional))]
    defaults += [d is not None for d in args.kw_defaults]
    fields = []
    for arg, has_default in zip(positional + args.kwonlyargs, defaults, strict=True):
        if arg.arg in _SKIPPED:
            continue
        text = ast.unparse(arg.annotation) if arg.annotation is not None else "str"
        kind, optional = _field_type(text, f"{FORMS[form]}({arg.arg})")
        fields.append(Field(arg.arg, kind, not (has_default or optional)))
    return tuple(fields)


def describe(form: str) -> str:
    """The help text of ``equitrial record FORM``: the service and every field with its type."""
    fields = form_fields(form) or ()
    paragraphs = [
        f"Save a new {form.replace('_', ' ')} record of a subject (services.{FORMS[form]}).",
        "Give each field as --field NAME=VALUE (repeat); an empty VALUE leaves an optional "
        "field out. Prints the saved record and the queries its implausible values opened.",
        "Fields (* required):",
    ]
    paragraphs += [f"{'*' if f.required else '-'} {f.name}: {_SHOWN[f.type]}" for f in fields]
    return "\n\n".join(paragraphs)


def _bad(name: str, text: str, expected: str) -> InvalidInputError:
    return InvalidInputError(
        f"--field {name}={text}: expected {expected}", field=name, value=text, expected=expected
    )


def _datetime(text: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(text)
    if value.tzinfo is None:
        raise ValueError("no time zone")
    return value


def _integer(text: str) -> int:
    value = int(text)
    if not -(2**63) <= value < 2**63:
        raise ValueError("beyond 64 bits")
    return value


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError("not finite")
    return number


def _yes_no(text: str) -> bool:
    word = text.strip().lower()
    if word not in _TRUE | _FALSE:
        raise ValueError("not yes or no")
    return word in _TRUE


def _items(text: str) -> dict[int, int | None]:
    doc = json.loads(text)
    if not isinstance(doc, dict):
        raise ValueError("not a JSON object")
    return {int(k): None if v is None else int(v) for k, v in doc.items()}


_PARSERS: Final[dict[FieldType, Callable[[str], Any]]] = {
    "date": dt.date.fromisoformat,
    "datetime": _datetime,
    "int": _integer,
    "float": _finite,
    "bool": _yes_no,
    "text": str,
    "items": _items,
}


def parse_value(name: str, kind: FieldType, text: str) -> Any:
    """``text`` as a value of ``kind``, or :class:`InvalidInputError` naming the field."""
    try:
        return _PARSERS[kind](text)
    except (ValueError, TypeError):
        raise _bad(name, text, _SHOWN[kind]) from None


def _split(pairs: list[str]) -> dict[str, str]:
    given: dict[str, str] = {}
    for pair in pairs:
        name, sep, text = pair.partition("=")
        name = name.strip()
        if not sep or not name:
            raise InvalidInputError(
                f"--field {pair!r}: expected NAME=VALUE, e.g. grade=2", field="field", value=pair
            )
        if name in given:
            raise InvalidInputError(f"--field {name}: given twice", field=name, value=text)
        given[name] = text
    return given


def _answers(given: dict[str, str], items: dict[int, int | None]) -> None:
    """Move ``qN=...`` answers of the QLQ-C30 from ``given`` into ``items``."""
    for name in [n for n in given if n[:1] == "q" and n[1:].isdigit()]:
        text = given.pop(name)
        items[int(name[1:])] = None if text == "" else parse_value(name, "int", text)


def parse_fields(form: str, pairs: list[str], *, require: bool = True) -> dict[str, Any]:
    """The ``--field NAME=VALUE`` pairs of ``form``, each parsed by its type.

    Parameters
    ----------
    require
        Refuse a missing required field (a new record); an edit gives only what changes.

    Raises
    ------
    InvalidInputError
        A malformed pair, an unknown or repeated field, a value of the wrong type, a required
        field missing or empty; the error names the field.
    """
    fields = {f.name: f for f in form_fields(form) or ()}
    given = _split(pairs)
    values: dict[str, Any] = {}
    if "items" in fields:
        items: dict[int, int | None] = {}
        _answers(given, items)
        if items:
            values["items"] = items
    for name, text in given.items():
        spec = fields.get(name)
        if spec is None:
            raise InvalidInputError(
                f"{form} has no field {name!r}; expected one of {', '.join(fields)}",
                field=name,
                value=text,
            )
        if text == "":
            if spec.required:
                raise InvalidInputError(f"--field {name}: a value is required", field=name)
            values[name] = None
            continue
        values[name] = parse_value(name, spec.type, text)
    missing = [n for n, f in fields.items() if require and f.required and n not in values]
    if missing:
        raise InvalidInputError(
            f"{form}: field {missing[0]} is required (--field {missing[0]}=VALUE); "
            f"required: {', '.join(n for n, f in fields.items() if f.required)}",
            field=missing[0],
        )
    return values
