"""The clinical study report as one self-contained HTML file.

Sections follow the numbering of ICH E3 section 14 ("Tables, figures and graphs referred to
but not included in the text"; ICH E3 Structure and Content of Clinical Study Reports, 1995):
14.1 populations and demographics, 14.2 efficacy, 14.3 safety, 14.4 PK/ADA, 14.5 PRO, and this
trial's 14.6 dosing paradigms and access and 14.7 published comparisons. Tables are
:class:`~equitrial.analysis.tables.Table` objects rendered by great_tables; figures are PNG
bytes inlined as ``data:`` URIs; the stylesheet is inlined: the file fetches nothing.

Every text (titles, cells, captions, reproducibility values) is HTML-escaped: by Jinja2's
autoescape in the page, by great_tables in the tables. The same content gives the same bytes.
"""

from __future__ import annotations

import base64
import math
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib.resources import files
from typing import Any

import great_tables
import jinja2
import pandas as pd
from markupsafe import Markup

from equitrial.analysis.tables import Cell, Table
from equitrial.errors import InvalidInputError
from equitrial.report._style import DPI

__all__ = ["CSR_SECTIONS", "ReportContent", "Section", "format_cell", "render_html"]

CSR_SECTIONS: dict[str, str] = {
    "14.1": "Study populations and demographics",
    "14.2": "Efficacy",
    "14.3": "Safety",
    "14.4": "Pharmacokinetics and immunogenicity",
    "14.5": "Patient-reported outcomes",
    "14.6": "Dosing paradigms and access",
    "14.7": "Published comparisons",
}
"""The report's sections and their default titles."""

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_CSS_PX_PER_INCH = 96  # CSS 2.1 section 4.3.2: 1in = 96px


@dataclass(frozen=True)
class Section:
    """One numbered section: its tables, then its figures (caption, PNG bytes)."""

    number: str
    title: str
    tables: Sequence[Table] = field(default=())
    figures: Sequence[tuple[str, bytes]] = field(default=())

    def __post_init__(self) -> None:
        object.__setattr__(self, "tables", tuple(self.tables))
        object.__setattr__(self, "figures", tuple(self.figures))
        for i, table in enumerate(self.tables):
            if not isinstance(table, Table):
                raise InvalidInputError(
                    f"section {self.number}: tables[{i}] is not a Table", field="tables"
                )
        for i, item in enumerate(self.figures):
            ok = isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], bytes)
            if not ok or not item[1].startswith(_PNG_SIGNATURE) or len(item[1]) < 24:
                raise InvalidInputError(
                    f"section {self.number}: figures[{i}] must be (caption, PNG bytes)",
                    field="figures",
                )


@dataclass(frozen=True)
class ReportContent:
    """What :func:`render_html` renders.

    Attributes
    ----------
    title, subtitle
        The report's heading.
    reproducibility
        Label -> value shown in the reproducibility box, in the given order (e.g. data cut
        content hash, audit chain head, protocol version, software version).
    sections
        The sections in order (numbers unique; table numbers unique across the report).
    """

    title: str
    subtitle: str
    reproducibility: Mapping[str, str]
    sections: Sequence[Section]

    def __post_init__(self) -> None:
        object.__setattr__(self, "sections", tuple(self.sections))
        numbers = [s.number for s in self.sections]
        tables = [t.number for s in self.sections for t in s.tables]
        for what, values in (("sections", numbers), ("sections[].tables", tables)):
            repeated = sorted({v for v in values if values.count(v) > 1})
            if repeated:
                raise InvalidInputError(f"repeated number(s) {repeated}", field=what)


def format_cell(value: Cell) -> str:
    """A cell as the report prints it: counts whole, numbers to 4 significant digits, None "-"."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "-"
        return f"{value:,.0f}" if abs(value) >= 10_000 else f"{value:.4g}"
    return str(value)


def _table_html(table: Table) -> str:
    keys = [f"c{i}" for i in range(len(table.columns))]
    frame = pd.DataFrame(
        [[format_cell(c) for c in row] for row in table.rows], columns=keys, dtype=object
    )
    gt = great_tables.GT(frame, id="gt" + table.number.replace(".", "-"))
    labels: dict[str, Any] = dict(zip(keys, table.columns, strict=True))
    gt = gt.cols_label(cases=labels)
    numeric = [
        k
        for i, k in enumerate(keys)
        if table.rows
        and all(isinstance(r[i], int | float) or r[i] is None for r in table.rows)
        and any(r[i] is not None for r in table.rows)
    ]
    if numeric:
        gt = gt.cols_align(align="right", columns=numeric)
    for note in table.footnotes:
        gt = gt.tab_source_note(note)
    return str(gt.as_raw_html())


def _png_size(png: bytes) -> tuple[int, int]:
    width, height = struct.unpack(">II", png[16:24])  # IHDR (PNG specification, section 11.2.2)
    return int(width), int(height)


def _figure(number: str, caption: str, png: bytes) -> dict[str, Any]:
    width, height = _png_size(png)
    scale = _CSS_PX_PER_INCH / DPI  # shown at its drawn size in inches
    return {
        "anchor": number.replace(".", "-"),
        "number": number,
        "caption": caption,
        "uri": "data:image/png;base64," + base64.b64encode(png).decode("ascii"),
        "width": round(width * scale),
        "height": round(height * scale),
    }


def _template() -> jinja2.Template:
    text = files("equitrial.report").joinpath("templates/report.html.j2").read_text("utf-8")
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    return env.from_string(text)


def render_html(report: ReportContent) -> str:
    """The report as one HTML5 document (figures, tables and styles inline).

    Parameters
    ----------
    report : ReportContent

    Returns
    -------
    str
        The document; the same content always gives the same text.
    """
    css = files("equitrial.report").joinpath("templates/report.css").read_text("utf-8")
    sections = []
    for section in report.sections:
        tables = [
            {
                "anchor": t.number.replace(".", "-"),
                "number": t.number,
                "title": t.title,
                "html": Markup(_table_html(t)),  # great_tables escapes every text it holds
            }
            for t in section.tables
        ]
        figures = [
            _figure(f"{section.number}.{i}", caption, png)
            for i, (caption, png) in enumerate(section.figures, start=1)
        ]
        sections.append(
            {
                "anchor": section.number.replace(".", "-"),
                "number": section.number,
                "title": section.title,
                "tables": tables,
                "figures": figures,
            }
        )
    return _template().render(
        title=report.title,
        subtitle=report.subtitle,
        css=Markup(css),  # our own file, not data
        reproducibility=[(str(k), str(v)) for k, v in report.reproducibility.items()],
        sections=sections,
    )
