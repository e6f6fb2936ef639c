// The progress chart on screen: a canvas, hover, click, zoom and pan with the mouse and the keyboard.
import type { NodeStatus } from '../../src/shared/protocol.js';
import { drawChart, drawChartMarks } from './chartDraw.js';
import { computeChart, hitTest, positionOf } from './chartModel.js';
import type { ChartScene } from './chartModel.js';
import type { ViewContext } from './context.js';
import { button, el, pngDataUrl, sizeCanvas, toggle } from './dom.js';
import { fileStem } from './format.js';
import { panRange, zoomRange } from './scale.js';
import { chartSvg } from './svgExport.js';

const LEGEND: { status: NodeStatus; label: string; glyph: string }[] = [
  { status: 'keep', label: 'keep', glyph: '●' },
  { status: 'discard', label: 'discard', glyph: '•' },
  { status: 'crash', label: 'crash', glyph: '×' },
  { status: 'invalid', label: 'invalid', glyph: '◇' },
  { status: 'running', label: 'running', glyph: '○' },
];

export class ChartView {
  readonly element: HTMLElement;
  private readonly canvas: HTMLCanvasElement;
  /** Hover and selection rings live on their own canvas above the points. */
  private readonly marks: HTMLCanvasElement;
  private drawn: { scene: ChartScene; palette: unknown } | null = null;
  private readonly box: HTMLElement;
  private readonly note: HTMLElement;
  private readonly logButton: HTMLButtonElement;
  private readonly legendButtons = new Map<NodeStatus, HTMLButtonElement>();
  private scene: ChartScene | null = null;
  private width = 0;
  private height = 0;
  private hover: number | null = null;
  private drag: { x: number; y: number; moved: boolean; x0: [number, number] | null; y0: [number, number] | null } | null = null;
  private dirtyScene = true;

  constructor(private readonly ctx: ViewContext, private readonly requestRender: () => void) {
    this.canvas = el('canvas', {
      class: 'plot', tabindex: '0', role: 'img', id: 'chart-canvas',
      'aria-label': 'Progress chart. Left and Right arrows select an experiment, Enter opens its diff, plus and minus zoom, 0 resets.',
      'aria-describedby': 'chart-help',
    });
    this.marks = el('canvas', { class: 'marks', 'aria-hidden': 'true' });
    this.box = el('div', { class: 'canvas-box chart-box' }, this.canvas, this.marks);
    this.note = el('span', { class: 'note', 'aria-live': 'polite' });
    this.logButton = toggle('Log', 'Logarithmic metric axis', ctx.state.chart.log, (on) => {
      ctx.state.chart.log = on;
      ctx.state.chart.y = null;
      this.invalidate();
      ctx.saveState();
    });
    const legend = el('div', { class: 'legend', role: 'group', 'aria-label': 'Show or hide statuses' });
    for (const l of LEGEND) {
      const b = toggle('', `Show ${l.label} experiments (also filters the table)`, !ctx.hidden().has(l.status), (on) => {
        const hidden = new Set(ctx.state.table.hidden);
        if (on) hidden.delete(l.status);
        else hidden.add(l.status);
        ctx.state.table.hidden = [...hidden];
        ctx.filterChanged();
      }, `legend-item${l.status === 'running' ? ' session-only' : ''}`);
      b.append(el('span', { class: `glyph st-${l.status}`, 'aria-hidden': 'true', text: l.glyph }), el('span', { text: l.label }));
      this.legendButtons.set(l.status, b);
      legend.append(b);
    }
    legend.append(el('span', { class: 'legend-line best-line', 'aria-hidden': 'true' }), el('span', { class: 'legend-text', text: 'best so far' }));
    legend.append(el('span', { class: 'legend-line baseline-line', 'aria-hidden': 'true' }), el('span', { class: 'legend-text', text: 'baseline' }));
    const toolbar = el('div', { class: 'toolbar' },
      el('h2', { id: 'chart-title', text: 'Progress' }),
      el('span', { class: 'spacer' }),
      this.logButton,
      button('Reset zoom', 'Show every experiment (double-click or 0)', () => this.resetZoom()),
      button('SVG', 'Export the chart as SVG', () => this.export('svg'), 'export-chart-svg'),
      button('PNG', 'Export the chart as PNG', () => this.export('png'), 'export-chart-png'),
    );
    this.element = el('section', { class: 'panel chart-panel', 'aria-labelledby': 'chart-title' },
      toolbar,
      legend,
      this.box,
      el('p', { class: 'help', id: 'chart-help' }, this.note, 'Wheel zooms experiments, Shift+wheel zooms values, drag pans, double-click resets. Click a point to open its diff.'),
    );
    this.listen();
    new ResizeObserver(() => { this.measure(); this.requestRender(); }).observe(this.box);
  }

  get currentScene(): ChartScene | null {
    return this.scene;
  }

  invalidate(): void {
    this.dirtyScene = true;
    this.requestRender();
  }

  syncLegend(): void {
    const hidden = this.ctx.hidden();
    for (const [s, b] of this.legendButtons) b.setAttribute('aria-pressed', String(!hidden.has(s)));
  }

  private measure(): void {
    const r = this.box.getBoundingClientRect();
    if (Math.round(r.width) !== this.width || Math.round(r.height) !== this.height) {
      this.width = Math.round(r.width);
      this.height = Math.round(r.height);
      this.dirtyScene = true;
    }
  }

  render(): void {
    if (!this.width) this.measure();
    if (!this.width || !this.height) return;
    const { store, state } = this.ctx;
    if (this.dirtyScene || !this.scene) {
      this.scene = computeChart(store, state.chart, this.width, this.height, this.ctx.hidden());
      this.dirtyScene = false;
      const notes: string[] = [];
      if (this.scene.logRefused) notes.push('log scale needs positive values');
      if (this.scene.clipped) notes.push('outliers beyond the axis are marked ▲▼');
      this.note.textContent = notes.length ? `${notes.join(' · ')}. ` : '';
      this.logButton.setAttribute('aria-pressed', String(state.chart.log && !this.scene.logRefused));
    }
    const palette = this.ctx.palette();
    // The points are redrawn only when the scene or the theme changed; a hover or a selection is not that.
    if (this.drawn?.scene !== this.scene || this.drawn.palette !== palette) {
      drawChart(sizeCanvas(this.canvas, this.width, this.height), this.scene, store, palette, { selected: null, hover: null });
      this.drawn = { scene: this.scene, palette };
    }
    drawChartMarks(sizeCanvas(this.marks, this.width, this.height), this.scene, palette, { selected: this.ctx.selected(), hover: this.hover });
  }

  /** Keeps a selection made elsewhere in view when zoomed in. */
  reveal(id: number): void {
    const view = this.ctx.state.chart.x;
    if (!view || (id >= view[0] && id <= view[1])) return;
    const span = view[1] - view[0];
    const limits = this.scene?.xLimits ?? [-0.5, this.ctx.store.size - 0.5];
    this.ctx.state.chart.x = panRange(view, id - (view[0] + span / 2), limits);
    this.invalidate();
    this.ctx.saveState();
  }

  resetZoom(): void {
    this.ctx.state.chart.x = null;
    this.ctx.state.chart.y = null;
    this.invalidate();
    this.ctx.saveState();
  }

  private zoomX(factor: number, anchorPx: number | null): void {
    const s = this.scene;
    if (!s) return;
    const current = this.ctx.state.chart.x ?? s.xLimits;
    const anchor = anchorPx === null ? (current[0] + current[1]) / 2 : s.x.invert(anchorPx);
    this.ctx.state.chart.x = zoomRange(current, factor, anchor, s.xLimits, 4);
    this.invalidate();
    this.ctx.saveState();
  }

  private zoomY(factor: number, anchorPy: number): void {
    const s = this.scene;
    if (!s) return;
    const [a, b] = s.y.domain;
    const lo = Math.min(a, b);
    const hi = Math.max(a, b);
    const anchor = s.y.invert(anchorPy);
    if (s.y.log) {
      const la = Math.log10(lo), lb = Math.log10(hi), lc = Math.log10(anchor);
      this.ctx.state.chart.y = [10 ** (lc - (lc - la) * factor), 10 ** (lc + (lb - lc) * factor)];
    } else {
      this.ctx.state.chart.y = [anchor - (anchor - lo) * factor, anchor + (hi - anchor) * factor];
    }
    this.invalidate();
    this.ctx.saveState();
  }

  private localPoint(ev: MouseEvent): { x: number; y: number } {
    const r = this.canvas.getBoundingClientRect();
    return { x: ev.clientX - r.left, y: ev.clientY - r.top };
  }

  private listen(): void {
    const c = this.canvas;
    c.addEventListener('pointermove', (ev) => {
      const s = this.scene;
      if (!s) return;
      const p = this.localPoint(ev);
      if (this.drag) {
        const dx = p.x - this.drag.x;
        const dy = p.y - this.drag.y;
        if (Math.abs(dx) + Math.abs(dy) > 3) this.drag.moved = true;
        if (this.drag.moved) {
          const x0 = this.drag.x0 ?? s.xLimits;
          const perPx = (x0[1] - x0[0]) / (s.plot.right - s.plot.left);
          if (this.drag.x0) this.ctx.state.chart.x = panRange(x0, -dx * perPx, s.xLimits);
          if (this.drag.y0) {
            const [a, b] = this.drag.y0;
            const per = (b - a) / (s.plot.bottom - s.plot.top);
            if (!s.y.log) this.ctx.state.chart.y = [a + dy * per, b + dy * per];
          }
          this.invalidate();
          this.ctx.tooltip.hide();
          return;
        }
      }
      const id = hitTest(s, p.x, p.y);
      c.classList.toggle('pointing', id !== null);
      if (id !== this.hover) {
        this.hover = id;
        this.requestRender();
      }
      if (id === null) this.ctx.tooltip.hide();
      else this.ctx.tooltip.show(id, ev.clientX, ev.clientY);
    });
    c.addEventListener('pointerleave', () => {
      this.hover = null;
      this.ctx.tooltip.hide();
      this.requestRender();
    });
    c.addEventListener('pointerdown', (ev) => {
      if (ev.button !== 0) return;
      const p = this.localPoint(ev);
      this.drag = { x: p.x, y: p.y, moved: false, x0: this.ctx.state.chart.x, y0: this.ctx.state.chart.y };
      c.setPointerCapture(ev.pointerId);
    });
    c.addEventListener('pointerup', (ev) => {
      const d = this.drag;
      this.drag = null;
      if (!d) return;
      if (d.moved) { this.ctx.saveState(); return; }
      const s = this.scene;
      if (!s) return;
      const p = this.localPoint(ev);
      const id = hitTest(s, p.x, p.y);
      if (id !== null) {
        this.ctx.select(id, 'chart');
        this.ctx.openDiff(id);
      }
    });
    c.addEventListener('dblclick', () => this.resetZoom());
    c.addEventListener('wheel', (ev) => {
      ev.preventDefault();
      const p = this.localPoint(ev);
      const factor = Math.exp(Math.max(-1, Math.min(1, ev.deltaY / 300)));
      if (ev.shiftKey) this.zoomY(factor, p.y);
      else this.zoomX(factor, p.x);
    }, { passive: false });
    c.addEventListener('keydown', (ev) => this.key(ev));
  }

  private key(ev: KeyboardEvent): void {
    const store = this.ctx.store;
    const hidden = this.ctx.hidden();
    const sel = this.ctx.selected();
    const step = (from: number, dir: 1 | -1, far = false): number | null => {
      let i = from;
      let found: number | null = null;
      for (;;) {
        i += dir;
        if (i < 0 || i >= store.size) return found;
        const n = store.nodes[i];
        if (n && !hidden.has(n.status)) {
          found = i;
          if (!far) return found;
        }
      }
    };
    let next: number | null | undefined;
    switch (ev.key) {
      case 'ArrowRight': next = sel === null ? step(-1, 1) : step(sel, 1); break;
      case 'ArrowLeft': next = sel === null ? step(store.size, -1) : step(sel, -1); break;
      case 'Home': next = step(-1, 1); break;
      case 'End': next = step(store.size, -1); break;
      case 'Enter': if (sel !== null) this.ctx.openDiff(sel); break;
      case '+': case '=': this.zoomX(0.6, this.anchorPx()); break;
      case '-': case '_': this.zoomX(1 / 0.6, this.anchorPx()); break;
      case '0': this.resetZoom(); break;
      case 'Escape': this.ctx.tooltip.hide(); return;
      default: return;
    }
    ev.preventDefault();
    if (next !== undefined && next !== null) {
      this.ctx.select(next, 'chart');
      this.reveal(next);
      this.showTipFor(next);
    }
  }

  private anchorPx(): number | null {
    const sel = this.ctx.selected();
    const s = this.scene;
    return sel !== null && s ? s.x(sel) : null;
  }

  /** Where an experiment is drawn, in client pixels (for tests), or null when it is not on screen. */
  pointOnScreen(id: number): { x: number; y: number } | null {
    const pos = this.scene ? positionOf(this.scene, id) : null;
    if (!pos) return null;
    const r = this.canvas.getBoundingClientRect();
    return { x: r.left + pos.x, y: r.top + pos.y };
  }

  /** Keyboard users get the hover card too, next to the selected point. */
  showTipFor(id: number): void {
    const s = this.scene;
    if (!s || document.activeElement !== this.canvas) return;
    const pos = positionOf(s, id);
    if (!pos) { this.ctx.tooltip.hide(); return; }
    const r = this.canvas.getBoundingClientRect();
    this.ctx.tooltip.show(id, r.left + pos.x, r.top + pos.y);
  }

  export(format: 'svg' | 'png'): void {
    const s = this.scene;
    if (!s) return;
    const store = this.ctx.store;
    const title = `${store.session?.title ?? 'results'} — ${store.session?.metricName ?? 'metric'} per experiment`;
    const base = `${fileStem(store.session?.title ?? 'results')}-progress`;
    if (format === 'svg') {
      this.ctx.exportFile('chart', 'svg', chartSvg(s, store, this.ctx.palette(), title), `${base}.svg`);
      return;
    }
    const png = pngDataUrl(s.width, s.height, (g) => drawChart(g, s, store, this.ctx.palette(), { selected: null, hover: null, background: this.ctx.palette().bg }));
    this.ctx.exportFile('chart', 'png', png, `${base}.png`);
  }
}
