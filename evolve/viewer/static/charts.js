// Small SVG charts with real axes: nice ticks, gridlines, units, log scale where values span decades, reference
// lines whose labels never overprint, and scatter layers thinned to one point per few pixels (the points that
// must be seen, like a Pareto front, are passed as their own layer and always drawn).
import { esc } from "./format.js";

export const SIZE = { w: 520, h: 260, left: 56, right: 14, top: 12, bottom: 40 };

// Round numbers spanning [lo, hi]: steps of 1, 2 or 5 times a power of ten.
export function niceTicks(lo, hi, count = 6) {
  const span = hi - lo;
  if (!(span > 0)) return [lo];
  const raw = span / count, mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => span / s <= count) || 10 * mag;
  const ticks = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

export function logTicks(lo, hi) {
  const ticks = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    for (const m of [1, 2, 5]) { const v = m * 10 ** e; if (v >= lo && v <= hi) ticks.push(v); }
  }
  return ticks.length >= 2 ? ticks : niceTicks(lo, hi);
}

// A domain that shows its values with a margin, and never a sliver: a span under 4% of the values' size is
// widened (2286–2288 bytes reads as "all the same size", not as a 2-byte axis).
export function domain(values, { include = [], minRelSpan = 0.04 } = {}) {
  const all = values.concat(include).filter((v) => Number.isFinite(v));
  if (!all.length) return [0, 1];
  let lo = Math.min(...all), hi = Math.max(...all);
  const size = Math.max(Math.abs(lo), Math.abs(hi)) || 1, least = size * minRelSpan;
  if (hi - lo < least) { const mid = (lo + hi) / 2; lo = mid - least / 2; hi = mid + least / 2; }
  const margin = (hi - lo) * 0.05;
  return [lo - margin, hi + margin];
}

export function axis(dom, { log = false, lo, hi }) {
  const [a, b] = log ? [Math.log10(dom[0]), Math.log10(dom[1])] : dom;
  const f = (v) => lo + (((log ? Math.log10(v) : v) - a) / (b - a || 1)) * (hi - lo);
  f.ticks = log ? logTicks(dom[0], dom[1]) : niceTicks(dom[0], dom[1]);
  f.log = log;
  return f;
}

export function fmtTick(v) {
  const a = Math.abs(v);
  if (a >= 1e6) return `${(v / 1e6).toPrecision(3)}M`;
  if (a >= 1e4) return `${(v / 1e3).toPrecision(3)}k`;
  if (Number.isInteger(v)) return String(v);
  return String(Number(v.toPrecision(3)));
}

// Keep one point per `cell`-pixel square; later points win a square (so the newest show on top).
export function thin(points, cell = 3) {
  const seen = new Map();
  for (const p of points) seen.set(`${Math.round(p.px / cell)},${Math.round(p.py / cell)}`, p);
  return [...seen.values()];
}

// Labels of horizontal reference lines, moved apart until none overlaps another.
export function spreadLabels(items, gap = 11) {
  const sorted = items.slice().sort((a, b) => a.py - b.py);
  for (let i = 1; i < sorted.length; i++) if (sorted[i].ly - sorted[i - 1].ly < gap) sorted[i].ly = sorted[i - 1].ly + gap;
  return sorted;
}

// spec: {x: {label, dom, log, fmt}, y: {...}, lines: [{d: [[x, y]...], cls, step}], refs: [{y, label, cls}],
//        whiskers: [{x, lo, hi}] (intervals),
//        points: [{x, y, id, r, cls, title}] (thinned), keep: [...] (always drawn), selected}
export function plot(svg, spec) {
  const { w, h, left, right, top, bottom } = SIZE;
  svg.setAttribute("viewBox", `0 0 ${w} ${h}`);
  const xs = axis(spec.x.dom, { log: spec.x.log, lo: left, hi: w - right });
  const ys = axis(spec.y.dom, { log: spec.y.log, lo: h - bottom, hi: top });
  const fx = spec.x.fmt || fmtTick, fy = spec.y.fmt || fmtTick;
  const out = [];
  for (const t of xs.ticks) {
    const x = xs(t).toFixed(1);
    out.push(`<line class="gridline" x1="${x}" x2="${x}" y1="${top}" y2="${h - bottom}"/><text class="tick" x="${x}" y="${h - bottom + 13}" text-anchor="middle">${esc(fx(t))}</text>`);
  }
  for (const t of ys.ticks) {
    const y = ys(t).toFixed(1);
    out.push(`<line class="gridline" x1="${left}" x2="${w - right}" y1="${y}" y2="${y}"/><text class="tick" x="${left - 5}" y="${Number(y) + 3}" text-anchor="end">${esc(fy(t))}</text>`);
  }
  out.push(`<line class="axis" x1="${left}" y1="${h - bottom}" x2="${w - right}" y2="${h - bottom}"/><line class="axis" x1="${left}" y1="${top}" x2="${left}" y2="${h - bottom}"/>`);
  out.push(`<text class="label" x="${(left + w - right) / 2}" y="${h - 6}" text-anchor="middle">${esc(spec.x.label)}${spec.x.log ? " (log)" : ""}</text>`);
  out.push(`<text class="label" x="13" y="${(top + h - bottom) / 2}" transform="rotate(-90 13 ${(top + h - bottom) / 2})" text-anchor="middle">${esc(spec.y.label)}${spec.y.log ? " (log)" : ""}</text>`);
  const inside = (y) => y >= top - 0.5 && y <= h - bottom + 0.5;
  const refs = (spec.refs || []).map((r) => ({ ...r, py: ys(r.y) })).filter((r) => inside(r.py));
  for (const r of refs) out.push(`<line class="ref ${r.cls || ""}" x1="${left}" x2="${w - right}" y1="${r.py.toFixed(1)}" y2="${r.py.toFixed(1)}"/>`);
  for (const r of spreadLabels(refs.map((r) => ({ ...r, ly: r.py - 3 })))) {
    out.push(`<text class="ref-label ${r.cls || ""}" x="${w - right - 3}" y="${r.ly.toFixed(1)}" text-anchor="end">${esc(r.label)}</text>`);
  }
  for (const line of spec.lines || []) {
    let d = "";
    line.d.forEach(([x, y], i) => {
      const px = xs(x).toFixed(1), py = ys(y).toFixed(1);
      d += i === 0 ? `M${px},${py}` : line.step ? `H${px}V${py}` : `L${px},${py}`;
    });
    if (line.d.length && line.extendTo != null) d += `H${xs(line.extendTo).toFixed(1)}`;
    out.push(`<path class="${line.cls}" d="${d}" fill="none"/>`);
  }
  for (const w of spec.whiskers || []) {
    const x = xs(w.x), lo = ys(w.lo), hi = ys(w.hi);
    out.push(`<path class="whisker" d="M${x.toFixed(1)},${lo.toFixed(1)}V${hi.toFixed(1)}M${(x - 3).toFixed(1)},${lo.toFixed(1)}h6M${(x - 3).toFixed(1)},${hi.toFixed(1)}h6"/>`);
  }
  const place = (p) => ({ ...p, px: xs(p.x), py: ys(p.y) });
  const drawn = thin((spec.points || []).map(place));
  const kept = (spec.keep || []).map(place);
  const dot = (p) => `<circle class="point ${p.cls || ""}${p.id === spec.selected && p.cls !== "selected" ? " selected" : ""}" data-id="${p.id ?? ""}" cx="${p.px.toFixed(1)}" cy="${p.py.toFixed(1)}" r="${p.r || 2.5}"><title>${esc(p.title || "")}</title></circle>`;
  out.push(drawn.map(dot).join(""), kept.map(dot).join(""));
  svg.innerHTML = out.join("");
  return { drawn: drawn.length + kept.length, total: (spec.points || []).length + kept.length };
}
