// The built-in patches proposer: a folder of diffs, applied in natural order, once each per session.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ProposalError } from '../../../../src/core/proposers/proposer.js';
import { PatchesProposer, describePatch, listPatches, naturalCompare } from '../../../../src/core/proposers/patches.js';
import { fakeNode, fakeRequest } from '../../helpers/nodes.js';
import { tempRepo, type TempRepo } from '../../helpers/repo.js';

const TRAIN = 'import os\nLR = 0.1\nWIDTH = 4\nprint("val_loss: 1.0")\n';

const cleanups: (() => void)[] = [];
after(() => { for (const c of cleanups) c(); });

function setup(patches: Record<string, string>): { repo: TempRepo; dir: string } {
  const repo = tempRepo({ 'train.py': TRAIN });
  cleanups.push(repo.cleanup);
  const dir = mkdtempSync(join(tmpdir(), 'ar-patches-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  for (const [name, text] of Object.entries(patches)) writeFileSync(join(dir, name), text);
  return { repo, dir };
}

/** A hand-written zero-context diff of one line, as people write them. */
function oneLine(from: string, to: string, header = ''): string {
  return `${header}--- a/train.py\n+++ b/train.py\n@@ -1 +1 @@\n-${from}\n+${to}\n`;
}

describe('naturalCompare and listPatches', () => {
  it('orders digit runs as numbers', () => {
    assert.deepEqual(['10-y.patch', '2-x.patch', '1-a.diff', 'b.patch', 'a.patch'].sort(naturalCompare), ['1-a.diff', '2-x.patch', '10-y.patch', 'a.patch', 'b.patch']);
  });

  it('lists only .patch and .diff files', () => {
    const { dir } = setup({ '10-b.patch': '', '2-a.diff': '', 'README.md': '', 'notes.txt': '' });
    mkdirSync(join(dir, 'sub.patch'));
    assert.deepEqual(listPatches(dir), ['2-a.diff', '10-b.patch']);
  });
});

describe('describePatch', () => {
  it('takes the description from the first # line and the plan from all leading comments', () => {
    const d = describePatch('03-lr.patch', `# Raise the learning rate\n# The loss curve is still falling steeply at the end.\n#\n${oneLine('a', 'b')}`);
    assert.equal(d.description, 'Raise the learning rate');
    assert.equal(d.plan, 'Raise the learning rate The loss curve is still falling steeply at the end.');
  });

  it('reads a git format-patch header: Subject without [PATCH], the body as the plan', () => {
    const text = 'From 1234 Mon Sep 17 00:00:00 2001\nFrom: A <a@b.c>\nDate: today\nSubject: [PATCH 1/2] Use a wider\n model\n\nFour units are too few to fit the data.\n---\n train.py | 2 +-\n\ndiff --git a/train.py b/train.py\n';
    const d = describePatch('0001-wider.patch', text);
    assert.equal(d.description, 'Use a wider model');
    assert.match(d.plan, /^Four units are too few to fit the data\./);
  });

  it('falls back to the file name without its extension', () => {
    const d = describePatch('07-try-gelu.diff', oneLine('a', 'b'));
    assert.equal(d.description, '07-try-gelu');
    assert.equal(d.plan, 'Apply 07-try-gelu.diff.');
  });
});

describe('PatchesProposer', () => {
  it('offers every operator and applies the patches in natural order, once each, in place', async () => {
    const { repo, dir } = setup({
      '10-width.patch': `# Widen\n--- a/train.py\n+++ b/train.py\n@@ -2,3 +2,3 @@\n LR = 0.1\n-WIDTH = 4\n+WIDTH = 8\n print("val_loss: 1.0")\n`,
      '2-lr.patch': oneLine('import os', 'import os  # lr', '# Comment the import\n# to see the pipeline works\n'),
    });
    const proposer = new PatchesProposer({ dir });
    assert.equal(proposer.kind, 'patches');
    assert.deepEqual([...proposer.operators].sort(), ['debug', 'draft', 'improve']);

    const first = await proposer.propose(fakeRequest(repo.root));
    assert.ok(first);
    assert.equal(first.editKey, 'patch:2-lr.patch');
    assert.equal(first.description, 'Comment the import');
    assert.equal(first.plan, 'Comment the import to see the pipeline works');
    assert.equal(first.files, undefined);
    assert.deepEqual(first.proposer, { kind: 'patches' });
    assert.equal(readFileSync(join(repo.root, 'train.py'), 'utf8'), TRAIN.replace('import os', 'import os  # lr'));

    // The engine commits it as node #1; the next proposal (from the baseline again, on a fresh worktree) takes the next patch.
    repo.git('checkout', '--', 'train.py');
    const history = [fakeNode(), fakeNode({ id: 1, parentId: 0, operator: 'improve', editKey: first.editKey })];
    const second = await new PatchesProposer({ dir }).propose(fakeRequest(repo.root, { history }));
    assert.equal(second?.editKey, 'patch:10-width.patch');
    assert.equal(second.description, 'Widen');
    assert.equal(readFileSync(join(repo.root, 'train.py'), 'utf8'), TRAIN.replace('WIDTH = 4', 'WIDTH = 8'));

    const done = [...history, fakeNode({ id: 2, parentId: 0, operator: 'improve', editKey: second.editKey })];
    assert.equal(await new PatchesProposer({ dir }).propose(fakeRequest(repo.root, { history: done })), null);
  });

  it('does not hand out the same patch twice before the journal records it', async () => {
    const { repo, dir } = setup({ '1-a.patch': oneLine('import os', 'import os  # a'), '2-b.patch': oneLine('import os', 'import sys') });
    const proposer = new PatchesProposer({ dir });
    assert.equal((await proposer.propose(fakeRequest(repo.root)))?.editKey, 'patch:1-a.patch');
    repo.git('checkout', '--', 'train.py');
    assert.equal((await proposer.propose(fakeRequest(repo.root)))?.editKey, 'patch:2-b.patch');
    assert.equal(await proposer.propose(fakeRequest(repo.root)), null);
  });

  it('a patch that does not apply is a ProposalError naming it and git\'s reason, and is not offered again', async () => {
    const { repo, dir } = setup({ '03-foo.patch': oneLine('import numpy', 'import torch'), '04-ok.patch': oneLine('import os', 'import os  # ok') });
    const proposer = new PatchesProposer({ dir });
    await assert.rejects(proposer.propose(fakeRequest(repo.root)), (e: unknown) => {
      assert.ok(e instanceof ProposalError);
      assert.match(e.message, /^patch 03-foo\.patch does not apply: .*train\.py/);
      assert.equal(e.editKey, 'patch:03-foo.patch');
      assert.deepEqual(e.proposer, { kind: 'patches' });
      return true;
    });
    assert.equal(readFileSync(join(repo.root, 'train.py'), 'utf8'), TRAIN, 'nothing was changed');
    assert.equal((await proposer.propose(fakeRequest(repo.root)))?.editKey, 'patch:04-ok.patch');
  });

  it('a file that is no diff at all is a ProposalError', async () => {
    const { repo, dir } = setup({ '1-empty.patch': '# nothing here\n' });
    await assert.rejects(new PatchesProposer({ dir }).propose(fakeRequest(repo.root)), (e: unknown) => e instanceof ProposalError && /1-empty\.patch does not apply/.test(e.message));
  });

  it('a missing folder is a ProposalError naming it', async () => {
    const { repo, dir } = setup({});
    const missing = join(dir, 'nope');
    await assert.rejects(new PatchesProposer({ dir: missing }).propose(fakeRequest(repo.root)), (e: unknown) => e instanceof ProposalError && e.message.includes(missing) && /missing/.test(e.message));
  });
});
