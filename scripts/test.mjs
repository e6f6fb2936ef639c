// Runs every test tier and ends with one line: "N passed, N failed[, N skipped]".
// Tiers: checks (lint, types), unit (plain Node, real git and processes), slurm (a real one-node Slurm),
// integration (real extension host) and e2e (real VS Code UI in headless Chromium); the last two run on the
// rig in scripts/vscode-rig/.
// A tier that cannot run here says so and why; it never hides a failure.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, mkdirSync, existsSync, statSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { provision } from './vscode-rig/provision.mjs';

const args = process.argv.slice(2);
const only = args.includes('--tier') ? args[args.indexOf('--tier') + 1] : undefined;
const outDir = 'test-output';
mkdirSync(outDir, { recursive: true });

const totals = { passed: 0, failed: 0, skipped: 0 };
const lines = [];

function findTests(dir) {
  if (!existsSync(dir)) return [];
  const found = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) found.push(...findTests(p));
    else if (name.endsWith('.test.ts')) found.push(p);
  }
  return found;
}

function check(name, cmd, cmdArgs) {
  process.stdout.write(`\n=== check: ${name}\n`);
  const r = spawnSync(cmd, cmdArgs, { stdio: 'inherit' });
  const ok = r.status === 0;
  totals[ok ? 'passed' : 'failed']++;
  lines.push(`check ${name}: ${ok ? 'passed' : 'FAILED'}`);
}

function nodeTier(name, dir, { concurrency = 2, extra = [] } = {}) {
  const files = findTests(dir);
  process.stdout.write(`\n=== tier: ${name} (${files.length} files)\n`);
  if (files.length === 0) {
    lines.push(`tier ${name}: no test files`);
    return;
  }
  const tap = join(outDir, `${name}.tap`);
  const r = spawnSync(process.execPath, [
    '--import', 'tsx', '--test', `--test-concurrency=${concurrency}`,
    '--test-reporter=spec', '--test-reporter-destination=stdout',
    '--test-reporter=tap', `--test-reporter-destination=${tap}`,
    ...extra, ...files,
  ], { stdio: 'inherit', env: { ...process.env, FORCE_COLOR: '0' } });
  const text = existsSync(tap) ? readFileSync(tap, 'utf8') : '';
  const num = (key) => Number((text.match(new RegExp(`^# ${key} (\\d+)$`, 'm')) ?? [])[1] ?? 0);
  const passed = num('pass');
  const failed = num('fail') + num('cancelled');
  const skipped = num('skipped') + num('todo');
  // A runner that died without a report is a failure, not an empty tier.
  const crashed = r.status !== 0 && failed === 0;
  totals.passed += passed;
  totals.failed += failed + (crashed ? 1 : 0);
  totals.skipped += skipped;
  lines.push(`tier ${name}: ${passed} passed, ${failed + (crashed ? 1 : 0)} failed, ${skipped} skipped${crashed ? ` (runner exited ${r.status})` : ''}`);
}

if (!only || only === 'checks') {
  // The same commands as `npm run typecheck` and `npm run lint` (the webview and the benchmarks included).
  check('typecheck', 'npm', ['run', '--silent', 'typecheck']);
  check('lint', 'npm', ['run', '--silent', 'lint']);
}
// The VS Code tiers need code-server, Node 22 and Chromium (installed once into a cache). Where they cannot
// be installed (not root, no apt) the tier counts as skipped and says why; where installing them fails,
// it counts as failed, so CI cannot go green without them.
function rigUnavailable(name, status, reason) {
  const first = String(reason).split('\n')[0];
  if (status === 'skipped') {
    process.stdout.write(`skipped: ${reason}\n`);
    totals.skipped++;
    lines.push(`tier ${name}: skipped (${first})`);
  } else {
    process.stdout.write(`FAILED: ${reason}\n`);
    totals.failed++;
    lines.push(`tier ${name}: FAILED (${first})`);
  }
}

async function vscodeRig() {
  if (process.env.AUTORESEARCH_SKIP_VSCODE) return { status: 'skipped', reason: 'AUTORESEARCH_SKIP_VSCODE is set' };
  return provision({ log: (line) => process.stdout.write(`[vscode-rig] ${line}\n`) });
}

// Extension-host tests through @vscode/test-electron; the runner writes exact counts to a JSON file.
// Three suites: the rig's own smoke fixture; the AutoResearch extension itself (built first) with a fresh
// git copy of examples/quickstart (3 experiments) as its workspace; the vscode-lm proposer on fake chat models.
function integrationSuite(name, extraArgs) {
  const resultsFile = join(outDir, 'integration', name === 'smoke' ? 'results.json' : `results-${name}.json`);
  rmSync(resultsFile, { force: true });
  const r = spawnSync(process.execPath, ['test/integration/runTests.mjs', ...extraArgs, '--results', resultsFile], { stdio: 'inherit' });
  if (!existsSync(resultsFile)) {
    totals.failed++;
    lines.push(`tier integration (${name}): FAILED (runner exited ${r.status ?? r.signal} without results)`);
    return;
  }
  const res = JSON.parse(readFileSync(resultsFile, 'utf8'));
  if (res.skipReason) {
    rigUnavailable(`integration (${name})`, 'skipped', res.skipReason);
    return;
  }
  const crashed = r.status !== 0 && res.failed === 0;
  totals.passed += res.passed;
  totals.failed += res.failed + (crashed ? 1 : 0);
  totals.skipped += res.skipped;
  lines.push(`tier integration (${name}): ${res.passed} passed, ${res.failed + (crashed ? 1 : 0)} failed, ${res.skipped} skipped${crashed ? ` (runner exited ${r.status})` : ''}`);
}

async function integrationTier() {
  process.stdout.write('\n=== tier: integration\n');
  integrationSuite('smoke', []);
  const build = spawnSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
  if (build.status !== 0) {
    totals.failed++;
    lines.push('tier integration (extension): FAILED (npm run build failed)');
    return;
  }
  const { stageExtension } = await import('../test/fixtures/extension.mjs');
  const { makeQuickstartWorkspace, removeQuickstartWorkspace } = await import('../test/fixtures/quickstart.mjs');
  const extension = stageExtension();
  const workspace = makeQuickstartWorkspace({ maxExperiments: 3 });
  try {
    integrationSuite('extension', ['--extension', extension, '--tests', 'test/integration/suite', '--workspace', workspace]);
  } finally {
    removeQuickstartWorkspace(workspace);
  }
  // The vscode-lm proposer on the real vscode.lm API: a fixture extension registers fake chat models.
  const { buildLmExtension } = await import('../test/fixtures/lm-extension/build.mjs');
  integrationSuite('lm', ['--extension', await buildLmExtension(), '--tests', 'test/integration/lm']);
}

async function e2eTier() {
  const rig = await vscodeRig();
  if (rig.status !== 'ready') {
    process.stdout.write('\n=== tier: e2e\n');
    rigUnavailable('e2e', rig.status, rig.reason);
    return;
  }
  // One VS Code at a time: each test file starts its own code-server and Chromium.
  nodeTier('e2e', 'test/e2e', { concurrency: 1 });
}

// The Slurm tier runs the executor against a real one-node Slurm that test/slurm/cluster.ts installs (apt) and
// starts. It needs root and apt (or Slurm already installed): elsewhere it is skipped and says why; where they
// exist, a setup that fails fails the tier. One file at a time: each starts its own cluster on the same cores.
function slurmUnavailable() {
  if (process.env.AUTORESEARCH_SKIP_SLURM) return 'AUTORESEARCH_SKIP_SLURM is set';
  if (process.platform !== 'linux') return `a real Slurm needs Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'starting munged, slurmctld and slurmd needs root';
  const has = (bin) => spawnSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' }).status === 0;
  if (!has('apt-get') && !(has('slurmctld') && has('slurmd') && has('sbatch') && has('munged'))) return 'Slurm is not installed and there is no apt-get to install it';
  return null;
}

function slurmTier() {
  const reason = slurmUnavailable();
  if (reason) {
    process.stdout.write('\n=== tier: slurm\n');
    rigUnavailable('slurm', 'skipped', reason);
    return;
  }
  nodeTier('slurm', 'test/slurm', { concurrency: 1 });
}

// The unit tier runs experiments in the bubblewrap sandbox (escape.test.ts with it on and off): install it where
// it is missing and this is a root Debian machine; elsewhere the sandbox tests say they are skipped and why.
function ensureBubblewrap() {
  const has = spawnSync('sh', ['-c', 'command -v bwrap'], { stdio: 'ignore' }).status === 0;
  if (has || process.platform !== 'linux' || process.getuid?.() !== 0) return;
  if (spawnSync('sh', ['-c', 'command -v apt-get'], { stdio: 'ignore' }).status !== 0) return;
  process.stdout.write('\n=== installing bubblewrap (Debian package) for the sandbox tests\n');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  let r = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'bubblewrap'], { stdio: 'inherit', env });
  if (r.status !== 0) {
    spawnSync('apt-get', ['update'], { stdio: 'inherit', env });
    r = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'bubblewrap'], { stdio: 'inherit', env });
  }
  if (r.status !== 0) {
    totals.failed++;
    lines.push('setup: FAILED (apt-get install bubblewrap)');
  }
}

if (!only || only === 'unit') {
  ensureBubblewrap();
  nodeTier('unit', 'test/unit');
}
if (!only || only === 'slurm') slurmTier();
if (!only || only === 'integration') await integrationTier();
if (!only || only === 'e2e') await e2eTier();

process.stdout.write(`\n${lines.join('\n')}\n`);
const summary = `${totals.passed} passed, ${totals.failed} failed` + (totals.skipped ? `, ${totals.skipped} skipped` : '');
process.stdout.write(`${summary}\n`);
process.exit(totals.failed > 0 ? 1 : 0);
