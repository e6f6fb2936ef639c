// How numbers, deltas, times, memory, model spend and the metric's direction read, on every surface: the CLI, the summary,
// the journal's reasons, the tree, the status bar and the results view. Plain functions on plain values, so the
// webview compiles this file as it is (no imports). A missing value reads `n/a` in text and `—` in the results view:
// the surface passes its own as `empty`.

/** What a missing value reads as in text (the CLI, the summary, the tree). */
export const NA = 'n/a';
/** What a missing value reads as in the results view's cells and headline. */
export const DASH = '—';

/** Six significant digits, no trailing zeros, whole numbers as they are: what the engine prints, so numbers match the log. */
export function fmtNum(v: number | null | undefined, empty = NA, digits = 6): string {
  if (v === null || v === undefined) return empty;
  if (!Number.isFinite(v) || Number.isInteger(v)) return String(v);
  return Number(v.toPrecision(digits)).toString();
}

/** `+0.1`, `-0.1`, `+0`: a change with its sign always written. */
export function fmtSigned(v: number | null | undefined, empty = NA, digits = 6): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return empty;
  const s = fmtNum(Math.abs(v), empty, digits);
  return v < 0 ? `-${s}` : `+${s}`;
}

/** `+0.5%`, `-44.0%`: a change in percent, one decimal. */
export function fmtPct(v: number | null | undefined, empty = NA): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return empty;
  return `${v < 0 ? '-' : '+'}${Math.abs(v).toFixed(1)}%`;
}

/** The change from `from` to `to` relative to `from`, in percent; null where `from` is 0. */
export function relativeChange(from: number, to: number): number | null {
  return from !== 0 ? ((to - from) / Math.abs(from)) * 100 : null;
}

/** `-0.157402 (-44.0%)`: how a metric moved, with the percent where the start is not 0. */
export function fmtDelta(from: number, to: number): string {
  const pct = relativeChange(from, to);
  return `${fmtSigned(to - from)}${pct === null ? '' : ` (${fmtPct(pct)})`}`;
}

/** `0.9932` → 4: the decimal places a number was written with; null where it is not plain decimal (`1e-3`, `nan`). */
export function placesWritten(text: string): number | null {
  return /^[-+]?\d*\.?\d*$/.test(text) ? text.split('.')[1]?.length ?? 0 : null;
}

/** `+0.004700 (+0.5%)`: a delta between two numbers as a file wrote them, to the places they were written with. */
export function fmtDeltaAsWritten(fromText: string, toText: string): string {
  const from = Number(fromText);
  const to = Number(toText);
  const a = placesWritten(fromText);
  const b = placesWritten(toText);
  if (a === null || b === null) return fmtDelta(from, to);
  const d = to - from;
  const pct = relativeChange(from, to);
  return `${d < 0 ? '-' : '+'}${Math.abs(d).toFixed(Math.max(a, b))}${pct === null ? '' : ` (${fmtPct(pct)})`}`;
}

/** `38 %`: a share of a whole (how far into its budget a run is), rounded to a whole percent. */
export function fmtShare(fraction: number): string {
  return `${Math.round(fraction * 100)} %`;
}

/** A probability to one decimal below 10 % (`5.1 %`, `0.8 %`), whole above (`44 %`): small ones such as alpha are read closely. */
export function fmtChance(fraction: number): string {
  return fraction < 0.1 ? `${(100 * fraction).toFixed(1)} %` : fmtShare(fraction);
}

/** Peak memory in a unit a person reads: `2.0 GB` from 1 GB up, `15.3 MB` below (`15.3MB` without the space). */
export function fmtMemory(gb: number | null | undefined, space = true, empty = NA): string {
  if (gb === null || gb === undefined) return empty;
  const sep = space ? ' ' : '';
  if (gb >= 1 || gb === 0) return `${gb.toFixed(1)}${sep}GB`;
  const mb = gb * 1024;
  return `${mb >= 100 ? mb.toFixed(0) : mb >= 1 ? mb.toFixed(1) : mb.toFixed(2)}${sep}MB`;
}

/** `340 kB`, `15.3 MB`, `2.0 GB`: the size of files, in the units memory reads in. */
export function fmtBytes(bytes: number): string {
  return bytes >= 2 ** 20 ? fmtMemory(bytes / 2 ** 30) : `${Math.max(1, Math.round(bytes / 1024))} kB`;
}

/** `0.25`, `2.5e+5`, `1.0e-4`: a chart axis's tick, in exponent form where plain digits would not fit. */
export function fmtTick(v: number, digits = 6): string {
  return Math.abs(v) >= 1e5 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(1) : fmtNum(v, DASH, digits);
}

/** An axis's tick labels: fmtTick at `digits` significant digits, more where two ticks would read the same. */
export function fmtTicks(values: readonly number[], digits = 6): string[] {
  let labels = values.map((v) => fmtTick(v, digits));
  for (let d = digits + 1; d <= 12 && new Set(labels).size < labels.length; d++) labels = values.map((v) => fmtTick(v, d));
  return labels;
}

/** `$1.20`: model spend; a fraction of a cent keeps four decimals. */
export function fmtCost(usd: number): string {
  return `$${usd > 0 && usd < 0.01 ? usd.toFixed(4) : usd.toFixed(2)}`;
}

/** `950`, `12.3k`, `2M`: a count of model tokens. */
export function fmtTokens(n: number): string {
  const short = (x: number) => String(Number(x.toPrecision(3)));
  if (n >= 1e6 || Number(short(n / 1e3)) >= 1000) return `${short(n / 1e6)}M`;
  if (n >= 1e3) return `${short(n / 1e3)}k`;
  return String(n);
}

/** `12`, `3.5`: a rate such as experiments per hour, with one decimal under ten. */
export function fmtRate(v: number | null | undefined, empty = NA): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return empty;
  return v >= 10 ? v.toFixed(0) : v.toFixed(1);
}

/** `4:05`, or `1:02:03` past an hour: elapsed time against a budget. */
export function fmtClock(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/**
 * `0:04 / 0:10`: a running experiment's elapsed time against its budget. The tree, the status bar and the results
 * view all write it so, from the same start time, so they read the same at the same moment.
 */
export function fmtRunClock(elapsedMs: number, budgetMs: number): string {
  return `${fmtClock(elapsedMs)} / ${fmtClock(budgetMs)}`;
}

/** What an experiment that has finished running but is not decided yet (read, checked, confirmed) says, not "running". */
export const DECIDING = 'deciding…';

/**
 * `20 ms` under a second, `4.2 s` under ten seconds, the clock (`1:05`, `1:02:03`) from there: how long something
 * took, waits or may take (a run, a retry's pause, a model's timeout).
 */
export function fmtDuration(ms: number | null | undefined, empty = NA): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) return empty;
  if (Math.round(ms) < 1000) return `${Math.round(ms)} ms`;
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : fmtClock(ms);
}

/** `a long line…`: text cut to `max` characters, an ellipsis last where it was cut. */
export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(0, max - 1))}…`;
}

/** The metric's direction as a person says it. */
export function directionText(direction: 'minimize' | 'maximize'): string {
  return direction === 'minimize' ? 'lower is better' : 'higher is better';
}

/** An experiment that is running now; `deciding` when its run has ended and its decision is not in yet. */
export interface RunningExperiment {
  id: number;
  deciding?: boolean;
}

/** `#3, #4 running`: up to three numbers, then how many more; the baseline by name. */
function fmtRunningIds(ids: readonly number[], verb: string): string {
  const names = ids.slice(0, 3).map((id) => (id === 0 ? 'baseline' : `#${id}`));
  const more = ids.length - names.length;
  return `${names.join(', ')}${more > 0 ? ` and ${more} more` : ''} ${verb}`;
}

/**
 * `2 of 30 decided · #3 running`: where a session stands, in the same words in the Experiments view, the status bar,
 * the results view and the CLI's status. `decided` counts what maxExperiments counts (experiments after the baseline
 * that reached keep, discard, crash or invalid); `max` null is a session without a limit ("of unlimited"), undefined a
 * record that does not say (a results.tsv): then only the count. Running experiments are named by number, those
 * whose run ended and wait for their decision apart, as the tree's rows say it (`deciding…`).
 */
export function fmtProgress(decided: number, max: number | null | undefined, running: readonly RunningExperiment[] = []): string {
  const parts = [max === undefined ? `${decided} decided` : `${decided} of ${max ?? 'unlimited'} decided`];
  const byId = [...running].sort((a, b) => a.id - b.id);
  const runs = byId.filter((r) => !r.deciding).map((r) => r.id);
  const deciding = byId.filter((r) => r.deciding).map((r) => r.id);
  if (runs.length) parts.push(fmtRunningIds(runs, 'running'));
  if (deciding.length) parts.push(fmtRunningIds(deciding, DECIDING));
  return parts.join(' · ');
}
