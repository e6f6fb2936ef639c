// The engine is platform-free: lint refuses an import of vscode in src/core, src/shared or src/cli.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
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
