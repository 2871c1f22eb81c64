"""A display of the clinical study report: numbered, titled rows of cells, as the report renders
them (:mod:`equitrial.report`) and ``results.json`` keeps them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from equitrial.errors import InvalidInputError

__all__ = ["Cell", "Table"]

Cell = str | int | float | None
"""A cell: text, a count, a number (rounded by the report, kept whole in ``results.json``)."""


@dataclass(frozen=True)
class Table:
    """One CSR display.

    Attributes
    ----------
    number
        CSR numbering, e.g. ``"14.2.1"`` (14.1 populations and demographics, 14.2 efficacy,
        14.3 safety, 14.4 PK/ADA, 14.5 PRO; 14.6 dosing paradigms and access, 14.7 published
        comparisons).
    title
        What it shows, e.g. ``"Objective response rate at week 24, ITT"``.
    columns
        Column headings.
    rows
        One list of cells per row, as long as ``columns``.
    footnotes
        Populations, methods and sources, one sentence each.
    """

    number: str
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    footnotes: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        for row in self.rows:
            if len(row) != len(self.columns):
                raise InvalidInputError(
                    f"table {self.number}: a row has {len(row)} cells for {len(self.columns)} "
                    "columns",
                    field="rows",
                )

    def as_json(self) -> dict[str, Any]:
        """The table as ``results.json`` keeps it."""
        return {
            "number": self.number,
            "title": self.title,
            "columns": list(self.columns),
            "rows": [list(row) for row in self.rows],
            "footnotes": list(self.footnotes),
        }
