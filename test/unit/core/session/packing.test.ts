// GPU packing (slotsPerGpu): several runs share a GPU when the user says they fit, and the peak memory each run
// reports is checked against the card's memory (a fake nvidia-smi on PATH here: this machine has no GPU).
import assert from 'node:assert/strict';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConfigError, parseConfig } from '../../../../src/core/config.js';
import { Controller, type ControllerEvent } from '../../../../src/core/controller.js';
import { cardMemory, parseSmiCards } from '../../../../src/core/executors/gpuMemory.js';
import { LocalExecutor } from '../../../../src/core/executors/localExecutor.js';
import type { Proposal, ProposalRequest, Proposer } from '../../../../src/core/proposers/proposer.js';
import { SUMMARY_FILE } from '../../../../src/core/report/summary.js';
import type { Operator } from '../../../../src/core/types.js';
import { tempFolder, tempRepo, type TempRepo } from '../../helpers/repo.js';

const MINIMAL = 'tag: mar5\neditable: train.py\nrun: python3 train.py\nbudget: 5m\nmetric: {name: val_loss}\n';

function issues(text: string): { path: string; expected: string }[] {
  try {
    parseConfig(text);
  } catch (e) {
    if (e instanceof ConfigError) return e.issues;
    throw e;
  }
  assert.fail('the config was accepted');
}

describe('slotsPerGpu in the config', () => {
  it('defaults to one run per GPU; parallel defaults to gpus × slotsPerGpu', () => {
    const plain = parseConfig(MINIMAL + 'gpus: [0, 1]\n');
    assert.equal(plain.slotsPerGpu, 1);
    assert.equal(plain.parallel, 1);
    assert.equal(plain.gpuMemoryGb, null);
    const packed = parseConfig(MINIMAL + 'gpus: [0, 1]\nslotsPerGpu: 3\ngpuMemoryGb: 24\n');
    assert.equal(packed.slotsPerGpu, 3);
    assert.equal(packed.parallel, 6);
    assert.equal(packed.gpuMemoryGb, 24);
    assert.equal(parseConfig(MINIMAL + 'gpus: [0]\nslotsPerGpu: 4\nparallel: 2\n').parallel, 2, 'a smaller parallel is kept');
  });

  const bad: [string, string, string, RegExp][] = [
    ['parallel beyond the GPUs listed', 'gpus: [0, 1]\nparallel: 4\n', 'parallel', /at most 2: gpus lists 2 GPUs and slotsPerGpu is 1, so 4 would put 2 runs on a GPU; .*slotsPerGpu: 2/],
    ['parallel beyond gpus × slotsPerGpu', 'gpus: [0]\nslotsPerGpu: 2\nparallel: 3\n', 'parallel', /at most 2: gpus lists 1 GPU and slotsPerGpu is 2/],
    ['a GPU listed twice (the old way to pack, unchecked)', 'gpus: [0, 0]\nparallel: 2\n', 'gpus', /each GPU once \(0 is listed twice\); .*slotsPerGpu: 2/],
    ['slotsPerGpu without gpus', 'slotsPerGpu: 2\n', 'slotsPerGpu', /gpus as well \(e\.g\. gpus: \[0\]\)/],
    ['slotsPerGpu zero', 'gpus: [0]\nslotsPerGpu: 0\n', 'slotsPerGpu', /integer from 1 to 16/],
    ['slotsPerGpu fraction', 'gpus: [0]\nslotsPerGpu: 1.5\n', 'slotsPerGpu', /integer from 1 to 16/],
    ['slotsPerGpu with slurm', 'slotsPerGpu: 2\nexecutor: {kind: slurm}\n', 'slotsPerGpu', /executor slurm/],
    ['gpuMemoryGb zero', 'gpus: [0]\ngpuMemoryGb: 0\n', 'gpuMemoryGb', /a number > 0/],
    ['gpuMemoryGb text', 'gpus: [0]\ngpuMemoryGb: 80GB\n', 'gpuMemoryGb', /a number > 0/],
  ];
  for (const [name, extra, path, expected] of bad) {
    it(`refuses ${name}`, () => {
      const found = issues(MINIMAL + extra).find((i) => i.path === path);
      assert.ok(found, `an issue at ${path}`);
      assert.match(found.expected, expected);
    });
  }
});

/** A fake nvidia-smi on PATH: prints `rows` for the memory query, as the real one does with csv,noheader,nounits. */
function fakeSmi(rows: string[]): string {
  const dir = tempFolder({}, 'ar-smi-');
  const script = join(dir, 'nvidia-smi');
  writeFileSync(script, `#!/bin/sh\ncase "$*" in\n  *--query-gpu=index,uuid,memory.total*) printf '%s\\n' ${rows.map((r) => `'${r}'`).join(' ')} ;;\n  *) exit 9 ;;\nesac\n`);
  chmodSync(script, 0o755);
  return dir;
}

const CARDS = ['0, GPU-3f2a1c9e-0000-1111-2222-333344445555, 16384', '1, GPU-7b8c9d0e-6666-7777-8888-999900001111, 81559'];

describe('the card memory', () => {
  const savedPath = process.env.PATH;
  after(() => { process.env.PATH = savedPath; });

  it('reads nvidia-smi rows, skipping what is not one', () => {
    assert.deepEqual(parseSmiCards(`${CARDS[0]}\n\n[N/A]\n2, GPU-x, [N/A]\n`), [{ index: '0', uuid: 'GPU-3f2a1c9e-0000-1111-2222-333344445555', memoryMib: 16384 }]);
  });

  it('matches the config\'s gpus by index or UUID prefix; a MIG id is unknown; gpuMemoryGb wins', async () => {
    process.env.PATH = `${fakeSmi(CARDS)}:${savedPath}`;
    const m = await cardMemory(['1', 'GPU-3f2a', 'MIG-1c9e', '5'], null, process.cwd());
    assert.deepEqual(m.get('1'), { gb: 81559 / 1024, source: 'nvidia-smi' });
    assert.deepEqual(m.get('GPU-3f2a'), { gb: 16, source: 'nvidia-smi' });
    assert.equal(m.has('MIG-1c9e'), false);
    assert.equal(m.has('5'), false);
    const configured = await cardMemory(['MIG-1c9e'], 10, process.cwd());
    assert.deepEqual(configured.get('MIG-1c9e'), { gb: 10, source: 'gpuMemoryGb' });
  });

  it('knows nothing without nvidia-smi', async () => {
    process.env.PATH = tempFolder({}, 'ar-nopath-');
    assert.equal((await cardMemory(['0'], null, process.cwd())).size, 0);
  });
});

// A training script as real repos have them: argparse, step lines, and the peak memory torch reports at the end,
// here growing with the batch size. It prints the devices it was given.
const TRAIN = `import argparse, os, time
MB_PER_SAMPLE = __MB__
p = argparse.ArgumentParser()
p.add_argument("--lr", type=float, default=0.1)
p.add_argument("--batch_size", type=int, default=32)
args = p.parse_args()
print(f"gpu={os.environ.get('CUDA_VISIBLE_DEVICES')} slot={os.environ.get('AUTORESEARCH_SLOT')}", flush=True)
loss = abs(args.lr - 0.4) + 0.32 / args.batch_size
for step in (100, 200, 300):
    time.sleep(0.15)
    print(f"step {step}: train loss {loss + 0.3 / step:.4f}, val loss {loss + 0.2 / step:.4f}", flush=True)
print(f"val_loss: {loss:.6f}")
print(f"peak_vram_mb: {MB_PER_SAMPLE * args.batch_size:.1f}")
`;

/**
 * Proposes the given argparse default changes, in order, each until it is journaled (as the patches proposer does: a
 * prepared proposal the engine dropped, because it could not follow a new best, is offered again).
 */
class Scripted implements Proposer {
  readonly kind = 'scripted';
  readonly operators = new Set<Operator>(['draft', 'improve']);
  private readonly edits: [flag: string, value: string][];
  /** Experiments started and proposals dropped so far (the session counts them), and at each proposal, how many were asked beyond them. */
  started = 0;
  dropped = 0;
  asked = 0;
  readonly ahead: number[] = [];
  constructor(edits: [flag: string, value: string][]) {
    this.edits = [...edits];
  }
  async propose(req: ProposalRequest): Promise<Proposal | null> {
    const made = (flag: string, value: string) => req.history.some((n) => n.editKey.startsWith(`${flag}=${value}@`)) || req.triedFromParent.has(`${flag}=${value}@${req.parent.id}`);
    const edit = this.edits.find(([flag, value]) => !made(flag, value));
    if (!edit) return null;
    this.ahead.push(this.asked++ - this.started - this.dropped);
    const [flag, value] = edit;
    const text = readFileSync(join(req.worktree, 'train.py'), 'utf8').replace(new RegExp(`("--${flag}", type=\\w+, default=)[^)]+`), `$1${value}`);
    return { description: `${flag} -> ${value}`, plan: 'try it', editKey: `${flag}=${value}@${req.parent.id}`, files: { 'train.py': text }, proposer: { kind: 'scripted' } };
  }
  dispose(): void {}
}

interface Timed { e: ControllerEvent; t: number }

async function session(train: number | string, extra: string, edits: [string, string][]) {
  const repo: TempRepo = tempRepo({ 'train.py': typeof train === 'string' ? train : TRAIN.replace('__MB__', String(train)) });
  const config = parseConfig(`tag: pack\neditable: [train.py]\nrun: python3 train.py\nbudget: 30s\nmetric: {name: val_loss, direction: minimize}\nmaxExperiments: ${edits.length}\nproposer: mutate\nsandbox: off\n${extra}`);
  const proposer = new Scripted(edits);
  const c = new Controller({ root: repo.root, config, proposer, executor: new LocalExecutor(), platform: null });
  const events: Timed[] = [];
  c.onEvent((e) => {
    events.push({ e, t: Date.now() });
    if (e.type === 'run-started' && e.node.id !== 0) proposer.started++;
    if (e.type === 'log' && e.message.startsWith('dropped the prepared proposal')) proposer.dropped++;
  });
  const outcome = await c.run();
  c.dispose();
  assert.equal(outcome.state, 'done', outcome.reason);
  const logs = events.flatMap(({ e }) => (e.type === 'log' ? [`${e.level}: ${e.message}`] : []));
  const starts = events.flatMap(({ e, t }) => (e.type === 'run-started' ? [{ id: e.node.id, slot: e.slot, t }] : []));
  const ends = new Map(events.flatMap(({ e, t }) => (e.type === 'run-finished' ? [[e.node.id, t] as const] : [])));
  const devices = outcome.model.nodes.map((n) => /gpu=(\S+) slot=(\d+)/.exec(readFileSync(n.logPath!, 'utf8'))?.slice(1));
  const summary = readFileSync(join(repo.root, SUMMARY_FILE), 'utf8');
  repo.cleanup();
  return { outcome, logs, starts, ends, events, devices, summary, ahead: proposer.ahead };
}

/** Whether two runs were going at the same time. */
function overlapped(starts: { id: number; t: number }[], ends: Map<number, number>): boolean {
  return starts.some((a) => starts.some((b) => a.id < b.id && b.t < (ends.get(a.id) ?? 0) && a.t < (ends.get(b.id) ?? 0)));
}

const LR_EDITS: [string, string][] = [['lr', '0.2'], ['lr', '0.3'], ['lr', '0.35'], ['lr', '0.38'], ['lr', '0.25'], ['lr', '0.45']];

describe('packing runs on one GPU', { concurrency: false }, () => {
  const savedPath = process.env.PATH;
  before(() => { process.env.PATH = `${fakeSmi(CARDS)}:${savedPath}`; });
  after(() => { process.env.PATH = savedPath; });

  it('runs two at a time on GPU 0 when two runs of the peak they report fit on the card', async () => {
    // 32 × 180 MB = 5.6 GB; two runs with their CUDA context need 12.3 GB of the 16 GB card.
    const { logs, starts, ends, devices, outcome, summary } = await session(180, 'gpus: [0]\nslotsPerGpu: 2\n', LR_EDITS);
    assert.ok(logs.some((l) => /^info: GPU packing: up to 2 runs per GPU \(GPU 0 16\.0 GB, from nvidia-smi\)/.test(l)), logs.join('\n'));
    assert.ok(logs.some((l) => /^info: GPU packing: 2 runs of 5\.6 GB \(#0's peak\) fit on GPU 0 \(16\.0 GB\)/.test(l)), logs.join('\n'));
    assert.ok(!logs.some((l) => l.startsWith('warn')), logs.join('\n'));
    for (const d of devices) assert.equal(d?.[0], '0', 'every run saw only GPU 0');
    assert.deepEqual(new Set(starts.map((s) => s.slot)), new Set([0, 1]), 'both slots ran');
    assert.ok(overlapped(starts, ends), 'two runs shared the GPU at once');
    assert.equal(outcome.model.decidedCount, LR_EDITS.length);
    assert.match(summary, /^- Policy `tree`, proposer `mutate`, 2 at a time \(up to 2 per GPU on GPU 0; the largest peak memory a run reported: 5\.6 GB\), /m);
  });

  it('stops packing before the first packed run when the baseline\'s peak would not fit twice, and says why', async () => {
    // 32 × 300 MB = 9.4 GB: two need 19.8 GB of a 16 GB card.
    const { logs, starts, ends, ahead } = await session(300, 'gpus: [0]\nslotsPerGpu: 2\n', LR_EDITS.slice(0, 4));
    // pipeline: 1 prepares one proposal ahead per slot that still runs, not per slot configured.
    assert.ok(Math.max(...ahead) <= 1, `proposals asked beyond the experiments started: ${ahead.join(', ')}`);
    const warn = logs.find((l) => l.startsWith('warn: GPU 0'));
    assert.equal(warn, 'warn: GPU 0 (16.0 GB): 2 runs of up to 9.4 GB (#0\'s peak) and 512 MB of CUDA context each need 19.8 GB, more than the card has: 1 run at a time on it from now on (slot 1 takes no more experiments)');
    assert.deepEqual(starts.map((s) => s.slot), [0, 0, 0, 0, 0], 'everything ran in slot 0');
    assert.equal(overlapped(starts, ends), false);
  });

  it('stops packing once a change raises the peak past what the card holds for two', async () => {
    // 32 × 180 MB = 5.6 GB fits twice; the batch of 96 peaks at 16.9 GB... too much even alone, so use 64: 11.3 GB.
    const edits: [string, string][] = [['batch_size', '64'], ...LR_EDITS, ['lr', '0.39'], ['lr', '0.41'], ['lr', '0.37']];
    const { logs, starts, events } = await session(180, 'gpus: [0]\nslotsPerGpu: 2\npipeline: 0\n', edits);
    const warn = logs.find((l) => l.startsWith('warn: GPU 0'));
    assert.match(warn ?? logs.join('\n'), /^warn: GPU 0 \(16\.0 GB\): 2 runs of up to 11\.3 GB \(#\d+'s peak\) .* 1 run at a time on it from now on \(slot 1 takes no more experiments\)$/);
    const bigId = Number(/#(\d+)'s peak/.exec(warn!)![1]);
    const decidedAt = events.find(({ e }) => e.type === 'experiment' && e.node.id === bigId)!.t;
    const later = starts.filter((s) => s.t > decidedAt);
    assert.ok(later.length >= 4, 'experiments ran after the big one was decided');
    // Slot 1 may have been committing its next experiment as the decision landed; it starts nothing after that one.
    assert.ok(later.filter((s) => s.slot !== 0).length <= 1, `slot 1 after the decision: ${JSON.stringify(later)}`);
    assert.ok(later.filter((s) => s.slot === 0).length >= 3, 'slot 0 goes on');
  });

  it('reduces packing per card: on a 16 GB and an 80 GB card, only the small one\'s second slot stops', async () => {
    const edits: [string, string][] = [['lr', '0.2'], ['lr', '0.3'], ['lr', '0.35'], ['lr', '0.38'], ['lr', '0.25'], ['lr', '0.45'], ['lr', '0.39'], ['lr', '0.41']];
    // Slots 0 and 2 on GPU 0 (16 GB), 1 and 3 on GPU 1 (79.6 GB): two runs of 9.4 GB fit only on GPU 1.
    const { logs, starts, devices, outcome } = await session(300, 'gpus: [0, 1]\nslotsPerGpu: 2\n', edits);
    assert.equal(logs.filter((l) => l.startsWith('warn: GPU')).join('\n'), 'warn: GPU 0 (16.0 GB): 2 runs of up to 9.4 GB (#0\'s peak) and 512 MB of CUDA context each need 19.8 GB, more than the card has: 1 run at a time on it from now on (slot 2 takes no more experiments)');
    assert.ok(!starts.some((s) => s.slot === 2), 'slot 2 ran nothing');
    assert.ok(starts.some((s) => s.slot === 3), 'GPU 1\'s second slot ran');
    for (const [i, n] of outcome.model.nodes.entries()) assert.equal(devices[i]?.[0], String(n.slot! % 2), `#${n.id} in slot ${n.slot}`);
  });

  it('stops packing on a card where a run went out of memory beside another, whatever the peaks said', async () => {
    // Runs of 5.6 GB fit twice on the 80 GB GPU 1, but the batch of 64 goes out of memory when another run is there.
    const crowd = tempFolder({}, 'ar-crowd-');
    const oomTrain = TRAIN.replace('__MB__', '180').replace('print(f"gpu=', `import sys
me = os.path.join(${JSON.stringify(crowd)}, os.environ["AUTORESEARCH_NODE"])
open(me, "w").close()
try:
    for _ in range(25 if args.batch_size > 32 else 1):
        time.sleep(0.12)
        if args.batch_size > 32 and len(os.listdir(${JSON.stringify(crowd)})) > 1:
            print("torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB", flush=True)
            sys.exit(1)
finally:
    os.remove(me)
print(f"gpu=`);
    const edits: [string, string][] = [['lr', '0.2'], ['batch_size', '64'], ['lr', '0.3'], ['lr', '0.35'], ['lr', '0.38'], ['lr', '0.25'], ['lr', '0.39'], ['lr', '0.41'], ['lr', '0.37'], ['lr', '0.36']];
    const { logs, starts, events, outcome } = await session(oomTrain, 'gpus: [1]\nslotsPerGpu: 2\n', edits);
    const oom = outcome.model.nodes.find((n) => n.description === 'batch_size -> 64')!;
    assert.match(oom.reason, /\(out of memory\)$/);
    const warn = logs.find((l) => l.startsWith(`warn: #${oom.id} ran out of memory`));
    assert.match(warn ?? logs.join('\n'), new RegExp(`^warn: #${oom.id} ran out of memory on GPU 1 while #\\d+(, #\\d+)* ran there too: 1 run at a time on it from now on \\(slot 1 takes no more experiments\\)\\. Its crash stands; re-run it to see whether it fits alone$`));
    const decidedAt = events.find(({ e }) => e.type === 'experiment' && e.node.id === oom.id)!.t;
    const later = starts.filter((x) => x.t > decidedAt);
    assert.ok(later.length >= 4, 'experiments ran after it');
    assert.ok(later.filter((x) => x.slot !== 0).length <= 1, `slot 1 after the decision (one it had taken on at most): ${JSON.stringify(later)}`);
    assert.ok(later.filter((x) => x.slot === 0).length >= 3, 'slot 0 goes on');
  });

  it('packs without a check, and warns, when the card\'s memory is unknown', async () => {
    process.env.PATH = `${tempFolder({}, 'ar-nosmi-')}:${savedPath}`;
    try {
      const { logs, starts } = await session(300, 'gpus: [0]\nslotsPerGpu: 2\n', LR_EDITS.slice(0, 4));
      assert.ok(logs.includes('warn: slotsPerGpu 2: the memory of GPU 0 is unknown (nvidia-smi did not list it), so runs share it without a memory check; set gpuMemoryGb to the card\'s memory to have it checked'), logs.join('\n'));
      assert.deepEqual(new Set(starts.map((s) => s.slot)), new Set([0, 1]));
    } finally {
      process.env.PATH = `${fakeSmi(CARDS)}:${savedPath}`;
    }
  });

  it('takes gpuMemoryGb over nvidia-smi (a MIG slice, say)', async () => {
    // 5.6 GB fits twice on the 16 GB card nvidia-smi lists, not on the 10 GB slice the config names.
    const { logs, starts } = await session(180, 'gpus: [0]\nslotsPerGpu: 2\ngpuMemoryGb: 10\n', LR_EDITS.slice(0, 3));
    assert.ok(logs.some((l) => /^warn: GPU 0 \(10\.0 GB\): 2 runs of up to 5\.6 GB/.test(l)), logs.join('\n'));
    assert.deepEqual(new Set(starts.map((s) => s.slot)), new Set([0]));
  });
});
