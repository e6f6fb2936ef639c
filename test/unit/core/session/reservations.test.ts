// A prepared proposal that moves onto a new best takes its holds with it: a choice made while it is being merged
// there sees the new parent busy and its edit taken, and nothing is left held on the old parent.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_SEARCH } from '../../../../src/core/config.js';
import { SessionModel } from '../../../../src/core/model.js';
import type { SessionContext } from '../../../../src/core/session/context.js';
import { Reservations } from '../../../../src/core/session/reservations.js';
import type { Operator } from '../../../../src/core/types.js';

function reservations(): Reservations {
  const ctx = { config: { policy: 'tree', search: DEFAULT_SEARCH }, model: new SessionModel(), options: { proposer: { operators: new Set<Operator>(['improve']) } } };
  return new Reservations(ctx as unknown as SessionContext);
}

const busy = (r: Reservations) => (r as unknown as { busyParents: Map<number, number>; busyOps: Map<string, number> });

describe('reservations', () => {
  it('move the parent, the operator and the edit of a re-targeted proposal to its new parent', () => {
    const res = reservations();
    const r = res.reserve({ parent: { id: 1 } as never, operator: 'improve', reason: '' });
    res.holdKey(r, 'train.py:LR=0.01');
    res.move(r, 4, 'improve');
    assert.deepEqual([...res.pendingFrom(4)], ['train.py:LR=0.01']);
    assert.deepEqual([...res.pendingFrom(1)], []);
    assert.deepEqual([...busy(res).busyParents], [[4, 1]]);
    assert.deepEqual([...busy(res).busyOps], [['4:improve', 1]]);
    // Released where it went: nothing stays held anywhere.
    res.release(r);
    assert.deepEqual([...res.pendingFrom(4)], []);
    assert.equal(busy(res).busyParents.size + busy(res).busyOps.size, 0);
  });
});
