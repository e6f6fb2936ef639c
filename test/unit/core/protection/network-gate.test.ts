// `sandbox.network: [hosts]`: a run in bubblewrap with a network namespace of its own reaches the listed hosts through
// the engine's proxy and nothing else. Real processes: a server on the host's loopback (127.0.0.2, which is not the
// sandbox's), Python inside the sandbox, bubblewrap, and a whole session through the controller.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { ConfigError, parseConfig, validHostEntry } from '../../../../src/core/config.js';
import { hostAllowed, NetworkGate } from '../../../../src/core/protection/networkGate.js';
import { describeProtection, probeSandbox, sandboxArgs } from '../../../../src/core/protection/sandbox.js';
import { faultRepo, fileText, inProcess, ScriptedProposer, trainPy, withKeys } from '../../helpers/faults.js';
import { tempFolder } from '../../helpers/repo.js';

describe('which hosts a list lets through', () => {
  it('matches a host exactly, and a `*.` entry only its subdomains', () => {
    const list = ['huggingface.co', '*.hf.co', '10.0.0.7'];
    assert.ok(hostAllowed('huggingface.co', list));
    assert.ok(hostAllowed('HuggingFace.co.', list));
    assert.ok(!hostAllowed('cdn.huggingface.co', list));
    assert.ok(!hostAllowed('huggingface.co.evil.com', list));
    assert.ok(hostAllowed('cdn-lfs.hf.co', list));
    assert.ok(!hostAllowed('hf.co', list));
    assert.ok(!hostAllowed('nothf.co', list));
    assert.ok(hostAllowed('10.0.0.7', list));
    assert.ok(!hostAllowed('10.0.0.70', list));
  });

  it('accepts host names, `*.` wildcards and IPv4 addresses, and nothing that is not a host', () => {
    for (const ok of ['huggingface.co', '*.hf.co', 'pypi.org', '127.0.0.2', 'my-mirror']) assert.ok(validHostEntry(ok), ok);
    for (const bad of ['https://huggingface.co', 'huggingface.co/models', '*', '*.', 'a b', '', 'hf.co:443']) assert.ok(!validHostEntry(bad), bad);
  });
});

describe('sandbox.network in the config', () => {
  const base = `tag: t1\nrun: python3 train.py\nbudget: 1m\neditable: [train.py]\nmetric: {name: loss, pattern: 'loss: ([0-9.]+)', direction: minimize}\n`;

  it('takes true, false, or a list of hosts, and says so in the protection line', () => {
    const cfg = parseConfig(`${base}sandbox: {network: [huggingface.co, '*.hf.co']}\n`);
    assert.deepEqual(cfg.sandbox?.network, ['huggingface.co', '*.hf.co']);
    assert.match(describeProtection(true, cfg.sandbox!), /network only to huggingface\.co, \*\.hf\.co \(through the engine's proxy; other hosts are refused\)/);
    assert.equal(parseConfig(`${base}sandbox: {network: false}\n`).sandbox?.network, false);
  });

  it('refuses a URL or an empty list with what it takes', () => {
    for (const bad of ['[https://huggingface.co]', '[]', 'yes please']) {
      assert.throws(() => parseConfig(`${base}sandbox: {network: ${bad}}\n`), (e: unknown) => {
        assert.ok(e instanceof ConfigError);
        assert.match(e.message, /sandbox\.network.*true, false, or a list of hosts the runs may reach/s);
        return true;
      });
    }
  });
});

const here = probeSandbox();

describe('a run limited to listed hosts', { skip: here.ok ? false : `no sandbox here: ${here.ok ? '' : here.reason}` }, () => {
  let server: Server;
  let port = 0;
  before(async () => {
    server = createServer((_req, res) => res.end('weights from the host\n'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.2', () => resolve()));
    port = (server.address() as { port: number }).port;
  });
  after(() => server.close());

  it('reaches a listed host through the proxy (plain HTTP and a CONNECT tunnel), is refused any other, and cannot go around the proxy', async () => {
    const dir = tempFolder({}, 'ar-net-');
    const gate = await NetworkGate.open(['127.0.0.2']);
    const py = [
      'import urllib.request, http.client, socket',
      `print('get', urllib.request.urlopen('http://127.0.0.2:${port}/').read().decode().strip())`,
      `c = http.client.HTTPConnection('127.0.0.1', 3128); c.set_tunnel('127.0.0.2', ${port}); c.request('GET', '/'); print('tunnel', c.getresponse().read().decode().strip())`,
      'try:',
      `    urllib.request.urlopen('http://127.0.0.3:${port}/'); print('other reached')`,
      'except Exception as e: print("other", e)',
      'try:',
      `    socket.create_connection(('127.0.0.2', ${port}), timeout=2); print('direct reached')`,
      'except Exception as e: print("direct", e)',
    ].join('\n');
    const argv = [
      ...sandboxArgs({ root: dir, gitCommonDir: `${dir}/.git`, worktree: dir, protectedFiles: [], config: { mode: 'on', network: ['127.0.0.2'], writable: [] } }),
      ...gate.sandboxArgs(), ...gate.launcher(), 'python3', '-c', py,
    ];
    try {
      const out = await new Promise<string>((resolve, reject) => {
        const p = spawn(here.ok ? here.bwrap : 'bwrap', argv, { stdio: ['ignore', 'pipe', 'pipe'] });
        let text = '';
        p.stdout.on('data', (d: Buffer) => { text += d.toString(); });
        p.stderr.on('data', (d: Buffer) => { text += d.toString(); });
        p.on('error', reject);
        p.on('close', (code) => (code === 0 ? resolve(text) : reject(new Error(`exit ${code}: ${text}`))));
      });
      assert.match(out, /^get weights from the host$/m);
      assert.match(out, /^tunnel weights from the host$/m);
      assert.match(out, /^other HTTP Error 403: Forbidden$/m);
      assert.match(out, /^direct \[Errno 111\] Connection refused$/m);
      assert.deepEqual([...gate.refused], ['127.0.0.3']);
    } finally {
      gate.close();
    }
    assert.ok(!existsSync(gate.socketPath), 'the proxy\'s folder is removed when it closes');
  });

  it('in a session: the run downloads from the listed host, and a refused host is named in the session\'s warnings', async () => {
    const fetch = (host: string) => `import urllib.request\ntry:\n    print(urllib.request.urlopen('http://${host}:${port}/').read().decode().strip())\nexcept Exception as e:\n    print('download failed:', e)\n`;
    const repo = faultRepo(withKeys({ maxExperiments: '1', policy: 'greedy', sandbox: "{mode: on, network: ['127.0.0.2']}" }), { 'train.py': trainPy(0.1, fetch('127.0.0.2')) });
    const s = inProcess(repo, new ScriptedProposer([trainPy(0.05, fetch('127.0.0.4'))]));
    const outcome = await s.run();
    assert.equal(outcome.state, 'done', outcome.reason);
    const log = (id: number) => fileText(`${repo.root}/.autoresearch/t1/logs/${id}.log`);
    assert.match(log(0), /^weights from the host$/m);
    assert.match(log(1), /download failed: HTTP Error 403: Forbidden/);
    assert.ok(s.warnings().some((w) => /#1: the sandbox refused network access to 127\.0\.0\.4, not in sandbox\.network/.test(w)), s.warnings().join('\n'));
    assert.ok(!s.warnings().some((w) => /#0: the sandbox refused/.test(w)), 'the baseline reached only its listed host');
  });
});
