// Synthetic training scripts for the search benchmark: plain Python whose metric is a known function of the
// UPPER_CASE hyperparameters the `mutate` proposer edits, so the optimum, and whether a change really helped,
// are known exactly. Each prints `val_loss: <value>`; lower is better; the optimum is 1.0 in every shape.
// Every shape's loss is written twice, in Python for the real runs and in TypeScript (`trueLoss`) for the fast
// simulation (searchSim.ts), which checks the two against each other before it trusts its own.

export type Shape = 'smooth' | 'deceptive' | 'merge' | 'ridge' | 'plateau' | 'noisy';

export const SHAPES: readonly Shape[] = ['smooth', 'deceptive', 'merge', 'ridge', 'plateau', 'noisy'];

export const OPTIMUM = 1.0;

/** Each shape's gaussian noise per run (standard deviation); BENCH_NOISE_FREE=1 prints the true value. */
export const NOISE_SD: Record<Shape, number> = { smooth: 0, deceptive: 0, merge: 0, ridge: 0, plateau: 0, noisy: 0.01 };

/** What each shape tests, for the table's legend. */
export const SHAPE_TEXT: Record<Shape, string> = {
  smooth: 'one smooth bowl: every parameter a few steps from its optimum (where the tree must not lose)',
  deceptive: 'two basins: the first step that pays most leads into a trap at 1.30',
  merge: 'two improvements on different parameters that interact: once one is taken, the other\'s first step hurts, so one line reaches only one of them; a merge brings both',
  ridge: 'two coupled parameters (learning rate must scale with batch size): a doubling of either alone leaves the ridge',
  plateau: 'the usual settings are already right (any change costs a little); one narrow way down, weight decay',
  noisy: 'the smooth bowl with run-to-run noise σ 0.01',
};

const ACT = { gelu: 0, relu: 0.05, tanh: 0.1 } as const;

// Five hyperparameters, each a few mutate steps from its optimum (LR 0.05 -> 0.0125 is two halvings, WIDTH
// 32 -> 128 two doublings, WARMUP 250 -> 125 one halving, DROPOUT 0.2 -> 0.1 one, ACT relu -> gelu one);
// the loss is a bowl in log space: 1 + 0.008 x (log2 distance)^2 per parameter, plus the activation's penalty.
// Within 1 % of the optimum means gelu and every parameter at its optimum but at most one a doubling off.
const BOWL = `LR = 0.05  # range: 0.0001, 1.0
WIDTH = 32  # range: 4, 1024
WARMUP = 250  # range: 10, 5000
DROPOUT = 0.2  # range: 0.01, 0.8
ACT = "relu"  # choices: relu, gelu, tanh


def true_loss():
    d = [math.log2(LR / 0.0125), math.log2(WIDTH / 128), math.log2(WARMUP / 125), math.log2(DROPOUT / 0.1)]
    return 1.0 + 0.008 * sum(x * x for x in d) + {"gelu": 0.0, "relu": 0.05, "tanh": 0.1}[ACT]
`;

// Two basins. Halving LR (the trap) improves at once and leads to 1.30; doubling WIDTH also improves at once and
// leads to the optimum 1.0 at WIDTH = 256. Once in the trap, every single change is worse or no better.
const TWO_BASINS = `LR = 0.1  # range: 0.0001, 1.0
WIDTH = 16  # range: 4, 1024
ACT = "relu"  # choices: relu, gelu, tanh


def true_loss():
    a = math.log2(LR / 0.1)
    b = math.log2(WIDTH / 16)
    trap = 0.30 + 0.1 * (a + 2) ** 2
    wide = 0.03 * (b - 4) ** 2 + 0.15 * a * a
    return 1.0 + min(trap, wide) + {"gelu": 0.0, "relu": 0.02, "tanh": 0.04}[ACT]
`;

// Two improvements that only combine by merging. Two doublings of WIDTH pay (1.10 -> 1.05), and so do two halvings
// of LR; but once either has moved, the other's first step alone hurts (a bump of 0.08 where it is half-way), so a
// line that took one reaches 1.05 and no further. Both together, each whole, are the optimum.
const MERGE = `WIDTH = 32  # range: 4, 1024
LR = 0.02  # range: 0.0001, 1.0
DROPOUT = 0.2  # range: 0.01, 0.8
ACT = "relu"  # choices: relu, gelu, tanh


def true_loss():
    x = math.log2(WIDTH / 32)
    y = math.log2(0.02 / LR)
    tent = lambda t: max(0.0, 1.0 - abs(t - 1.0))
    bump = 0.08 * min(max(x, 0.0), 1.0) * tent(y) + 0.08 * min(max(y, 0.0), 1.0) * tent(x)
    d = math.log2(DROPOUT / 0.1)
    return 1.0 + 0.0125 * ((2 - x) ** 2 + (2 - y) ** 2) + bump + 0.008 * d * d + {"gelu": 0.0, "relu": 0.05, "tanh": 0.1}[ACT]
`;

// A ridge: the learning rate must scale with the batch size (u, steep), and bigger batches pay slowly along it (v,
// two doublings from 32 to 128). A doubling of either alone leaves the ridge; steps of a quarter can zigzag along it.
const RIDGE = `LR = 0.001  # range: 0.00001, 1.0
BATCH = 32  # range: 1, 4096
WARMUP = 250  # range: 10, 5000
ACT = "relu"  # choices: relu, gelu, tanh


def true_loss():
    u = math.log2(LR / 0.001) - math.log2(BATCH / 32)
    v = math.log2(BATCH / 128)
    w = math.log2(WARMUP / 125)
    return 1.0 + 0.05 * u * u + 0.02 * v * v + 0.008 * w * w + {"gelu": 0.0, "relu": 0.05, "tanh": 0.1}[ACT]
`;

// A plateau: every usual setting is already at its optimum and a change costs only a little (0.002 per squared
// doubling), except weight decay: three halvings from 0.1 to 0.0125, each worth 0.04, the one narrow way down.
const PLATEAU = `WD = 0.1  # range: 0.0001, 1.0
LR = 0.003  # range: 0.00001, 1.0
WIDTH = 64  # range: 4, 1024
DROPOUT = 0.1  # range: 0.01, 0.8
ACT = "gelu"  # choices: gelu, relu, tanh


def true_loss():
    w = math.log2(0.1 / WD)
    way = 0.04 * (3 - w) if w <= 3 else 0.02 * (w - 3)
    d = [math.log2(LR / 0.003), math.log2(WIDTH / 64), math.log2(DROPOUT / 0.1)]
    return 1.0 + way + 0.002 * sum(x * x for x in d) + {"gelu": 0.0, "relu": 0.004, "tanh": 0.008}[ACT]
`;

const BODY: Record<Shape, string> = { smooth: BOWL, deceptive: TWO_BASINS, merge: MERGE, ridge: RIDGE, plateau: PLATEAU, noisy: BOWL };

export function script(shape: Shape): string {
  return `# A synthetic training script for the AutoResearch search benchmark (bench/search.ts).
import math
import os
import random

${BODY[shape]}

loss = true_loss()
if ${NOISE_SD[shape]} > 0 and os.environ.get("BENCH_NOISE_FREE") != "1":
    # Noise differs per run (node), the same for the same seed and node: re-running the code measures it.
    random.seed("%s:%s" % (os.environ.get("BENCH_SEED", "0"), os.environ.get("AUTORESEARCH_NODE", "0")))
    loss += random.gauss(0.0, ${NOISE_SD[shape]})
print("step 1/1")
print("val_loss: %.6f" % loss)
`;
}

function value(content: string, name: string): string {
  return new RegExp(`^${name} = (\\S+)`, 'm').exec(content)![1]!.replace(/"/g, '');
}

/** The shapes' true loss, as the Python above computes it (searchSim.ts checks that they agree). */
export function trueLoss(shape: Shape, content: string): number {
  const n = (k: string) => Number(value(content, k));
  const act = (table: Record<string, number>) => table[value(content, 'ACT')]!;
  const sq = (x: number) => x * x;
  switch (shape) {
    case 'deceptive': {
      const a = Math.log2(n('LR') / 0.1);
      const b = Math.log2(n('WIDTH') / 16);
      return 1 + Math.min(0.3 + 0.1 * sq(a + 2), 0.03 * sq(b - 4) + 0.15 * a * a) + act({ gelu: 0, relu: 0.02, tanh: 0.04 });
    }
    case 'merge': {
      const x = Math.log2(n('WIDTH') / 32);
      const y = Math.log2(0.02 / n('LR'));
      const tent = (t: number) => Math.max(0, 1 - Math.abs(t - 1));
      const bump = 0.08 * Math.min(Math.max(x, 0), 1) * tent(y) + 0.08 * Math.min(Math.max(y, 0), 1) * tent(x);
      return 1 + 0.0125 * (sq(2 - x) + sq(2 - y)) + bump + 0.008 * sq(Math.log2(n('DROPOUT') / 0.1)) + act(ACT);
    }
    case 'ridge': {
      const u = Math.log2(n('LR') / 0.001) - Math.log2(n('BATCH') / 32);
      const v = Math.log2(n('BATCH') / 128);
      return 1 + 0.05 * u * u + 0.02 * v * v + 0.008 * sq(Math.log2(n('WARMUP') / 125)) + act(ACT);
    }
    case 'plateau': {
      const w = Math.log2(0.1 / n('WD'));
      const way = w <= 3 ? 0.04 * (3 - w) : 0.02 * (w - 3);
      const d = [Math.log2(n('LR') / 0.003), Math.log2(n('WIDTH') / 64), Math.log2(n('DROPOUT') / 0.1)];
      return 1 + way + 0.002 * d.reduce((s, x) => s + x * x, 0) + act({ gelu: 0, relu: 0.004, tanh: 0.008 });
    }
    default: {
      const d = [Math.log2(n('LR') / 0.0125), Math.log2(n('WIDTH') / 128), Math.log2(n('WARMUP') / 125), Math.log2(n('DROPOUT') / 0.1)];
      return 1 + 0.008 * d.reduce((s, x) => s + x * x, 0) + act(ACT);
    }
  }
}

/** Evaluates many versions of a script without noise in one Python process: path -> true value. */
export const TRUE_VALUES_PY = `import contextlib, io, json, os, sys
os.environ["BENCH_NOISE_FREE"] = "1"
out = []
for path in json.load(sys.stdin):
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        exec(compile(open(path).read(), path, "exec"), {"__name__": "__main__"})
    lines = [l for l in buf.getvalue().splitlines() if l.startswith("val_loss:")]
    out.append(float(lines[-1].split()[1]))
print(json.dumps(out))
`;
