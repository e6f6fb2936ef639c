"""Data and evaluation for the quickstart example. PROTECTED: the research loop may not change this file.

The dataset is a deterministic synthetic regression problem: 8 inputs drawn uniformly from
[-2, 2], a nonlinear target of 7 of them (one input is pure distraction), plus Gaussian noise
with standard deviation 0.1 (so the best achievable validation MSE is about 0.01).
It is generated in memory from a fixed seed every time (a few milliseconds); nothing is written.

    load_data()          -> (train_x, train_y, val_x, val_y)
    evaluate(predict_fn) -> validation mean squared error (lower is better)

Standard library only.
"""
import math
import random

DATA_SEED = 1234
NUM_FEATURES = 8
NUM_TRAIN = 2000
NUM_VAL = 500
NOISE_STD = 0.1

_cache = None


def _target(x):
    """The true function: smooth, nonlinear, with an interaction and an irrelevant input (x[7])."""
    return (
        math.sin(1.5 * x[0])
        + 0.5 * x[1] * x[2]
        + 0.3 * x[3] * x[3]
        + math.tanh(x[4] - x[5])
        + 0.4 * x[6]
        - 0.6
    )


def _generate():
    rng = random.Random(DATA_SEED)
    xs, ys = [], []
    for _ in range(NUM_TRAIN + NUM_VAL):
        x = [rng.uniform(-2.0, 2.0) for _ in range(NUM_FEATURES)]
        xs.append(x)
        ys.append(_target(x) + rng.gauss(0.0, NOISE_STD))
    return xs[:NUM_TRAIN], ys[:NUM_TRAIN], xs[NUM_TRAIN:], ys[NUM_TRAIN:]


def load_data():
    """Returns (train_x, train_y, val_x, val_y): lists of 8-float rows and lists of float targets.

    Fresh copies every call, so a training script may shuffle or modify them freely.
    """
    global _cache
    if _cache is None:
        _cache = _generate()
    train_x, train_y, val_x, val_y = _cache
    return ([list(r) for r in train_x], list(train_y), [list(r) for r in val_x], list(val_y))


def evaluate(predict_fn):
    """Mean squared error of predict_fn(row) -> float over the validation set.

    Returns float('nan') if any prediction is not a finite number (the engine records a crash).
    """
    _, _, val_x, val_y = load_data()
    total = 0.0
    for x, y in zip(val_x, val_y):
        try:
            p = float(predict_fn(x))
        except (OverflowError, TypeError, ValueError):
            return float("nan")
        if not math.isfinite(p):
            return float("nan")
        total += (p - y) ** 2 if abs(p - y) < 1e150 else float("inf")
    loss = total / len(val_y)
    return loss if math.isfinite(loss) else float("nan")
