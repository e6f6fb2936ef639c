// Durations, model spend and token counts as every surface writes them (the CLI, the summary, the journal, the
// tree, the transcript, the results view): one function each in src/shared/format.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DASH, fmtBytes, fmtChance, fmtCost, fmtDuration, fmtRate, fmtRunClock, fmtShare, fmtTick, fmtTicks, fmtTokens, placesWritten, truncate } from '../../../src/shared/format.js';

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

describe('shares, rates, sizes and places', () => {
  it('writes a share of the budget as a whole percent, a rate with a decimal under ten', () => {
    assert.equal(fmtShare(0.384), '38 %');
    assert.equal(fmtShare(1), '100 %');
    // A probability: small ones to one decimal (alpha 2.5 %, a one-look 0.8 %), large ones whole.
    assert.deepEqual([0.025, 0.0082, 0.094, 0.44].map(fmtChance), ['2.5 %', '0.8 %', '9.4 %', '44 %']);
    assert.equal(fmtRate(3.46), '3.5');
    assert.equal(fmtRate(12.4), '12');
    assert.equal(fmtRate(null, DASH), DASH);
  });

  it('writes file sizes in the units memory reads in', () => {
    assert.equal(fmtBytes(500), '1 kB');
    assert.equal(fmtBytes(340 * 1024), '340 kB');
    assert.equal(fmtBytes(15.3 * 2 ** 20), '15.3 MB');
    assert.equal(fmtBytes(2 * 2 ** 30), '2.0 GB');
  });

  it('counts the decimal places a number was written with', () => {
    assert.equal(placesWritten('0.9932'), 4);
    assert.equal(placesWritten('12'), 0);
    assert.equal(placesWritten('1e-3'), null);
  });
});

describe('truncate', () => {
  it('cuts text to the length asked, an ellipsis last, and leaves short text alone', () => {
    assert.equal(truncate('abcdef', 4), 'abc…');
    assert.equal(truncate('abcd', 4), 'abcd');
    assert.equal(truncate('abcdef', 4).length, 4);
  });
});

describe('fmtTick', () => {
  it('writes a tick as the number, in exponent form where plain digits would not fit', () => {
    assert.equal(fmtTick(0.25), '0.25');
    assert.equal(fmtTick(0), '0');
    assert.equal(fmtTick(250_000), '2.5e+5');
    assert.equal(fmtTick(0.0001), '1.0e-4');
    assert.equal(fmtTick(2.41234, 4), '2.412');
  });

  it('gives an axis as many digits as its ticks need to read apart', () => {
    // A learning curve's close values: at four digits 0.24265 and 0.2427 would both read 0.2427.
    assert.deepEqual(fmtTicks([0.2426, 0.24265, 0.2427, 0.24275], 4), ['0.2426', '0.24265', '0.2427', '0.24275']);
    assert.deepEqual(fmtTicks([0.5, 1, 1.5], 4), ['0.5', '1', '1.5']);
  });
});
