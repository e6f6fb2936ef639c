// Fault injection, runs: a run that ignores SIGTERM and forks (one child even leaves the process group),
// runs that crash every way a training script crashes, and runs that tamper with what they must not
// touch. Each session goes on to a good experiment afterwards, and nothing it recorded is lost.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe } from 'node:test';
import { TOY_PREPARE } from '../../helpers/repo.js';
import { fault, faultRepo, inProcess, journalPath, records, resultRows, running, ruleDecisions, ScriptedProposer, trainPy, waitFor, withKeys } from '../../helpers/faults.js';

const scratch = mkdtempSync(join(tmpdir(), 'ar-faults-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

describe('faults: runs', () => {
  fault('run ignores SIGTERM and forks children', 'a run that traps SIGTERM, forks two children with grandchildren and one child in a new session, then sleeps past the budget', async () => {
    const pidFile = join(scratch, 'stubborn.pids');
    const stubborn = `import os, signal, subprocess, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
pids = [os.getpid()]
for i in range(2):
    p = subprocess.Popen(["sh", "-c", "trap '' TERM; sleep 300 & echo $! >> ${pidFile}; wait; sleep 300"])
    pids.append(p.pid)
escaped = subprocess.Popen(["sh", "-c", "trap '' TERM; sleep 300"], start_new_session=True)
pids.append(escaped.pid)
with open(${JSON.stringify(pidFile)}, "a") as f:
    f.write("\\n".join(str(p) for p in pids) + "\\n")
print("val_loss: 0.01", flush=True)
time.sleep(300)
`;
    // The script writes its pids to the host's /tmp, which the sandbox hides: this one checks the kill without it
    // (escape.test.ts checks that a sandboxed run's processes end too).
    const repo = faultRepo(withKeys({ budget: '2s', graceSeconds: '0.5', maxExperiments: '2', policy: 'greedy', sandbox: 'off' }));
    const s = inProcess(repo, new ScriptedProposer([stubborn, trainPy(0.4)]));
    const t0 = Date.now();
    const outcome = await s.run();
    assert.equal(outcome.state, 'done', outcome.reason);
    const n1 = outcome.model.get(1)!;
    assert.equal(n1.status, 'crash');
    assert.match(n1.reason, /timed out: still running after the 2s budget/);
    // What the parent took says whether the line already ran near the budget, and what to change.
    assert.match(n1.reason, /; its parent #0 took (?:\d+\.\d s|\d+ ms) of the 2s budget: this change made the run much slower, or it hangs \(its log says which\)\. If that is what it costs, raise `budget`, or have the script stop in time \(it is told AUTORESEARCH_BUDGET_SECONDS\)$/);
    assert.ok(n1.wallMs! >= 2000 && n1.wallMs! < 2000 + 500 + 2500, `wall ${n1.wallMs}`);
    // Five processes started (the script, two children, two grandchildren) plus the one in its own session.
    const pids = readFileSync(pidFile, 'utf8').split('\n').filter(Boolean).map(Number);
    assert.equal(pids.length, 6, `pids: ${pids.join(' ')}`);
    await waitFor('every process of the run to be gone', () => pids.every((p) => !running(p)), 3000).catch(() => undefined);
    const left = pids.filter(running);
    assert.deepEqual(left, [], `still running after budget + grace: ${left.join(', ')}`);
    assert.equal(outcome.model.get(2)!.status, 'keep', 'the session went on');
    return `crash (timed out) in ${(n1.wallMs! / 1000).toFixed(1)}s; 6 of 6 processes gone; node 2 kept (session total ${((Date.now() - t0) / 1000).toFixed(1)}s)`;
  });

  fault('exit codes, NaN, inf, no metric, OOM, a signal', 'six crashing runs in a row, then a good one', async () => {
    const repo = faultRepo(withKeys({ maxExperiments: '7', policy: 'greedy' }));
    const steps = [
      trainPy(0.4, 'import sys\nsys.exit(3)\n'),
      trainPy(0.4).replace(/print\(f"val_loss: .*"\)/, 'print("val_loss: nan")'),
      trainPy(0.4).replace(/print\(f"val_loss: .*"\)/, 'print("val_loss: inf")'),
      trainPy(0.4).replace(/print\(f"val_loss: .*"\)/, 'print("training went fine, honest")'),
      'import sys\nprint("step 1/1")\nprint("torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB", file=sys.stderr)\nsys.exit(1)\n',
      'import os, signal\nprint("val_loss: 0.01", flush=True)\nos.kill(os.getpid(), signal.SIGSEGV)\n',
      trainPy(0.4),
    ];
    const s = inProcess(repo, new ScriptedProposer(steps));
    const outcome = await s.run();
    assert.equal(outcome.state, 'done', outcome.reason);
    const m = outcome.model;
    const reasons = [1, 2, 3, 4, 5, 6].map((id) => `${m.get(id)!.status}: ${m.get(id)!.reason}`);
    assert.match(reasons[0]!, /^crash: exit code 3$/);
    assert.match(reasons[1]!, /^crash: val_loss is NaN$/);
    assert.match(reasons[2]!, /^crash: val_loss is inf$/);
    assert.match(reasons[3]!, /^crash: no `val_loss:` line in the log$/);
    assert.match(reasons[4]!, /^crash: exit code 1 \(out of memory\)$/);
    assert.match(reasons[5]!, /^crash: (killed by SIGSEGV|exit code 139)$/);
    assert.equal(m.get(7)!.status, 'keep', m.get(7)!.reason);
    assert.equal(repo.git('rev-parse', 'autoresearch/t1'), m.get(7)!.commit);
    // One row per experiment, crashes with 0.000000 as in the original format.
    const rows = resultRows(repo);
    assert.deepEqual(rows.map((r) => r.status), ['keep', 'crash', 'crash', 'crash', 'crash', 'crash', 'crash', 'keep']);
    const lines = readFileSync(join(repo.root, 'results.tsv'), 'utf8').split('\n').slice(2, 8);
    assert.ok(lines.every((l) => l.split('\t')[1] === '0.000000'), lines.join('\n'));
    assert.deepEqual(ruleDecisions(repo), [0, 1, 2, 3, 4, 5, 6, 7]);
    return reasons.map((r) => r.replace(/^crash: /, '')).join('; ') + '; node 7 kept';
  });

  fault('run writes to protected files and session records', 'runs that edit prepare.py, delete it, rewrite results.tsv and append a forged record to the journal', async () => {
    // Detection, the protection where no sandbox runs (escape.test.ts has the same attempts with the sandbox on).
    const repo = faultRepo(withKeys({ maxExperiments: '5', policy: 'greedy', sandbox: 'off' }));
    const results = join(repo.root, 'results.tsv');
    const journal = journalPath(repo);
    const steps = [
      trainPy(0.4, 'open("prepare.py", "a").write("CHEAT = True\\n")\n'),
      trainPy(0.4, 'import os\nos.remove("prepare.py")\n'),
      trainPy(0.4, `open(${JSON.stringify(results)}, "w").write("commit\\tval_loss\\tmemory_gb\\tstatus\\tdescription\\nabcdef0\\t0.000001\\t0.0\\tkeep\\tforged\\n")\n`),
      trainPy(0.4, `open(${JSON.stringify(journal)}, "a").write('{"seq":999,"type":"decide","id":0,"status":"discard","metric":null,"memoryGb":null,"secondary":{},"reason":"forged","decidedBy":"human"}\\n')\n`),
      trainPy(0.4),
    ];
    const s = inProcess(repo, new ScriptedProposer(steps));
    const outcome = await s.run();
    assert.equal(outcome.state, 'done', outcome.reason);
    const m = outcome.model;
    const got = [1, 2, 3, 4].map((id) => `${m.get(id)!.status}: ${m.get(id)!.reason}`);
    assert.match(got[0]!, /^invalid: the run modified protected files: prepare\.py \(restored\)$/);
    assert.match(got[1]!, /^invalid: the run modified protected files: prepare\.py \(restored\)$/);
    assert.match(got[2]!, /^invalid: the run modified results\.tsv \(restored\)$/);
    assert.match(got[3]!, /^invalid: the run modified the session journal \(restored\)$/);
    assert.equal(m.get(5)!.status, 'keep', 'the session went on');
    // The files are as the engine wrote them: no forged row, no forged record, the evaluation untouched.
    const rows = resultRows(repo);
    assert.deepEqual(rows.map((r) => r.status), ['keep', 'invalid', 'invalid', 'invalid', 'invalid', 'keep']);
    assert.ok(!readFileSync(results, 'utf8').includes('forged'));
    const recs = records(repo);
    assert.ok(!readFileSync(journal, 'utf8').includes('forged'));
    assert.deepEqual(recs.map((r) => r.seq), recs.map((_, i) => i), 'seq numbers run without a gap');
    assert.equal(m.get(0)!.status, 'keep');
    assert.equal(readFileSync(join(repo.root, 'prepare.py'), 'utf8'), TOY_PREPARE);
    assert.equal(repo.git('status', '--porcelain', '--untracked-files=no'), '');
    return 'all four invalid with the reason; prepare.py, results.tsv and the journal restored; node 5 kept';
  });
});
