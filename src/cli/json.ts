// `--json`: one document per command, for dashboards and scripts. Each names its schema and version
// (`autoresearch/<command>@1`); docs/json.md describes every field. A field is only ever added within a version.
import { isMeasurement, type SessionModel } from '../core/model.js';
import { groupByChange, sessionWins, type NoiseFloor, type RealWins } from '../core/report/realWins.js';
import type { ParsedResults, ResultsRow } from '../core/record/results.js';
import { resultsWins } from '../core/report/summary.js';
import type { Direction, ExperimentNode } from '../core/types.js';

export const SCHEMA_VERSION = 1;

export function schema(command: 'status' | 'tree' | 'show' | 'summary' | 'error'): string {
  return `autoresearch/${command}@${SCHEMA_VERSION}`;
}

/** The error kinds of the `--json` contract; src/cli/errors.ts maps the engine's kinds onto them. */
export type JsonErrorKind = 'usage' | 'config' | 'session' | 'apply' | 'runtime';

/** What `--json` prints when a command fails: the exit code is the same as without it. */
export function errorDocument(kind: JsonErrorKind, message: string, exitCode: number): object {
  return { schema: schema('error'), error: { kind, message, exitCode } };
}

/** Not a number (NaN, inf) is written as null: JSON has no such value. */
function num(v: number | null | undefined): number | null {
  return v === null || v === undefined || !Number.isFinite(v) ? null : v;
}

function metricOf(model: SessionModel): { name: string; direction: Direction } {
  const m = model.config!.metric;
  return { name: m.name, direction: m.direction };
}

function delta(model: SessionModel, n: ExperimentNode): number | null {
  const parent = n.parentId === null ? undefined : model.get(n.parentId);
  return n.metric !== null && parent?.metric != null ? num(n.metric - parent.metric) : null;
}

export function statusDocument(tag: string, model: SessionModel): object {
  const c = model.counts();
  const cfg = model.config!;
  const band = model.noiseBand();
  return {
    schema: schema('status'),
    tag,
    state: model.state,
    stateReason: model.stateReason ?? null,
    metric: metricOf(model),
    experiments: { decided: model.decidedCount, max: cfg.maxExperiments, keep: c.keep, discard: c.discard, crash: c.crash, invalid: c.invalid, running: c.running, pending: c.pending },
    baseline: model.baseline ? { id: 0, metric: num(model.baseline.metric) } : null,
    best: model.best ? { id: model.best.id, metric: num(model.best.metric), commit: model.best.commit, description: model.best.description } : null,
    noise: band ? { spread: band.spread, samples: band.samples, repeats: band.repeats, z: band.z, alpha: band.alpha ?? null, minDelta: band.minDelta, threshold: band.threshold } : null,
    queuedHypotheses: model.hints.filter((h) => h.takenBy === null).map((h) => h.text),
  };
}

export function treeDocument(tag: string, model: SessionModel): object {
  const best = model.best;
  const path = best ? model.pathTo(best.id).map((n) => n.id) : [];
  return {
    schema: schema('tree'),
    tag,
    metric: metricOf(model),
    bestId: best?.id ?? null,
    bestPath: path,
    nodes: model.nodes.filter((n): n is ExperimentNode => !!n).map((n) => ({
      id: n.id, parentId: n.parentId, mergedFrom: n.mergedFrom ?? null, children: model.childrenOf(n.id).map((k) => k.id),
      status: n.status, decidedBy: n.decidedBy, operator: n.operator, measurement: isMeasurement(n),
      metric: num(n.metric), delta: delta(model, n), commit: n.commit, description: n.description, onBestPath: path.includes(n.id),
      checks: n.checks ? { passed: n.checks.passed } : null,
    })),
  };
}

export function showDocument(tag: string, model: SessionModel, n: ExperimentNode, diff: string | null): object {
  const parent = n.parentId === null ? undefined : model.get(n.parentId);
  return {
    schema: schema('show'),
    tag,
    metric: metricOf(model),
    node: {
      id: n.id, parentId: n.parentId, mergedFrom: n.mergedFrom ?? null, description: n.description, status: n.status, decidedBy: n.decidedBy, ruleStatus: n.ruleStatus, reason: n.reason,
      metric: num(n.metric), delta: delta(model, n), memoryGb: num(n.memoryGb), secondary: n.secondary,
      wallMs: n.wallMs, queuedMs: n.queuedMs ?? null, exitCode: n.exitCode, timedOut: n.timedOut,
      commit: n.commit, operator: n.operator, policyReason: n.policyReason, plan: n.plan || null, hint: n.hint,
      changedFiles: n.changedFiles, proposer: n.proposer, curve: n.curve ?? [], logPath: n.logPath, logTail: n.logTail,
      checks: n.checks ? { passed: n.checks.passed, reason: n.checks.reason, wallMs: n.checks.wallMs, logPath: n.checks.logPath } : null,
    },
    parent: parent ? { id: parent.id, metric: num(parent.metric), commit: parent.commit } : null,
    diff,
  };
}

function noiseOf(noise: NoiseFloor): object {
  return { known: noise.threshold !== null, source: noise.source, value: num(noise.value), threshold: num(noise.threshold), how: noise.how, hint: noise.hint, pairs: noise.pairs };
}

function winsOf<T>(wins: RealWins<T>): object {
  return { headline: wins.headline, larger: wins.larger, keeps: wins.keeps.length };
}

export function sessionSummaryDocument(tag: string, model: SessionModel, wrote: string): object {
  const wins = sessionWins(model);
  const verdicts = new Map(wins.keeps.map((k) => [k.keep.id, k]));
  const nodes = model.nodes.filter((n): n is ExperimentNode => !!n && n.id !== 0 && !isMeasurement(n));
  const kept = nodes.filter((n) => n.status === 'keep');
  const discarded = nodes.filter((n) => n.status === 'discard');
  const item = (n: ExperimentNode) => ({ id: n.id, parentId: n.parentId, commit: n.commit, metric: num(n.metric), description: n.description, reason: n.reason, decidedBy: n.decidedBy });
  const counts = { keep: 0, discard: 0, crash: 0, invalid: 0 };
  for (const n of nodes) if (n.status in counts) counts[n.status as keyof typeof counts]++;
  return {
    schema: schema('summary'),
    source: { kind: 'session', tag },
    wrote,
    metric: metricOf(model),
    counts,
    baseline: model.baseline ? { id: 0, commit: model.baseline.commit, metric: num(model.baseline.metric) } : null,
    best: model.best ? { id: model.best.id, commit: model.best.commit, metric: num(model.best.metric), description: model.best.description } : null,
    noise: noiseOf(wins.noise),
    realWins: winsOf(wins),
    keeps: kept.map((n) => {
      const v = verdicts.get(n.id);
      return { ...item(n), gain: num(v?.gain), verdict: v?.verdict ?? null };
    }),
    discards: groupByChange(discarded, kept, (n) => n.description).map((g) => ({ change: g.change, kept: g.kept, discarded: g.discarded.map(item) })),
    crashes: nodes.filter((n) => n.status === 'crash' || n.status === 'invalid').map((n) => ({ ...item(n), status: n.status })),
  };
}

export function fileSummaryDocument(path: string, parsed: ParsedResults, noise: number | null, wrote: string): object {
  const { rows } = parsed;
  const wins = resultsWins(parsed, null, noise);
  const verdicts = new Map(wins.keeps.map((k) => [k.keep, k]));
  const item = (r: ResultsRow) => ({ line: r.line, commit: r.commit, metric: num(r.metric), metricText: r.metricText, description: r.description, secondary: r.secondary });
  const kept = rows.filter((r) => r.status === 'keep');
  const discarded = rows.filter((r) => r.status === 'discard');
  const base = rows[0];
  const best = parsed.best === null ? undefined : rows[parsed.best];
  const count = (s: string) => rows.filter((r) => r.status === s).length;
  return {
    schema: schema('summary'),
    source: { kind: 'file', path },
    wrote,
    metric: { name: parsed.metricName, direction: parsed.direction.direction, directionBasis: parsed.direction.basis, directionWhy: parsed.direction.why },
    columns: parsed.columns,
    counts: { rows: rows.length, keep: count('keep'), discard: count('discard'), crash: count('crash'), invalid: count('invalid') },
    unreadable: parsed.errors.map((e) => ({ line: e.line, message: e.message })),
    baseline: base ? item(base) : null,
    best: best ? item(best) : null,
    noise: noiseOf(wins.noise),
    realWins: winsOf(wins),
    keeps: kept.map((r) => {
      const v = verdicts.get(r);
      return { ...item(r), parentLine: v?.parent.line ?? null, gain: num(v?.gain), verdict: v?.verdict ?? null };
    }),
    discards: groupByChange(discarded, kept, (r) => r.description).map((g) => ({ change: g.change, kept: g.kept, discarded: g.discarded.map(item) })),
    crashes: rows.filter((r) => r.status === 'crash' || r.status === 'invalid').map((r) => ({ ...item(r), status: r.status })),
  };
}
