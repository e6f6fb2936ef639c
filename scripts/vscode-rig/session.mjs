// One VS Code session: a code-server on a free local port plus headless Chromium showing its workbench.
// Everything it writes lives in a scratch folder that dispose() removes, with code-server's process group.
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { format } from 'node:util';

export const CHROMIUM_FLAGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage',
];

// Quiet defaults: no welcome page, no tips, no update or telemetry traffic, no chat panel opening by itself.
export const DEFAULT_SETTINGS = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'security.workspace.trust.enabled': false,
  'git.openRepositoryInParentFolders': 'never',
  'window.commandCenter': false,
};

function freePort() {
  return new Promise((done, fail) => {
    const server = createServer();
    server.unref();
    server.on('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
      server.close(() => done(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Waits for a promise at most ms, without a timer that keeps the process alive afterwards.
function withTimeout(promise, ms) {
  let timer;
  return Promise.race([promise, new Promise((r) => { timer = setTimeout(r, ms); })]).finally(() => clearTimeout(timer));
}

function tailOf(file, lines = 30) {
  return existsSync(file) ? readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n') : '';
}

// The workbench logs as console.log('%c INFO', 'color: …', format, ...params), the extension host's
// console (mocha's reporter) included: drop the styling, apply the format, keep the level when not INFO.
export async function consoleText(msg) {
  const text = msg.text();
  if (!text.startsWith('%c')) return msg.type() === 'log' || msg.type() === 'info' ? text : `[browser ${msg.type()}] ${text}`;
  let values;
  try {
    values = await Promise.all(msg.args().map((a) => a.jsonValue()));
  } catch {
    return text;
  }
  if (values.length < 2 || typeof values[0] !== 'string') return text;
  const level = values[0].slice(2).trim();
  const rest = values.slice(2);
  const line = typeof rest[0] === 'string' ? format(...rest) : rest.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(' ');
  return level === 'INFO' ? line : `[${level}] ${line}`;
}

/**
 * Starts code-server and a headless Chromium on its workbench.
 * @param {import('./session.d.mts').SessionOptions} options
 * @returns {Promise<import('./session.d.mts').Session>}
 */
export async function startSession(options) {
  const { rig, log = (line) => console.log(line) } = options;
  if (rig.status !== 'ready') throw new Error(`VS Code rig not ready: ${rig.reason}`);
  const devPaths = [options.extensionDevelopmentPath ?? []].flat().map((p) => resolve(p));
  const testsPath = options.extensionTestsPath ? resolve(options.extensionTestsPath) : undefined;
  const folder = options.folder ? resolve(options.folder) : undefined;
  for (const p of [...devPaths, ...(folder ? [folder] : []), ...(options.vsix ?? [])]) {
    if (!existsSync(p)) throw new Error(`no such path: ${p}`);
  }

  const scratch = mkdtempSync(join(tmpdir(), 'autoresearch-vscode-'));
  const logDir = options.logDir ? resolve(options.logDir) : scratch;
  mkdirSync(logDir, { recursive: true });
  const logName = options.logName ?? `session-${new Date().toISOString().replace(/[:.]/g, '-')}-${process.pid}`;
  const serverLog = join(logDir, `${logName}.server.log`);
  const consoleLog = createWriteStream(join(logDir, `${logName}.console.log`));
  const dirs = {
    userData: join(scratch, 'user-data'),
    extensions: join(scratch, 'extensions'),
    chromium: join(scratch, 'chromium'),
    tmp: join(scratch, 'tmp'),
  };
  const scratchEnv = {
    XDG_CONFIG_HOME: join(scratch, 'xdg-config'),
    XDG_DATA_HOME: join(scratch, 'xdg-data'),
    XDG_CACHE_HOME: join(scratch, 'xdg-cache'),
    XDG_STATE_HOME: join(scratch, 'xdg-state'),
    TMPDIR: dirs.tmp,
  };
  // A missing extensions dir silently drops the development extension: create every folder up front.
  for (const d of [...Object.values(dirs), ...Object.values(scratchEnv), join(dirs.userData, 'User')]) mkdirSync(d, { recursive: true });
  writeFileSync(join(dirs.userData, 'User', 'settings.json'), JSON.stringify({ ...DEFAULT_SETTINGS, ...options.settings }, null, 2));
  const configFile = join(scratch, 'code-server.yaml');
  writeFileSync(configFile, 'auth: none\ncert: false\n');

  const inherited = { ...process.env };
  // Meant for this process, not for code-server or its extension host (NODE_OPTIONS may carry tsx hooks).
  for (const k of ['NODE_OPTIONS', 'VSCODE_IPC_HOOK_CLI', 'ELECTRON_RUN_AS_NODE', 'npm_config_nodedir']) delete inherited[k];
  const env = {
    ...inherited,
    ...options.env,
    ...scratchEnv,
    // No marketplace: with an empty service URL the workbench never queries open-vsx (no network here anyway).
    EXTENSIONS_GALLERY: options.env?.EXTENSIONS_GALLERY ?? '{"serviceUrl":""}',
  };
  const baseArgs = ['--config', configFile, '--user-data-dir', dirs.userData, '--extensions-dir', dirs.extensions];

  let server;
  let context;
  let disposed = false;
  // The whole process group: extension hosts and pty hosts can outlive code-server's main process.
  const killServer = (signal) => {
    if (server?.pid) {
      try { process.kill(-server.pid, signal); } catch { /* group gone */ }
    }
  };
  // Last resort when the process exits without dispose(): no code-server or scratch folder outlives it.
  const onProcessExit = () => {
    killServer('SIGKILL');
    try { rmSync(scratch, { recursive: true, force: true }); } catch { /* best effort */ }
  };
  process.on('exit', onProcessExit);

  async function dispose() {
    if (disposed) return;
    disposed = true;
    if (context) await withTimeout(context.close().catch(() => {}), 10_000);
    if (server?.pid) {
      killServer('SIGTERM');
      const deadline = Date.now() + 5000;
      while (Date.now() < deadline && groupAlive(server.pid)) await sleep(100);
      // Extension hosts can ignore SIGTERM while busy; the group goes either way.
      killServer('SIGKILL');
    }
    process.off('exit', onProcessExit);
    consoleLog.end();
    rmSync(scratch, { recursive: true, force: true, maxRetries: 3 });
  }

  try {
    for (const vsix of options.vsix ?? []) {
      log(`[vscode-rig] installing ${vsix}`);
      const r = spawnSync(rig.nodeBin, [rig.codeServerEntry, ...baseArgs, '--install-extension', resolve(vsix), '--force'],
        { env, encoding: 'utf8', timeout: 120_000 });
      writeFileSync(serverLog, `${r.stdout ?? ''}${r.stderr ?? ''}`, { flag: 'a' });
      if (r.status !== 0) throw new Error(`code-server --install-extension ${vsix} failed (exit ${r.status}):\n${r.stdout}${r.stderr}`);
    }

    let port = 0;
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      const out = createWriteStream(serverLog, { flags: 'a' });
      server = spawn(rig.nodeBin, [
        rig.codeServerEntry, ...baseArgs,
        '--auth', 'none', '--bind-addr', `127.0.0.1:${port}`,
        '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust',
        '--disable-getting-started-override', '--ignore-last-opened',
        ...(folder ? [folder] : []),
      ], { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
      server.stdout.pipe(out);
      server.stderr.pipe(out);
      const exited = new Promise((r) => server.once('exit', r));
      let healthy = false;
      const deadline = Date.now() + 60_000;
      while (!healthy && Date.now() < deadline && server.exitCode === null && server.signalCode === null) {
        healthy = await fetch(`http://127.0.0.1:${port}/healthz`).then((res) => res.ok, () => false);
        if (!healthy) await Promise.race([sleep(150), exited]);
      }
      if (healthy) break;
      killServer('SIGKILL');
      const why = server.exitCode !== null || server.signalCode !== null ? `exited (${server.exitCode ?? server.signalCode})` : 'not healthy after 60 s';
      if (attempt >= 3 || !/EADDRINUSE/.test(tailOf(serverLog))) throw new Error(`code-server ${why}; log ${serverLog}:\n${tailOf(serverLog)}`);
      log(`[vscode-rig] port ${port} was taken, retrying`);
    }

    const { chromium } = await import('playwright-core');
    context = await chromium.launchPersistentContext(dirs.chromium, {
      executablePath: rig.chromium,
      headless: true,
      args: CHROMIUM_FLAGS,
      env: { ...process.env, ...scratchEnv },
      viewport: options.viewport ?? { width: 1400, height: 900 },
      timeout: 60_000,
    });
    const page = context.pages()[0] ?? await context.newPage();

    let settleExit;
    let consoleChain = Promise.resolve();
    // Resolves once the console lines logged before the exit have been written out.
    const exitCode = new Promise((r) => { settleExit = r; }).then(async (code) => { await consoleChain; return code; });
    await page.exposeFunction('codeAutomationExit', (code) => { settleExit(Number(code) || 0); });
    // Formatting is async; a chain keeps the lines in the order the browser logged them.
    page.on('console', (msg) => {
      consoleChain = consoleChain.then(async () => {
        const text = await consoleText(msg);
        consoleLog.write(`${text}\n`);
        if (options.onConsole) options.onConsole(text, msg.type());
        else log(text);
      });
    });
    page.on('pageerror', (err) => log(`[browser pageerror] ${err.message}`));
    page.on('crash', () => { log('[vscode-rig] browser page crashed'); settleExit(70); });
    server.once('exit', (code, signal) => { if (!disposed) { log(`[vscode-rig] code-server exited early (${code ?? signal}); log ${serverLog}`); settleExit(71); } });

    const authority = `127.0.0.1:${port}`;
    const remote = (p) => `vscode-remote://${authority}${p}`;
    const payload = [];
    for (const p of devPaths) payload.push(['extensionDevelopmentPath', remote(p)]);
    if (testsPath) payload.push(['extensionTestsPath', remote(testsPath)]);
    const query = new URLSearchParams();
    if (folder) query.set(folder.endsWith('.code-workspace') && statSync(folder).isFile() ? 'workspace' : 'folder', folder);
    else query.set('ew', 'true');
    if (payload.length) query.set('payload', JSON.stringify(payload));
    const url = `http://${authority}/?${query}`;
    await page.goto(url, { waitUntil: 'domcontentloaded', timeout: 60_000 });

    return { page, context, port, url, scratch, serverLog, exitCode, dispose };
  } catch (err) {
    await dispose();
    throw err;
  }
}

function groupAlive(pgid) {
  try { process.kill(-pgid, 0); return true; } catch { return false; }
}
