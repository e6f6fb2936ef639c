// What a crash on first contact means, in words that say what to change. A run that works in the user's own
// checkout and fails in the experiment's worktree almost always misses something git does not track (prepared
// data, a .venv); a script that cannot import torch runs under the wrong Python.
import { spawnSync } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, isAbsolute, join, relative } from 'node:path';
import { truncate } from '../shared/format.js';
import { probeMetrics } from './metricProbe.js';

export interface CrashContext {
  /** The experiment's worktree (the run's cwd). */
  worktree: string;
  /** The user's checkout. */
  root: string;
  /** The run command. */
  run: string;
  /** The config's `shared` globs, or null for the automatic choice. */
  shared: readonly string[] | null;
  /** Paths the automatic choice left out as outputs. */
  leftOut: readonly string[];
  /** The PATH the run sees, searched for another interpreter that has a missing module; default process.env.PATH. */
  path?: string;
}

// `No such file or directory: 'data/x/train.bin'` (Python), `can't open file '/w/train.py'`, `cat: data/x: No such
// file or directory`, `bash: line 1: .venv/bin/python: No such file or directory`, `sh: 1: .venv/bin/python: not found`.
const MISSING = [
  /No such file or directory:\s*['"]([^'"\n]+)['"]/g,
  /can't open file ['"]([^'"\n]+)['"]/g,
  /(?:^|\s)([^\s:'"]+):\s*No such file or directory/gm,
  /^(?:\/bin\/)?(?:ba)?sh: (?:line )?\d+: ([^\s:]+): (?:not found|No such file or directory)/gm,
];
const NO_MODULE = /ModuleNotFoundError: No module named ['"]([\w.]+)['"]/;
const VENVS = ['.venv', 'venv', 'env', '.env'];

function missingPaths(log: string): string[] {
  const found = new Set<string>();
  for (const re of MISSING) for (const m of log.matchAll(new RegExp(re))) found.add(m[1]!.trim());
  return [...found];
}

/** The first path component, as a `shared` glob: `data/**` for data/x/train.bin, `.venv` for .venv/bin/python. */
function suggestedGlob(rel: string): string {
  const top = rel.split('/')[0]!;
  return rel.includes('/') && !VENVS.includes(top) ? `${top}/**` : top;
}

/** One sentence that says what to change, or null when the log shows nothing this knows. */
export function explainCrash(log: string, ctx: CrashContext): string | null {
  for (const raw of missingPaths(log)) {
    const abs = isAbsolute(raw) ? raw : join(ctx.worktree, raw);
    const rel = relative(ctx.worktree, abs).replace(/\\/g, '/');
    if (rel.startsWith('..') || isAbsolute(rel) || rel === '') continue;
    if (existsSync(abs) || !existsSync(join(ctx.root, rel))) continue;
    const why = ctx.shared === null && ctx.leftOut.some((o) => rel === o || rel.startsWith(`${o}/`))
      ? 'it looks like an output, so it is not shared automatically'
      : 'git does not track it, and it is not shared';
    const glob = suggestedGlob(rel);
    const list = ctx.shared === null ? `[${glob}]` : `[${[...ctx.shared, glob].join(', ')}]`;
    return `${rel} is in your checkout but not in the experiment's worktree (${why}); add \`shared: ${list}\` to autoresearch.config.yaml`;
  }
  const noModule = NO_MODULE.exec(log);
  if (noModule && /^\s*(?:\S*\/)?python[\d.]*\s/.test(ctx.run) && !/^\s*(?:\.\/)?\.?venv/.test(ctx.run)) {
    const venv = VENVS.find((v) => existsSync(join(ctx.root, v, 'bin', 'python')));
    const cmd = ctx.run.trim().replace(/^\S+/, '');
    if (venv) return `the Python on PATH has no module ${noModule[1]}, but your checkout has a virtual environment: set \`run: ${venv}/bin/python${cmd}\``;
    // pyenv's or conda's python3 first on PATH, torch installed for the system's /usr/bin/python3: name the one that has it.
    const path = ctx.path ?? process.env.PATH ?? '';
    const own = whichReal(ctx.run.trim().split(/\s+/)[0]!, path, ctx.worktree);
    const other = interpretersWith(noModule[1]!.split('.')[0]!, path, own)[0];
    return other
      ? `the Python on PATH has no module ${noModule[1]}, but ${other} has it: set \`run: ${other}${cmd}\``
      : `the Python on PATH has no module ${noModule[1]}: install it there, or set \`run\` to the interpreter that has it (e.g. \`/path/to/venv/bin/python${cmd}\`)`;
  }
  return null;
}

function realOrNull(p: string): string | null {
  try {
    return realpathSync(p);
  } catch {
    return null;
  }
}

/** The file a command word runs (a path, or looked up on `path`), links resolved; null when there is none. */
export function whichReal(word: string, path: string, cwd: string): string | null {
  if (word.includes('/')) return realOrNull(isAbsolute(word) ? word : join(cwd, word));
  for (const d of path.split(delimiter).filter((x) => isAbsolute(x))) {
    const hit = realOrNull(join(d, word));
    if (hit) return hit;
  }
  return null;
}

/** Where Python often is besides PATH: the system's interpreter, which Debian's python3-torch installs for. */
const USUAL_PYTHONS = ['/usr/bin/python3', '/usr/local/bin/python3', '/opt/conda/bin/python', '/opt/homebrew/bin/python3'];

/**
 * The interpreters (absolute paths, PATH order, then the usual places) that can import `module` (every one of a list), asked with
 * importlib's find_spec so that nothing is imported; each counted once however many links lead to it, `exclude`
 * (the real path of the interpreter that failed) not at all.
 */
export function interpretersWith(module: string | readonly string[], path: string, exclude: string | null = null): string[] {
  const modules = typeof module === 'string' ? [module] : module;
  if (modules.length === 0 || !modules.every((m) => /^[A-Za-z_]\w*$/.test(m))) return [];
  const seen = new Set<string>(exclude ? [exclude] : []);
  const out: string[] = [];
  const dirs = path.split(delimiter).filter((d) => isAbsolute(d));
  for (const cand of [...dirs.flatMap((d) => ['python3', 'python'].map((n) => join(d, n))), ...USUAL_PYTHONS]) {
    const real = realOrNull(cand);
    if (real === null || seen.has(real)) continue;
    seen.add(real);
    const r = spawnSync(cand, ['-c', 'import importlib.util, sys; sys.exit(0 if all(importlib.util.find_spec(m) for m in sys.argv[1:]) else 3)', ...modules], { stdio: 'ignore', timeout: 10_000, cwd: tmpdir() });
    if (r.status === 0) out.push(cand);
    if (out.length >= 3) break;
  }
  return out;
}

// `NameError: name 'floor' is not defined`, `torch.OutOfMemoryError: CUDA out of memory.`, `KeyboardInterrupt`.
const EXCEPTION_LINE = /^(?:[A-Za-z_][\w]*\.)*[A-Z]\w*(?:Error|Exception|Interrupt|Exit)\b(?::.*)?$/;

/**
 * The last exception line of a traceback in the log, clipped: what a crash reason should name. A bare one (a plain
 * `assert`'s `AssertionError`) says nothing by itself, so the source line that raised it comes with it, and where:
 * `AssertionError: assert config.n_embd % config.n_head == 0 (model.py:33)`.
 */
export function lastError(log: string): string | null {
  const lines = log.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  for (let i = lines.length - 1; i >= Math.max(0, lines.length - 40); i--) {
    if (!EXCEPTION_LINE.test(lines[i]!)) continue;
    const raised = lines[i]!.includes(':') ? null : raisedAt(lines, i);
    return truncate(raised ? `${lines[i]}: ${raised}` : lines[i]!, 160);
  }
  return null;
}

/** The source line above a traceback's exception line `i`, past Python 3.11's `^^^^` marks, and its file and line. */
function raisedAt(lines: readonly string[], i: number): string | null {
  let j = i - 1;
  while (j > 0 && /^[\^~\s]+$/.test(lines[j]!)) j--;
  const at = /^File "(?:.*[\\/])?([^"\\/]+)", line (\d+)/.exec(lines[j - 1] ?? '');
  return j > 0 && at && !lines[j]!.startsWith('File "') ? `${lines[j]} (${at[1]}:${at[2]})` : null;
}

/**
 * For a log where the metric's pattern matched nothing: the lines that look like metrics, and the pattern that
 * reads the likeliest one (`val loss 2.3792` in a step line), or null when nothing looks like a metric.
 */
export function metricSuggestion(log: string, name: string): string | null {
  const found = probeMetrics(log);
  if (found.length === 0) return null;
  const best = found.find((c) => c.name === name) ?? found[0]!;
  const others = found.filter((c) => c !== best).slice(0, 2).map((c) => `${c.name} ${c.valueText}`);
  return `the log has metric-like lines such as \`${truncate(best.line, 100)}\`${others.length ? ` (also ${others.join(', ')})` : ''}; to read ${best.name} there, set \`metric.pattern: '${best.pattern.replace(/'/g, "''")}'\` (\`autoresearch init --probe\` proposes one)`;
}

/** The first line of a log where the sandbox refused a write (EROFS, or git failing to lock a ref for it), clipped; or null. */
export function blockedWrite(log: string): string | null {
  // A hard link from the writable worktree to a read-only bind is refused as a cross-device link.
  const line = log.split(/\r?\n/).find((l) => /Read-only file system|EROFS|Invalid cross-device link|EXDEV/.test(l));
  if (!line) return null;
  // Clipped from the left: the error is at the end of the line (git's `cannot lock ref …: Read-only file system`).
  const t = line.trim();
  return t.length > 200 ? `…${t.slice(-199)}` : t;
}
