// The webview's boundaries: it imports only src/shared and its own files, and paints only with theme colours.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const SRC = 'webview-ui/src';

function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+['"]([^'"]+)['"]/gm), ...text.matchAll(/^\s*import\s+['"]([^'"]+)['"]/gm)].map((m) => m[1]!);
}

describe('webview boundaries', () => {
  const files = readdirSync(SRC).filter((f) => f.endsWith('.ts')).map((f) => join(SRC, f));

  it('imports only its own files, src/shared/protocol, src/shared/format and d3-hierarchy', () => {
    assert.ok(files.length > 5);
    for (const f of files) {
      for (const spec of imports(f)) {
        const ok = (spec.startsWith('./') && spec.endsWith('.js')) || spec === '../../src/shared/protocol.js' || spec === '../../src/shared/format.js' || spec === 'd3-hierarchy';
        assert.ok(ok, `${f} imports ${spec}`);
      }
    }
  });

  it('uses no default exports and no barrel index file', () => {
    for (const f of files) assert.doesNotMatch(readFileSync(f, 'utf8'), /export default/, f);
    assert.ok(!files.some((f) => f.endsWith('index.ts')));
  });

  it('takes every colour in its stylesheet from a --vscode-* variable', () => {
    const css = readFileSync(join(SRC, 'styles.css'), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');
    // Property values only, with the variables themselves taken out: what is left must hold no colour.
    const values = [...css.matchAll(/:\s*([^;{}]+);/g)].map((m) => m[1]!.replace(/var\(--[\w-]+/g, 'var('));
    const literal = values.join('\n').match(/#[0-9a-f]{3,8}\b|\brgba?\(|\bhsla?\(|\b(?:white|black|red|green|blue|gray|grey|orange|purple|yellow)\b/gi);
    assert.equal(literal, null, `colour literals: ${literal?.join(', ')}`);
    for (const m of css.matchAll(/var\((--[\w-]+)/g)) {
      assert.ok(m[1]!.startsWith('--vscode-') || ['--gap', '--radius', '--border', '--columns', '--min-width'].includes(m[1]!), `unknown variable ${m[1]}`);
    }
  });

  // The webview has its own compiler settings (the DOM library); the repository's `tsc -p .` does not see it.
  it('type-checks under webview-ui/tsconfig.json', { timeout: 60_000 }, () => {
    const r = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '--noEmit', '-p', 'webview-ui'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stdout + r.stderr);
  });

  it('the webview never builds HTML from strings (descriptions come from proposers)', () => {
    for (const f of files) assert.doesNotMatch(readFileSync(f, 'utf8'), /\.innerHTML\s*=|insertAdjacentHTML|outerHTML\s*=/, f);
  });
});
