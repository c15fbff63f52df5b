// How values read on the page. Scores are stored oriented (higher is better; "min" objectives negated):
// they are shown as the objective reads.
export const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
export const fmtX = (v) => (v == null ? "—" : `${Number(v).toFixed(3)}x`);
export const shown = (v, label) => (label.direction === "min" ? -v : v);
export const fmtValue = (v, label) => (v == null ? "—" : label.ratio ? fmtX(v) : Number(shown(v, label)).toPrecision(4));
export const fmtScore = (v, label) => `${label.name} ${fmtValue(v, label)}`;
export const fmtInt = (n) => Number(n).toLocaleString("en-US");
export function fmtDuration(seconds) {
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}
export function ciText(profile) {
  const ci = profile && profile.speedup_ci;
  if (!ci) return "";
  const noise = ci[0] <= 1 && ci[1] >= 1 ? " — includes 1.0x: not distinguishable from the reference" : "";
  return ` (95% CI ${ci[0].toFixed(3)}–${ci[1].toFixed(3)}${noise})`;
}

// A timed result against the machine's limit, as the judge described it (evaluators/roofline.py).
export function rooflineText(r) {
  if (!r) return "";
  return `${r.description}${r.suspect ? " — faster than this machine can move its data: not believed" : ""}`;
}
