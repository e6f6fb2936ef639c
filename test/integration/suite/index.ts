// The extension host's test entry (VS Code calls run()). Bundled to CommonJS next to the built *.test.js
// files, it runs them with mocha and writes exact counts to $AUTORESEARCH_TEST_RESULTS for scripts/test.mjs.
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Mocha from 'mocha';

export interface TestResults {
  passed: number;
  failed: number;
  skipped: number;
  failures: { title: string; error: string }[];
}

function writeResults(results: TestResults): void {
  const file = process.env.AUTORESEARCH_TEST_RESULTS;
  if (file) writeFileSync(file, JSON.stringify(results, null, 2) + '\n');
}

export async function run(): Promise<void> {
  // The bundles carry inline source maps: report failures at the TypeScript line.
  process.setSourceMapsEnabled(true);
  const results: TestResults = { passed: 0, failed: 0, skipped: 0, failures: [] };
  const mocha = new Mocha({
    ui: 'bdd',
    color: false,
    timeout: Number(process.env.AUTORESEARCH_TEST_TIMEOUT ?? 30_000),
    grep: process.env.AUTORESEARCH_TEST_GREP,
  });
  // This file is bundled to CommonJS, so __dirname is the folder holding the built test files.
  for (const name of readdirSync(__dirname).sort()) {
    if (name.endsWith('.test.js')) mocha.addFile(join(__dirname, name));
  }
  try {
    await new Promise<void>((resolve) => {
      const runner = mocha.run(() => resolve());
      runner.on('pass', () => { results.passed++; });
      runner.on('pending', () => { results.skipped++; });
      runner.on('fail', (test, err: unknown) => {
        results.failed++;
        results.failures.push({ title: test.fullTitle(), error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
      });
    });
  } catch (err) {
    // A test file that throws while loading never reaches the runner's events.
    results.failed++;
    results.failures.push({ title: 'loading the test files', error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  }
  writeResults(results);
  if (results.failed > 0) throw new Error(`${results.failed} integration test(s) failed`);
}
