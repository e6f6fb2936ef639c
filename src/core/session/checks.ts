// The checks gate: the config's `checks` (tests, a lint) run once in a candidate's worktree after the rule said
// keep, on this machine, sandboxed and watched like a run; failing checks turn the keep into a discard, with the
// reason and a log of their own. A stop while they run decides nothing: the node is settled again on resume.
import { join } from 'node:path';
import { readTail } from '../files.js';
import { LocalExecutor } from '../executors/localExecutor.js';
import type { ExperimentNode, Judgement, NodeChecks, RunResult } from '../types.js';
import type { SessionContext, Slot } from './context.js';
import type { SessionRecord } from './record.js';
import { fmtDuration, truncate } from '../../shared/format.js';

const LOG_TAIL_BYTES = 256 * 1024;

export class ChecksGate {
  /** The checks run here even when the experiments run on a cluster or by hand. */
  private readonly executor = new LocalExecutor();

  constructor(private readonly ctx: SessionContext, private readonly record: SessionRecord) {}

  /** A keep by the rule of anything but a noise run waits for the checks, when the config has them. */
  applies(node: ExperimentNode, j: Judgement): boolean {
    return !!this.ctx.config.checks && j.status === 'keep' && node.operator !== 'rerun';
  }

  /**
   * `j` once the checks had their say in `slot` (already at the node's commit when `inPlace`), or null when the
   * session stopped meanwhile.
   */
  async gate(node: ExperimentNode, j: Judgement, slot: Slot, inPlace: boolean, env?: Record<string, string>): Promise<Judgement | null> {
    if (!this.applies(node, j)) return j;
    const { config, protection } = this.ctx;
    const command = config.checks!;
    if (!inPlace) await this.ctx.checkout(slot.worktree, node.commit!);
    if (this.ctx.stopping) return null;
    const logPath = join(this.ctx.paths.logs, `${node.id}.checks.log`);
    const before = await protection.beforeRun(slot.worktree);
    this.record.rememberResults();
    const abort = new AbortController();
    slot.abort = abort;
    this.ctx.log(`#${node.id} would be kept; running the checks: \`${command}\``);
    // The sandbox is bubblewrap as probed on this machine; a cluster's is decided on its nodes, so detection here.
    const sandbox = this.ctx.options.executor.sandboxed === 'here' ? before.sandbox : undefined;
    const running = this.executor.start({
      nodeId: node.id, tag: config.tag, cwd: slot.worktree, command, budgetSeconds: config.budgetSeconds, graceSeconds: config.graceSeconds,
      slot: slot.index, logPath, signal: abort.signal, env: { ...env, AUTORESEARCH_CHECKS: '1' }, sandbox,
    });
    slot.running = running;
    const run = await this.ctx.awaitRun(slot, running, before, node.id);
    if (this.ctx.stopping) return null;

    const log = readTail(logPath, LOG_TAIL_BYTES);
    // What they changed is undone and fails them; a write the sandbox refused only counts through their exit.
    const fenced = await protection.afterRun(before, node.commit!, node.id, () => log);
    const changed = [
      fenced?.startsWith('the sandbox stopped a write') ? null : fenced?.replace(/\bthe run\b/g, 'they'),
      ...this.record.restoreAfterRun().map((r) => `they modified ${r} (restored)`),
    ].filter((f): f is string => !!f);
    const exit = exitOf(run, log, config.budgetText);
    const reason = exit.ok ? [exit.text, ...changed].join(', but ') : [exit.text, ...changed].join('; ');
    const checks: NodeChecks = { passed: exit.ok && changed.length === 0, logPath, wallMs: run.wallMs, reason };
    this.record.append({ type: 'checks', id: node.id, ...checks, at: new Date().toISOString() });
    if (checks.passed) {
      this.ctx.log(`#${node.id}: the checks passed in ${fmtDuration(run.wallMs)}`);
      return j;
    }
    const advice = node.id === 0 ? 'they must pass on the code as committed: fix them, or change `checks` in autoresearch.config.yaml' : `it had won on the metric: ${j.reason}`;
    return { ...j, status: 'discard', reason: `checks failed: \`${command}\` ${checks.reason} (log: ${logPath}); ${advice}` };
  }
}

/** How the checks' own process ended: `exit 0`, or its failure with the last line it printed. */
function exitOf(run: RunResult, log: string, budgetText: string): { ok: boolean; text: string } {
  if (run.startError) return { ok: false, text: `could not start: ${run.startError}` };
  if (run.timedOut) return { ok: false, text: `ran past the budget of ${budgetText}` };
  if (run.exitCode === 0) return { ok: true, text: 'exit 0' };
  const how = run.exitCode !== null ? `exit ${run.exitCode}${run.exitCode === 127 ? ' (command not found)' : ''}` : `killed by ${run.signal ?? 'a signal'}`;
  const line = lastLine(log);
  return { ok: false, text: line ? `${how}: ${line}` : how };
}

/** The last line worth quoting: not the engine's own notes, without pytest's `=====` rules around it, clipped. */
export function lastLine(log: string): string | null {
  const lines = log.split(/\r?\n/).map((l) => l.replace(/^[=\-\s]+|[=\-\s]+$/g, '')).filter((l) => l && !l.startsWith('[autoresearch]'));
  const line = lines.at(-1);
  if (!line) return null;
  return truncate(line, 160);
}
