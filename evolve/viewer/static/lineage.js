// The lineage as a collapsible tree drawn as a virtual list: only the rows in view exist in the page, so a
// campaign of 20k programs (or a chain 3,000 deep) costs what a screenful costs. The tree is flattened
// without recursion; what the user collapsed and where they scrolled survive every refresh.
const ROW = 22;              // px per row: fixed, so a row's position is its index times this
const OVERSCAN = 12;
const MAX_INDENT = 12;       // deeper rows stop moving right and say their depth instead

export class Lineage {
  constructor(container, { onSelect, describe }) {
    this.container = container;
    this.onSelect = onSelect;
    this.describe = describe;           // program → inner HTML of its row
    this.clear();
    container.innerHTML = '<div class="spacer"></div>';
    this.spacer = container.firstChild;
    let pending = false;
    container.addEventListener("scroll", () => {
      if (pending) return;
      pending = true;
      requestAnimationFrame(() => { pending = false; this.draw(); });
    });
    container.addEventListener("click", (e) => {
      const toggle = e.target.closest(".toggle");
      const row = e.target.closest(".node");
      if (!row) return;
      const id = Number(row.dataset.id);
      if (toggle) { this.toggle(id); return; }
      this.onSelect(id);
    });
  }

  // Another campaign, or the same one sent again whole: forget the tree, keep what the user collapsed.
  clear({ keepCollapsed = false } = {}) {
    this.children = new Map();          // parent id (0 for roots) → child ids, oldest first
    this.known = new Set();
    if (!keepCollapsed) this.collapsed = new Set();
    this.visible = [];                  // [{id, depth, kids, dim}]
    this.indexOf = new Map();
    this.selected = null;
    this.match = null;                  // program → bool, or null for no filter
    this.programs = this.programs || null;
  }

  // New rows (ascending ids) join the tree; rows seen before only change what they show.
  add(rows) {
    for (const p of rows) {
      if (this.known.has(p.id)) continue;
      this.known.add(p.id);
      const parent = p.parent_id != null && this.known.has(p.parent_id) ? p.parent_id : 0;
      if (!this.children.has(parent)) this.children.set(parent, []);
      this.children.get(parent).push(p.id);
    }
  }

  setPrograms(programs) { this.programs = programs; }

  setFilter(match) { this.match = match; this.flatten(); this.draw(); }

  toggle(id) {
    if (this.collapsed.has(id)) this.collapsed.delete(id); else this.collapsed.add(id);
    this.flatten(); this.draw();
  }

  collapseAll(open) {
    this.collapsed.clear();
    if (!open) for (const [parent, kids] of this.children) if (parent !== 0 && kids.length) this.collapsed.add(parent);
    this.flatten(); this.draw();
  }

  // With a filter, matching rows are shown with their ancestors (dimmed), so every match keeps its place in
  // the tree; collapsing still applies.
  flatten() {
    let keep = null;
    if (this.match) {
      keep = new Set();
      for (const id of this.known) {
        const p = this.programs.get(id);
        if (!p || !this.match(p)) continue;
        let cur = p;
        while (cur && !keep.has(cur.id)) { keep.add(cur.id); cur = cur.parent_id != null ? this.programs.get(cur.parent_id) : null; }
      }
    }
    const out = [];
    const stack = [];
    const push = (ids, depth) => { for (let i = ids.length - 1; i >= 0; i--) stack.push([ids[i], depth]); };
    push(this.children.get(0) || [], 0);
    while (stack.length) {
      const [id, depth] = stack.pop();
      if (keep && !keep.has(id)) continue;
      const kids = this.children.get(id) || [];
      const shownKids = keep ? kids.filter((k) => keep.has(k)) : kids;
      out.push({ id, depth, kids: shownKids.length, dim: keep != null && !this.match(this.programs.get(id)) });
      if (!this.collapsed.has(id)) push(shownKids, depth + 1);
    }
    this.visible = out;
    this.indexOf = new Map(out.map((r, i) => [r.id, i]));
    this.spacer.style.height = `${out.length * ROW}px`;
  }

  // Only the rows in view (and a few either side) are in the page.
  draw() {
    const top = this.container.scrollTop, height = this.container.clientHeight || 420;
    const first = Math.max(0, Math.floor(top / ROW) - OVERSCAN);
    const last = Math.min(this.visible.length, Math.ceil((top + height) / ROW) + OVERSCAN);
    const html = [];
    for (let i = first; i < last; i++) {
      const r = this.visible[i], p = this.programs.get(r.id);
      if (!p) continue;
      const indent = Math.min(r.depth, MAX_INDENT);
      const deep = r.depth > MAX_INDENT ? `<span class="depth" title="depth in the lineage">d${r.depth}</span>` : "";
      const toggle = r.kids ? `<span class="toggle" title="${this.collapsed.has(r.id) ? "expand" : "collapse"}">${this.collapsed.has(r.id) ? "▸" : "▾"}${this.collapsed.has(r.id) ? `<small>${r.kids}</small>` : ""}</span>` : '<span class="toggle-space"></span>';
      html.push(`<div class="node${r.id === this.selected ? " selected" : ""}${r.dim ? " dim" : ""}" data-id="${r.id}" style="top:${i * ROW}px;padding-left:${4 + indent * 12}px">${toggle}${deep}${this.describe(p)}</div>`);
    }
    this.spacer.innerHTML = html.join("");
  }

  // Open every ancestor of `id`, scroll it into view and mark it.
  reveal(id) {
    this.selected = id;
    let cur = this.programs.get(id), opened = false;
    while (cur && cur.parent_id != null) {
      if (this.collapsed.delete(cur.parent_id)) opened = true;
      cur = this.programs.get(cur.parent_id);
    }
    if (opened || !this.indexOf.has(id)) this.flatten();
    const i = this.indexOf.get(id);
    if (i != null) {
      const top = i * ROW, view = this.container.clientHeight || 420;
      if (top < this.container.scrollTop || top + ROW > this.container.scrollTop + view) this.container.scrollTop = Math.max(0, top - view / 2);
    }
    this.draw();
  }

  select(id) { this.selected = id; this.draw(); }

  get size() { return this.visible.length; }
}
