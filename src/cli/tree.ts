// The experiment tree as text, best path marked with ★, a merge (a node with two parents) with ⑂ and its second parent.
import type { SessionModel } from '../core/model.js';
import type { ExperimentNode } from '../core/types.js';
import { fmtNum, fmtSigned } from '../shared/format.js';

const MARK: Record<ExperimentNode['status'], string> = { keep: '✓', discard: '✗', crash: '!', invalid: '⊘', running: '…', pending: '·' };

export function renderTree(model: SessionModel): string {
  const root = model.baseline;
  if (!root) return '(no experiments yet)';
  const best = model.best;
  const onBest = new Set(best ? model.pathTo(best.id).map((n) => n.id) : []);
  const lines: string[] = [];
  const label = (n: ExperimentNode) => {
    const parent = n.parentId === null ? undefined : model.get(n.parentId);
    const delta = n.metric !== null && parent?.metric != null ? ` (${fmtSigned(n.metric - parent.metric)})` : '';
    const who = n.decidedBy === 'human' ? ' [human]' : '';
    const checks = n.checks ? (n.checks.passed ? ', checks passed' : `: checks failed (${n.checks.reason.split(':')[0]})`) : '';
    // Drawn under its first parent; the second is named on the line, since text has no second edge.
    const merge = n.mergedFrom !== undefined ? '⑂ ' : '';
    const also = n.mergedFrom !== undefined ? ` (+#${n.mergedFrom})` : '';
    return `${onBest.has(n.id) ? '★' : ' '} ${MARK[n.status]} ${merge}#${n.id} ${n.description}: ${fmtNum(n.metric)}${delta} ${n.status}${also}${checks}${who}`;
  };
  const walk = (n: ExperimentNode, prefix: string, last: boolean, top: boolean) => {
    lines.push(top ? label(n) : `${prefix}${last ? '└─' : '├─'}${label(n)}`);
    const kids = model.childrenOf(n.id);
    kids.forEach((k, i) => walk(k, top ? '' : prefix + (last ? '  ' : '│ '), i === kids.length - 1, false));
  };
  walk(root, '', true, true);
  const merges = model.nodes.some((n) => n?.mergedFrom !== undefined) ? '   ⑂ merge (+#n: its second parent)' : '';
  lines.push('', `★ best path   ✓ keep  ✗ discard  ! crash  ⊘ invalid  … running${merges}`);
  return lines.join('\n');
}
