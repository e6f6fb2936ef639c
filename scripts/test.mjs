// Runs every test tier and ends with one line: "N passed, N failed[, N skipped]".
// Tiers: checks (lint, types), unit (plain Node, real git and processes), and the VS Code tiers when present.
// A tier that cannot run here says so and why; it never hides a failure.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, mkdirSync, existsSync, statSync } from 'node:fs';
import { join } from 'node:path';

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

function nodeTier(name, dir, extra = []) {
  const files = findTests(dir);
  process.stdout.write(`\n=== tier: ${name} (${files.length} files)\n`);
  if (files.length === 0) {
    lines.push(`tier ${name}: no test files`);
    return;
  }
  const tap = join(outDir, `${name}.tap`);
  const r = spawnSync(process.execPath, [
    '--import', 'tsx', '--test', '--test-concurrency=2',
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
  check('typecheck', 'npx', ['tsc', '--noEmit', '-p', '.']);
  check('lint', 'npx', ['eslint', 'src', 'test', 'scripts']);
}
if (!only || only === 'unit') nodeTier('unit', 'test/unit');

process.stdout.write(`\n${lines.join('\n')}\n`);
const summary = `${totals.passed} passed, ${totals.failed} failed` + (totals.skipped ? `, ${totals.skipped} skipped` : '');
process.stdout.write(`${summary}\n`);
process.exit(totals.failed > 0 ? 1 : 0);
