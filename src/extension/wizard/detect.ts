// Sensible defaults for a new research config, read from the workspace: the training script, the files
// that hold data and evaluation, a Python interpreter, and the metric names the script prints.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { listFiles } from '../../core/glob.js';
import { inferDirection } from '../../core/report/snapshot.js';
import type { Direction } from '../../core/types.js';

export interface Detected {
  /** Candidate training scripts, best guess first. */
  scripts: string[];
  /** Files that look like data preparation or evaluation. */
  protectedGuesses: string[];
  /** Every other file worth offering as protected. */
  otherFiles: string[];
  python: string;
  notes: string | null;
}

const SCRIPT_ORDER = ['train.py', 'main.py', 'run.py', 'train.ts', 'train.js'];
const PROTECTED_NAMES = /(^|\/)(prepare|evaluate|eval|evaluation|data|dataset|datasets|metrics?)\.(py|ts|js)$/i;
const CODE = /\.(py|ts|js|mjs|sh|jl|r)$/i;

function run(cmd: string, args: string[]): Promise<boolean> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 5000 }, (err) => resolve(!err));
  });
}

/** `python3` or `python`, or the interpreter the Python extension is set to, when it exists. */
export async function detectPython(configured: string | undefined): Promise<string> {
  if (configured && configured !== 'python' && existsSync(configured)) return configured;
  for (const cand of ['python3', 'python']) if (await run(cand, ['--version'])) return cand;
  return 'python3';
}

export async function detect(root: string, configuredPython?: string): Promise<Detected> {
  const files = listFiles(root).filter((f) => f.split('/').length <= 3).slice(0, 5000);
  const code = files.filter((f) => CODE.test(f) && !f.startsWith('.'));
  const rank = (f: string) => {
    const i = SCRIPT_ORDER.indexOf(f);
    return i >= 0 ? i : /train/i.test(f) ? SCRIPT_ORDER.length : SCRIPT_ORDER.length + 1 + f.split('/').length;
  };
  const scripts = code.filter((f) => !PROTECTED_NAMES.test(f)).sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  const protectedGuesses = code.filter((f) => PROTECTED_NAMES.test(f));
  const otherFiles = files.filter((f) => !f.startsWith('.') && !protectedGuesses.includes(f) && f !== 'autoresearch.config.yaml' && f !== 'results.tsv');
  return {
    scripts,
    protectedGuesses,
    otherFiles,
    python: await detectPython(configuredPython),
    notes: ['program.md', 'NOTES.md', 'notes.md'].find((f) => existsSync(join(root, f))) ?? null,
  };
}

/** Names the script prints as `name: value` (from print/log calls), most metric-like first. */
export function metricNames(scriptText: string): string[] {
  const found = new Set<string>();
  const re = /(?:print|log|logger\.\w+|write)\(\s*f?["'`]([A-Za-z_][\w./-]*):\s/g;
  for (let m = re.exec(scriptText); m; m = re.exec(scriptText)) found.add(m[1]!);
  const score = (n: string) => (/^val/.test(n) ? 0 : /loss|acc|bpb|perplex|error|f1|score/i.test(n) ? 1 : 2);
  return [...found].sort((a, b) => score(a) - score(b));
}

export function readScript(root: string, script: string): string {
  try {
    return readFileSync(join(root, script), 'utf8');
  } catch {
    return '';
  }
}

export function guessDirection(metricName: string): Direction {
  return inferDirection(metricName, []);
}

/** A tag nobody used yet: the date (nov25), with a suffix when taken. */
export function defaultTag(taken: (tag: string) => boolean, now = new Date()): string {
  const base = `${now.toLocaleString('en-US', { month: 'short' }).toLowerCase()}${now.getDate()}`;
  if (!taken(base)) return base;
  for (let i = 2; i < 100; i++) if (!taken(`${base}-${i}`)) return `${base}-${i}`;
  return `${base}-${Date.now() % 100000}`;
}
