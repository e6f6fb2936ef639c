// How one experiment reads in the Experiments view: label, description, icon, tooltip, menu tokens.
// Plain data (no vscode import), so the wording is one pure function of the model.
import type { SessionModel } from '../../core/model.js';
import type { ExperimentNode } from '../../core/types.js';
import { minDeltaAt, minDeltaText } from '../../core/judging/judge.js';
import { DECIDING, fmtClock, fmtCost, fmtDelta, fmtDuration, fmtMemory, fmtNum, fmtChance, fmtRunClock, truncate } from '../../shared/format.js';
import { NodeContext } from '../constants.js';

export interface NodePresentation {
  label: string;
  description: string;
  icon: { id: string; color?: string };
  /** Markdown with $(icon) syntax. */
  tooltip: string;
  contextValue: string;
  accessibilityLabel: string;
}

export interface PresentationContext {
  model: SessionModel;
  /** Whether a controller (here or elsewhere) is running the session: undecided nodes are live, not interrupted. */
  active: boolean;
  now: number;
  /** The last line a running node printed. */
  latestLine?: (n: ExperimentNode) => string;
  waitingForResult?: (n: ExperimentNode) => boolean;
}

const STATUS_ICON: Record<ExperimentNode['status'], { id: string; color?: string }> = {
  keep: { id: 'pass-filled', color: 'testing.iconPassed' },
  discard: { id: 'circle-slash', color: 'descriptionForeground' },
  crash: { id: 'error', color: 'testing.iconFailed' },
  invalid: { id: 'warning', color: 'list.warningForeground' },
  running: { id: 'loading~spin' },
  pending: { id: 'circle-large-outline', color: 'descriptionForeground' },
};
const BEST_ICON = { id: 'star-full', color: 'charts.yellow' };
const INTERRUPTED_ICON = { id: 'debug-disconnect', color: 'list.warningForeground' };

/** Escapes text for Markdown (tooltips), table pipes included. */
export function md(text: string): string {
  return text.replace(/[\\`*_{}[\]<>()#+\-.!|~]/g, '\\$&').replace(/\r?\n/g, ' ');
}

function short(text: string, max: number): string {
  return truncate(text.replace(/\s+/g, ' ').trim(), max);
}

/** `0.200134  Δ -0.157402 (-44.0%)`: the metric and how it moved from the parent. */
export function metricWithDelta(n: ExperimentNode, parent: ExperimentNode | undefined): string {
  if (n.metric === null) return '';
  const value = fmtNum(n.metric);
  if (!parent || parent.metric === null || !Number.isFinite(parent.metric) || !Number.isFinite(n.metric)) return value;
  return `${value}  Δ ${fmtDelta(parent.metric, n.metric)}`;
}

/**
 * Whether a node's move from its parent is inside the session's noise band (|Δ| ≤ max(minDelta, z × spread), minDelta a share of the parent's value with `minDelta: 0.5%`);
 * null when the session measures no noise or either has no value.
 */
export function withinNoise(n: ExperimentNode, parent: ExperimentNode | undefined, model: SessionModel): boolean | null {
  const band = model.noiseBand();
  if (!band || !parent || n.id === 0 || n.metric === null || parent.metric === null || !Number.isFinite(n.metric) || !Number.isFinite(parent.metric)) return null;
  return Math.abs(n.metric - parent.metric) <= Math.max(band.threshold, minDeltaAt(band, parent.metric));
}

function isUndecided(n: ExperimentNode): boolean {
  return n.decidedBy === null;
}

export function presentNode(n: ExperimentNode, ctx: PresentationContext): NodePresentation {
  const { model } = ctx;
  const parent = n.parentId === null ? undefined : model.get(n.parentId);
  const best = model.best;
  const isBest = best !== undefined && best.id === n.id && n.id !== 0;
  const metricName = model.config?.metric.name ?? 'metric';
  const budgetMs = (model.config?.budgetSeconds ?? 0) * 1000;
  const interrupted = isUndecided(n) && !ctx.active;
  const waiting = !interrupted && (ctx.waitingForResult?.(n) ?? false);

  // The number first, as the summary, the CLI and the results view name experiments: `#12 LR 0.1 → 0.05`.
  const label = n.description ? `#${n.id} ${n.description}` : `#${n.id}`;
  const parts: string[] = [];
  if (interrupted) parts.push('interrupted');
  else if (n.status === 'running' && n.finishedAt && !waiting) {
    // It ran; its result is being read, checked or confirmed. The clock has stopped, so it says so.
    parts.push(n.wallMs !== null ? `ran ${fmtDuration(n.wallMs)} · ${DECIDING}` : DECIDING);
  } else if (n.status === 'running') {
    const elapsed = n.startedAt ? ctx.now - Date.parse(n.startedAt) : 0;
    parts.push(waiting ? 'waiting for your result' : `running ${fmtRunClock(elapsed, budgetMs)}`);
  } else if (n.status === 'pending') parts.push('about to run');
  else if (n.status === 'crash') parts.push(`crash${n.reason ? ` · ${short(n.reason, 48)}` : ''}`);
  else if (n.status === 'invalid') parts.push(`invalid${n.reason ? ` · ${short(n.reason, 48)}` : ''}`);
  else if (n.id === 0) parts.push(n.metric === null ? '' : `${metricName} ${fmtNum(n.metric)}`);
  else parts.push(metricWithDelta(n, parent));
  const noise = withinNoise(n, parent, model);
  if (noise === true && n.decidedBy !== null) parts.push('within noise');
  if (n.checks?.passed === false) parts.push('checks failed');
  if (n.decidedBy === 'human') parts.push(n.status === 'keep' ? 'kept by you' : 'discarded by you');
  if (isBest) parts.push('best');
  const description = parts.filter(Boolean).join(' · ');

  const icon = interrupted ? INTERRUPTED_ICON : isBest ? BEST_ICON : n.status === 'running' && waiting ? { id: 'watch', color: 'charts.blue' } : STATUS_ICON[n.status];

  const tokens: string[] = [NodeContext.node, `status-${n.status}`];
  const decided = n.decidedBy !== null;
  if (decided && n.status !== 'keep' && n.operator !== 'rerun' && n.metric !== null && Number.isFinite(n.metric)) tokens.push(NodeContext.canKeep);
  if (decided && n.status === 'keep' && n.id !== 0) tokens.push(NodeContext.canDiscard);
  if (n.commit) tokens.push(NodeContext.hasCode);
  if (n.logPath) tokens.push(NodeContext.hasLog);
  if (decided && n.commit) tokens.push(NodeContext.canRerun);
  if (waiting) tokens.push('waitingForResult');

  const statusWord = interrupted ? 'interrupted' : n.status === 'running' && n.finishedAt ? 'deciding' : n.status;
  const accessibilityLabel = `${label}, ${statusWord}${n.metric !== null ? `, ${metricName} ${fmtNum(n.metric)}` : ''}${isBest ? ', best so far' : ''}`;

  return { label, description, icon, tooltip: tooltip(n, parent, ctx, { isBest, interrupted, waiting, metricName, budgetMs }), contextValue: tokens.join(' '), accessibilityLabel };
}

/**
 * The nodes whose children show when the view first draws them: the roots, the best and every node on the way to it
 * or to an experiment not yet decided, so the best is never hidden under collapsed nodes; other branches start closed.
 */
export function expandedByDefault(model: SessionModel): Set<number> {
  const open = new Set<number>();
  for (const n of model.nodes) if (n && n.parentId === null) open.add(n.id);
  const best = model.best;
  for (const target of best ? [best, ...model.undecided()] : model.undecided()) {
    for (const p of model.pathTo(target.id)) open.add(p.id);
  }
  return open;
}

/**
 * The lines above a run log in its read-only editor: which experiment, how it was decided, what it measured,
 * where the file is. Each starts with `# ` so the log below reads as it was written.
 */
export function runLogHeader(n: ExperimentNode, model: SessionModel, now: number, omittedBytes = 0): string[] {
  const parent = n.parentId === null ? undefined : model.get(n.parentId);
  const metricName = model.config?.metric.name ?? 'metric';
  const budget = model.config?.budgetText ?? fmtDuration((model.config?.budgetSeconds ?? 0) * 1000);
  const lines = [`Run log of #${n.id} ${n.description}${model.tag ? ` · session ${model.tag}` : ''}`];
  if (n.decidedBy === null) {
    lines.push(n.status === 'running' && n.finishedAt ? `ran ${fmtDuration(n.wallMs)} of a ${budget} budget; ${DECIDING}`
      : n.status === 'running' && n.startedAt ? `running ${fmtClock(now - Date.parse(n.startedAt))} of a ${budget} budget (refreshed as it writes)` : 'not decided yet');
  } else {
    lines.push(`${n.status}, decided by ${n.decidedBy === 'human' ? 'you' : 'the rule'}: ${short(n.reason, 160)}`);
    const measured = n.id === 0 ? (n.metric === null ? '' : `${metricName} ${fmtNum(n.metric)}`) : metricWithDelta(n, parent).replace(/^(?=.)/, `${metricName} `);
    const run = [measured, n.wallMs !== null ? `${fmtDuration(n.wallMs)} of a ${budget} budget${n.timedOut ? ' (timed out)' : ''}` : '', n.exitCode !== null ? `exit ${n.exitCode}` : ''].filter(Boolean);
    if (run.length) lines.push(run.join(' · '));
  }
  if (n.logPath) lines.push(`file: ${n.logPath}${omittedBytes > 0 ? ` (its last part: ${Math.round(omittedBytes / 1024)} KB before it are left out here)` : ''}`);
  lines.push('─'.repeat(60));
  return lines.map((l) => `# ${l}`);
}

function tooltip(
  n: ExperimentNode,
  parent: ExperimentNode | undefined,
  ctx: PresentationContext,
  o: { isBest: boolean; interrupted: boolean; waiting: boolean; metricName: string; budgetMs: number },
): string {
  const icon = o.interrupted ? INTERRUPTED_ICON : o.isBest ? BEST_ICON : STATUS_ICON[n.status];
  const out: string[] = [];
  out.push(`**#${n.id} ${md(n.description)}**${o.isBest ? ' · $(star-full) best so far' : ''}`, '');
  let verdict: string;
  if (o.interrupted) verdict = `$(${icon.id}) **interrupted**: its session stopped before it was decided; it runs again when the session resumes.`;
  else if (n.decidedBy === null) verdict = n.status === 'running' ? (o.waiting ? '$(watch) **waiting for your result**: run it, then use *Record Result*.' : n.finishedAt ? '$(loading~spin) **deciding**: it ran; its result is being read and judged' : '$(loading~spin) **running**') : '**about to run**';
  else if (n.decidedBy === 'human') verdict = `$(person) **${n.status}**, decided by you${n.ruleStatus && n.ruleStatus !== n.status ? ` (the rule said ${n.ruleStatus})` : ''}: ${md(n.reason)}`;
  else verdict = `$(${icon.id}) **${n.status}**, decided by the rule: ${md(n.reason)}`;
  out.push(verdict, '');

  const rows: [string, string][] = [];
  if (n.metric !== null) {
    const vsParent = parent && parent.metric !== null && Number.isFinite(parent.metric) && Number.isFinite(n.metric)
      ? ` · parent #${parent.id}: ${fmtNum(parent.metric)} · Δ ${fmtDelta(parent.metric, n.metric)}` : '';
    rows.push([o.metricName, `**${fmtNum(n.metric)}**${md(vsParent)}`]);
  } else if (n.decidedBy !== null) rows.push([o.metricName, 'no result']);
  const band = ctx.model.noiseBand();
  if (band && n.id !== 0) {
    const inside = withinNoise(n, parent, ctx.model);
    const how = band.spread === null
      ? `±${parent?.metric != null && Number.isFinite(parent.metric) ? fmtNum(Math.max(band.threshold, minDeltaAt(band, parent.metric))) : fmtNum(band.threshold)} (minDelta${band.minDeltaShare === undefined ? '' : ` ${minDeltaText(band)}`}; the spread is measured from ${band.repeats} baseline runs, ${band.samples} so far)`
      : `±${fmtNum(band.threshold)} (${band.z}${band.alpha === undefined ? '' : `, chosen for alpha ${fmtChance(band.alpha)},`} × spread ${fmtNum(band.spread)} from ${band.source})`;
    rows.push(['noise band', md(`${how}${inside === null ? '' : inside ? ' · this change is within noise' : ' · this change is beyond noise'}`)]);
  }
  for (const [k, v] of Object.entries(n.secondary)) rows.push([k, fmtNum(v)]);
  if (n.memoryGb !== null) rows.push(['memory', fmtMemory(n.memoryGb)]);
  const budget = ctx.model.config?.budgetText ?? fmtDuration(o.budgetMs);
  if (n.wallMs !== null) rows.push(['duration', `${fmtDuration(n.wallMs)} of a ${budget} budget${n.timedOut ? ' (timed out)' : ''}`]);
  else if (n.status === 'running' && n.startedAt && !o.interrupted) {
    rows.push(['elapsed', fmtRunClock(ctx.now - Date.parse(n.startedAt), o.budgetMs)]);
    const line = ctx.latestLine?.(n);
    if (line) rows.push(['latest', `\`${line.replace(/`/g, "'")}\``]);
  }
  if (n.checks) rows.push(['checks', md(`${n.checks.passed ? 'passed' : `failed, ${n.checks.reason}`} in ${fmtDuration(n.checks.wallMs)} · log ${n.checks.logPath}`)]);
  if (n.commit) rows.push(['commit', `\`${n.commit.slice(0, 7)}\``]);
  rows.push(['operator', n.operator]);
  if (n.parentId !== null) rows.push(['parent', `#${n.parentId}${parent ? ` ${md(parent.description)}` : ''}`]);
  if (n.mergedFrom !== undefined) rows.push(['merged from', `#${n.mergedFrom} ${md(ctx.model.get(n.mergedFrom)?.description ?? '')}`.trimEnd()]);
  if (n.changedFiles.length) rows.push(['changed', n.changedFiles.map((f) => `\`${f}\``).join(', ')]);
  if (n.policyReason) rows.push(['why chosen', md(n.policyReason)]);
  if (n.hint) rows.push(['hypothesis', md(n.hint)]);
  if (n.proposer.model) rows.push(['proposer', md(`${n.proposer.kind} (${n.proposer.model})`)]);
  if (n.proposer.costUsd) rows.push(['cost', fmtCost(n.proposer.costUsd)]);
  out.push('| | |', '|:--|:--|', ...rows.map(([k, v]) => `| ${k} | ${v} |`), '');
  if (n.plan) out.push(`**Plan.** ${md(n.plan)}`, '');
  if (n.status === 'crash' && n.logTail) out.push('**Log tail**', '', '```', n.logTail.split('\n').slice(-8).join('\n').replace(/```/g, "'''"), '```');
  return out.join('\n');
}
