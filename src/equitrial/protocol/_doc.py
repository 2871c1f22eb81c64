"""The reference of ``protocol.toml``, generated from the pydantic models.

``docs/protocol.md`` is the output of :func:`protocol_reference`; regenerate it with::

    python -m equitrial.protocol._doc > docs/protocol.md

Every table is one section, every key one row: its type (with the bounds the model enforces),
its default (or "required") and its meaning, taken from the ``Attributes`` section of the
model's numpydoc docstring. A union of tables (``[randomization]``, a survival model) gets one
section per variant, named by its discriminator.
"""

from __future__ import annotations

import inspect
import re
import types
import typing
from typing import Any, Literal, Union, get_args, get_origin

from annotated_types import Ge, Gt, Le, Lt, MaxLen, MinLen
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from equitrial.protocol._protocol import Protocol

__all__ = ["protocol_reference"]

_HEADER = """\
# The protocol file (`protocol.toml`)

Every key of the protocol file: its type, default and meaning. A key without a default is
required; any key not listed here is refused. Numbers are strict: `"0.33"` (a string) is not a
number. An example: `examples/melanoma-pembrolizumab/protocol.toml`.

This page is generated from the pydantic models in `src/equitrial/protocol/`; do not edit it by
hand. Regenerate it with `python -m equitrial.protocol._doc > docs/protocol.md`.
"""


def protocol_reference() -> str:
    """The markdown reference of every key of ``protocol.toml``."""
    parts = [_HEADER]
    seen: set[type[BaseModel]] = set()
    queue: list[tuple[str, type[BaseModel]]] = [("", Protocol)]
    while queue:
        path, model = queue.pop(0)
        if model in seen:
            continue
        seen.add(model)
        parts.append(_section(path, model, queue))
    return "\n".join(parts)


def _section(path: str, model: type[BaseModel], queue: list[tuple[str, type[BaseModel]]]) -> str:
    meanings = _attribute_meanings(model)
    title = path or "top level"
    lines = [f"## {title}", "", _prose(model), "", "| key | type | default | meaning |"]
    lines.append("|---|---|---|---|")
    tag = _discriminator_value(model)
    for name, field in model.model_fields.items():
        nested = _models_in(field.annotation)
        array = _is_sequence(field.annotation)
        base = path.split(" ")[0].strip("[]")
        sub_path = f"{base}.{name}" if base else name
        headings = []
        for sub in nested:
            sub_tag = _discriminator_value(sub)
            heading = f"[[{sub_path}]]" if array else f"[{sub_path}]"
            if len(nested) > 1 and sub_tag is not None:
                heading += f" with {sub_tag[0]} = {sub_tag[1]!r}"
            headings.append(heading)
            queue.append((heading, sub))
        meaning = meanings.get(name, "")
        if not meaning and headings:
            meaning = "See " + ", ".join(f"`{h}`" for h in headings) + "."
        if not meaning and tag is not None and name == tag[0]:
            meaning = "Selects this form of the table."
        lines.append(
            f"| `{name}` | {_type_text(field)} | {_default_text(field)} | "
            f"{_markdown(meaning).replace('|', '/')} |"
        )
    return "\n".join(lines) + "\n"


def _markdown(text: str) -> str:
    """numpydoc / reST inline markup as markdown: ``x`` and :role:`x` become `x`."""
    text = re.sub(r":[a-z]+:`~?([^`]+)`", r"`\1`", text)
    return text.replace("``", "`")


def _prose(model: type[BaseModel]) -> str:
    """The docstring up to its first numpydoc section, as one markdown paragraph per paragraph."""
    doc = inspect.getdoc(model) or ""
    doc = re.split(r"\n\S[^\n]*\n-{3,}\n", "\n" + doc, maxsplit=1)[0].strip()
    paragraphs = [" ".join(p.split()) for p in doc.split("\n\n")]
    return _markdown("\n\n".join(paragraphs))


def _attribute_meanings(model: type[BaseModel]) -> dict[str, str]:
    """``name -> text`` from the ``Attributes`` section (``a, b`` entries share a text)."""
    doc = inspect.getdoc(model) or ""
    if "Attributes\n----------" not in doc:
        return {}
    body = doc.split("Attributes\n----------", 1)[1]
    out: dict[str, str] = {}
    names: list[str] = []
    text: list[str] = []

    def flush() -> None:
        for n in names:
            out[n] = " ".join(text).strip()

    for line in body.splitlines():
        if line and not line.startswith(" "):
            if line.endswith("-" * 3) or not line[0].isalpha():
                break
            flush()
            names = [n.strip() for n in line.split(" : ")[0].split(",")]
            text = []
        elif line.strip():
            text.append(line.strip())
    flush()
    return out


def _strip(tp: Any) -> Any:
    while get_origin(tp) is typing.Annotated:
        tp = get_args(tp)[0]
    return tp


def _union_args(tp: Any) -> tuple[Any, ...]:
    tp = _strip(tp)
    if get_origin(tp) in (Union, types.UnionType):
        return tuple(_strip(a) for a in get_args(tp))
    return (tp,)


def _is_sequence(tp: Any) -> bool:
    return get_origin(_strip(tp)) is tuple


def _models_in(tp: Any) -> list[type[BaseModel]]:
    tp = _strip(tp)
    if get_origin(tp) is tuple:
        tp = _strip(get_args(tp)[0])
    return [a for a in _union_args(tp) if isinstance(a, type) and issubclass(a, BaseModel)]


def _discriminator_value(model: type[BaseModel]) -> tuple[str, Any] | None:
    for name, field in model.model_fields.items():
        if get_origin(field.annotation) is Literal and len(get_args(field.annotation)) == 1:
            return name, get_args(field.annotation)[0]
    return None


def _type_name(tp: Any) -> str:
    tp = _strip(tp)
    origin = get_origin(tp)
    if origin is Literal:
        return "one of " + ", ".join(f"`{v!r}`" for v in get_args(tp))
    if origin in (Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        return " or ".join(_type_name(a) for a in args)
    if origin is tuple:
        return f"array of {_type_name(get_args(tp)[0])}"
    if origin is dict:
        key, value = get_args(tp)
        return f"table of {_type_name(key)} to {_type_name(value)}"
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return "table"
    names = {str: "string", int: "integer", float: "number", bool: "boolean"}
    return names.get(tp, getattr(tp, "__name__", str(tp)))


def _bounds(metadata: list[Any]) -> list[str]:
    out = []
    for m in metadata:
        if isinstance(m, Gt):
            out.append(f"> {m.gt}")
        elif isinstance(m, Ge):
            out.append(f">= {m.ge}")
        elif isinstance(m, Lt):
            out.append(f"< {m.lt}")
        elif isinstance(m, Le):
            out.append(f"<= {m.le}")
        elif isinstance(m, MinLen):
            out.append(f"length >= {m.min_length}")
        elif isinstance(m, MaxLen):
            out.append(f"length <= {m.max_length}")
        elif getattr(m, "pattern", None):
            out.append(f"matching `{m.pattern}`")
    return out


def _type_text(field: FieldInfo) -> str:
    text = _type_name(field.annotation)
    bounds = _bounds(list(field.metadata))
    return f"{text} ({', '.join(bounds)})" if bounds else text


def _default_text(field: FieldInfo) -> str:
    if field.is_required():
        return "required"
    if field.default_factory is not None:
        return "empty" if field.default_factory in (dict, tuple, list) else "(all defaults)"
    if field.default is None or field.default is PydanticUndefined:
        return "none"
    if field.default == ():
        return "`[]`"
    value = field.default
    return f"`{str(value).lower()}`" if isinstance(value, bool) else f"`{value!r}`"


if __name__ == "__main__":
    print(protocol_reference(), end="")
