// The decisions, by rule: a finished run is judged (with what to change when it crashed), a candidate new best is
// held to its confirmation run, noise repeats and re-runs never compete, and every decision is journaled.
import { explainCrash, lastError, metricSuggestion } from '../crashHints.js';
import { readTail } from '../files.js';
import { describeViolations, type ScopeViolation } from '../protection/guard.js';
import type { JournalEntry } from '../record/journal.js';
import { maxRuns, mean, weigh } from '../judging/evidence.js';
import { budgetWithRoom, closeToBudget, NEAR_BUDGET_RISK } from '../configTemplate.js';
import { extractLast, judge, minDeltaAt, minDeltaText, thresholdText } from '../judging/judge.js';
import { isMeasurement, parentRunFor, type SessionModel } from '../model.js';
import { directionText, fmtDuration, fmtNum } from '../../shared/format.js';
import type { ExperimentNode, Judgement, ResearchConfig, RunResult } from '../types.js';
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
      // Every run of the parent's code counts (the baseline's repeats, its confirmation runs), not its first alone.
      parentMetric: parent ? model.estimate(parent.id)?.mean ?? parent.metric : null, isBaseline: node.id === 0, band: model.noiseBand(), repeat: measured,
      netLines: measured || !parent?.commit || !node.commit ? null : await this.netLines(parent.commit, node.commit),
    });
    if (node.id === 0 && j.status === 'keep' && config.atBudget !== 'last') {
      const near = baselineNearBudget(run.wallMs, config);
      if (near) this.ctx.log(near, 'warn');
    }
    if (j.status === 'keep' && parent?.wallMs && !measured) {
      const slower = slowKeep({ id: parent.id, wallMs: parent.wallMs }, run.wallMs, config);
      if (slower) return { ...j, reason: `${j.reason}; ${slower}` };
    }
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
      // atBudget: last helps only a script that printed the metric as it went; one that printed none by then (its first
      // evaluation comes later, or only at the end) needs more time or fewer steps.
      const printed = extractLast(log, config.metric.pattern) !== null;
      const none = printed ? '' : `, and it printed no \`${config.metric.name}\` before then (its first evaluation comes later: fewer steps, a smaller model or fewer evaluation batches bring it within the budget)`;
      return { ...j, reason: `${j.reason}: the baseline must finish within the budget${none}; raise \`budget\` in autoresearch.config.yaml, have the script stop in time (it is told AUTORESEARCH_BUDGET_SECONDS)${printed ? atBudgetHint(config) : ''}` };
    }
    // A script that stops at a fixed number of steps (nanoGPT's max_iters) times out when a change makes each step
    // slower; the parent's time says how close to the budget the line already ran.
    if (run.timedOut && parent?.wallMs) return { ...j, reason: `${j.reason}; ${timeoutAdvice({ id: parent.id, wallMs: parent.wallMs }, config)}` };
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
    if (band.spread === null) this.ctx.log(`noise: fewer than two baseline runs have a metric; changes are judged on minDelta ${minDeltaText(this.ctx.config)} alone`, 'warn');
    else this.ctx.log(`noise: ${band.samples} baseline runs, spread ±${fmtNum(band.spread)}; a change must beat its parent by more than the ${thresholdText(band, this.ctx.config)}`);
  }

  /**
   * With `noise`, a change's verdict rests on every run of its code and of its parent's (sequential testing,
   * evidence.ts): its first run's judgement, then one more run at a time while the evidence is open (it measured
   * better than its parent, not yet beyond the threshold for the runs both have; with `noise.effect`, also while it could
   * still gain that many spreads), up to `noise.maxRuns` (2 × `noise.repeats`) runs of the change; with `noise.confirm`,
   * a new best always has a second run. Which side runs again is nextRun's. The final judgement, or null when it needs
   * another run.
   */
  weigh(node: ExperimentNode, j: Judgement): Judgement | null {
    const { config, model } = this.ctx;
    const noise = config.noise;
    if (!noise || !j.compared || j.simplification || j.metric === null || node.id === 0 || node.operator === 'rerun' || node.parentId === null) return j;
    const parent = model.estimate(node.parentId);
    if (!parent) return j;
    const name = config.metric.name;
    const checks = confirmationsOf(model, node);
    const failed = checks.find((c) => c.metric === null || !Number.isFinite(c.metric) || c.status === 'crash' || c.status === 'invalid');
    if (failed) {
      return { ...j, status: 'discard', reason: `did not hold up: its confirmation run #${failed.id} ${failed.status === 'crash' ? 'crashed' : 'was invalid'} (${failed.reason}); first run ${name} ${fmtNum(j.metric)}` };
    }
    const runs = [j.metric, ...checks.map((c) => c.metric!)];
    const best = model.best;
    const v = weigh({
      runs, parent, spread: model.noiseBand()?.spread ?? null, z: noise.z, minDelta: minDeltaAt(config, parent.mean), minDeltaText: minDeltaText(config, parent.mean), direction: config.metric.direction,
      maxRuns: maxRuns(noise), minRuns: noise.confirm && (!best || model.better(mean(runs), model.rankValue(best.id)!)) ? 2 : 1,
      ...(noise.effect === undefined ? {} : { effect: noise.effect }),
    });
    if (v.action === 'rerun') return null;
    const again = parentRunsOf(model, node).filter((r) => r.decidedBy !== null && r.metric !== null && Number.isFinite(r.metric) && r.status !== 'crash' && r.status !== 'invalid');
    const parentIds = again.length ? `; #${node.parentId} run again as ${again.map((r) => `#${r.id}`).join(', ')}` : '';
    const ids = checks.length ? ` (#${node.id}, ${checks.map((c) => `#${c.id}`).join(', ')}${parentIds})` : '';
    // Its first run may have been within the noise (the judge's discard) before the evidence of every run made it a keep.
    if (v.action === 'keep') return { ...j, status: 'keep', metric: v.mean, reason: checks.length ? `confirmed: ${name} ${v.text}${ids}; ${name} recorded as the mean` : `${name} ${v.text}` };
    // Measured no better than the parent at the first run: the judge's own reason says so, and why it runs no more.
    if (!checks.length && v.gain <= minDeltaAt(config, parent.mean)) return v.bound ? { ...j, reason: `${j.reason}; ${v.bound}` } : j;
    return { ...j, status: 'discard', metric: v.mean, reason: checks.length ? `did not hold up: ${name} ${v.text}${ids}` : `within noise: ${name} ${v.text}` };
  }

  /**
   * Which side of a candidate's open evidence runs next, as a statistician would: the less measured one. Its parent
   * while the parent has fewer runs than the candidate (a parent kept on one run would otherwise hold the threshold
   * at z × spread × √(1/n + 1) however often the candidate ran) and none of its re-runs for this candidate failed;
   * else the candidate. Bounded: the parent runs again only while it has fewer runs than the candidate.
   */
  nextRun(node: ExperimentNode): 'parent' | 'candidate' {
    const { model } = this.ctx;
    const parent = node.parentId === null ? undefined : model.get(node.parentId);
    const m = parent ? model.estimate(parent.id)?.runs ?? 0 : 0;
    if (!parent?.commit || m === 0) return 'candidate';
    const failed = parentRunsOf(model, node).some((r) => r.decidedBy !== null && (r.metric === null || !Number.isFinite(r.metric) || r.status === 'crash' || r.status === 'invalid'));
    return !failed && m < 1 + confirmationsOf(model, node).length ? 'parent' : 'candidate';
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

/**
 * What to do about a change that ran past the budget, from how long its parent took. A line that already ran close
 * to the budget tips over with a little more time (the change, a busier machine); far from it, the change itself
 * made the run much slower, or it hangs. Never `atBudget: last`: the parent ended by itself, and the change's last
 * value when the budget stopped it would be compared with the parent's final one, at less training.
 */
export function timeoutAdvice(parent: { id: number; wallMs: number }, config: Pick<ResearchConfig, 'budgetSeconds' | 'budgetText'>): string {
  const took = `its parent #${parent.id} took ${fmtDuration(parent.wallMs)} of the ${config.budgetText} budget`;
  const why = closeToBudget(parent.wallMs, config.budgetSeconds)
    ? `${took}, close to it: a run a little slower (this change, or a busier machine) runs past it. Raise \`budget\` (\`budget: ${budgetWithRoom(parent.wallMs)}\` is about twice the parent's time)`
    : `${took}: this change made the run much slower, or it hangs (its log says which). If that is what it costs, raise \`budget\``;
  return `${why}, or have the script stop in time (it is told AUTORESEARCH_BUDGET_SECONDS)`;
}

/**
 * What to say when the baseline itself ran close to the budget (nanoGPT on a CPU: 2:29 of 3m, after which three of ten
 * changes ran past it, a larger batch, a deeper model, a busier machine): each such run is a crash that says nothing
 * of its change, so the session says it at once, not in the summary the next morning. Null when there was room.
 */
export function baselineNearBudget(wallMs: number, config: Pick<ResearchConfig, 'budgetSeconds' | 'budgetText'>): string | null {
  if (!closeToBudget(wallMs, config.budgetSeconds)) return null;
  const share = Math.round((100 * wallMs) / (config.budgetSeconds * 1000));
  return `the baseline took ${fmtDuration(wallMs)}, ${share} % of the ${config.budgetText} budget: ${NEAR_BUDGET_RISK}. To give them room, stop the session, set \`budget: ${budgetWithRoom(wallMs)}\` (about twice the baseline) and start it again: it goes on with the new budget`;
}

/**
 * What to say of a kept change that made the run much slower and brought it close to the budget (ng-video-lecture's
 * `batch_size 16 → 32`, 1:30 → 2:46 of 3m): a change on top of it that adds a little more time runs past the budget
 * and is a crash, and part of its gain may be the extra compute. Null when it stayed clear of the budget, or was
 * not much slower than its parent.
 */
export function slowKeep(parent: { id: number; wallMs: number }, wallMs: number, config: Pick<ResearchConfig, 'budgetSeconds' | 'budgetText'>): string | null {
  if (!closeToBudget(wallMs, config.budgetSeconds) || wallMs < SLOWER_KEEP * parent.wallMs) return null;
  const share = Math.round((100 * wallMs) / (config.budgetSeconds * 1000));
  return `it took ${fmtDuration(wallMs)}, ${(wallMs / parent.wallMs).toFixed(1)}× #${parent.id}'s ${fmtDuration(parent.wallMs)} and ${share} % of the ${config.budgetText} budget: part of its gain may be the extra compute, and a change on top that adds a little more time runs past the budget (\`budget: ${budgetWithRoom(wallMs)}\` is about twice this run)`;
}

/** How much slower than its parent a kept run must be for slowKeep to say so. */
const SLOWER_KEEP = 1.3;

/** The third way out of a timeout, where the config does not take it yet: judge runs on what they printed by the budget. */
function atBudgetHint(config: Pick<ResearchConfig, 'atBudget'>): string {
  return config.atBudget === 'last' ? '' : ', or set `atBudget: last` to judge each run on the last value it printed when the budget stops it (fixed-step scripts that print the metric as they go)';
}

/** A node's confirmation runs, decided, in the order they ran. */
export function confirmationsOf(model: SessionModel, node: ExperimentNode): ExperimentNode[] {
  return model.childrenOf(node.id).filter((c) => c.operator === 'rerun' && c.editKey.startsWith('confirm:') && c.decidedBy !== null);
}

/** The re-runs of a node's parent for its evidence (parentRunKey), decided or not, in the order they were made. */
export function parentRunsOf(model: SessionModel, node: ExperimentNode): ExperimentNode[] {
  if (node.parentId === null) return [];
  return model.childrenOf(node.parentId).filter((c) => parentRunFor(c) === node.id);
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
