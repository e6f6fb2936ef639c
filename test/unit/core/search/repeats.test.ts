// A proposer that offers an edit already made from the same parent: the proposal is dropped, and after a second
// repeat the parent counts as done for that operator, so the search goes on instead of asking forever. (The tree
// drafts from a baseline that already has children; a proposer that ignores what was tried made the engine spin.)
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Proposal, ProposalRequest, Proposer } from '../../../../src/core/proposers/proposer.js';
import type { Operator } from '../../../../src/core/types.js';
import { faultRepo, inProcess, trainPy, withKeys } from '../../helpers/faults.js';

/** Always the same edit from the baseline, whatever was tried. */
class Stubborn implements Proposer {
  readonly kind = 'scripted';
  readonly operators: ReadonlySet<Operator> = new Set<Operator>(['improve', 'draft']);
  calls = 0;
  dispose(): void {}
  async propose(req: ProposalRequest): Promise<Proposal | null> {
    this.calls++;
    if (req.parent.id !== 0) return null;
    return { description: 'LR 0.1 -> 0.9', plan: 'p', editKey: 'LR=0.9', files: { 'train.py': trainPy(0.9) }, proposer: { kind: this.kind } };
  }
}

describe('a proposer that repeats an edit already made', () => {
  it('is asked at most twice more from that parent; the session ends instead of spinning', { timeout: 60_000 }, async () => {
    const repo = faultRepo(withKeys({ maxExperiments: '5', policy: 'tree', search: '{drafts: 3, debugDepth: 0, patience: 1}' }));
    const proposer = new Stubborn();
    const s = inProcess(repo, proposer);
    const outcome = await s.run();
    assert.equal(outcome.state, 'done', outcome.reason);
    assert.equal(outcome.model.nodes.filter((n) => n.editKey === 'LR=0.9').length, 1, 'the edit ran once');
    assert.ok(proposer.calls <= 6, `asked ${proposer.calls} times`);
    assert.ok(s.events.some((e) => e.type === 'log' && /offered edits already made 2 times/.test(e.message)));
  });
});
