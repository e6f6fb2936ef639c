// Which wins are real: the noise a keep must beat (measured by the session, given by the user, or estimated from
// a log's runs of the same code), a verdict for every keep, and discards grouped by what they changed.
import { isBaselineRepeat, isMeasurement, type SessionModel } from '../model.js';
import type { ResultsRow } from '../record/results.js';
import type { Direction, ExperimentNode } from '../types.js';
import { fmtNum, placesWritten } from '../../shared/format.js';
import { bandRule } from '../judging/judge.js';

export type NoiseSource = 'baseline-repeats' | 'reruns' | 'given' | 'log' | 'none';

/** Two runs of the same code and how far apart their metric landed. */
export interface NoisePair {
  /** The run that repeats (`#5`, `line 12`) and the run it repeats. */
  run: string;
  repeats: string;
  difference: number;
  /** What makes them the same code: `a confirmation run`, `a seed-only change`, `the same commit`… */
  why: string;
}

export interface NoiseFloor {
  source: NoiseSource;
  /** The run-to-run noise, ±: the baseline runs' standard deviation, a given floor, or the largest difference seen. */
  value: number | null;
  /** What a keep must beat its parent by to count as larger than the noise; null when no noise is known. */
  threshold: number | null;
  /** How it was measured, for people ("measured from 3 baseline runs…"); with none, that none is known. */
  how: string;
  /** With no noise known: how to give it. */
  hint: string | null;
  pairs: NoisePair[];
}

export type Verdict = 'larger' | 'within' | 'unknown';

export interface KeepVerdict<T> {
  keep: T;
  parent: T;
  /** Improvement over the parent in the metric's direction: positive is better. */
  gain: number;
  verdict: Verdict;
}

export interface RealWins<T> {
  noise: NoiseFloor;
  keeps: KeepVerdict<T>[];
  /** Keeps whose gain is larger than the noise (0 when no noise is known). */
  larger: number;
  headline: string;
}

export function improvement(parent: number, value: number, direction: Direction): number {
  return direction === 'maximize' ? value - parent : parent - value;
}

function verdictOf(gain: number, parent: number, threshold: number | null): Verdict {
  if (threshold === null) return 'unknown';
  // Float sums of numbers written with 6 places must not make 0.0007 larger than 0.0007.
  return gain - threshold > 1e-12 * Math.max(1, Math.abs(parent)) ? 'larger' : 'within';
}

function headline(noise: NoiseFloor, keeps: readonly { verdict: Verdict }[], larger: number): string {
  const m = keeps.length;
  if (noise.threshold === null) {
    return m === 0 ? `No keeps after the baseline; ${noise.how}` : `Whether the ${m} keep${m === 1 ? ' is' : 's are'} larger than the noise is unknown: ${noise.how}`;
  }
  const about = `noise ±${fmtNum(noise.value!)}, ${noise.how}`;
  if (m === 0) return `No keeps after the baseline to weigh against the noise (${about})`;
  return `${larger} of ${m} keep${m === 1 ? ' is' : 's are'} larger than the noise (${about})`;
}

function finish<T>(noise: NoiseFloor, keeps: KeepVerdict<T>[]): RealWins<T> {
  const larger = keeps.filter((k) => k.verdict === 'larger').length;
  return { noise, keeps, larger, headline: headline(noise, keeps, larger) };
}

function largest(pairs: readonly NoisePair[]): NoisePair {
  return pairs.reduce((a, b) => (b.difference > a.difference ? b : a));
}

/** Same-code pairs in a session: confirmation runs and the re-runs people asked for, against the node they repeat. */
function sessionPairs(model: SessionModel): NoisePair[] {
  const pairs: NoisePair[] = [];
  for (const n of model.nodes) {
    if (!n || n.operator !== 'rerun' || isBaselineRepeat(n) || n.parentId === null || n.decidedBy === null) continue;
    const original = model.get(n.parentId);
    if (!original || original.decidedBy === null || !finite(original.metric) || !finite(n.metric)) continue;
    const confirm = n.editKey.startsWith('confirm:');
    // A node decided on its confirmation runs records their mean with its own: its first run is the model's first sample.
    const first = model.samples(original.id)[0] ?? original.metric;
    pairs.push({ run: `#${n.id}`, repeats: `#${original.id}`, difference: Math.abs(n.metric - first), why: confirm ? 'a confirmation run' : 'a re-run' });
  }
  return pairs;
}

function finite(v: number | null | undefined): v is number {
  return v !== null && v !== undefined && Number.isFinite(v);
}

/**
 * The session's noise: the spread of its baseline runs (`noise: {repeats}`, the band the judge decided with), else
 * the largest difference between a run and its re-run; else none, and how to measure it.
 */
export function sessionNoise(model: SessionModel): NoiseFloor {
  const band = model.noiseBand();
  const pairs = sessionPairs(model);
  if (band && band.spread !== null) {
    const confirmations = pairs.length ? `; ${pairs.length} re-run${pairs.length === 1 ? '' : 's'} of the same code moved by up to ${fmtNum(largest(pairs).difference)}` : '';
    return {
      source: 'baseline-repeats', value: band.spread, threshold: band.threshold, pairs,
      how: `measured from ${band.source} (their pooled standard deviation); a keep must beat its parent by more than ${bandRule(band, band, fmtNum(band.spread))}${confirmations}`,
      hint: null,
    };
  }
  if (pairs.length) {
    const top = largest(pairs);
    return {
      source: 'reruns', value: top.difference, threshold: top.difference, pairs,
      how: `measured from ${pairs.length} re-run${pairs.length === 1 ? '' : 's'} of the same code: the largest difference, ${top.run} against ${top.repeats}: ${top.why}`,
      hint: null,
    };
  }
  return {
    source: 'none', value: null, threshold: null, pairs,
    how: 'this session measured no noise',
    hint: 'add `noise: {repeats: 3}` to autoresearch.config.yaml to run the baseline 3 times and judge every change against their spread, or re-run an experiment (Re-run to Check Noise in VS Code)',
  };
}

/** Every keep after the baseline with a parent to compare with, and whether its gain is larger than the noise. */
export function sessionWins(model: SessionModel): RealWins<ExperimentNode> {
  const noise = sessionNoise(model);
  const direction = model.config?.metric.direction ?? 'minimize';
  const keeps: KeepVerdict<ExperimentNode>[] = [];
  for (const n of model.nodes) {
    if (!n || n.id === 0 || isMeasurement(n) || n.status !== 'keep' || !finite(n.metric) || n.parentId === null) continue;
    const parent = model.get(n.parentId);
    if (!parent || !finite(parent.metric)) continue;
    const gain = improvement(parent.metric, n.metric, direction);
    keeps.push({ keep: n, parent, gain, verdict: verdictOf(gain, parent.metric, noise.threshold) });
  }
  return finish(noise, keeps);
}

/** The row each row builds on in a log: the last kept row above it, as in the original greedy loop. */
export function impliedParents(rows: readonly ResultsRow[]): (number | null)[] {
  let last: number | null = null;
  return rows.map((r, i) => {
    const parent = last;
    if (r.status === 'keep' && finite(r.metric)) last = i;
    return parent;
  });
}

const SAME_CODE = /\b(?:seeds?|re-?runs?|repeat(?:ed)?|replicate[ds]?|again|same code|noise (?:check|estimate))\b/;
const SEED_PHRASE = /\b(?:random |rng |global |torch |numpy |np )?seeds?\b(?:\s*(?:[:=]|->|→|to|from|,|and)?\s*[-+]?\d+)*/g;
const SAME_CODE_WORDS = /\b(?:re-?runs?|repeat(?:ed)?|replicate[ds]?|again|noise (?:check|estimate)|same code|only|just|changed?|changes|changing|set|to|with|of|a|the|different|another|new|run|value)\b/g;

function norm(text: string): string {
  return text.toLowerCase().replace(/\s*\[[^\]]*\]\s*$/, '').replace(/[()[\]{},;:=#"'`!?]/g, ' ').replace(/\s+/g, ' ').trim();
}

/** What a description says beyond "the same code again" (a seed, a re-run); null when it says no such thing. */
function sameCodeRemainder(description: string): string | null {
  const d = description.toLowerCase().replace(/\s*\[[^\]]*\]\s*$/, '');
  if (!SAME_CODE.test(d)) return null;
  return norm(d.replace(SEED_PHRASE, ' ').replace(/[()[\]{},;:=#"'`!?]/g, ' ').replace(SAME_CODE_WORDS, ' '));
}

/**
 * Pairs of rows of a log that ran the same code: the same commit; a seed-only change or a re-run (its description
 * says only that, or that and the description of the row it repeats) against its parent or an earlier sibling; and
 * two rows with the same description built on the same parent. Rows without a metric (crashes) pair with nothing.
 */
export function logPairs(rows: readonly ResultsRow[]): NoisePair[] {
  const parents = impliedParents(rows);
  const pairs: NoisePair[] = [];
  const seen = new Set<string>();
  const add = (i: number, j: number, why: string) => {
    const a = rows[i]!;
    const b = rows[j]!;
    const key = `${Math.min(i, j)}:${Math.max(i, j)}`;
    if (i === j || seen.has(key) || !finite(a.metric) || !finite(b.metric)) return;
    seen.add(key);
    pairs.push({ run: `line ${a.line}`, repeats: `line ${b.line}`, difference: Math.abs(differenceAsWritten(b, a)), why });
  };
  const byCommit = new Map<string, number>();
  // Rows built on the same parent, in file order: a re-run's candidates without a scan of the whole log.
  const children = new Map<number, number[]>();
  rows.forEach((r, i) => {
    const commit = r.commit.trim();
    // The engine writes ------- for a proposal that made no commit: that is no code at all.
    if (commit && !/^-+$/.test(commit)) {
      const first = byCommit.get(commit);
      if (first === undefined) byCommit.set(commit, i);
      else add(i, first, 'the same commit');
    }
    const parent = parents[i];
    if (parent === null || parent === undefined) return;
    let siblings = children.get(parent);
    if (!siblings) children.set(parent, (siblings = []));
    const rest = sameCodeRemainder(r.description);
    if (rest !== null) {
      const seedOnly = /\bseeds?\b/.test(r.description.toLowerCase());
      if (rest === '' || rest === norm(rows[parent]!.description)) add(i, parent, seedOnly ? 'a seed-only change' : 'a re-run');
      else {
        const twin = siblings.find((j) => norm(rows[j]!.description) === rest);
        if (twin !== undefined) add(i, twin, seedOnly ? 'a seed-only change' : 'a re-run');
      }
    }
    const own = norm(r.description);
    const same = own ? siblings.find((j) => norm(rows[j]!.description) === own) : undefined;
    if (same !== undefined) add(i, same, 'the same description on the same parent');
    siblings.push(i);
  });
  return pairs;
}

/**
 * The noise of a log: the floor given (`--noise`), else the largest difference between two runs of the same code in
 * the log (conservative: the largest, not a mean), else none, and how to give it.
 */
export function logNoise(rows: readonly ResultsRow[], given: number | null, metricName: string): NoiseFloor {
  const pairs = logPairs(rows);
  if (given !== null) return { source: 'given', value: given, threshold: given, pairs, how: 'given with --noise', hint: null };
  if (pairs.length) {
    const top = largest(pairs);
    return {
      source: 'log', value: top.difference, threshold: top.difference, pairs,
      how: `estimated from the log: ${pairs.length === 1 ? 'the one difference' : `the largest of ${pairs.length} differences`} between runs of the same code (${top.run} against ${top.repeats}: ${top.why})`,
      hint: null,
    };
  }
  return {
    source: 'none', value: null, threshold: null, pairs,
    how: 'no noise was given and the log has no seed-only or repeated runs to estimate it from',
    hint: `give a floor with --noise, e.g. --noise 0.0007 (how far ${metricName} moves when only the seed changes)`,
  };
}

/** `b - a` to the places the file wrote them with: 0.9939 - 0.9932 is 0.0007, not 0.0007000000000000339. */
function differenceAsWritten(a: ResultsRow, b: ResultsRow): number {
  const pa = placesWritten(a.metricText);
  const pb = placesWritten(b.metricText);
  const d = b.metric! - a.metric!;
  return pa === null || pb === null ? d : Number(d.toFixed(Math.max(pa, pb)));
}

/** Every kept row after the first with a kept row above it, against that row; `given` is `--noise`. */
export function logWins(rows: readonly ResultsRow[], direction: Direction, given: number | null, metricName: string): RealWins<ResultsRow> {
  const noise = logNoise(rows, given, metricName);
  const parents = impliedParents(rows);
  const keeps: KeepVerdict<ResultsRow>[] = [];
  rows.forEach((r, i) => {
    const p = parents[i];
    if (r.status !== 'keep' || !finite(r.metric) || p === null || p === undefined) return;
    const parent = rows[p]!;
    const change = differenceAsWritten(parent, r);
    const gain = direction === 'maximize' ? change : -change;
    keeps.push({ keep: r, parent, gain, verdict: verdictOf(gain, parent.metric!, noise.threshold) });
  });
  return finish(noise, keeps);
}

export interface ChangeGroup<T> {
  /** What the change touched: a hyperparameter, a file, else the description's leading words; lower case. */
  change: string;
  discarded: T[];
  /** Keeps that changed the same thing. */
  kept: number;
}

const LEADING = /^(?:(?:increase|increased|decrease|decreased|reduce|reduced|raise|lower|bump|double|halve|try|trying|tried|use|using|add|adding|added|remove|removing|removed|drop|set|change|changed|switch|swap|replace|enable|disable|turn|tune|tweak|larger|smaller|bigger|more|less|fewer|higher|no|a|an|the|to|on|off|with|from|back|up|down|new|some)\s+)+/;
const NOT_A_NAME = new Set(['to', 'from', 'back', 'up', 'down', 'set', 'increase', 'decrease', 'reduce', 'raise', 'lower', 'bump', 'change', 'it', 'and', 'or', 'of', 'by', 'x', 'is']);

/** What a description says was changed: `LR 0.1 -> 0.4` and `increase lr to 0.4` are both `lr`. */
export function changeOf(description: string): string {
  let d = description.replace(/\s*\[[^\]]*\]\s*$/, '').trim();
  let file = '';
  const prefixed = /^([\w./-]+\.[A-Za-z]\w*):\s+(.*)$/.exec(d);
  if (prefixed) {
    file = `${prefixed[1]}: `;
    d = prefixed[2]!;
  }
  const named = [
    /\b([A-Za-z_][\w.]*)\s*=\s*\S/,
    /\b([A-Za-z_][\w.]*)\s+\S+\s*(?:->|→)/,
    /\b([A-Za-z_][\w.]*)\s+(?:from\s+\S+\s+)?to\s+[-+]?\.?\d/,
    /\b([A-Za-z][A-Za-z0-9]*_[\w]+)\b/,
  ].map((re) => re.exec(d)).filter((m): m is RegExpExecArray => !!m && !NOT_A_NAME.has(m[1]!.toLowerCase()))
    .sort((a, b) => a.index - b.index)[0];
  if (named) return (file + named[1]!).toLowerCase();
  const path = /\b[\w/-]+\.(?:py|ts|js|yaml|yml|json|toml|cfg|ini|sh)\b/.exec(d);
  if (path) return (file + path[0]).toLowerCase();
  const words = d.toLowerCase().replace(/[^a-z0-9\s-]/g, ' ').replace(/\s+/g, ' ').trim().replace(LEADING, '')
    .split(' ').filter((w) => w && !/^[-+]?[\d.]+(?:e[-+]?\d+)?x?$/.test(w));
  return (file + (words.slice(0, 2).join(' ') || 'other')).trim();
}

/** Discards grouped by what they changed, the most tried first (then the first tried); with how many keeps changed the same. */
export function groupByChange<T>(discards: readonly T[], kept: readonly T[], describe: (t: T) => string): ChangeGroup<T>[] {
  const groups = new Map<string, ChangeGroup<T>>();
  for (const t of discards) {
    const change = changeOf(describe(t));
    let g = groups.get(change);
    if (!g) groups.set(change, (g = { change, discarded: [], kept: 0 }));
    g.discarded.push(t);
  }
  for (const t of kept) {
    const g = groups.get(changeOf(describe(t)));
    if (g) g.kept++;
  }
  return [...groups.values()].sort((a, b) => b.discarded.length - a.discarded.length);
}
