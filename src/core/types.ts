// The engine's data model. Everything here is plain data: it crosses into the CLI and the extension, and it is
// what the journal stores. Its words that the webview reads too are defined in src/shared and named from here.
import type { DecidedBy, Direction, NodeStatus, Operator, SessionState } from '../shared/vocabulary.js';

export type { DecidedBy, Direction, NodeStatus, Operator, SessionState };
export type DecidedStatus = Extract<NodeStatus, 'keep' | 'discard' | 'crash' | 'invalid'>;
export type PolicyKind = 'tree' | 'greedy';

export interface MetricSpec {
  name: string;
  direction: Direction;
  /** A regex with one capture group; the last match in the log wins. */
  pattern: string;
}

export interface SecondaryMetricSpec {
  name: string;
  pattern: string;
}

/** `memory_gb <= 40`: a secondary metric (or memory_gb) compared with a number; violation means discard. */
export interface Constraint {
  metric: string;
  op: '<' | '<=' | '>' | '>=';
  value: number;
  /** The text the user wrote, for messages. */
  source: string;
}

export type ProposerConfig =
  | { kind: 'mutate' }
  | { kind: 'patches'; dir: string }
  /** Model-backed proposers (a later issue) keep their own keys; the engine passes them through. */
  | { kind: string; [key: string]: unknown };

/** `executor: {kind: slurm, ...}`: each experiment is an sbatch job (see slurmExecutor.ts). */
export interface SlurmExecutorConfig {
  kind: 'slurm';
  partition?: string;
  gres?: string;
  cpusPerTask?: number;
  /** Slurm's --mem: megabytes, or a number with K, M, G or T. */
  mem?: string;
  /** The job's time limit as written; `timeMinutes` is what is passed to --time. */
  time?: string;
  timeMinutes?: number;
  account?: string;
  /** More sbatch options, one per item (`--qos=high`). */
  extraArgs: string[];
  /** How often the scheduler is asked about running jobs (default 1). */
  pollSeconds?: number;
}

export type ExecutorConfig =
  | { kind: 'local' }
  | { kind: 'manual' }
  | SlurmExecutorConfig
  | { kind: string; [key: string]: unknown };

export interface ResearchConfig {
  tag: string;
  editable: string[];
  readonly: string[];
  /**
   * Untracked inputs linked into every worktree (globs); null shares what git ignores, outputs left out
   * (see sharedInputs.ts). Optional so that configs written before it read as automatic.
   */
  shared?: string[] | null;
  /** The OS sandbox around runs (sandbox.ts); optional so that configs written before it read as auto. */
  sandbox?: SandboxConfig;
  run: string;
  /** Budget per experiment, in seconds. */
  budgetSeconds: number;
  /** The budget as the user wrote it (`5m`), for display. */
  budgetText: string;
  /**
   * A run still going at the budget: `crash` (it timed out), or `last`: judged on the last value of the metric it
   * printed before it was stopped, for scripts that run a fixed number of steps and print the metric as they go.
   * Optional so that configs written before it read as crash.
   */
  atBudget?: 'crash' | 'last';
  metric: MetricSpec;
  /** Peak memory in the log; `unit` says what the captured number is in. */
  memory: { pattern: string; unit: 'mb' | 'gb' };
  metrics: SecondaryMetricSpec[];
  constraints: Constraint[];
  /** Number of decided experiments after the baseline, or null for unlimited. */
  maxExperiments: number | null;
  proposer: ProposerConfig;
  policy: PolicyKind;
  executor: ExecutorConfig;
  /** Experiments that may run at once, one worktree each. */
  parallel: number;
  /** A change must beat its parent by more than this to be kept (0 with minDeltaShare). */
  minDelta: number;
  /**
   * `minDelta: 0.5%` in the config: a change must beat its parent by more than this share of the parent's value
   * (0.005), which follows the metric as it falls; absent for an absolute minDelta.
   */
  minDeltaShare?: number;
  seed: number;
  /** Path (relative to the workspace) of the research notes, like program.md; null when none. */
  notes: string | null;
  /** Seconds between SIGTERM and SIGKILL when a run goes over its budget. */
  graceSeconds: number;
  /** Tree policy knobs. */
  search: { drafts: number; debugDepth: number; patience: number };
  /** Devices handed out by slot: slot i runs with CUDA_VISIBLE_DEVICES=gpus[i % gpus.length]; empty leaves it alone. */
  gpus: string[];
  /** Slots that share each GPU in `gpus` (default 1): the user says that many runs fit on one card. Optional for older configs. */
  slotsPerGpu?: number;
  /** The memory of each card in `gpus`, in GB, when nvidia-smi cannot tell (a MIG slice); null asks nvidia-smi. Optional for older configs. */
  gpuMemoryGb?: number | null;
  /** Proposals prepared ahead per slot while experiments run; 0 proposes only when a slot is free. */
  pipeline: number;
  /** A pattern for intermediate values (curves.ts); null reads every match of the metric's pattern. Optional for older configs. */
  progress?: string | null;
  /** Early stopping (curves.ts); null is off. Optional for older configs. */
  prune?: { minFraction: number; safety: number; floor: number } | null;
  /** Spend cap on the proposer, in the cost ledger's currency (USD); null is none. Optional for older configs. */
  maxCost?: number | null;
  /** Spend cap on the proposer, in tokens (in + out); null is none. Optional for older configs. */
  maxTokens?: number | null;
  /** A command (tests, a lint) that must pass in a candidate's worktree before it is kept; null is none. Optional for older configs. */
  checks?: string | null;
  /** Noise-aware decisions; null keeps the plain `beats the parent by more than minDelta` rule. */
  noise: NoiseConfig | null;
}

/** The config's `sandbox` (sandbox.ts): `off`, `on` (refuse to start without it), or `{mode, network, writable}`; default auto. */
export interface SandboxConfig {
  mode: 'auto' | 'on' | 'off';
  /**
   * false: the run gets a network namespace of its own (its own loopback, nothing else). A list of hosts
   * (`huggingface.co`, `*.hf.co`): the same, with an HTTP proxy of the engine's that reaches only those (networkGate.ts).
   */
  network: boolean | string[];
  /** Paths the run may write besides its worktree and a private /tmp (`~` is the home folder). */
  writable: string[];
}

export interface NoiseConfig {
  /** Runs of the baseline (the first included) whose sample standard deviation is the run-to-run spread. */
  repeats: number;
  /**
   * A change must beat its parent by more than max(minDelta, z × spread × √(1/n + 1/m)). With `alpha`, the session
   * replaces it with the z that gives alpha (chance.ts resolveNoise); the config gives the one-look z until then.
   */
  z: number;
  /**
   * The share of changes that do nothing that may be kept, every look counted (`noise.alpha`, instead of z): the
   * session chooses z for it.
   */
  alpha?: number;
  /** Re-run a candidate new best once; it is kept only if the mean of both runs still clears the threshold. */
  confirm: boolean;
  /** The most runs one change gets while its evidence is open (default 2 × repeats; sessions journaled before it have none). */
  maxRuns?: number;
  /**
   * The smallest gain worth finding, in spreads. Set, a change measured no better than its parent runs again while it
   * could still be that much better (its gain plus z standard errors); unset, it is turned away at once.
   */
  effect?: number;
}

/** What noise does to decisions right now: shown by the UIs and written into every decision's reason. */
export interface NoiseBand {
  /**
   * Pooled sample standard deviation of every code that ran more than once (the baseline's repeats, confirmation
   * runs, re-runs); null until two runs of one code have a metric.
   */
  spread: number | null;
  /** Runs with a metric that the spread is computed from (the baseline's, until the spread is measured). */
  samples: number;
  /** Where the spread comes from, for people: `3 baseline runs`, `3 baseline runs and 4 runs of 2 experiments run more than once`. */
  source: string;
  repeats: number;
  z: number;
  /** `noise.alpha`, where it chose z. */
  alpha?: number;
  minDelta: number;
  /** As the config's: a share of the parent's value instead of minDelta. */
  minDeltaShare?: number;
  /** max(minDelta, z × spread): the margin a change must beat its parent by (with a share, also that share of the parent's value). */
  threshold: number;
}

/** What one run produced, as the executor saw it. */
export interface RunResult {
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  /** Wall time of the run in milliseconds (run time only: a cluster job's wait in the queue is `queuedMs`). */
  wallMs: number;
  /** Time a cluster job waited in the scheduler's queue; absent for local runs. */
  queuedMs?: number;
  logPath: string;
  /** Set when the run could not be started at all. */
  startError?: string;
  /** Why the run was ended by something other than itself (the scheduler's reason); the judge's crash reason. */
  failureReason?: string;
  /** A result a person recorded for a manual run, instead of one read from the log. */
  recorded?: { metric: number; memoryGb: number | null };
}

export interface Judgement {
  status: DecidedStatus;
  metric: number | null;
  memoryGb: number | null;
  secondary: Record<string, number>;
  reason: string;
  /** The last lines of the log, for crashes. */
  logTail?: string;
  /** Kept by the simplicity rule (within noise, fewer lines), not as an improvement. */
  simplification?: boolean;
  /** Decided by comparing the metric with the parent's (not a crash, a constraint or the baseline): noise may weigh in. */
  compared?: boolean;
}

export interface ProposerInfo {
  kind: string;
  model?: string;
  tokensIn?: number;
  tokensOut?: number;
  costUsd?: number;
}

/** One experiment. Derived from the journal; never stored whole. */
export interface ExperimentNode {
  id: number;
  /** The run's learning curve: [elapsed fraction of the budget, value] pairs (curves.ts), when it printed any. */
  curve?: [number, number][];
  /** How many points the run printed, of which `curve` keeps at most 60 (absent for curves journaled before it). */
  curvePrinted?: number;
  parentId: number | null;
  operator: Operator;
  /** A merge's second parent: the node whose line's changes were brought onto `parentId` (policy.ts). */
  mergedFrom?: number;
  /** The commit holding this node's code; null for a proposal that produced no commit. */
  commit: string | null;
  description: string;
  plan: string;
  /** A stable signature of the edit, so a proposer never repeats itself from one parent. */
  editKey: string;
  changedFiles: string[];
  policyReason: string;
  proposer: ProposerInfo;
  status: NodeStatus;
  metric: number | null;
  memoryGb: number | null;
  secondary: Record<string, number>;
  decidedBy: DecidedBy | null;
  reason: string;
  /** The rule's own decision, kept when a human overrides it. */
  ruleStatus: DecidedStatus | null;
  logPath: string | null;
  logTail: string | null;
  slot: number | null;
  startedAt: string | null;
  finishedAt: string | null;
  wallMs: number | null;
  /** Time the run waited in a cluster's queue (not counted in wallMs); absent for local runs. */
  queuedMs?: number | null;
  exitCode: number | null;
  timedOut: boolean;
  hint: string | null;
  createdAt: string;
  /** The config's `checks`, run once the rule said keep; absent when they did not run. */
  checks?: NodeChecks;
}

/** How a node's checks went: a failure turns its keep into a discard. */
export interface NodeChecks {
  passed: boolean;
  /** Their output, next to the run's log. */
  logPath: string;
  wallMs: number;
  /** What they ended with: `exit 0`, or why they failed. */
  reason: string;
}

export interface PlatformInfo {
  os: string;
  arch: string;
  accelerator: 'cuda' | 'mps' | 'cpu';
  gpus: { name: string; memoryMb: number | null }[];
  python: string | null;
  frameworks: Record<string, string>;
  cpus: number;
  memoryGb: number;
}

export interface Hint {
  id: number;
  text: string;
  addedAt: string;
  /** The node that tested it, once taken. */
  takenBy: number | null;
}
