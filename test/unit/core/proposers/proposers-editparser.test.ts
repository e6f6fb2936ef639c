// The reply parser: SEARCH/REPLACE blocks (exact, then whitespace-tolerant), one whole-file block, and
// a clear error for the model on every malformed reply (golden).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyEdits, EditError, editKeyFor, parseReply } from '../../../../src/core/proposers/editParser.js';
import type { EditableFile } from '../../../../src/core/proposers/prompt.js';
import { assertGolden } from '../../fixtures/proposers/golden.js';

const TRAIN = `import torch

LR = 0.1
WIDTH = 4

def train():
    for step in range(10):
        loss = step * LR
        if step % 2 == 0:
            print("step", step)
    print(f"val_loss: {loss:.4f}")
`;
const FILES: EditableFile[] = [{ path: 'train.py', content: TRAIN }];
const SCOPE = { editable: ['train.py', 'models/*.py'], readonly: ['prepare.py'] };

function run(reply: string, files = FILES): Record<string, string> {
  const parsed = parseReply(reply, { paths: files.map((f) => f.path) });
  return applyEdits(files, parsed.edits, SCOPE);
}

function errorOf(reply: string, files = FILES, truncated = false): string {
  try {
    const parsed = parseReply(reply, { paths: files.map((f) => f.path), truncated });
    applyEdits(files, parsed.edits, SCOPE);
  } catch (e) {
    assert.ok(e instanceof EditError, `expected an EditError, got ${String(e)}`);
    return e.message;
  }
  assert.fail('expected the reply to be refused');
}

describe('parseReply and applyEdits: SEARCH/REPLACE', () => {
  it('reads the PLAN line, the reasoning and a block after the file path, fenced or not', () => {
    const reply = 'PLAN: Double the learning rate\nThe loss is still falling at the end, so the step is too small.\n\ntrain.py\n```python\n<<<<<<< SEARCH\nLR = 0.1\n=======\nLR = 0.2\n>>>>>>> REPLACE\n```\n';
    const parsed = parseReply(reply, { paths: ['train.py'] });
    assert.equal(parsed.description, 'Double the learning rate');
    assert.equal(parsed.plan, 'The loss is still falling at the end, so the step is too small.');
    assert.deepEqual(parsed.edits, [{ kind: 'replace', path: 'train.py', search: 'LR = 0.1', replace: 'LR = 0.2', block: 1 }]);
    assert.equal(run(reply)['train.py'], TRAIN.replace('LR = 0.1', 'LR = 0.2'));
  });

  it('applies several blocks in order, the file named once for all of them', () => {
    const out = run('PLAN: wider and faster\n\ntrain.py\n<<<<<<< SEARCH\nLR = 0.1\n=======\nLR = 0.3\n>>>>>>> REPLACE\n<<<<<<< SEARCH\nWIDTH = 4\n=======\nWIDTH = 16\n>>>>>>> REPLACE\n');
    assert.match(out['train.py']!, /LR = 0\.3\nWIDTH = 16\n/);
  });

  it('falls back to ignoring trailing spaces, then indentation (re-indenting the replacement)', () => {
    const trailing = run('PLAN: x\ntrain.py\n<<<<<<< SEARCH\nLR = 0.1   \n=======\nLR = 0.5\n>>>>>>> REPLACE\n');
    assert.match(trailing['train.py']!, /^LR = 0\.5$/m);
    // The model dropped the function's indentation; the file keeps it.
    const dedented = run('PLAN: print every step\ntrain.py\n<<<<<<< SEARCH\nif step % 2 == 0:\n    print("step", step)\n=======\nif step % 1 == 0:\n    print("step", step, loss)\n>>>>>>> REPLACE\n');
    assert.match(dedented['train.py']!, /\n {8}if step % 1 == 0:\n {12}print\("step", step, loss\)\n/);
  });

  it('matches part of a line when that text occurs once, but not inside a longer name', () => {
    const out = run('PLAN: more steps\ntrain.py\n<<<<<<< SEARCH\nrange(10)\n=======\nrange(20)\n>>>>>>> REPLACE\n');
    assert.match(out['train.py']!, /for step in range\(20\):/);
    const named: EditableFile[] = [{ path: 'train.py', content: 'MAX_LR = 0.1\n' }];
    assert.throws(() => run('PLAN: x\n<<<<<<< SEARCH\nLR = 0.1\n=======\nLR = 0.2\n>>>>>>> REPLACE\n', named), /the SEARCH text was not found in the file/);
  });

  it('keeps CRLF line endings of a CRLF file', () => {
    const crlf: EditableFile[] = [{ path: 'train.py', content: TRAIN.replace(/\n/g, '\r\n') }];
    const out = run('PLAN: x\n<<<<<<< SEARCH\nLR = 0.1\n=======\nLR = 0.2\n>>>>>>> REPLACE\n', crlf);
    assert.equal(out['train.py'], TRAIN.replace('LR = 0.1', 'LR = 0.2').replace(/\n/g, '\r\n'));
  });

  it('creates a new editable file from an empty SEARCH', () => {
    const out = run('PLAN: add a model file\nmodels/mlp.py\n<<<<<<< SEARCH\n=======\nclass MLP: pass\n>>>>>>> REPLACE\n');
    assert.deepEqual(out, { 'models/mlp.py': 'class MLP: pass\n' });
  });

  it('strips <think> blocks of reasoning models before parsing', () => {
    const parsed = parseReply('<think>\nPLAN: wrong\n<<<<<<< SEARCH\nnope\n=======\nno\n>>>>>>> REPLACE\n</think>\nPLAN: right one\n<<<<<<< SEARCH\nLR = 0.1\n=======\nLR = 0.2\n>>>>>>> REPLACE\n', { paths: ['train.py'] });
    assert.equal(parsed.description, 'right one');
    assert.equal(parsed.edits.length, 1);
  });
});

describe('parseReply and applyEdits: one fenced block with the whole file', () => {
  it('takes the complete new file after its path', () => {
    const next = TRAIN.replace('WIDTH = 4', 'WIDTH = 8');
    const out = run(`PLAN: Wider hidden layer\nFour units underfit.\n\ntrain.py\n\`\`\`python\n${next}\`\`\`\n`);
    assert.deepEqual(out, { 'train.py': next });
  });

  it('takes the path from the fence info string, and the only editable file when none is named', () => {
    const next = TRAIN.replace('LR = 0.1', 'LR = 0.05');
    assert.deepEqual(run(`PLAN: x\n\`\`\`python train.py\n${next}\`\`\`\n`), { 'train.py': next });
    assert.deepEqual(run(`Halve the learning rate.\n\`\`\`python\n${next}\`\`\``), { 'train.py': next });
  });
});

describe('editKeyFor', () => {
  it('is stable and depends only on the resulting files', () => {
    assert.equal(editKeyFor({ 'b.py': 'x', 'a.py': 'y' }), editKeyFor({ 'a.py': 'y', 'b.py': 'x' }));
    assert.notEqual(editKeyFor({ 'a.py': 'y' }), editKeyFor({ 'a.py': 'y ' }));
    assert.match(editKeyFor({ 'a.py': 'y' }), /^edit:[0-9a-f]{16}$/);
    // Two different replies that produce the same code are the same edit.
    const a = run('PLAN: a\n<<<<<<< SEARCH\nLR = 0.1\n=======\nLR = 0.2\n>>>>>>> REPLACE\n');
    const b = run(`PLAN: b\n\`\`\`python\n${TRAIN.replace('LR = 0.1', 'LR = 0.2')}\`\`\`\n`);
    assert.equal(editKeyFor(a), editKeyFor(b));
  });
});

describe('malformed replies: every one refused with a message the model can act on', () => {
  const two: EditableFile[] = [...FILES, { path: 'models/mlp.py', content: 'class MLP:\n    pass\n' }];
  const cases: [string, string, EditableFile[]?, boolean?][] = [
    ['no edit at all', 'I think we should try a larger learning rate.'],
    ['an empty reply', ''],
    ['SEARCH without divider', 'PLAN: x\n<<<<<<< SEARCH\nLR = 0.1\n>>>>>>> REPLACE\n'],
    ['divider without REPLACE', 'PLAN: x\n<<<<<<< SEARCH\nLR = 0.1\n=======\nLR = 0.2\n'],
    ['cut off at the output limit', 'PLAN: x\n<<<<<<< SEARCH\nLR = 0.1\n=======\nLR = 0.', undefined, true],
    ['REPLACE with no SEARCH', 'PLAN: x\nLR = 0.2\n>>>>>>> REPLACE\n'],
    ['two dividers', 'PLAN: x\n<<<<<<< SEARCH\nLR = 0.1\n=======\nLR = 0.2\n=======\nLR = 0.3\n>>>>>>> REPLACE\n'],
    ['nested SEARCH', 'PLAN: x\n<<<<<<< SEARCH\nLR = 0.1\n<<<<<<< SEARCH\n=======\n>>>>>>> REPLACE\n'],
    ['SEARCH not in the file (close match shown)', 'PLAN: x\ntrain.py\n<<<<<<< SEARCH\nLR = 0.01\nWIDTH = 4\n=======\nLR = 0.02\n>>>>>>> REPLACE\n'],
    ['SEARCH not in the file at all', 'PLAN: x\n<<<<<<< SEARCH\noptimizer = Adam()\n=======\noptimizer = AdamW()\n>>>>>>> REPLACE\n'],
    ['SEARCH matches twice', 'PLAN: x\n<<<<<<< SEARCH\n    print(\n=======\n    log(\n>>>>>>> REPLACE\n'],
    ['empty SEARCH on an existing file', 'PLAN: x\ntrain.py\n<<<<<<< SEARCH\n=======\nimport os\n>>>>>>> REPLACE\n'],
    ['edit of a protected file', 'PLAN: x\nprepare.py\n<<<<<<< SEARCH\nSPLIT = 0.9\n=======\nSPLIT = 0.5\n>>>>>>> REPLACE\n'],
    ['edit of a file that is not editable', 'PLAN: x\nREADME.md\n<<<<<<< SEARCH\n# toy\n=======\n# toy!\n>>>>>>> REPLACE\n'],
    ['edit outside the repository', 'PLAN: x\n../etc/passwd.txt\n<<<<<<< SEARCH\n=======\nroot\n>>>>>>> REPLACE\n'],
    ['a change that changes nothing', 'PLAN: x\n<<<<<<< SEARCH\nLR = 0.1\n=======\nLR = 0.1\n>>>>>>> REPLACE\n'],
    ['a block that names no file when there are two', 'PLAN: x\n<<<<<<< SEARCH\nLR = 0.1\n=======\nLR = 0.2\n>>>>>>> REPLACE\n', two],
    ['a whole file that elides code', `PLAN: x\ntrain.py\n\`\`\`python\nimport torch\n\nLR = 0.2\n# ... rest of the code unchanged\n\`\`\`\n`],
    ['two unnamed code blocks', 'PLAN: x\n```python\nLR = 0.2\n```\nand\n```python\nWIDTH = 8\n```\n'],
    ['an unclosed code block', 'PLAN: x\n```python\nLR = 0.2\n'],
  ];
  it('matches the golden list of errors', () => {
    const out = cases.map(([name, reply, files, truncated]) => `## ${name}\n${errorOf(reply, files, truncated)}\n`).join('\n');
    assertGolden('edit-parser-errors.md', out);
  });
});
