// Runs extension-host integration tests with @vscode/test-electron's runTests, unchanged: against the
// desktop `code` when one is on PATH, otherwise against the rig (code-server in headless Chromium).
//   node test/integration/runTests.mjs [--extension DIR] [--tests DIR] [--workspace DIR] [--results FILE]
// Defaults test the smoke fixture. --tests is a folder of *.test.ts files, bundled with suite/index.ts.
// Always writes FILE as {passed, failed, skipped, failures, skipReason?}; exits 1 when anything failed.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { runTests } from '@vscode/test-electron';
import { provision, repoRoot } from '../../scripts/vscode-rig/provision.mjs';
import { buildSmokeExtension, smokeExtensionDir, smokeWorkspace } from '../fixtures/smoke-extension/build.mjs';

const here = dirname(fileURLToPath(import.meta.url));

function option(args, name, fallback) {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? resolve(args[i + 1]) : fallback;
}

function findTestFiles(dir) {
  return readdirSync(dir).sort().flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return findTestFiles(p);
    return name.endsWith('.test.ts') ? [p] : [];
  });
}

// Bundles the runner and each test file to CommonJS under out/integration/<name>/; vscode and mocha stay external.
export async function buildSuite(testsDir) {
  const outDir = join(repoRoot, 'out', 'integration', basename(testsDir));
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(repoRoot, 'out', 'package.json'), '{ "type": "commonjs" }\n');
  const tests = findTestFiles(testsDir);
  if (tests.length === 0) throw new Error(`no *.test.ts files under ${testsDir}`);
  await esbuild.build({
    entryPoints: [join(here, 'suite', 'index.ts'), ...tests].map((p) => ({ in: p, out: p.endsWith('index.ts') ? 'index' : relative(testsDir, p).replace(/\.ts$/, '').replaceAll('/', '__') })),
    outdir: outDir,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    sourcemap: 'inline',
    external: ['vscode', 'mocha'],
    logLevel: 'warning',
  });
  return join(outDir, 'index');
}

function desktopCode() {
  if (process.env.AUTORESEARCH_VSCODE_EXECUTABLE) return process.env.AUTORESEARCH_VSCODE_EXECUTABLE;
  const r = spawnSync('sh', ['-c', 'command -v code'], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim() ? r.stdout.trim() : undefined;
}

export async function runIntegration(options = {}) {
  const extensionPath = resolve(options.extension ?? smokeExtensionDir);
  const testsDir = resolve(options.tests ?? join(here, 'smoke'));
  const workspace = resolve(options.workspace ?? smokeWorkspace);
  const resultsFile = resolve(options.results ?? join(repoRoot, 'test-output', 'integration', 'results.json'));
  mkdirSync(dirname(resultsFile), { recursive: true });
  rmSync(resultsFile, { force: true });
  const finish = (results) => {
    writeFileSync(resultsFile, JSON.stringify(results, null, 2) + '\n');
    return results;
  };

  let vscodeExecutablePath = desktopCode();
  if (vscodeExecutablePath) {
    console.log(`[integration] using ${vscodeExecutablePath}`);
  } else {
    if (process.env.AUTORESEARCH_SKIP_VSCODE) return finish({ passed: 0, failed: 0, skipped: 1, failures: [], skipReason: 'AUTORESEARCH_SKIP_VSCODE is set' });
    const rig = await provision({ log: (line) => console.log(`[vscode-rig] ${line}`) });
    if (rig.status === 'skipped') return finish({ passed: 0, failed: 0, skipped: 1, failures: [], skipReason: rig.reason });
    if (rig.status === 'failed') return finish({ passed: 0, failed: 1, skipped: 0, failures: [{ title: 'provisioning the VS Code rig', error: rig.reason }] });
    vscodeExecutablePath = join(repoRoot, 'scripts', 'vscode-rig', 'code-rig');
    console.log(`[integration] no desktop VS Code on PATH; using the rig: code-server ${rig.codeServerVersion} (VS Code ${rig.vscodeVersion})`);
  }

  if (extensionPath === smokeExtensionDir) await buildSmokeExtension();
  const main = JSON.parse(readFileSync(join(extensionPath, 'package.json'), 'utf8')).main;
  if (main && !existsSync(join(extensionPath, main)) && !existsSync(join(extensionPath, `${main}.js`))) {
    return finish({ passed: 0, failed: 1, skipped: 0, failures: [{ title: 'extension build', error: `${join(extensionPath, main)} is missing: build the extension first` }] });
  }
  const extensionTestsPath = await buildSuite(testsDir);

  const testResults = join(dirname(resultsFile), `${basename(resultsFile, '.json')}.host.json`);
  rmSync(testResults, { force: true });
  let exitCode;
  try {
    exitCode = await runTests({
      vscodeExecutablePath,
      extensionDevelopmentPath: extensionPath,
      extensionTestsPath,
      launchArgs: [workspace, '--disable-extensions'],
      extensionTestsEnv: { AUTORESEARCH_TEST_RESULTS: testResults, AUTORESEARCH_RIG_MARKER: 'reached-the-extension-host' },
    });
  } catch (err) {
    exitCode = err?.code ?? 1;
    console.log(`[integration] ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!existsSync(testResults)) {
    return finish({ passed: 0, failed: 1, skipped: 0, failures: [{ title: 'integration run', error: `the extension host wrote no results (exit ${exitCode})` }] });
  }
  const results = JSON.parse(readFileSync(testResults, 'utf8'));
  // Tests all passed but VS Code still failed (crash on shutdown, timeout): that is a failure too.
  if (exitCode !== 0 && results.failed === 0) {
    results.failed = 1;
    results.failures.push({ title: 'integration run', error: `VS Code exited ${exitCode} after the tests passed` });
  }
  return finish(results);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const t0 = Date.now();
  const results = await runIntegration({
    extension: option(args, '--extension'),
    tests: option(args, '--tests'),
    workspace: option(args, '--workspace'),
    results: option(args, '--results'),
  });
  for (const f of results.failures) console.log(`\n[integration] FAILED ${f.title}\n${f.error}`);
  const secs = ((Date.now() - t0) / 1000).toFixed(1);
  if (results.skipReason) console.log(`[integration] skipped: ${results.skipReason}`);
  console.log(`[integration] ${results.passed} passed, ${results.failed} failed, ${results.skipped} skipped (${secs} s)`);
  process.exit(results.failed > 0 ? 1 : 0);
}
