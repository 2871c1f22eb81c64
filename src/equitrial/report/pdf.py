"""The report as PDF: the HTML of :func:`equitrial.report.html.render_html` laid out by WeasyPrint.

WeasyPrint (https://weasyprint.org) renders HTML and CSS paged media (A4 pages, numbered by the
stylesheet's ``@page`` rule) without a browser; it needs the Pango text library of the system.
"""

from __future__ import annotations

from pathlib import Path

from equitrial.errors import InvalidInputError

__all__ = ["render_pdf"]


def render_pdf(html: str, path: Path) -> None:
    """Write ``html`` (a self-contained document) as a PDF to ``path``.

    Parameters
    ----------
    html
        The document, e.g. from :func:`~equitrial.report.html.render_html`; it must not need
        any external resource (only ``data:`` URIs are read; nothing else is fetched).
    path
        Where to write; the parent folder must exist.

    Raises
    ------
    InvalidInputError
        If the parent folder of ``path`` does not exist.
    """
    out = Path(path)
    if not out.parent.is_dir():
        raise InvalidInputError(f"folder {out.parent} does not exist", field="path")
    # imported here: loading Pango costs time that the HTML report does not need
    import weasyprint  # type: ignore[import-untyped]

    # only data: URIs (the inlined figures) are read; any other resource is not fetched
    fetcher = weasyprint.URLFetcher(allowed_protocols=["data"])
    weasyprint.HTML(string=html, url_fetcher=fetcher).write_pdf(out)
