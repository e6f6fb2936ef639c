// The learning-curve panel on screen: a canvas with the running experiment's curve over its parent's and the best's,
// a legend, and the same reading in words under it (the canvas's accessible name). Hidden while no run has a curve.
import type { ViewContext } from './context.js';
import { computeCurves, describeCurves, lineName, pickCurves } from './curveModel.js';
import type { CurvePick, CurveRole, CurveScene } from './curveModel.js';
import { el, sizeCanvas } from './dom.js';
import type { Palette } from './palette.js';

export class CurveView {
  readonly element: HTMLElement;
  private readonly canvas: HTMLCanvasElement;
  private readonly box: HTMLElement;
  private readonly legend: HTMLElement;
  private readonly reading: HTMLElement;
  private width = 0;
  private height = 0;
  private pick: CurvePick | null = null;
  private legendKey = '';

  constructor(private readonly ctx: ViewContext, private readonly requestRender: () => void) {
    this.canvas = el('canvas', { class: 'curve-plot', id: 'curve-canvas', role: 'img', 'aria-describedby': 'curve-reading' });
    this.box = el('div', { class: 'canvas-box curve-box' }, this.canvas);
    this.legend = el('div', { class: 'legend curve-legend', id: 'curve-legend' });
    this.reading = el('p', { class: 'curve-reading', id: 'curve-reading' });
    this.element = el('section', { class: 'panel curves-panel', 'aria-labelledby': 'curve-title' },
      el('div', { class: 'toolbar' }, el('h2', { id: 'curve-title', text: 'Learning curve' }), this.legend),
      this.box,
      this.reading,
    );
    this.element.hidden = true;
    new ResizeObserver(() => { if (this.measure()) this.requestRender(); }).observe(this.box);
  }

  /** What the panel shows now (tests and the e2e hooks). */
  get current(): CurvePick | null {
    return this.pick;
  }

  private measure(): boolean {
    const r = this.box.getBoundingClientRect();
    const w = Math.round(r.width);
    const h = Math.round(r.height);
    if (w === this.width && h === this.height) return false;
    this.width = w;
    this.height = h;
    return true;
  }

  render(): void {
    const { store, progress } = this.ctx;
    const pick = pickCurves(store, progress, this.ctx.selected());
    this.pick = pick;
    this.element.hidden = !pick;
    if (!pick) return;
    this.measure();
    const text = describeCurves(pick, store);
    if (this.reading.textContent !== text) this.reading.textContent = text;
    this.canvas.setAttribute('aria-label', `Learning curve: ${text}`);
    this.syncLegend(pick);
    if (!this.width || !this.height) return;
    const scene = computeCurves(pick, store, this.width, this.height);
    drawCurves(sizeCanvas(this.canvas, this.width, this.height), scene, this.ctx.palette());
  }

  private syncLegend(pick: CurvePick): void {
    const key = pick.lines.map((l) => lineName(pick, l)).join('|');
    if (key === this.legendKey) return;
    this.legendKey = key;
    this.legend.replaceChildren(...pick.lines.map((l) => el('span', { class: `curve-key curve-${l.role}` },
      el('span', { class: 'legend-line', 'aria-hidden': 'true' }), el('span', { class: 'legend-text', text: lineName(pick, l) }))));
  }
}

/** Solid for the leading run, dashed for its parent, dotted for the best: told apart without colour too. */
const STYLE: Record<CurveRole, { color: (p: Palette) => string; dash: number[]; width: number }> = {
  run: { color: (p) => p.running, dash: [], width: 2.2 },
  parent: { color: (p) => p.fg, dash: [6, 4], width: 1.5 },
  best: { color: (p) => p.best, dash: [2, 3], width: 1.8 },
};

export function drawCurves(g: CanvasRenderingContext2D, s: CurveScene, p: Palette): void {
  const { plot } = s;
  g.save();
  g.clearRect(0, 0, s.width, s.height);
  g.font = `${p.fontSize - 2}px ${p.font}`;

  // Grid and ticks.
  g.strokeStyle = p.fg;
  g.globalAlpha = 0.1;
  g.lineWidth = 1;
  g.beginPath();
  for (const t of s.yTicks) { const y = Math.round(t.px) + 0.5; g.moveTo(plot.left, y); g.lineTo(plot.right, y); }
  for (const t of s.xTicks) { const x = Math.round(t.px) + 0.5; g.moveTo(x, plot.top); g.lineTo(x, plot.bottom); }
  g.stroke();
  g.globalAlpha = 1;
  g.fillStyle = p.muted;
  g.textAlign = 'right';
  g.textBaseline = 'middle';
  for (const t of s.yTicks) g.fillText(t.label, plot.left - 6, t.px);
  g.textAlign = 'center';
  g.textBaseline = 'top';
  for (const t of s.xTicks) g.fillText(t.label, t.px, plot.bottom + 4);
  g.strokeStyle = p.muted;
  g.beginPath();
  g.moveTo(plot.left + 0.5, plot.top);
  g.lineTo(plot.left + 0.5, plot.bottom + 0.5);
  g.lineTo(plot.right, plot.bottom + 0.5);
  g.stroke();
  g.fillStyle = p.fg;
  g.fillText(s.xLabel, (plot.left + plot.right) / 2, plot.bottom + 18);
  g.save();
  g.translate(11, (plot.top + plot.bottom) / 2);
  g.rotate(-Math.PI / 2);
  g.textBaseline = 'middle';
  g.fillText(s.yLabel, 0, 0);
  g.restore();

  // The curves, inside the plot: a start far worse than the rest leaves through the edge.
  g.save();
  g.beginPath();
  g.rect(plot.left, plot.top - 1, plot.right - plot.left, plot.bottom - plot.top + 2);
  g.clip();
  if (s.nowX !== null) {
    // Where the running experiment's clock is now.
    g.strokeStyle = p.running;
    g.globalAlpha = 0.45;
    g.setLineDash([2, 3]);
    g.beginPath();
    g.moveTo(Math.round(s.nowX) + 0.5, plot.top);
    g.lineTo(Math.round(s.nowX) + 0.5, plot.bottom);
    g.stroke();
    g.setLineDash([]);
    g.globalAlpha = 1;
  }
  g.lineJoin = 'round';
  g.lineCap = 'round';
  for (const path of s.paths) {
    const st = STYLE[path.role];
    g.strokeStyle = st.color(p);
    g.fillStyle = st.color(p);
    g.lineWidth = st.width;
    g.setLineDash(st.dash);
    for (const seg of path.segments) {
      g.beginPath();
      g.moveTo(seg[0]!, seg[1]!);
      if (seg.length === 2) {
        // A lone point is a dot, not an invisible zero-length line.
        g.arc(seg[0]!, seg[1]!, st.width + 0.5, 0, Math.PI * 2);
        g.fill();
        continue;
      }
      for (let i = 2; i < seg.length; i += 2) g.lineTo(seg[i]!, seg[i + 1]!);
      g.stroke();
    }
    g.setLineDash([]);
    if (path.role === 'run' && path.last) {
      g.beginPath();
      g.arc(path.last.x, path.last.y, 3.5, 0, Math.PI * 2);
      g.fill();
    }
  }
  g.restore();
  g.restore();
}
