// Which runs the sandbox fences follows what the executor declares (Executor.sandboxed), not its kind's name.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseConfig } from '../../../../src/core/config.js';
import type { Executor } from '../../../../src/core/executors/executor.js';
import { LocalExecutor } from '../../../../src/core/executors/localExecutor.js';
import { ManualExecutor } from '../../../../src/core/executors/manualExecutor.js';
import { SlurmExecutor } from '../../../../src/core/executors/slurmExecutor.js';
import { Lab } from '../../../../src/core/git.js';
import { Protection, SandboxUnavailableError } from '../../../../src/core/protection/protection.js';
import { TOY_PREPARE, TOY_TRAIN, tempRepo, toyConfig } from '../../helpers/repo.js';

async function open(executor: Pick<Executor, 'kind' | 'sandboxed'>, sandbox: string): Promise<{ protection: Protection; logged: string[] }> {
  const repo = tempRepo({ 'train.py': TOY_TRAIN, 'prepare.py': TOY_PREPARE });
  const logged: string[] = [];
  const protection = await Protection.open({
    lab: await Lab.open(repo.root), config: parseConfig(toyConfig(`sandbox: ${sandbox}\n`)), sessionDir: join(repo.root, '.autoresearch', 't1'),
    executor, probe: () => ({ ok: false, reason: 'bubblewrap is not installed here' }), log: (m) => logged.push(m),
  });
  return { protection, logged };
}

describe('the sandbox follows what the executor declares', () => {
  it('the built-in executors declare where their runs can be fenced', () => {
    assert.equal(new LocalExecutor().sandboxed, 'here');
    assert.equal(new SlurmExecutor().sandboxed, 'on-nodes');
    const manual: Executor = new ManualExecutor();
    assert.equal(manual.sandboxed, undefined);
  });

  it('an executor of any name that runs here is sandboxed by the bubblewrap probed here: `sandbox: on` without it refuses the start', async () => {
    await assert.rejects(open({ kind: 'queue', sandboxed: 'here' }, 'on'), SandboxUnavailableError);
  });

  it('an executor that declares no sandbox runs with detection only, and the protection line names it', async () => {
    const { protection, logged } = await open({ kind: 'queue' }, 'on');
    assert.equal(protection.sandboxed, false);
    assert.match(protection.description, /the queue executor runs commands where the engine cannot sandbox them/);
    assert.ok(logged.some((l) => l.includes('protection:')), logged.join('\n'));
  });

  it('an executor whose runs are fenced on a cluster\'s nodes leaves bubblewrap to each job, whatever is installed here', async () => {
    const { protection } = await open({ kind: 'queue', sandboxed: 'on-nodes' }, 'auto');
    assert.equal(protection.sandboxed, true);
    assert.match(protection.description, /on each compute node where bubblewrap runs/);
  });
});
