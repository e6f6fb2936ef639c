// The figures at the top of the panel: baseline → best, counts, time, pace and budget.
import { fmtProgress, relativeChange } from '../../src/shared/format.js';
import type { RunningExperiment } from '../../src/shared/format.js';
import type { ResultsStore } from './store.js';

export interface Headline {
  baseline: number | null;
  best: number | null;
  bestId: number | null;
  /** best − baseline. */
  deltaAbs: number | null;
  /** (best − baseline) / |baseline| × 100. */
  deltaPct: number | null;
  /** True when best is better than the baseline in the study's direction. */
  improved: boolean;
  /** Decided experiments after the baseline (what maxExperiments counts). */
  experiments: number;
  kept: number;
  discarded: number;
  crashed: number;
  invalid: number;
  running: number;
  /** `2 of 30 decided · #3 running`: the Experiments view's and the status bar's words (fmtProgress). */
  progress: string;
  /** Null when the source has no timings (a bare results.tsv). */
  elapsedMs: number | null;
  perHour: number | null;
  budgetText: string | null;
  maxExperiments: number | null;
  /** Estimated time to reach maxExperiments at the pace so far. */
  remainingMs: number | null;
}

const LIVE = new Set(['starting', 'running', 'paused', 'stopping']);

/** `nowMs` is the webview's clock; it is mapped onto the host's through the snapshot's hostNow. */
export function computeHeadline(store: ResultsStore, nowMs: number): Headline {
  const base = store.baseline;
  const best = store.best;
  const baseline = base && base.status !== 'crash' ? base.metric : null;
  const bestVal = best?.metric ?? null;
  let kept = 0;
  let discarded = 0;
  let crashed = 0;
  let invalid = 0;
  let running = 0;
  const runs: RunningExperiment[] = [];
  // ISO timestamps sort as strings: parse only the last one, not 10,000 of them.
  let lastFinish = '';
  let wallSum = 0;
  let wallCount = 0;
  for (const n of store.nodes) {
    if (!n) continue;
    if (n.finishedAt && n.finishedAt > lastFinish) lastFinish = n.finishedAt;
    if (n.wallMs !== null && n.id !== 0) { wallSum += n.wallMs; wallCount++; }
    if (n.status === 'running') runs.push({ id: n.id, deciding: !!n.finishedAt });
    if (n.id === 0 || n.measurement) continue;
    switch (n.status) {
      case 'keep': kept++; break;
      case 'discard': discarded++; break;
      case 'crash': crashed++; break;
      case 'invalid': invalid++; break;
      case 'running': case 'pending': running++; break;
    }
  }
  const experiments = kept + discarded + crashed + invalid;
  const s = store.session;
  let elapsedMs: number | null = null;
  if (s?.startedAt) {
    const start = Date.parse(s.startedAt);
    const hostNow = Date.parse(s.hostNow) + Math.max(0, nowMs - store.receivedAt);
    const end = s.state && LIVE.has(s.state) ? hostNow : lastFinish ? Date.parse(lastFinish) : hostNow;
    elapsedMs = Math.max(0, end - start);
  }
  const perHour = elapsedMs && elapsedMs > 0 && experiments > 0 ? experiments / (elapsedMs / 3_600_000) : null;
  const max = s?.maxExperiments ?? null;
  const live = !!s?.state && LIVE.has(s.state);
  // A results.tsv does not say how many were planned; a session's null is "unlimited". Only a live session runs anything.
  const progress = fmtProgress(experiments, store.isFile ? undefined : max, live ? runs : []);
  let remainingMs: number | null = null;
  if (max !== null && s?.state && LIVE.has(s.state)) {
    const left = Math.max(0, max - experiments);
    const per = perHour ? 3_600_000 / perHour : wallCount ? wallSum / wallCount / Math.max(1, s.parallel) : null;
    remainingMs = per === null ? null : left * per;
  }
  const deltaAbs = baseline !== null && bestVal !== null ? bestVal - baseline : null;
  return {
    baseline,
    best: bestVal,
    bestId: best?.id ?? null,
    deltaAbs,
    deltaPct: baseline !== null && bestVal !== null ? relativeChange(baseline, bestVal) : null,
    improved: deltaAbs !== null && bestVal !== null && baseline !== null && store.better(bestVal, baseline),
    experiments,
    kept,
    discarded,
    crashed,
    invalid,
    running,
    progress,
    elapsedMs,
    perHour,
    budgetText: s?.budgetText ?? null,
    maxExperiments: max,
    remainingMs,
  };
}
