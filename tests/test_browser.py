"""report.html in a real headless Chromium: charts render, nothing is fetched, no JS errors.

Needs a Chromium binary (Debian: ``apt-get install -y chromium fonts-noto-cjk``; or set
KOE_CHROMIUM to any Chrome/Chromium executable) and the ``playwright`` package (dev extra).
Playwright drives the system browser through ``executable_path``: ``playwright install`` is not
needed. Skipped, with the reason, where no browser is found.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

from koe.report import render_report

from .report_data import context

INSTALL_HINT = "apt-get install -y chromium fonts-noto-cjk, or set KOE_CHROMIUM"


def find_chromium() -> str | None:
    """A Chromium/Chrome executable: $KOE_CHROMIUM, else the first one on PATH."""
    if os.environ.get("KOE_CHROMIUM"):
        return os.environ["KOE_CHROMIUM"]
    names = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
    return next((path for name in names if (path := shutil.which(name))), None)


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed (pip install -e '.[dev]')"
    )
    executable = find_chromium()
    if executable is None:
        pytest.skip(f"no Chromium found to open the report in ({INSTALL_HINT})")
    with sync_api.sync_playwright() as p:
        # a browser that is there but does not start is a failure, not a skip
        browser = p.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def report(browser, tmp_path_factory):
    """The loaded page, with what it logged, asked for and popped up."""
    folder = tmp_path_factory.mktemp("report")
    path = folder / "report.html"
    ctx = context()
    path.write_text(render_report(ctx), encoding="utf-8")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    seen = {"console": [], "errors": [], "requests": [], "dialogs": []}
    page.on("console", lambda m: seen["console"].append((m.type, m.text)))
    page.on("pageerror", lambda e: seen["errors"].append(str(e)))
    page.on("request", lambda r: seen["requests"].append(r.url))
    page.on("dialog", lambda d: (seen["dialogs"].append(d.message), d.dismiss()))
    page.route(re.compile(r"^(https?|wss?|ftp)://"), lambda route: route.abort())
    page.goto(path.as_uri(), wait_until="load")
    page.wait_for_selector("#fig-segments .main-svg", timeout=30_000)
    yield page, seen, ctx, folder
    page.close()


def test_charts_render_offline_without_errors(report, tmp_path):
    page, seen, ctx, _ = report
    assert page.locator(".js-plotly-plot").count() == 3
    for fig in ("fig-trend", "fig-drivers", "fig-segments"):
        assert page.locator(f"#{fig}.js-plotly-plot .main-svg").count() >= 1, fig
    # one marker per driver row with enough mentions (polarity "any" is left out of the chart)
    plotted = [d for d in ctx["drivers"] if d["polarity"] != "any" and not d["small_n"]]
    assert page.locator("#fig-drivers .scatterlayer .point").count() == len(plotted) == 5
    assert page.locator("#fig-trend .scatterlayer .point").count() == len(ctx["weekly"]) == 8
    assert [t for t, _ in seen["console"] if t == "error"] == [] and seen["errors"] == []
    assert seen["dialogs"] == []  # the theme name "<img src=x onerror=alert(1)>" stayed text
    assert [u for u in seen["requests"] if not u.startswith(("file:", "data:", "blob:"))] == []
    shot = tmp_path / "report.png"
    page.screenshot(path=str(shot), full_page=False)
    assert shot.stat().st_size > 20_000


def test_theme_table_sorts_by_impact(report):
    page, _, _, _ = report
    header = page.locator('#driver-table th[data-key="impact"]')

    def impacts():
        values = page.locator("#driver-table tbody td.impact").evaluate_all(
            "cells => cells.map(c => c.dataset.v)"
        )
        return [float(v) for v in values if v != ""]

    header.click()
    desc = impacts()
    assert desc == sorted(desc, reverse=True) and len(desc) > 5
    header.click()
    assert impacts() == sorted(desc)


def test_drilldown_opens_with_highlighted_evidence(report):
    page, _, _, _ = report
    details = page.locator("#theme-support_response_speed")
    details.locator("summary").click()
    marks = details.locator("mark")
    assert marks.count() >= 3 and marks.first.is_visible()
    assert marks.first.inner_text() == "返信"
    assert "taro@example.co.jp" not in page.content()


def test_japanese_text_is_drawn_with_a_japanese_font(report):
    page, _, _, _ = report
    fonts = subprocess.run(
        ["fc-list", ":lang=ja", "family"], capture_output=True, text=True, check=False
    ).stdout if shutil.which("fc-list") else ""  # fmt: skip
    if not fonts.strip():
        pytest.skip(f"no Japanese font installed ({INSTALL_HINT})")
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument")["root"]["nodeId"]
    h1 = cdp.send("DOM.querySelector", {"nodeId": root, "selector": "h1"})["nodeId"]
    used = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": h1})["fonts"]
    # "koe — 顧客の声 report": the kanji and kana come from a font that has them (no tofu)
    families = {f["familyName"] for f in used}
    assert any(re.search(r"CJK|JP|Hiragino|Gothic|Meiryo", f) for f in families), families
