// The commented autoresearch.config.yaml that `autoresearch init` and the editor's wizard write: every key it sets
// is one parseConfig accepts (config.ts), with the optional ones shown commented out.
import { relative } from 'node:path';
import { parse } from 'yaml';
import { DEFAULT_MEMORY, DEFAULT_SEARCH, defaultPattern, minDeltaShareOf } from './config.js';
import type { Direction } from './types.js';
import { fmtNum } from '../shared/format.js';

/**
 * How a config written in `folder` names its files and its run. A session works from the repository root (each
 * experiment is a whole checkout), so from a folder below it (minGPT's projects/chargpt) the config names files from
 * the root (`projects/chargpt/chargpt.py`) and runs from the folder (`cd projects/chargpt && python3 chargpt.py`).
 */
export function fromRepositoryRoot(root: string, folder: string): { below: string; file: (f: string) => string; run: (command: string) => string } {
  const below = relative(root, folder).replace(/\\/g, '/');
  const cd = /^[\w./-]+$/.test(below) ? below : `'${below.replace(/'/g, "'\\''")}'`;
  return { below, file: (f) => (below ? `${below}/${f}` : f), run: (command) => (below ? `cd ${cd} && ${command}` : command) };
}

export interface TemplateOptions {
  tag: string;
  editable: string[];
  readonly: string[];
  run: string;
  /** As the user writes it: `5m`, `90s`. */
  budget: string;
  metricName: string;
  direction: Direction;
  maxExperiments: number | 'unlimited' | null;
  /** A proposer kind; `patches` is written as `{kind: patches, dir: <patchesDir>}`. */
  proposer: string;
  policy?: string;
  notes?: string | null;
  /** The folder of patches for `proposer: patches` (default `patches/`). */
  patchesDir?: string;
  /** The kind's own keys for a model-backed proposer (`model`, `baseUrl`, `apiKeyEnv`, `command`): written as a mapping. */
  proposerKeys?: Record<string, string>;
  /** The smallest improvement over the parent that counts (default 0): a number, or a share such as `0.5%`. */
  minDelta?: number | string;
  /** `last` when a probe of the run was still going at the budget but printed the metric as it went. */
  atBudget?: 'last';
}

/** A plain YAML scalar where the text reads back as the same string, else a quoted one. */
function scalar(s: string): string {
  const plain = /^[A-Za-z0-9_./][A-Za-z0-9_./ -]*$/.test(s) && !s.endsWith(' ');
  if (plain) {
    try {
      if (parse(s) === s) return s;
    } catch {
      // quoted below
    }
  }
  return JSON.stringify(s);
}

function flowList(items: string[]): string {
  return `[${items.map(scalar).join(', ')}]`;
}

/** A commented config that parseConfig accepts; written by `autoresearch init` and the editor's wizard. */
export function configTemplate(o: TemplateOptions): string {
  const keys = Object.entries(o.proposerKeys ?? {}).filter(([, v]) => v.trim() !== '');
  const proposer = o.proposer === 'patches' ? `{kind: patches, dir: ${scalar(o.patchesDir ?? 'patches/')}}`
    : keys.length ? `{kind: ${scalar(o.proposer)}, ${keys.map(([k, v]) => `${k}: ${scalar(v)}`).join(', ')}}` : scalar(o.proposer);
  const lines = [
    '# AutoResearch research config: the protocol of one study.',
    '# Each experiment changes only the editable files, runs under the budget and is judged on one metric.',
    '# A bad value is refused with its key and what was expected, before anything runs.',
    '',
    '# Session name: the branch autoresearch/<tag> points at the best experiment (letters, digits, . _ -).',
    `tag: ${scalar(o.tag)}`,
    '# Files (globs, from the repository root) the proposer may change.',
    `editable: ${flowList(o.editable)}`,
    '# Protected files (globs): hashed before each run; a run that changes them is marked invalid and they are restored.',
    `readonly: ${flowList(o.readonly)}`,
    '# Files git does not track that every experiment needs (prepared data, a .venv, downloaded weights): linked, not copied,',
    '# into each experiment\'s worktree. Left out, it shares what git ignores except outputs (out/, checkpoints/, logs, caches).',
    '# shared: [data/**, .venv]',
    '# The experiment command, run from the repository root in a git worktree; AUTORESEARCH_BUDGET_SECONDS tells it the budget.',
    `run: ${scalar(o.run)}`,
    '# Runs are sandboxed with bubblewrap where it works (Linux): only the worktree, a private /tmp and `writable` paths',
    '# can be written. off: no sandbox (protected files are still checked after every run); on: refuse to run without it.',
    '# network: true, false, or the hosts runs may reach ([huggingface.co, \'*.hf.co\'], through a proxy of the engine).',
    '# sandbox: {mode: auto, network: true, writable: [~/.cache/torch]}',
    '# Wall-clock budget per experiment (90s, 5m, 1h30m); past it the whole process tree is terminated.',
    `budget: ${scalar(o.budget)}`,
    ...(o.atBudget === 'last'
      ? ['# The run was still going at the budget when it was tried, and printed the metric as it went: each run is judged',
        '# on the last value it printed when the budget stopped it, so runs compare at equal time (crash: a timeout).',
        'atBudget: last']
      : ['# A run still going at the budget is a crash (timed out); for a script that runs a fixed number of steps and prints',
        '# the metric as it goes (nanoGPT), last judges each run on the last value it printed when the budget stopped it.',
        '# atBudget: last']),
    '# The one metric that decides keep or discard, read from the log.',
    'metric:',
    '  # The name printed in the log, as in the line `val_loss: 0.35`.',
    `  name: ${scalar(o.metricName)}`,
    '  # minimize (lower is better) or maximize (higher is better).',
    `  direction: ${o.direction}`,
    '  # A regex with exactly one capture group for the value; the last match in the log wins.',
    `  # pattern: '${defaultPattern(o.metricName).replace(/'/g, "''")}'`,
    '# Peak memory, if the log reports it: a regex with one capture group, and the unit of the number (mb or gb).',
    `# memory: {pattern: '${DEFAULT_MEMORY.pattern}', unit: mb}`,
    '# Secondary metrics, recorded and usable in constraints (pattern defaults to ^<name>:\\s*(\\S+)).',
    '# metrics: [{name: tokens_per_s}]',
    '# Conditions a kept experiment must meet, on memory_gb, the metric or a secondary metric.',
    '# constraints: ["memory_gb <= 40"]',
    '# A command (tests, a lint) run in the experiment\'s worktree, sandboxed like the run, once the metric says keep;',
    '# a failure (non-zero exit, or over the budget) makes it a discard, its output in logs/<node>.checks.log.',
    '# checks: pytest -q tests/',
    '# Spend caps on the proposer: maxCost in USD (as the cost ledger counts it), maxTokens in tokens in + out. Once',
    '# either is reached no new proposal is asked, running experiments finish and the session ends;',
    '# `autoresearch cap --cost 10` raises it, even while the session runs. Unlimited when left out.',
    '# maxCost: 5',
    '# maxTokens: 2M',
    '# Experiments after the baseline that reach a decision (a number or unlimited).',
    `maxExperiments: ${o.maxExperiments === null ? 'unlimited' : o.maxExperiments}`,
    '# Who proposes changes: mutate (built in: tunes top-level Python settings, YAML/JSON/TOML config values and',
    '# argparse/click defaults in the editable files), {kind: patches, dir: patches/},',
    '# or a model: openai-compatible, anthropic, agent-cli, vscode-lm (a mapping with the kind\'s own keys).',
    `proposer: ${proposer}`,
    '# Search: tree (extend the best while it pays; when it stalls, merge what other branches kept or explore by score) or greedy.',
    `policy: ${scalar(o.policy ?? 'tree')}`,
    '# Where experiments run: local, manual (you run each one and record its result) or {kind: slurm, ...}.',
    '# executor: local',
    '# Experiments that may run at once, each in its own git worktree (1 to 64).',
    '# parallel: 1',
    '# GPUs handed out by slot: slot i runs with CUDA_VISIBLE_DEVICES=gpus[i % len].',
    '# gpus: [0, 1]',
    '# Runs that share one GPU when you know they fit (parallel defaults to gpus x slotsPerGpu). The card\'s memory',
    '# (nvidia-smi, or gpuMemoryGb) is checked against the peak memory runs report: when slotsPerGpu of the largest',
    '# would not fit, fewer share each GPU from then on, and the log says so.',
    '# slotsPerGpu: 2',
    '# gpuMemoryGb: 80',
    '# Proposals prepared ahead per slot while experiments run (0: propose only when a slot is free).',
    '# pipeline: 1',
    '# Noise-aware decisions: run the baseline `repeats` times; keep only changes that beat their parent by more than',
    '# max(minDelta, z × spread); with confirm, a candidate new best is re-run once and the mean of both must hold up.',
    '# A change that measured better but not yet beyond that runs again, up to maxRuns (default 2 × repeats): raise it',
    '# when the gains you look for are the size of the noise (more runs per change, fewer real steps turned away).',
    '# effect (in spreads, off by default): the smallest gain worth finding; a change measured no better runs again while',
    '# it could still gain that much. With effect: 1 and maxRuns: 24 a change costs about 5 runs, and gains as small as',
    '# the noise are found (README, "Noise"). z holds at each look and a re-run is one more look: a change that does',
    '# nothing is kept about 1 time in 20 at these settings and minDelta 0 (1 in 44 at one look), 1 in 10 with',
    '# effect: 1 and maxRuns: 24, 1 in 50 at z: 2.4. alpha: 0.02 in place of z says the share itself: the session',
    '# chooses the z that keeps about 2 % of such changes, every look counted.',
    '# noise: {repeats: 3, z: 2, confirm: true, maxRuns: 6}',
    '# Learning curves: every match of the metric\'s pattern while a run goes, or of this pattern (its last group).',
    "# progress: 'step (\\d+).*val loss (\\S+)'",
    '# Early stopping (on by default; prune: off turns it off): a run is stopped when, at two points in a row, it is',
    '# behind its parent at the same point of the budget by more than a margin (safety x what the parent still gained from',
    '# there, what late winners made up, noise; at least floor) and, at its recent rate, could not reach the parent\'s end.',
    '# Never before minFraction, never the baseline or a confirmation run.',
    '# prune: {minFraction: 0.25, safety: 1.5, floor: 0.05}',
    '# A change is kept only if it beats its parent by more than this, in the metric\'s units, or a share of the',
    '# parent\'s value (minDelta: 0.5%), which follows a metric that falls a lot: at 0 a run-to-run wobble of 0.1 %',
    '# counts as a win and the search follows noise.',
    `minDelta: ${o.minDelta ?? 0}`,
    '# Seed for the proposer\'s and the policy\'s choices.',
    'seed: 0',
    '# Seconds between SIGTERM and SIGKILL when a run goes over its budget.',
    '# graceSeconds: 5',
    '# Tree policy: drafts the baseline may get, debug attempts per crash, tries without a keep before the best is left.',
    `# search: {drafts: ${DEFAULT_SEARCH.drafts}, debugDepth: ${DEFAULT_SEARCH.debugDepth}, patience: ${DEFAULT_SEARCH.patience}}`,
    '# Research notes handed to the proposer (a file like program.md).',
    o.notes ? `notes: ${scalar(o.notes)}` : '# notes: program.md',
  ];
  return lines.join('\n') + '\n';
}

/** A share of the metric's value that a real change should beat: run-to-run noise is often a few tenths of a percent. */
const SHARE = 0.005;
const FALLBACK = 0.001;

/**
 * The minDelta the editor's wizard and `init --probe` suggest, and why. Where the script printed a value, half a percent of the parent's value
 * (`0.5%`): a fixed step taken from the first value grows against a metric that falls tenfold over a session (0.5 % of
 * the first loss was 11 % of the best after four keeps on a Hydra-style script, and turned real gains away). Else a
 * small absolute step. 0 is never suggested: it lets noise win.
 */
export function suggestMinDelta(printed: number | null): { value: string; why: string } {
  const zero = 'At 0 any change that moves the metric at all is kept, so a −0.1 % wobble from noise "wins" and the search follows it';
  if (printed !== null && Number.isFinite(printed) && printed !== 0) {
    const now = Number((Math.abs(printed) * SHARE).toPrecision(2));
    return { value: `${SHARE * 100}%`, why: `${zero}. Suggested: 0.5 % of the parent's value (${fmtNum(now)} of the ${fmtNum(printed)} your script printed), which follows the metric as it improves; a plain number is a fixed step in its units.` };
  }
  return { value: String(FALLBACK), why: `${zero}. Suggested: ${FALLBACK} (about 0.3 % of a loss near 0.3); scale it to your metric, or give a share of the parent's value such as 0.5%.` };
}

/** A minDelta as typed: a number of the metric's units, zero or more, or a share of the parent's value (`0.5%`). */
export function checkMinDelta(v: string): string | undefined {
  const t = v.trim();
  if (minDeltaShareOf(t) !== null) return undefined;
  const n = Number(t);
  return t !== '' && Number.isFinite(n) && n >= 0 ? undefined : 'A number of the metric\'s units, 0 or more (like 0.001), or a share of the parent\'s value (like 0.5%)';
}

/** Whether a run that took `wallMs` was close to the budget (60 % of it or more): a little slower (a change, a busier machine) runs past it. */
export function closeToBudget(wallMs: number, budgetSeconds: number): boolean {
  return wallMs >= 0.6 * budgetSeconds * 1000;
}

/** What a run close to the budget risks, as `init` and a session say it of the baseline. */
export const NEAR_BUDGET_RISK = 'a change that makes a run a little slower (a wider model, a larger batch), or a busier machine, runs past it, and a run stopped at the budget is a crash that says nothing about its change';

/** A budget with room for runs like one that took `wallMs`: about twice it, in tens of seconds, or minutes from two (`70s`, `9m`). */
export function budgetWithRoom(wallMs: number): string {
  const seconds = Math.max(10, Math.ceil((2 * wallMs) / 10_000) * 10);
  return seconds < 120 ? `${seconds}s` : `${Math.ceil(seconds / 60)}m`;
}
