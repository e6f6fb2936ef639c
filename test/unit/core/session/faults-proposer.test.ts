// Fault injection, proposers: an agent that hangs past its timeout (with a child), one that prints garbage
// and changes nothing, one that exits non-zero, one that edits the protected evaluation; and an in-process
// proposer that returns garbage objects, throws, or writes outside its worktree. Every bad proposal is
// recorded as invalid with the reason, nothing it touched outside its scope survives, and the session goes on.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe } from 'node:test';
import { TOY_PREPARE } from '../../helpers/repo.js';
import { fault, faultRepo, inProcess, resultRows, ruleDecisions, running, ScriptedProposer, trainPy, waitFor, withKeys } from '../../helpers/faults.js';

const scratch = mkdtempSync(join(tmpdir(), 'ar-faults-proposer-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

describe('faults: proposers', () => {
  fault('agent proposer times out, returns garbage, edits a protected file', 'a fake agent CLI that hangs (with a child), prints binary garbage and changes nothing, edits prepare.py, exits 7, then behaves', async () => {
    const counter = join(scratch, 'agent.count');
    const childPid = join(scratch, 'agent.child');
    const agent = join(scratch, 'agent.sh');
    writeFileSync(agent, `#!/bin/sh
n=$(cat ${counter} 2>/dev/null || echo 0); n=$((n+1)); echo $n > ${counter}
case $n in
1) sleep 300 & echo $! > ${childPid}; echo "thinking..."; sleep 300 ;;
2) printf '\\377\\376 {{{ not a plan ]]\\n\\000\\n'; exit 0 ;;
3) sed -i 's/^SPLIT = .*/SPLIT = 0.1/' prepare.py; echo "PLAN: Use a smaller validation split" ;;
4) echo "Traceback (most recent call last): model overloaded"; exit 7 ;;
*) sed -i 's/^LR = .*/LR = 0.4/' train.py; echo "PLAN: Raise LR to 0.4" ;;
esac
`);
    chmodSync(agent, 0o755);
    // The fake agent keeps its counter and its child's pid in the host's /tmp: unsandboxed (escape.test.ts has an
    // agent in the sandbox).
    const repo = faultRepo(withKeys({ maxExperiments: '5', policy: 'greedy', graceSeconds: '0.5', proposer: `{kind: agent-cli, command: "${agent} {promptFile}", timeout: 1s}`, sandbox: 'off' }));
    const s = inProcess(repo);
    const outcome = await s.run();
    assert.equal(outcome.state, 'done', outcome.reason);
    const m = outcome.model;
    const got = [1, 2, 3, 4].map((id) => `${m.get(id)!.status}: ${m.get(id)!.reason}`);
    assert.match(got[0]!, /^invalid: the agent did not finish within 1\.0 s \(proposer\.timeout\) and its process group was killed; last output: thinking/);
    assert.match(got[1]!, /^invalid: the agent exited 0 but changed nothing in the worktree/);
    assert.match(got[2]!, /^invalid: the proposal touched files outside its scope: prepare\.py \(protected\); it was not run$/);
    assert.match(got[3]!, /^invalid: the agent exited with code 7; last output: .*model overloaded/);
    assert.equal(m.get(5)!.status, 'keep', m.get(5)!.reason);
    assert.equal(m.get(5)!.description, 'Raise LR to 0.4');
    // The hung agent's child died with it; the protected edit never ran and never reached the user's checkout.
    const child = Number(readFileSync(childPid, 'utf8'));
    await waitFor('the hung agent\'s child to be gone', () => !running(child), 3000).catch(() => undefined);
    assert.equal(running(child), false, `agent child ${child} outlived the timeout`);
    assert.equal(m.get(3)!.logPath, null, 'the protected edit was not run');
    assert.equal(readFileSync(join(repo.root, 'prepare.py'), 'utf8'), TOY_PREPARE);
    assert.deepEqual(resultRows(repo).map((r) => r.status), ['keep', 'invalid', 'invalid', 'invalid', 'invalid', 'keep']);
    return 'timeout, no change, protected edit, exit 7: each invalid with the reason; the hung child gone; node 5 kept';
  });

  fault('in-process proposer returns garbage or throws', 'a proposer returning a string, wrongly typed fields, a path out of its worktree; throwing an Error and a bare string', async () => {
    const repo = faultRepo(withKeys({ maxExperiments: '7', policy: 'greedy' }));
    const steps = [
      { proposal: 'I think we should raise the learning rate.' },
      { proposal: { description: 42, plan: null, editKey: {}, files: { 'train.py': 7 }, proposer: null } },
      trainPy(0.3),
      { files: { '../../../../prepare.py': 'CHEAT = True\n' }, description: 'escape the worktree' },
      { throws: new TypeError('Cannot read properties of undefined (reading \'choices\')') },
      { throws: 'the model said no' },
      trainPy(0.4),
    ];
    const s = inProcess(repo, new ScriptedProposer(steps));
    const outcome = await s.run();
    assert.equal(outcome.state, 'done', outcome.reason);
    const m = outcome.model;
    const got = [1, 2, 4, 5, 6].map((id) => `${m.get(id)!.status}: ${m.get(id)!.reason}`);
    assert.match(got[0]!, /^invalid: the proposer returned a malformed proposal: expected an object, got the text "I think we should raise the learning rat…"$/);
    assert.match(got[1]!, /^invalid: the proposer returned a malformed proposal: description is number 42, not text$/);
    assert.equal(m.get(3)!.status, 'keep');
    assert.match(got[2]!, /^invalid: the proposer returned a malformed proposal: the path "..\/..\/..\/..\/prepare.py" is outside the worktree$/);
    assert.match(got[3]!, /^invalid: the proposer failed: Cannot read properties of undefined/);
    assert.match(got[4]!, /^invalid: the proposer failed: the model said no$/);
    assert.equal(m.get(7)!.status, 'keep', 'the session went on');
    assert.equal(readFileSync(join(repo.root, 'prepare.py'), 'utf8'), TOY_PREPARE, 'nothing was written outside the worktree');
    assert.deepEqual(resultRows(repo).map((r) => r.status), ['keep', 'invalid', 'invalid', 'keep', 'invalid', 'invalid', 'invalid', 'keep']);
    assert.deepEqual(ruleDecisions(repo), [0, 1, 2, 3, 4, 5, 6, 7]);
    return 'each garbage proposal invalid with the reason; nothing written outside the worktree; node 7 kept';
  });
});
