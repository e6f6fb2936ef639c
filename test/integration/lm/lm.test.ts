// The vscode-lm proposer on the real vscode.lm API in an extension host: a test extension registers fake
// chat models (test/fixtures/lm-extension), and a whole session runs on them through the Controller.
// Run: node test/fixtures/lm-extension/build.mjs && node test/integration/runTests.mjs --extension out/fixtures/lm-extension --tests test/integration/lm
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { after, before, describe, it } from 'mocha';
import { createProposer } from '../../../src/core/factory.js';
import { openSession } from '../../../src/core/openSession.js';
import { ProposalError } from '../../../src/core/proposers/proposer.js';
import { registerLanguageModelProposer } from '../../../src/extension/lm/register.js';
import type { LmFixtureApi } from '../../fixtures/lm-extension/src/extension.js';
import { fakeConfig, fakeNode, fakeRequest } from '../../unit/helpers/nodes.js';

const FIXTURE = 'autoresearch-test.lm-extension';
const TRAIN = `import os
LR = 0.1
WIDTH = 4
loss = abs(LR - 0.4) + abs(WIDTH - 16) / 10
print(f"val_loss: {loss:.6f}")
`;

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8' }).trim();
}

function repoWith(proposer: string, max: number): string {
  const root = mkdtempSync(join(tmpdir(), 'ar-lm-'));
  git(root, 'init', '-q', '-b', 'main');
  git(root, 'config', 'user.email', 't@example.com');
  git(root, 'config', 'user.name', 'T');
  writeFileSync(join(root, 'train.py'), TRAIN);
  writeFileSync(join(root, 'autoresearch.config.yaml'), `tag: lm\neditable: [train.py]\nrun: python3 train.py\nbudget: 30s\nmetric: {name: val_loss, direction: minimize}\nmaxExperiments: ${max}\nproposer: ${proposer}\npolicy: greedy\n`);
  git(root, 'add', '-A');
  git(root, 'commit', '-qm', 'baseline');
  return root;
}

describe('vscode-lm proposer on the real vscode.lm API', function () {
  this.timeout(120_000);
  let api: LmFixtureApi;
  let registration: vscode.Disposable;
  const blocked: string[] = [];
  const roots: string[] = [];

  before(async () => {
    const ext = vscode.extensions.getExtension<LmFixtureApi>(FIXTURE);
    assert.ok(ext, `${FIXTURE} is not loaded`);
    api = await ext.activate();
    registration = registerLanguageModelProposer(api.context, { onBlocked: async (e) => { blocked.push(e.message); return 'fail'; } });
  });
  after(() => {
    registration?.dispose();
    for (const r of roots) rmSync(r, { recursive: true, force: true });
  });

  it('sees the fixture\'s models through vscode.lm.selectChatModels', async () => {
    const models = await vscode.lm.selectChatModels({ vendor: 'autoresearch-test' });
    assert.deepEqual(models.map((m) => m.id).sort(), ['quota-model', 'toy-coder']);
  });

  it('runs a session whose proposals come from the language model, recording model and tokens', async () => {
    const root = repoWith('{kind: vscode-lm, vendor: autoresearch-test, id: toy-coder}', 3);
    roots.push(root);
    // Opened as Start opens it: the config file, and the proposer the extension registered for vscode-lm.
    const session = await openSession({ root, platform: null });
    const outcome = await session.controller.run();
    session.dispose();
    assert.equal(outcome.state, 'done', outcome.reason);
    const nodes = outcome.model.nodes.filter((n) => n.id !== 0);
    assert.equal(nodes.length, 3);
    for (const n of nodes) {
      assert.equal(n.proposer.kind, 'vscode-lm');
      assert.equal(n.proposer.model, 'autoresearch-test/toy-coder');
      assert.ok((n.proposer.tokensIn ?? 0) > 100 && (n.proposer.tokensOut ?? 0) > 10, JSON.stringify(n.proposer));
    }
    assert.equal(nodes[0]!.description, 'LR 0.1 -> 0.2');
    assert.equal(nodes[0]!.status, 'keep');
    assert.ok(api.requests.some((r) => r.model === 'toy-coder' && r.text.startsWith('You are the research agent of AutoResearch')));
  });

  it('a provider out of quota: the proposer asks the person (here: fail) and the proposal fails with the reason', async () => {
    const root = repoWith('mutate', 1);
    roots.push(root);
    const config = fakeConfig({ proposer: { kind: 'vscode-lm', vendor: 'autoresearch-test', id: 'quota-model', retries: 0 } });
    const proposer = createProposer(config, root);
    const request = fakeRequest(root, { config, parent: fakeNode({ commit: git(root, 'rev-parse', 'HEAD') }) });
    const error = await proposer.propose(request).catch((e: unknown) => e);
    proposer.dispose();
    assert.ok(error instanceof ProposalError, String(error));
    assert.match(error.message, /Quota Model \(autoresearch-test\) refused the request \(quota or rate limit\)/);
    assert.match(blocked[blocked.length - 1] ?? '', /Quota exceeded for this test model/);
  });
});
