"""The web viewer on a real HTTP server: the JSON API, and a real headless Chromium clicking into a program."""

import urllib.error
import urllib.request

import pytest

from tests.evolve.conftest import get


def test_api_lists_campaign_with_summary(viewer):
    campaigns = {c["key"]: c for c in get(f"{viewer}/api/campaigns")}
    campaign = campaigns["viewed"]
    assert campaign["key"] == "viewed" and campaign["status"] == "finished" and campaign["attempts"] == 5
    assert campaign["counts"] == {"evaluated": 4, "failed": 1, "duplicate": 2}     # attempt 5 edits a comment
    assert campaign["llm"]["calls"] == 12 and campaign["islands"][0]["members"] >= 1


def test_api_programs_lineage_and_detail(viewer):
    programs = get(f"{viewer}/api/campaigns/viewed/programs")
    assert [p["attempt"] for p in programs] == [0, 1, 2, 3, 4, 5, 5]
    assert all(p["parent_id"] is not None for p in programs[1:])
    assert programs[-1]["best_so_far"] == max(p["score"] for p in programs if p["correct"])
    failed = next(p for p in programs if p["status"] == "failed")
    detail = get(f"{viewer}/api/campaigns/viewed/programs/{failed['id']}")
    assert "+    return x * 3" in detail["diff"]
    assert detail["evaluations"][0]["failure_kind"] == "mismatch"
    assert [c["role"] for c in detail["llm_calls"]] == ["planner", "coder"]
    assert "prompt" not in detail["llm_calls"][1]                        # texts come when a reader opens one
    call = get(f"{viewer}/api/campaigns/viewed/llm/{detail['llm_calls'][1]['id']}")
    assert "return x * 3" in call["response"] and "Current program" in call["prompt"]
    duplicate = get(f"{viewer}/api/campaigns/viewed/programs/{programs[-1]['id']}")
    assert duplicate["status"] == "duplicate" and duplicate["duplicate_of"] == duplicate["parent_id"]
    assert "duplicate of #" in duplicate["note"] and duplicate["evaluations"] == []


def test_api_errors_and_read_only(viewer):
    for path in ("/api/campaigns/nope", "/api/campaigns/viewed/programs/999"):
        with pytest.raises(urllib.error.HTTPError) as info:
            get(viewer + path)
        assert info.value.code == 404
    request = urllib.request.Request(f"{viewer}/api/campaigns/viewed", method="DELETE")
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(request, timeout=10)
    assert info.value.code == 405


def test_static_assets_are_local(viewer):
    with urllib.request.urlopen(viewer + "/", timeout=10) as response:
        page = response.read().decode()
    assert "/static/app.js" in page and "http://" not in page and "https://" not in page


def test_chromium_clicks_into_a_program_and_sees_its_diff(viewer, tmp_path):
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run", "--disable-quic"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        missing = []
        page.on("response", lambda response: response.status >= 400 and missing.append(response.url))
        page.goto(viewer + "/")
        page.click("#campaigns li[data-key='viewed']")
        page.wait_for_selector("#lineage .node")
        assert "viewed" in page.inner_text("#campaigns")
        assert page.title() == "viewed · stark" and not missing, missing
        assert page.get_attribute("meta[name=viewport]", "content").startswith("width=device-width")
        page.click("#lineage .node:has(.badge.failed)")
        page.wait_for_selector("#diff .add")
        assert "return x * 3" in page.inner_text("#diff .add")
        assert "failed in verify (mismatch)" in page.inner_text("#program")
        page.click("#program details.llm-call:has-text('coder') summary")        # what the coder was asked and said
        page.wait_for_selector("#program details.llm-call pre.reply")
        call = page.inner_text("#program details.llm-call[open]")
        assert "You are the coder" in call and "Current program" in call and "return x * 3" in call
        assert page.locator("#pareto-chart circle.point").count() >= 1
        page.click("#lineage .node:has(.badge.duplicate) >> nth=0")           # a repeat links to what it repeats
        page.wait_for_selector("#program a.repeats")
        original = page.get_attribute("#program a.repeats", "data-id")
        page.click("#program a.repeats")
        page.wait_for_selector(f"#program h3:has-text('Program #{original} ')")
        page.click("#lineage .node:has(.badge.evaluated)")
        page.wait_for_selector("#program p:has-text('95% CI')")
        assert "95% CI" in page.inner_text("#program"), "every speedup is shown with its interval"
        page.screenshot(path=str(tmp_path / "viewer.png"), full_page=True)
        browser.close()
    assert (tmp_path / "viewer.png").stat().st_size > 10_000


def test_discovery_scores_read_as_their_objective(viewer):
    campaign = get(f"{viewer}/api/campaigns/scratchpad-offline")
    assert campaign["score_label"] == {"name": "extra_mean", "direction": "min", "ratio": False}
    assert campaign["best"]["score"] < 0                # stored oriented: lower extra traffic is a higher score
    programs = get(f"{viewer}/api/campaigns/scratchpad-offline/programs")
    assert programs[-1]["best_so_far"] == max(p["score"] for p in programs if p["correct"])
    from kernelbench.discovery import load_discovery_problem

    sp = load_discovery_problem("scratchpad_planning")
    baselines = get(f"{viewer}/api/campaigns/scratchpad-offline/baselines")
    assert baselines["metric"] == "extra_mean"
    assert {b["name"]: b["value"] for b in baselines["baselines"]} == {
        name: sp.evaluate_baseline(name, "train")["extra_mean"] for name in sp.BASELINES}
    assert get(f"{viewer}/api/campaigns/viewed/baselines")["baselines"] == []


def test_chromium_shows_a_discovery_campaign_in_its_own_units(viewer):
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-no-first-run"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(viewer + "/")
        page.click("#campaigns li[data-key='scratchpad-offline']")
        page.wait_for_selector("#lineage .node")
        summary = page.inner_text("#summary")
        assert "extra_mean 0." in summary and "x" not in summary.split("extra_mean")[1].split()[0]
        assert "evaluated -" not in page.inner_text("#lineage")
        page.wait_for_selector("#best-chart .ref-label.baseline")
        assert "topo_lru 0." in page.text_content("#best-chart") and "extra_mean" in page.inner_text("#best-caption")
        ys = sorted(float(y) for y in page.eval_on_selector_all("#best-chart .ref-label", "ls => ls.map(l => l.getAttribute('y'))"))
        assert len(ys) == len(get(f"{viewer}/api/campaigns/scratchpad-offline/baselines")["baselines"]) >= 2
        assert all(b - a >= 10 for a, b in zip(ys, ys[1:])), f"baseline labels overprint: {ys}"
        page.click("#lineage .node:has(.badge.evaluated)")
        page.wait_for_selector("#program table td")
        detail = page.inner_text("#program")
        assert "extra@0" in detail and "holdout" in detail and "extra_mean 0." in detail
        browser.close()


def test_a_run_that_says_running_but_has_no_writer_shows_as_killed(viewer, runs_root):
    import shutil
    import sqlite3

    killed = runs_root / "killed-copy"
    shutil.copytree(runs_root / "scratchpad-offline", killed)
    with sqlite3.connect(killed / "campaign.db") as conn:      # what a kill -9 leaves: the status never updated
        conn.execute("UPDATE campaigns SET status = 'running'")
    try:
        assert get(f"{viewer}/api/campaigns/killed-copy")["status"].startswith("stopped unexpectedly")
    finally:
        shutil.rmtree(killed)
