// The VS Code rig's nested npm installs must not inherit the outer npm's view of the world: under `npm test`
// npm_config_user_agent names the outer Node, and code-server's install script refuses on it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { rigNpmEnv } from '../../scripts/vscode-rig/provision.mjs';

const outer: NodeJS.ProcessEnv = {
  ...process.env,
  npm_config_user_agent: 'npm/11.0.0 node/v20.0.0 linux x64 workspaces/false',
  npm_config_node_gyp: '/outer/node-gyp-bin/node-gyp',
  npm_config_local_prefix: '/outer/project',
  npm_lifecycle_event: 'test',
  npm_package_name: 'autoresearch',
  npm_node_execpath: '/outer/node',
  NODE: '/outer/node',
  npm_config_registry: 'https://registry.example.test/',
  'npm_config_@scope:registry': 'https://scope.example.test/',
  npm_config_https_proxy: 'http://proxy.example.test:3128',
  npm_config_cafile: '/etc/ssl/certs/ca-certificates.crt',
};

describe('the VS Code rig: the environment of its npm installs', () => {
  it('drops what the outer npm exported about itself and its Node', () => {
    const env = rigNpmEnv(outer);
    for (const key of ['npm_config_user_agent', 'npm_config_node_gyp', 'npm_config_local_prefix', 'npm_lifecycle_event', 'npm_package_name', 'npm_node_execpath', 'NODE']) {
      assert.equal(env[key], undefined, `${key} reaches the nested install`);
    }
    assert.equal(env.PATH, outer.PATH);
  });

  it('keeps where packages come from, and takes the settings the install asks for', () => {
    const env = rigNpmEnv(outer, { npm_config_nodedir: '/rig/node' });
    assert.equal(env.npm_config_registry, 'https://registry.example.test/');
    assert.equal(env['npm_config_@scope:registry'], 'https://scope.example.test/');
    assert.equal(env.npm_config_https_proxy, 'http://proxy.example.test:3128');
    assert.equal(env.npm_config_cafile, '/etc/ssl/certs/ca-certificates.crt');
    assert.equal(env.npm_config_nodedir, '/rig/node');
  });

  it('a real npm started with it reports its own user agent and the inherited registry', () => {
    const run = (key: string) => spawnSync('npm', ['config', 'get', key], { env: rigNpmEnv(outer), encoding: 'utf8' }).stdout.trim();
    assert.doesNotMatch(run('user-agent'), /node\/v20\.0\.0/);
    assert.equal(run('registry'), 'https://registry.example.test/');
  });
});
