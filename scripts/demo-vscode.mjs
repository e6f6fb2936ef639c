// `npm run demo:vscode`: a fresh git copy of examples/quickstart opened in VS Code with this extension
// loaded. With a desktop `code` on PATH, that one (as a development extension); otherwise the test rig's
// code-server (VS Code 1.117 in the browser) on a localhost URL printed here. Then run
// "AutoResearch: Start AutoResearch" from the command palette (F1).
//   npm run demo:vscode [-- --port 8080] [-- --vsix out/vsix/autoresearch.vsix]
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { provision, repoRoot } from './vscode-rig/provision.mjs';
import { DEFAULT_SETTINGS } from './vscode-rig/session.mjs';
import { makeQuickstartWorkspace } from '../test/fixtures/quickstart.mjs';

const args = process.argv.slice(2);
const option = (name) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const port = Number(option('--port') ?? process.env.PORT ?? 8080);
const vsix = option('--vsix');

if (!existsSync(join(repoRoot, 'dist', 'extension.js'))) {
  console.error('dist/extension.js is missing: run `npm run build` first (npm run demo:vscode does).');
  process.exit(1);
}
const workspace = makeQuickstartWorkspace();
console.log(`AutoResearch demo workspace: ${workspace} (a git copy of examples/quickstart)`);

const desktop = spawnSync('sh', ['-c', 'command -v code'], { encoding: 'utf8' }).stdout.trim();
if (desktop && !process.env.AUTORESEARCH_DEMO_RIG) {
  spawnSync(desktop, vsix ? ['--install-extension', resolve(vsix)] : [], { stdio: 'inherit' });
  spawnSync(desktop, [...(vsix ? [] : [`--extensionDevelopmentPath=${repoRoot}`]), '--new-window', workspace], { stdio: 'inherit' });
  console.log('Opened in VS Code. Run "AutoResearch: Start AutoResearch" from the command palette.');
  process.exit(0);
}

const rig = await provision({ browser: false, log: (line) => console.log(`[vscode-rig] ${line}`) });
if (rig.status !== 'ready') {
  console.error(`No desktop \`code\` on PATH, and the code-server rig is ${rig.status}: ${rig.reason}`);
  process.exit(1);
}

// Everything code-server writes goes to a scratch folder, removed on exit.
const scratch = mkdtempSync(join(tmpdir(), 'autoresearch-demo-vscode-'));
const dirs = { userData: join(scratch, 'user-data'), extensions: join(scratch, 'extensions') };
for (const d of [dirs.extensions, join(dirs.userData, 'User')]) mkdirSync(d, { recursive: true });
writeFileSync(join(dirs.userData, 'User', 'settings.json'), JSON.stringify(DEFAULT_SETTINGS, null, 2));
const env = { ...process.env, EXTENSIONS_GALLERY: '{"serviceUrl":""}' };
delete env.NODE_OPTIONS;
const base = [rig.codeServerEntry, '--user-data-dir', dirs.userData, '--extensions-dir', dirs.extensions];
if (vsix) {
  const r = spawnSync(rig.nodeBin, [...base, '--install-extension', resolve(vsix), '--force'], { env, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
const server = spawn(rig.nodeBin, [
  ...base, '--auth', 'none', '--bind-addr', `127.0.0.1:${port}`, '--disable-telemetry', '--disable-update-check',
  '--disable-workspace-trust', '--disable-getting-started-override', '--ignore-last-opened', workspace,
], { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
const cleanup = () => {
  try { process.kill(-server.pid, 'SIGTERM'); } catch { /* gone */ }
  rmSync(scratch, { recursive: true, force: true });
};
process.on('SIGINT', () => { cleanup(); process.exit(0); });
process.on('SIGTERM', () => { cleanup(); process.exit(0); });
server.on('exit', (code) => { rmSync(scratch, { recursive: true, force: true }); process.exit(code ?? 0); });
server.stderr.on('data', (d) => { if (/EADDRINUSE/.test(String(d))) console.error(`Port ${port} is taken: use --port N.`); });

for (let i = 0; i < 100; i++) {
  if (await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false)) break;
  await new Promise((r) => setTimeout(r, 200));
}
const query = new URLSearchParams({ folder: workspace });
if (!vsix) query.set('payload', JSON.stringify([['extensionDevelopmentPath', `vscode-remote://127.0.0.1:${port}${repoRoot}`]]));
console.log(`
VS Code ${rig.vscodeVersion} (code-server) with AutoResearch ${vsix ? `installed from ${vsix}` : 'loaded from this checkout'}:

  http://127.0.0.1:${port}/?${query}

Open it in a browser (forward the port if this machine is remote), press F1 and run
"AutoResearch: Start AutoResearch". Ctrl-C stops the server.`);
