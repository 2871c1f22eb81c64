"""The HTML report holds every section, table and figure, escapes every text, and is reproducible;
the PDF is a PDF with pages."""

from __future__ import annotations

import re
import zlib
from pathlib import Path

import numpy as np
import pytest

from equitrial.analysis.tables import Table
from equitrial.errors import InvalidInputError
from equitrial.report.figures import figure_png, plot_forest, plot_km
from equitrial.report.html import CSR_SECTIONS, ReportContent, Section, format_cell, render_html
from equitrial.report.pdf import render_pdf

HOSTILE = "<script>alert('x')</script>"


def _figures() -> list[tuple[str, bytes]]:
    rng = np.random.default_rng(7)
    groups = {
        arm: (rng.exponential(10.0, 30).round(1), rng.integers(0, 2, 30)) for arm in ("A", "B")
    }
    forest = [{"label": "ITT", "estimate": 0.97, "lower": 0.82, "upper": 1.15, "n": 300}]
    return [
        (f"Kaplan-Meier {HOSTILE}", figure_png(plot_km(groups, title="PFS"))),
        ("ORR ratio", figure_png(plot_forest(forest, xlabel="Risk ratio", log_scale=True))),
    ]


def content() -> ReportContent:
    demo = Table(
        "14.1.1",
        f"Demographics {HOSTILE}",
        ("Characteristic", "A", "B"),
        (("Age, median", 63.0, 61.5), (HOSTILE, None, 90)),
        (f"ITT population {HOSTILE}.",),
    )
    orr = Table(
        "14.2.1",
        "Objective response rate at week 24",
        ("Arm", "n", "ORR"),
        (("A", 151, 0.41059602649), ("B", 149, 0.42953020134)),
    )
    sections = [Section("14.1", CSR_SECTIONS["14.1"], [demo])]
    sections.append(Section("14.2", CSR_SECTIONS["14.2"], [orr], _figures()))
    sections += [Section(n, t) for n, t in CSR_SECTIONS.items() if n not in ("14.1", "14.2")]
    return ReportContent(
        title=f"Clinical study report {HOSTILE}",
        subtitle="Final analysis",
        reproducibility={
            "Data cut content hash": "sha256:" + "ab" * 32,
            "Audit chain head": HOSTILE,
            "Protocol version": "1.2",
            "Software version": "equitrial 0.1.0",
        },
        sections=sections,
    )


@pytest.fixture(scope="module")
def html() -> str:
    return render_html(content())


def test_every_section_table_and_figure_is_in_the_report(html: str) -> None:
    for number, title in CSR_SECTIONS.items():
        assert f"<h2>{number} {title}</h2>" in html
    assert "Table 14.1.1 Demographics &lt;script&gt;" in html
    assert "Table 14.2.1 Objective response rate at week 24</h3>" in html
    assert "Figure 14.2.1 Kaplan-Meier" in html and "Figure 14.2.2 ORR ratio" in html
    assert html.count('src="data:image/png;base64,') == 2
    assert "0.4106" in html and "61.5" in html  # cells rounded to 4 significant digits
    for key in ("Data cut content hash", "Audit chain head", "Protocol version"):
        assert f"<dt>{key}</dt>" in html


def test_no_text_value_becomes_markup(html: str) -> None:
    assert "<script" not in html.lower()
    assert html.count("&lt;script&gt;") >= 6  # title, table title, cell, footnote, caption, box


def test_nothing_is_fetched_from_outside(html: str) -> None:
    urls = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert urls and all(u.startswith(("data:", "#")) for u in urls)
    assert "@import" not in html and "url(" not in html


def test_same_content_same_bytes(html: str) -> None:
    assert render_html(content()) == html


def test_cells_are_formatted() -> None:
    assert [format_cell(v) for v in (None, 3, 0.123456, 12345.6, "n (%)", float("nan"))] == [
        "-", "3", "0.1235", "12,346", "n (%)", "-",
    ]  # fmt: skip


def test_repeated_numbers_and_bad_figures_are_refused() -> None:
    t = Table("14.2.1", "x", ("a",), ())
    with pytest.raises(InvalidInputError) as err:
        ReportContent("t", "", {}, [Section("14.2", "E", [t]), Section("14.3", "S", [t])])
    assert err.value.field == "sections[].tables"
    with pytest.raises(InvalidInputError) as err:
        Section("14.2", "E", figures=[("caption", b"GIF89a not a png")])
    assert err.value.field == "figures"


def _pdf_pages(data: bytes) -> int:
    """Page objects of a PDF, looking into its compressed streams (ISO 32000-1, 7.3.8, 7.7.3.3)."""
    text = data
    for match in re.finditer(rb"stream\r?\n", data):
        try:
            text += zlib.decompressobj().decompress(data[match.end() :])
        except zlib.error:
            continue
    return len(re.findall(rb"/Type\s*/Page(?![s\w])", text))


def test_pdf_is_a_pdf_with_pages(html: str, tmp_path: Path) -> None:
    out = tmp_path / "report.pdf"
    render_pdf(html, out)
    data = out.read_bytes()
    assert data.startswith(b"%PDF-")
    assert _pdf_pages(data) >= 3  # 7 sections, two figures and two tables do not fit on two


def test_pdf_needs_an_existing_folder(html: str, tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError) as err:
        render_pdf(html, tmp_path / "missing" / "report.pdf")
    assert err.value.field == "path"
