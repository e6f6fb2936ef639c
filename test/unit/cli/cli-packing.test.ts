// GPU packing as a user meets it through the CLI: the warning on stderr, the runs kept to one slot, the summary's
// line, and a refused config. nvidia-smi is a fake on PATH: this machine has no GPU.
import assert from 'node:assert/strict';
import { chmodSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Journal } from '../../../src/core/record/journal.js';
import { SessionModel } from '../../../src/core/model.js';
import { cliSync as cli } from '../helpers/cli.js';
import { tempFolder, tempRepo, type TempRepo } from '../helpers/repo.js';

const TRAIN = `import argparse, time
p = argparse.ArgumentParser()
p.add_argument("--lr", type=float, default=0.1)
p.add_argument("--batch_size", type=int, default=32)
args = p.parse_args()
loss = abs(args.lr - 0.4) + 0.32 / args.batch_size
for step in (100, 200):
    time.sleep(0.1)
    print(f"step {step}: train loss {loss + 0.3 / step:.4f}, val loss {loss + 0.2 / step:.4f}", flush=True)
print(f"val_loss: {loss:.6f}")
print(f"peak_vram_mb: {300 * args.batch_size:.1f}")
`;

const CONFIG = `tag: pack
editable: [train.py]
run: python3 train.py
budget: 30s
metric: {name: val_loss, direction: minimize}
maxExperiments: 3
gpus: [0]
slotsPerGpu: 2
`;

const repos: TempRepo[] = [];
const savedPath = process.env.PATH;
before(() => {
  const dir = tempFolder({ 'nvidia-smi': "#!/bin/sh\necho '0, GPU-3f2a1c9e-0000-1111-2222-333344445555, 16384'\n" }, 'ar-smi-');
  chmodSync(join(dir, 'nvidia-smi'), 0o755);
  process.env.PATH = `${dir}:${savedPath}`;
});
after(() => {
  process.env.PATH = savedPath;
  for (const r of repos) r.cleanup();
});

describe('GPU packing through the CLI', () => {
  it('says on stderr that two 9.4 GB runs do not fit a 16 GB card, runs one at a time, and the summary says so', () => {
    const repo = tempRepo({ 'train.py': TRAIN, 'autoresearch.config.yaml': CONFIG });
    repos.push(repo);
    const r = cli(repo.root, 'run');
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /^warn: GPU 0 \(16\.0 GB\): 2 runs of up to 9\.4 GB \(#0's peak\) and 512 MB of CUDA context each need 19\.8 GB, more than the card has: 1 run at a time on it from now on \(slot 1 takes no more experiments\)$/m);
    const model = SessionModel.fromRecords(Journal.read(join(repo.root, '.autoresearch', 'pack', 'journal.jsonl')));
    assert.ok(model.nodes.length >= 3, 'experiments ran');
    assert.deepEqual([...new Set(model.nodes.map((n) => n.slot))], [0], 'all in slot 0');
    const summary = readFileSync(join(repo.root, 'autoresearch-summary.md'), 'utf8');
    assert.match(summary, /, 2 at a time \(up to 2 per GPU on GPU 0; the largest peak memory a run reported: [\d.]+ GB\), /);
  });

  it('refuses more slots than the GPUs listed take, naming slotsPerGpu, and runs nothing', () => {
    const repo = tempRepo({ 'train.py': TRAIN, 'autoresearch.config.yaml': CONFIG.replace('gpus: [0]\nslotsPerGpu: 2\n', 'gpus: [0, 1]\nparallel: 4\n') });
    repos.push(repo);
    const r = cli(repo.root, 'run');
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, /parallel: got 4, expected at most 2: gpus lists 2 GPUs and slotsPerGpu is 1, so 4 would put 2 runs on a GPU; when that many fit, say so with slotsPerGpu: 2/);
    assert.equal(repo.git('branch', '--list', 'autoresearch/*'), '');
  });
});
