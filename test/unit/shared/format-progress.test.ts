// Where a session stands, as the Experiments view, the status bar and the results view all write it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fmtProgress } from '../../../src/shared/format.js';

describe('fmtProgress', () => {
  it('counts decided experiments against the limit and names what runs', () => {
    assert.equal(fmtProgress(2, 30, [{ id: 3 }]), '2 of 30 decided · #3 running');
    assert.equal(fmtProgress(0, 3), '0 of 3 decided');
    assert.equal(fmtProgress(0, 3, [{ id: 0 }]), '0 of 3 decided · baseline running');
  });

  it('says "unlimited" for a session without a limit, and only the count for a record that does not say', () => {
    assert.equal(fmtProgress(5, null, [{ id: 7 }]), '5 of unlimited decided · #7 running');
    assert.equal(fmtProgress(12, undefined), '12 decided');
  });

  it('lists parallel runs by number, three at most, and a run waiting for its decision apart', () => {
    assert.equal(fmtProgress(4, 20, [{ id: 9 }, { id: 7 }]), '4 of 20 decided · #7, #9 running');
    assert.equal(fmtProgress(4, 20, [{ id: 5 }, { id: 6 }, { id: 7 }, { id: 8 }, { id: 9 }]), '4 of 20 decided · #5, #6, #7 and 2 more running');
    assert.equal(fmtProgress(4, 20, [{ id: 6 }, { id: 5, deciding: true }]), '4 of 20 decided · #6 running · #5 deciding…');
  });
});
