// The engine is platform-free: lint refuses an import of vscode in src/core, src/shared or src/cli. Git runs from one
// place, the core's git room (src/core/git.ts): no other source file spawns it. Imports run downwards: src/shared
// imports nothing of the engine, and no part of src/core imports one that imports it back.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';

describe('layer boundaries', () => {
  for (const file of ['src/core/anything.ts', 'src/shared/protocol.ts', 'src/cli/main.ts']) {
    it(`lint refuses "import * as vscode from 'vscode'" in ${file}`, async () => {
      const eslint = new ESLint();
      const [result] = await eslint.lintText("import * as vscode from 'vscode';\nexport const x = vscode;\n", { filePath: file });
      const rules = result!.messages.map((m) => m.ruleId);
      assert.ok(rules.includes('no-restricted-imports'), JSON.stringify(result!.messages));
    });
  }

  it('lint allows vscode in the extension', async () => {
    const [result] = await new ESLint().lintText("import * as vscode from 'vscode';\nexport const x = vscode;\n", { filePath: 'src/extension/anything.ts' });
    assert.deepEqual(result!.messages.filter((m) => m.ruleId === 'no-restricted-imports'), []);
  });
});

/** Where a source text runs git itself: a spawn of `git` (execFile, spawn, execa and their Sync forms, exec of a `git …` line) or a `git(` helper. */
export function gitSpawns(text: string): string[] {
  const found: string[] = [];
  const patterns = [
    /\b(?:execFile|execFileSync|spawn|spawnSync|execa|execaSync|execaNode)\s*\(\s*['"`]git['"`]/g,
    /\b(?:exec|execSync|execaCommand|execaCommandSync)\s*\(\s*['"`]git\b/g,
    /\bgit\s*\(/g,
  ];
  for (const re of patterns) for (const m of text.matchAll(re)) found.push(m[0]);
  return found;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.(?:ts|tsx|mts|js|mjs)$/.test(f))
    .map((f) => join(dir, f).split(sep).join('/'));
}

describe('git runs only in the git room', () => {
  it('the scanner finds each way of running git, and not a mention of it', () => {
    assert.deepEqual(gitSpawns("execFile('git', ['status'])").length, 1);
    assert.deepEqual(gitSpawns('spawnSync("git", args)').length, 1);
    assert.deepEqual(gitSpawns('await execa(`git`, [\'rev-parse\', \'HEAD\'])').length, 1);
    assert.deepEqual(gitSpawns("execSync('git rev-parse HEAD')").length, 1);
    assert.deepEqual(gitSpawns('function git(cwd: string, args: string[]) {}').length, 1);
    assert.deepEqual(gitSpawns('await this.git(req, args)').length, 1);
    assert.deepEqual(gitSpawns("const lab = await Lab.open(root); // a git repository\nexecFile('python', ['train.py'])"), []);
  });

  it('no file in src or webview-ui but src/core/git.ts spawns git', () => {
    const root = fileURLToPath(new URL('../..', import.meta.url));
    const offenders = ['src', 'webview-ui/src']
      .flatMap((d) => sourceFiles(join(root, d)).map((f) => relative(root, f).split(sep).join('/')))
      .filter((f) => f !== 'src/core/git.ts')
      .flatMap((f) => gitSpawns(readFileSync(join(root, f), 'utf8')).map((hit) => `${f}: ${hit}`));
    assert.deepEqual(offenders, [], 'git is run only by src/core/git.ts: add a Lab method there instead');
  });
});

/** Each relative import (type-only ones too) of the source files below `dir`: [importing file, imported file], repo-relative. */
function importsBelow(root: string, dir: string): [string, string][] {
  const edges: [string, string][] = [];
  for (const file of sourceFiles(join(root, dir))) {
    const from = relative(root, file).split(sep).join('/');
    for (const m of readFileSync(file, 'utf8').matchAll(/^\s*(?:import|export)\b[^'"]*?\bfrom\s+['"](\.{1,2}\/[^'"]+)['"]/gm)) {
      const to = join(from, '..', m[1]!).split(sep).join('/').replace(/\.js$/, '.ts');
      edges.push([from, to]);
    }
  }
  return edges;
}

describe('layers import downwards only', () => {
  const root = fileURLToPath(new URL('../..', import.meta.url));

  it('src/shared imports nothing outside itself: the webview and the engine both stand on it', () => {
    const out = importsBelow(root, 'src/shared').filter(([, to]) => !to.startsWith('src/shared/'));
    assert.deepEqual(out, []);
  });

  it('no folder or file of src/core imports one that imports it back, directly or through others', () => {
    // A room is a file at the top of src/core or one of its folders.
    const room = (p: string) => p.slice('src/core/'.length).replace(/\/.*$/, '/');
    const next = new Map<string, Set<string>>();
    for (const [from, to] of importsBelow(root, 'src/core')) {
      if (!to.startsWith('src/core/') || room(from) === room(to)) continue;
      if (!next.has(room(from))) next.set(room(from), new Set());
      next.get(room(from))!.add(room(to));
    }
    const reaches = (a: string, b: string): string[] | null => {
      const seen = new Set<string>();
      const walk = (at: string, path: string[]): string[] | null => {
        for (const n of next.get(at) ?? []) {
          if (n === b) return [...path, n];
          if (!seen.has(n)) {
            seen.add(n);
            const found = walk(n, [...path, n]);
            if (found) return found;
          }
        }
        return null;
      };
      return walk(a, [a]);
    };
    const loops = [...next].flatMap(([a, tos]) => [...tos].map((b) => reaches(b, a)).filter((l): l is string[] => l !== null).map((l) => `${a} -> ${l.join(' -> ')}`));
    assert.deepEqual(loops, []);
  });
});
