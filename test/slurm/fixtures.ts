// A toy study for the slurm tier: its run time and fate depend on the node (AUTORESEARCH_NODE), so a
// test knows which experiment runs long, over its budget, or waits to be cancelled from outside.
import { tempRepo, type TempRepo } from '../unit/helpers/repo.js';

/** Seconds each node sleeps; `hang` nodes sleep far past any budget. */
export function toyTrain(sleeps: Record<number, number | 'hang'>, fallback = 1.5): string {
  return `import os, sys, time
LR = 0.1
WIDTH = 4
ACT = "relu"  # choices: relu, gelu, tanh
node = int(os.environ["AUTORESEARCH_NODE"])
naps = ${JSON.stringify(Object.fromEntries(Object.entries(sleeps).map(([k, v]) => [k, v === 'hang' ? 600 : v])))}
print(f"node={node} slot={os.environ['AUTORESEARCH_SLOT']} budget={os.environ['AUTORESEARCH_BUDGET_SECONDS']} job={os.environ.get('SLURM_JOB_ID')}", flush=True)
time.sleep(naps.get(str(node), ${fallback}))
loss = abs(LR - 0.4) + abs(WIDTH - 16) / 10 + (0.0 if ACT == "gelu" else 0.05)
print(f"val_loss: {loss:.6f}")
print("peak_vram_mb: 1024.0")
`;
}

export function slurmConfig(extra: { parallel?: number; maxExperiments?: number; budget?: string; tag?: string; executor?: string } = {}): string {
  return `tag: ${extra.tag ?? 't1'}
editable: [train.py]
readonly: [prepare.py]
run: python3 train.py
budget: ${extra.budget ?? '30s'}
metric:
  name: val_loss
  direction: minimize
maxExperiments: ${extra.maxExperiments ?? 4}
proposer: mutate
policy: tree
seed: 3
parallel: ${extra.parallel ?? 2}
graceSeconds: 2
executor:
  kind: slurm
  partition: debug
  cpusPerTask: 1
  pollSeconds: 0.2
${extra.executor ?? ''}`;
}

export function toyStudy(train: string, config: string): TempRepo {
  return tempRepo({ 'train.py': train, 'prepare.py': '# The evaluation: protected.\nSPLIT = 0.9\n', 'autoresearch.config.yaml': config });
}
