// The stark viewer: fetches the read-only JSON API and draws summary, charts, lineage and details.
"use strict";
const state = { key: null, version: null, programs: [], selected: null, baselines: [], label: { name: "speedup", direction: "max", ratio: true } };
const $ = (id) => document.getElementById(id);
const esc = (s) => String(s ?? "").replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]));
const fmtX = (v) => (v == null ? "—" : `${Number(v).toFixed(3)}x`);
// Scores are stored oriented (higher is better; "min" objectives negated): show them as the objective reads.
const shown = (v, label = state.label) => (label.direction === "min" ? -v : v);
const fmtValue = (v, label = state.label) => (v == null ? "—" : label.ratio ? fmtX(v) : Number(shown(v, label)).toPrecision(4));
const fmtScore = (v, label = state.label) => `${label.name} ${fmtValue(v, label)}`;
const api = async (path) => { const r = await fetch(path); if (!r.ok) throw new Error(await r.text()); return r.json(); };

async function loadCampaigns() {
  const list = await api("/api/campaigns");
  $("campaigns").innerHTML = list.map((c) => `<li data-key="${esc(c.key)}" class="${c.key === state.key ? "active" : ""}">
    <b>${esc(c.name || c.key)}</b><br><span class="muted">${c.error ? esc(c.error) :
    `${esc(c.problem)} · ${esc(c.status)} · best ${c.best ? fmtScore(c.best.score, c.score_label) : "—"}`}</span></li>`).join("");
  document.querySelectorAll("#campaigns li").forEach((li) => li.onclick = () => selectCampaign(li.dataset.key));
  return list;
}

async function selectCampaign(key) {
  state.key = key; state.version = null; state.selected = null; state.baselines = [];
  api(`/api/campaigns/${encodeURIComponent(key)}/baselines`).then((b) => { if (state.key === key) { state.baselines = b.baselines; drawBest(); } });
  $("program").innerHTML = '<p class="muted">Click a program in the lineage or the Pareto plot.</p>';
  await refresh();
  await loadCampaigns();
}

async function refresh() {
  if (!state.key) return;
  const c = await api(`/api/campaigns/${encodeURIComponent(state.key)}`);
  const version = `${c.programs}|${c.updated_at}|${c.status}`;
  if (version === state.version) return;
  state.version = version;
  $("empty").hidden = true; $("campaign").hidden = false;
  state.label = c.score_label;
  const arrow = c.score_label.direction === "min" ? "↓" : "↑";
  $("best-caption").textContent = `Best ${c.score_label.name} over attempts${c.score_label.ratio ? "" : " (dashed: baselines on the training instances)"}`;
  $("pareto-caption").textContent = `Pareto front (click a point): ${c.score_label.name} ${arrow} vs code size ↓`;
  $("title").textContent = `${c.name} — ${c.problem}`;
  document.title = `${c.name} · stark`;
  const counts = Object.entries(c.counts).map(([k, v]) => `${k} ${v}`).join(", ");
  $("summary").innerHTML = [["status", c.status], ["attempts", c.attempts], ["best", c.best ? `#${c.best.id} ${fmtScore(c.best.score)}` : "none"],
    ["programs", counts], ["LLM", `${c.llm.calls} calls · ${c.llm.prompt_tokens + c.llm.completion_tokens} tok · $${c.llm.cost_usd.toFixed(4)}`],
    ["elapsed", `${Math.round(c.elapsed_s)} s`]].map(([k, v]) => `<div class="card"><span class="muted">${k}</span><b>${esc(v)}</b></div>`).join("");
  $("islands").innerHTML = "<tr><th>island</th><th>members</th><th>cells (" + esc(c.descriptors.map((d) => d.name).join(", ")) +
    ") → best " + esc(c.score_label.name) + "</th></tr>" + c.islands.map((i) => `<tr><td>${i.island}</td><td>${i.members}</td><td>${Object.entries(i.cells)
    .map(([cell, s]) => `[${esc(cell)}] ${fmtValue(s)}`).join(" · ")}</td></tr>`).join("");
  state.programs = await api(`/api/campaigns/${encodeURIComponent(state.key)}/programs`);
  drawBest(); drawPareto(); drawLineage();
  const llm = await api(`/api/campaigns/${encodeURIComponent(state.key)}/llm`);
  $("llm-totals").textContent = Object.entries(llm.by_role).map(([r, t]) => `${r}: ${t.calls} calls, ${t.tokens} tok, $${t.cost_usd.toFixed(4)}`).join(" · ") || "no LLM calls (offline mutator)";
  $("llm").innerHTML = "<tr><th>attempt</th><th>role</th><th>model</th><th>status</th><th>tokens</th><th>latency</th><th>$</th><th>error</th></tr>" +
    llm.calls.slice(0, 100).map((x) => `<tr><td>${x.attempt ?? ""}</td><td>${esc(x.role)}</td><td>${esc(x.model)}</td><td>${esc(x.status)}</td>
    <td>${x.prompt_tokens + x.completion_tokens}</td><td>${x.latency_s}s</td><td>${x.cost_usd.toFixed(5)}</td><td>${esc(x.error)}</td></tr>`).join("");
  if (state.selected) showProgram(state.selected);
}

function ticks(w, h, pad, x, y) {
  const f = (v) => (Math.abs(v) >= 100 || Number.isInteger(v) ? Math.round(v) : Number(v).toPrecision(3));
  return `<text x="${pad}" y="${h - pad + 12}" text-anchor="start">${f(x[0])}</text><text x="${w - 12}" y="${h - pad + 12}" text-anchor="end">${f(x[1])}</text>
    <text x="${pad - 3}" y="${h - pad}" text-anchor="end">${f(y[0])}</text><text x="${pad - 3}" y="18" text-anchor="end">${f(y[1])}</text>`;
}

function axes(svg, w, h, pad, xLabel, yLabel) {
  return `<line class="axis" x1="${pad}" y1="${h - pad}" x2="${w - 10}" y2="${h - pad}"/><line class="axis" x1="${pad}" y1="10" x2="${pad}" y2="${h - pad}"/>
    <text x="${w / 2}" y="${h - 6}" text-anchor="middle">${xLabel}</text><text x="12" y="${h / 2}" transform="rotate(-90 12 ${h / 2})" text-anchor="middle">${yLabel}</text>`;
}

function scale(values, lo, hi) {
  const min = Math.min(...values), max = Math.max(...values), span = max - min || 1;
  return (v) => lo + ((v - min) / span) * (hi - lo);
}

function drawBest() {
  const svg = $("best-chart"), w = 480, h = 220, pad = 36;
  const rows = state.programs.filter((p) => (p.status === "evaluated" || p.status === "failed") && p.best_so_far != null);
  if (!rows.length) { svg.innerHTML = ""; return; }
  const values = rows.filter((p) => p.correct).map((p) => shown(p.score)).concat(state.label.ratio ? [0] : [])
    .concat(state.baselines.map((b) => b.value));
  const lo = Math.min(...values), hi = Math.max(...values);
  const xs = scale(rows.map((p) => p.attempt), pad, w - 14), ys = scale([lo, hi], h - pad, 14);
  const path = rows.map((p, i) => `${i ? "L" : "M"}${xs(p.attempt).toFixed(1)},${ys(shown(p.best_so_far)).toFixed(1)}`).join(" ");
  const dots = rows.filter((p) => p.correct).map((p) => `<circle cx="${xs(p.attempt)}" cy="${ys(shown(p.score))}" r="2" fill="#9ab"/>`).join("");
  const best = rows[rows.length - 1].best_so_far;
  const attempts = rows.map((p) => p.attempt);
  const guides = state.baselines.map((b) => `<line class="baseline" x1="${pad}" x2="${w - 14}" y1="${ys(b.value)}" y2="${ys(b.value)}" stroke="#999" stroke-dasharray="3 3"/>
    <text class="baseline-label" x="${pad + 4}" y="${ys(b.value) - 2}" fill="#777" font-size="9">${esc(b.name)} ${Number(b.value).toPrecision(4)}</text>`).join("");
  svg.innerHTML = guides + axes(svg, w, h, pad, "attempt", esc(state.label.name)) + ticks(w, h, pad, [Math.min(...attempts), Math.max(...attempts)], [lo, hi]) + dots + `<path d="${path}" fill="none" stroke="#2563c9" stroke-width="2"/>
    <text x="${w - 14}" y="${ys(shown(best)) - 4}" text-anchor="end">${fmtValue(best)}</text>`;
}

function dominated(a, b) { return b.score >= a.score && b.code_size <= a.code_size && (b.score > a.score || b.code_size < a.code_size); }

function drawPareto() {
  const svg = $("pareto-chart"), w = 480, h = 220, pad = 36;
  const rows = state.programs.filter((p) => p.correct && p.origin !== "migration");
  if (!rows.length) { svg.innerHTML = ""; return; }
  const xs = scale(rows.map((p) => p.code_size), pad + 6, w - 20), ys = scale(rows.map((p) => shown(p.score)), h - pad - 6, 16);
  const front = rows.filter((a) => !rows.some((b) => dominated(a, b))).sort((a, b) => a.code_size - b.code_size);
  const line = front.map((p, i) => `${i ? "L" : "M"}${xs(p.code_size)},${ys(shown(p.score))}`).join(" ");
  const sizes = rows.map((p) => p.code_size), speeds = rows.map((p) => shown(p.score));
  svg.innerHTML = axes(svg, w, h, pad, "code size (bytes)", esc(state.label.name)) +
    ticks(w, h, pad, [Math.min(...sizes), Math.max(...sizes)], [Math.min(...speeds), Math.max(...speeds)]) + `<path d="${line}" fill="none" stroke="#e07b00" stroke-dasharray="4 3"/>` +
    rows.map((p) => `<circle class="point" data-id="${p.id}" cx="${xs(p.code_size)}" cy="${ys(shown(p.score))}" r="${front.includes(p) ? 5 : 3.5}"
      fill="${p.in_population ? "#2563c9" : "#b8c2cc"}"><title>#${p.id} ${fmtScore(p.score)} · ${p.code_size} B</title></circle>`).join("");
  svg.querySelectorAll(".point").forEach((c) => c.onclick = () => showProgram(Number(c.dataset.id)));
}

function drawLineage() {
  const children = new Map();
  state.programs.forEach((p) => { const k = p.parent_id ?? 0; if (!children.has(k)) children.set(k, []); children.get(k).push(p); });
  const render = (parent) => `<ul>${(children.get(parent) || []).map((p) => `<li><span class="node${p.id === state.selected ? " selected" : ""}" data-id="${p.id}">#${p.id}
    <span class="badge ${esc(p.status)}">${esc(p.status)}</span> ${p.correct ? fmtValue(p.score) : ""} <span class="muted">${esc(p.origin)} · i${p.island} · ${esc((p.strategy || "").slice(0, 60))}</span></span>
    ${render(p.id)}</li>`).join("")}</ul>`;
  $("lineage").innerHTML = render(0);
  document.querySelectorAll("#lineage .node").forEach((n) => n.onclick = (e) => { e.stopPropagation(); showProgram(Number(n.dataset.id)); });
}

function diffHtml(diff) {
  return diff.replace(/\n$/, "").split("\n").map((l) => `<span class="${l.startsWith("+") && !l.startsWith("+++") ? "add" : l.startsWith("-") && !l.startsWith("---") ? "del" : ""}">${esc(l)}</span>`).join("");
}

function ciText(profile) {
  const ci = profile && profile.speedup_ci;
  if (!ci) return "";
  const noise = ci[0] <= 1 && ci[1] >= 1 ? " — includes 1.0x: not distinguishable from the reference" : "";
  return ` (95% CI ${ci[0].toFixed(3)}–${ci[1].toFixed(3)}${noise})`;
}

async function showProgram(id) {
  state.selected = id;
  document.querySelectorAll("#lineage .node").forEach((n) => n.classList.toggle("selected", Number(n.dataset.id) === id));
  const p = await api(`/api/campaigns/${encodeURIComponent(state.key)}/programs/${id}`);
  const evals = p.evaluations.map((e) => `<h4>Evaluation: ${e.passed ? "passed" : `failed in ${esc(e.failure_stage)} (${esc(e.failure_kind)})`}</h4>
    ${e.message ? `<pre>${esc(e.message)}</pre>` : ""}
    <table><tr><th>stage</th><th>ok</th><th>seconds</th></tr>${e.stages.map((s) => `<tr><td>${esc(s.stage)}</td><td>${s.ok ? "yes" : "no"}</td><td>${Number(s.seconds).toFixed(3)}</td></tr>`).join("")}</table>
    ${e.profile ? `<p>candidate median ${e.profile.candidate.median_us.toFixed(1)} µs (IQR ${e.profile.candidate.iqr_us.toFixed(1)}) · eager ${e.profile.reference.median_us.toFixed(1)} µs · speedup ${fmtX(e.speedup_vs_eager)}${ciText(e.profile)}${e.remeasured ? " · <b>re-measured</b>" : ""}${e.speedup_vs_compile ? ` · vs compile ${fmtX(e.speedup_vs_compile)}` : ""}</p>` : ""}
    ${Object.keys(e.metrics).length ? `<table><tr><th>metric</th><th>train</th><th>holdout</th></tr>${Object.entries(e.metrics).map(([k, v]) =>
      `<tr><td>${esc(k)}</td><td>${Number(v).toPrecision(4)}</td><td>${e.holdout_metrics[k] == null ? "—" : Number(e.holdout_metrics[k]).toPrecision(4)}</td></tr>`).join("")}</table>` : ""}
    ${e.output_tail ? `<details><summary>output tail</summary><pre>${esc(e.output_tail)}</pre></details>` : ""}`).join("");
  $("program").innerHTML = `<h3>Program #${p.id} <span class="badge ${esc(p.status)}">${esc(p.status)}</span></h3>
    <p>${esc(p.origin)} of ${p.parent_id ? `<a href="#" data-id="${p.parent_id}">#${p.parent_id}</a>` : "nothing (seed)"} · attempt ${p.attempt} · island ${p.island} · generation ${p.generation}
    ${p.correct ? ` · ${esc(fmtScore(p.score))}` : ""}${p.duplicate_of ? ` · repeats <a href="#" class="repeats" data-id="${p.duplicate_of}">#${p.duplicate_of}</a>` : ""}</p>
    ${p.strategy ? `<p><b>strategy:</b> ${esc(p.strategy)}</p>` : ""}${p.note ? `<p><b>note:</b> ${esc(p.note)}</p>` : ""}
    <h4>Diff from parent</h4><pre class="diff" id="diff">${p.diff ? diffHtml(p.diff) : "(none)"}</pre>${evals}
    ${p.llm_calls.length ? `<h4>LLM calls of attempt ${p.attempt}</h4>${p.llm_calls.map((c) => `<details class="llm-call" data-call="${c.id}"><summary>${esc(c.role)} · ${esc(c.status)} · ${c.tokens} tok · ${Number(c.latency_s).toFixed(1)} s · $${c.cost_usd.toFixed(5)}${c.error ? ` · ${esc(c.error)}` : ""}</summary><div class="llm-text">loading…</div></details>`).join("")}` : ""}
    <details><summary>source</summary><pre id="source">${esc(p.source)}</pre></details>`;
  $("program").querySelectorAll("a[data-id]").forEach((a) => a.onclick = (e) => { e.preventDefault(); showProgram(Number(a.dataset.id)); });
  $("program").querySelectorAll("details.llm-call").forEach((d) => d.addEventListener("toggle", async () => {
    if (!d.open || d.dataset.loaded) return;
    d.dataset.loaded = "1";
    const c = await api(`/api/campaigns/${encodeURIComponent(state.key)}/llm/${d.dataset.call}`);
    const messages = (() => { try { return JSON.parse(c.prompt); } catch (e) { return [{ role: "prompt", content: c.prompt }]; } })();
    d.querySelector(".llm-text").innerHTML = messages.map((m) => `<h5>${esc(m.role)}</h5><pre class="prompt">${esc(m.content)}</pre>`).join("") +
      `<h5>reply${c.finish_reason ? ` (finish: ${esc(c.finish_reason)})` : ""}</h5><pre class="reply">${esc(c.response || "(no text)")}</pre>`;
  }));
}

(async function main() {
  const list = await loadCampaigns();
  const wanted = new URLSearchParams(location.search).get("campaign");
  if (wanted || list.length === 1) await selectCampaign(wanted || list[0].key);
  // The next poll is scheduled when this one has answered, so slow answers never pile up.
  const poll = async () => {
    try { await loadCampaigns(); await refresh(); $("live").style.color = "#2e9d4f"; } catch (e) { $("live").style.color = "#c33"; }
    setTimeout(poll, 2000);
  };
  setTimeout(poll, 2000);
})();
