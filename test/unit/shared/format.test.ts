// Durations, model spend and token counts as every surface writes them (the CLI, the summary, the journal, the
// tree, the transcript, the results view): one function each in src/shared/format.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DASH, fmtCost, fmtDuration, fmtRunClock, fmtTokens } from '../../../src/shared/format.js';

describe('fmtDuration', () => {
  it('writes milliseconds under a second, seconds with a decimal under ten, the clock from there', () => {
    assert.equal(fmtDuration(20), '20 ms');
    assert.equal(fmtDuration(0), '0 ms');
    assert.equal(fmtDuration(999.4), '999 ms');
    assert.equal(fmtDuration(999.6), '1.0 s');
    assert.equal(fmtDuration(1500), '1.5 s');
    assert.equal(fmtDuration(65_000), '1:05');
    assert.equal(fmtDuration(120_000), '2:00');
    assert.equal(fmtDuration(3_723_000), '1:02:03');
  });

  it('writes the surface\'s empty for a missing or impossible value', () => {
    assert.equal(fmtDuration(null), 'n/a');
    assert.equal(fmtDuration(undefined, DASH), DASH);
    assert.equal(fmtDuration(-1), 'n/a');
  });

  it('elapsed against a budget reads as a clock on both sides', () => {
    assert.equal(fmtRunClock(4200, 60_000), '0:04 / 1:00');
  });
});

describe('fmtCost and fmtTokens', () => {
  it('writes spend in dollars to the cent, a fraction of a cent to four places', () => {
    assert.equal(fmtCost(0), '$0.00');
    assert.equal(fmtCost(1.2), '$1.20');
    assert.equal(fmtCost(0.0123), '$0.01');
    assert.equal(fmtCost(0.0012), '$0.0012');
  });

  it('writes token counts short', () => {
    assert.equal(fmtTokens(950), '950');
    assert.equal(fmtTokens(12_345), '12.3k');
    assert.equal(fmtTokens(2_000_000), '2M');
  });
});
