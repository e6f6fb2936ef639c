// Complete, typed engine objects for unit tests: fill in only what a test cares about.
import assert from 'node:assert/strict';
import type { Proposal, ProposalRequest, Proposer } from '../../../src/core/proposers/proposer.js';
import type { ExperimentNode, ResearchConfig } from '../../../src/core/types.js';

/** A decided baseline node (#0, kept) unless the partial says otherwise. */
export function fakeNode(partial: Partial<ExperimentNode> = {}): ExperimentNode {
  return {
    id: 0,
    parentId: null,
    operator: 'baseline',
    commit: '0000000000000000000000000000000000000000',
    description: 'baseline',
    plan: '',
    editKey: 'baseline',
    changedFiles: [],
    policyReason: '',
    proposer: { kind: 'none' },
    status: 'keep',
    metric: 1,
    memoryGb: null,
    secondary: {},
    decidedBy: 'rule',
    reason: '',
    ruleStatus: 'keep',
    logPath: null,
    logTail: null,
    slot: null,
    startedAt: null,
    finishedAt: null,
    wallMs: null,
    exitCode: 0,
    timedOut: false,
    hint: null,
    createdAt: '2025-01-01T00:00:00.000Z',
    ...partial,
  };
}

/** A valid config (editable train.py, protected prepare.py, mutate proposer) unless the partial says otherwise. */
export function fakeConfig(partial: Partial<ResearchConfig> = {}): ResearchConfig {
  return {
    tag: 't1',
    editable: ['train.py'],
    readonly: ['prepare.py'],
    run: 'python3 train.py',
    budgetSeconds: 60,
    budgetText: '60s',
    metric: { name: 'val_loss', direction: 'minimize', pattern: '^val_loss:\\s*(\\S+)' },
    memory: { pattern: '^peak_vram_mb:\\s*(\\S+)', unit: 'mb' },
    metrics: [],
    constraints: [],
    maxExperiments: 10,
    proposer: { kind: 'mutate' },
    policy: 'tree',
    executor: { kind: 'local' },
    parallel: 1,
    minDelta: 0,
    seed: 0,
    notes: null,
    graceSeconds: 5,
    search: { drafts: 3, debugDepth: 2, patience: 3 },
    gpus: [],
    pipeline: 1,
    noise: null,
    ...partial,
  };
}

/** A proposal request expanding `parent` (the baseline by default) in `worktree`, with history [parent]. */
export function fakeRequest(worktree: string, partial: Partial<ProposalRequest> = {}): ProposalRequest {
  const parent = partial.parent ?? fakeNode();
  return {
    parent,
    operator: 'improve',
    worktree,
    history: [parent],
    triedFromParent: new Set<string>(),
    notes: null,
    hint: null,
    config: fakeConfig(),
    platform: null,
    signal: new AbortController().signal,
    ...partial,
  };
}

/** Every proposal a proposer makes from one parent until it has nothing new, none repeated. */
export async function proposeAll(proposer: Proposer, req: ProposalRequest): Promise<Proposal[]> {
  const tried = new Set(req.triedFromParent);
  const out: Proposal[] = [];
  for (;;) {
    const p = await proposer.propose({ ...req, triedFromParent: tried });
    if (!p) return out;
    assert.ok(!tried.has(p.editKey), `repeated ${p.editKey}`);
    tried.add(p.editKey);
    out.push(p);
  }
}
