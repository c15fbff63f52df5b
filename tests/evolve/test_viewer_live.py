"""The viewer on a grown copy of a real campaign (2,000 programs) while rows keep landing: what a live page polls,
what it keeps, what it exports, in the API and in real headless Chromium."""

import csv
import io
import json
import sqlite3
import urllib.error
import urllib.request

import pytest

from benchmarks.bulk_programs import copy_run, grow
from evolve.run_lock import RunLock
from tests.evolve.conftest import CHROMIUM_ARGS, get, serve


@pytest.fixture(scope="module")
def grown(runs_root, tmp_path_factory):
    root = tmp_path_factory.mktemp("viewer-live")
    copy_run(runs_root / "viewed", root / "big", "big")
    grow(root / "big" / "campaign.db", 2_000)
    copy_run(runs_root / "viewed", root / "other", "other")
    with serve(root) as url:
        yield root, url


def read(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read()


def rows_of(delta) -> dict[int, dict]:
    return {row[0]: dict(zip(delta["columns"], row)) for row in delta["rows"]}


def test_a_poll_sends_only_what_changed_since_its_cursor(grown):
    root, url = grown
    base = f"{url}/api/campaigns/big"
    first = get(f"{base}/program-rows")
    assert first["reset"] and len(first["rows"]) == get(base)["programs"] >= 2_000
    assert get(f"{base}/program-rows?since={first['cursor']}")["rows"] == []
    database = root / "big" / "campaign.db"
    with sqlite3.connect(database) as conn:
        newest = conn.execute("SELECT max(id) FROM programs").fetchone()[0]
        member = conn.execute("SELECT id FROM programs WHERE in_population = 1 ORDER BY id LIMIT 1").fetchone()[0]
        conn.execute("UPDATE programs SET in_population = 0 WHERE id = ?", (member,))   # an eviction
    grow(database, newest + 1, block=2)                                                 # two attempts land
    delta = get(f"{base}/program-rows?since={first['cursor']}")
    changed = rows_of(delta)
    assert not delta["reset"] and member in changed and changed[member]["in_population"] is False
    new = sorted(i for i in changed if i > newest)
    assert new and set(changed) == {member, *new}, "nothing else is sent"
    assert get(f"{base}/program-rows?since={delta['cursor']}")["rows"] == []
    assert get(base)["programs"] == len(first["rows"]) + len(new), "the summary follows the database"
    stale = get(f"{base}/program-rows?since=another-server:3")       # a cursor from before a restart
    assert stale["reset"] and len(stale["rows"]) == len(first["rows"]) + len(new)


def test_exports_and_downloads(grown):
    _, url = grown
    base = f"{url}/api/campaigns/big"
    rows = list(csv.DictReader(io.StringIO(read(f"{base}/export.csv").decode())))
    as_json = json.loads(read(f"{base}/export.json"))
    assert len(rows) == len(as_json) == get(base)["programs"]
    assert rows[0]["id"] == str(as_json[0]["id"]) and {"status", "score", "strategy", "parent_id"} <= set(rows[0])
    best = get(base)["best"]
    source = read(f"{base}/best.py").decode()
    assert source == get(f"{base}/programs/{best['id']}")["source"] and "class ModelNew" in source
    assert read(f"{base}/programs/{best['id']}/source.py").decode() == source
    curve = get(f"{base}/best-curve")
    scores = [score for _, score in curve["points"]]
    assert scores == sorted(scores) and scores[-1] == best["score"] and curve["last_attempt"] >= 1_000
    missing = max(r["id"] for r in as_json) + 1
    for path in (f"programs/{missing}", f"programs/{missing}/source.py"):
        with pytest.raises(urllib.error.HTTPError) as info:
            read(f"{base}/{path}")
        assert info.value.code == 404


def test_a_broken_config_is_one_run_with_its_reason_not_a_broken_listing(grown):
    root, url = grown
    broken = root / "broken"
    broken.mkdir()
    (broken / "config.json").write_text("{not json")
    try:
        listing = {c["key"]: c for c in get(f"{url}/api/campaigns")}
        assert "invalid JSON" in listing["broken"]["error"] and "\n" not in listing["broken"]["error"]
        assert listing["big"]["programs"] >= 2_000
        with pytest.raises(urllib.error.HTTPError) as info:
            get(f"{url}/api/campaigns/broken")
        assert info.value.code == 409 and "invalid JSON" in json.loads(info.value.read())["detail"]
    finally:
        (broken / "config.json").unlink()
        broken.rmdir()


def set_campaign(database, status: str, elapsed_s: float, saved_seconds_ago: int) -> None:
    with sqlite3.connect(database) as conn:
        conn.execute("UPDATE campaigns SET status = ?, updated_at = datetime('now', ?), "
                     "state = json_set(state, '$.elapsed_s', ?)", (status, f"-{saved_seconds_ago} seconds", elapsed_s))


def test_status_and_elapsed_while_a_resume_starts(grown):
    root, url = grown
    run = root / "other"
    campaign = lambda: get(f"{url}/api/campaigns/other")  # noqa: E731
    assert campaign()["status"] == "finished"
    lock = RunLock(run)
    lock.acquire()                    # `stark resume` holds the run while it starts Ray, before its loop records
    try:
        assert campaign()["status"] == "resuming (was finished)"
        # a killed run being resumed says `running` from before the kill: its dead time is not elapsed time
        set_campaign(run / "campaign.db", "running", 100.0, saved_seconds_ago=30)
        assert campaign()["status"] == "running" and campaign()["elapsed_s"] == 100.0
        # a holder there for a minute whose loop saved 30 s ago: those 30 s count, between heartbeats too
        holder = json.loads((run / "lock").read_text())
        (run / "lock").write_text(json.dumps({**holder, "since": holder["since"] - 60}))
        assert 129.0 <= campaign()["elapsed_s"] <= 140.0
    finally:
        lock.release()
        set_campaign(run / "campaign.db", "finished", 100.0, saved_seconds_ago=0)
    assert campaign()["status"] == "finished" and campaign()["elapsed_s"] == 100.0


@pytest.fixture(scope="module")
def browser():
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def open_page(browser, url: str, width: int = 1400, height: int = 1000):
    page = browser.new_page(viewport={"width": width, "height": height})
    page.errors = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    page.goto(url)
    return page


def test_chromium_a_2k_campaign_stays_usable_and_refreshes_keep_what_was_opened(grown, browser):
    root, url = grown
    page = open_page(browser, f"{url}/?campaign=big")
    page.wait_for_selector("#lineage .node")
    assert page.locator("#lineage .node").count() <= 80, "only the rows in view are in the page"
    panel, main = (page.eval_on_selector(s, "e => e.getBoundingClientRect().width") for s in ("#program", "main"))
    assert panel >= 0.4 * main, (panel, main)
    # charts read: gridlines, a legend, the parity line, thinned points
    assert page.locator("#best-chart line.gridline").count() >= 6 and page.locator("#best-chart .ref.parity").count() == 1
    assert "best so far" in page.inner_text("#best-legend") and "drawn" in page.inner_text("#pareto-legend")
    assert "front" in page.inner_text("#pareto-legend")
    page.wait_for_selector("#best-chart path.whisker")                   # each new best with its 95% interval
    page.wait_for_selector("#pareto-chart path.whisker")
    assert "95% interval" in page.inner_text("#best-legend")
    correct = sum(1 for r in get(f"{url}/api/campaigns/big/programs") if r["correct"])
    assert 0 < page.locator("#best-chart circle.point").count() < correct / 2, "thinned, not a solid wall"
    sizes = [float(t) for t in page.locator("#pareto-chart text.tick[text-anchor=middle]").all_text_contents()]
    assert max(sizes) - min(sizes) >= 0.03 * max(sizes), f"a code-size axis that is not a sliver: {sizes}"
    page.select_option("#x-axis", "tokens")                            # charts against what was spent
    page.wait_for_selector("#best-chart text.label:has-text('LLM tokens spent')")
    assert "x=tokens" in page.url
    spend = get(f"{url}/api/campaigns/big/spend")["attempts"]
    llm = get(f"{url}/api/campaigns/big")["llm"]
    assert sum(t for _, t, _ in spend) == llm["prompt_tokens"] + llm["completion_tokens"] > 0
    page.select_option("#x-axis", "attempt")
    # find a program deep in the list by searching, open it
    with sqlite3.connect(root / "big" / "campaign.db") as conn:
        target, strategy = conn.execute("SELECT id, strategy FROM programs WHERE status = 'evaluated' "
                                        "ORDER BY id DESC LIMIT 1").fetchone()
    page.fill("#filter-q", f"#{target}")
    page.wait_for_selector(f"#lineage .node[data-id='{target}']")
    page.click(f"#lineage .node[data-id='{target}']")
    page.wait_for_selector(f"#program h3:has-text('Program #{target} ')")
    assert f"program={target}" in page.url and f"q=%23{target}" in page.url
    page.click("#program details[data-key='source'] summary")
    page.fill("#filter-q", "")
    page.wait_for_function("!location.search.includes('q=')")
    page.eval_on_selector("#lineage", "e => { e.scrollTop = 2000; }")
    page.wait_for_function("document.querySelector('#lineage .node') && "
                           "Number(document.querySelector('#lineage .node').style.top.slice(0, -2)) > 1000")
    programs = get(f"{url}/api/campaigns/big")["programs"]
    with sqlite3.connect(root / "big" / "campaign.db") as conn:
        newest = conn.execute("SELECT max(id) FROM programs").fetchone()[0]
        conn.execute("UPDATE programs SET note = 'touched' WHERE id = ?", (target,))   # the open program changes
    grow(root / "big" / "campaign.db", newest + 1, block=2)
    page.wait_for_function(f"!document.getElementById('summary').innerText.includes('{programs:,}')", timeout=15_000)
    page.wait_for_selector("#program p:has-text('touched')")
    assert page.locator("#program details[data-key='source'][open]").count() == 1, "the refresh kept it open"
    assert page.eval_on_selector("#lineage", "e => e.scrollTop") == 2000, "the refresh kept the scroll"
    page.eval_on_selector("#lineage", "e => { e.scrollTop = 0; }")
    page.click("#lineage .node[data-id='1'] .toggle")                  # collapse the seed's subtree
    page.wait_for_function("document.querySelectorAll('#lineage .node').length === 1")
    grow(root / "big" / "campaign.db", newest + 10, block=2)
    page.wait_for_function(f"!document.getElementById('summary').innerText.includes('{programs + 2:,}')",
                           timeout=15_000)
    assert page.locator("#lineage .node").count() == 1, "the refresh kept the subtree collapsed"
    # a Pareto point reveals its program in the lineage (its ancestors open again)
    page.click("#pareto-chart circle.point.front >> nth=0")
    page.wait_for_selector("#lineage .node.selected")
    chosen = page.get_attribute("#lineage .node.selected", "data-id")
    assert page.inner_text("#program h3").startswith(f"Program #{chosen}")
    # the URL brings the same view back
    page.select_option("#filter-status", "evaluated")
    reloaded = open_page(browser, page.url)
    reloaded.wait_for_selector(f"#program h3:has-text('Program #{chosen} ')")
    assert reloaded.input_value("#filter-status") == "evaluated"
    assert "evaluated" in reloaded.inner_text("#lineage-count") or reloaded.locator("#lineage .node").count() >= 1
    assert not page.errors and not reloaded.errors, page.errors + reloaded.errors


def test_chromium_bad_links_phones_and_comparison(grown, browser):
    _, url = grown
    page = open_page(browser, f"{url}/?campaign=nope")
    page.wait_for_selector("#notice:not([hidden])")
    assert 'No campaign "nope"' in page.inner_text("#notice")
    phone = open_page(browser, f"{url}/?campaign=big", width=390, height=844)
    phone.wait_for_selector("#lineage .node")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 392, "nothing wider than the phone"
    compare = open_page(browser, f"{url}/?compare=1")
    compare.wait_for_selector("#compare-table input[type=checkbox]")
    assert compare.locator("#compare-table tr").count() == 3
    for box in compare.locator("#compare-table input[type=checkbox]").all():
        box.check()
    compare.wait_for_function("document.querySelectorAll('#compare-chart path.curve').length === 2")
    compare.click("#compare-table th[data-sort='programs']")
    compare.click("#compare-table th[data-sort='programs']")                # descending: the big one first
    assert compare.inner_text("#compare-table tr:nth-child(2) td:nth-child(2)") == "big"
    assert not page.errors and not phone.errors and not compare.errors


def test_chromium_opens_the_static_export_without_a_server(grown, browser, tmp_path):
    _, url = grown
    export = tmp_path / "big.html"
    export.write_bytes(read(f"{url}/api/campaigns/big/export.html"))
    best = get(f"{url}/api/campaigns/big")["best"]["id"]
    page = open_page(browser, f"{export.as_uri()}?program={best}")
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    page.wait_for_selector(f"#program h3:has-text('Program #{best} ')")
    assert "class ModelNew" in page.text_content("#source")
    assert page.locator("#lineage .node").count() >= 1 and "static export" in page.inner_text("#downloads")
    assert not [r for r in requests if r.startswith("http")] and not page.errors, (requests, page.errors)


def test_chart_helpers_in_chromium(grown, browser):
    """The chart module's rules, run by the browser that draws with them."""
    _, url = grown
    page = open_page(browser, f"{url}/?compare=1")
    got = page.evaluate("""import('/static/charts.js').then((c) => ({
        ticks: c.niceTicks(0, 1.3), log: c.logTicks(0.05, 3),
        sliver: c.domain([2286, 2287, 2288]), flat: c.domain([5]),
        labels: c.spreadLabels([{py: 100, ly: 97}, {py: 101, ly: 98}, {py: 140, ly: 137}, {py: 100.5, ly: 97.5}]).map((r) => r.ly),
        thinned: c.thin(Array.from({length: 1000}, (_, i) => ({px: i % 10, py: 5}))).length,
    }))""")
    assert got["ticks"] == [0, 0.25, 0.5, 0.75, 1, 1.25]
    assert got["log"] == [0.05, 0.1, 0.2, 0.5, 1, 2]
    low, high = got["sliver"]
    assert high - low >= 0.04 * 2288 and low < 2286 and high > 2288, "a 2-byte spread is not drawn as a full axis"
    assert got["flat"][0] < 5 < got["flat"][1]
    assert got["labels"] == [97, 108, 119, 137], "labels closer than 11 px are moved apart, others stay"
    assert got["thinned"] <= 5, "one point per 3 px cell"


def test_an_unchanged_campaign_costs_one_probe_per_poll(grown):
    """A page polls every two seconds and a runs directory may hold dozens of campaigns: what did not change is
    not read again (no SQL at all: SQLite's data_version, read on a connection of its own, says nothing changed)."""
    from sqlalchemy import event

    from evolve.viewer.catalog import RunsCatalog

    root, _ = grown
    catalog = RunsCatalog(root)
    try:
        opened = catalog.open("big")
        opened.overview(), opened.rows_since("")
        statements = []
        event.listen(opened.store.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
        for _ in range(3):
            catalog.scan()
            summary, delta = opened.overview(), opened.rows_since(opened.rows_since("")["cursor"])
        assert statements == [] and delta["rows"] == [] and summary["programs"] >= 2_000
        with sqlite3.connect(root / "big" / "campaign.db") as conn:
            conn.execute("UPDATE campaigns SET updated_at = datetime('now')")            # a heartbeat
        opened.overview()
        assert statements, "a change is read"
    finally:
        catalog.close()


def test_chromium_switching_campaigns_leaves_one_handler_per_click(grown, browser):
    _, url = grown
    page = open_page(browser, f"{url}/?campaign=big")
    page.wait_for_selector("#lineage .node")
    for key in ("other", "big", "other", "big"):
        page.click(f"#campaigns li[data-key='{key}']")
        page.wait_for_function(f"location.search.includes('campaign={key}')")
        page.wait_for_selector("#lineage .node")
    details = []
    page.on("request", lambda request: "/programs/" in request.url and details.append(request.url))
    page.click("#lineage .node >> nth=1")
    page.wait_for_selector("#program h3")
    page.wait_for_timeout(500)
    assert len(details) == 1, details
    assert not page.errors, page.errors
