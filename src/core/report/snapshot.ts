// Builds the protocol's DTOs from the engine's model or from a parsed results.tsv. Pure functions on
// plain data, so the host stays thin and the conversion is tested in plain Node. The core builds what the
// webview is sent (the webview imports src/shared alone), so it uses the core's own rules rather than copies.
import { isMeasurement, type SessionModel } from '../model.js';
import { chooseDirection, type ParsedResults } from '../record/results.js';
import type { Direction, ExperimentNode } from '../types.js';
import type { CurvePointDto, NodeDto, SessionDto, UsageDto } from '../../shared/protocol.js';
import { fileWinsDto, sessionWinsDto } from './winsDto.js';

const finite = (v: number | null | undefined): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** A curve for the wire: a NaN or infinite value (a diverged run) becomes null on purpose, not by JSON's accident. */
export function curveDto(points: readonly (readonly [number, number])[]): CurvePointDto[] {
  return points.map(([f, v]) => [f, finite(v)]);
}

/**
 * What a curve's values are called: the metric's name, or with a `progress` pattern the word before its value's
 * group (`step (\d+).*val loss ([\d.]+)` → "val loss", `"loss":\s*(\S+)` → "loss"); "progress" when it has none.
 */
export function curveLabel(metricName: string, progress: string | null | undefined): string {
  if (!progress) return metricName;
  let last = -1;
  for (let i = 0; i < progress.length; i++) {
    if (progress[i] === '\\') { i++; continue; }
    if (progress[i] === '(' && progress[i + 1] !== '?') last = i;
  }
  const before = last < 0 ? '' : progress.slice(0, last).replace(/\\./g, ' ').replace(/\([^)]*\)|\[[^\]]*\]|\{[^}]*\}/g, ' ');
  const words = before.split(/[^A-Za-z0-9_]+/).filter((w) => /^[A-Za-z_]\w*$/.test(w));
  const word = words.at(-1);
  if (!word) return 'progress';
  const qualifier = words.at(-2);
  return qualifier && /^(val|valid|validation|train|training|eval|test)$/i.test(qualifier) ? `${qualifier} ${word}` : word;
}

export function nodeDto(n: ExperimentNode): NodeDto {
  return {
    id: n.id,
    parentId: n.parentId,
    operator: n.operator,
    commit: n.commit,
    description: n.description,
    status: n.status,
    metric: finite(n.metric),
    memoryGb: finite(n.memoryGb),
    decidedBy: n.decidedBy,
    reason: n.reason,
    startedAt: n.startedAt,
    finishedAt: n.finishedAt,
    wallMs: n.wallMs,
    ...(n.mergedFrom !== undefined ? { mergedFrom: n.mergedFrom } : {}),
    ...(n.policyReason ? { policyReason: n.policyReason } : {}),
    // A run the engine adds to measure noise: drawn, not counted as an experiment.
    ...(isMeasurement(n) ? { measurement: true } : {}),
    ...(n.curve?.length ? { curve: curveDto(n.curve) } : {}),
  };
}

export function sessionDto(model: SessionModel, now = new Date()): SessionDto {
  const c = model.config;
  const band = model.noiseBand();
  return {
    source: { kind: 'session' },
    title: model.tag || 'session',
    metricName: c?.metric.name ?? 'metric',
    direction: c?.metric.direction ?? 'minimize',
    directionKnown: c !== null,
    budgetSeconds: c?.budgetSeconds ?? null,
    budgetText: c?.budgetText ?? null,
    maxExperiments: c?.maxExperiments ?? null,
    parallel: c?.parallel ?? 1,
    startedAt: model.startedAt,
    state: model.state,
    stateReason: model.stateReason ?? null,
    bestId: model.best?.id ?? null,
    errors: [],
    hostNow: now.toISOString(),
    ...(band ? { noise: { spread: band.spread, threshold: band.threshold, z: band.z, samples: band.samples } } : {}),
    ...usage(model),
    ...(c ? { curveLabel: curveLabel(c.metric.name, c.progress) } : {}),
    wins: sessionWinsDto(model),
  };
}

export function sessionNodes(model: SessionModel): NodeDto[] {
  const out: NodeDto[] = [];
  for (const n of model.nodes) if (n) out.push(nodeDto(n));
  return out;
}

/** The core's one direction rule (results.ts chooseDirection), for callers that have only a name and rows. */
export function inferDirection(metricName: string, rows: readonly { status: string; metric: number | null }[]): Direction {
  return chooseDirection(metricName, rows).direction;
}

/**
 * A results.tsv as a flat study: one node per row, in file order, row 0 (the baseline) first, no tree. `noise` is a
 * floor the user gave for which wins are real; without it the noise is estimated from the file.
 */
export function fileSnapshot(parsed: ParsedResults, path: string, title: string, now = new Date(), opts: { noise?: number | null } = {}): { session: SessionDto; nodes: NodeDto[] } {
  // Direction and best come from the reading itself, so the panel and `summary --from` agree.
  const { direction, basis } = parsed.direction;
  const nodes: NodeDto[] = parsed.rows.map((r, i) => ({
    id: i,
    parentId: null,
    operator: null,
    commit: r.commit && !/^-+$/.test(r.commit) ? r.commit : null,
    description: r.description,
    status: r.status as NodeDto['status'],
    // Crash and invalid rows carry the writer's placeholder 0.000000, not a measurement.
    metric: r.status === 'crash' || r.status === 'invalid' ? null : finite(r.metric),
    memoryGb: finite(r.memoryGb),
    decidedBy: null,
    reason: '',
    startedAt: null,
    finishedAt: null,
    wallMs: null,
    line: r.line,
  }));
  const bestId = parsed.best;
  return {
    session: {
      source: { kind: 'file', path },
      title,
      metricName: parsed.metricName,
      direction,
      // Said by the user (the config, a flag), not guessed from the name or the rows: the webview offers no flip.
      directionKnown: basis === 'given' || basis === 'config',
      budgetSeconds: null,
      budgetText: null,
      maxExperiments: null,
      parallel: 1,
      startedAt: null,
      state: null,
      stateReason: null,
      bestId,
      errors: parsed.errors.map((e) => ({ ...e })),
      hostNow: now.toISOString(),
      wins: fileWinsDto(parsed.rows, direction, opts.noise ?? null, parsed.metricName, title),
      // The view can flip a guessed direction; the verdicts for the other one come along rather than being computed there.
      ...(basis === 'given' || basis === 'config' ? {} : { winsIfFlipped: fileWinsDto(parsed.rows, direction === 'minimize' ? 'maximize' : 'minimize', opts.noise ?? null, parsed.metricName, title) }),
    },
    nodes,
  };
}

/** Tokens and cost of the proposals, totalled like the summary's "Proposer usage" line. */
function usage(model: SessionModel): { usage?: UsageDto } {
  let tokensIn = 0;
  let tokensOut = 0;
  let cost = 0;
  let priced = false;
  for (const n of model.nodes) {
    if (!n) continue;
    tokensIn += n.proposer.tokensIn ?? 0;
    tokensOut += n.proposer.tokensOut ?? 0;
    if (typeof n.proposer.costUsd === 'number') { cost += n.proposer.costUsd; priced = true; }
  }
  return tokensIn || tokensOut ? { usage: { tokensIn, tokensOut, costUsd: priced ? cost : null } } : {};
}
