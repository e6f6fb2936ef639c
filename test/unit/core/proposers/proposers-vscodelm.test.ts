// The vscode-lm proposer on a fake LanguageModelHost (the real vscode.lm path is exercised in an
// extension host by test/integration/lm): model selection, the rules in the first user message,
// token counts from the model's tokenizer, consent and quota errors waiting for the person, Stop.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type * as vscode from 'vscode';
import { ConfigError } from '../../../../src/core/config.js';
import { ProposalError } from '../../../../src/core/proposers/proposer.js';
import { createVscodeLmProposer, type LanguageModelHost, type ModelChoice } from '../../../../src/extension/lm/languageModelProposer.js';
import { searchReplace } from '../../fixtures/proposers/servers.js';
import { fakeConfig, fakeRequest } from '../../helpers/nodes.js';
import { tempRepo, type TempRepo } from '../../helpers/repo.js';

const TRAIN = 'import os\nLR = 0.1\nWIDTH = 4\nprint("val_loss: 1.0")\n';
const GOOD = searchReplace('train.py', 'LR = 0.1', 'LR = 0.2', 'PLAN: Double LR');

interface FakeMessage { role: 'user' | 'assistant'; content: string }
class LmError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

type Answer = string | LmError | 'hang';

function fakeModel(id: string, vendor: string, answers: Answer[], seen: FakeMessage[][]): vscode.LanguageModelChat {
  return {
    id, vendor, family: id, name: `Fake ${id}`, version: '1', maxInputTokens: 50_000,
    sendRequest: async (messages: FakeMessage[], _options: unknown, token: { isCancellationRequested: boolean; onCancellationRequested(cb: () => void): void }) => {
      seen.push(messages);
      const a = answers.shift() ?? GOOD;
      if (a instanceof LmError) throw a;
      if (a === 'hang') {
        await new Promise<void>((_, reject) => token.onCancellationRequested(() => reject(Object.assign(new Error('Canceled'), { name: 'Canceled' }))));
      }
      return { text: (async function* () { for (let i = 0; i < a.length; i += 10) yield a.slice(i, i + 10); })(), stream: (async function* () { /* unused */ })() };
    },
    countTokens: async (t: string | FakeMessage) => Math.ceil((typeof t === 'string' ? t : t.content).length / 4),
  } as unknown as vscode.LanguageModelChat;
}

function host(models: () => vscode.LanguageModelChat[], selectors: vscode.LanguageModelChatSelector[] = []): LanguageModelHost {
  return {
    selectChatModels: async (s) => {
      selectors.push(s);
      return models().filter((m) => (!s.vendor || m.vendor === s.vendor) && (!s.id || m.id === s.id) && (!s.family || m.family === s.family));
    },
    userMessage: (text) => ({ role: 'user', content: text }) as unknown as vscode.LanguageModelChatMessage,
    assistantMessage: (text) => ({ role: 'assistant', content: text }) as unknown as vscode.LanguageModelChatMessage,
    cancellation: (signal) => {
      const listeners: (() => void)[] = [];
      const token = { get isCancellationRequested() { return signal.aborted; }, onCancellationRequested: (cb: () => void) => { listeners.push(cb); if (signal.aborted) cb(); } };
      const fire = () => listeners.forEach((l) => l());
      signal.addEventListener('abort', fire);
      return { token: token as unknown as vscode.CancellationToken, dispose: () => signal.removeEventListener('abort', fire) };
    },
    errorCode: (e) => (e instanceof LmError ? e.code : undefined),
  };
}

let repo: TempRepo;
before(() => { repo = tempRepo({ 'train.py': TRAIN }); });
after(() => repo.cleanup());

const config = (extra: Record<string, unknown> = {}) => fakeConfig({ proposer: { kind: 'vscode-lm', retries: 0, ...extra } });

describe('vscode-lm', () => {
  it('asks the configured model with the rules in the first user message, and counts tokens with its tokenizer', async () => {
    const seen: FakeMessage[][] = [];
    const selectors: vscode.LanguageModelChatSelector[] = [];
    const models = [fakeModel('gpt-x', 'copilot', [], seen), fakeModel('claude-y', 'other', [], seen)];
    const c = config({ vendor: 'other' });
    const p = await createVscodeLmProposer(c, host(() => models, selectors)).propose(fakeRequest(repo.root, { config: c }));
    assert.ok(p);
    assert.deepEqual(p.files, { 'train.py': TRAIN.replace('LR = 0.1', 'LR = 0.2') });
    assert.equal(p.proposer.model, 'other/claude-y');
    assert.ok(p.proposer.tokensIn! > 100 && p.proposer.tokensOut === Math.ceil(GOOD.length / 4), JSON.stringify(p.proposer));
    assert.equal(p.proposer.costUsd, undefined);
    assert.deepEqual(selectors[0], { vendor: 'other' });
    assert.equal(seen[0]!.length, 1);
    assert.equal(seen[0]![0]!.role, 'user');
    assert.match(seen[0]![0]!.content, /^You are the research agent of AutoResearch[\s\S]*# Current code of #0/);
  });

  it('uses the model a person chose when the config names none; `model` selects a family', async () => {
    const seen: FakeMessage[][] = [];
    const selectors: vscode.LanguageModelChatSelector[] = [];
    const models = [fakeModel('a', 'v1', [], seen), fakeModel('b', 'v2', [], seen)];
    const chosen: ModelChoice = { vendor: 'v2', id: 'b' };
    const c = config();
    const p = await createVscodeLmProposer(c, host(() => models, selectors), { chosenModel: () => chosen }).propose(fakeRequest(repo.root, { config: c }));
    assert.equal(p?.proposer.model, 'v2/b');
    const c2 = config({ model: 'a' });
    await createVscodeLmProposer(c2, host(() => models, selectors)).propose(fakeRequest(repo.root, { config: c2 }));
    assert.deepEqual(selectors[selectors.length - 1], { family: 'a' });
  });

  it('no model, no consent, quota: the proposal waits for the person, then retries or fails clearly', async () => {
    const seen: FakeMessage[][] = [];
    let models: vscode.LanguageModelChat[] = [];
    const asked: string[] = [];
    const answers: ('retry' | 'fail')[] = ['retry', 'retry', 'retry'];
    const c = config();
    const proposer = createVscodeLmProposer(c, host(() => models), {
      onBlocked: async (e) => {
        asked.push(e.message);
        // The person signs in to a provider, grants access, waits for quota.
        models = [fakeModel('m', 'copilot', [new LmError('NoPermissions', 'The user did not consent.'), new LmError('Blocked', 'Quota exceeded.')], seen)];
        if (asked.length > 1) models = [fakeModel('m', 'copilot', asked.length === 2 ? [new LmError('Blocked', 'Quota exceeded.')] : [], seen)];
        return answers.shift() ?? 'fail';
      },
    });
    const p = await proposer.propose(fakeRequest(repo.root, { config: c }));
    assert.ok(p);
    assert.match(asked[0]!, /no VS Code language model matches \(any\): install and sign in to a provider such as GitHub Copilot/);
    assert.match(asked[1]!, /AutoResearch may not use Fake m \(copilot\): The user did not consent\./);
    assert.match(asked[2]!, /Fake m \(copilot\) refused the request \(quota or rate limit\): Quota exceeded\./);

    const failing = createVscodeLmProposer(c, host(() => []), { onBlocked: async () => 'fail' });
    const e = await failing.propose(fakeRequest(repo.root, { config: c })).catch((x: unknown) => x);
    assert.ok(e instanceof ProposalError);
    assert.match(e.message, /no VS Code language model matches/);
  });

  it('Stop cancels the request through its cancellation token', async () => {
    const seen: FakeMessage[][] = [];
    const models = [fakeModel('m', 'copilot', ['hang'], seen)];
    const c = config({ timeout: '60s' });
    const stop = new AbortController();
    const pending = createVscodeLmProposer(c, host(() => models)).propose(fakeRequest(repo.root, { config: c, signal: stop.signal }));
    setTimeout(() => stop.abort(), 50);
    const t0 = Date.now();
    const e = await pending.catch((x: unknown) => x as Error);
    assert.ok(!(e instanceof ProposalError), String(e));
    assert.ok(Date.now() - t0 < 1000);
  });

  it('config: maxTokens has no meaning here and is refused by name', () => {
    assert.throws(() => createVscodeLmProposer(config({ maxTokens: 100 }), host(() => [])), (e: unknown) => e instanceof ConfigError && /proposer\.maxTokens: got 100, expected no such key/.test(e.message));
  });
});
