// results.tsv files as other teams' loops write them, shared by the core and CLI tests of reading them.

export const tsv = (...lines: string[][]) => lines.map((l) => l.join('\t')).join('\n') + '\n';

/** The original loop's file: 126 rows, greedy keeps going down, discards, crashes written as 0.000000. */
export function originalFile(): string {
  const rows = [['commit', 'val_bpb', 'memory_gb', 'status', 'description']];
  let best = 0.9979;
  for (let i = 0; i < 126; i++) {
    const commit = (0xa000000 + i * 7919).toString(16);
    if (i === 0) rows.push([commit, best.toFixed(6), '44.0', 'keep', 'baseline']);
    else if (i % 10 === 7) rows.push([commit, '0.000000', '0.0', 'crash', `idea ${i} (OOM)`]);
    else if (i % 3 === 0) {
      best -= 0.0005;
      rows.push([commit, best.toFixed(6), (44 + (i % 5) / 10).toFixed(1), 'keep', `idea ${i}`]);
    } else rows.push([commit, (best + 0.001 * (1 + (i % 4))).toFixed(6), '44.1', 'discard', `idea ${i}`]);
  }
  return tsv(...rows);
}

export const FOUR = tsv(
  ['commit', 'val_rmse', 'status', 'description'],
  ['a1b2c3d', '0.5204', 'keep', 'baseline ridge'],
  ['b2c3d4e', '0.5110', 'keep', 'add lag features'],
  ['c3d4e5f', '0.5300', 'discard', 'drop outliers'],
  ['d4e5f6a', '0.4980', 'keep', 'log target'],
);

export const NINE = tsv(
  ['commit', 'val_rmse', 'val_mae', 'val_r2', 'train_rmse', 'runtime_s', 'val_pass', 'status', 'description'],
  ['a1b2c3d', '25169.987156', '18034.5', '0.8712', '21000.25', '41.3', 'true', 'keep', 'baseline gradient boosting'],
  ['b2c3d4e', '24890.100000', '17880.0', '0.8761', '20512.75', '43.9', 'true', 'keep', 'add lag features'],
  ['c3d4e5f', '26001.5', '18900.1', '0.8590', '19000.0', '40.2', 'false', 'discard', 'deeper trees overfit'],
  ['d4e5f6a', '', '', '', '', '3.1', 'false', 'crash', 'OOM on one-hot encoding'],
  ['e5f6a7b', '24500.0625', '17700.25', '0.8802', '20100.5', '44.0', 'true', 'keep', 'target log transform'],
);

export const CV_THIRD = tsv(
  ['commit', 'val_rmse', 'cv_rmse_log', 'status', 'description'],
  ['a1b2c3d', '0.152300', '0.997900', 'keep', 'baseline'],
  ['b2c3d4e', '0.149800', '0.981200', 'keep', 'more trees'],
  ['c3d4e5f', '0.160000', '1.020000', 'discard', 'shallower'],
);

export const UNREADABLE = tsv(
  ['commit', 'val_bpb', 'memory_gb', 'status', 'description'],
  ['a1b2c3d', '0.997900', '44.0', 'keep', 'baseline'],
  ['b2c3d4e', 'fast', '44.2', 'keep', 'metric is not a number'],
  ['only', 'three', 'columns'],
  ['c3d4e5f', '0.993200', '44.0', 'maybe', 'unknown status'],
  ['d4e5f6a', '0.990100', '44.1', 'keep', 'warmup 500 steps'],
  ['e5f6a7b', '1.001000', 'lots', 'discard', 'memory is not a number'],
);
