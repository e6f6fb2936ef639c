// The learning-curve panel as numbers: which curves it shows (the running experiment over its parent's and the
// best's; with nothing running, the selected experiment against its parent), where they lie by elapsed fraction of
// the budget, and the sentence that says the same in words. Nothing here touches the DOM.
import { appendLivePoint } from '../../src/shared/protocol.js';
import type { CurvePointDto, HostMessage } from '../../src/shared/protocol.js';
import type { Tick } from './chartModel.js';
import type { Progress } from './describe.js';
import { DASH, directionText, fmtNum, fmtShare, fmtTicks } from '../../src/shared/format.js';
import { autoYDomain, linearScale } from './scale.js';
import type { Scale } from './scale.js';
import type { ResultsStore } from './store.js';

type ProgressMessage = Extract<HostMessage, { type: 'progress' }>;

/** A progress message applied to what the webview had of that run: the clock and line replaced, the point added. */
export function nextProgress(prev: Progress | undefined, m: ProgressMessage): Progress {
  const points = prev?.points ?? [];
  if (m.point) appendLivePoint(points, m.point);
  return { elapsedMs: m.elapsedMs, budgetMs: m.budgetMs, line: m.line, points };
}

/** A node's curve: the snapshot's, continued by the points that arrived since. */
export function curveOf(store: ResultsStore, progress: ReadonlyMap<number, Progress>, id: number): readonly CurvePointDto[] {
  const base = store.nodes[id]?.curve ?? [];
  const live = progress.get(id)?.points;
  if (!live?.length) return base;
  const from = live[0]![0];
  return [...base.filter((p) => p[0] < from), ...live];
}

/** The value at `fraction`: linear between the points around it (as the engine reads a parent's curve); null before the first point, or where the run had no finite value. */
export function curveValueAt(points: readonly CurvePointDto[], fraction: number): number | null {
  if (points.length === 0 || fraction < points[0]![0]) return null;
  for (let i = points.length - 1; i >= 0; i--) {
    const [f, v] = points[i]!;
    if (f > fraction) continue;
    const next = points[i + 1];
    if (v === null || !next || next[0] === f || next[1] === null) return v;
    return v + ((next[1] - v) * (fraction - f)) / (next[0] - f);
  }
  return null;
}

export type CurveRole = 'run' | 'parent' | 'best';

export interface CurveLine {
  role: CurveRole;
  id: number;
  points: readonly CurvePointDto[];
}

export interface CurvePick {
  /** The experiment whose curve leads: a running one, else the selected one, else the best. */
  subject: number;
  running: boolean;
  /** It was picked by the selection (not for running, nor as the best). */
  selected: boolean;
  /** The subject first (even with no point yet), then its parent and the best where they have a curve. */
  lines: CurveLine[];
  parentId: number | null;
  /** Elapsed fraction of a running subject's budget, from its clock. */
  now: number | null;
}

/**
 * What the panel shows, or null (the panel hides) when no experiment has a curve. A running experiment leads: the
 * selected one when it runs, else the newest running one that printed a value, else the newest running one.
 */
export function pickCurves(store: ResultsStore, progress: ReadonlyMap<number, Progress>, selected: number | null): CurvePick | null {
  if (!store.session || store.isFile) return null;
  let any = false;
  let lastWithCurve: number | null = null;
  const running: number[] = [];
  for (const id of store.ids()) {
    const n = store.nodes[id]!;
    const has = !!n.curve?.length || !!progress.get(id)?.points?.length;
    if (has) { any = true; lastWithCurve = id; }
    if (n.status === 'running') running.push(id);
  }
  if (!any) return null;
  const hasPoints = (id: number) => curveOf(store, progress, id).length > 0;
  let subject: number;
  let isSelected = false;
  if (selected !== null && store.nodes[selected]?.status === 'running') { subject = selected; isSelected = true; }
  else if (running.length) subject = [...running].reverse().find(hasPoints) ?? running[running.length - 1]!;
  else if (selected !== null && store.nodes[selected]) { subject = selected; isSelected = true; }
  else {
    const best = store.bestId;
    subject = best !== null && hasPoints(best) ? best : lastWithCurve!;
  }
  const node = store.nodes[subject]!;
  const isRunning = node.status === 'running';
  const lines: CurveLine[] = [{ role: 'run', id: subject, points: curveOf(store, progress, subject) }];
  const parentId = node.parentId;
  if (parentId !== null && hasPoints(parentId)) lines.push({ role: 'parent', id: parentId, points: curveOf(store, progress, parentId) });
  const best = store.bestId;
  if (best !== null && best !== subject && best !== parentId && hasPoints(best)) lines.push({ role: 'best', id: best, points: curveOf(store, progress, best) });
  const p = progress.get(subject);
  const now = isRunning && p && p.budgetMs > 0 ? p.elapsedMs / p.budgetMs : null;
  return { subject, running: isRunning, selected: isSelected, lines, parentId, now };
}

export const CURVE_MARGIN = { left: 58, right: 14, top: 10, bottom: 34 };
/** The rotated axis title and the gap to the tick labels, and a digit's width at the chart's font: the plot's left edge. */
const TITLE_PX = 26;
const TICK_CHAR_PX = 6.6;

export interface CurvePath {
  role: CurveRole;
  id: number;
  /** Pixel polylines [x0, y0, x1, y1, …], split where a value was not finite. */
  segments: number[][];
  /** The last finite point, marked on the leading curve. */
  last: { x: number; y: number } | null;
}

export interface CurveScene {
  width: number;
  height: number;
  plot: { left: number; top: number; right: number; bottom: number };
  x: Scale;
  y: Scale;
  xTicks: Tick[];
  yTicks: Tick[];
  /** Parent and best first, the leading curve last (on top). */
  paths: CurvePath[];
  /** Where a running experiment's clock stands, in pixels. */
  nowX: number | null;
  /** Values on the worse side left off the axis (a start far above the rest): the lines leave the plot there. */
  clipped: boolean;
  yLabel: string;
  xLabel: string;
}

export function computeCurves(pick: CurvePick, store: ResultsStore, width: number, height: number): CurveScene {
  const plot = { left: CURVE_MARGIN.left, top: CURVE_MARGIN.top, right: Math.max(CURVE_MARGIN.left + 10, width - CURVE_MARGIN.right), bottom: Math.max(CURVE_MARGIN.top + 10, height - CURVE_MARGIN.bottom) };
  let maxF = 1;
  const values: number[] = [];
  for (const l of pick.lines) {
    for (const [f, v] of l.points) {
      maxF = Math.max(maxF, f);
      if (v !== null && Number.isFinite(v)) values.push(v);
    }
  }
  if (pick.now !== null) maxF = Math.max(maxF, Math.min(pick.now, 1.5));
  const auto = autoYDomain(values, store.direction);
  const y = linearScale(auto.domain, [plot.bottom, plot.top]);
  const yValues = y.ticks(Math.max(2, Math.floor((plot.bottom - plot.top) / 36)));
  const yLabels = fmtTicks(yValues, 4);
  // Room for the longest tick label beside the rotated axis title: close values need more digits.
  plot.left = Math.max(CURVE_MARGIN.left, Math.ceil(TITLE_PX + TICK_CHAR_PX * Math.max(0, ...yLabels.map((l) => l.length))));
  plot.right = Math.max(plot.left + 10, plot.right);
  const x = linearScale([0, maxF], [plot.left, plot.right]);
  const paths: CurvePath[] = [];
  for (const l of [...pick.lines].reverse()) {
    const segments: number[][] = [];
    let cur: number[] | null = null;
    let last: CurvePath['last'] = null;
    for (const [f, v] of l.points) {
      if (v === null || !Number.isFinite(v)) { cur = null; continue; }
      if (!cur) segments.push((cur = []));
      const px = x(f);
      const py = y(v);
      cur.push(px, py);
      last = { x: px, y: py };
    }
    paths.push({ role: l.role, id: l.id, segments, last });
  }
  const xTicks = [0, 0.25, 0.5, 0.75, 1, 1.25, 1.5].filter((v) => v <= maxF + 1e-9).map((v) => ({ v, px: x(v), label: fmtShare(v) }));
  const yTicks = yValues.map((v, i) => ({ v, px: y(v), label: yLabels[i]! }));
  const label = store.session?.curveLabel ?? store.session?.metricName ?? 'metric';
  return {
    width, height, plot, x, y, xTicks, yTicks, paths,
    nowX: pick.now === null ? null : x(Math.min(pick.now, maxF)),
    clipped: auto.clipped,
    yLabel: `${label} (${directionText(store.direction)})`,
    xLabel: 'elapsed share of the budget',
  };
}

/** What the legend calls a line. */
export function lineName(pick: CurvePick, line: CurveLine): string {
  if (line.role === 'parent') return `parent #${line.id}`;
  if (line.role === 'best') return `best #${line.id}`;
  return `${pick.running ? 'running' : pick.selected ? 'selected' : 'best'} #${line.id}`;
}

const num = (v: number | null) => (v === null ? 'not a number' : fmtNum(v, DASH, 4));

/**
 * The panel in words, for screen readers and for anyone reading it: "#12 at 40 %: val_loss 2.41, parent #7 2.38 at
 * the same point (#12 is worse by 0.03), best #3 2.3".
 */
export function describeCurves(pick: CurvePick, store: ResultsStore): string {
  const label = store.session?.curveLabel ?? store.session?.metricName ?? 'metric';
  const lead = pick.lines[0]!;
  const id = `#${pick.subject}`;
  const last = lead.points.at(-1);
  if (!last) {
    const at = pick.now !== null ? ` at ${fmtShare(pick.now)}` : '';
    const others = pick.lines.slice(1).map((l) => `${l.role} #${l.id}`).join(', ');
    return `${id}${at}: ${pick.running ? `no ${label} yet` : `no curve (its run printed no ${label} on the way)`}${others ? `; drawn: ${others}` : ''}.`;
  }
  const f = last[0];
  const parts = [`${id} at ${fmtShare(f)}: ${label} ${num(last[1])}`];
  for (const l of pick.lines.slice(1)) {
    const v = curveValueAt(l.points, f);
    let text = `${l.role} #${l.id} ${v === null ? 'no value' : num(v)} at the same point`;
    if (l.role === 'parent' && v !== null && last[1] !== null) {
      const d = last[1] - v;
      const better = store.better(last[1], v);
      text += d === 0 ? ` (${id} is level with it)` : ` (${id} is ${better ? 'better' : 'worse'} by ${fmtNum(Math.abs(d), DASH, 3)})`;
    }
    parts.push(text);
  }
  if (pick.parentId !== null && !pick.lines.some((l) => l.role === 'parent')) parts.push(`parent #${pick.parentId} has no curve`);
  return `${parts.join(', ')}.`;
}
