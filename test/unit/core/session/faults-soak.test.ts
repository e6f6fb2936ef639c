// Fault injection, soak: 500 experiments in one session with a no-op run and an instant proposer. What the
// engine holds per experiment by design (the model's nodes, the journal's lines) may grow a little; anything
// more (listeners, timers, file descriptors, child processes per run) would show up here.
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe } from 'node:test';
import type { Proposal, ProposalRequest, Proposer } from '../../../../src/core/proposers/proposer.js';
import type { Operator } from '../../../../src/core/types.js';
import { fault, faultRepo, inProcess, openFds, resultRows, ruleDecisions, withKeys } from '../../helpers/faults.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const EXPERIMENTS = 500;
const WARMUP = 50;
/** What one more experiment may cost the heap: its node, its journal lines, its events' share. */
const HEAP_PER_EXPERIMENT = 16 * 1024;
const FD_SLACK = 4;

/** Proposes at once: a new one-line train.py per call, never the same twice. */
class InstantProposer implements Proposer {
  readonly kind = 'instant';
  readonly operators: ReadonlySet<Operator> = new Set<Operator>(['improve']);
  private n = 0;
  async propose(_req: ProposalRequest): Promise<Proposal> {
    const n = ++this.n;
    return { description: `edit ${n}`, plan: 'soak', editKey: `soak:${n}`, files: { 'train.py': `# edit ${n}\n` }, proposer: { kind: this.kind } };
  }
  dispose(): void {}
}

function sample(): { heap: number; fds: number } {
  gc();
  gc();
  return { heap: process.memoryUsage().heapUsed, fds: openFds() };
}

describe('faults: soak', () => {
  fault(`${EXPERIMENTS}-experiment soak`, `${EXPERIMENTS} experiments of \`echo val_loss: 1\` with an instant proposer in one session`, async () => {
    const repo = faultRepo(withKeys({ run: "'echo val_loss: 1'", budget: '10s', maxExperiments: String(EXPERIMENTS), policy: 'greedy' }));
    const s = inProcess(repo, new InstantProposer());
    const samples = new Map<number, { heap: number; fds: number }>();
    // Sampled as each experiment is decided: the same point in the loop every time.
    s.controller.onEvent((e) => {
      if (e.type === 'experiment' && (e.node.id === WARMUP || e.node.id === EXPERIMENTS)) samples.set(e.node.id, sample());
    });
    const t0 = Date.now();
    const outcome = await s.run();
    const seconds = (Date.now() - t0) / 1000;
    assert.equal(outcome.state, 'done', outcome.reason);
    assert.equal(outcome.model.decidedCount, EXPERIMENTS);
    assert.equal(resultRows(repo).length, EXPERIMENTS + 1);
    assert.equal(new Set(ruleDecisions(repo)).size, EXPERIMENTS + 1);
    const a = samples.get(WARMUP)!;
    const b = samples.get(EXPERIMENTS)!;
    const growth = b.heap - a.heap;
    const allowed = HEAP_PER_EXPERIMENT * (EXPERIMENTS - WARMUP);
    assert.ok(growth <= allowed, `heap grew ${(growth / 1e6).toFixed(1)} MB from experiment ${WARMUP} to ${EXPERIMENTS} (allowed ${(allowed / 1e6).toFixed(1)} MB)`);
    assert.ok(b.fds <= a.fds + FD_SLACK, `open files grew from ${a.fds} to ${b.fds}`);
    const mb = (x: number) => (x / 1e6).toFixed(1);
    return `${EXPERIMENTS} decided in ${seconds.toFixed(0)}s (${Math.round((seconds * 1000) / EXPERIMENTS)} ms each); heap ${mb(a.heap)} -> ${mb(b.heap)} MB (${Math.round(growth / (EXPERIMENTS - WARMUP))} B/experiment); fds ${a.fds} -> ${b.fds}`;
  }, { timeout: 300_000 });
});
