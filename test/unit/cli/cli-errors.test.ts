// Every error the engine throws reaches the CLI's one table: the exit code and `--json` kind that README and
// docs/json.md promise (0 done, 1 runtime failure, 2 bad usage or bad config), and the words on stderr.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { ApplyError } from '../../../src/core/apply.js';
import { ConfigError, parseConfig } from '../../../src/core/config.js';
import { Controller } from '../../../src/core/controller.js';
import { AutoResearchError, errorKind } from '../../../src/core/errors.js';
import { UnavailableError } from '../../../src/core/factory.js';
import { GitError } from '../../../src/core/git.js';
import { LocalExecutor } from '../../../src/core/executors/localExecutor.js';
import { NoSessionError } from '../../../src/core/offline.js';
import { ProposalError } from '../../../src/core/proposers/proposer.js';
import { EditError } from '../../../src/core/proposers/editParser.js';
import { MutateProposer } from '../../../src/core/proposers/mutate.js';
import { ModelError } from '../../../src/core/proposers/transport.js';
import { SandboxUnavailableError } from '../../../src/core/protection/protection.js';
import type { SandboxProbe } from '../../../src/core/protection/sandbox.js';
import { PreflightError } from '../../../src/core/session/opening.js';
import { SessionBusyError } from '../../../src/core/record/store.js';
import { reportError, UsageError } from '../../../src/cli/errors.js';
import { TOY_PREPARE, TOY_TRAIN, tempRepo, toyConfig, type TempRepo } from '../helpers/repo.js';

function answer(e: unknown, json: boolean): { code: number; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  const code = reportError(e, { out: (s) => out.push(s), err: (s) => err.push(s), isTTY: false }, json);
  return { code, out, err };
}

const holder = { pid: 4242, host: 'box', startedAt: '2026-01-01T00:00:00Z', tag: 't1' };

// [error, its kind, exit code, --json kind, the stderr text]
const CASES: [unknown, string, number, string, RegExp][] = [
  [new UsageError('There is no experiment #99.'), 'usage', 2, 'usage', /^There is no experiment #99\.\nRun `autoresearch --help` for usage\.$/],
  [new ConfigError([{ path: 'budget', value: 'soon', expected: 'a duration like 90s, 5m or 1h' }]), 'config', 2, 'config', /^Invalid autoresearch\.config\.yaml:\n/],
  [new AutoResearchError('unreadable', 'Cannot summarise r.tsv: no rows'), 'unreadable', 2, 'usage', /^Cannot summarise r\.tsv: no rows$/],
  [new PreflightError('A branch autoresearch/t1 already exists'), 'preflight', 2, 'session', /^Cannot continue: A branch/],
  [new PreflightError('Uncommitted changes to files the session uses: train.py.', 'uncommitted'), 'uncommitted', 2, 'session', /^Cannot continue: Uncommitted/],
  [new UnavailableError('no slurm here'), 'unavailable', 2, 'session', /^Cannot continue: no slurm here$/],
  [new SandboxUnavailableError('sandbox: on, but no bubblewrap'), 'sandbox', 2, 'session', /^Cannot continue: sandbox: on/],
  [new NoSessionError('/repo', 't9'), 'no-session', 2, 'session', /^Cannot continue: There is no session "t9"/],
  [new SessionBusyError(holder, 't1'), 'busy', 2, 'session', /^Cannot continue: Another AutoResearch controller \(pid 4242 on box/],
  [new GitError('git refused'), 'git', 2, 'session', /^Cannot continue: git refused$/],
  [new ApplyError('HEAD is detached.'), 'apply', 1, 'apply', /^Cannot apply: HEAD is detached\.$/],
  [new ProposalError('the proposer failed'), 'proposal', 1, 'runtime', /^Error: the proposer failed$/],
  [new EditError('SEARCH text not found'), 'edit', 1, 'runtime', /^Error: SEARCH text not found$/],
  [new ModelError('429 too many requests', { retryable: true }), 'model', 1, 'runtime', /^Error: 429 too many requests$/],
  [new TypeError('x is undefined'), 'internal', 1, 'runtime', /^Error: x is undefined$/],
  ['a thrown string', 'internal', 1, 'runtime', /^Error: a thrown string$/],
];

describe('the CLI answers each kind of error from one table', () => {
  for (const [e, kind, code, jsonKind, text] of CASES) {
    const name = e instanceof Error ? e.constructor.name : typeof e;
    it(`${name} is ${kind}: exit ${code}, --json kind ${jsonKind}`, () => {
      assert.equal(errorKind(e), kind);
      const plain = answer(e, false);
      assert.equal(plain.code, code);
      assert.deepEqual(plain.out, [], 'text goes to stderr');
      assert.equal(plain.err.length, 1);
      assert.match(plain.err[0]!, text);
      const json = answer(e, true);
      assert.equal(json.code, code, 'the same exit code with --json');
      assert.deepEqual(json.err, [], 'nothing on stderr with --json');
      const doc = JSON.parse(json.out.join('\n'));
      assert.deepEqual(Object.keys(doc), ['schema', 'error']);
      assert.equal(doc.schema, 'autoresearch/error@1');
      assert.equal(doc.error.kind, jsonKind);
      assert.equal(doc.error.exitCode, code);
      if (kind !== 'config') assert.equal(doc.error.message, e instanceof Error ? e.message : e, 'the message as thrown');
    });
  }

  it('an error keeps its class for the code that catches it', () => {
    assert.ok(new PreflightError('x', 'uncommitted') instanceof PreflightError);
    assert.ok(new PreflightError('x') instanceof AutoResearchError);
    assert.equal(new SessionBusyError(holder).name, 'SessionBusyError');
  });
});

describe('the engine throws its refusals with their kind', () => {
  const repos: TempRepo[] = [];
  after(() => { for (const r of repos) r.cleanup(); });

  async function startIn(edit: (repo: TempRepo) => void, extra = '', sandboxProbe?: () => SandboxProbe): Promise<unknown> {
    const repo = tempRepo({ 'train.py': TOY_TRAIN, 'prepare.py': TOY_PREPARE, 'autoresearch.config.yaml': toyConfig(extra) });
    repos.push(repo);
    edit(repo);
    const config = parseConfig(toyConfig(extra));
    const c = new Controller({ root: repo.root, config, proposer: new MutateProposer({ seed: config.seed }), executor: new LocalExecutor(), platform: null, sandboxProbe });
    try {
      await c.run();
      return undefined;
    } catch (e) {
      return e;
    } finally {
      c.dispose();
    }
  }

  it('uncommitted changes to the script: kind uncommitted (the extension offers Source Control), exit 2', async () => {
    const e = await startIn((repo) => repo.write('train.py', TOY_TRAIN + '# local edit\n'));
    assert.ok(e instanceof PreflightError, String(e));
    assert.equal(errorKind(e), 'uncommitted');
    assert.equal(answer(e, false).code, 2);
  });

  it('a branch of the tag already there: kind preflight, exit 2', async () => {
    const e = await startIn((repo) => repo.git('branch', 'autoresearch/t1'));
    assert.ok(e instanceof PreflightError, String(e));
    assert.equal(errorKind(e), 'preflight');
    assert.equal(answer(e, false).code, 2);
  });

  it('sandbox: on where no sandbox runs: kind sandbox, answered as a preflight (exit 2, Cannot continue, Open Config)', async () => {
    const e = await startIn(() => undefined, 'sandbox: on\n', () => ({ ok: false, reason: 'bubblewrap is not installed' }));
    assert.ok(e instanceof SandboxUnavailableError, String(e));
    assert.equal(errorKind(e), 'sandbox');
    const text = answer(e, false);
    assert.equal(text.code, 2);
    assert.match(text.err.join('\n'), /^Cannot continue: sandbox: on, but bubblewrap is not installed/);
    assert.equal(JSON.parse(answer(e, true).out[0]!).error.kind, 'session');
  });
});
