import { sparklines } from '../../core/judging/curves.js';
import { Lab } from '../../core/git.js';
import { fmtDuration, fmtMemory, fmtNum, fmtShare } from '../../shared/format.js';
import type { Command, CommandContext } from '../command.js';
import { UsageError } from '../errors.js';
import { showDocument } from '../json.js';
import { nodeArg, sessionOf } from '../locate.js';

export const showCommand: Command = { run: show, json: true };

/** `show <node>`: one experiment's decision, metric, plan, curve and diff against its parent. */
async function show({ cwd, o, args, io, json }: CommandContext): Promise<number> {
  const id = nodeArg(args[0]);
  const { root, model, config, tag } = await sessionOf(cwd, o);
  const n = model.get(id);
  if (!n) {
    const last = model.nodes.length - 1;
    throw new UsageError(`There is no experiment #${id}${last < 0 ? `: session ${tag} has none yet` : `: session ${tag} has ${last === 0 ? 'only #0' : `#0 to #${last}`} (\`autoresearch tree\` lists them)`}.`);
  }
  const parent = n.parentId === null ? undefined : model.get(n.parentId);
  if (json) {
    const diff = parent?.commit && n.commit ? await (await Lab.open(root)).diff(parent.commit, n.commit) : null;
    io.out(JSON.stringify(showDocument(tag, model, n, diff)));
    return 0;
  }
  io.out(`#${n.id} ${n.description}`);
  io.out(`  status: ${n.status}${n.decidedBy ? ` (decided by ${n.decidedBy}${n.decidedBy === 'human' && n.ruleStatus ? `; rule said ${n.ruleStatus}` : ''})` : ''}: ${n.reason}`);
  io.out(`  ${config.metric.name}: ${fmtNum(n.metric)}${parent ? ` (parent #${parent.id}: ${fmtNum(parent.metric)})` : ''}   memory: ${fmtMemory(n.memoryGb)}   time: ${fmtDuration(n.wallMs)}${typeof n.queuedMs === 'number' ? ` (+${fmtDuration(n.queuedMs)} in the queue)` : ''}`);
  io.out(`  commit: ${n.commit ?? 'none'}   operator: ${n.operator}   why here: ${n.policyReason}`);
  if (n.curve?.length) {
    const last = n.curve.at(-1)!;
    const [mine, parents] = sparklines([n.curve, parent?.curve ?? []]);
    io.out(`  curve: ${mine}  ${n.curve.length} points, last ${fmtNum(last[1])} at ${fmtShare(last[0])} of the budget${parent?.curve?.length ? `   parent: ${parents}` : ''}`);
  }
  if (n.plan) io.out(`  plan: ${n.plan}`);
  if (n.hint) io.out(`  tests the hypothesis: "${n.hint}"`);
  if (n.logPath) io.out(`  log: ${n.logPath}`);
  if (n.checks) io.out(`  checks: ${n.checks.passed ? 'passed' : `failed, ${n.checks.reason}`} in ${fmtDuration(n.checks.wallMs)} (log: ${n.checks.logPath})`);
  if (n.logTail) io.out(`  log tail:\n${n.logTail.split('\n').map((l) => `    ${l}`).join('\n')}`);
  if (parent?.commit && n.commit) io.out('\n' + await (await Lab.open(root)).diff(parent.commit, n.commit));
  return 0;
}
