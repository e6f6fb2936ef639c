"""Quickstart training script. EDITABLE: the research loop changes the hyperparameters below.

A one-hidden-layer MLP, trained with minibatch SGD with momentum and L2 weight decay, backprop
written out by hand. Standard library only. Prints `val_loss: ...` (the metric) at the end.
"""
import math
import os
import random
import resource
import sys
import time
from operator import mul

import prepare

# ---- hyperparameters ---------------------------------------------------------------------
LEARNING_RATE = 0.2  # SGD step size
HIDDEN_SIZE = 6  # units in the hidden layer
EPOCHS = 80  # passes over the training set
BATCH_SIZE = 128  # examples per gradient step
WEIGHT_DECAY = 0.01  # L2 penalty on the weights (not the biases)
MOMENTUM = 0.5  # heavy-ball momentum, 0 = plain SGD
INIT_SCALE = 0.5  # std of the initial weights is INIT_SCALE / sqrt(fan_in)
ACTIVATION = "sigmoid"  # choices: relu, tanh, sigmoid
USE_BIAS = True  # learn biases in both layers
SEED = 0  # seed for initialisation and shuffling
# ------------------------------------------------------------------------------------------


def _sigmoid(z):
    if z >= 0.0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def _relu(z):
    return z if z > 0.0 else 0.0


# activation and its derivative expressed through the activation's output h
activation_fns = {
    "sigmoid": (_sigmoid, lambda h: h * (1.0 - h)),
    "tanh": (math.tanh, lambda h: 1.0 - h * h),
    "relu": (_relu, lambda h: 1.0 if h > 0.0 else 0.0),
}


def peak_memory_mb():
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KB on Linux, bytes on macOS
    return rss / (1024.0 * 1024.0) if sys.platform == "darwin" else rss / 1024.0


def report(val_loss, train_seconds, steps):
    peak_mb = peak_memory_mb()
    print(f"val_loss: {val_loss:.6f}")
    print(f"peak_memory_mb: {peak_mb:.1f}")
    print(f"training_seconds: {train_seconds:.2f}")
    print(f"num_steps: {steps}")
    sys.stdout.flush()


def main():
    t0 = time.monotonic()
    # the engine passes the budget; stop training at 80% of it, leaving time to evaluate and report
    time_limit = 0.8 * float(os.environ.get("AUTORESEARCH_BUDGET_SECONDS", "60"))
    rng = random.Random(SEED)
    train_x, train_y, _, _ = prepare.load_data()
    n, d, h_size = len(train_x), len(train_x[0]), HIDDEN_SIZE
    act, act_grad = activation_fns[ACTIVATION]

    # parameters: w1[j] is hidden unit j's input weights, w2[j] its output weight
    w1 = [[rng.gauss(0.0, INIT_SCALE / math.sqrt(d)) for _ in range(d)] for _ in range(h_size)]
    b1 = [0.0] * h_size
    w2 = [rng.gauss(0.0, INIT_SCALE / math.sqrt(h_size)) for _ in range(h_size)]
    b2 = 0.0
    # momentum buffers
    v1 = [[0.0] * d for _ in range(h_size)]
    vb1 = [0.0] * h_size
    v2 = [0.0] * h_size
    vb2 = 0.0

    order = list(range(n))
    steps = 0
    stopped_early = False
    for epoch in range(1, EPOCHS + 1):
        rng.shuffle(order)
        epoch_loss, seen = 0.0, 0
        for start in range(0, n, BATCH_SIZE):
            if time.monotonic() - t0 > time_limit:
                stopped_early = True
                break
            idx = order[start:start + BATCH_SIZE]
            bx = [train_x[i] for i in idx]
            by = [train_y[i] for i in idx]
            m = len(idx)

            # forward and backward, one example at a time; gradients of mean squared error
            hs, dzs, douts = [], [], []
            for x, y in zip(bx, by):
                hid = [act(sum(map(mul, wj, x)) + bj) for wj, bj in zip(w1, b1)]
                err = sum(map(mul, w2, hid)) + b2 - y
                epoch_loss += err * err
                dout = 2.0 * err / m
                hs.append(hid)
                douts.append(dout)
                dzs.append([dout * wj * act_grad(hj) for wj, hj in zip(w2, hid)])

            # gradients summed over the batch: columns dotted with columns
            xcols = list(zip(*bx))
            dzcols = list(zip(*dzs))
            hcols = list(zip(*hs))
            g2 = [sum(map(mul, douts, hc)) + WEIGHT_DECAY * wj for hc, wj in zip(hcols, w2)]
            g1 = [[sum(map(mul, dzc, xc)) + WEIGHT_DECAY * wji for xc, wji in zip(xcols, wj)]
                  for dzc, wj in zip(dzcols, w1)]

            # SGD with momentum: v = momentum * v + g; w -= lr * v
            lr, mom = LEARNING_RATE, MOMENTUM
            for j in range(h_size):
                vj, gj, wj = v1[j], g1[j], w1[j]
                for i in range(d):
                    vj[i] = mom * vj[i] + gj[i]
                    wj[i] -= lr * vj[i]
                v2[j] = mom * v2[j] + g2[j]
                w2[j] -= lr * v2[j]
            if USE_BIAS:
                for j in range(h_size):
                    vb1[j] = mom * vb1[j] + sum(dzcols[j])
                    b1[j] -= lr * vb1[j]
                vb2 = mom * vb2 + sum(douts)
                b2 -= lr * vb2
            steps += 1
            seen += m
            if not math.isfinite(epoch_loss) or epoch_loss > 1e9:
                raise OverflowError("training loss diverged")

        epoch_loss /= max(seen, 1)
        print(f"epoch {epoch}/{EPOCHS} loss {epoch_loss:.4f}", flush=True)
        if stopped_early:
            print(f"time limit reached ({time_limit:.1f}s), stopping early", flush=True)
            break

    train_seconds = time.monotonic() - t0

    def predict(x):
        hid = [act(sum(map(mul, wj, x)) + bj) for wj, bj in zip(w1, b1)]
        return sum(map(mul, w2, hid)) + b2

    val_loss = prepare.evaluate(predict)
    report(val_loss, train_seconds, steps)


if __name__ == "__main__":
    try:
        main()
    except OverflowError as exc:
        # a diverged run is a result, not a bug: report nan (the engine records it as a crash) and exit 0
        print(f"diverged: {exc}", flush=True)
        print("val_loss: nan")
        print(f"peak_memory_mb: {peak_memory_mb():.1f}")
        sys.stdout.flush()
