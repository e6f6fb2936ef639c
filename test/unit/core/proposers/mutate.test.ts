// The built-in mutate proposer: what counts as a hyperparameter, the edits it offers, and how it picks one.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { MutateProposer, candidatesFor, formatFloat, parseHyperparameters, type Hyperparameter } from '../../../../src/core/proposers/mutate.js';
import { tempFolder } from '../../helpers/repo.js';
import { fakeConfig, fakeNode, fakeRequest, proposeAll } from '../../helpers/nodes.js';

const TRAIN = `import os
LR = 0.01  # learning rate
WD = 1e-3
WIDTH = 4
DEPTH: int = 8   # layers
USE_BN = True
COMPILE = false
ACT = "relu"  # choices: relu, gelu, tanh
OPT = 'adam'  # choices: 'adam', 'sgd'
NAME = "run"  # a string without choices is not a hyperparameter
BATCH = 2**19
DROPOUT = 0.0
RATIO = 0.8  # range: 0, 1
KERNEL = 3  # choices: 1, 3, 5
SEED = 42
BETAS = (0.9, 0.95)
lower = 3
    INDENTED = 5
"""
DOC = 1
"""
def f():
    return LR * WIDTH
`;

const worktree = (files: Record<string, string>): string => tempFolder(files, 'ar-mutate-');

function byName(params: Hyperparameter[], name: string): Hyperparameter {
  const p = params.find((x) => x.name === name);
  assert.ok(p, `${name} was not parsed`);
  return p;
}

const values = (p: Hyperparameter): string[] => candidatesFor(p).map((c) => c.newText);


describe('parseHyperparameters', () => {
  const params = parseHyperparameters('train.py', TRAIN);

  it('finds top-level numbers, bools, powers and strings with choices, in file order', () => {
    assert.deepEqual(params.map((p) => [p.name, p.kind, p.text]), [
      ['LR', 'float', '0.01'],
      ['WD', 'float', '1e-3'],
      ['WIDTH', 'int', '4'],
      ['DEPTH', 'int', '8'],
      ['USE_BN', 'bool', 'True'],
      ['COMPILE', 'bool', 'false'],
      ['ACT', 'choice', '"relu"'],
      ['OPT', 'choice', "'adam'"],
      ['BATCH', 'power', '2**19'],
      ['DROPOUT', 'float', '0.0'],
      ['RATIO', 'float', '0.8'],
      ['KERNEL', 'choice', '3'],
      ['lower', 'int', '3'],
    ]);
  });

  it('skips strings without choices, tuples, indented names, docstrings and the seed', () => {
    const names = params.map((p) => p.name);
    for (const n of ['NAME', 'BETAS', 'INDENTED', 'DOC', 'SEED']) assert.ok(!names.includes(n), n);
  });

  it('records the value offsets, choices and range', () => {
    const lr = byName(params, 'LR');
    assert.equal(TRAIN.slice(lr.start, lr.end), '0.01');
    assert.deepEqual(byName(params, 'ACT').choices, ['"relu"', '"gelu"', '"tanh"']);
    assert.deepEqual(byName(params, 'OPT').choices, ["'adam'", "'sgd'"]);
    assert.deepEqual(byName(params, 'RATIO').range, [0, 1]);
  });

  it('reads a string\'s `# a | b` comment as its choices when it lists the string\'s own value, as configs document them', () => {
    const yaml = parseHyperparameters('configs/model/mlp.yaml', 'activation: tanh  # tanh | relu\nnorm: batch  # see docs | wiki\noptim: adam  # sgd | adamw\n');
    assert.deepEqual(yaml.map((p) => [p.name, p.choices]), [['activation', ['tanh', 'relu']]]);
    const py = parseHyperparameters('train.py', 'ACT = "relu"  # relu|gelu|silu\nMODE = "fast"  # fast or slow | see README\n');
    assert.deepEqual(py.map((p) => [p.name, p.choices]), [['ACT', ['"relu"', '"gelu"', '"silu"']]]);
  });

  it('counts a name assigned twice at its last assignment', () => {
    const ps = parseHyperparameters('a.py', 'LR = 0.1\nx = LR * 2\nLR = 0.2\n');
    assert.equal(ps.length, 1);
    assert.equal(ps[0]!.text, '0.2');
  });

  it('reads CRLF files', () => {
    const ps = parseHyperparameters('a.py', 'LR = 0.1\r\nW = 2  # c\r\n');
    assert.deepEqual(ps.map((p) => p.text), ['0.1', '2']);
  });
});

describe('candidatesFor', () => {
  const params = parseHyperparameters('train.py', TRAIN);

  it('floats: x2, x0.5, x1.25, x0.8, scientific notation kept', () => {
    assert.deepEqual(values(byName(params, 'LR')), ['0.02', '0.005', '0.0125', '0.008']);
    assert.deepEqual(values(byName(params, 'WD')), ['2e-3', '5e-4', '1.25e-3', '8e-4']);
  });

  it('floats never show binary noise and stay floats', () => {
    for (const v of ['0.1', '0.2', '0.7', '1.1', '0.07', '0.35', '1.0', '3.0']) {
      const cs = values(parseHyperparameters('a.py', `X = ${v}\n`)[0]!);
      assert.equal(cs.length, 4, v);
      for (const c of cs) assert.match(c, /^\d+\.\d{1,6}$/, `${v} -> ${c}`);
    }
    assert.equal(formatFloat(0.1 * 0.8, '0.1'), '0.08');
    assert.equal(formatFloat(2, '1.0'), '2.0');
    assert.equal(formatFloat(2e5, '1E5'), '2E5');
    assert.equal(formatFloat(0.0001 * 1.25, '1e-4'), '1.25e-4');
  });

  it('a zero float gets small non-zero values; a range bounds the edits', () => {
    assert.deepEqual(values(byName(params, 'DROPOUT')), ['0.1', '0.01']);
    assert.deepEqual(values(byName(params, 'RATIO')), ['0.4', '1.0', '0.64']);
  });

  it('ints: x2, /2, +-about a quarter, deduplicated, never the original, never below 1', () => {
    assert.deepEqual(values(byName(params, 'WIDTH')), ['8', '2', '5', '3']);
    assert.deepEqual(values(byName(params, 'DEPTH')), ['16', '4', '10', '6']);
    const one = (v: string): string[] => values(parseHyperparameters('a.py', `N = ${v}\n`)[0]!);
    assert.deepEqual(one('1'), ['2']);
    assert.deepEqual(one('2'), ['4', '1', '3']);
    assert.deepEqual(one('3'), ['6', '2', '4']);
    assert.deepEqual(one('0'), ['1']);
    // -1 is "off" or "no limit" (makemore's top_k): not a size, and left alone; given a range, it is tuned within it.
    assert.deepEqual(parseHyperparameters('a.py', 'N = -1\n'), []);
    assert.deepEqual(one('-1  # range: -4, -1'), ['-2']);
    for (let v = 1; v <= 300; v++) {
      const cs = one(String(v)).map(Number);
      assert.ok(cs.every((c) => Number.isInteger(c) && c >= 1 && c !== v), `${v}: ${cs.join(',')}`);
      assert.equal(new Set(cs).size, cs.length);
    }
  });

  it('bools flip, keeping their spelling; choices offer every other choice, quoted alike', () => {
    assert.deepEqual(values(byName(params, 'USE_BN')), ['False']);
    assert.deepEqual(values(byName(params, 'COMPILE')), ['true']);
    assert.deepEqual(values(byName(params, 'ACT')), ['"gelu"', '"tanh"']);
    assert.deepEqual(values(byName(params, 'OPT')), ["'sgd'"]);
    assert.deepEqual(values(byName(params, 'KERNEL')), ['1', '5']);
  });

  it('powers move the exponent', () => {
    assert.deepEqual(values(byName(params, 'BATCH')), ['2**20', '2**18']);
  });

  it('editKeys are file:NAME=value', () => {
    assert.equal(candidatesFor(byName(params, 'LR'))[0]!.editKey, 'train.py:LR=0.02');
  });
});

describe('MutateProposer', () => {
  it('offers draft and improve, not debug', async () => {
    const p = new MutateProposer({ seed: 1 });
    assert.equal(p.kind, 'mutate');
    assert.deepEqual([...p.operators].sort(), ['draft', 'improve']);
    assert.equal(await p.propose(fakeRequest(worktree({ 'train.py': TRAIN }), { operator: 'debug' })), null);
  });

  it('changes only the value text of one line, byte for byte', async () => {
    const crlf = TRAIN.replace(/\n/g, '\r\n');
    for (const content of [TRAIN, crlf]) {
      const wt = worktree({ 'train.py': content, 'prepare.py': 'LR = 5\n' });
      for (let seed = 0; seed < 10; seed++) {
        const prop = await new MutateProposer({ seed }).propose(fakeRequest(wt));
        assert.ok(prop);
        assert.deepEqual(Object.keys(prop.files ?? {}), ['train.py']);
        const next = prop.files!['train.py']!;
        const eol = content.includes('\r\n') ? '\r\n' : '\n';
        const a = content.split(eol);
        const b = next.split(eol);
        assert.equal(a.length, b.length);
        const diff = a.map((l, i) => (l === b[i] ? -1 : i)).filter((i) => i >= 0);
        assert.equal(diff.length, 1, prop.description);
        const [name, from, , to] = prop.description.split(' ');
        assert.equal(a[diff[0]!]!.replace(from!, to!), b[diff[0]!]);
        assert.ok(a[diff[0]!]!.startsWith(`${name}`));
        assert.equal(prop.editKey, `train.py:${name}=${to}`);
        assert.deepEqual(prop.proposer, { kind: 'mutate' });
        assert.match(prop.plan, new RegExp(`${name}.*\\.$`));
      }
      assert.equal(readFileSync(join(wt, 'train.py'), 'utf8'), content, 'the worktree is only read');
    }
  });

  it('is deterministic: same seed and request, same edit; different seeds differ', async () => {
    const wt = worktree({ 'train.py': TRAIN });
    const keys = new Set<string>();
    for (let seed = 0; seed < 20; seed++) {
      const a = await new MutateProposer({ seed }).propose(fakeRequest(wt));
      const b = await new MutateProposer({ seed }).propose(fakeRequest(wt));
      assert.deepEqual(a, b);
      keys.add(a!.editKey);
    }
    assert.ok(keys.size > 3, `only ${[...keys].join(', ')}`);
  });

  it('never repeats a tried editKey and exhausts to null', async () => {
    const wt = worktree({ 'train.py': TRAIN });
    const total = parseHyperparameters('train.py', TRAIN).reduce((n, p) => n + candidatesFor(p).length, 0);
    const all = await proposeAll(new MutateProposer({ seed: 7 }), fakeRequest(wt));
    assert.equal(all.length, total);
    assert.equal(new Set(all.map((p) => p.editKey)).size, total);
    const tried = new Set(all.slice(0, -1).map((p) => p.editKey));
    const last = await new MutateProposer({ seed: 7 }).propose(fakeRequest(wt, { triedFromParent: tried }));
    assert.equal(last?.editKey, all.at(-1)!.editKey);
  });

  it('returns null when no editable file has a hyperparameter', async () => {
    const wt = worktree({ 'train.py': 'print(1)\n', 'prepare.py': 'LR = 0.1\n' });
    assert.equal(await new MutateProposer({ seed: 1 }).propose(fakeRequest(wt)), null);
  });

  it('drafts prefer a parameter no sibling has changed yet', async () => {
    const wt = worktree({ 'train.py': 'LR = 0.01\nWIDTH = 4\nUSE_BN = True\n' });
    const parent = fakeNode();
    const child = (id: number, editKey: string) => fakeNode({ id, parentId: 0, operator: 'draft', editKey, description: editKey });
    const history = [parent, child(1, 'train.py:LR=0.02'), child(2, 'train.py:WIDTH=8')];
    for (let seed = 0; seed < 20; seed++) {
      const p = await new MutateProposer({ seed }).propose(fakeRequest(wt, { operator: 'draft', history, triedFromParent: new Set(['train.py:LR=0.02', 'train.py:WIDTH=8']) }));
      assert.equal(p?.editKey, 'train.py:USE_BN=False');
    }
    // Once every parameter has a sibling, any untried edit will do.
    const all = [...history, child(3, 'train.py:USE_BN=False')];
    const tried = new Set(all.slice(1).map((n) => n.editKey));
    const p = await new MutateProposer({ seed: 1 }).propose(fakeRequest(wt, { operator: 'draft', history: all, triedFromParent: tried }));
    assert.ok(p && !tried.has(p.editKey));
  });

  it('drafts change a setting no kept experiment of the tree has changed, so a new line can be merged later', async () => {
    const wt = worktree({ 'train.py': 'LR = 0.01\nWIDTH = 4\nUSE_BN = True\n' });
    const n1 = fakeNode({ id: 1, parentId: 0, operator: 'improve', editKey: 'train.py:WIDTH=8', description: 'WIDTH 4 → 8' });
    const n2 = fakeNode({ id: 2, parentId: 1, operator: 'improve', editKey: 'train.py:LR=0.02', description: 'LR 0.01 → 0.02' });
    const tried = new Set(['train.py:WIDTH=8']);
    for (let seed = 0; seed < 20; seed++) {
      const p = await new MutateProposer({ seed }).propose(fakeRequest(wt, { operator: 'draft', history: [fakeNode(), n1, n2], triedFromParent: tried }));
      assert.equal(p?.editKey, 'train.py:USE_BN=False', `seed ${seed}`);
    }
    // A change that was tried and discarded leaves its setting open.
    const discarded = { ...n2, status: 'discard' as const, metric: 1.1 };
    const picks = new Set<string>();
    for (let seed = 0; seed < 20; seed++) {
      const p = await new MutateProposer({ seed }).propose(fakeRequest(wt, { operator: 'draft', history: [fakeNode(), n1, discarded], triedFromParent: tried }));
      picks.add(p!.description.split(' ')[0]!);
    }
    assert.deepEqual([...picks].sort(), ['LR', 'USE_BN']);
  });

  it('the first try from a kept change of a number repeats its step, in the direction that paid', async () => {
    const wt = worktree({ 'train.py': 'LR = 0.025\nWIDTH = 100\nUSE_BN = True\n' });
    const lr = fakeNode({ id: 1, parentId: 0, operator: 'improve', editKey: 'train.py:LR=0.025', description: 'LR 0.05 → 0.025' });
    const width = fakeNode({ id: 2, parentId: 0, operator: 'improve', editKey: 'train.py:WIDTH=100', description: 'WIDTH 80 → 100' });
    for (let seed = 0; seed < 10; seed++) {
      const a = await new MutateProposer({ seed }).propose(fakeRequest(wt, { parent: lr, history: [fakeNode(), lr] }));
      assert.equal(a?.description, 'LR 0.025 → 0.0125', `seed ${seed}`);
      assert.match(a!.plan, /^Halve LR/);
      // An int's step of a quarter rounds: 80 → 100, then 100 → 125.
      const b = await new MutateProposer({ seed }).propose(fakeRequest(wt, { parent: width, history: [fakeNode(), width] }));
      assert.equal(b?.description, 'WIDTH 100 → 125', `seed ${seed}`);
    }
    // Once tried from there, or when the change was not kept, the pick is the usual one.
    const picks = new Set<string>();
    for (let seed = 0; seed < 20; seed++) {
      const tried = await new MutateProposer({ seed }).propose(fakeRequest(wt, { parent: lr, history: [fakeNode(), lr], triedFromParent: new Set(['train.py:LR=0.0125']) }));
      assert.notEqual(tried?.editKey, 'train.py:LR=0.0125');
      const lost = { ...lr, status: 'discard' as const };
      picks.add((await new MutateProposer({ seed }).propose(fakeRequest(wt, { parent: lost, history: [fakeNode(), lost] })))!.description);
    }
    // USE_BN flipped, WIDTH doubled or halved, LR halved again (0.05 is the line's own): steps of a quarter come later.
    assert.ok(picks.size >= 3, [...picks].join(', '));
    // A hint goes first.
    const hinted = await new MutateProposer({ seed: 1 }).propose(fakeRequest(wt, { parent: lr, history: [fakeNode(), lr], hint: { id: 1, text: 'try another width', addedAt: '2025-01-01T00:00:00.000Z', takenBy: null } }));
    assert.match(hinted!.description, /^WIDTH /);
  });

  it('steps coarse to fine: a number is doubled and halved from a node before it is moved by a quarter', async () => {
    const wt = worktree({ 'train.py': 'LR = 0.04\nWIDTH = 100\n' });
    for (let seed = 0; seed < 10; seed++) {
      const all = (await proposeAll(new MutateProposer({ seed }), fakeRequest(wt))).map((p) => p.editKey);
      const order = (name: string) => all.filter((k) => k.startsWith(`train.py:${name}=`));
      assert.deepEqual(order('LR').slice(2).sort(), ['train.py:LR=0.032', 'train.py:LR=0.05'], `seed ${seed}: ${all.join(', ')}`);
      assert.deepEqual(order('WIDTH').slice(2).sort(), ['train.py:WIDTH=125', 'train.py:WIDTH=75'], `seed ${seed}: ${all.join(', ')}`);
    }
    // A step back to a value the line had is no step: the quarter steps come once the one coarse step left is tried.
    const up = fakeNode({ id: 1, parentId: 0, operator: 'improve', status: 'discard', editKey: 'train.py:WIDTH=100', description: 'WIDTH 50 → 100' });
    const next = await new MutateProposer({ seed: 3 }).propose(fakeRequest(wt, { parent: up, history: [fakeNode(), up], hint: { id: 1, text: 'width', addedAt: '2025-01-01T00:00:00.000Z', takenBy: null }, triedFromParent: new Set() }));
    assert.equal(next?.editKey, 'train.py:WIDTH=200');
    const after = await new MutateProposer({ seed: 3 }).propose(fakeRequest(wt, { parent: up, history: [fakeNode(), up], hint: { id: 1, text: 'width', addedAt: '2025-01-01T00:00:00.000Z', takenBy: null }, triedFromParent: new Set(['train.py:WIDTH=200']) }));
    assert.match(after!.editKey, /^train\.py:WIDTH=(125|75)$/);
  });

  it('leaves for last a setting whose change measured exactly its parent\'s value: the run does not read it', async () => {
    // karpathy/makemore: n_embd2 is read by the MLP and RNN models only; with the transformer, 4 of 6 tries went to it.
    const wt = worktree({ 'train.py': 'N_EMBD2 = 64\nBATCH_SIZE = 32\nLEARNING_RATE = 5e-4\n' });
    const tie = fakeNode({ id: 1, parentId: 0, operator: 'improve', editKey: 'train.py:N_EMBD2=128', description: 'N_EMBD2 64 → 128', status: 'discard', metric: 1 });
    const tried = new Set(['train.py:N_EMBD2=128']);
    for (let seed = 0; seed < 20; seed++) {
      for (const operator of ['improve', 'draft'] as const) {
        const p = await new MutateProposer({ seed }).propose(fakeRequest(wt, { operator, history: [fakeNode(), tie], triedFromParent: tried }));
        assert.doesNotMatch(p!.description, /^N_EMBD2 /, `seed ${seed}, ${operator}`);
      }
    }
    // A change that moved the metric, however little, says nothing of the kind; and with nothing else left, it is tried.
    const moved = { ...tie, metric: 1.0001 };
    const picks = new Set<string>();
    for (let seed = 0; seed < 20; seed++) picks.add((await new MutateProposer({ seed }).propose(fakeRequest(wt, { history: [fakeNode(), moved], triedFromParent: tried })))!.description.split(' ')[0]!);
    assert.ok(picks.has('N_EMBD2'), [...picks].join(', '));
    // Only along the line: a tie in another branch (a basin where the setting is masked) says nothing about this one.
    const other = fakeNode({ id: 2, parentId: 0, operator: 'improve', editKey: 'train.py:LEARNING_RATE=1e-3', description: 'LEARNING_RATE 5e-4 → 1e-3', metric: 0.9 });
    const masked = { ...tie, id: 3, parentId: 2, metric: 0.9 };
    const fromRoot = new Set<string>();
    for (let seed = 0; seed < 20; seed++) fromRoot.add((await new MutateProposer({ seed }).propose(fakeRequest(wt, { history: [fakeNode(), other, masked], triedFromParent: tried })))!.description.split(' ')[0]!);
    assert.ok(fromRoot.has('N_EMBD2'), [...fromRoot].join(', '));
    const only = worktree({ 'train.py': 'N_EMBD2 = 64\n' });
    const last = await new MutateProposer({ seed: 1 }).propose(fakeRequest(only, { history: [fakeNode(), tie], triedFromParent: tried }));
    assert.match(last!.description, /^N_EMBD2 64 → /);
  });

  it('prefers a parameter the hint names, case-insensitively; ignores a hint that names none', async () => {
    const wt = worktree({ 'train.py': 'LR = 0.01\nMATRIX_LR = 0.04\nWIDTH = 4\nUSE_BN = True\n' });
    const hint = (text: string) => ({ id: 1, text, addedAt: '2025-01-01T00:00:00.000Z', takenBy: null });
    for (let seed = 0; seed < 15; seed++) {
      const w = await new MutateProposer({ seed }).propose(fakeRequest(wt, { hint: hint('try a wider width') }));
      assert.match(w!.description, /^WIDTH /);
      assert.match(w!.plan, /hint/);
      const m = await new MutateProposer({ seed }).propose(fakeRequest(wt, { hint: hint('lower the matrix lr') }));
      assert.match(m!.description, /^MATRIX_LR /);
      const none = await new MutateProposer({ seed }).propose(fakeRequest(wt, { hint: hint('use a cosine schedule') }));
      const plain = await new MutateProposer({ seed }).propose(fakeRequest(wt));
      assert.equal(none!.editKey, plain!.editKey);
    }
  });

  it('never undoes a change its own line made: no value the setting already had along the branch', async () => {
    // The worktree is at #3: ACT went "sigmoid" -> "tanh" (#1), then LR 0.01 -> 0.02 (#2) -> 0.04 (#3, written with →).
    const wt = worktree({ 'train.py': 'LR = 0.04\nACT = "tanh"  # choices: relu, sigmoid, tanh\n' });
    const base = fakeNode();
    const n1 = fakeNode({ id: 1, parentId: 0, operator: 'draft', editKey: 'train.py:ACT="tanh"', description: 'ACT "sigmoid" -> "tanh"' });
    const n2 = fakeNode({ id: 2, parentId: 1, operator: 'improve', editKey: 'train.py:LR=0.02', description: 'LR 0.01 -> 0.02' });
    const n3 = fakeNode({ id: 3, parentId: 2, operator: 'improve', editKey: 'train.py:LR=0.04', description: 'LR 0.02 → 0.04' });
    // Another branch set LR to 0.08: that is not this line, so 0.08 stays open.
    const other = fakeNode({ id: 4, parentId: 0, operator: 'draft', editKey: 'train.py:LR=0.08', description: 'LR 0.01 -> 0.08' });
    const history = [base, n1, n2, n3, other];
    const all = await proposeAll(new MutateProposer({ seed: 3 }), fakeRequest(wt, { parent: n3, history }));
    assert.deepEqual(all.map((p) => p.description).sort(), ['ACT "tanh" → "relu"', 'LR 0.04 → 0.032', 'LR 0.04 → 0.05', 'LR 0.04 → 0.08']);
    // From the baseline nothing was changed yet: every value is open.
    const fromBase = await proposeAll(new MutateProposer({ seed: 3 }), fakeRequest(wt, { history }));
    assert.ok(fromBase.some((p) => p.description === 'ACT "tanh" → "sigmoid"'));
  });

  it('reads only editable files and names the file when several have hyperparameters', async () => {
    const wt = worktree({ 'train.py': 'LR = 0.01\n', 'src/model.py': 'WIDTH = 4\n', 'src/notes.txt': 'X = 1\n', 'prepare.py': 'SPLIT = 0.9\n' });
    const req = fakeRequest(wt, { config: fakeConfig({ editable: ['train.py', 'src/**/*.py'] }) });
    const all = await proposeAll(new MutateProposer({ seed: 3 }), req);
    assert.deepEqual(all.map((p) => p.description).sort(), [
      'src/model.py: WIDTH 4 → 2', 'src/model.py: WIDTH 4 → 3', 'src/model.py: WIDTH 4 → 5', 'src/model.py: WIDTH 4 → 8',
      'train.py: LR 0.01 → 0.005', 'train.py: LR 0.01 → 0.008', 'train.py: LR 0.01 → 0.0125', 'train.py: LR 0.01 → 0.02',
    ]);
    assert.ok(all.some((p) => p.editKey === 'src/model.py:WIDTH=8'));
    const single = await new MutateProposer({ seed: 3 }).propose(fakeRequest(wt));
    assert.match(single!.description, /^LR 0\.01 → /);
  });
});
