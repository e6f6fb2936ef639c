// A session of any size, built in seconds instead of days: one git fast-import for a commit per node (each on
// its parent node's commit), one `git update-ref --stdin` for the node refs, and the journal's JSON lines
// written as the Journal class writes them. A Controller resumes it like any session it left.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { nodeRef, sessionBranch } from '../src/core/git.js';
import { Journal, type JournalEntry, type JournalRecord } from '../src/core/record/journal.js';
import { ensureStateDir, sessionPaths } from '../src/core/record/store.js';
import type { DecidedStatus, ExperimentNode, ResearchConfig } from '../src/core/types.js';
import { benchRepo, git, type BenchRepo } from './harness.js';
import { rng } from './webviewData.js';

const PARAMS = ['LR', 'WARMUP', 'DEPTH', 'WIDTH', 'DROPOUT', 'WEIGHT_DECAY', 'BATCH', 'MOMENTUM'];

export interface SyntheticSession {
  repo: BenchRepo;
  tag: string;
  nodes: number;
  bestId: number;
}

interface SynthNode {
  id: number;
  parentId: number | null;
  status: DecidedStatus;
  metric: number | null;
  description: string;
}

/** The shape of a long tree search: a few drafts, chains of keeps, many discards, some crashes and invalid proposals. */
function shape(count: number, seed: number): SynthNode[] {
  const r = rng(seed);
  const nodes: SynthNode[] = [{ id: 0, parentId: null, status: 'keep', metric: 1, description: 'baseline' }];
  const kept = [0];
  let best = 0;
  for (let id = 1; id < count; id++) {
    const u = r();
    const parentId = id <= 3 ? 0 : u < 0.6 ? best : kept[Math.floor(r() * kept.length)]!;
    const base = nodes[parentId]!.metric!;
    const v = r();
    const status: DecidedStatus = v < 0.15 ? 'keep' : v < 0.85 ? 'discard' : v < 0.95 ? 'crash' : 'invalid';
    const metric = status === 'keep' ? base * (1 - 0.02 * r()) : status === 'discard' ? base * (1 + 0.05 * r()) : null;
    const p = PARAMS[Math.floor(r() * PARAMS.length)]!;
    nodes.push({ id, parentId, status, metric, description: `${p} ${(r() * 0.1).toFixed(4)} -> ${(r() * 0.1).toFixed(4)}` });
    if (status === 'keep') {
      kept.push(id);
      if (metric! < nodes[best]!.metric!) best = id;
    }
  }
  return nodes;
}

/** Builds a repository holding a finished session of `count` nodes (baseline included), every one decided. */
export function buildSession(count: number, config: ResearchConfig, files: Record<string, string>, seed = 7): SyntheticSession {
  const repo = benchRepo(files);
  const { root, head } = repo;
  const tag = config.tag;
  const nodes = shape(count, seed);

  // Commits: node i's code is its parent's plus a one-line change of train.py.
  const chunks: string[] = [];
  const data = (s: string) => `data ${Buffer.byteLength(s)}\n${s}\n`;
  for (const n of nodes.slice(1)) {
    if (n.status === 'invalid') continue;
    const msg = `autoresearch(${tag}) #${n.id}: ${n.description}\n\nAutoResearch-Node: ${n.id}\nAutoResearch-Parent: ${n.parentId}\n`;
    chunks.push(`commit refs/bench/import\nmark :${n.id}\ncommitter Bench <bench@example.com> ${1_700_000_000 + n.id} +0000\n${data(msg)}`
      + `from ${n.parentId === 0 ? head : `:${n.parentId}`}\nM 100644 inline train.py\n${data(`X = ${n.id}\n`)}\n`);
  }
  const marksFile = join(root, '.git', 'bench-marks');
  git(root, ['fast-import', '--quiet', `--export-marks=${marksFile}`], chunks.join(''));
  const commits = new Map<number, string>([[0, head]]);
  for (const line of readFileSync(marksFile, 'utf8').split('\n')) {
    const m = /^:(\d+) ([0-9a-f]+)$/.exec(line);
    if (m) commits.set(Number(m[1]), m[2]!);
  }
  const bestId = nodes.reduce((b, n) => (n.status === 'keep' && n.metric! < nodes[b]!.metric! ? n.id : b), 0);
  const refs = [`delete refs/bench/import`, `create refs/autoresearch/${tag}/base ${head}`, `create refs/heads/${sessionBranch(tag)} ${commits.get(bestId)}`];
  for (const [id, c] of commits) refs.push(`create ${nodeRef(tag, id)} ${c}`);
  git(root, ['update-ref', '--stdin'], refs.join('\n') + '\n');

  // The journal, record by record as a controller would have appended them.
  const paths = sessionPaths(root, tag);
  ensureStateDir(paths);
  const entries: JournalEntry[] = [];
  let t = Date.parse('2025-01-01T00:00:00Z');
  const iso = () => new Date(t).toISOString();
  entries.push({ type: 'session', tag, config, baseCommit: head, baseBranch: 'main', platform: null, startedAt: iso() });
  entries.push({ type: 'state', state: 'running', at: iso() });
  for (const n of nodes) {
    const commit = n.status === 'invalid' ? null : commits.get(n.id)!;
    const parent = n.parentId === null ? undefined : nodes[n.parentId];
    const operator: ExperimentNode['operator'] = n.id === 0 ? 'baseline' : n.parentId === 0 && n.id <= 3 ? 'draft' : 'improve';
    entries.push({ type: 'node', node: {
      id: n.id, parentId: n.parentId, operator, commit, description: n.description,
      plan: `${n.description}: to test whether the current value is too ${n.id % 2 ? 'high' : 'low'}.`, editKey: `train.py:${n.description}`,
      changedFiles: n.id === 0 ? [] : ['train.py'], policyReason: parent ? `improve the most promising open node, #${parent.id} (${parent.metric?.toFixed(6)})` : 'every session measures its starting point first',
      proposer: { kind: n.id === 0 ? 'none' : 'mutate' }, hint: null, createdAt: iso(),
    } });
    if (n.status === 'invalid') {
      entries.push({ type: 'decide', id: n.id, status: 'invalid', metric: null, memoryGb: null, secondary: {}, reason: 'the proposal touched files outside its scope: prepare.py; it was not run', decidedBy: 'rule' });
      continue;
    }
    const logPath = join(paths.logs, `${n.id}.log`);
    entries.push({ type: 'start', id: n.id, slot: 0, startedAt: iso(), logPath, pid: 10_000 + n.id });
    t += 300_000;
    entries.push({ type: 'finish', id: n.id, run: { exitCode: n.status === 'crash' ? 1 : 0, signal: null, timedOut: false, wallMs: 300_000, logPath }, finishedAt: iso() });
    const reason = n.status === 'keep' ? `val_loss ${n.metric!.toFixed(6)} beats the parent's ${parent?.metric?.toFixed(6) ?? 'n/a'}`
      : n.status === 'discard' ? `val_loss ${n.metric!.toFixed(6)} does not beat the parent's ${parent!.metric!.toFixed(6)}` : 'exit code 1';
    entries.push({ type: 'decide', id: n.id, status: n.status, metric: n.metric, memoryGb: n.metric === null ? null : 12.5, secondary: {}, reason, decidedBy: 'rule',
      ...(n.status === 'crash' ? { logTail: 'Traceback (most recent call last):\n  File "train.py", line 212, in <module>\n    loss.backward()\ntorch.OutOfMemoryError: CUDA out of memory.\n' } : {}) });
  }
  entries.push({ type: 'state', state: 'done', reason: `reached ${count - 1} experiments`, at: iso() });
  const lines = entries.map((e, seq) => JSON.stringify({ seq, ...e } as JournalRecord) + '\n');
  writeFileSync(paths.journal, lines.join(''));
  // The journal must read back whole, or the benchmark would measure a repair.
  if (Journal.parse(readFileSync(paths.journal, 'utf8')).problems.length) throw new Error('the synthetic journal does not parse');
  return { repo, tag, nodes: count, bestId };
}
