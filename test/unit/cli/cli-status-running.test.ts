// `status` while an experiment runs, and after its controller was killed (issue 10, nanoGPT on CPU): it said
// "1 running" and nothing of which, for how long, or how far its metric had got; after a kill -9 it still said running.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { JournalRecord, NodeCreated } from '../../../src/core/record/journal.js';
import { fakeConfig } from '../helpers/nodes.js';
import { cliSync } from '../helpers/cli.js';
import { tempRepo, type TempRepo } from '../helpers/repo.js';

const repos: TempRepo[] = [];
after(() => { for (const r of repos) r.cleanup(); });

/** A session whose baseline is decided and whose #1 started 25 s ago and has printed two eval lines. */
function session(): TempRepo {
  const r = tempRepo({ 'train.py': 'print(1)\n' });
  repos.push(r);
  const config = fakeConfig({ tag: 't1', budgetText: '2m', budgetSeconds: 120, metric: { name: 'val_loss', direction: 'minimize', pattern: 'val loss (\\S+)' } });
  r.write('autoresearch.config.yaml', 'tag: t1\neditable: [train.py]\nrun: python3 train.py\nbudget: 2m\nmetric: {name: val_loss, direction: minimize, pattern: \'val loss (\\S+)\'}\n');
  const now = Date.now();
  const at = (s: number) => new Date(now + s * 1000).toISOString();
  const node = (id: number, description: string): NodeCreated => ({
    id, parentId: id === 0 ? null : 0, operator: id === 0 ? 'baseline' : 'improve', commit: String(id).repeat(40), description, plan: '', editKey: description,
    changedFiles: [], policyReason: '', proposer: { kind: 'mutate' }, hint: null, createdAt: at(-90),
  });
  const dir = join(r.root, '.autoresearch/t1');
  mkdirSync(join(dir, 'logs'), { recursive: true });
  writeFileSync(join(dir, 'logs/1.log'), 'step 0: train loss 4.5593, val loss 4.5513\niter 0: loss 4.5543\nstep 50: train loss 3.8061, val loss 3.8430\niter 50: loss 3.78\n');
  let seq = 0;
  const records: JournalRecord[] = [
    { seq: seq++, type: 'session', tag: 't1', config, baseCommit: 'a'.repeat(40), baseBranch: 'main', platform: null, startedAt: at(-90) },
    { seq: seq++, type: 'state', state: 'running', at: at(-90) },
    { seq: seq++, type: 'node', node: node(0, 'baseline') },
    { seq: seq++, type: 'decide', id: 0, status: 'keep', metric: 2.8805, memoryGb: null, secondary: {}, reason: 'baseline', decidedBy: 'rule' },
    { seq: seq++, type: 'node', node: node(1, 'config/train_shakespeare_char.py: gradient_accumulation_steps 1 → 2') },
    { seq: seq++, type: 'start', id: 1, slot: 0, startedAt: at(-25), logPath: join(dir, 'logs/1.log') },
  ];
  writeFileSync(join(dir, 'journal.jsonl'), records.map((x) => JSON.stringify(x)).join('\n') + '\n');
  return r;
}

describe('status of a running experiment', () => {
  it('names it, its time of the budget and the last value its log shows', () => {
    const r = session();
    // A controller holds the session: this test process.
    writeFileSync(join(r.root, '.autoresearch/t1/lock'), JSON.stringify({ pid: process.pid, host: hostname(), startedAt: new Date().toISOString() }));
    const res = cliSync(r.root, 'status');
    assert.equal(res.code, 0, res.err);
    assert.match(res.out, /^ {2}running: #1 config\/train_shakespeare_char\.py: gradient_accumulation_steps 1 → 2: 0:2\d of 2m, val_loss 3\.8430 so far$/m);
    assert.doesNotMatch(res.out, /no controller/);
  });

  it('after its controller was killed: interrupted, and how to go on', () => {
    const r = session();
    const res = cliSync(r.root, 'status');
    assert.equal(res.code, 0, res.err);
    assert.match(res.out, /^ {2}interrupted: #1 config\/train_shakespeare_char\.py: gradient_accumulation_steps 1 → 2, val_loss 3\.8430 so far$/m);
    assert.match(res.out, /^ {2}no controller is running it \(it was killed, or its machine went down\): `autoresearch run` resumes it/m);
  });
});
