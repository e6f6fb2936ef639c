// Running nodes in slots: the baseline and its noise repeats, the re-runs people ask for, confirmation runs, and any
// node's run from its start record to its judgement.
import { join } from 'node:path';
import type { RunRequest } from '../executors/executor.js';
import { compact, CurveReader, lateWins, pruneVerdict, stoppedReason, valueAt, type LateWin, type PruneVerdict } from '../judging/curves.js';
import { DEFAULT_PRUNE } from '../config.js';
import { readTail } from '../files.js';
import { nodeRef } from '../git.js';
import { parentRunKey } from '../model.js';
import type { NodeCreated } from '../record/journal.js';
import type { ExperimentNode, Judgement } from '../types.js';
import { ChecksGate } from './checks.js';
import type { Commands } from './commands.js';
import type { SessionContext, Slot } from './context.js';
import { invalid, parentRunsOf, type Decisions } from './decisions.js';
import type { GpuPacking } from './packing.js';
import type { SessionRecord } from './record.js';

export class Runs {
  private readonly checks: ChecksGate;

  constructor(
    private readonly ctx: SessionContext, private readonly record: SessionRecord, private readonly decisions: Decisions, private readonly commands: Commands,
    private readonly packing: GpuPacking,
  ) {
    this.checks = new ChecksGate(ctx, record);
  }

  async ensureBaseline(): Promise<void> {
    const { model, config } = this.ctx;
    let base = model.baseline;
    if (!base) {
      const created: NodeCreated = {
        id: 0, parentId: null, operator: 'baseline', commit: model.baseCommit, description: 'baseline', plan: 'The code as committed when the session started.',
        editKey: 'baseline', changedFiles: [], policyReason: 'every session measures its starting point first', proposer: { kind: 'none' }, hint: null, createdAt: new Date().toISOString(),
      };
      await this.ctx.lab.setRef(nodeRef(config.tag, 0), model.baseCommit);
      this.record.append({ type: 'node', node: created });
      base = model.baseline!;
      this.ctx.emit({ type: 'node-added', node: base });
    }
    if (base.decidedBy === null) {
      const slot = this.ctx.slots[0]!;
      await this.ctx.checkout(slot.worktree, base.commit!);
      await this.runNode(base, slot);
    }
    if (this.ctx.stopping) return;
    if (base.status !== 'keep') {
      this.ctx.failReason = this.decisions.baselineFailure(base);
      return;
    }
    await this.measureNoise(base);
  }

  /** Runs the baseline again until it has `noise.repeats` runs, spread over the slots: their spread is the noise. */
  private async measureNoise(base: ExperimentNode): Promise<void> {
    const noise = this.ctx.config.noise;
    if (!noise) return;
    const have = this.ctx.model.childrenOf(0).filter((c) => c.editKey.startsWith('noise:')).length;
    const todo = Array.from({ length: Math.max(0, noise.repeats - 1 - have) }, (_, i) => have + i + 1);
    // Only the slots whose GPU holds the baseline's memory that many times over (slotsPerGpu).
    await Promise.all(this.ctx.slots.map(async (slot) => {
      while (!this.ctx.stopping && this.packing.allows(slot)) {
        const k = todo.shift();
        if (k === undefined) break;
        const node = await this.createRerunNode(base, `noise:0:${k}`, `baseline run ${k + 1} of ${noise.repeats} (noise estimate)`,
          `Run the baseline's exact code again: the spread of its ${noise.repeats} runs is the noise a change must beat.`, `noise: {repeats: ${noise.repeats}} measures the run-to-run spread first`);
        await this.ctx.checkout(slot.worktree, base.commit!);
        await this.runNode(node, slot);
      }
    }));
    if (this.ctx.stopping) return;
    this.decisions.reportNoise();
  }

  private createRerunNode(original: ExperimentNode, editKey: string | ((id: number) => string), description: string, plan: string, policyReason: string): Promise<ExperimentNode> {
    return this.record.addNode(async (id) => {
      await this.ctx.lab.setRef(nodeRef(this.ctx.config.tag, id), original.commit!);
      return {
        id, parentId: original.id, operator: 'rerun', commit: original.commit, description, plan, editKey: typeof editKey === 'string' ? editKey : editKey(id), changedFiles: [],
        policyReason, proposer: { kind: 'none' }, hint: null, createdAt: new Date().toISOString(),
      };
    });
  }

  async runRerun(id: number, slot: Slot): Promise<void> {
    const original = this.ctx.model.get(id);
    if (!original?.commit) return;
    this.ctx.inFlight++;
    try {
      const node = await this.createRerunNode(original, (newId) => `rerun:${newId}`, `re-run of #${id} (noise check)`,
        `Run #${id}'s exact code again to see how far the metric moves by noise alone.`, 'a person asked for a noise check');
      await this.ctx.checkout(slot.worktree, original.commit);
      await this.runNode(node, slot);
    } finally {
      this.ctx.inFlight--;
      this.ctx.poke();
    }
  }

  /** Runs a node in a slot; with `handle`, watches the run a previous controller started instead (recovery). */
  async runNode(node: ExperimentNode, slot: Slot, handle?: string): Promise<void> {
    const { config, protection } = this.ctx;
    const logPath = join(this.ctx.paths.logs, `${node.id}.log`);
    const before = await protection.beforeRun(slot.worktree);
    this.record.rememberResults();
    const startedAt = new Date();
    const abort = new AbortController();
    slot.abort = abort;
    let lastLine = '';
    let lastEmit = 0;
    // The learning curve, and early stopping against the parent's curve at the same point of the budget.
    const budgetMs = config.budgetSeconds * 1000;
    const newReader = () => new CurveReader(config.progress ?? config.metric.pattern, budgetMs);
    let reader = newReader();
    // When the run's budget started: a cluster job's after its wait in the queue (and again after a requeue, whose
    // output starts over), so that its curve is read on its own run's clock, as its parent's was.
    let clock = startedAt.getTime();
    const parentNode = node.parentId === null ? undefined : this.ctx.model.get(node.parentId);
    const parentCurve = parentNode?.curve ?? null;
    // A parent that ended by itself (not at the budget): a run slower than it per point is held to nan or inf (curves.ts).
    const parentPrinted = parentNode && !parentNode.timedOut && parentNode.exitCode === 0 ? parentNode.curvePrinted ?? null : null;
    // A person may turn early stopping on or off while the session (and this run) goes: asked at every point.
    const pruneRule = () => (this.ctx.model.pruneSet === false ? null : config.prune ?? (this.ctx.model.pruneSet ? DEFAULT_PRUNE : null));
    const mayPrune = node.id !== 0 && node.operator !== 'rerun' && handle === undefined && !!parentCurve?.length;
    let pruned: PruneVerdict | null = null;
    // What late winners made up, read once, when a rule first needs it.
    let late: LateWin[] | null = null;
    const request: RunRequest = {
      nodeId: node.id, tag: config.tag, cwd: slot.worktree, command: config.run, budgetSeconds: config.budgetSeconds,
      graceSeconds: config.graceSeconds, slot: slot.index, logPath, signal: abort.signal, env: this.slotEnv(slot.index),
      sandbox: before.sandbox,
      onOutput: (chunk) => {
        const lines = chunk.split(/\r?\n|\r/).map((l) => l.trim()).filter(Boolean);
        if (lines.length) lastLine = lines[lines.length - 1]!;
        const now = Date.now();
        const added = reader.feed(chunk, now - clock);
        const point = added.at(-1);
        const rule = point && mayPrune && !pruned ? pruneRule() : null;
        if (rule) {
          late ??= this.lateWins();
          pruned = pruneVerdict({ curve: reader.points, parent: parentCurve, direction: config.metric.direction, late, spread: this.ctx.model.noiseBand()?.spread ?? null, rule, parentPrinted });
          if (pruned) abort.abort();
        }
        if (now - lastEmit > 250 || point) {
          lastEmit = now;
          const last = reader.points.at(-1);
          this.ctx.emit({
            type: 'run-progress', nodeId: node.id, elapsedMs: now - clock, budgetMs, line: lastLine,
            ...(last ? { value: last[1], parentValue: parentCurve ? valueAt(parentCurve, last[0]) : null } : {}),
            ...(point ? { point } : {}),
          });
        }
      },
      onRunning: (at) => {
        if (reader.points.length) reader = newReader();
        clock = at;
      },
    };
    const executor = this.ctx.options.executor;
    const running = handle !== undefined && executor.reattach ? executor.reattach(request, handle) : executor.start(request);
    slot.running = running;
    this.commands.deliverEarlyRecord(node.id);
    // The pid (or a cluster job's id, once submitted) goes into the journal so a resumed controller can end or find
    // a run its dead predecessor left behind. A reattached run keeps the start record it has.
    if (running.submitted) await running.submitted;
    if (handle === undefined) this.record.append({ type: 'start', id: node.id, slot: slot.index, startedAt: startedAt.toISOString(), logPath, pid: running.pid, ...(running.handle ? { handle: running.handle } : {}) });
    this.ctx.emit({ type: 'run-started', node, slot: slot.index, budgetSeconds: config.budgetSeconds });
    const run = await this.ctx.awaitRun(slot, running, before, node.id);
    // A stopped run is not a result: it runs again when the session resumes.
    if (this.ctx.stopping) return;
    if (reader.points.length) this.record.append({ type: 'curve', id: node.id, points: compact(reader.points), printed: reader.points.length });
    this.record.append({ type: 'finish', id: node.id, run, finishedAt: new Date().toISOString() });
    this.ctx.emit({ type: 'run-finished', node });

    const invalidRun = await protection.afterRun(before, node.commit!, node.id, () => readTail(logPath, 256 * 1024));
    if (invalidRun) {
      this.decisions.decide(node, invalid(invalidRun));
      return;
    }
    const records = this.record.restoreAfterRun();
    if (records.length) {
      this.decisions.decide(node, invalid(`the run modified ${records.join(' and ')} (restored)`));
      return;
    }
    if (pruned) {
      this.decisions.decide(node, { status: 'discard', metric: null, memoryGb: null, secondary: {}, reason: stoppedReason(pruned, config.metric.name, node.parentId) });
      return;
    }
    await this.settle(node, await this.decisions.judgeRun(node, run), slot, true);
  }

  /** What this session's late winners overcame: runs worse than their parent part-way that ended better. */
  private lateWins(): LateWin[] {
    const { model, config } = this.ctx;
    const pairs = [];
    for (const n of model.nodes) {
      if (!n?.curve || n.metric === null || n.parentId === null || n.status !== 'keep') continue;
      const p = model.get(n.parentId);
      if (p?.curve && p.metric !== null) pairs.push({ child: n.curve, parent: p.curve, childFinal: n.metric, parentFinal: p.metric });
    }
    return lateWins(pairs, config.metric.direction);
  }

  /** `gpus: [...]`: slot i sees only gpus[i % length]; with slotsPerGpu, several slots see the same one. */
  private slotEnv(slot: number): Record<string, string> | undefined {
    const gpus = this.ctx.config.gpus;
    return gpus.length ? { CUDA_VISIBLE_DEVICES: gpus[slot % gpus.length]! } : undefined;
  }

  /**
   * Decides a judged node. With `noise`, a change whose evidence is still open is run again, one node at a time
   * (journaled like any run), and decided on all its runs and its parent's (Decisions.weigh): a confirmation run of
   * the change, or, while its parent has fewer runs than it (Decisions.nextRun), a run of the parent's exact code
   * for its evidence. A keep then waits for the checks, once. A controller killed on the way settles it again on
   * resume, and runs only what is missing: a run it left undecided goes first, whichever side it was.
   * `inPlace`: the slot's worktree holds the node's commit as its run left it.
   */
  async settle(node: ExperimentNode, j: Judgement, slot: Slot, inPlace = false): Promise<void> {
    let ranNow = false;
    for (let verdict = this.decisions.weigh(node, j); ; verdict = this.decisions.weigh(node, j)) {
      if (verdict) {
        await this.decideChecked(node, verdict, slot, inPlace || ranNow);
        return;
      }
      const check = this.ctx.model.childrenOf(node.id).find((c) => c.operator === 'rerun' && c.editKey.startsWith('confirm:') && c.decidedBy === null)
        ?? parentRunsOf(this.ctx.model, node).find((c) => c.decidedBy === null)
        ?? await (this.decisions.nextRun(node) === 'parent' ? this.createParentRun(node) : this.createConfirmation(node));
      await this.ctx.checkout(slot.worktree, check.commit!);
      await this.runNode(check, slot);
      // The worktree holds the change's code as its run left it only after a run of the change.
      ranNow = check.parentId === node.id;
      inPlace &&= ranNow;
      if (this.ctx.stopping || check.decidedBy === null) return;
    }
  }

  /** The change's next confirmation run: `confirm:<id>`, then `confirm:<id>:<k>`. */
  private createConfirmation(node: ExperimentNode): Promise<ExperimentNode> {
    const k = this.ctx.model.childrenOf(node.id).filter((c) => c.operator === 'rerun' && c.editKey.startsWith('confirm:')).length + 1;
    return this.createRerunNode(node, k === 1 ? `confirm:${node.id}` : `confirm:${node.id}:${k}`, k === 1 ? `confirmation run of #${node.id}` : `confirmation run ${k} of #${node.id}`,
      `Run #${node.id}'s exact code again: a change is kept only on evidence beyond the noise.`, `noise: #${node.id}'s gain is not yet beyond the noise, or it would be a new best`);
  }

  /** A run of the parent's exact code for the change's evidence: the parent had fewer runs than the change. */
  private createParentRun(node: ExperimentNode): Promise<ExperimentNode> {
    const { model } = this.ctx;
    const parent = model.get(node.parentId!)!;
    const k = parentRunsOf(model, node).length + 1;
    const runs = model.estimate(parent.id)?.runs ?? 1;
    return this.createRerunNode(parent, parentRunKey(parent.id, node.id, k), `run ${runs + 1} of #${parent.id} for #${node.id}'s evidence`,
      `Run #${parent.id}'s exact code again: #${node.id} is weighed against the mean of its parent's runs, and the less measured side runs next.`,
      `noise: #${node.id}'s gain is not yet beyond the noise, and its parent #${parent.id} has fewer runs (${runs}) than it`);
  }

  /** Decides `j`, once the checks had their say when it is a keep; nothing when the session stopped meanwhile. */
  private async decideChecked(node: ExperimentNode, j: Judgement, slot: Slot, inPlace: boolean): Promise<void> {
    const verdict = await this.checks.gate(node, j, slot, inPlace, this.slotEnv(slot.index));
    if (verdict) this.decisions.decide(node, verdict);
  }
}
