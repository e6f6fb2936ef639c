// A synthetic tree-search session of any size for the webview benchmark and tests: a baseline, improvements
// that chain, many discards, some crashes and invalid proposals, a few diverged outliers, one running node.
import { mulberry32 } from '../src/core/proposers/mutate.js';
import type { NodeDto, SessionDto } from '../src/shared/protocol.js';

/** Deterministic pseudo-random numbers, so every run measures the same session. */
export const rng = mulberry32;

const WORDS = ['lr', 'warmup', 'depth', 'width', 'dropout', 'weight decay', 'batch size', 'momentum', 'activation', 'schedule', 'init', 'optimizer'];

export interface SyntheticSession {
  session: SessionDto;
  nodes: NodeDto[];
}

export function syntheticSession(count: number, seed = 1, start = Date.parse('2025-01-01T00:00:00Z')): SyntheticSession {
  const r = rng(seed);
  const nodes: NodeDto[] = [];
  const keeps: number[] = [];
  let t = start;
  for (let id = 0; id < count; id++) {
    let parentId: number | null = null;
    if (id > 0) {
      const u = r();
      parentId = u < 0.75 ? keeps[Math.max(0, keeps.length - 1 - Math.floor(r() * Math.min(keeps.length, 6)))]! : Math.floor(r() * id);
    }
    const parent = parentId === null ? undefined : nodes[parentId];
    const base = parent?.metric ?? 0.36;
    const u = r();
    let status: NodeDto['status'] = id === 0 ? 'keep' : u < 0.12 ? 'keep' : u < 0.8 ? 'discard' : u < 0.92 ? 'crash' : 'invalid';
    if (id === count - 1 && id > 0) status = 'running';
    let metric: number | null = null;
    if (status === 'keep') metric = id === 0 ? 0.36 : base * (1 - 0.002 - r() * 0.02);
    if (status === 'discard') metric = r() < 0.01 ? base * (20 + r() * 200) : base * (1 + r() * 0.15);
    if (status === 'keep' && parent && parent.status !== 'keep') status = 'discard';
    const wallMs = status === 'running' || status === 'invalid' ? null : 20_000 + Math.floor(r() * 40_000);
    const startedAt = new Date(t).toISOString();
    t += (wallMs ?? 2_000) + 1_000;
    nodes.push({
      id,
      parentId,
      operator: id === 0 ? 'baseline' : parent?.status === 'crash' ? 'debug' : 'improve',
      commit: status === 'invalid' ? null : (0x1000000 + id * 7919).toString(16).slice(0, 7),
      description: id === 0 ? 'baseline' : `${r() < 0.5 ? 'increase' : 'decrease'} ${WORDS[Math.floor(r() * WORDS.length)]} ×${(0.5 + r() * 1.5).toFixed(2)}`,
      status,
      metric,
      memoryGb: status === 'invalid' || status === 'running' ? null : 10 + r() * 30,
      decidedBy: status === 'running' ? null : 'rule',
      reason: status === 'crash' ? 'exit code 1 (CUDA out of memory)' : status === 'invalid' ? 'the proposal touched prepare.py' : '',
      startedAt,
      finishedAt: status === 'running' ? null : new Date(t).toISOString(),
      wallMs,
    });
    if (status === 'keep') keeps.push(id);
  }
  let bestId: number | null = null;
  for (const n of nodes) if (n.status === 'keep' && n.metric !== null && (bestId === null || n.metric < nodes[bestId]!.metric!)) bestId = n.id;
  return {
    session: {
      source: { kind: 'session' },
      title: `bench-${count}`,
      metricName: 'val_bpb',
      direction: 'minimize',
      directionKnown: true,
      budgetSeconds: 300,
      budgetText: '5m',
      maxExperiments: null,
      parallel: 1,
      startedAt: new Date(start).toISOString(),
      state: 'running',
      stateReason: null,
      bestId,
      errors: [],
      hostNow: new Date(t).toISOString(),
    },
    nodes,
  };
}
