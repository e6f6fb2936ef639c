// The engine is platform-free: lint refuses an import of vscode in src/core, src/shared or src/cli. Git runs from one
// place, the core's git room (src/core/git.ts): no other source file spawns it.
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
