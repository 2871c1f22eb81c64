"""The store's own check of every value before it is written: type, range of text, enumerations.

A value is checked, and coerced where the coercion loses nothing, against its column's type
BEFORE it is audited and flushed, so what the audit trail records is exactly what the database
stores: a grade of 2.5 is refused (never stored as 2 or 3 while audited as 2.5), an integral
float 2.0 becomes the integer 2, an integer dose 200 becomes the float 200.0.

Text has a length limit on both databases: PostgreSQL enforces ``VARCHAR(n)`` itself, SQLite
does not, so every ``String(n)`` column is checked here, and every ``Text`` column against its
``info["max_length"]`` (default :data:`TEXT_MAX_LENGTH`). Text must be valid Unicode without
NUL characters (PostgreSQL refuses NUL; a lone surrogate from undecodable bytes cannot be
encoded).

:func:`check_row` is called by :func:`equitrial.store.audit.record_changes` and, as a safety
net for any other write, by a ``before_flush`` hook on every session.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Final

from sqlalchemy import Boolean, Date, DateTime, Enum, Float, Integer, String, Table, event, inspect
from sqlalchemy.orm import Mapper, Session
from sqlalchemy.orm.state import InstanceState

from equitrial.errors import InvalidInputError

__all__ = [
    "INT_MAX",
    "INT_MIN",
    "TEXT_MAX_LENGTH",
    "check_row",
    "check_values",
    "checked_rows",
]

TEXT_MAX_LENGTH: Final = 10_000
"""Default limit of a ``Text`` column (a reason, a message, a free-text answer), in characters."""
INT_MIN: Final = -(2**31)
INT_MAX: Final = 2**31 - 1
"""The range of an ``INTEGER`` column on PostgreSQL (SQLite's is wider; both are held to it)."""


def _fail(where: str, value: Any, expected: str) -> InvalidInputError:
    shown = value if not isinstance(value, str) or len(value) <= 40 else f"{value[:40]}..."
    return InvalidInputError(
        f"{where}: {shown!r} is not {expected}",
        field=where.rsplit(".", 1)[-1],
        value=shown,
        expected=expected,
    )


def _text(where: str, value: Any, *, limit: int) -> str:
    if not isinstance(value, str):
        raise _fail(where, value, "text")
    if len(value) > limit:
        raise InvalidInputError(
            f"{where}: {len(value)} characters, at most {limit} allowed",
            field=where.rsplit(".", 1)[-1],
            expected=f"at most {limit} characters",
        )
    if "\x00" in value:
        raise _fail(where, value, "text without NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise _fail(where, value, "valid Unicode text (undecodable bytes?)") from None
    return value


def _integer(where: str, value: Any) -> int:
    if isinstance(value, bool):
        raise _fail(where, value, "a whole number")
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value = int(value)
    if not isinstance(value, int):
        raise _fail(where, value, "a whole number")
    if not INT_MIN <= value <= INT_MAX:
        raise _fail(where, value, f"a whole number in {INT_MIN}..{INT_MAX}")
    return value


def _float(where: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _fail(where, value, "a number")
    if not math.isfinite(value):
        raise _fail(where, value, "a finite number")
    return float(value)


def _date(where: str, value: Any) -> dt.date:
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise _fail(where, value, "a date")
    return value


def _datetime(where: str, value: Any) -> dt.datetime:
    if not isinstance(value, dt.datetime) or value.tzinfo is None:
        raise _fail(where, value, "a date-time with a time zone")
    return value


def _enum(where: str, value: Any, *, kind: Enum) -> str:
    allowed = list(kind.enums)
    if value not in allowed:
        raise _fail(where, value, f"one of {', '.join(allowed)}")
    return str(value)


def _boolean(where: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise _fail(where, value, "true or false")
    return value


_CHECKS: Final = (
    (Integer, _integer),
    (Float, _float),
    (Boolean, _boolean),
    (DateTime, _datetime),
    (Date, _date),
)


Checker = Callable[[Any], Any]
"""A column's check: the value checked and coerced, or :class:`InvalidInputError`."""


def _checker(column: Any, where: str) -> Checker | None:
    """The check of ``column`` with its message prefix ``where`` bound (``None``: no check)."""
    kind = column.type
    if isinstance(kind, Enum):
        return functools.partial(_enum, where, kind=kind)
    if isinstance(kind, String):  # Text is a String without a length
        limit = kind.length or column.info.get("max_length", TEXT_MAX_LENGTH)
        return functools.partial(_text, where, limit=limit)
    base = getattr(kind, "impl", kind)  # a TypeDecorator (UTCDateTime) checks as its impl
    for sql_type, check in _CHECKS:
        if isinstance(base, sql_type):
            return functools.partial(check, where)
    return None


@functools.cache
def _table_checks(table: Table) -> dict[str, Checker | None]:
    """Every column's check, made once per table (the column types do not change)."""
    return {column.key: _checker(column, f"{table.name}.{column.key}") for column in table.c}


def check_values(table: Table, values: Mapping[str, Any]) -> dict[str, Any]:
    """The form ``values`` checked and coerced for the columns of ``table`` they name.

    Keys that are not columns of the table pass unchanged (derived or helper values).
    """
    checks = _table_checks(table)
    checked = {}
    for name, value in values.items():
        check = checks.get(name)
        checked[name] = value if check is None or value is None else check(value)
    return checked


@functools.cache
def _row_checks(mapper: Mapper[Any]) -> tuple[tuple[str, Checker], ...]:
    """``(attribute, check)`` of every checked column attribute of a mapped class, made once."""
    table = str(getattr(mapper.class_, "__tablename__", mapper.class_.__name__))
    plan = [(a.key, _checker(a.columns[0], f"{table}.{a.key}")) for a in mapper.column_attrs]
    return tuple((key, check) for key, check in plan if check is not None)


def check_row(obj: Any) -> None:
    """Check and coerce, in place, every column value of a model instance about to be written."""
    state: InstanceState[Any] = inspect(obj)
    values = state.dict
    for key, check in _row_checks(state.mapper):
        value = values.get(key)
        if value is None:
            continue
        checked = check(value)
        if checked is not value and (type(checked) is not type(value) or checked != value):
            setattr(obj, key, checked)


_CHECKED: Final = "equitrial_rows_checked"
"""``session.info`` key: ids of the records the coming flush need not check again."""


@contextmanager
def checked_rows(session: Session, objs: list[Any]) -> Iterator[None]:
    """A flush in this block does not check ``objs`` again: the caller has just checked them
    with :func:`check_row` and changes nothing before the flush."""
    session.info[_CHECKED] = {id(obj) for obj in objs}
    try:
        yield
    finally:
        session.info.pop(_CHECKED, None)


@event.listens_for(Session, "before_flush")
def _check_before_flush(session: Session, _context: Any, _instances: Any) -> None:
    checked = session.info.pop(_CHECKED, ())
    for obj in (*session.new, *session.dirty):
        if hasattr(obj, "__table__") and id(obj) not in checked:
            check_row(obj)
