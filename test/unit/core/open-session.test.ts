// openSession: the one way the CLI, the extension and the benchmarks open a session. It reads the config with the
// host's overrides, refuses a session another process runs before building anything, and owns what it builds.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { registerProposer } from '../../../src/core/factory.js';
import { openSession } from '../../../src/core/openSession.js';
import type { Proposer } from '../../../src/core/proposers/proposer.js';
import { SessionBusyError, type LockInfo } from '../../../src/core/record/store.js';
import { TOY_PREPARE, TOY_TRAIN, tempRepo, toyConfig, type TempRepo } from '../helpers/repo.js';

const repos: TempRepo[] = [];
after(() => { for (const r of repos) r.cleanup(); });

function toyRepo(): TempRepo {
  const repo = tempRepo({ 'train.py': TOY_TRAIN, 'prepare.py': TOY_PREPARE, 'autoresearch.config.yaml': toyConfig() });
  repos.push(repo);
  return repo;
}

/** A proposer the registry builds, counting how often it was built and whether it was disposed. */
function countingProposer(): { built: number; disposed: number; register(): { dispose(): void } } {
  const spy = {
    built: 0,
    disposed: 0,
    register: () => registerProposer('vscode-lm', () => {
      spy.built++;
      return { kind: 'vscode-lm', operators: new Set(['draft']), propose: () => Promise.resolve(null), dispose: () => { spy.disposed++; } } as Proposer;
    }),
  };
  return spy;
}

/** Another live process (this one) holding the session's lock, as a controller in another window would. */
function holdLock(repo: TempRepo, tag: string): LockInfo {
  const holder: LockInfo = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString(), tag };
  mkdirSync(join(repo.root, '.autoresearch', tag), { recursive: true });
  writeFileSync(join(repo.root, '.autoresearch', tag, 'lock'), JSON.stringify(holder));
  return holder;
}

describe('openSession', () => {
  it('reads the config file with the host\'s overrides and runs the session with the proposer and executor it names', async () => {
    const repo = toyRepo();
    const session = await openSession({ root: repo.root, overrides: { maxExperiments: 1 }, platform: null });
    assert.equal(session.config.maxExperiments, 1);
    assert.equal(session.config.proposer.kind, 'mutate');
    try {
      const outcome = await session.controller.run();
      assert.equal(outcome.state, 'done', outcome.reason);
      assert.equal(outcome.model.decidedCount, 1);
      const rows = readFileSync(join(repo.root, 'results.tsv'), 'utf8').trim().split('\n');
      assert.equal(rows.length, 3, 'the header, the baseline and one experiment');
    } finally {
      session.dispose();
    }
  });

  it('runs a config given as it is (a recorded protocol), ignoring the file', async () => {
    const repo = toyRepo();
    const first = await openSession({ root: repo.root, platform: null });
    const recorded = { ...first.config, maxExperiments: 2 };
    first.dispose();
    const session = await openSession({ root: repo.root, config: recorded, platform: null });
    assert.equal(session.config, recorded);
    session.dispose();
  });

  it('refuses a session another process runs with the engine\'s SessionBusyError, before a proposer is built', async () => {
    const repo = toyRepo();
    const holder = holdLock(repo, 't1');
    const spy = countingProposer();
    const registration = spy.register();
    try {
      await assert.rejects(openSession({ root: repo.root, overrides: { proposer: 'vscode-lm' } }), (e: Error) => e instanceof SessionBusyError && e.message.includes(`pid ${holder.pid} on ${holder.host}`));
      assert.equal(spy.built, 0, 'no proposer was built for a session that cannot run');
    } finally {
      registration.dispose();
    }
  });

  it('refuses it in the host\'s words when the host gives them', async () => {
    const repo = toyRepo();
    holdLock(repo, 't1');
    class HostBusy extends Error {}
    await assert.rejects(openSession({ root: repo.root, busy: (h, config) => new HostBusy(`${config.tag} runs in pid ${h.pid}`) }), (e: Error) => e instanceof HostBusy && e.message === `t1 runs in pid ${process.pid}`);
  });

  it('a lock for another session in the workspace is left to the controller to refuse', async () => {
    const repo = toyRepo();
    holdLock(repo, 'other');
    const session = await openSession({ root: repo.root, platform: null });
    assert.equal(session.config.tag, 't1');
    session.dispose();
  });

  it('disposes the proposer it built, and leaves one the caller gave to the caller', async () => {
    const repo = toyRepo();
    const spy = countingProposer();
    const registration = spy.register();
    try {
      const built = await openSession({ root: repo.root, overrides: { proposer: 'vscode-lm' }, platform: null });
      assert.equal(spy.built, 1);
      built.dispose();
      assert.equal(spy.disposed, 1);

      let givenDisposed = 0;
      const given = { kind: 'mine', operators: new Set(['draft']), propose: () => Promise.resolve(null), dispose: () => { givenDisposed++; } } as Proposer;
      const session = await openSession({ root: repo.root, proposer: given, platform: null });
      session.dispose();
      assert.equal(givenDisposed, 0);
    } finally {
      registration.dispose();
    }
  });

  it('a proposer the config cannot have is refused, and nothing is left behind', async () => {
    const repo = toyRepo();
    await assert.rejects(openSession({ root: repo.root, overrides: { proposer: 'vscode-lm' } }), (e: Error) => e.name === 'UnavailableError');
    assert.equal(existsSync(join(repo.root, '.autoresearch', 't1', 'lock')), false);
  });
});

describe('one way to open a session', () => {
  it('no host builds a Controller itself: the CLI, the extension, the benchmarks and the Slurm tier call openSession', () => {
    const root = fileURLToPath(new URL('../../..', import.meta.url));
    const callers = ['src/cli/commands/run.ts', 'src/extension/session/sessionService.ts', 'bench/harness.ts', 'test/slurm/session.test.ts'];
    for (const file of callers) {
      const text = readFileSync(join(root, file), 'utf8');
      assert.match(text, /\bopenSession\(/, `${file} opens its session with openSession`);
      assert.doesNotMatch(text, /new Controller\(|createProposer\(|createExecutor\(/, `${file} builds no controller, proposer or executor itself`);
    }
  });
});
