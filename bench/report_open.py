"""How long a report.html takes to open in headless Chromium: from navigation to the load event
and to the driver chart drawn (plotly's SVG present), best of ``--repeats``.

Run: ``python bench/report_open.py RUN_FOLDER/report.html [...] [--repeats 3]``; prints one
line per report (size, load s, drawn s). Needs Chromium (as tests/test_browser.py).
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path


def open_times(browser, path: Path, repeats: int) -> tuple[float, float]:
    loads, drawn = [], []
    for _ in range(repeats):
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        start = time.perf_counter()
        page.goto(path.resolve().as_uri(), wait_until="load")
        loads.append(time.perf_counter() - start)
        page.wait_for_selector("#fig-drivers .main-svg", timeout=60_000)
        drawn.append(time.perf_counter() - start)
        page.close()
    return min(loads), min(drawn)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reports", nargs="+", type=Path)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    executable = next(filter(None, map(shutil.which, ("chromium", "chromium-browser",
                                                      "google-chrome"))), None)  # fmt: skip
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        for path in args.reports:
            load, drawn = open_times(browser, path, args.repeats)
            size = path.stat().st_size / 1e6
            print(f"{path}: {size:.1f} MB, load {load:.2f} s, driver chart drawn {drawn:.2f} s")
        browser.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
