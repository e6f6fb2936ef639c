// A failed command's notification offers what helps with that kind of error, from the one table in
// src/extension/errors.ts: Source Control for uncommitted changes, the config for a refused config or a workspace
// that cannot start, and the log on every error.
import * as assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { ApplyError } from '../../../src/core/apply.js';
import { ConfigError } from '../../../src/core/config.js';
import { UnavailableError } from '../../../src/core/factory.js';
import { GitError } from '../../../src/core/git.js';
import { SandboxUnavailableError } from '../../../src/core/protection/protection.js';
import { PreflightError } from '../../../src/core/session/opening.js';
import { SessionBusyError } from '../../../src/core/record/store.js';
import { errorButtons } from '../../../src/extension/errors.js';

const labels = (e: unknown, configDir?: string) => errorButtons(e, configDir).map((b) => b.label);

describe('error notifications', () => {
  it('uncommitted changes offer Source Control; the other refusals to start offer the config', () => {
    const dirty = new PreflightError('Uncommitted changes to files the session uses: train.py. Commit them (the baseline is your last commit) or stash them, then start again.', 'uncommitted');
    assert.deepEqual(labels(dirty, '/ws'), ['Open Source Control', 'Show Log']);
    assert.deepEqual(labels(new PreflightError('A branch autoresearch/t1 already exists but this folder has no session "t1".'), '/ws'), ['Open Config', 'Show Log']);
    assert.deepEqual(labels(new UnavailableError('proposer: vscode-lm needs a language model'), '/ws'), ['Open Config', 'Show Log']);
    assert.deepEqual(labels(new SandboxUnavailableError('sandbox: on, but bubblewrap is not installed.'), '/ws'), ['Open Config', 'Show Log']);
  });

  it('a refused config offers Open Config where the config is known, else the log alone', () => {
    const bad = new ConfigError([{ path: 'budget', value: 'soon', expected: 'a duration like 90s, 5m or 1h' }]);
    assert.deepEqual(labels(bad, '/ws'), ['Open Config', 'Show Log']);
    assert.deepEqual(labels(bad), ['Show Log']);
  });

  it('a busy session, git, apply and a bug offer the log', () => {
    for (const e of [new SessionBusyError({ pid: 1, host: 'h', startedAt: 'now' }), new GitError('refused'), new ApplyError('HEAD is detached.'), new TypeError('x is undefined')]) {
      assert.deepEqual(labels(e, '/ws'), ['Show Log'], String(e));
    }
  });
});
