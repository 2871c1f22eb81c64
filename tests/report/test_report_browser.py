"""The HTML report in a real browser: Debian's headless Chromium, driven by Playwright.

Never downloads a browser: the test runs with the system's ``chromium`` and is skipped when
there is none.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from equitrial.report.html import render_html

CHROMIUM = shutil.which("chromium")

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no system chromium on PATH (apt install chromium); none downloaded"
)


def test_report_renders_in_chromium(tmp_path: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    from test_html_pdf import content

    page_file = tmp_path / "report.html"
    page_file.write_text(render_html(content()), encoding="utf-8")
    shot = tmp_path / "report.png"
    errors: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("request", lambda r: None if r.url.startswith(("data:", "file:")) else
                    errors.append(f"fetched {r.url}"))  # fmt: skip
            page.goto(page_file.as_uri())
            images = page.eval_on_selector_all(
                "img", "els => els.map(e => [e.complete, e.naturalWidth, e.naturalHeight])"
            )
            dialogs = page.evaluate("document.querySelectorAll('script').length")
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()
    print(f"screenshot: {shot}")
    assert len(images) == 2
    assert all(complete and width > 0 and height > 0 for complete, width, height in images)
    assert dialogs == 0
    assert errors == []
    assert shot.stat().st_size > 10_000
