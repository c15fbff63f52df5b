"""Refresh the viewer screenshots in docs/ from real runs directories, in headless Chromium.

Run: .venv/bin/python docs/make_screenshots.py --campaign-runs runs/matmul-offline --sweep-runs runs/sweep-offline-sweep
     --discovery-runs runs/scratchpad-offline
(from `stark run runs/matmul_offline.toml`, `stark sweep runs/sweep_offline.toml --level 1 --level 2 --iterations 8`
and `stark run runs/scratchpad_offline.toml`).
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import uvicorn  # noqa: E402
from playwright.sync_api import Page, sync_playwright  # noqa: E402

from evolve.viewer.app import create_app  # noqa: E402

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
DOCS = ROOT / "docs"


def pick_best_front_point(page: Page) -> None:
    page.wait_for_selector("#lineage .node")
    page.click("#pareto-chart circle.point.front >> nth=-1")
    page.wait_for_selector("#program h3")


def overlay_five_best(page: Page) -> None:
    page.wait_for_selector("#compare-table input")
    page.click("#compare-table th[data-sort='best']")
    page.click("#compare-table th[data-sort='best']")
    for box in page.locator("#compare-table input[type=checkbox]").all()[:5]:
        box.check()
    page.wait_for_function("document.querySelectorAll('#compare-chart path.curve').length === 5")


def baselines_drawn(page: Page) -> None:
    page.wait_for_selector("#best-chart .ref-label.baseline")


def shoot(browser, runs: Path, query: str, name: str, ready: Callable[[Page], None], width: int = 1400,
          height: int = 1000, full_page: bool = True) -> None:
    """Serve `runs`, open `query`, wait until `ready`, save docs/`name`."""
    server = uvicorn.Server(uvicorn.Config(create_app(runs), host="127.0.0.1", port=0, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    try:
        page = browser.new_page(viewport={"width": width, "height": height}, device_scale_factor=2 if width < 500 else 1)
        page.goto(f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}/{query}")
        ready(page)
        page.wait_for_timeout(500)
        page.screenshot(path=str(DOCS / name), full_page=full_page)
        page.close()
    finally:
        server.should_exit = True
    print(f"wrote docs/{name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--campaign-runs", type=Path, required=True)
    parser.add_argument("--sweep-runs", type=Path, required=True)
    parser.add_argument("--discovery-runs", type=Path, required=True)
    args = parser.parse_args()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=ARGS)
        shoot(browser, args.campaign_runs, "", "viewer.png", pick_best_front_point)
        shoot(browser, args.campaign_runs, "", "viewer-phone.png", pick_best_front_point, 390, 844, full_page=False)
        shoot(browser, args.sweep_runs, "?compare=1", "viewer-compare.png", overlay_five_best, full_page=False)
        shoot(browser, args.discovery_runs, "", "viewer-discovery.png", baselines_drawn)
        browser.close()


if __name__ == "__main__":
    main()
