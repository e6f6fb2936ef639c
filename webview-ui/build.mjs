// Bundles the results webview: webview-ui/src/main.ts → dist/webview/main.js (one IIFE script, loaded with
// a nonce) and webview-ui/src/styles.css → dist/webview/styles.css. No framework, no remote resources.
//   node webview-ui/build.mjs [--production] [--watch]
import * as esbuild from 'esbuild';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const webviewOutDir = join(here, '..', 'dist', 'webview');

/** @param {{ production?: boolean, watch?: boolean }} [options] */
export async function buildWebview({ production = false, watch = false } = {}) {
  /** @type {import('esbuild').BuildOptions} */
  const options = {
    entryPoints: { main: join(here, 'src', 'main.ts'), styles: join(here, 'src', 'styles.css') },
    outdir: webviewOutDir,
    entryNames: '[name]',
    bundle: true,
    platform: 'browser',
    format: 'iife',
    target: ['chrome120'],
    sourcemap: production ? false : 'linked',
    minify: production,
    legalComments: 'none',
    logLevel: 'warning',
  };
  // A production build must not leave a development build's source maps behind for the VSIX to pick up.
  rmSync(webviewOutDir, { recursive: true, force: true });
  if (watch) {
    const ctx = await esbuild.context(options);
    await ctx.watch();
    return ctx;
  }
  await esbuild.build(options);
  return undefined;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await buildWebview({ production: process.argv.includes('--production'), watch: process.argv.includes('--watch') });
}
