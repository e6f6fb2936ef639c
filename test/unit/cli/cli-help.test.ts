// The CLI a new user meets first: --version, help, per-command help, and the `autoresearch` command an install
// puts on PATH (a link to dist/cli.js, which must run when started through the link).
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { main } from '../../../src/cli/main.js';

const version = (JSON.parse(readFileSync(resolve('package.json'), 'utf8')) as { version: string }).version;

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (s) => out.push(s), err: (s) => err.push(s), isTTY: false });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('autoresearch --version and help', () => {
  it('--version and -V print the package version', async () => {
    for (const flag of ['--version', '-V']) assert.deepEqual(await cli(flag), { code: 0, out: `autoresearch ${version}`, err: '' });
  });

  it('help lists every command; help <command> and <command> --help show that command alone', async () => {
    const all = await cli('help');
    assert.equal(all.code, 0);
    for (const c of ['init', 'run', 'status', 'tree', 'show', 'compare', 'summary', 'keep', 'discard', 'record', 'hint', 'apply', 'help']) assert.match(all.out, new RegExp(`^  ${c}\\b`, 'm'), c);
    const run = await cli('help', 'run');
    assert.equal(run.code, 0);
    assert.match(run.out, /^Usage: autoresearch run \[options\]/);
    assert.match(run.out, /--restart/);
    assert.doesNotMatch(run.out, /^ {2}status/m, 'only the command asked about');
    assert.deepEqual(await cli('run', '--help'), run);
    assert.deepEqual(await cli('summary', '-h'), await cli('help', 'summary'));
  });

  it('help for a command that does not exist says so and exits 2', async () => {
    const r = await cli('help', 'frobnicate');
    assert.equal(r.code, 2);
    assert.equal(r.err, 'No command "frobnicate". Run `autoresearch help` for the list.');
  });
});

describe('the installed `autoresearch` command', () => {
  const prefix = mkdtempSync(join(tmpdir(), 'ar-install-'));
  after(() => rmSync(prefix, { recursive: true, force: true }));

  it('runs through the link an install puts on PATH, and an error is one line without a stack', () => {
    execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'ignore' });
    // What the README says: npm install --global from the checkout (npm link does the same).
    execFileSync('npm', ['install', '--global', '--prefix', prefix, '--no-audit', '--no-fund', '.'], { stdio: 'ignore' });
    const bin = join(prefix, 'bin', 'autoresearch');
    assert.equal(execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim(), `autoresearch ${version}`);
    const empty = mkdtempSync(join(tmpdir(), 'ar-empty-'));
    try {
      const r = spawnSync(bin, ['status'], { cwd: empty, encoding: 'utf8' });
      assert.equal(r.status, 2);
      assert.doesNotMatch(r.stderr + r.stdout, /\n\s+at /, 'a stack trace');
      assert.match(r.stderr + r.stdout, /is not inside a git repository/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
