// Paints a chart scene on a 2D canvas: the screen and the PNG export share it.
import type { ChartScene } from './chartModel.js';
import { Glyph } from './chartModel.js';
import { DASH, fmtNum } from '../../src/shared/format.js';
import type { Palette } from './palette.js';
import type { ResultsStore } from './store.js';

const STATUS_OF = ['keep', 'discard', 'crash', 'invalid', 'running', 'pending'] as const;

export interface ChartMarks {
  selected: number | null;
  hover: number | null;
  /** Fills the background (exports); the screen leaves the page's own. */
  background?: string;
}

function glyphPath(ctx: CanvasRenderingContext2D, g: number, x: number, y: number): void {
  switch (g) {
    case Glyph.Keep: ctx.moveTo(x + 4, y); ctx.arc(x, y, 4, 0, Math.PI * 2); break;
    case Glyph.Discard: ctx.moveTo(x + 2.5, y); ctx.arc(x, y, 2.5, 0, Math.PI * 2); break;
    case Glyph.Crash: ctx.moveTo(x - 3.5, y - 3.5); ctx.lineTo(x + 3.5, y + 3.5); ctx.moveTo(x - 3.5, y + 3.5); ctx.lineTo(x + 3.5, y - 3.5); break;
    case Glyph.Invalid: ctx.moveTo(x, y - 4); ctx.lineTo(x + 4, y); ctx.lineTo(x, y + 4); ctx.lineTo(x - 4, y); ctx.closePath(); break;
    default: ctx.moveTo(x + 3.5, y); ctx.arc(x, y, 3.5, 0, Math.PI * 2); break;
  }
}

const FILLED = new Set<number>([Glyph.Keep, Glyph.Discard]);

export function drawChart(ctx: CanvasRenderingContext2D, scene: ChartScene, store: ResultsStore, p: Palette, marks: ChartMarks): void {
  const { plot, band, width, height } = scene;
  ctx.save();
  ctx.clearRect(0, 0, width, height);
  if (marks.background) {
    ctx.fillStyle = marks.background;
    ctx.fillRect(0, 0, width, height);
  }
  ctx.font = `${p.fontSize - 2}px ${p.font}`;
  ctx.textBaseline = 'middle';

  // Grid and y ticks.
  ctx.strokeStyle = p.fg;
  ctx.globalAlpha = 0.1;
  ctx.lineWidth = 1;
  ctx.beginPath();
  for (const t of scene.yTicks) { const y = Math.round(t.px) + 0.5; ctx.moveTo(plot.left, y); ctx.lineTo(plot.right, y); }
  ctx.stroke();
  ctx.globalAlpha = 1;
  ctx.fillStyle = p.muted;
  ctx.textAlign = 'right';
  for (const t of scene.yTicks) ctx.fillText(t.label, plot.left - 6, t.px);
  ctx.textAlign = 'center';
  ctx.textBaseline = 'top';
  for (const t of scene.xTicks) ctx.fillText(t.label, t.px, band.bottom + 5);

  // The band for experiments without a value.
  ctx.fillStyle = p.fg;
  ctx.globalAlpha = 0.06;
  ctx.fillRect(plot.left, band.top, plot.right - plot.left, band.bottom - band.top);
  ctx.globalAlpha = 1;
  ctx.fillStyle = p.muted;
  ctx.textAlign = 'right';
  ctx.textBaseline = 'middle';
  ctx.fillText('no value', plot.left - 6, band.mid);

  // Axes and their labels.
  ctx.strokeStyle = p.muted;
  ctx.beginPath();
  ctx.moveTo(plot.left + 0.5, plot.top);
  ctx.lineTo(plot.left + 0.5, plot.bottom + 0.5);
  ctx.lineTo(plot.right, plot.bottom + 0.5);
  ctx.stroke();
  ctx.fillStyle = p.fg;
  ctx.textAlign = 'center';
  ctx.textBaseline = 'top';
  ctx.fillText(scene.xLabel, (plot.left + plot.right) / 2, band.bottom + 21);
  ctx.save();
  ctx.translate(12, (plot.top + plot.bottom) / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.textBaseline = 'middle';
  ctx.fillText(scene.yLabel, 0, 0);
  ctx.restore();

  // Lines inside the plot.
  ctx.save();
  ctx.beginPath();
  ctx.rect(plot.left, plot.top - 6, plot.right - plot.left, plot.bottom - plot.top + 12);
  ctx.clip();
  if (scene.noiseBand) {
    // Changes inside this band are not told apart from run-to-run noise.
    ctx.fillStyle = p.baseline;
    ctx.globalAlpha = p.highContrast ? 0.25 : 0.12;
    ctx.fillRect(plot.left, scene.noiseBand.top, plot.right - plot.left, scene.noiseBand.bottom - scene.noiseBand.top);
    ctx.globalAlpha = 1;
  }
  if (scene.baselineY !== null) {
    ctx.strokeStyle = p.baseline;
    ctx.setLineDash([6, 4]);
    ctx.lineWidth = 1.2;
    ctx.beginPath();
    ctx.moveTo(plot.left, scene.baselineY);
    ctx.lineTo(plot.right, scene.baselineY);
    ctx.stroke();
    ctx.setLineDash([]);
  }
  ctx.restore();

  // Points: one path per glyph, discards underneath.
  for (const g of [Glyph.Discard, Glyph.Keep, Glyph.Crash, Glyph.Invalid, Glyph.Running, Glyph.Pending]) {
    // The best-so-far line goes over the discards and under the kept points it connects.
    if (g === Glyph.Keep) drawBestLine(ctx, scene, p);
    ctx.beginPath();
    let any = false;
    for (let i = 0; i < scene.count; i++) {
      if (scene.glyph[i] !== g) continue;
      glyphPath(ctx, g, scene.px[i]!, scene.py[i]!);
      any = true;
    }
    if (!any) continue;
    const color = p[STATUS_OF[g]!];
    if (FILLED.has(g)) {
      ctx.fillStyle = color;
      // High-contrast themes get solid discards; elsewhere they recede a little behind the kept points.
      ctx.globalAlpha = g === Glyph.Discard && !p.highContrast ? 0.75 : 1;
      ctx.fill();
      ctx.globalAlpha = 1;
    } else {
      ctx.strokeStyle = color;
      ctx.lineWidth = 1.6;
      ctx.stroke();
    }
  }
  // The best experiment wears a ring in the best colour, as in the tree.
  const bestId = store.bestId;
  const bi = bestId === null ? -1 : indexOf(scene, bestId);
  if (bi >= 0 && !scene.off[bi]) {
    ctx.strokeStyle = p.best;
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.arc(scene.px[bi]!, scene.py[bi]!, 7, 0, Math.PI * 2);
    ctx.stroke();
  }

  if (scene.baselineY !== null) {
    // The label sits on a patch of background so points under it do not garble it.
    const text = `baseline ${fmtNum(store.baseline?.metric, DASH)}${scene.noiseBand ? ` ± ${fmtNum(scene.noiseBand.threshold, DASH)} noise` : ''}`;
    ctx.textAlign = 'right';
    ctx.textBaseline = 'bottom';
    const w = ctx.measureText(text).width;
    ctx.fillStyle = p.bg;
    ctx.globalAlpha = 0.85;
    ctx.fillRect(plot.right - 6 - w, scene.baselineY - 3 - p.fontSize, w + 4, p.fontSize);
    ctx.globalAlpha = 1;
    ctx.fillStyle = p.baseline;
    ctx.fillText(text, plot.right - 4, scene.baselineY - 3);
  }

  // Values beyond the visible range: a small arrow at the edge.
  ctx.fillStyle = p.muted;
  ctx.beginPath();
  for (let i = 0; i < scene.count; i++) {
    const o = scene.off[i];
    if (!o) continue;
    const x = scene.px[i]!;
    const y = o === 1 ? plot.top - 2 : plot.bottom + 2;
    const d = o === 1 ? -4 : 4;
    ctx.moveTo(x - 3, y);
    ctx.lineTo(x + 3, y);
    ctx.lineTo(x, y + d);
    ctx.closePath();
  }
  ctx.fill();

  ctx.restore();
  if (marks.selected !== null || marks.hover !== null) drawChartMarks(ctx, scene, p, marks, false);
}

/** The hover and selection rings; on screen they go on a canvas of their own, so moving them redraws nothing else. */
export function drawChartMarks(ctx: CanvasRenderingContext2D, scene: ChartScene, p: Palette, marks: ChartMarks, clear = true): void {
  const { plot, band } = scene;
  ctx.save();
  if (clear) ctx.clearRect(0, 0, scene.width, scene.height);
  for (const [id, ring] of [[marks.hover, 7], [marks.selected, 8]] as const) {
    if (id === null) continue;
    const i = indexOf(scene, id);
    if (i < 0) continue;
    const x = scene.px[i]!;
    const y = scene.py[i]!;
    if (id === marks.selected) {
      ctx.strokeStyle = p.focus;
      ctx.globalAlpha = 0.5;
      ctx.setLineDash([2, 3]);
      ctx.beginPath();
      ctx.moveTo(Math.round(x) + 0.5, plot.top);
      ctx.lineTo(Math.round(x) + 0.5, band.bottom);
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.globalAlpha = 1;
    }
    ctx.strokeStyle = id === marks.selected ? p.focus : p.fg;
    ctx.lineWidth = id === marks.selected ? 2 : 1.5;
    ctx.beginPath();
    ctx.arc(x, y, ring, 0, Math.PI * 2);
    ctx.stroke();
  }
  ctx.restore();
}

function drawBestLine(ctx: CanvasRenderingContext2D, scene: ChartScene, p: Palette): void {
  if (scene.best.length < 4) return;
  const { plot } = scene;
  ctx.save();
  ctx.beginPath();
  ctx.rect(plot.left, plot.top - 6, plot.right - plot.left, plot.bottom - plot.top + 12);
  ctx.clip();
  ctx.strokeStyle = p.best;
  ctx.lineWidth = 2;
  ctx.lineJoin = 'round';
  ctx.beginPath();
  ctx.moveTo(scene.best[0]!, scene.best[1]!);
  for (let i = 2; i < scene.best.length; i += 2) ctx.lineTo(scene.best[i]!, scene.best[i + 1]!);
  ctx.stroke();
  ctx.restore();
}

function indexOf(scene: ChartScene, id: number): number {
  let lo = 0;
  let hi = scene.count - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const v = scene.ids[mid]!;
    if (v === id) return mid;
    if (v < id) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}
