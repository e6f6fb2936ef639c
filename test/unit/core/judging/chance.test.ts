// How often the noise rule keeps a change that does nothing: at one look, 1 − Φ(z); every run again is one more look.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { keptByChance, keptShare, resolveNoise, zForAlpha } from '../../../../src/core/judging/chance.js';
import { oneLook, oneLookZ } from '../../../../src/core/random.js';
import { fakeConfig } from '../../helpers/nodes.js';

const defaults = { z: 2, repeats: 3, maxRuns: 6, confirm: true, minDelta: 0 };

describe('what chance alone keeps', () => {
  it('1 − Φ(z) for one look', () => {
    assert.ok(Math.abs(oneLook(2) - 0.02275) < 1e-4, String(oneLook(2)));
    assert.ok(Math.abs(oneLook(1.645) - 0.05) < 1e-3, String(oneLook(1.645)));
    assert.ok(Math.abs(oneLook(0) - 0.5) < 1e-6);
  });

  it('keeps a change that does nothing 1 − Φ(z) of the time when it runs once', () => {
    const once = keptShare({ ...defaults, maxRuns: 1, confirm: false }, 0, 20_000);
    assert.ok(once.kept > 0.019 && once.kept < 0.027, `kept ${once.kept}`);
    assert.equal(once.runs, 1);
  });

  it('keeps more of them once a change may run again, since every run is one more look at z', () => {
    const once = keptByChance({ ...defaults, maxRuns: 1, confirm: false });
    const six = keptByChance(defaults);
    const effect = keptByChance({ ...defaults, maxRuns: 24, effect: 1 });
    assert.ok(six > 0.04 && six > 1.5 * once, `${six} against ${once}`);
    assert.ok(effect > six, `${effect} against ${six}`);
    // A larger z, or a minDelta as large as half the spread, keeps fewer.
    assert.ok(keptByChance({ ...defaults, z: 2.4 }) < 0.6 * six);
    assert.ok(keptByChance({ ...defaults, minDelta: 0.5 }) < six);
  });

  it('keeps a real gain of two spreads most of the time, and gives the same figures for the same setting', () => {
    assert.ok(keptShare(defaults, 2).kept > 0.85);
    assert.deepEqual(keptShare(defaults, 0.5), keptShare(defaults, 0.5));
  });

  it('chooses the z at which a change that does nothing is kept alpha of the time, every look counted', () => {
    assert.ok(Math.abs(oneLookZ(0.05) - 1.645) < 1e-3 && Math.abs(oneLookZ(0.0228) - 2) < 2e-3);
    // One look: the one-look z. More looks: a larger z, which keeps about alpha.
    assert.ok(Math.abs(zForAlpha(0.05, { repeats: 3, maxRuns: 1, confirm: false }) - 1.645) <= 0.03);
    for (const [alpha, s] of [[0.05, defaults], [0.02, defaults], [0.02, { ...defaults, maxRuns: 24, effect: 1 }]] as const) {
      const z = zForAlpha(alpha, s);
      assert.ok(z > oneLookZ(alpha) + 0.2, `z ${z} for ${alpha}`);
      const kept = keptShare({ ...s, z, minDelta: 0 }, 0, 20_000).kept;
      assert.ok(Math.abs(kept - alpha) < 0.15 * alpha, `${kept} kept at z ${z} for alpha ${alpha}`);
    }
  });

  it('gives a session the z for its alpha, and leaves a config without alpha as it is', () => {
    const plain = fakeConfig({ noise: { repeats: 3, z: 2, confirm: true } });
    assert.equal(resolveNoise(plain), plain);
    const resolved = resolveNoise(fakeConfig({ noise: { repeats: 3, z: oneLookZ(0.02), confirm: true, alpha: 0.02 } })).noise!;
    assert.equal(resolved.z, zForAlpha(0.02, { repeats: 3, maxRuns: 6, confirm: true }));
    assert.equal(resolved.alpha, 0.02);
  });
});
