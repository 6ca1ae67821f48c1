"""`koe review` in a real headless Chromium over a real run, served by uvicorn: open a theme,
reject a tag, confirm another, accept an emergent theme, add an exclusion with its preview,
save; then a new `koe run` reflects all of it. Screenshots go to the test's folder and, with
KOE_SCREENSHOT_DIR set, there too (docs/review.png is one).

Needs Chromium and playwright as tests/test_browser.py does.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from koe.store import RunStore
from koe.workbench import Workbench, make_server
from koe.workbench.data import load_run

from .review_project import HOSTILE, make_project, read_tags, run_koe
from .test_browser import INSTALL_HINT, find_chromium


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def served(prefect_harness, tmp_path):
    """The project's first run, served on a free loopback port; yields (url, bench, config)."""
    config = make_project(tmp_path / "project")
    run = run_koe(config)
    store = RunStore(f"sqlite:///{run.parent / 'koe_state.sqlite'}")
    bench = Workbench(load_run(run), config.parent / "lists", store,
                      run.parent / "review_gold.csv", author="aki")  # fmt: skip
    port = free_port()
    server = make_server(bench, "127.0.0.1", port, None)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started
    yield f"http://127.0.0.1:{port}", bench, config
    server.should_exit = True
    thread.join(10)
    store.close()


@pytest.fixture
def page():
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    executable = find_chromium()
    if executable is None:
        pytest.skip(f"no Chromium found ({INSTALL_HINT})")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        seen = {"dialogs": [], "errors": [], "outside": []}
        page.on("dialog", lambda d: (seen["dialogs"].append(d.message), d.dismiss()))
        page.on("pageerror", lambda e: seen["errors"].append(str(e)))
        page.on("request", lambda r: None if r.url.startswith("http://127.0.0.1")
                else seen["outside"].append(r.url))  # fmt: skip
        page.seen = seen
        yield page
        browser.close()


def shoot(page, tmp_path: Path, name: str) -> None:
    shot = tmp_path / name
    page.screenshot(path=str(shot), full_page=False)
    assert shot.stat().st_size > 10_000
    if os.environ.get("KOE_SCREENSHOT_DIR"):
        shutil.copy2(shot, Path(os.environ["KOE_SCREENSHOT_DIR"]) / name)


def test_a_review_session_in_the_browser_changes_the_next_run(served, page, tmp_path):
    url, bench, config = served
    before = read_tags(bench.run_folder)
    reports = before[(before["theme"] == "product_reports") & (before["source"] == "lookup")]
    reject = reports[~reports["id"].isin(
        bench.run.comments.loc[bench.run.comments["text"].str.contains("CSV"), "id"])].iloc[0]
    semantic = before[before["source"] == "semantic"].iloc[0]

    # 1. open a theme from the overview
    page.goto(url + "/")
    page.get_by_role("link", name="レポート・ダッシュボード").click()
    assert page.url.endswith("/theme/product_reports")
    # 2. reject one of its tags
    article = page.locator(f"article#c-{reject['id']}")
    article.get_by_role("button", name="Reject").click()
    assert page.locator(f"article#c-{reject['id']} .state").inner_text() == "reject"
    # 3. confirm a semantic tag on another theme's page
    page.goto(f"{url}/theme/{semantic['theme']}?source=semantic")
    page.locator(f"article#c-{semantic['id']}").get_by_role("button", name="Confirm").click()
    assert page.locator(f"article#c-{semantic['id']} .state").inner_text() == "confirm"
    # 4. accept an emergent theme
    cluster = bench.run.emergent.iloc[0]
    page.goto(url + "/")
    page.get_by_role("link", name=cluster["label"], exact=True).click()
    page.get_by_label("new theme id").fill("accepted_from_review")
    page.get_by_label("theme name", exact=True).fill("レビューで採用")
    page.get_by_role("button", name="Accept as a new theme").click()
    assert "accepted " + cluster["cluster_id"] in page.locator(".notice").inner_text()
    # and name another one
    named = bench.run.emergent.iloc[1]
    page.goto(f"{url}/theme/{named['cluster_id']}")
    page.get_by_label("emergent theme name").fill("画面遷移の待ち時間")
    page.locator("#rename-cluster").get_by_role("button", name="Rename").click()
    assert page.locator("h1").inner_text().startswith("画面遷移の待ち時間")
    # 5. an exclusion, previewed, then saved
    page.goto(url + "/theme/product_reports")
    page.get_by_label("what to add").select_option("exclusions")
    page.get_by_label("word").fill("CSV")
    page.get_by_role("button", name="Preview").click()
    removed = int(page.locator("#preview-removed").inner_text())
    listed = re.findall(r"R\d+", " ".join(page.locator("ul.examples code").all_inner_texts()))
    assert removed == len(listed) > 0
    shoot(page, tmp_path, "review_preview.png")
    page.get_by_role("button", name="Save the exclusion").click()
    assert "exclusion 'CSV' added to product_reports" in page.locator(".notice").inner_text()
    shoot(page, tmp_path, "review.png")
    # the script comment is text, not code
    page.goto(url + "/search?q=alert")
    assert page.locator("article .text").first.inner_text() == HOSTILE
    assert page.seen == {"dialogs": [], "errors": [], "outside": []}
    decisions = bench.store.decisions()
    assert decisions["action"].tolist() == ["reject", "confirm"]

    next_run = run_koe(config)
    after = read_tags(next_run)
    emergent = pd.read_csv(next_run / "emergent_themes.csv", dtype=str, keep_default_na=False)
    assert emergent.loc[emergent["cluster_id"] == named["cluster_id"], "label"].tolist() == \
        ["画面遷移の待ち時間"]  # fmt: skip
    key = ["id", "theme"]
    assert after.merge(reject.to_frame().T[key], on=key).empty  # rejected: gone
    confirmed = after.merge(semantic.to_frame().T[key], on=key)
    assert confirmed["source"].tolist() == ["review"]  # confirmed: kept as the analyst's
    accepted = after[after["theme"] == "accepted_from_review"]
    assert (accepted["source"] == "lookup").sum() >= 3  # the new theme tags comments
    lost = set(reports["id"]) - set(after.loc[(after["theme"] == "product_reports")
                                              & (after["source"] == "lookup"), "id"])  # fmt: skip
    assert lost - {reject["id"]} == set(listed)  # the preview said which would lose it
    still = after[(after["theme"] == "product_reports") & after["id"].isin(listed)]
    assert still.empty  # and the semantic layer does not put it back
    gold = (bench.gold_path).read_text(encoding="utf-8")
    assert reject["id"] in gold and semantic["id"] in gold
