// The decisions, by rule: a finished run is judged (with what to change when it crashed), a candidate new best is
// held to its confirmation run, noise repeats and re-runs never compete, and every decision is journaled.
import { explainCrash, lastError, metricSuggestion } from '../crashHints.js';
import { readTail } from '../files.js';
import { describeViolations, type ScopeViolation } from '../guard.js';
import type { JournalEntry } from '../journal.js';
import { improvement, judge, thresholdText } from '../judge.js';
import { isMeasurement, type SessionModel } from '../model.js';
import { directionText, fmtNum } from '../../shared/format.js';
import type { ExperimentNode, Judgement, RunResult } from '../types.js';
import type { SessionContext } from './context.js';
import { experimentLine, type SessionRecord } from './record.js';

const LOG_TAIL_BYTES = 8 * 1024 * 1024;

export class Decisions {
  /** Crashes whose reason already says what to change. */
  private readonly advised = new Set<number>();

  constructor(private readonly ctx: SessionContext, private readonly record: SessionRecord) {}

  async judgeRun(node: ExperimentNode, run: RunResult): Promise<Judgement> {
    const { config, model } = this.ctx;
    const parent = node.parentId === null ? undefined : model.get(node.parentId);
    const measured = node.id === 0 || node.operator === 'rerun';
    const log = readTail(run.logPath, LOG_TAIL_BYTES);
    const j = judge({
      log, run, config,
      parentMetric: parent?.metric ?? null, isBaseline: node.id === 0, band: model.noiseBand(), repeat: measured,
      netLines: measured || !parent?.commit || !node.commit ? null : await this.netLines(parent.commit, node.commit),
    });
    if (j.status !== 'crash') return j;
    const slot = node.slot === null ? undefined : this.ctx.slots[node.slot];
    const hint = slot && explainCrash(j.logTail ?? log.slice(-8192), {
      worktree: slot.worktree, root: this.ctx.lab.root, run: config.run, shared: config.shared ?? null, leftOut: this.ctx.protection.shared.plan.leftOut,
    });
    if (hint) {
      this.advised.add(node.id);
      return { ...j, reason: `${j.reason}: ${hint}` };
    }
    const error = lastError(j.logTail ?? log.slice(-8192));
    if (error && !j.reason.includes('out of memory')) return { ...j, reason: `${j.reason} (${error})` };
    const missing = j.reason.startsWith('no `') ? metricSuggestion(log, config.metric.name) : null;
    if (missing) {
      if (node.id === 0) this.advised.add(node.id);
      return { ...j, reason: `${j.reason}; ${missing}` };
    }
    if (node.id === 0 && run.timedOut) {
      this.advised.add(node.id);
      return { ...j, reason: `${j.reason}: the baseline must finish within the budget; raise \`budget\` in autoresearch.config.yaml, or have the script stop in time (it is told AUTORESEARCH_BUDGET_SECONDS)` };
    }
    return j;
  }

  /** Lines added minus lines removed from `from` to `to` (binary files count as none). */
  private async netLines(from: string, to: string): Promise<number | null> {
    try {
      const out = await this.ctx.lab.raw(['diff', '--numstat', from, to]);
      let net = 0;
      for (const line of out.split('\n')) {
        const m = /^(\d+)\t(\d+)\t/.exec(line);
        if (m) net += Number(m[1]) - Number(m[2]);
      }
      return net;
    } catch {
      return null;
    }
  }

  /** Why a baseline that was not kept ends the session, and what to do about it. */
  baselineFailure(base: ExperimentNode): string {
    // A reason that already says what to change (a missing shared input, the wrong Python) is the advice.
    const advice = this.advised.has(base.id) || base.checks?.passed === false ? 'Then start again' : 'Fix the run command or the script, then start again';
    return `the baseline ${base.status === 'crash' ? 'crashed' : 'was not usable'}: ${base.reason.replace(/\.+$/, '')}. ${advice} (log: ${base.logPath ?? 'none'}); a new start begins a new attempt.`;
  }

  /** What the baseline's repeats measured: the spread a change must beat. */
  reportNoise(): void {
    const band = this.ctx.model.noiseBand()!;
    if (band.spread === null) this.ctx.log(`noise: fewer than two baseline runs have a metric; changes are judged on minDelta ${this.ctx.config.minDelta} alone`, 'warn');
    else this.ctx.log(`noise: ${band.samples} baseline runs, spread ±${fmtNum(band.spread)}; a change must beat its parent by more than the ${thresholdText(band, this.ctx.config.minDelta)}`);
  }

  /** With `noise.confirm`, a candidate new best is run once more before it is kept. */
  needsConfirmation(node: ExperimentNode, j: Judgement): boolean {
    const { model } = this.ctx;
    if (!this.ctx.config.noise?.confirm || j.status !== 'keep' || j.simplification || node.id === 0 || node.operator === 'rerun' || j.metric === null) return false;
    const parent = node.parentId === null ? undefined : model.get(node.parentId);
    if (parent?.metric === null || parent?.metric === undefined) return false;
    const best = model.best;
    return !best || model.better(j.metric, best.metric!);
  }

  /** Kept only if the mean of both runs still beats the parent by more than the threshold; the mean becomes its metric. */
  confirmed(node: ExperimentNode, j: Judgement, check: ExperimentNode): Judgement {
    const { config, model } = this.ctx;
    const name = config.metric.name;
    const parent = model.get(node.parentId!)!;
    const band = model.noiseBand();
    const margin = thresholdText(band, config.minDelta);
    if (check.metric === null || !Number.isFinite(check.metric) || check.status === 'crash' || check.status === 'invalid') {
      return { ...j, status: 'discard', reason: `did not hold up: its confirmation run #${check.id} ${check.status === 'crash' ? 'crashed' : 'was invalid'} (${check.reason}); first run ${name} ${fmtNum(j.metric)}` };
    }
    const mean = (j.metric! + check.metric) / 2;
    const gain = improvement(parent.metric!, mean, config.metric.direction);
    const threshold = band?.spread != null ? band.threshold : config.minDelta;
    const runs = `runs ${fmtNum(j.metric)} and ${fmtNum(check.metric)} (#${check.id}), mean ${fmtNum(mean)}`;
    if (gain - threshold > 1e-12 * Math.max(1, Math.abs(parent.metric!))) {
      return { ...j, metric: mean, reason: `confirmed: ${runs} beats parent ${fmtNum(parent.metric)} by ${fmtNum(gain)}, more than the ${margin}; ${name} recorded as the mean` };
    }
    return { ...j, metric: mean, status: 'discard', reason: `did not hold up: ${runs} beats parent ${fmtNum(parent.metric)} by ${fmtNum(gain)}, not more than the ${margin}` };
  }

  decide(node: ExperimentNode, j: Judgement): void {
    const { config, model } = this.ctx;
    let verdict = j;
    // A re-run measures noise; it never competes with the node it repeats.
    if (node.operator === 'rerun' && j.status === 'keep') {
      verdict = isMeasurement(node)
        ? { ...j, status: 'discard', reason: `${node.description}: ${config.metric.name} ${fmtNum(j.metric)}` }
        : { ...j, status: 'discard', reason: `noise check of #${node.parentId}: ${j.reason}` };
    } else if (node.operator === 'rerun' && j.status === 'discard' && isMeasurement(node)) {
      verdict = { ...j, reason: `${node.description}: ${config.metric.name} ${fmtNum(j.metric)}` };
    }
    this.record.append({ type: 'decide', id: node.id, status: verdict.status, metric: verdict.metric, memoryGb: verdict.memoryGb, secondary: verdict.secondary, reason: verdict.reason, decidedBy: 'rule', logTail: verdict.logTail });
    this.record.appendResultsRow(node);
    const line = experimentLine(config.tag, config.metric.name, node);
    this.ctx.emit({ type: 'node-updated', node });
    this.ctx.emit({ type: 'experiment', line, node });
    void this.record.updateBranch();
    if (node.id !== 0 && model.decidedCount > 0 && model.decidedCount % 10 === 0) this.ctx.emit({ type: 'report', text: this.progressReport() });
    this.ctx.poke();
  }

  private progressReport(): string {
    const { config, model } = this.ctx;
    const base = model.baseline;
    const best = model.best;
    // From the end: a report every ten experiments must not walk a 10,000-node session.
    const last: ExperimentNode[] = [];
    for (let i = model.nodes.length - 1; i > 0 && last.length < 5; i--) {
      const n = model.nodes[i];
      if (n && n.decidedBy !== null) last.unshift(n);
    }
    return [
      `Progress after ${model.decidedCount} experiments: best ${fmtNum(best?.metric)} (#${best?.id}) vs baseline ${fmtNum(base?.metric)}, ${directionText(config.metric.direction)}.`,
      `Last five: ${last.map((n) => `#${n.id} ${n.status} ${fmtNum(n.metric)} ${n.description}`).join('; ')}.`,
      `Direction: ${best && best.id !== 0 ? `building on #${best.id} (${best.description})` : 'still looking for a first improvement'}.`,
    ].join('\n');
  }
}

/** A node that never ran, or whose run did not count, for `reason`. */
export function invalid(reason: string): Judgement {
  return { status: 'invalid', metric: null, memoryGb: null, secondary: {}, reason };
}

export function invalidScope(v: readonly ScopeViolation[]): Judgement {
  return invalid(`the proposal touched files outside its scope: ${describeViolations(v)}; it was not run`);
}

/**
 * Shared by the running controller and the offline CLI: a human decision, journaled like any other. A person who
 * overrode the rule and now asks for the rule's own status back (Undo) gets the rule's decision again, its reason
 * and measurement as the rule wrote them, marked `restored`: the node is no longer "decided by you".
 */
export function applyOverride(append: (e: JournalEntry) => void, model: SessionModel, id: number, status: 'keep' | 'discard', reason: string): void {
  const rule = model.ruleDecision(id);
  if (model.get(id)?.decidedBy === 'human' && rule?.status === status) {
    append({ type: 'decide', id, status, metric: rule.metric, memoryGb: rule.memoryGb, secondary: rule.secondary, reason: rule.reason, decidedBy: 'rule', restored: true });
    return;
  }
  append({ type: 'decide', id, status, metric: null, memoryGb: null, secondary: {}, reason: reason || `${status === 'keep' ? 'kept' : 'discarded'} by a person`, decidedBy: 'human' });
}
