// Bundles the extension host and the CLI with esbuild; type-checking is `npm run typecheck`.
import * as esbuild from 'esbuild';
import { mkdirSync, writeFileSync, chmodSync } from 'node:fs';

const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');
mkdirSync('dist', { recursive: true });
// dist/ holds CommonJS bundles even though the sources are ESM: VS Code loads extensions with require().
writeFileSync('dist/package.json', JSON.stringify({ type: 'commonjs' }) + '\n');

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: !production,
  minify: production,
  logLevel: 'warning',
};

const builds = [
  { ...common, entryPoints: ['src/cli/main.ts'], outfile: 'dist/cli.js', banner: { js: '#!/usr/bin/env node' } },
];
import { existsSync } from 'node:fs';
if (existsSync('src/extension/extension.ts')) {
  builds.push({ ...common, entryPoints: ['src/extension/extension.ts'], outfile: 'dist/extension.js', external: ['vscode'] });
}

if (watch) {
  for (const b of builds) await (await esbuild.context(b)).watch();
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
  chmodSync('dist/cli.js', 0o755);
}

// ---- the results webview (webview-ui/, its own build) → dist/webview/ ----
const { buildWebview } = await import('../webview-ui/build.mjs');
await buildWebview({ production, watch });
