// A fast, in-memory check of the search policies for designing them: the real `mutate` proposer and the real
// policy on the same synthetic shapes as bench:search (bench/searchScripts.ts), with the loss computed here instead
// of by running Python in a git worktree. Minutes of bench:search become a second; bench:search stays the measure
// that is reported, because only it runs the whole engine.
//   npm run bench:search:sim [-- --seeds 50 --k 30]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_SEARCH } from '../src/core/config.js';
import { SessionModel } from '../src/core/model.js';
import { mergeBase, mergeFiles } from '../src/core/merge.js';
import { createPolicy, exhaustedKey, mergeKey, type Policy } from '../src/core/policy.js';
import { MutateProposer, mulberry32 } from '../src/core/proposers/mutate.js';
import type { ExperimentNode, Operator, PolicyKind, ResearchConfig } from '../src/core/types.js';
import { arg, formatTable, median } from './harness.js';
import { NOISE_SD, OPTIMUM, script, type Shape } from './searchScripts.js';

function value(content: string, name: string): string {
  return new RegExp(`^${name} = (\\S+)`, 'm').exec(content)![1]!.replace(/"/g, '');
}

/** The shapes' true loss, as the Python in searchScripts.ts computes it. */
export function trueLoss(shape: Shape, content: string): number {
  const n = (k: string) => Number(value(content, k));
  if (shape === 'deceptive') {
    const a = Math.log2(n('LR') / 0.1);
    const b = Math.log2(n('WIDTH') / 16);
    const trap = 0.3 + 0.1 * (a + 2) ** 2;
    const wide = 0.03 * (b - 4) ** 2 + 0.15 * a * a;
    return 1 + Math.min(trap, wide) + ({ gelu: 0, relu: 0.02, tanh: 0.04 } as Record<string, number>)[value(content, 'ACT')]!;
  }
  const d = [Math.log2(n('LR') / 0.0125), Math.log2(n('WIDTH') / 128), Math.log2(n('WARMUP') / 125), Math.log2(n('DROPOUT') / 0.1)];
  return 1 + 0.008 * d.reduce((s, x) => s + x * x, 0) + ({ gelu: 0, relu: 0.05, tanh: 0.1 } as Record<string, number>)[value(content, 'ACT')]!;
}

function gauss(rng: () => number): number {
  return Math.sqrt(-2 * Math.log(rng() || 1e-12)) * Math.cos(2 * Math.PI * rng());
}

export async function simulate(shape: Shape, policy: PolicyKind | Policy, seed: number, k: number, dir: string, trace = false): Promise<{ best: number; reachedAt: number | null }> {
  const config = { metric: { name: 'val_loss', direction: 'minimize', pattern: '' }, run: 'python3 train.py', editable: ['train.py'], readonly: [], minDelta: 0, seed, policy: typeof policy === 'string' ? policy : policy.kind, search: DEFAULT_SEARCH, noise: null } as unknown as ResearchConfig;
  const model = new SessionModel();
  let seq = 0;
  model.apply({ seq: seq++, type: 'session', tag: 's', config, baseCommit: 'x', baseBranch: null, platform: null, startedAt: '' });
  const contents: string[] = [];
  const truth: number[] = [];
  const noiseRng = mulberry32(seed * 31 + 7);
  const measure = (c: string) => trueLoss(shape, c) + (NOISE_SD[shape] ? NOISE_SD[shape] * gauss(noiseRng) : 0);
  const add = (parent: ExperimentNode | null, operator: Operator, content: string, editKey: string, description: string, mergedFrom?: number) => {
    const id = model.nextId;
    contents[id] = content;
    truth[id] = trueLoss(shape, content);
    model.apply({ seq: seq++, type: 'node', node: { id, parentId: parent?.id ?? null, ...(mergedFrom === undefined ? {} : { mergedFrom }), operator, commit: 'c', description, plan: '', editKey, changedFiles: [], policyReason: '', proposer: { kind: 'mutate' }, hint: null, createdAt: '' } });
    const metric = measure(content);
    const keep = parent === null || metric < parent.metric!;
    model.apply({ seq: seq++, type: 'decide', id, status: keep ? 'keep' : 'discard', metric, memoryGb: null, secondary: {}, reason: '', decidedBy: 'rule' });
  };
  const body = script(shape);
  add(null, 'baseline', body, 'baseline', 'baseline');
  const pol = typeof policy === 'string' ? createPolicy(policy, config.search) : policy;
  const proposer = new MutateProposer({ seed });
  const exhausted = new Set<string>();
  let reachedAt: number | null = null;
  for (let decided = 0, guard = 0; decided < k && guard < 10 * k; guard++) {
    const choice = pol.choose(model, { operators: new Set<Operator>(['draft', 'improve']), exhausted, busyParents: new Map() });
    if (!choice) break;
    const { parent, operator } = choice;
    if (operator === 'merge' && choice.mergeFrom) {
      // The engine's merge (session/proposals.ts), on the one file the shapes have.
      const from = choice.mergeFrom;
      const base = mergeBase(model, parent, from);
      const r = mergeFiles({ 'train.py': { base: contents[base.id]!, ours: contents[parent.id]!, theirs: contents[from.id]! } });
      if ('conflict' in r || r.files['train.py'] == null) {
        exhausted.add(mergeKey(parent.id, from.id));
        continue;
      }
      add(parent, 'merge', r.files['train.py'], `merge:${from.id}`, `merge #${from.id} into #${parent.id}`, from.id);
    } else {
      writeFileSync(join(dir, 'train.py'), contents[parent.id]!);
      const tried = new Set(model.childrenOf(parent.id).map((c) => c.editKey));
      const p = await proposer.propose({ parent, operator, worktree: dir, history: model.nodes, triedFromParent: tried, notes: null, hint: null, config, platform: null, signal: new AbortController().signal });
      if (!p) {
        exhausted.add(exhaustedKey(parent.id, operator));
        continue;
      }
      add(parent, operator, p.files!['train.py']!, p.editKey, p.description);
    }
    decided++;
    const n = model.get(model.nextId - 1)!;
    if (trace) console.log(`#${n.id} <- #${parent.id} ${operator} ${n.description}: ${n.metric!.toFixed(3)} ${n.status} | ${choice.reason}`);
    if (reachedAt === null && n.status === 'keep' && truth[n.id]! <= OPTIMUM * 1.01) reachedAt = decided;
  }
  return { best: truth[model.best!.id]!, reachedAt };
}

async function main(): Promise<void> {
  const seeds = arg('seeds', 50);
  const k = arg('k', 30);
  const dir = mkdtempSync(join(tmpdir(), 'ar-sim-'));
  const rows: string[][] = [];
  try {
    for (const shape of ['smooth', 'deceptive', 'noisy'] as Shape[]) {
      for (const policy of ['greedy', 'tree'] as PolicyKind[]) {
        const rs = [];
        for (let s = 1; s <= seeds; s++) rs.push(await simulate(shape, policy, s, k, dir));
        rows.push([shape, policy, median(rs.map((r) => r.best)).toFixed(4), `${rs.filter((r) => r.reachedAt !== null).length}/${seeds}`]);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(formatTable(['shape', 'policy', 'median best', 'within 1 %'], rows));
}

if (process.argv[1]?.endsWith('searchSim.ts')) await main();
