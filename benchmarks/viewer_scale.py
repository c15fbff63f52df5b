"""The viewer on large campaigns: API answer times and the page's main-thread time, against a baseline tree.

Run: .venv/bin/python benchmarks/viewer_scale.py [--source RUN_DIR] [--baseline-tree PATH] [--out DIR]

Data: one real offline campaign (level1/relu, 12 attempts, run here unless `--source` names a run directory) is
copied and grown in bulk (benchmarks/bulk_programs.py copies its own attempts) into four runs directories:
2k programs, 20k programs in a wide tree, 20k programs in a deep tree (each copy hanging from the newest program
before it), and 40 campaigns of 500 programs each.

Each viewer (this tree, and `--baseline-tree`, e.g. a `git worktree` of an older commit) is served by uvicorn in
its own process and measured the same way:
- API: median of 5 answers for the campaign list, one campaign's summary, its whole program list, and (where the
  API has it) the incremental program list a live page asks for;
- page: headless Chromium opens the campaign; main-thread time (CDP `TaskDuration`) and the longest task until
  the lineage is drawn; then a block of attempts is appended to the database as a running campaign would, and the
  main-thread time and longest task from then until the page shows them (one live refresh).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from benchmarks.bulk_programs import copy_run, grow  # noqa: E402

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
LONG_TASKS = """window.__longest = 0; new PerformanceObserver((list) => { for (const e of list.getEntries())
  window.__longest = Math.max(window.__longest, e.duration); }).observe({ type: "longtask", buffered: true });"""


def real_campaign(work: Path) -> Path:
    """A short real offline campaign: the rows every copy is made of."""
    from evolve.launch import start_campaign

    start_campaign(ROOT / "runs" / "sweep_offline.toml", runs_root=work / "source", show_progress=False,
                   overrides=["budget.iterations=12", "campaign.name=source"])
    return work / "source" / "source"


def datasets(source: Path, work: Path) -> dict[str, tuple[Path, str]]:
    """name → (runs directory, campaign key shown in the page)."""
    sets: dict[str, tuple[Path, str]] = {}
    for name, size, deep in (("2k", 2_000, False), ("20k wide", 20_000, False), ("20k deep", 20_000, True)):
        root = work / name.replace(" ", "-")
        run = copy_run(source, root / "big", "big")
        grow(run / "campaign.db", size, deep=deep)
        sets[name] = (root, "big")
    many = work / "40-campaigns"
    for k in range(40):
        run = copy_run(source, many / f"c{k:02d}", f"c{k:02d}")
        grow(run / "campaign.db", 500)
    sets["40 campaigns"] = (many, "c00")
    return sets


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Viewer:
    """`stark serve` of one tree, in a process of its own."""

    def __init__(self, tree: Path, runs_root: Path):
        self.port = free_port()
        code = ("import sys, uvicorn; from evolve.viewer.app import create_app; "
                "uvicorn.run(create_app(sys.argv[1]), host='127.0.0.1', port=int(sys.argv[2]), log_level='warning')")
        env = {**os.environ, "PYTHONPATH": str(tree)}
        self.process = subprocess.Popen([sys.executable, "-c", code, str(runs_root), str(self.port)], cwd=tree,
                                        env=env)
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.url + "/", timeout=2).read()
                return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"viewer of {tree} did not start")

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=20)


def answer_ms(url: str, repeats: int = 5) -> float | None:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        try:
            with urllib.request.urlopen(url, timeout=120) as response:
                response.read()
        except urllib.error.HTTPError:
            return None
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def api_figures(viewer: Viewer, key: str) -> dict[str, float | None]:
    base = f"{viewer.url}/api/campaigns"
    figures = {"list": answer_ms(base), "summary": answer_ms(f"{base}/{key}"),
               "all programs": answer_ms(f"{base}/{key}/programs"),
               "rows for a new page": answer_ms(f"{base}/{key}/program-rows"), "rows since cursor": None}
    if figures["rows for a new page"] is not None:
        with urllib.request.urlopen(f"{base}/{key}/program-rows", timeout=120) as response:
            cursor = json.loads(response.read())["cursor"]
        figures["rows since cursor"] = answer_ms(f"{base}/{key}/program-rows?since={cursor}")
    return figures


WINDOW_S = 6.0
"""Main-thread time is summed over a fixed window (three polls) after the rows land, less an idle window's."""


def page_figures(browser, viewer: Viewer, runs_root: Path, key: str) -> dict[str, float | None]:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc).splitlines()[0]))
    page.add_init_script(LONG_TASKS)
    cdp = page.context.new_cdp_session(page)
    cdp.send("Performance.enable")
    task = lambda: next(m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]  # noqa: E731
                        if m["name"] == "TaskDuration")
    start, busy = time.perf_counter(), task()
    page.goto(f"{viewer.url}/?campaign={key}")
    try:
        page.wait_for_selector("#lineage .node", timeout=120_000)
    except Exception:  # noqa: BLE001 - a page that never draws is a figure too
        print(f"  the lineage was not drawn within 120 s ({'; '.join(errors) or 'no script error'})")
        page.close()
        return {"open s": None}
    figures: dict[str, float | None] = {"open s": time.perf_counter() - start,
                                        "open main-thread ms": (task() - busy) * 1000,
                                        "open longest task ms": page.evaluate("window.__longest")}
    page.wait_for_timeout(2000)
    busy = task()
    page.wait_for_timeout(WINDOW_S * 1000)
    idle = task() - busy
    page.evaluate("window.__longest = 0")
    database = runs_root / key / "campaign.db"
    with sqlite3.connect(database) as conn:
        before_programs = conn.execute("SELECT count(*) FROM programs").fetchone()[0]
    busy, start = task(), time.perf_counter()
    grow(database, before_programs + 1, block=4)               # a running campaign's next few attempts
    with sqlite3.connect(database) as conn:
        conn.execute("UPDATE campaigns SET updated_at = datetime('now')")
        attempts = conn.execute("SELECT count(*) FROM attempts WHERE status = 'done'").fetchone()[0]
    try:
        page.wait_for_function(f"/attempts\\s+{attempts}\\b/.test(document.getElementById('summary').innerText)",
                               timeout=120_000, polling=100)
        shown = time.perf_counter() - start
    except Exception:  # noqa: BLE001
        shown = None
    page.wait_for_timeout(max(0.0, WINDOW_S - (time.perf_counter() - start)) * 1000)
    figures.update({"refresh shown s": shown, "refresh main-thread ms": (task() - busy - idle) * 1000,
                    "refresh longest task ms": page.evaluate("window.__longest"), "idle main-thread ms": idle * 1000})
    if errors:
        print(f"  script errors: {'; '.join(errors[:3])}")
    page.close()
    return figures


def measure(tree: Path, sets: dict[str, tuple[Path, str]], console: Console) -> dict[str, dict[str, float | None]]:
    from playwright.sync_api import sync_playwright

    results: dict[str, dict[str, float | None]] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
        for name, (runs_root, key) in sets.items():
            viewer = Viewer(tree, runs_root)
            try:
                results[name] = {**api_figures(viewer, key), **page_figures(browser, viewer, runs_root, key)}
            finally:
                viewer.close()
            console.print(f"{tree.name} · {name}: " + ", ".join(
                f"{k} {v:.0f}" if v is not None else f"{k} —" for k, v in results[name].items()))
        browser.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", type=Path, help="a finished run directory to copy (default: run one here)")
    parser.add_argument("--baseline-tree", type=Path, help="another checkout of stark to measure the same way")
    parser.add_argument("--out", type=Path, help="keep the databases here (default: a temporary directory)")
    args = parser.parse_args()
    console = Console()
    work = args.out or Path(tempfile.mkdtemp(prefix="viewer-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    source = args.source or real_campaign(work)
    console.print(f"building databases under {work} from {source}")
    trees = {"this tree": ROOT, **({"baseline": args.baseline_tree.resolve()} if args.baseline_tree else {})}
    figures = {}
    for label, tree in trees.items():
        sets_root = work / label.replace(" ", "-")
        shutil.rmtree(sets_root, ignore_errors=True)
        figures[label] = measure(tree, datasets(source, sets_root), console)  # fresh copies: refreshes append rows
    table = Table(title=f"viewer at scale (load {os.getloadavg()[0]:.1f}; ms unless s)")
    table.add_column("data")
    table.add_column("figure")
    for label in trees:
        table.add_column(label, justify="right")
    if args.baseline_tree:
        table.add_column("ratio", justify="right")
    names = list(next(iter(figures.values())))
    for name in names:
        for figure in dict.fromkeys(f for label in trees for f in figures[label][name]):
            values = [figures[label][name].get(figure) for label in trees]
            cells = [("—" if v is None else f"{v:.2f}" if figure.endswith(" s") else f"{v:.0f}") for v in values]
            if args.baseline_tree:
                now, then = values
                cells.append("—" if not now or not then else f"{now / then:.3f}")
            table.add_row(name, figure, *cells)
    console.print(table)
    if not args.out:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
