// The progress chart as numbers: scales, where each experiment is drawn, the best-so-far step line and
// the baseline. The canvas and the SVG export both draw this scene; nothing here touches the DOM.
import type { NodeStatus } from '../../src/shared/protocol.js';
import { directionText, fmtTicks } from '../../src/shared/format.js';
import { autoYDomain, linearScale, logScale } from './scale.js';
import type { Scale } from './scale.js';
import type { ResultsStore } from './store.js';

export interface ChartView {
  /** Visible experiments, or null for all of them. */
  x: [number, number] | null;
  /** Visible metric range, or null to fit the visible experiments. */
  y: [number, number] | null;
  log: boolean;
}

export const MARGIN = { left: 64, right: 14, top: 10, bottom: 60 };
/** The strip under the plot where experiments without a value sit: crashes on its upper row, the rest below. */
export const BAND = { gap: 6, height: 22 };

/** How an experiment is drawn. */
export const Glyph = { Keep: 0, Discard: 1, Crash: 2, Invalid: 3, Running: 4, Pending: 5 } as const;
export type Glyph = (typeof Glyph)[keyof typeof Glyph];

export const GLYPH_OF: Record<NodeStatus, Glyph> = {
  keep: Glyph.Keep, discard: Glyph.Discard, crash: Glyph.Crash, invalid: Glyph.Invalid, running: Glyph.Running, pending: Glyph.Pending,
};

export interface Tick {
  v: number;
  px: number;
  label: string;
}

export interface ChartScene {
  width: number;
  height: number;
  plot: { left: number; top: number; right: number; bottom: number };
  band: { top: number; bottom: number; mid: number; crashY: number; otherY: number };
  x: Scale;
  y: Scale;
  /** The widest x range: every experiment, for zoom limits. */
  xLimits: [number, number];
  xTicks: Tick[];
  yTicks: Tick[];
  /** Drawn experiments in x order: id, position, glyph, and whether the value is off the plot (1 above, 2 below). */
  ids: Int32Array;
  px: Float32Array;
  py: Float32Array;
  glyph: Uint8Array;
  off: Uint8Array;
  count: number;
  /** The best-so-far line as a polyline in pixels. */
  best: number[];
  baselineY: number | null;
  /**
   * The noise band of a session with `noise` configured: baseline ± the keep threshold (max(minDelta, z × spread)),
   * in pixels, clamped to the plot; a change inside it is not told apart from noise. Null when there is none.
   */
  noiseBand: { top: number; bottom: number; threshold: number } | null;
  clipped: boolean;
  /** The log scale was asked for but some value is ≤ 0. */
  logRefused: boolean;
  yLabel: string;
  xLabel: string;
}

export function xLimits(store: ResultsStore): [number, number] {
  const last = Math.max(0, store.size - 1);
  return [-0.5, Math.max(last, 9) + 0.5];
}

export function plottable(status: NodeStatus, metric: number | null): boolean {
  return metric !== null && (status === 'keep' || status === 'discard');
}

/** `hidden`: statuses the user filtered out (the legend and the table share the filter). */
export function computeChart(store: ResultsStore, view: ChartView, width: number, height: number, hidden: ReadonlySet<NodeStatus> = new Set()): ChartScene {
  const plot = { left: MARGIN.left, top: MARGIN.top, right: Math.max(MARGIN.left + 10, width - MARGIN.right), bottom: Math.max(MARGIN.top + 10, height - MARGIN.bottom) };
  const bandTop = plot.bottom + BAND.gap;
  const band = { top: bandTop, bottom: bandTop + BAND.height, mid: bandTop + BAND.height / 2, crashY: bandTop + 6, otherY: bandTop + BAND.height - 6 };
  const limits = xLimits(store);
  const [x0, x1] = view.x ?? limits;
  const x = linearScale([x0, x1], [plot.left, plot.right]);
  const first = Math.max(0, Math.ceil(x0));
  const last = Math.min(store.size - 1, Math.floor(x1));

  // The y range: the user's, or one that fits what is visible.
  const visible: number[] = [];
  const must: number[] = [];
  for (let i = first; i <= last; i++) {
    const n = store.nodes[i];
    if (!n || hidden.has(n.status) || !plottable(n.status, n.metric)) continue;
    visible.push(n.metric!);
    if (n.status === 'keep') must.push(n.metric!);
  }
  const base = store.baseline;
  if (base && base.metric !== null && base.status !== 'crash') must.push(base.metric);
  const noise = store.session?.noise;
  const threshold = noise && base && base.metric !== null && base.status !== 'crash' && noise.threshold > 0 ? noise.threshold : null;
  let log = view.log;
  let logRefused = false;
  if (log && [...visible, ...must].some((v) => v <= 0)) { log = false; logRefused = true; }
  let yDomain: [number, number];
  let clipped = false;
  if (view.y && (!log || (view.y[0] > 0 && view.y[1] > 0))) {
    yDomain = view.y;
  } else {
    const auto = autoYDomain(visible, store.direction, must, log);
    yDomain = auto.domain;
    clipped = auto.clipped;
  }
  // Larger is up on the screen, whichever the direction; the label says which way is better.
  const y = log ? logScale(yDomain, [plot.bottom, plot.top]) : linearScale(yDomain, [plot.bottom, plot.top]);
  const [ylo, yhi] = [Math.min(...yDomain), Math.max(...yDomain)];

  const cap = Math.max(0, last - first + 1);
  const ids = new Int32Array(cap);
  const px = new Float32Array(cap);
  const py = new Float32Array(cap);
  const glyph = new Uint8Array(cap);
  const off = new Uint8Array(cap);
  let count = 0;
  for (let i = first; i <= last; i++) {
    const n = store.nodes[i];
    if (!n || hidden.has(n.status)) continue;
    ids[count] = i;
    px[count] = x(i);
    glyph[count] = GLYPH_OF[n.status];
    if (plottable(n.status, n.metric)) {
      const v = n.metric!;
      if (v > yhi) { py[count] = plot.top; off[count] = 1; }
      else if (v < ylo) { py[count] = plot.bottom; off[count] = 2; }
      else py[count] = y(v);
    } else {
      py[count] = n.status === 'crash' ? band.crashY : band.otherY;
    }
    count++;
  }

  const xTicks = x.ticks(Math.max(2, Math.floor((plot.right - plot.left) / 80)))
    .filter((v) => Number.isInteger(v) && v >= 0)
    .map((v) => ({ v, px: x(v), label: String(v) }));
  const yValues = y.ticks(Math.max(2, Math.floor((plot.bottom - plot.top) / 40)));
  const yLabels = fmtTicks(yValues);
  const yTicks = yValues.map((v, i) => ({ v, px: y(v), label: yLabels[i]! }));

  return {
    width, height, plot, band, x, y, xLimits: limits, xTicks, yTicks,
    ids: ids.subarray(0, count), px: px.subarray(0, count), py: py.subarray(0, count), glyph: glyph.subarray(0, count), off: off.subarray(0, count), count,
    best: bestLine(store, x, y, [x0, x1], [ylo, yhi], plot),
    baselineY: base && base.metric !== null && base.status !== 'crash' && base.metric >= ylo && base.metric <= yhi ? y(base.metric) : null,
    noiseBand: threshold === null ? null : noiseBand(base!.metric!, threshold, y, [ylo, yhi], plot),
    clipped,
    logRefused,
    yLabel: `${store.session?.metricName ?? 'metric'} (${directionText(store.direction)})`,
    xLabel: 'experiment #',
  };
}

/** baseline ± threshold in pixels, clamped to the plot; null when it lies wholly outside the visible values. */
function noiseBand(baseline: number, threshold: number, y: Scale, [ylo, yhi]: [number, number], plot: { top: number; bottom: number }): ChartScene['noiseBand'] {
  const lo = Math.max(ylo, baseline - threshold);
  const hi = Math.min(yhi, baseline + threshold);
  if (lo >= hi || (lo <= 0 && y.log)) return null;
  return { top: Math.max(plot.top, y(hi)), bottom: Math.min(plot.bottom, y(lo)), threshold };
}

/**
 * Polyline [x0, y0, x1, y1, …] of the best-so-far: flat from each new best to the next, then a vertical
 * step to it; it runs to the last experiment. Values beyond the visible y range are clamped to its edge.
 */
export function bestLine(store: ResultsStore, x: Scale, y: Scale, xr: [number, number], yr: [number, number], plot: { top: number; bottom: number }): number[] {
  const steps = store.steps;
  if (steps.length === 0) return [];
  const end = Math.min(xr[1], store.size - 1);
  const yy = (v: number) => (v > yr[1] ? plot.top : v < yr[0] ? plot.bottom : y(v));
  const out: number[] = [];
  for (let i = 0; i < steps.length; i++) {
    const s = steps[i]!;
    const nextX = i + 1 < steps.length ? steps[i + 1]!.x : end;
    if (nextX < xr[0] && i + 1 < steps.length) continue;
    if (s.x > xr[1]) break;
    const from = Math.max(s.x, xr[0]);
    out.push(x(from), yy(s.value));
    out.push(x(Math.max(from, Math.min(nextX, xr[1]))), yy(s.value));
  }
  return out;
}

/** The drawn experiment nearest to (mx, my) within `radius` pixels, or null. */
export function hitTest(scene: ChartScene, mx: number, my: number, radius = 8): number | null {
  const { px, py, count } = scene;
  let lo = 0;
  let hi = count;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (px[mid]! < mx - radius) lo = mid + 1;
    else hi = mid;
  }
  let best: number | null = null;
  let bestD = radius * radius;
  for (let i = lo; i < count && px[i]! <= mx + radius; i++) {
    const dx = px[i]! - mx;
    const dy = py[i]! - my;
    const d = dx * dx + dy * dy;
    if (d <= bestD) { bestD = d; best = scene.ids[i]!; }
  }
  return best;
}

/** Screen position of an experiment in the scene, or null when it is not drawn (filtered out or off the x range). */
export function positionOf(scene: ChartScene, id: number): { x: number; y: number } | null {
  const { ids, count } = scene;
  let lo = 0;
  let hi = count - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const v = ids[mid]!;
    if (v === id) return { x: scene.px[mid]!, y: scene.py[mid]! };
    if (v < id) lo = mid + 1;
    else hi = mid - 1;
  }
  return null;
}
