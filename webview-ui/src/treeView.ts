// The search tree on screen: tidy layout, zoom and pan, hover, click to open a diff, arrow keys, the
// running node pulsing, dead branches folded into "+N more" chips that open on click, Enter or Space (each chip is a
// button too, for the Tab key and screen readers).
import type { ViewContext } from './context.js';
import { button, el, pngDataUrl, sizeCanvas, toggle } from './dom.js';
import { fileStem, fmtCount } from './format.js';
import { treeSvg } from './svgExport.js';
import { drawTree } from './treeDraw.js';
import { chipBox, chipDescription, chipText } from './treeLabels.js';
import type { PlacedLabel } from './treeLabels.js';
import { fitTransform, nodeRadius } from './treeScreen.js';
import type { Transform } from './treeScreen.js';
import { hitTestTree, layoutTree, LEVEL_GAP, moveInTree } from './treeLayout.js';
import type { TreeItem, TreeLayout, TreeMove } from './treeLayout.js';

export class TreeView {
  readonly element: HTMLElement;
  private readonly canvas: HTMLCanvasElement;
  private readonly box: HTMLElement;
  private readonly overlay: HTMLElement;
  /** One button per folded group on screen, over its chip: reachable with Tab, read by screen readers. */
  private readonly chips: HTMLElement;
  private readonly chipButtons = new Map<number, HTMLButtonElement>();
  /** What the last frame wrote on the tree (the tests read it). */
  private labels: PlacedLabel[] = [];
  private readonly info: HTMLElement;
  private layout: TreeLayout | null = null;
  private width = 0;
  private height = 0;
  private hover: number | null = null;
  /** A folded group can have the keyboard focus; nodes share the app's selection instead. */
  private focusGroup: number | null = null;
  private dirtyLayout = true;
  private drag: { x: number; y: number; t: Transform; moved: boolean } | null = null;
  private readonly pulses: HTMLElement[] = [];
  /** A node to bring into view once the next layout has it (it may be inside a folded group now). */
  private pendingReveal: number | null = null;

  constructor(private readonly ctx: ViewContext, private readonly requestRender: () => void) {
    this.canvas = el('canvas', {
      class: 'plot', tabindex: '0', role: 'img', id: 'tree-canvas',
      'aria-label': 'Search tree. Arrow keys move between parent, children and siblings; Enter opens the diff or expands a "+N more" chip; plus and minus zoom, 0 fits.',
      'aria-describedby': 'tree-help',
    });
    this.overlay = el('div', { class: 'overlay', 'aria-hidden': 'true' });
    this.chips = el('div', { class: 'overlay chips', role: 'group', 'aria-label': 'Folded branches' });
    this.box = el('div', { class: 'canvas-box tree-box' }, this.canvas, this.overlay, this.chips);
    this.info = el('span', { class: 'note' });
    const toolbar = el('div', { class: 'toolbar' },
      el('h2', { id: 'tree-title', text: 'Search tree' }),
      el('span', { class: 'spacer' }),
      this.info,
      toggle('Fold dead branches', 'Fold branches with nothing kept or running into one "+N more" chip', ctx.state.tree.collapseDead, (on) => {
        ctx.state.tree.collapseDead = on;
        ctx.state.tree.expanded = [];
        this.invalidate();
        ctx.saveState();
      }, 'fold-toggle'),
      button('−', 'Zoom out (-)', () => this.zoom(1 / 1.5, this.width / 2, this.height / 2), 'zoom-out'),
      button('+', 'Zoom in (+)', () => this.zoom(1.5, this.width / 2, this.height / 2), 'zoom-in'),
      button('Fit', 'Fit the whole tree (double-click or 0)', () => this.fit()),
      button('SVG', 'Export the whole tree as SVG', () => this.export('svg'), 'export-tree-svg'),
      button('PNG', 'Export the tree as shown as PNG', () => this.export('png'), 'export-tree-png'),
    );
    this.element = el('section', { class: 'panel tree-panel', 'aria-labelledby': 'tree-title' },
      toolbar,
      this.box,
      el('p', { class: 'help', id: 'tree-help', text: 'Each node: its number and its change against its parent. Hover for the rest; click for its diff, or a "+N more" chip to show what is folded there. Wheel or +/− zooms, drag pans, double-click or 0 fits.' }),
    );
    this.listen();
    new ResizeObserver(() => { this.measure(); this.requestRender(); }).observe(this.box);
  }

  invalidate(): void {
    this.dirtyLayout = true;
    this.requestRender();
  }

  get currentLayout(): TreeLayout | null {
    return this.layout;
  }

  private measure(): void {
    const r = this.box.getBoundingClientRect();
    const w = Math.round(r.width);
    if (w !== this.width && !this.ctx.state.tree.view) this.dirtyLayout = true;
    this.width = w;
    this.height = Math.round(r.height);
  }

  private pinned(): number[] {
    const out: number[] = [];
    const sel = this.ctx.selected();
    if (sel !== null) out.push(sel);
    const best = this.ctx.store.bestId;
    if (best !== null) out.push(best);
    return out;
  }

  /**
   * Space between levels: a deep, narrow tree (a greedy chain) is spread to the panel's width instead of
   * being shrunk until its labels vanish. A view the user zoomed keeps the spacing it was made at.
   */
  private levelGap(): number {
    const saved = this.ctx.state.tree.view?.g;
    if (saved) return saved;
    let maxDepth = 1;
    for (const d of this.ctx.store.depth) if (d !== undefined && d > maxDepth) maxDepth = d;
    return Math.max(48, Math.min(140, (this.width - 250) / maxDepth));
  }

  private setView(t: Transform): void {
    this.ctx.state.tree.view = { k: t.k, x: t.x, y: t.y, g: this.layout?.levelGap ?? LEVEL_GAP };
  }

  private transform(): Transform {
    return this.ctx.state.tree.view ?? (this.layout ? fitTransform(this.layout, this.width, this.height) : { k: 1, x: 0, y: 0 });
  }

  render(): void {
    if (!this.width) this.measure();
    if (!this.width || !this.height) return;
    const store = this.ctx.store;
    const sel = this.ctx.selected();
    // A selection folded into a group unfolds its way: pinned nodes stay visible.
    if (this.layout && sel !== null && !this.layout.byKey.has(sel) && store.nodes[sel]) this.dirtyLayout = true;
    if (this.dirtyLayout || !this.layout) {
      this.layout = layoutTree(store, { collapseDead: this.ctx.state.tree.collapseDead, expanded: new Set(this.ctx.state.tree.expanded), pinned: this.pinned(), levelGap: this.levelGap() });
      this.dirtyLayout = false;
      const shown = this.layout.items.filter((i) => i.kind === 'node').length;
      this.info.textContent = this.layout.hidden ? `${fmtCount(shown)} shown, ${fmtCount(this.layout.hidden)} folded` : `${fmtCount(shown)} nodes`;
      if (this.focusGroup !== null && !this.layout.byKey.has(this.focusGroup)) this.focusGroup = null;
    }
    if (this.pendingReveal !== null && this.layout.byKey.has(this.pendingReveal)) {
      const key = this.pendingReveal;
      this.pendingReveal = null;
      this.moveToShow(key);
    }
    const t = this.transform();
    const g = sizeCanvas(this.canvas, this.width, this.height);
    this.labels = drawTree(g, this.layout, store, this.ctx.palette(), t, this.width, this.height, { selected: this.focusGroup ?? sel, hover: this.hover });
    this.placePulses(t);
    this.placeChips(t, (text) => g.measureText(text).width);
  }

  /** The text of each label on the tree now, and where (client pixels): for the tests. */
  drawnLabels(): { key: number; text: string; x: number; y: number; w: number; h: number }[] {
    const r = this.canvas.getBoundingClientRect();
    return this.labels.map((l) => ({ key: l.key, text: l.parts.map((p) => p.text).join(''), x: r.left + l.box.x, y: r.top + l.box.y, w: l.box.w, h: l.box.h }));
  }

  /**
   * A button over each folded group's chip on screen. The canvas answers the pointer (hover card, click); the button
   * is for the keyboard and screen readers: Tab reaches it, Enter or Space opens the group, it says what it hides.
   */
  private placeChips(t: Transform, measure: (text: string) => number): void {
    const layout = this.layout!;
    const r = nodeRadius(t.k);
    const seen = new Set<number>();
    for (const it of layout.items) {
      if (it.kind !== 'group') continue;
      const b = chipBox(it, t, r, measure);
      if (b.x + b.w < 0 || b.y + b.h < 0 || b.x > this.width || b.y > this.height) continue;
      seen.add(it.key);
      let btn = this.chipButtons.get(it.key);
      if (!btn) {
        const item = it;
        btn = el('button', { class: 'chip-button', type: 'button' });
        btn.addEventListener('click', () => {
          const current = this.layout?.byKey.get(item.key);
          if (current) this.activate(current);
        });
        btn.addEventListener('focus', () => { this.focusGroup = item.key; this.requestRender(); });
        btn.addEventListener('blur', () => { if (this.focusGroup === item.key) { this.focusGroup = null; this.requestRender(); } });
        this.chipButtons.set(it.key, btn);
        this.chips.append(btn);
      }
      const label = chipDescription(it);
      if (btn.getAttribute('aria-label') !== label) {
        btn.setAttribute('aria-label', label);
        btn.title = label;
        btn.textContent = chipText(it);
      }
      btn.style.left = `${Math.round(b.x)}px`;
      btn.style.top = `${Math.round(b.y)}px`;
      btn.style.width = `${Math.ceil(b.w)}px`;
      btn.style.height = `${Math.ceil(b.h)}px`;
    }
    for (const [key, btn] of this.chipButtons) {
      if (seen.has(key)) continue;
      btn.remove();
      this.chipButtons.delete(key);
    }
  }

  /** A DOM ring over each running node: CSS animates it, so the canvas is not redrawn 60 times a second. */
  private placePulses(t: Transform): void {
    const layout = this.layout!;
    const store = this.ctx.store;
    let used = 0;
    const r = nodeRadius(t.k);
    for (const it of layout.items) {
      if (it.kind !== 'node' || store.nodes[it.id]?.status !== 'running') continue;
      const x = it.x * t.k + t.x;
      const y = it.y * t.k + t.y;
      if (x < -20 || y < -20 || x > this.width + 20 || y > this.height + 20) continue;
      let p = this.pulses[used];
      if (!p) {
        p = el('div', { class: 'pulse' });
        this.pulses.push(p);
        this.overlay.append(p);
      }
      p.hidden = false;
      const size = Math.max(10, r * 2 + 6);
      p.style.width = `${size}px`;
      p.style.height = `${size}px`;
      // left/top, not transform: the animation's `scale` would scale a translate too.
      p.style.left = `${Math.round(x - size / 2)}px`;
      p.style.top = `${Math.round(y - size / 2)}px`;
      used++;
    }
    for (let i = used; i < this.pulses.length; i++) this.pulses[i]!.hidden = true;
  }

  fit(): void {
    this.ctx.state.tree.view = null;
    this.ctx.saveState();
    this.requestRender();
  }

  /** Brings an item into view (selection from elsewhere, arrow keys) without changing the zoom. */
  reveal(key: number): void {
    if (!this.layout?.byKey.has(key) || this.dirtyLayout) {
      this.pendingReveal = key;
      this.requestRender();
      return;
    }
    if (this.moveToShow(key)) this.requestRender();
  }

  /** Pans so the item is on screen; true when the view moved. */
  private moveToShow(key: number): boolean {
    const it = this.layout?.byKey.get(key);
    if (!it || !this.width) return false;
    const t = this.transform();
    const x = it.x * t.k + t.x;
    const y = it.y * t.k + t.y;
    const m = 30;
    if (x >= m && x <= this.width - m && y >= m && y <= this.height - m) return false;
    this.setView({ k: t.k, x: this.width / 2 - it.x * t.k, y: this.height / 2 - it.y * t.k });
    this.ctx.saveState();
    return true;
  }

  private zoom(factor: number, px: number, py: number): void {
    const t = this.transform();
    const k = Math.max(0.01, Math.min(8, t.k * factor));
    const wx = (px - t.x) / t.k;
    const wy = (py - t.y) / t.k;
    this.setView({ k, x: px - wx * k, y: py - wy * k });
    this.ctx.saveState();
    this.requestRender();
  }

  private itemAt(ev: MouseEvent): TreeItem | null {
    if (!this.layout) return null;
    const r = this.canvas.getBoundingClientRect();
    const t = this.transform();
    const wx = (ev.clientX - r.left - t.x) / t.k;
    const wy = (ev.clientY - r.top - t.y) / t.k;
    return hitTestTree(this.layout, wx, wy, Math.max(8, nodeRadius(t.k) + 4) / t.k);
  }

  private unfold(item: TreeItem): void {
    const exp = new Set(this.ctx.state.tree.expanded);
    exp.add(item.id);
    this.ctx.state.tree.expanded = [...exp];
    this.focusGroup = null;
    this.ctx.saveState();
    this.invalidate();
  }

  private activate(item: TreeItem): void {
    if (item.kind === 'group') {
      this.unfold(item);
      if (item.roots[0] !== undefined) this.ctx.select(item.roots[0], 'tree');
      return;
    }
    this.ctx.select(item.id, 'tree');
    this.ctx.openDiff(item.id);
  }

  private listen(): void {
    const c = this.canvas;
    c.addEventListener('pointermove', (ev) => {
      if (this.drag) {
        const dx = ev.clientX - this.drag.x;
        const dy = ev.clientY - this.drag.y;
        if (Math.abs(dx) + Math.abs(dy) > 3) this.drag.moved = true;
        if (this.drag.moved) {
          this.setView({ k: this.drag.t.k, x: this.drag.t.x + dx, y: this.drag.t.y + dy });
          this.ctx.tooltip.hide();
          this.requestRender();
          return;
        }
      }
      const it = this.itemAt(ev);
      c.classList.toggle('pointing', it !== null);
      const key = it?.key ?? null;
      if (key !== this.hover) { this.hover = key; this.requestRender(); }
      if (!it) this.ctx.tooltip.hide();
      else if (it.kind === 'node') this.ctx.tooltip.show(it.id, ev.clientX, ev.clientY);
      else this.ctx.tooltip.showText(chipText(it), [chipDescription(it)], ev.clientX, ev.clientY);
    });
    c.addEventListener('pointerleave', () => {
      this.hover = null;
      this.ctx.tooltip.hide();
      this.requestRender();
    });
    c.addEventListener('pointerdown', (ev) => {
      if (ev.button !== 0) return;
      this.drag = { x: ev.clientX, y: ev.clientY, t: this.transform(), moved: false };
      c.setPointerCapture(ev.pointerId);
    });
    c.addEventListener('pointerup', (ev) => {
      const d = this.drag;
      this.drag = null;
      if (!d) return;
      if (d.moved) { this.ctx.saveState(); return; }
      const it = this.itemAt(ev);
      if (it) this.activate(it);
    });
    c.addEventListener('dblclick', () => this.fit());
    c.addEventListener('wheel', (ev) => {
      ev.preventDefault();
      const r = c.getBoundingClientRect();
      this.zoom(Math.exp(-Math.max(-1, Math.min(1, ev.deltaY / 300))), ev.clientX - r.left, ev.clientY - r.top);
    }, { passive: false });
    c.addEventListener('keydown', (ev) => this.key(ev));
  }

  private key(ev: KeyboardEvent): void {
    if (!this.layout) return;
    const moves: Record<string, TreeMove> = { ArrowLeft: 'parent', ArrowRight: 'child', ArrowUp: 'prev', ArrowDown: 'next', Home: 'first', End: 'last' };
    const current = this.focusGroup ?? this.ctx.selected();
    const move = moves[ev.key];
    if (move) {
      ev.preventDefault();
      const cur = current === null ? undefined : this.layout.byKey.get(current);
      if (move === 'child' && cur?.kind === 'group') { this.activate(cur); return; }
      const next = moveInTree(this.layout, current, move);
      if (!next) return;
      if (next.kind === 'group') {
        this.focusGroup = next.key;
        this.ctx.announce(chipDescription(next));
        this.requestRender();
      } else {
        this.focusGroup = null;
        this.ctx.select(next.id, 'tree');
      }
      this.reveal(next.key);
      this.showTipFor(next);
      return;
    }
    switch (ev.key) {
      case 'Enter': {
        const it = current === null ? undefined : this.layout.byKey.get(current);
        if (it) this.activate(it);
        break;
      }
      case '+': case '=': this.zoom(1.5, this.width / 2, this.height / 2); break;
      case '-': case '_': this.zoom(1 / 1.5, this.width / 2, this.height / 2); break;
      case '0': this.fit(); break;
      case 'Escape': this.ctx.tooltip.hide(); return;
      default: return;
    }
    ev.preventDefault();
  }

  /** Where a node is drawn, in client pixels (for tests), or null when it is not visible. */
  pointOnScreen(id: number): { x: number; y: number } | null {
    const it = this.layout?.byKey.get(id);
    if (!it) return null;
    const t = this.transform();
    const r = this.canvas.getBoundingClientRect();
    const x = it.x * t.k + t.x;
    const y = it.y * t.k + t.y;
    if (x < 0 || y < 0 || x > this.width || y > this.height) return null;
    return { x: r.left + x, y: r.top + y };
  }

  showTipFor(it: TreeItem): void {
    if (document.activeElement !== this.canvas) return;
    const t = this.transform();
    const r = this.canvas.getBoundingClientRect();
    const x = r.left + it.x * t.k + t.x;
    const y = r.top + it.y * t.k + t.y;
    if (it.kind === 'node') this.ctx.tooltip.show(it.id, x, y);
    else this.ctx.tooltip.showText(chipText(it), [chipDescription(it)], x, y);
  }

  export(format: 'svg' | 'png'): void {
    const layout = this.layout;
    if (!layout) return;
    const store = this.ctx.store;
    const name = fileStem(store.session?.title ?? 'session');
    const title = `${store.session?.title ?? 'session'} — search tree`;
    if (format === 'svg') {
      this.ctx.exportFile('tree', 'svg', treeSvg(layout, store, this.ctx.palette(), title), `${name}-tree.svg`);
      return;
    }
    const png = pngDataUrl(this.width, this.height, (g) => drawTree(g, layout, store, this.ctx.palette(), this.transform(), this.width, this.height, { selected: null, hover: null, background: this.ctx.palette().bg }));
    this.ctx.exportFile('tree', 'png', png, `${name}-tree.png`);
  }
}
