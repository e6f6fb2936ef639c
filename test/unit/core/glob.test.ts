// The config's globs: anchored at the root, `**` across folders, `*` / `?` within a name, `{a,b}`.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { globToRegExp, listFiles, matchesAny } from '../../../src/core/glob.js';

const m = (glob: string, path: string): boolean => matchesAny(path, [glob]);

describe('globToRegExp / matchesAny', () => {
  it('a pattern without a slash matches at the root only', () => {
    assert.ok(m('train.py', 'train.py'));
    assert.ok(!m('train.py', 'sub/train.py'));
    assert.ok(!m('train.py', 'train.pyc'));
    assert.ok(m('*.py', 'prepare.py'));
    assert.ok(!m('*.py', 'src/prepare.py'));
  });

  it('`**/` matches any depth, the root included', () => {
    for (const p of ['a.py', 'src/a.py', 'src/deep/er/a.py']) assert.ok(m('**/*.py', p), p);
    assert.ok(!m('**/*.py', 'src/a.pyx'));
    assert.ok(m('src/**/model.py', 'src/model.py'));
    assert.ok(m('src/**/model.py', 'src/x/y/model.py'));
    assert.ok(!m('src/**/model.py', 'lib/model.py'));
  });

  it('`dir/**` and `dir/` match everything under dir, and nothing else', () => {
    assert.ok(m('src/**', 'src/a.py'));
    assert.ok(m('src/**', 'src/x/y/z.txt'));
    assert.ok(!m('src/**', 'src'));
    assert.ok(!m('src/**', 'srcs/a.py'));
    assert.ok(!m('src/**', 'lib/src/a.py'));
    assert.ok(m('src/', 'src/a/b.py'));
    assert.ok(m('**', 'any/thing/at/all'));
  });

  it('`*` and `?` never cross a slash', () => {
    assert.ok(m('src/*.py', 'src/a.py'));
    assert.ok(!m('src/*.py', 'src/x/a.py'));
    assert.ok(m('run?.sh', 'run1.sh'));
    assert.ok(!m('run?.sh', 'run10.sh'));
    assert.ok(!m('a?b', 'a/b'));
    assert.ok(m('**/a*', 'x/abc'));
  });

  it('`{a,b}` alternatives, nested and with globs inside', () => {
    assert.ok(m('{train,model}.py', 'train.py'));
    assert.ok(m('{train,model}.py', 'model.py'));
    assert.ok(!m('{train,model}.py', 'prepare.py'));
    assert.ok(m('**/*.{py,yaml}', 'cfg/x.yaml'));
    assert.ok(m('{src/**,lib/*.py}', 'lib/a.py'));
    assert.ok(m('{a,b{c,d}}.txt', 'bd.txt'));
  });

  it('escapes regex characters, and accepts ./ and a leading slash', () => {
    assert.ok(m('a.b+c(1).py', 'a.b+c(1).py'));
    assert.ok(!m('a.py', 'aXpy'));
    assert.ok(m('./train.py', 'train.py'));
    assert.ok(m('/train.py', 'train.py'));
    assert.ok(m('train.py', './train.py'));
  });

  it('character classes', () => {
    assert.ok(m('v[0-9].py', 'v3.py'));
    assert.ok(!m('v[!0-9].py', 'v3.py'));
    assert.ok(m('v[!0-9].py', 'vx.py'));
  });

  it('is an anchored RegExp', () => {
    const re = globToRegExp('src/*.py');
    assert.equal(re.source.startsWith('^'), true);
    assert.equal(re.source.endsWith('$'), true);
  });

  it('matchesAny is true when any glob matches', () => {
    assert.ok(matchesAny('prepare.py', ['train.py', 'prepare.py']));
    assert.ok(!matchesAny('x.py', []));
  });
});

describe('listFiles', () => {
  it('walks the tree in sorted POSIX paths, skipping .git, node_modules, __pycache__ and .autoresearch', () => {
    const root = mkdtempSync(join(tmpdir(), 'ar-glob-'));
    try {
      const files = ['train.py', 'src/a.py', 'src/deep/b.py', '.git/HEAD', 'node_modules/x/index.js', 'src/__pycache__/a.pyc', '.autoresearch/state.json', '.hidden'];
      for (const f of files) {
        mkdirSync(join(root, f, '..'), { recursive: true });
        writeFileSync(join(root, f), 'x');
      }
      assert.deepEqual(listFiles(root), ['.hidden', 'src/a.py', 'src/deep/b.py', 'train.py']);
      assert.deepEqual(listFiles(root).filter((f) => matchesAny(f, ['**/*.py'])), ['src/a.py', 'src/deep/b.py', 'train.py']);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('a worktree whose .git is a file is walked too', () => {
    const root = mkdtempSync(join(tmpdir(), 'ar-glob-'));
    try {
      writeFileSync(join(root, '.git'), 'gitdir: /elsewhere\n');
      writeFileSync(join(root, 'train.py'), 'x');
      assert.deepEqual(listFiles(root), ['train.py']);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
