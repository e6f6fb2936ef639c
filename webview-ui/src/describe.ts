// What a hover (and the screen reader's announcement) says about one experiment.
import type { CurvePointDto, NodeDto } from '../../src/shared/protocol.js';
import { DASH, fmtDelta, fmtDuration, fmtMemory, fmtNum, fmtPct, fmtSigned, relativeChange, truncate } from '../../src/shared/format.js';
import type { ResultsStore } from './store.js';

export interface Progress {
  elapsedMs: number;
  budgetMs: number;
  line: string;
  /** The curve points that arrived since the last snapshot (which holds the ones before). */
  points?: CurvePointDto[];
}

export interface Description {
  title: string;
  status: string;
  lines: string[];
  /** "merge of #A and #B" for a node with two parents. */
  merge?: string;
}

/** A node with two parents says so: "merge of #<parent> and #<mergedFrom>"; null for any other node. */
export function mergeOf(n: Pick<NodeDto, 'parentId' | 'mergedFrom'>): string | null {
  return n.mergedFrom === undefined || n.parentId === null ? null : `merge of #${n.parentId} and #${n.mergedFrom}`;
}

/**
 * What the tree writes beside a node: its number, and for a merge "merge of #A and #B" in place of the engine's
 * own "merge #B into #A: " prefix, which would say it twice.
 */
export function nodeLabel(n: NodeDto, best = false): string {
  const head = `#${n.id}${best ? ' ★' : ''}`;
  const merge = mergeOf(n);
  if (!merge) return `${head} ${n.description}`;
  const rest = n.description.replace(/^merge #\d+ into #\d+:\s*/, '');
  return rest ? `${head} ${merge}: ${rest}` : `${head} ${merge}`;
}

export function describeNode(store: ResultsStore, id: number, progress?: Progress): Description | null {
  const n = store.nodes[id];
  if (!n) return null;
  const name = store.session?.metricName ?? 'metric';
  const lines: string[] = [];
  lines.push(n.description || '(no description)');
  if (n.metric !== null) {
    const ref = store.reference(id);
    const parts = [`${name} ${fmtNum(n.metric, DASH)}`];
    if (ref !== null) {
      const against = n.parentId !== null ? `parent #${n.parentId}` : 'best before';
      // With the percent the tree writes beside the node (`#12 -0.8%`).
      parts.push(`Δ ${n.parentId !== null ? fmtDelta(ref, n.metric) : fmtSigned(n.metric - ref, DASH)} vs ${against}`);
    }
    const base = store.baseline?.metric;
    const pct = id !== 0 && base !== null && base !== undefined ? relativeChange(base, n.metric) : null;
    if (pct !== null) parts.push(`${fmtPct(pct, DASH)} vs baseline`);
    lines.push(parts.join(' · '));
  } else if (n.status === 'crash') {
    lines.push(`${name}: none (crashed)`);
  }
  // Its own line: the tree draws a merge under its first parent only, the second is a dashed link.
  const merge = mergeOf(n);
  if (merge) lines.push(merge);
  const facts: string[] = [];
  if (n.commit) facts.push(`commit ${n.commit.slice(0, 7)}`);
  if (n.memoryGb !== null) facts.push(`memory ${fmtMemory(n.memoryGb)}`);
  if (n.wallMs !== null) facts.push(`took ${fmtDuration(n.wallMs, DASH)}`);
  if (n.status === 'running' && progress) facts.push(`running ${fmtDuration(progress.elapsedMs, DASH)} of ${fmtDuration(progress.budgetMs, DASH)}`);
  if (n.parentId !== null) facts.push(`parent #${n.parentId}, depth ${store.depth[id] ?? '?'}`);
  if (n.line !== undefined) facts.push(`results.tsv line ${n.line}`);
  if (facts.length) lines.push(facts.join(' · '));
  // The Experiments view's tooltip says it in the same words.
  if (n.policyReason) lines.push(`why chosen: ${truncate(n.policyReason, 200)}`);
  if (n.reason) lines.push(`${n.decidedBy === 'human' ? 'decided by a person' : 'rule'}: ${truncate(n.reason, 200)}`);
  if (n.status === 'running' && progress?.line) lines.push(`log: ${truncate(progress.line, 120)}`);
  const best = store.bestId === id ? ' · best' : id === 0 ? ' · baseline' : '';
  return { title: `#${id}`, status: `${n.status}${best}`, lines, ...(merge ? { merge } : {}) };
}

/** One line for the live region. */
export function announceNode(store: ResultsStore, id: number): string {
  const d = describeNode(store, id);
  if (!d) return '';
  return `Experiment ${d.title}, ${d.status}${d.merge ? `, ${d.merge}` : ''}. ${d.lines.slice(0, 2).join('. ')}`;
}
