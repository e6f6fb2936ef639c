// The agent-CLI proposer with fake agents (shell scripts): one that edits the right file, one that edits
// a protected file (returned as is: the engine's guard rejects it, checked through the Controller), one
// that hangs and is killed with its whole process group, one that exits non-zero, one that commits
// like aider, one that does nothing, and Claude Code's JSON output with its cost.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, afterEach, before, describe, it } from 'node:test';
import { parseConfig } from '../../../../src/core/config.js';
import { Controller } from '../../../../src/core/controller.js';
import { createProposer } from '../../../../src/core/factory.js';
import { LocalExecutor } from '../../../../src/core/executors/localExecutor.js';
import { ProposalError, type ProposalRequest } from '../../../../src/core/proposers/proposer.js';
import type { AgentCliProposer} from '../../../../src/core/proposers/agentCli.js';
import { createAgentCliProposer, describeAgentChange, expandCommand, readAgentResult } from '../../../../src/core/proposers/agentCli.js';
import { fakeConfig, fakeNode, fakeRequest } from '../../helpers/nodes.js';
import { TOY_PREPARE, TOY_TRAIN, tempRepo, toyConfig, type TempRepo } from '../../helpers/repo.js';
import { rejection } from '../../helpers/assertions.js';

const AGENTS = fileURLToPath(new URL('../../fixtures/proposers/agents', import.meta.url));
const agent = (name: string) => join(AGENTS, name);

let repo: TempRepo;
let base: string;
const scratch = mkdtempSync(join(tmpdir(), 'ar-agent-test-'));
before(() => {
  repo = tempRepo({ 'train.py': TOY_TRAIN, 'prepare.py': TOY_PREPARE, '.autoresearch/.gitignore': '*\n' });
  base = repo.git('rev-parse', 'HEAD');
});
after(() => {
  repo.cleanup();
  rmSync(scratch, { recursive: true, force: true });
});
afterEach(() => {
  repo.git('reset', '-q', '--hard', base);
  repo.git('clean', '-fdq');
});

function proposerFor(command: string | string[], extra: Record<string, unknown> = {}): { proposer: AgentCliProposer; req: (p?: Partial<ProposalRequest>) => ProposalRequest } {
  const config = fakeConfig({ proposer: { kind: 'agent-cli', command, ...extra }, graceSeconds: 0.5 });
  const proposer = createAgentCliProposer(config);
  return { proposer, req: (p = {}) => fakeRequest(repo.root, { config, parent: fakeNode({ commit: base }), ...p }) };
}

/** Whether a process runs: a killed one may linger as a zombie until something reaps it, which is not running. */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) [ZX]/.test(stat);
  } catch {
    return false;
  }
}

describe('agent-cli: the agent edits the worktree', () => {
  it('passes the prompt as one argument (shell-quoted), runs with stdin closed, and reads the change from the worktree', async () => {
    const copy = join(scratch, 'prompt-arg.txt');
    process.env.AR_PROMPT_COPY = copy;
    try {
      const { proposer, req } = proposerFor(`${agent('edit-train.sh')} "{prompt}"`);
      const r = req({ hint: { id: 0, text: `try a "cosine" schedule, don't $(rm -rf /) it`, addedAt: '', takenBy: null } });
      const p = await proposer.propose(r);
      assert.ok(p);
      assert.equal(p.files, undefined, 'an agent edits in place');
      assert.equal(p.description, 'Raise LR to 0.4');
      assert.match(p.plan, /raised the learning rate because the loss was still falling/);
      assert.match(p.editKey, /^edit:[0-9a-f]{16}$/);
      assert.deepEqual(p.proposer, { kind: 'agent-cli', model: 'edit-train.sh' });
      assert.match(readFileSync(join(repo.root, 'train.py'), 'utf8'), /^LR = 0\.4$/m);
      // The prompt arrived intact, quotes and $(...) included, and it tells the agent how to work.
      const prompt = readFileSync(copy, 'utf8');
      assert.match(prompt, /"try a "cosine" schedule, don't \$\(rm -rf \/\) it"/);
      assert.match(prompt, /Edit the files in place; the engine reads your change from the worktree/);
      assert.match(prompt, /Change only train\.py\./);
    } finally {
      delete process.env.AR_PROMPT_COPY;
    }
  });

  it('passes the prompt as a file with {promptFile}, and an argv list needs no quoting', async () => {
    const copy = join(scratch, 'prompt-file.txt');
    process.env.AR_PROMPT_COPY = copy;
    try {
      const { proposer, req } = proposerFor([agent('edit-train.sh'), '', '{promptFile}']);
      assert.ok(await proposer.propose(req()));
      assert.match(readFileSync(copy, 'utf8'), /# Your task: improve #0/);
    } finally {
      delete process.env.AR_PROMPT_COPY;
    }
  });

  it('equal edits have equal keys; an edit already tried from the parent is refused with its key', async () => {
    const { proposer, req } = proposerFor(`${agent('edit-train.sh')} {prompt}`);
    const first = await proposer.propose(req());
    repo.git('reset', '-q', '--hard', base);
    const e = await rejection(proposer.propose(req({ triedFromParent: new Set([first!.editKey]) })));
    assert.ok(e instanceof ProposalError);
    assert.equal(e.editKey, first!.editKey);
    assert.match(e.message, /the agent repeated a change already tried from #0/);
  });

  it('an agent that commits (aider) and leaves scratch files: the commit is undone into the worktree, the scratch removed', async () => {
    const { proposer, req } = proposerFor(`${agent('commit.sh')} {prompt}`);
    const p = await proposer.propose(req());
    assert.equal(p?.description, 'Widen the layer to 16');
    assert.equal(repo.git('rev-parse', 'HEAD'), base);
    assert.equal(repo.git('status', '--porcelain', '--untracked-files=all'), 'M  train.py');
    assert.ok(!existsSync(join(repo.root, '.aider.chat.history.md')));
    assert.ok(!existsSync(join(repo.root, '.aider.tags.cache.v3')));
  });

  it('reads the cost and tokens of Claude Code\'s JSON output', async () => {
    const { proposer, req } = proposerFor(`${agent('claude-json.sh')} {prompt}`);
    const p = await proposer.propose(req());
    assert.equal(p?.description, 'Use GELU activation');
    assert.deepEqual(p?.proposer, { kind: 'agent-cli', model: 'claude-sonnet-4-5-20250929', tokensIn: 2000, tokensOut: 150, costUsd: 0.0421 });
  });
});

describe('agent-cli: failures', () => {
  it('a hanging agent is killed with its whole process group at the timeout', async () => {
    const pidFile = join(scratch, 'child.pid');
    process.env.AR_CHILD_PID = pidFile;
    try {
      const { proposer, req } = proposerFor(`${agent('hang.sh')} {prompt}`, { timeout: '1s' });
      const t0 = Date.now();
      const e = await rejection(proposer.propose(req()));
      const took = Date.now() - t0;
      assert.ok(e instanceof ProposalError);
      assert.match(e.message, /the agent did not finish within 1\.0 s \(proposer\.timeout\) and its process group was killed; last output: thinking\.\.\./);
      assert.ok(took < 4000, `took ${took} ms`);
      const child = Number(readFileSync(pidFile, 'utf8'));
      assert.ok(!running(child), 'the agent\'s own child is gone too');
    } finally {
      delete process.env.AR_CHILD_PID;
    }
  });

  it('a non-zero exit is a failed proposal with the exit code and the agent\'s last words', async () => {
    const { proposer, req } = proposerFor([agent('fail.sh'), '{prompt}']);
    const e = await rejection(proposer.propose(req()));
    assert.ok(e instanceof ProposalError);
    assert.match(e.message, /the agent exited with code 3; last output: Starting agent \| error: not logged in; run 'agent login'/);
  });

  it('an agent that changes nothing is a failed proposal', async () => {
    const { proposer, req } = proposerFor(`${agent('nothing.sh')} {prompt}`);
    const e = await rejection(proposer.propose(req()));
    assert.match(e.message, /the agent exited 0 but changed nothing in the worktree; last output: I looked at the code/);
  });

  it('a command that does not exist says so', async () => {
    const { proposer, req } = proposerFor(['/nonexistent/agent', '{prompt}']);
    const e = await rejection(proposer.propose(req()));
    assert.match(e.message, /the agent command could not start: .*ENOENT/);
  });

  it('Stop ends the agent at once', async () => {
    process.env.AR_CHILD_PID = join(scratch, 'child2.pid');
    try {
      const { proposer, req } = proposerFor(`${agent('hang.sh')} {prompt}`, { timeout: '60s' });
      const stop = new AbortController();
      const pending = proposer.propose(req({ signal: stop.signal }));
      setTimeout(() => stop.abort(), 300);
      const t0 = Date.now();
      const e = await rejection(pending);
      assert.ok(!(e instanceof ProposalError), e.message);
      assert.ok(Date.now() - t0 < 2000);
    } finally {
      delete process.env.AR_CHILD_PID;
    }
  });

  it('config: the command must pass the prompt; every bad key is named', () => {
    assert.throws(() => createProposer(fakeConfig({ proposer: { kind: 'agent-cli', command: 'claude -p' } }), repo.root), /proposer\.command: got "claude -p", expected a command that passes the prompt: \{prompt\}/);
    assert.throws(() => createProposer(fakeConfig({ proposer: { kind: 'agent-cli' } }), repo.root), /proposer\.command: got nothing, expected a command line with \{prompt\} or \{promptFile\}/);
    assert.throws(() => createProposer(fakeConfig({ proposer: { kind: 'agent-cli', command: 'x {prompt}', timeout: -1, scratch: 3 } }), repo.root), (e: Error) => /proposer\.timeout/.test(e.message) && /proposer\.scratch/.test(e.message));
  });
});

describe('agent-cli: helpers', () => {
  it('expandCommand quotes for the shell; an argv list is passed as is', () => {
    assert.deepEqual(expandCommand("claude -p {prompt} --x", { prompt: "it's", promptFile: '/t/p.md' }), { file: '/bin/sh', args: ['-c', "claude -p 'it'\\''s' --x"], shell: true });
    assert.deepEqual(expandCommand(['aider', '--message-file', '{promptFile}'], { prompt: 'p', promptFile: '/t/p.md' }), { file: 'aider', args: ['--message-file', '/t/p.md'], shell: false });
  });

  it('describeAgentChange and readAgentResult', () => {
    assert.equal(describeAgentChange('did things\n**PLAN:** Use `AdamW`', ['train.py']).description, 'Use AdamW');
    assert.equal(describeAgentChange('', ['train.py']).description, 'agent edit of train.py');
    assert.deepEqual(readAgentResult('plain text'), { text: 'plain text' });
  });
});

describe('agent-cli through the Controller', () => {
  it('the engine\'s guard rejects an agent that edits a protected file, and runs one that edits the right file', async () => {
    const r = tempRepo({ 'train.py': TOY_TRAIN, 'prepare.py': TOY_PREPARE });
    try {
      // First proposal edits the protected file; every later one edits train.py.
      const flag = join(scratch, 'second-time');
      rmSync(flag, { force: true });
      const script = join(scratch, 'agent.sh');
      writeFileSync(script, `#!/bin/sh\nif [ -e ${flag} ]; then exec ${agent('edit-train.sh')}; fi\ntouch ${flag}\nexec ${agent('edit-protected.sh')}\n`, { mode: 0o755 });
      r.write('autoresearch.config.yaml', toyConfig().replace('maxExperiments: 6', 'maxExperiments: 2').replace('proposer: mutate', `proposer: {kind: agent-cli, command: "${script} {prompt}", timeout: 30s}`).replace('policy: tree', 'policy: greedy')
        // The guard's own check, unsandboxed (in the sandbox the protected file is read-only to the agent: escape.test.ts).
        + 'sandbox: off\n');
      r.commit('config');
      mkdirSync(join(r.root, '.autoresearch'), { recursive: true });
      const config = parseConfig(readFileSync(join(r.root, 'autoresearch.config.yaml'), 'utf8'));
      const c = new Controller({ root: r.root, config, proposer: createProposer(config, r.root), executor: new LocalExecutor(), platform: null });
      const outcome = await c.run();
      c.dispose();
      assert.equal(outcome.state, 'done', outcome.reason);
      const [, bad, good] = outcome.model.nodes;
      assert.equal(bad!.status, 'invalid');
      assert.match(bad!.reason, /the proposal touched files outside its scope: prepare\.py \(protected\); it was not run/);
      assert.equal(bad!.proposer.kind, 'agent-cli');
      assert.equal(good!.status, 'keep', good!.reason);
      assert.equal(good!.description, 'Raise LR to 0.4');
      assert.deepEqual(good!.changedFiles, ['train.py']);
      assert.match(r.git('show', `${good!.commit}:train.py`), /^LR = 0\.4$/m);
      // The user's own checkout was never touched.
      assert.equal(readFileSync(join(r.root, 'prepare.py'), 'utf8'), TOY_PREPARE);
    } finally {
      r.cleanup();
    }
  });
});
