// The globs of the research config (`editable`, `readonly`), matched against POSIX paths relative to the
// workspace root. Git-like and deliberately small:
//   `train.py`  matches `train.py` at the root only (a pattern is always anchored at the root)
//   `*.py`      any .py file at the root;  `**/*.py` any .py file at any depth (the root included)
//   `src/**`    everything under src;      `src/` is the same as `src/**`
//   `?` one character but `/`, `{a,b}` alternatives (nestable), `[abc]` / `[!abc]` a character class.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Folders never walked: git's own, dependencies, caches and the engine's state (its worktrees live there). */
export const SKIPPED_DIRS: ReadonlySet<string> = new Set(['.git', 'node_modules', '__pycache__', '.autoresearch', '.venv']);

const cache = new Map<string, RegExp>();

/** The anchored regular expression for one glob. */
export function globToRegExp(glob: string): RegExp {
  let g = glob.trim().replace(/\\/g, '/');
  while (g.startsWith('./')) g = g.slice(2);
  g = g.replace(/^\/+/, '');
  if (g.endsWith('/')) g += '**';
  return new RegExp(`^${translate(g)}$`);
}

/** Whether a path (relative, POSIX; backslashes are read as slashes) matches any of the globs. */
export function matchesAny(path: string, globs: readonly string[]): boolean {
  const p = path.replace(/\\/g, '/').replace(/^\.\//, '');
  for (const glob of globs) {
    let re = cache.get(glob);
    if (!re) {
      re = globToRegExp(glob);
      cache.set(glob, re);
    }
    if (re.test(p)) return true;
  }
  return false;
}

/**
 * Every file under root, as sorted POSIX paths relative to it, skipping SKIPPED_DIRS. Symbolic links
 * to files are listed; links to folders are not followed.
 */
export function listFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string, prefix: string): void => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (SKIPPED_DIRS.has(e.name)) continue;
      const rel = prefix ? `${prefix}/${e.name}` : e.name;
      if (e.isDirectory()) walk(join(dir, e.name), rel);
      else if (e.isFile()) out.push(rel);
      else if (e.isSymbolicLink()) {
        try {
          if (statSync(join(dir, e.name)).isFile()) out.push(rel);
        } catch {
          // A dangling link: nothing to read.
        }
      }
    }
  };
  walk(root, '');
  return out.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

const SPECIAL = /[.+^$()|\\]/;

function translate(glob: string): string {
  let re = '';
  let i = 0;
  while (i < glob.length) {
    const c = glob[i]!;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        const atStart = i === 0 || glob[i - 1] === '/';
        const j = i + 2;
        if (atStart && glob[j] === '/') {
          re += '(?:.*/)?'; // `**/`: zero or more folders
          i = j + 1;
          continue;
        }
        if (atStart && j === glob.length) {
          re += '.*'; // trailing `/**`: everything under
          i = j;
          continue;
        }
        re += '[^/]*'; // `**` inside a name is just `*`
        i = j;
        continue;
      }
      re += '[^/]*';
      i++;
    } else if (c === '?') {
      re += '[^/]';
      i++;
    } else if (c === '{') {
      const end = closingBrace(glob, i);
      if (end < 0) {
        re += '\\{';
        i++;
        continue;
      }
      re += `(?:${splitTopLevel(glob.slice(i + 1, end)).map(translate).join('|')})`;
      i = end + 1;
    } else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end < 0) {
        re += '\\[';
        i++;
        continue;
      }
      let body = glob.slice(i + 1, end);
      const negate = body.startsWith('!') || body.startsWith('^');
      if (negate) body = body.slice(1);
      body = body.replace(/\\/g, '\\\\').replace(/\]/g, '\\]');
      re += negate ? `[^/${body}]` : `[${body}]`;
      i = end + 1;
    } else {
      re += SPECIAL.test(c) || c === '{' || c === '}' || c === '[' || c === ']' ? `\\${c}` : c;
      i++;
    }
  }
  return re;
}

function closingBrace(s: string, open: number): number {
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    if (s[i] === '{') depth++;
    else if (s[i] === '}' && --depth === 0) return i;
  }
  return -1;
}

function splitTopLevel(s: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '{') depth++;
    else if (s[i] === '}') depth--;
    else if (s[i] === ',' && depth === 0) {
      parts.push(s.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(s.slice(start));
  return parts;
}
