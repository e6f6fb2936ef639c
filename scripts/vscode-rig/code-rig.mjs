// A stand-in for the `code` executable that @vscode/test-electron's runTests launches:
// it runs the extension tests in code-server (VS Code in a browser) and exits with their exit code.
// Understood: --extensionDevelopmentPath=P (repeatable), --extensionTestsPath=P, one folder or
// .code-workspace path; other VS Code flags are accepted and ignored. Rig flags: --rig-timeout=SECONDS
// (or env AUTORESEARCH_RIG_TIMEOUT, default 600). Its own environment reaches the extension host.
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { provision, repoRoot } from './provision.mjs';
import { startSession } from './session.mjs';

// VS Code flags that take their value as the next argument (the `--flag=value` form needs no entry).
const VALUE_FLAGS = new Set(['--user-data-dir', '--extensions-dir', '--profile', '--locale', '--log', '--sync', '--category',
  '--install-extension', '--uninstall-extension', '--inspect-extensions', '--inspect-brk-extensions', '--remote', '--folder-uri', '--file-uri']);

export function parseArgs(argv) {
  const parsed = { extensionDevelopmentPath: [], extensionTestsPath: undefined, folder: undefined, timeoutSec: undefined, ignored: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, value] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    if (flag === '--extensionDevelopmentPath') parsed.extensionDevelopmentPath.push(value ?? argv[++i]);
    else if (flag === '--extensionTestsPath') parsed.extensionTestsPath = value ?? argv[++i];
    else if (flag === '--rig-timeout') parsed.timeoutSec = Number(value ?? argv[++i]);
    else if (arg.startsWith('-')) {
      parsed.ignored.push(arg);
      if (value === undefined && VALUE_FLAGS.has(flag)) parsed.ignored.push(argv[++i]);
    } else if (parsed.folder === undefined) parsed.folder = arg;
    else parsed.ignored.push(arg);
  }
  return parsed;
}

// Workbench chatter that says nothing about the tests; all of it still lands in the session's console log.
const NOISE = [
  /^Resolv(ing|ed) connection token/, /^Creating a socket/, /^\[reconnection-grace-time\]/, /^\[Service Worker\]/,
  /^Ignoring fetching additional builtin extensions/, /^Updating additional builtin extensions cache/,
  /^\[browser error\] Failed to load resource: the server responded with a status of 404/,
  /^\[browser warning\] The web worker extension host is started in a same-origin iframe/,
  /^\[browser warning\] An iframe which has both allow-scripts and allow-same-origin/,
];
const verbose = Boolean(process.env.AUTORESEARCH_RIG_VERBOSE);

// Each run leaves session-<time>.{server,console}.log; keep the newest runs only.
function pruneSessionLogs(dir, keep) {
  if (!existsSync(dir)) return;
  const runs = [...new Set(readdirSync(dir).filter((f) => f.startsWith('session-')).map((f) => f.replace(/\.(server|console)\.log$/, '')))].sort();
  for (const run of runs.slice(0, Math.max(0, runs.length - keep))) {
    for (const suffix of ['.server.log', '.console.log']) rmSync(join(dir, run + suffix), { force: true });
  }
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const timeoutSec = args.timeoutSec ?? Number(process.env.AUTORESEARCH_RIG_TIMEOUT ?? 600);
  const say = (line) => process.stdout.write(`[code-rig] ${line}\n`);
  if (args.extensionDevelopmentPath.length === 0 && !args.extensionTestsPath) {
    say('nothing to do: pass --extensionDevelopmentPath=… and --extensionTestsPath=… (as @vscode/test-electron does)');
    return 2;
  }
  // Extension hosts resolve a test path without extension to index.js; check it here to fail fast.
  const testsPath = args.extensionTestsPath ? resolve(args.extensionTestsPath) : undefined;
  if (testsPath && !existsSync(testsPath) && !existsSync(`${testsPath}.js`) && !existsSync(join(testsPath, 'index.js'))) {
    say(`no extension tests at ${testsPath}`);
    return 2;
  }

  const rig = await provision({ log: say });
  if (rig.status !== 'ready') {
    say(`VS Code rig ${rig.status}: ${rig.reason}`);
    return rig.status === 'skipped' ? 3 : 1;
  }
  say(`code-server ${rig.codeServerVersion} (VS Code ${rig.vscodeVersion}), timeout ${timeoutSec} s`);

  let starting;
  let timer;
  let stopping = false;
  const stop = async (code, why) => {
    if (stopping) return;
    stopping = true;
    clearTimeout(timer);
    if (why) say(why);
    // A session still starting is waited for (its own steps time out) so that it is torn down too.
    const session = await starting?.catch(() => undefined);
    await session?.dispose();
    process.exit(code);
  };
  process.once('SIGINT', () => void stop(130, 'interrupted'));
  process.once('SIGTERM', () => void stop(143, 'terminated'));
  timer = setTimeout(() => void stop(124, `timed out after ${timeoutSec} s`), timeoutSec * 1000);

  const logDir = process.env.AUTORESEARCH_RIG_LOG_DIR ?? join(repoRoot, 'test-output', 'vscode-rig');
  pruneSessionLogs(logDir, 20);
  const t0 = Date.now();
  let session;
  try {
    starting = startSession({
      rig,
      folder: args.folder,
      extensionDevelopmentPath: args.extensionDevelopmentPath,
      extensionTestsPath: args.extensionTestsPath,
      logDir,
      log: (line) => { if (verbose || !NOISE.some((re) => re.test(line))) process.stdout.write(`${line}\n`); },
    });
    session = await starting;
  } catch (err) {
    await stop(1, `could not start VS Code: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
  if (stopping) return 1;
  say(`workbench at ${session.url}`);
  const code = await session.exitCode;
  say(`tests finished with exit code ${code} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  await stop(code);
  return code;
}

process.exitCode = await main();
