// The stark viewer: polls the read-only JSON API and keeps the page in step with a running campaign. A poll asks
// only for the program rows changed since the last one, redraws only what those rows touch, and never undoes
// what the user opened, scrolled, filtered or selected (all of which also lives in the URL).
import { plot, domain, fmtTick } from "./charts.js";
import { esc, fmtX, shown, fmtValue, fmtScore, fmtInt, fmtDuration, ciText, rooflineText } from "./format.js";
import { Lineage } from "./lineage.js";

const POLL_MS = 2000;
const X_AXES = { attempt: "attempt", time: "time since the first program (s)", tokens: "LLM tokens spent", dollars: "LLM dollars spent" };
const $ = (id) => document.getElementById(id);
const state = {
  key: null, cursor: "", programs: new Map(), order: [], rowVersion: new Map(), selected: null, overview: null,
  label: { name: "speedup", direction: "max", ratio: true }, baselines: [], llmCalls: -1, listText: "",
  filters: { status: "", island: "", origin: "", q: "" }, x: "attempt", panelVersion: null,
};
const snapshot = window.STARK_SNAPSHOT || null;       // a static export carries the API's answers with it
function fromSnapshot(path) {
  const [base, query] = path.split("?");
  if (base.endsWith("/intervals")) return snapshot[base] || { intervals: {} };
  if (base.endsWith("/program-rows")) {
    const all = snapshot[base];
    return new URLSearchParams(query || "").get("since") ? { ...all, rows: [], reset: false } : all;
  }
  if (path in snapshot) return snapshot[path];
  throw new Error("not in this static export; `stark serve` shows everything");
}
const api = async (path) => {
  if (snapshot) return fromSnapshot(path);
  const r = await fetch(path);
  if (!r.ok) {
    let detail = await r.text();
    try { detail = JSON.parse(detail).detail; } catch (e) { /* plain text */ }
    throw new Error(`${r.status}: ${detail}`);
  }
  return r.json();
};
const campaignPath = (suffix = "") => `/api/campaigns/${encodeURIComponent(state.key)}${suffix}`;

// ---- URL state -------------------------------------------------------------------------------------------
function writeUrl() {
  const q = new URLSearchParams();
  if (state.key) q.set("campaign", state.key);
  if (state.selected) q.set("program", state.selected);
  for (const [k, v] of Object.entries(state.filters)) if (v !== "") q.set(k, v);
  if (state.x !== "attempt") q.set("x", state.x);
  const next = `${location.pathname}${q.toString() ? `?${q}` : ""}`;
  if (next === `${location.pathname}${location.search}`) return;
  try { history.replaceState(null, "", next); } catch (e) { /* a saved page opened from disk may refuse */ }
}

function readUrl() {
  const q = new URLSearchParams(location.search);
  for (const k of Object.keys(state.filters)) state.filters[k] = q.get(k) || "";
  state.x = X_AXES[q.get("x")] ? q.get("x") : "attempt";
  return { campaign: q.get("campaign"), program: Number(q.get("program")) || null };
}

function notice(text) {
  $("notice").textContent = text;
  $("notice").hidden = !text;
}

// ---- the campaign list -----------------------------------------------------------------------------------
async function loadCampaigns() {
  const list = await api("/api/campaigns");
  const text = JSON.stringify(list.map((c) => [c.key, c.name, c.problem, c.status, c.best, c.error, c.programs]));
  if (text !== state.listText) {
    state.listText = text;
    $("campaigns").innerHTML = list.map((c) => `<li data-key="${esc(c.key)}" class="${c.key === state.key ? "active" : ""}">
      <b>${esc(c.name || c.key)}</b><br><span class="muted">${c.error ? `<span class="error">${esc(c.error)}</span>` :
      `${esc(c.problem)} · ${esc(c.status)} · ${fmtInt(c.programs)} programs · best ${c.best ? esc(fmtScore(c.best.score, c.score_label)) : "—"}`}</span></li>`).join("");
    $("campaign-count").textContent = `${list.length}`;
  }
  state.list = list;
  if ($("compare").hidden === false) drawCompare();
  return list;
}

// ---- one campaign ----------------------------------------------------------------------------------------
function resetCampaign(key) {
  Object.assign(state, { key, cursor: "", programs: new Map(), order: [], rowVersion: new Map(), overview: null, baselines: [], llmCalls: -1, panelVersion: null, spend: null, intervals: new Map() });
  state.lineage.clear();
  state.lineage.setPrograms(state.programs);
}

async function selectCampaign(key, { program = null } = {}) {
  resetCampaign(key);
  state.selected = program;
  document.querySelectorAll("#campaigns li").forEach((li) => li.classList.toggle("active", li.dataset.key === key));
  $("compare").hidden = true;
  $("empty").hidden = true;
  $("campaign").hidden = false;
  $("program").innerHTML = '<p class="muted">Click a program in the lineage or a chart.</p>';
  writeUrl();
  api(campaignPath("/baselines")).then((b) => { if (state.key === key) { state.baselines = b.baselines; drawCharts(); } }).catch(() => {});
  try {
    await refresh();
  } catch (e) {
    notice(`Campaign ${key}: ${e.message}`);
    $("campaign").hidden = true;
    $("empty").hidden = false;
    return;
  }
  if (program) selectProgram(program, { reveal: true });
}

function drawSummary(c) {
  const counts = Object.entries(c.counts).map(([k, v]) => `${k} ${fmtInt(v)}`).join(" · ");
  const budget = c.budget && c.budget.iterations ? ` of ${fmtInt(c.budget.iterations)}` : "";
  const cards = [["status", c.status], ["attempts", `${c.attempts}${budget}`], ["best", c.best ? `#${c.best.id} ${fmtScore(c.best.score, c.score_label)}` : "none"],
    ["programs", `${fmtInt(c.programs)}`], ["LLM", `${fmtInt(c.llm.calls)} calls · ${fmtInt(c.llm.prompt_tokens + c.llm.completion_tokens)} tok · $${c.llm.cost_usd.toFixed(4)}`],
    ["elapsed", fmtDuration(c.elapsed_s)]];
  $("summary").innerHTML = cards.map(([k, v]) => `<div class="card"><span class="muted">${k}</span><b>${esc(v)}</b></div>`).join("") +
    `<p class="muted counts">${esc(counts)}</p>`;
  $("downloads").innerHTML = snapshot ? `static export of ${esc(c.name)}: ${fmtInt(c.programs)} programs; sources and evaluations of the best, the population and the newest` : `<a href="${campaignPath("/best.py")}" download>best program</a> · <a href="${campaignPath("/export.csv")}" download>programs CSV</a> · <a href="${campaignPath("/export.json")}" download>programs JSON</a> · <a href="${campaignPath("/export.html")}" download>static HTML</a>`;
}

function drawIslands(c) {
  $("islands").innerHTML = `<tr><th>island</th><th>members</th><th>cells (${esc(c.descriptors.map((d) => d.name).join(", "))}) → best ${esc(c.score_label.name)}</th></tr>` +
    c.islands.map((i) => `<tr><td>${i.island}</td><td>${i.members}</td><td>${Object.entries(i.cells).map(([cell, s]) => `[${esc(cell)}] ${fmtValue(s, c.score_label)}`).join(" · ")}</td></tr>`).join("");
}

async function refresh() {
  if (!state.key) return;
  const key = state.key;
  const c = await api(campaignPath());
  if (state.key !== key) return;
  const first = state.overview == null;
  const changed = first || c.updated_at !== state.overview.updated_at || c.programs !== state.overview.programs;
  state.overview = c;
  state.label = c.score_label;
  drawSummary(c);
  if (first) {
    const arrow = c.score_label.direction === "min" ? "↓" : "↑";
    $("title").textContent = `${c.name} — ${c.problem}`;
    document.title = `${c.name} · stark`;
    $("best-caption").textContent = `Best ${c.score_label.name} so far ${arrow}`;
    $("pareto-caption").textContent = `Pareto front: ${c.score_label.name} ${arrow} vs code size ↓ (click a point)`;
    fillFilterChoices();
  }
  if (changed) drawIslands(c);
  const delta = await api(campaignPath(`/program-rows?since=${encodeURIComponent(state.cursor)}`));
  if (state.key !== key) return;
  if (delta.reset && state.order.length) {          // a restarted server sends everything again
    state.programs.clear(); state.order = [];
    const selected = state.lineage.selected;
    state.lineage.clear({ keepCollapsed: true });
    state.lineage.selected = selected;
  }
  applyRows(delta);
  if (delta.rows.length || delta.reset) {
    recomputeBest();
    state.lineage.add(state.order.slice(state.lineage.known.size).map((id) => state.programs.get(id)));
    fillFilterChoices();
    state.lineage.setFilter(filterFn());
    drawCharts();
    $("lineage-count").textContent = lineageCount();
    if (state.selected && state.rowVersion.get(state.selected) !== state.panelVersion) showProgram(state.selected, { keepOpen: true });
  }
  if (c.llm.calls !== state.llmCalls) {
    state.llmCalls = c.llm.calls; state.spend = null; loadLlm();
    if (state.x === "tokens" || state.x === "dollars") { await loadSpend(); drawCharts(); }
  }
}

function applyRows(delta) {
  const cols = delta.columns;
  for (const values of delta.rows) {
    const id = values[0];
    let p = state.programs.get(id);
    if (!p) { p = {}; state.programs.set(id, p); state.order.push(id); }
    cols.forEach((name, i) => { p[name] = values[i]; });
    state.rowVersion.set(id, (state.rowVersion.get(id) || 0) + 1);
  }
  if (delta.reset) state.order.sort((a, b) => a - b);
  state.cursor = delta.cursor;
}

function recomputeBest() {
  let best = null;
  for (const id of state.order) {
    const p = state.programs.get(id);
    if (p.correct && p.score != null && (best == null || p.score > best)) best = p.score;
    p.best_so_far = best;
  }
}

// ---- filters ---------------------------------------------------------------------------------------------
function filterFn() {
  const f = state.filters;
  if (!f.status && f.island === "" && !f.origin && !f.q) return null;
  const q = f.q.trim().toLowerCase();
  return (p) => (!f.status || p.status === f.status) && (f.island === "" || String(p.island) === f.island) &&
    (!f.origin || p.origin === f.origin) &&
    (!q || `#${p.id}` === q || String(p.id) === q || (p.strategy || "").toLowerCase().includes(q) || (p.note || "").toLowerCase().includes(q));
}

function fillFilterChoices() {
  const values = { status: new Set(), island: new Set(), origin: new Set() };
  for (const p of state.programs.values()) { values.status.add(p.status); values.island.add(String(p.island)); values.origin.add(p.origin); }
  for (const [name, set] of Object.entries(values)) {
    const select = $(`filter-${name}`);
    const options = ["", ...[...set].sort((a, b) => (name === "island" ? a - b : a.localeCompare(b)))];
    const text = options.join("|");
    if (select.dataset.options === text) continue;
    select.dataset.options = text;
    select.innerHTML = options.map((v) => `<option value="${esc(v)}">${v === "" ? `any ${name}` : esc(v)}</option>`).join("");
    select.value = state.filters[name];
  }
  $("filter-q").value = state.filters.q;
}

function lineageCount() {
  const n = state.programs.size, shownRows = state.lineage.size;
  return filterFn() ? `${fmtInt(shownRows)} rows shown for the filter (matches and their ancestors) of ${fmtInt(n)}` : `${fmtInt(n)} programs`;
}

function onFilterChange() {
  for (const k of ["status", "island", "origin"]) state.filters[k] = $(`filter-${k}`).value;
  state.filters.q = $("filter-q").value;
  state.lineage.setFilter(filterFn());
  $("lineage-count").textContent = lineageCount();
  drawCharts();
  writeUrl();
}

// ---- lineage rows and charts -----------------------------------------------------------------------------
function describeNode(p) {
  return `#${p.id} <span class="badge ${esc(p.status)}">${esc(p.status)}</span> ${p.correct ? esc(fmtValue(p.score, state.label)) : ""} <span class="muted">${esc(p.origin)} · i${p.island} · ${esc((p.strategy || "").slice(0, 70))}</span>`;
}

const startTime = () => { const first = state.programs.get(state.order[0]); return first ? Date.parse(first.created_at) : 0; };

// What the search had spent when it made a program: the running total over the attempts up to the program's own.
function spentAt(attempt) {
  const s = state.spend;
  if (!s || !s.attempts.length || attempt < s.attempts[0]) return 0;
  let lo = 0, hi = s.attempts.length - 1;
  while (lo < hi) { const mid = (lo + hi + 1) >> 1; if (s.attempts[mid] <= attempt) lo = mid; else hi = mid - 1; }
  return state.x === "dollars" ? s.dollars[lo] : s.tokens[lo];
}

function xOf(p, t0) {
  if (state.x === "time") return (Date.parse(p.created_at) - t0) / 1000;
  if (state.x === "tokens" || state.x === "dollars") return spentAt(p.attempt);
  return p.attempt;
}

async function loadSpend() {
  const rows = (await api(campaignPath("/spend"))).attempts;
  let tokens = 0, dollars = 0;
  state.spend = { attempts: rows.map((r) => r[0]), tokens: rows.map((r) => (tokens += r[1])), dollars: rows.map((r) => (dollars += r[2])) };
}

function drawCharts() {
  const wanted = [...drawBest(), ...drawPareto()];
  if (state.label.ratio) loadIntervals(wanted);
}

// 95% intervals of the programs the charts mark (best-so-far steps, the front), fetched once per version of
// each row (a re-measurement changes both score and interval); the charts are drawn again when they arrive.
async function loadIntervals(ids) {
  const missing = ids.filter((id) => { const known = state.intervals.get(id); return !known || known.v !== state.rowVersion.get(id); });
  if (!missing.length || state.loadingIntervals) return;
  state.loadingIntervals = true;
  const key = state.key;
  try {
    const got = (await api(campaignPath(`/intervals?ids=${missing.slice(0, 500).join(",")}`))).intervals;
    if (state.key !== key) return;
    for (const id of missing.slice(0, 500)) state.intervals.set(id, { v: state.rowVersion.get(id), ci: got[id] || null });
  } catch (e) {
    return;
  } finally {
    state.loadingIntervals = false;
  }
  drawBest(); drawPareto();
}

const whisker = (id, x) => { const known = state.intervals.get(id); return known && known.ci ? [{ x, lo: known.ci[0], hi: known.ci[1] }] : []; };

function drawBest() {
  const svg = $("best-chart"), label = state.label, match = filterFn();
  const rows = state.order.map((id) => state.programs.get(id)).filter((p) => p.best_so_far != null);
  const legend = $("best-legend");
  if (!rows.length) { svg.innerHTML = ""; legend.innerHTML = '<span class="muted">no correct program yet</span>'; return []; }
  const t0 = startTime();
  const steps = [], stepIds = [];
  let last = null;
  for (const p of rows) {
    if (p.best_so_far === last) continue;
    steps.push([xOf(p, t0), shown(p.best_so_far, label)]); last = p.best_so_far;
    if (p.correct && p.score === p.best_so_far) stepIds.push(p.id);
  }
  const whiskers = label.ratio ? stepIds.flatMap((id) => whisker(id, xOf(state.programs.get(id), t0))) : [];
  const xEnd = xOf(rows[rows.length - 1], t0);
  const correct = rows.filter((p) => p.correct && p.score != null && (!match || match(p)));
  const values = correct.map((p) => shown(p.score, label));
  const refs = state.baselines.map((b) => ({ y: b.value, label: `${b.name} ${Number(b.value).toPrecision(4)}`, cls: "baseline" }));
  if (label.ratio) refs.push({ y: 1, label: "1.0x = the reference", cls: "parity" });
  const include = refs.map((r) => r.y).concat(steps.map((s) => s[1]), whiskers.flatMap((w) => [w.lo, w.hi]));
  let ydom = domain(values, { include });
  const log = label.ratio && ydom[0] > 0 && Math.max(...values, ...include) / Math.min(...values, ...include) > 20;
  if (log) ydom = [Math.min(...values, ...include) / 1.15, Math.max(...values, ...include) * 1.15];
  const xdom = domain(rows.map((p) => xOf(p, t0)), { minRelSpan: 0 });
  const selected = state.selected && state.programs.get(state.selected);
  const keep = selected && selected.correct && selected.score != null ? [{ x: xOf(selected, t0), y: shown(selected.score, label), id: selected.id, r: 5, cls: "selected", title: `#${selected.id}` }] : [];
  const fmtY = label.ratio ? (v) => `${v}x` : undefined;
  const result = plot(svg, {
    x: { label: X_AXES[state.x], dom: xdom, fmt: state.x === "dollars" ? (v) => `$${v}` : undefined },
    y: { label: label.ratio ? `${label.name} (x over eager)` : label.name, dom: ydom, log, fmt: fmtY },
    refs,
    lines: [{ d: steps, cls: "best-line", step: true, extendTo: xEnd }], whiskers,
    points: correct.map((p) => ({ x: xOf(p, t0), y: shown(p.score, label), id: p.id, r: 2, cls: "sample", title: `#${p.id} ${fmtScore(p.score, label)} · attempt ${p.attempt}` })),
    keep, selected: state.selected,
  });
  legend.innerHTML = `<span class="key best-line"></span> best so far (${esc(fmtValue(rows[rows.length - 1].best_so_far, label))})
    <span class="key sample"></span> a correct program${match ? " (filtered)" : ""} · ${fmtInt(result.drawn)} of ${fmtInt(result.total)} drawn, one per 3 px
    ${label.ratio ? '<span class="key parity"></span> 1.0x parity <span class="key whisker"></span> 95% interval of each new best' : ""}${state.baselines.length ? ' <span class="key baseline"></span> baselines (training instances)' : ""}`;
  return stepIds;
}

// The front of (score ↑, code size ↓): sorted by size, a program is on it when it beats every smaller one.
function paretoFront(rows) {
  const sorted = rows.slice().sort((a, b) => a.code_size - b.code_size || b.score - a.score);
  const front = [];
  let best = -Infinity;
  for (const p of sorted) if (p.score > best) { front.push(p); best = p.score; }
  return front;
}

function drawPareto() {
  const svg = $("pareto-chart"), label = state.label, match = filterFn();
  const rows = state.order.map((id) => state.programs.get(id)).filter((p) => p.correct && p.score != null && p.origin !== "migration" && (!match || match(p)));
  const legend = $("pareto-legend");
  if (!rows.length) { svg.innerHTML = ""; legend.innerHTML = '<span class="muted">no correct program yet</span>'; return []; }
  const front = paretoFront(rows), onFront = new Set(front.map((p) => p.id));
  const whiskers = label.ratio ? front.flatMap((p) => whisker(p.id, p.code_size)) : [];
  const point = (p, extra = {}) => ({ x: p.code_size, y: shown(p.score, label), id: p.id, r: 2.5,
    cls: p.in_population ? "member" : "evicted", title: `#${p.id} ${fmtScore(p.score, label)} · ${p.code_size} B`, ...extra });
  const keep = front.map((p) => point(p, { r: 5, cls: "front" }));
  const selected = state.selected && state.programs.get(state.selected);
  if (selected && rows.includes(selected) && !onFront.has(selected.id)) keep.push(point(selected, { r: 5, cls: "selected" }));
  const refs = label.ratio ? [{ y: 1, label: "1.0x", cls: "parity" }] : [];
  const ys = rows.map((p) => shown(p.score, label));
  const result = plot(svg, {
    x: { label: "code size (bytes)", dom: domain(rows.map((p) => p.code_size)) },
    y: { label: label.ratio ? `${label.name} (x over eager)` : label.name, dom: domain(ys, { include: refs.map((r) => r.y).concat(whiskers.flatMap((w) => [w.lo, w.hi])) }), fmt: label.ratio ? (v) => `${v}x` : undefined },
    refs, whiskers,
    lines: [{ d: front.map((p) => [p.code_size, shown(p.score, label)]), cls: "front-line" }],
    points: rows.filter((p) => !onFront.has(p.id)).map((p) => point(p)), keep, selected: state.selected,
  });
  legend.innerHTML = `<span class="key front"></span> front (${front.length}) <span class="key member"></span> in the population <span class="key evicted"></span> evicted
    · ${fmtInt(result.drawn)} of ${fmtInt(result.total)} drawn, one per 3 px${match ? " (filtered)" : ""}${whiskers.length ? ' <span class="key whisker"></span> 95% interval' : ""}`;
  return front.map((p) => p.id);
}

// ---- the program panel -----------------------------------------------------------------------------------
function selectProgram(id, { reveal = true } = {}) {
  state.selected = id;
  if (reveal) state.lineage.reveal(id); else state.lineage.select(id);
  writeUrl();
  drawCharts();
  showProgram(id, { keepOpen: false });
}

async function showProgram(id, { keepOpen }) {
  const panel = $("program");
  const open = keepOpen ? new Set([...panel.querySelectorAll("details[open]")].map((d) => d.dataset.key)) : new Set();
  const scroll = keepOpen ? panel.scrollTop : 0;
  let p;
  try {
    p = await api(campaignPath(`/programs/${id}`));
  } catch (e) {
    panel.innerHTML = `<p class="error">Program #${esc(id)}: ${esc(e.message)}</p>`;
    return;
  }
  if (state.selected !== id) return;
  state.panelVersion = state.rowVersion.get(id);
  const label = state.label;
  const evals = p.evaluations.map((e, k) => `<h4>Evaluation ${k + 1}: ${e.passed ? "passed" : `failed in ${esc(e.failure_stage)} (${esc(e.failure_kind)})`}</h4>
    ${e.message ? `<pre>${esc(e.message)}</pre>` : ""}
    <table><tr><th>stage</th><th>ok</th><th>seconds</th></tr>${e.stages.map((s) => `<tr><td>${esc(s.stage)}</td><td>${s.ok ? "yes" : "no"}</td><td>${Number(s.seconds).toFixed(3)}</td></tr>`).join("")}</table>
    ${e.profile ? `<p>candidate median ${e.profile.candidate.median_us.toFixed(1)} µs (IQR ${e.profile.candidate.iqr_us.toFixed(1)}) · eager ${e.profile.reference.median_us.toFixed(1)} µs · speedup ${fmtX(e.speedup_vs_eager)}${ciText(e.profile)}${e.remeasured ? " · <b>re-measured</b>" : ""}${e.speedup_vs_compile ? ` · vs compile ${fmtX(e.speedup_vs_compile)}` : ""}</p>${e.profile.roofline ? `<p class="roofline${e.profile.roofline.suspect ? " error" : ""}">${esc(rooflineText(e.profile.roofline))}</p>` : ""}` : ""}
    ${e.cost_model ? `<p class="cost-model">cost model: ${e.cost_model.predicted == null ? "no prediction" : `predicted ${fmtX(e.cost_model.predicted)} (upper ${fmtX(e.cost_model.upper)}, trained on ${fmtInt(e.cost_model.trained_on)})`} → <b>${e.cost_model.timed ? "timed" : "verified, not timed"}</b>: ${esc(e.cost_model.reason)}</p>` : ""}
    ${Object.keys(e.metrics).length ? `<table><tr><th>metric</th><th>train</th><th>holdout</th></tr>${Object.entries(e.metrics).map(([k, v]) =>
      `<tr><td>${esc(k)}</td><td>${Number(v).toPrecision(4)}</td><td>${e.holdout_metrics[k] == null ? "—" : Number(e.holdout_metrics[k]).toPrecision(4)}</td></tr>`).join("")}</table>` : ""}
    ${e.output_tail ? `<details data-key="tail-${k}"><summary>output tail</summary><pre>${esc(e.output_tail)}</pre></details>` : ""}`).join("");
  panel.innerHTML = `<h3>Program #${p.id} <span class="badge ${esc(p.status)}">${esc(p.status)}</span></h3>
    <p>${esc(p.origin)} of ${p.parent_id ? `<a href="#" data-id="${p.parent_id}">#${p.parent_id}</a>` : "nothing (seed)"} · attempt ${p.attempt} · island ${p.island} · generation ${p.generation}
    ${p.correct ? ` · ${esc(fmtScore(p.score, label))}` : ""}${p.duplicate_of ? ` · repeats <a href="#" class="repeats" data-id="${p.duplicate_of}">#${p.duplicate_of}</a>` : ""}</p>
    <p class="actions"><button type="button" id="reveal">show in lineage</button> <a href="${snapshot ? URL.createObjectURL(new Blob([p.source], { type: "text/x-python" })) : campaignPath(`/programs/${p.id}/source.py`)}" download="program-${p.id}.py">download source</a></p>
    ${p.strategy ? `<p><b>strategy:</b> ${esc(p.strategy)}</p>` : ""}${p.note ? `<p><b>note:</b> ${esc(p.note)}</p>` : ""}
    <h4>Diff from parent</h4><pre class="diff" id="diff">${p.diff ? diffHtml(p.diff) : "(none)"}</pre>${evals}
    ${p.llm_calls.length ? `<h4>LLM calls of attempt ${p.attempt}</h4>${p.llm_calls.map((c) => `<details class="llm-call" data-key="call-${c.id}" data-call="${c.id}"><summary>${esc(c.role)} · ${esc(c.status)} · ${c.tokens} tok · ${Number(c.latency_s).toFixed(1)} s · $${c.cost_usd.toFixed(5)}${c.error ? ` · ${esc(c.error)}` : ""}</summary><div class="llm-text">loading…</div></details>`).join("")}` : ""}
    <details data-key="source"><summary>source</summary><pre id="source">${esc(p.source)}</pre></details>`;
  panel.querySelectorAll("a[data-id]").forEach((a) => a.onclick = (e) => { e.preventDefault(); selectProgram(Number(a.dataset.id)); });
  $("reveal").onclick = () => state.lineage.reveal(p.id);
  panel.querySelectorAll("details.llm-call").forEach((d) => d.addEventListener("toggle", () => loadCall(d)));
  panel.querySelectorAll("details[data-key]").forEach((d) => { if (open.has(d.dataset.key)) d.open = true; });
  panel.scrollTop = scroll;
}

async function loadCall(d) {
  if (!d.open || d.dataset.loaded) return;
  d.dataset.loaded = "1";
  let c;
  try { c = await api(campaignPath(`/llm/${d.dataset.call}`)); } catch (e) { d.querySelector(".llm-text").textContent = e.message; return; }
  const messages = (() => { try { return JSON.parse(c.prompt); } catch (e) { return [{ role: "prompt", content: c.prompt }]; } })();
  d.querySelector(".llm-text").innerHTML = messages.map((m) => `<h5>${esc(m.role)}</h5><pre class="prompt">${esc(m.content)}</pre>`).join("") +
    `<h5>reply${c.finish_reason ? ` (finish: ${esc(c.finish_reason)})` : ""}</h5><pre class="reply">${esc(c.response || "(no text)")}</pre>`;
}

function diffHtml(diff) {
  return diff.replace(/\n$/, "").split("\n").map((l) => `<span class="${l.startsWith("+") && !l.startsWith("+++") ? "add" : l.startsWith("-") && !l.startsWith("---") ? "del" : ""}">${esc(l)}</span>`).join("");
}

async function loadLlm() {
  const llm = await api(campaignPath("/llm"));
  $("llm-totals").textContent = Object.entries(llm.by_role).map(([r, t]) => `${r}: ${fmtInt(t.calls)} calls, ${fmtInt(t.tokens)} tok, $${t.cost_usd.toFixed(4)}`).join(" · ") || "no LLM calls (offline mutator)";
  $("llm").innerHTML = "<tr><th>attempt</th><th>role</th><th>model</th><th>status</th><th>tokens</th><th>latency</th><th>$</th><th>error</th></tr>" +
    llm.calls.slice(0, 100).map((x) => `<tr><td>${x.attempt ?? ""}</td><td>${esc(x.role)}</td><td>${esc(x.model)}</td><td>${esc(x.status)}</td>
    <td>${x.prompt_tokens + x.completion_tokens}</td><td>${x.latency_s}s</td><td>${x.cost_usd.toFixed(5)}</td><td>${esc(x.error)}</td></tr>`).join("");
}

async function loadSkills() {
  const got = await api(campaignPath("/skills"));
  const offered = new Set(got.offered);
  $("skills").innerHTML = "<tr><th>skill</th><th>what it is</th><th>tries</th><th>wins</th><th>win rate</th><th>won on</th><th>offered here</th></tr>" +
    (got.skills.map((k) => `<tr><td>${esc(k.skill)}</td><td>${esc(k.description)}</td><td>${fmtInt(k.tries)}</td><td>${fmtInt(k.wins)}</td>
      <td>${(k.win_rate * 100).toFixed(1)}%</td><td>${esc(Object.entries(k.problems).slice(0, 4).map(([p, n]) => `${p} (${n})`).join(", "))}</td>
      <td>${offered.has(k.skill) ? "yes" : ""}</td></tr>`).join("") || '<tr><td colspan="7" class="muted">no skill recognized yet</td></tr>');
}

async function loadCostModel() {
  const got = await api(campaignPath("/cost-model"));
  const m = got.summary;
  $("cost-model-summary").textContent = m.ranked === 0 ? "no rank stage in this campaign ([cost_model] enabled = false)" :
    `${fmtInt(m.ranked)} ranked · ${fmtInt(m.untimed)} verified but not timed (about ${fmtDuration(m.skipped_seconds_estimate)} of profiling skipped; ${fmtDuration(m.profile_seconds)} spent) · ` +
    (m.kendall_tau == null ? "too few timed predictions for a rank correlation" : `Kendall τ ${m.kendall_tau.toFixed(2)} over ${fmtInt(m.paired)} timed predictions`);
  const pts = got.calls.filter((c) => c.predicted != null && c.measured);
  const svg = $("cost-model-chart");
  if (!pts.length) { svg.innerHTML = ""; $("cost-model-legend").textContent = ""; return; }
  const all = pts.flatMap((c) => [c.predicted, c.measured]);
  const dom = domain(all, { include: [1] });
  const result = plot(svg, {
    x: { dom, label: "predicted speedup", log: dom[1] / dom[0] > 20, fmt: (v) => `${fmtTick(v)}x` },
    y: { dom, label: "measured speedup", log: dom[1] / dom[0] > 20, fmt: (v) => `${fmtTick(v)}x` },
    lines: [{ cls: "parity", d: [[dom[0], dom[0]], [dom[1], dom[1]]] }],
    points: pts.map((c) => ({ x: c.predicted, y: c.measured, id: c.id, cls: c.reason === "the explore share" ? "explore" : "",
      title: `#${c.id}: predicted ${fmtX(c.predicted)}, measured ${fmtX(c.measured)} (${c.reason})` })),
    selected: state.selected,
  });
  $("cost-model-legend").textContent = `each dot a timed program the model had predicted (${result.drawn} of ${result.total} drawn); orange: timed only by the explore share, its prediction below the best; the line is prediction = measurement; untimed programs have no measurement to plot`;
  svg.querySelectorAll("circle[data-id]").forEach((c) => c.onclick = () => selectProgram(Number(c.dataset.id)));
}

// ---- comparing campaigns ---------------------------------------------------------------------------------
const compareState = { sort: "name", desc: false, picked: new Set(), curves: new Map() };

function showCompare() {
  state.key = null;
  $("campaign").hidden = true; $("empty").hidden = true; $("compare").hidden = false;
  document.querySelectorAll("#campaigns li").forEach((li) => li.classList.remove("active"));
  history.replaceState(null, "", `${location.pathname}?compare=1`);
  document.title = "compare · stark";
  drawCompare();
}

function drawCompare() {
  const rows = (state.list || []).filter((c) => !c.error);
  const key = compareState.sort, dir = compareState.desc ? -1 : 1;
  const value = (c) => ({ name: c.name, problem: c.problem, status: c.status, attempts: c.attempts, programs: c.programs,
    best: c.best ? shown(c.best.score, c.score_label) : -Infinity, cost: c.llm.cost_usd, elapsed: c.elapsed_s }[key]);
  rows.sort((a, b) => (value(a) < value(b) ? -dir : value(a) > value(b) ? dir : 0));
  const th = (k, text) => `<th data-sort="${k}" class="${compareState.sort === k ? (compareState.desc ? "desc" : "asc") : ""}">${text}</th>`;
  $("compare-table").innerHTML = `<tr><th>plot</th>${th("name", "campaign")}${th("problem", "problem")}${th("status", "status")}${th("attempts", "attempts")}${th("programs", "programs")}${th("best", "best")}${th("cost", "LLM $")}${th("elapsed", "elapsed")}</tr>` +
    rows.map((c) => `<tr><td><input type="checkbox" data-key="${esc(c.key)}" ${compareState.picked.has(c.key) ? "checked" : ""}></td><td><a href="?campaign=${encodeURIComponent(c.key)}">${esc(c.name)}</a></td><td>${esc(c.problem)}</td><td>${esc(c.status)}</td>
      <td>${fmtInt(c.attempts)}</td><td>${fmtInt(c.programs)}</td><td>${c.best ? esc(fmtScore(c.best.score, c.score_label)) : "—"}</td><td>${c.llm.cost_usd.toFixed(4)}</td><td>${fmtDuration(c.elapsed_s)}</td></tr>`).join("");
  $("compare-table").querySelectorAll("th[data-sort]").forEach((h) => h.onclick = () => {
    compareState.desc = compareState.sort === h.dataset.sort ? !compareState.desc : false;
    compareState.sort = h.dataset.sort; drawCompare();
  });
  $("compare-table").querySelectorAll("input[type=checkbox]").forEach((box) => box.onchange = async () => {
    if (box.checked) compareState.picked.add(box.dataset.key); else compareState.picked.delete(box.dataset.key);
    await drawCurves();
  });
  $("compare-table").querySelectorAll("a[href^='?campaign=']").forEach((a) => a.onclick = (e) => { e.preventDefault(); selectCampaign(new URLSearchParams(a.getAttribute("href")).get("campaign")); });
  drawCurves();
}

async function drawCurves() {
  const svg = $("compare-chart"), keys = [...compareState.picked];
  for (const key of keys) compareState.curves.set(key, await api(`/api/campaigns/${encodeURIComponent(key)}/best-curve`));
  const curves = keys.map((k) => compareState.curves.get(k)).filter(Boolean);
  if (!curves.length) { svg.innerHTML = ""; $("compare-legend").innerHTML = '<span class="muted">tick campaigns in the table to overlay their best-so-far curves</span>'; return; }
  const label = curves[0].score_label;
  const mixed = curves.some((c) => c.score_label.name !== label.name);
  const xs = curves.flatMap((c) => c.points.map((p) => p[0]).concat([c.last_attempt])), ys = curves.flatMap((c) => c.points.map((p) => shown(p[1], c.score_label)));
  const palette = ["c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7"];
  plot(svg, {
    x: { label: "attempt", dom: domain(xs.concat([0]), { minRelSpan: 0 }) },
    y: { label: mixed ? "best score (objectives differ)" : `best ${label.name}`, dom: domain(ys, { include: label.ratio ? [1] : [] }), fmt: label.ratio && !mixed ? (v) => `${v}x` : undefined },
    refs: label.ratio && !mixed ? [{ y: 1, label: "1.0x", cls: "parity" }] : [],
    lines: curves.map((c, i) => ({ d: c.points.map((p) => [p[0], shown(p[1], c.score_label)]), cls: `curve ${palette[i % palette.length]}`, step: true, extendTo: c.last_attempt })),
  });
  $("compare-legend").innerHTML = curves.map((c, i) => `<span class="key curve ${palette[i % palette.length]}"></span> ${esc(c.key)}`).join(" ");
}

// ---- start -----------------------------------------------------------------------------------------------
function wire() {
  state.lineage = new Lineage($("lineage"), { onSelect: (id) => selectProgram(id, { reveal: false }), describe: describeNode });
  for (const k of ["status", "island", "origin"]) $(`filter-${k}`).onchange = onFilterChange;
  let typing = null;
  $("filter-q").oninput = () => { clearTimeout(typing); typing = setTimeout(onFilterChange, 200); };
  $("x-axis").value = state.x;
  $("x-axis").onchange = async () => {
    state.x = $("x-axis").value;
    if ((state.x === "tokens" || state.x === "dollars") && !state.spend && state.key) await loadSpend();
    drawCharts(); writeUrl();
  };
  $("collapse-all").onclick = () => state.lineage.collapseAll(false);
  $("expand-all").onclick = () => state.lineage.collapseAll(true);
  $("compare-button").onclick = showCompare;
  $("cost-model-panel").addEventListener("toggle", () => { if ($("cost-model-panel").open && state.key) loadCostModel().catch((e) => { $("cost-model-summary").textContent = e.message; }); });
  $("skills-panel").addEventListener("toggle", () => { if ($("skills-panel").open && state.key) loadSkills().catch((e) => { $("skills").innerHTML = `<tr><td class="error">${esc(e.message)}</td></tr>`; }); });
  $("compare-button").hidden = Boolean(snapshot);
  $("campaigns").onclick = (e) => { const li = e.target.closest("li[data-key]"); if (li) selectCampaign(li.dataset.key); };
  for (const id of ["best-chart", "pareto-chart"]) $(id).addEventListener("click", (e) => {
    const dot = e.target.closest("circle[data-id]");
    if (dot && dot.dataset.id) selectProgram(Number(dot.dataset.id), { reveal: true });
  });
}

(async function main() {
  const wanted = readUrl();
  wire();
  let list = [];
  try { list = await loadCampaigns(); } catch (e) { notice(`Could not list campaigns: ${e.message}`); }
  if (new URLSearchParams(location.search).get("compare")) showCompare();
  else if (wanted.campaign) {
    if (!list.some((c) => c.key === wanted.campaign)) notice(`No campaign "${wanted.campaign}" here; pick one on the left.`);
    else await selectCampaign(wanted.campaign, { program: wanted.program });
  } else if (list.length === 1) await selectCampaign(list[0].key, { program: wanted.program });
  if (snapshot) { $("live").hidden = true; return; }
  // The next poll is scheduled when this one has answered, so slow answers never pile up.
  const poll = async () => {
    try { await loadCampaigns(); await refresh(); $("live").classList.remove("down"); } catch (e) { $("live").classList.add("down"); }
    setTimeout(poll, POLL_MS);
  };
  setTimeout(poll, POLL_MS);
})();
