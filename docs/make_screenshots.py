"""Refresh the viewer screenshots in docs/ from real runs directories, in headless Chromium.

Run: .venv/bin/python docs/make_screenshots.py --campaign-runs runs/matmul-offline --sweep-runs runs/sweep-offline-sweep
(the first from `stark run runs/matmul_offline.toml`, the second from `stark sweep runs/sweep_offline.toml --level 1
--level 2 --iterations 8`).
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import uvicorn  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from evolve.viewer.app import create_app  # noqa: E402

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]


def serve(root: Path) -> tuple[uvicorn.Server, str]:
    server = uvicorn.Server(uvicorn.Config(create_app(root), host="127.0.0.1", port=0, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return server, f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--campaign-runs", type=Path, required=True)
    parser.add_argument("--sweep-runs", type=Path, required=True)
    args = parser.parse_args()
    docs = ROOT / "docs"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=ARGS)
        server, url = serve(args.campaign_runs)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(url + "/")
        page.wait_for_selector("#lineage .node")
        page.click("#pareto-chart circle.point.front >> nth=-1")
        page.wait_for_selector("#program h3")
        page.wait_for_timeout(500)
        page.screenshot(path=str(docs / "viewer.png"), full_page=True)
        phone = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2)
        phone.goto(page.url)
        phone.wait_for_selector("#program h3")
        phone.wait_for_timeout(500)
        phone.screenshot(path=str(docs / "viewer-phone.png"))
        server.should_exit = True
        server, url = serve(args.sweep_runs)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(url + "/?compare=1")
        page.wait_for_selector("#compare-table input")
        page.click("#compare-table th[data-sort='best']")
        page.click("#compare-table th[data-sort='best']")
        for box in page.locator("#compare-table input[type=checkbox]").all()[:5]:
            box.check()
        page.wait_for_function("document.querySelectorAll('#compare-chart path.curve').length === 5")
        page.wait_for_timeout(300)
        page.screenshot(path=str(docs / "viewer-compare.png"), full_page=False)
        server.should_exit = True
        browser.close()
    print("wrote docs/viewer.png, docs/viewer-phone.png, docs/viewer-compare.png")


if __name__ == "__main__":
    main()
