// The metric probe on what real training scripts print: names, patterns the judge reads, directions, ranking.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../../../src/core/config.js';
import { configTemplate } from '../../../src/core/configTemplate.js';
import { extractLast } from '../../../src/core/judging/judge.js';
import { captureGroups, metricDirection, probeMetrics, trainingOnlyWarning, withMetricPattern, withProbedMetric, type MetricCandidate } from '../../../src/core/metricProbe.js';

/** Every candidate is what the judge reads: one group, and its last match in the log is the reported value and line. */
function probe(log: string): MetricCandidate[] {
  const found = probeMetrics(log);
  for (const c of found) {
    assert.equal(captureGroups(c.pattern), 1, c.pattern);
    assert.equal(extractLast(log, c.pattern), c.valueText, `${c.name}: the judge reads another value with ${c.pattern}`);
    assert.ok(log.includes(c.line), c.line);
    assert.match(c.line, new RegExp(c.pattern, 'm'));
    assert.match(c.name, /^[a-z][a-z0-9_]*$/);
  }
  return found;
}

function named(found: MetricCandidate[], name: string): MetricCandidate {
  const c = found.find((x) => x.name === name);
  assert.ok(c, `no ${name} among ${found.map((x) => x.name).join(', ')}`);
  return c;
}

const NANOGPT = `Overriding config with config/train_shakespeare_char.py:
# train a miniature character-level shakespeare model
out_dir = 'out-shakespeare-char'
eval_interval = 250
eval_iters = 200
log_interval = 10
gradient_accumulation_steps = 1
batch_size = 64
block_size = 256
n_layer = 6
n_head = 6
n_embd = 384
dropout = 0.2
learning_rate = 1e-3
max_iters = 5000
lr_decay_iters = 5000
min_lr = 1e-4
beta2 = 0.99
warmup_iters = 100
tokens per iteration will be: 16,384
found vocab_size = 65 (inside data/shakespeare_char/meta.pkl)
Initializing a new model from scratch
number of parameters: 10.65M
num decayed parameter tensors: 26, with 10,740,096 parameters
using fused AdamW: True
compiling the model... (takes a ~minute)
step 0: train loss 4.2874, val loss 4.2823
iter 0: loss 4.2654, time 29842.23ms, mfu -100.00%
iter 10: loss 3.2418, time 20.41ms, mfu 18.26%
iter 20: loss 2.7882, time 20.47ms, mfu 18.25%
step 250: train loss 1.9690, val loss 2.0637
saving checkpoint to out-shakespeare-char
iter 250: loss 2.0411, time 2906.54ms, mfu 16.30%
iter 260: loss 1.9882, time 20.62ms, mfu 16.33%
step 300: train loss 2.3665, val loss 2.3792
iter 300: loss 2.1327, time 20.55ms, mfu 16.38%
iter 310: loss 2.0890, time 20.61ms, mfu 16.41%
`;

const MNIST = `Train Epoch: 1 [0/60000 (0%)]\tLoss: 2.305134
Train Epoch: 1 [640/60000 (1%)]\tLoss: 1.359651
Train Epoch: 1 [59520/60000 (99%)]\tLoss: 0.034219

Test set: Average loss: 0.0467, Accuracy: 9846/10000 (98%)

Train Epoch: 2 [0/60000 (0%)]\tLoss: 0.072714
Train Epoch: 2 [59520/60000 (99%)]\tLoss: 0.011548

Test set: Average loss: 0.0334, Accuracy: 9890/10000 (99%)

`;

const HF_TRAINER = `{'loss': 0.6931, 'grad_norm': 1.2187, 'learning_rate': 4.5e-05, 'epoch': 0.33}
 33%|███▎      | 100/300 [00:10<00:20,  9.80it/s]
{'eval_loss': 0.5513, 'eval_accuracy': 0.8412, 'eval_runtime': 1.2034, 'eval_samples_per_second': 831.0, 'eval_steps_per_second': 52.1, 'epoch': 1.0}
{'loss': 0.4412, 'grad_norm': 2.0511, 'learning_rate': 2.5e-05, 'epoch': 1.67}
{'eval_loss': 0.5102, 'eval_accuracy': 0.8731, 'eval_runtime': 1.1988, 'eval_samples_per_second': 834.2, 'eval_steps_per_second': 52.3, 'epoch': 3.0}
{'train_runtime': 30.1207, 'train_samples_per_second': 99.6, 'train_steps_per_second': 9.96, 'train_loss': 0.5622, 'epoch': 3.0}
`;

describe('metric probe: what real training scripts print', () => {
  it('autoresearch-style summary: val_bpb, the settings and resources ignored', () => {
    const log = 'step 00953 (100.0%) | loss: 3.2187 | lrm: 0.10 | dt: 311ms | tok/sec: 1,684,024 | mfu: 39.8% | epoch: 1 | remaining: 0s\n'
      + '---\nval_bpb:          0.997900\ntraining_seconds: 300.1\ntotal_seconds:    325.9\npeak_vram_mb:     45060.2\nmfu_percent:      39.80\n'
      + 'total_tokens_M:   499.6\nnum_steps:        953\nnum_params_M:     50.3\n';
    const found = probe(log);
    const best = found[0]!;
    assert.equal(best.name, 'val_bpb');
    assert.equal(best.direction, 'minimize');
    assert.equal(best.value, 0.9979);
    assert.equal(best.line, 'val_bpb:          0.997900');
    assert.match(best.pattern, /^\^val_bpb:/);
    for (const name of ['training_seconds', 'total_seconds', 'peak_vram_mb', 'mfu_percent', 'total_tokens_m', 'num_steps', 'num_params_m', 'dt', 'mfu', 'epoch']) {
      assert.ok(!found.some((c) => c.name === name), `${name} is not a metric`);
    }
  });

  it('`val_loss: 0.35`: the default line, read back by the default-style pattern', () => {
    const found = probe('step 1/1\nval_loss: 0.350000\npeak_vram_mb: 2048.0\n');
    assert.deepEqual(found.map((c) => [c.name, c.direction, c.value]), [['val_loss', 'minimize', 0.35]]);
  });

  it('nanoGPT: val loss first, then the iteration loss and train loss; the config dump, time and mfu ignored', () => {
    const found = probe(NANOGPT);
    assert.deepEqual(found.map((c) => c.name), ['val_loss', 'loss', 'train_loss']);
    const val = found[0]!;
    assert.equal(val.direction, 'minimize');
    assert.equal(val.split, 'eval');
    assert.equal(val.matches, 3);
    assert.equal(val.value, 2.3792);
    assert.equal(val.line, 'step 300: train loss 2.3665, val loss 2.3792');
    assert.equal(val.lineNumber, 35);
    // The iteration loss never reads the `train loss` or `val loss` of a step line, and the other way round.
    assert.equal(named(found, 'loss').value, 2.089);
    assert.equal(named(found, 'loss').matches, 7);
    assert.equal(named(found, 'train_loss').value, 2.3665);
    assert.equal(named(found, 'train_loss').split, 'train');
  });

  it('says when the only metric is measured on the training data, and not when a held-out one was printed too', () => {
    const warn = (log: string) => {
      const found = probe(log);
      return trainingOnlyWarning(found[0]!, found);
    };
    assert.match(warn('epoch 1 train_loss 0.91\nepoch 2 train_loss 0.62\n') ?? '', /^train_loss looks measured on the training data, and the run printed no validation or test metric: a change that only fits the training set better/);
    assert.match(warn('iter 10: loss 2.31, time 40ms\niter 20: loss 2.12, time 41ms\n') ?? '', /^loss looks measured on the training data/);
    assert.equal(warn(NANOGPT), null);
    assert.equal(warn('step 1/1\nval_loss: 0.350000\n'), null);
  });

  it('nanoGPT\'s small CPU model (README settings): `with 320 parameters` is no candidate named `with`', () => {
    // What `train.py config/train_shakespeare_char.py --device=cpu --n_layer=2 --n_embd=64 ...` printed, issue 10.
    const log = 'number of parameters: 0.10M\nnum decayed parameter tensors: 10, with 108,544 parameters\n' +
      'num non-decayed parameter tensors: 5, with 320 parameters\nusing fused AdamW: False\nstep 0: train loss 4.5593, val loss 4.5513\n' +
      'iter 0: loss 4.5543, time 2327.17ms, mfu -100.00%\nstep 150: train loss 2.9284, val loss 2.8805\niter 150: loss 2.8247, time 2009.51ms, mfu 0.00%\n';
    assert.deepEqual(probe(log).map((c) => c.name), ['val_loss', 'loss', 'train_loss']);
  });

  it('a run stopped before its first eval: nothing from the config file it echoed, comments included (issue 10)', () => {
    // nanoGPT's full-size shakespeare_char on a CPU, stopped at a 1m budget: the probe proposed a metric `to` = 256.
    const log = 'Overriding config with config/train_shakespeare_char.py:\n# train a miniature character-level shakespeare model\n' +
      '# good for debugging and playing on macbooks and such\nout_dir = \'out-shakespeare-char\'\neval_interval = 250 # keep frequent because we\'ll overfit\n' +
      'eval_iters = 200\nlog_interval = 10 # don\'t print too too often\nbatch_size = 64\nblock_size = 256 # context of up to 256 previous characters\n' +
      'n_layer = 6\nlearning_rate = 1e-3 # with baby networks can afford to go a bit higher\nmax_iters = 5000\nmin_lr = 1e-4 # learning_rate / 10 usually\n' +
      'beta2 = 0.99 # make a bit bigger because number of tokens per iter is small\nwarmup_iters = 100 # not super necessary potentially\n' +
      'tokens per iteration will be: 16,384\nfound vocab_size = 96 (inside data/shakespeare_char/meta.pkl)\nInitializing a new model from scratch\n' +
      'number of parameters: 10.65M\nusing fused AdamW: False\n';
    assert.deepEqual(probe(log).map((c) => `${c.name} ${c.valueText}`), []);
    // A setting's own value is still read where it is the metric's line shape: `loss = 0.5 # lower is better`.
    assert.deepEqual(probe('loss = 0.52 # lower is better\nloss = 0.48 # lower is better\n').map((c) => `${c.name} ${c.valueText}`), ['loss 0.48']);
  });

  it('the nanoGPT pattern keeps reading val loss when the numbers change, nan included', () => {
    const { pattern } = probe(NANOGPT)[0]!;
    assert.equal(extractLast('step 5000: train loss 0.8123, val loss 1.4712\niter 5000: loss 0.7921, time 20.1ms, mfu 16.9%\n', pattern), '1.4712');
    assert.equal(extractLast('step 10: train loss 1e-05, val loss 2.5e-3\n', pattern), '2.5e-3');
    assert.equal(extractLast('step 20: train loss nan, val loss nan\n', pattern), 'nan');
    assert.equal(extractLast('iter 20: loss 2.1, time 20ms\nbest val loss so far 1.2\n', pattern), null);
  });

  it('`iter 100: loss 4.2, time 12ms`: the loss, not the time', () => {
    const found = probe('iter 100: loss 4.2, time 12ms\niter 110: loss 4.0, time 12ms\n');
    assert.deepEqual(found.map((c) => [c.name, c.direction, c.value, c.matches]), [['loss', 'minimize', 4, 2]]);
    assert.equal(found[0]!.line, 'iter 110: loss 4.0, time 12ms');
  });

  it('`accuracy = 91.2%`: the number before the percent sign, maximized', () => {
    const found = probe('evaluating...\naccuracy = 91.2%\n');
    assert.deepEqual(found.map((c) => [c.name, c.direction, c.value]), [['accuracy', 'maximize', 91.2]]);
  });

  it('PyTorch MNIST: test loss and test accuracy (the percentage) over the train loss', () => {
    const found = probe(MNIST);
    assert.deepEqual(found.map((c) => c.name), ['test_loss', 'test_accuracy', 'train_loss']);
    assert.equal(found[0]!.value, 0.0334);
    assert.equal(found[0]!.direction, 'minimize');
    assert.equal(found[0]!.line, 'Test set: Average loss: 0.0334, Accuracy: 9890/10000 (99%)');
    assert.equal(found[1]!.value, 99);
    assert.equal(found[1]!.direction, 'maximize');
    assert.equal(found[1]!.matches, 2);
    assert.equal(found[2]!.value, 0.011548);
    assert.equal(found[2]!.matches, 5);
  });

  it('HF Trainer dict lines: eval_loss and eval_accuracy, then the training losses; runtime, rates and epoch ignored', () => {
    const found = probe(HF_TRAINER);
    assert.deepEqual(found.map((c) => c.name), ['eval_loss', 'eval_accuracy', 'loss', 'train_loss']);
    assert.equal(found[0]!.value, 0.5102);
    assert.equal(found[0]!.matches, 2);
    assert.equal(found[1]!.direction, 'maximize');
    // `'loss'` does not read `'eval_loss'` or `'train_loss'`.
    assert.equal(named(found, 'loss').value, 0.4412);
    // A dict printed after a progress bar on the same line is still read.
    assert.equal(extractLast(`Evaluating: 100%|██████████| 63/63 [00:01<00:00]{'eval_loss': 0.4, 'epoch': 4.0}\n`, found[0]!.pattern), '0.4');
  });

  it('`epoch 3 | val_acc 0.912`: val_acc, maximized', () => {
    const found = probe('epoch 1 | train_loss 0.61 | val_acc 0.850\nepoch 2 | train_loss 0.42 | val_acc 0.897\nepoch 3 | train_loss 0.33 | val_acc 0.912\n');
    assert.deepEqual(found.map((c) => [c.name, c.direction]), [['val_acc', 'maximize'], ['train_loss', 'minimize']]);
    assert.equal(found[0]!.value, 0.912);
    assert.equal(found[0]!.line, 'epoch 3 | train_loss 0.33 | val_acc 0.912');
  });

  it('tqdm progress bars: `loss=` of the last update after the carriage returns', () => {
    const log = 'Epoch 1: 100%|██████████| 938/938 [00:12<00:00, 75.31it/s, loss=0.523]\rEpoch 1: 100%|██████████| 938/938 [00:12<00:00, 75.30it/s, loss=0.123]\n'
      + 'Epoch 2:  50%|█████     | 469/938 [00:06<00:06,  1.30s/it, loss=0.0981]\r';
    const found = probe(log);
    assert.deepEqual(found.map((c) => [c.name, c.direction, c.value, c.matches]), [['loss', 'minimize', 0.0981, 3]]);
    assert.equal(found[0]!.line, 'Epoch 2:  50%|█████     | 469/938 [00:06<00:06,  1.30s/it, loss=0.0981]');
  });
});

describe('metric probe: line shapes', () => {
  it('columns split by a tab or two spaces, and keys right after the first word or bracket', () => {
    const found = probe('epoch\tval_acc 0.71\nepoch\tval_acc 0.74\n3  err 0.1\n[loss 0.7]\n  step 3: val_loss 0.2\n');
    assert.deepEqual(found.map((c) => [c.name, c.value]).sort(), [['err', 0.1], ['loss', 0.7], ['val_acc', 0.74], ['val_loss', 0.2]]);
  });
});

describe('metric probe: ranking', () => {
  it('the metric of the final report comes before one printed each epoch', () => {
    const found = probe('epoch 1: val_loss 0.9\nepoch 2: val_loss 0.8\nfinal test_acc: 0.93\n');
    assert.deepEqual(found.map((c) => c.name), ['test_acc', 'val_loss']);
  });

  it('a metric printed once at the start ranks after the one the run keeps reporting', () => {
    const train = Array.from({ length: 12 }, (_, i) => `train_loss: ${(2 - i / 10).toFixed(2)}`).join('\n');
    const found = probe(`val_loss: 4.1\n${train}\n`);
    assert.deepEqual(found.map((c) => c.name), ['train_loss', 'val_loss']);
  });

  it('a finite metric ranks before one that ended as nan; names it cannot place come last, direction unknown', () => {
    const found = probe('step 1 | val_kl 0.2 | val_loss nan | train_loss 0.5\nstep 2 | val_kl 0.1 | val_loss nan | train_loss 0.4\n');
    assert.deepEqual(found.map((c) => [c.name, c.direction]), [['train_loss', 'minimize'], ['val_loss', 'minimize'], ['val_kl', undefined]]);
    assert.ok(Number.isNaN(named(found, 'val_loss').value));
  });

  it('nothing that looks like a metric: no candidates', () => {
    assert.deepEqual(probe(''), []);
    assert.deepEqual(probe('hello\nloading data\ndone\n'), []);
    assert.deepEqual(probe('step 100 | lr 0.001 | time 12ms | 3.2it/s | seed 1337 | tokens 16384 | peak memory 2.1GB\nEpoch 3/10\n'), []);
  });
});

describe('metric probe: directions and the config', () => {
  it('names the direction from the words of the name', () => {
    for (const n of ['loss', 'val_loss', 'error', 'top1_err', 'perplexity', 'val_ppl', 'val_bpb', 'rmse', 'mae', 'wer', 'cer', 'valloss']) assert.equal(metricDirection(n), 'minimize', n);
    for (const n of ['acc', 'val_acc', 'accuracy', 'f1', 'macro_f1', 'auc', 'bleu', 'map', 'mAP', 'iou', 'score', 'reward', 'mean_reward', 'testAccuracy']) assert.equal(metricDirection(n), 'maximize', n);
    for (const n of ['val_kl', 'foo', 'depth']) assert.equal(metricDirection(n), undefined, n);
  });

  it('the probed pattern written into the template is what the parsed config reads', () => {
    const best = probe(NANOGPT)[0]!;
    const template = configTemplate({ tag: 't1', editable: ['train.py'], readonly: [], run: 'python3 train.py', budget: '5m', metricName: best.name, direction: 'minimize', maxExperiments: 20, proposer: 'mutate' });
    const text = withMetricPattern(template, best.pattern, ['Found by a probe:', `  ${best.line}`]);
    const config = parseConfig(text);
    assert.equal(config.metric.name, 'val_loss');
    assert.equal(config.metric.pattern, best.pattern);
    assert.equal(extractLast(NANOGPT, config.metric.pattern), '2.3792');
    assert.match(text, /^# {3}step 300: train loss 2\.3665, val loss 2\.3792\nmetric:$/m);
    // A quote in the pattern survives YAML's single quotes.
    const hf = probe(HF_TRAINER)[0]!;
    assert.equal(parseConfig(withMetricPattern(template, hf.pattern)).metric.pattern, "'eval_loss':\\s*([-+]?(?:\\d*\\.?\\d+(?:[eE][-+]?\\d+)?|nan|NaN|inf|Inf))");
  });
  it('a probe of an existing config sets its metric and replaces an earlier probe\'s notes; every other line stays', () => {
    const template = configTemplate({ tag: 'mine', editable: ['train.py', 'config/*.py'], readonly: [], run: 'python3 train.py config/train_shakespeare_char.py --max_iters=300', budget: '2m', metricName: 'val_loss', direction: 'minimize', maxExperiments: 7, proposer: 'mutate' });
    const earlier = withMetricPattern(template, null, ['FIX ME: init ran `python3 train.py` and found no metric in its output; print "val_loss: <value>" or set name and pattern to what it prints.']);
    const best = probe(NANOGPT)[0]!;
    const text = withProbedMetric(earlier, { name: 'val_acc', direction: 'maximize', pattern: best.pattern }, ['Found by `autoresearch init --probe`: the last of 4 matching lines of its output was', `  ${best.line}`])!;
    const config = parseConfig(text);
    assert.deepEqual([config.metric.name, config.metric.direction, config.metric.pattern], ['val_acc', 'maximize', best.pattern]);
    assert.deepEqual([config.tag, config.run, config.budgetText, config.maxExperiments, config.editable], ['mine', 'python3 train.py config/train_shakespeare_char.py --max_iters=300', '2m', 7, ['train.py', 'config/*.py']]);
    assert.doesNotMatch(text, /FIX ME/);
    assert.match(text, /read from the log\.\n# Found by `autoresearch init --probe`: .*\n# {3}step 300: .*\nmetric:\n/);
    // Only the metric block and the notes above it changed: what comes before and after is byte for byte the same.
    assert.equal(text.slice(0, text.indexOf('# Found by')), template.slice(0, template.indexOf('metric:\n')));
    assert.equal(text.slice(text.indexOf('# Peak memory')), template.slice(template.indexOf('# Peak memory')));
    assert.equal(text.split('\n').length, template.split('\n').length + 2);
    // Probed again: the notes are replaced, not stacked.
    const again = withProbedMetric(text, { name: 'val_loss', direction: 'minimize', pattern: best.pattern }, ['Found by `autoresearch init --probe`: again'])!;
    assert.equal(again.match(/Found by/g)?.length, 1);
    assert.equal(parseConfig(again).metric.name, 'val_loss');
  });

  it('a hand-written config: a one-line metric mapping, or a block without pattern and in CRLF', () => {
    const flow = 'tag: t1\neditable: [train.py]\nrun: python train.py --lr=1\nbudget: 1m\nmetric: {name: loss}  # mine\n';
    const f = withProbedMetric(flow, { name: 'val_loss', direction: 'minimize', pattern: 'val loss ([\\d.]+)' })!;
    assert.equal(f, "tag: t1\neditable: [train.py]\nrun: python train.py --lr=1\nbudget: 1m\nmetric: {name: val_loss, direction: minimize, pattern: 'val loss ([\\d.]+)'}\n");
    const crlf = 'tag: t1\r\neditable: [train.py]\r\nrun: python train.py\r\nbudget: 1m\r\nmetric:\r\n    name: loss   \r\nseed: 3\r\n';
    const c = withProbedMetric(crlf, { name: 'acc', direction: 'maximize', pattern: 'acc=(\\S+)' })!;
    assert.equal(c, "tag: t1\r\neditable: [train.py]\r\nrun: python train.py\r\nbudget: 1m\r\nmetric:\r\n    name: acc\r\n    direction: maximize\r\n    pattern: 'acc=(\\S+)'\r\nseed: 3\r\n");
    assert.equal(parseConfig(c).seed, 3);
    assert.equal(withProbedMetric('tag: t1\n', { name: 'acc', direction: 'maximize', pattern: '(x)' }), null);
  });

  it('never takes a traceback\'s line numbers for a metric (a run that failed at start)', () => {
    const log = 'Traceback (most recent call last):\n  File "/tmp/nanogpt-try/train.py", line 26, in <module>\n    import torch\nModuleNotFoundError: No module named \'torch\'\n';
    assert.deepEqual(probeMetrics(log), []);
  });

  it('never takes an error\'s codes for a metric: `[Errno 2]` of a script that is not there (minGPT, init at the top)', () => {
    assert.deepEqual(probeMetrics("/usr/bin/python3: can't open file '/tmp/minGPT/train.py': [Errno 2] No such file or directory\n"), []);
    assert.deepEqual(probeMetrics('RuntimeError: selected index k out of range at 3 of 2\n'), []);
    assert.deepEqual(probeMetrics('/usr/lib/python3/dist-packages/torch/utils/data/dataloader.py:554: UserWarning: This DataLoader will create 4 worker processes in total.\n'), []);
    // A metric named like an error stays one.
    assert.deepEqual(probeMetrics('epoch 1 val_error: 0.12\nepoch 2 val_error: 0.1\n').map((c) => [c.name, c.valueText]), [['val_error', '0.1']]);
  });
});
