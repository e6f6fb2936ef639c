// A model that needs the person pauses the session instead of failing the proposal: Resume tries again,
// Stop or a cancelled proposal gives up.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ModelError } from '../../../../src/core/proposers/transport.js';
import { pauseWhenBlocked, type PausableSession } from '../../../../src/extension/lm/blocked.js';

class FakeSession implements PausableSession {
  phase = 'running';
  paused = 0;
  private listeners: (() => void)[] = [];
  async pause(): Promise<void> {
    this.paused++;
    this.set('paused');
  }
  set(p: string): void {
    this.phase = p;
    for (const l of [...this.listeners]) l();
  }
  waitFor(test: (phase: string) => boolean): Promise<string> {
    if (test(this.phase)) return Promise.resolve(this.phase);
    return new Promise((resolve) => {
      const l = () => {
        if (!test(this.phase)) return;
        this.listeners = this.listeners.filter((x) => x !== l);
        resolve(this.phase);
      };
      this.listeners.push(l);
    });
  }
}

const quota = new ModelError('Copilot refused the request (quota or rate limit): try later', { blocked: true });

describe('a blocked language model', () => {
  it('pauses the session, says why, and retries when the person resumes', async () => {
    const s = new FakeSession();
    const told: string[] = [];
    const answer = pauseWhenBlocked(s, { tell: (m) => told.push(m) })(quota, new AbortController().signal);
    await new Promise((r) => setImmediate(r));
    assert.equal(s.paused, 1);
    assert.match(told[0]!, /^AutoResearch paused: Copilot refused the request \(quota or rate limit\): try later\. Resume to try again\.$/);
    s.set('running');
    assert.equal(await answer, 'retry');
  });

  it('gives the proposal up when the person stops the session instead', async () => {
    const s = new FakeSession();
    const answer = pauseWhenBlocked(s, { tell: () => undefined })(quota, new AbortController().signal);
    await new Promise((r) => setImmediate(r));
    s.set('stopping');
    assert.equal(await answer, 'fail');
  });

  it('gives up when the proposal is cancelled, and does not pause for one already cancelled', async () => {
    const s = new FakeSession();
    const ac = new AbortController();
    const answer = pauseWhenBlocked(s, { tell: () => undefined })(quota, ac.signal);
    await new Promise((r) => setImmediate(r));
    ac.abort();
    assert.equal(await answer, 'fail');
    const done = new AbortController();
    done.abort();
    const s2 = new FakeSession();
    assert.equal(await pauseWhenBlocked(s2, { tell: () => undefined })(quota, done.signal), 'fail');
    assert.equal(s2.paused, 0);
  });
});
