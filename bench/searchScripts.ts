// Synthetic training scripts for the search benchmark: plain Python whose metric is a known function of the
// UPPER_CASE hyperparameters the `mutate` proposer edits, so the optimum, and whether a change really helped,
// are known exactly. Each prints `val_loss: <value>`; lower is better; the optimum is 1.0 in every shape.

export type Shape = 'smooth' | 'deceptive' | 'noisy';

export const OPTIMUM = 1.0;

/** Each shape's gaussian noise per run (standard deviation); BENCH_NOISE_FREE=1 prints the true value. */
export const NOISE_SD: Record<Shape, number> = { smooth: 0, deceptive: 0, noisy: 0.01 };

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

export function script(shape: Shape): string {
  const body = shape === 'deceptive' ? TWO_BASINS : BOWL;
  return `# A synthetic training script for the AutoResearch search benchmark (bench/search.ts).
import math
import os
import random

${body}

loss = true_loss()
if ${NOISE_SD[shape]} > 0 and os.environ.get("BENCH_NOISE_FREE") != "1":
    # Noise differs per run (node), the same for the same seed and node: re-running the code measures it.
    random.seed("%s:%s" % (os.environ.get("BENCH_SEED", "0"), os.environ.get("AUTORESEARCH_NODE", "0")))
    loss += random.gauss(0.0, ${NOISE_SD[shape]})
print("step 1/1")
print("val_loss: %.6f" % loss)
`;
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
