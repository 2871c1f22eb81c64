"""Protocol file errors: pydantic's and tomllib's reports turned into key paths and values."""

from __future__ import annotations

import re
import tomllib
import types
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from equitrial.errors import InvalidInputError
from equitrial.protocol._base import IssueList

__all__ = ["MISSING", "ProtocolError", "ProtocolIssue", "format_path"]

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
_PATTERN = re.compile(r"^String should match pattern (.*)$")
_SHOULD = re.compile(r"^(\w+) should (.*)$")
_TOML_POSITION = re.compile(r"\(at line (\d+), column (\d+)\)")


@dataclass(frozen=True, slots=True)
class ProtocolIssue:
    """One problem in a protocol: key path (``arms[1].dose.interval_weeks``), value, expectation."""

    path: str
    value: Any
    message: str

    def render(self) -> str:
        """``path = value: message`` (``path: message`` when there is no value)."""
        if self.value is MISSING or self.value is None:  # TOML has no null: None is absent
            return f"{self.path}: {self.message}"
        return f"{self.path} = {_show(self.value)}: {self.message}"


class ProtocolError(InvalidInputError):
    """A protocol file or text is not a valid protocol.

    The message names the source (file), then lists every problem on its own line as
    ``source: key.path = value: what is expected``. ``issues`` holds them as
    :class:`ProtocolIssue`; ``field``, ``value`` and ``expected`` describe the first one;
    ``line`` and ``column`` locate a TOML syntax error.
    """

    code = "invalid_protocol"

    def __init__(
        self,
        source: str,
        issues: list[ProtocolIssue],
        *,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        first = issues[0]
        count = f"{len(issues)} problem" + ("s" if len(issues) > 1 else "")
        lines = [f"invalid protocol {source} ({count}):"]
        lines += [f"{source}: {issue.render()}" for issue in issues]
        value = None if first.value is MISSING else first.value
        super().__init__("\n".join(lines), field=first.path, value=value, expected=first.message)
        self.source = source
        self.issues = tuple(issues)
        self.line = line
        self.column = column

    def to_dict(self) -> dict[str, Any]:
        """Structured form, with every issue."""
        data = super().to_dict()
        data["issues"] = [
            {
                "path": i.path,
                "value": None if i.value is MISSING else repr(i.value),
                "message": i.message,
            }
            for i in self.issues
        ]
        return data

    @classmethod
    def from_toml(cls, exc: tomllib.TOMLDecodeError, source: str) -> ProtocolError:
        """A TOML syntax error, with its line and column."""
        text = str(exc)
        match = _TOML_POSITION.search(text)
        line = int(match.group(1)) if match else None
        column = int(match.group(2)) if match else None
        where = f"line {line}, column {column}" if match else "end of document"
        reason = _TOML_POSITION.sub("", text).strip()
        issue = ProtocolIssue(f"TOML syntax error at {where}", MISSING, reason)
        error = cls(source, [issue], line=line, column=column)
        error.field = None  # no key path: the text is not TOML
        return error

    @classmethod
    def from_validation(
        cls, exc: ValidationError, root: type[BaseModel], source: str
    ) -> ProtocolError:
        """Every error of a pydantic validation of ``root``, one issue each."""
        issues: list[ProtocolIssue] = []
        for err in exc.errors():
            issues += _issues_of(err, root)
        return cls(source, issues)


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


MISSING: Any = _Missing()


def _issues_of(err: Any, root: type[BaseModel]) -> list[ProtocolIssue]:
    loc: tuple[str | int, ...] = tuple(err["loc"])
    kind, ctx = err["type"], err.get("ctx") or {}
    error = ctx.get("error")
    if isinstance(error, IssueList):
        return [
            ProtocolIssue(format_path(root, (*loc, *i.loc)), i.value, i.message)
            for i in error.issues
        ]
    path = format_path(root, loc)
    if kind == "missing":
        return [ProtocolIssue(path, MISSING, "missing required key")]
    if kind == "extra_forbidden":
        known = _keys_at(root, loc[:-1])
        expected = f"; expected one of: {', '.join(known)}" if known else ""
        return [ProtocolIssue(path, MISSING, f"unknown key{expected}")]
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        key = str(ctx.get("discriminator", "")).strip("'")
        tags = ", ".join(repr(t) for t in _union_tags(root, loc))
        sub = f"{path}.{key}" if path else key
        value = ctx.get("tag", MISSING)
        return [ProtocolIssue(sub, value, f"expected one of {tags}")]
    return [ProtocolIssue(path, err.get("input"), _expected(err["msg"]))]


def _expected(msg: str) -> str:
    """pydantic's "Input should be a valid integer" -> "expected a valid integer"."""
    msg = msg.removeprefix("Value error, ")
    if msg.startswith("Input should be "):
        return "expected " + msg.removeprefix("Input should be ")
    if match := _PATTERN.match(msg):
        return f"expected a string matching pattern {match.group(1)}"
    if match := _SHOULD.match(msg):
        return f"expected {match.group(1).lower()} to {match.group(2)}"
    return msg[:1].lower() + msg[1:]


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def format_path(root: type[BaseModel], loc: tuple[str | int, ...]) -> str:
    """``("arms", 1, "dose", "interval_weeks")`` -> ``"arms[1].dose.interval_weeks"``.

    Tags pydantic inserts for discriminated unions (``randomization.minimization.p_best``) are
    dropped, as they are not keys of the file; keys that are not bare TOML keys are quoted.
    """
    parts: list[str] = []
    for key in _walk(root, loc)[0]:
        if isinstance(key, int):
            parts.append(f"[{key}]")
        else:
            name = key if _BARE_KEY.match(key) else f'"{key}"'
            parts.append(f".{name}" if parts else name)
    return "".join(parts)


def _keys_at(root: type[BaseModel], loc: tuple[str | int, ...]) -> list[str]:
    """The keys allowed in the table at ``loc`` (empty if it is not a table of the model)."""
    tp = _unwrap(_walk(root, loc)[1])
    return list(tp.model_fields) if _is_model(tp) else []


def _union_tags(root: type[BaseModel], loc: tuple[str | int, ...]) -> list[Any]:
    """The tags of the discriminated union at ``loc`` (``["permuted-blocks", ...]``)."""
    _, tp, disc = _walk(root, loc)
    tp = _unwrap(tp)
    members = get_args(tp) if get_origin(tp) in (Union, types.UnionType) else ()
    return [tag for member in members for tag in _tags(member, disc)]


def _walk(
    root: type[BaseModel], loc: tuple[str | int, ...]
) -> tuple[list[str | int], Any, str | None]:
    """File keys along ``loc`` (union tags dropped), the type reached and its discriminator."""
    keys: list[str | int] = []
    tp: Any = root
    disc: str | None = None
    for key in loc:
        tp, disc, is_tag = _step(tp, disc, key)
        if not is_tag:
            keys.append(key)
    return keys, tp, disc


def _step(tp: Any, disc: str | None, key: str | int) -> tuple[Any, str | None, bool]:
    """The type one key below ``tp``, its discriminator, whether ``key`` was a union tag."""
    tp = _unwrap(tp)
    origin = get_origin(tp)
    if _is_model(tp):
        field = tp.model_fields.get(str(key))
        if field is None:
            return None, None, False
        found = field.discriminator
        return field.annotation, (found if isinstance(found, str) else None), False
    if origin in (Union, types.UnionType):
        member = next((m for m in get_args(tp) if key in _tags(m, disc)), None)
        return member, None, member is not None
    if origin in (tuple, list):
        return get_args(tp)[0], None, False
    if origin is dict:
        return get_args(tp)[1], None, False
    return None, None, False


def _unwrap(tp: Any) -> Any:
    """Strip ``Annotated`` and ``Optional``; a union of several models stays."""
    while True:
        if get_origin(tp) is Annotated:
            tp = get_args(tp)[0]
            continue
        if get_origin(tp) in (Union, types.UnionType):
            members = [m for m in get_args(tp) if m is not type(None)]
            if len(members) == 1:
                tp = members[0]
                continue
        return tp


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _tags(model: Any, disc: str | None) -> tuple[Any, ...]:
    """Values of the discriminator field ``disc`` of a union member (its ``Literal``)."""
    if disc is None or not _is_model(model):
        return ()
    field = model.model_fields.get(disc)
    if field is None or get_origin(field.annotation) is not Literal:
        return ()
    return get_args(field.annotation)
