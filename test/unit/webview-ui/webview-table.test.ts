// The experiments table: sorting (empty cells last), the filter language, and live re-placement of rows.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cellText, parseFilter, tableRows, updateRows, visibleColumns } from '../../../webview-ui/src/tableModel.js';
import type { TableQuery } from '../../../webview-ui/src/tableModel.js';
import { rng } from '../../../bench/webviewData.js';
import { dto, storeOf } from '../helpers/webview.js';

const q = (over: Partial<TableQuery> = {}): TableQuery => ({ sortKey: 'id', sortDesc: false, filter: '', hidden: new Set(), ...over });

function store() {
  return storeOf([
    dto({ id: 0, parentId: null, status: 'keep', metric: 1, description: 'baseline', wallMs: 5000 }),
    dto({ id: 1, status: 'discard', metric: 1.2, description: 'double the learning rate', wallMs: 65_000 }),
    dto({ id: 2, status: 'keep', metric: 0.8, description: 'tanh activation', commit: 'abc1234def' }),
    dto({ id: 3, status: 'crash', metric: null, description: 'lr x8 diverged', reason: 'val_loss is nan' }),
    dto({ id: 4, parentId: 2, status: 'keep', metric: 0.7, description: 'wider hidden layer', decidedBy: 'human' }),
  ]);
}

describe('webview table', () => {
  it('shows memory in a unit a person reads: MB below 1 GB, not 0.0', () => {
    const s = storeOf([
      dto({ id: 0, parentId: null, status: 'keep', metric: 1, description: 'baseline', memoryGb: 15.3 / 1024 }),
      dto({ id: 1, status: 'keep', metric: 0.9, description: 'wider', memoryGb: 2.04 }),
      dto({ id: 2, status: 'crash', metric: null, description: 'no memory line', memoryGb: null }),
    ]);
    assert.deepEqual([0, 1, 2].map((id) => cellText(s, id, 'memoryGb')), ['15.3 MB', '2.0 GB', '']);
  });

  it('sorts by a column, either way, with empty cells last both ways and ties by number', () => {
    const s = store();
    assert.deepEqual(tableRows(s, q({ sortKey: 'metric' })), [4, 2, 0, 1, 3]);
    assert.deepEqual(tableRows(s, q({ sortKey: 'metric', sortDesc: true })), [1, 0, 2, 4, 3]);
    assert.deepEqual(tableRows(s, q({ sortKey: 'delta' })), [2, 4, 1, 0, 3], 'vs parent: −0.2, −0.1, +0.2, then the baseline and the crash, which have none');
    assert.deepEqual(tableRows(s, q({ sortKey: 'description' })), [0, 1, 3, 2, 4]);
    assert.deepEqual(tableRows(s, q({ sortKey: 'depth', sortDesc: true })), [4, 1, 2, 3, 0]);
  });

  it('filters by words anywhere (description, commit, status, reason, #id) and by comparisons', () => {
    const s = store();
    assert.deepEqual(tableRows(s, q({ filter: 'tanh' })), [2]);
    assert.deepEqual(tableRows(s, q({ filter: 'abc12' })), [2], 'a commit prefix');
    assert.deepEqual(tableRows(s, q({ filter: 'nan' })), [3], 'the reason');
    assert.deepEqual(tableRows(s, q({ filter: '#4' })), [4]);
    assert.deepEqual(tableRows(s, q({ filter: 'keep' })), [0, 2, 4]);
    assert.deepEqual(tableRows(s, q({ filter: 'metric<0.9' })), [2, 4]);
    assert.deepEqual(tableRows(s, q({ filter: 'metric<=1 depth>=1' })), [2, 4]);
    assert.deepEqual(tableRows(s, q({ filter: 'delta<0' })), [2, 4]);
    assert.deepEqual(tableRows(s, q({ filter: 'duration>1m' })), [1]);
    assert.deepEqual(tableRows(s, q({ filter: 'wider keep' })), [4], 'every word must match');
    assert.deepEqual(tableRows(s, q({ hidden: new Set(['keep', 'crash']) })), [1]);
    assert.equal(parseFilter('  ').length, 0);
  });

  it('shows cells as a person reads them', () => {
    const s = store();
    assert.equal(cellText(s, 3, 'metric'), 'crash');
    assert.equal(cellText(s, 1, 'wallMs'), '1:05');
    assert.equal(cellText(s, 4, 'parentId'), '#2');
    assert.equal(cellText(s, 4, 'delta'), '-0.1');
    assert.equal(cellText(s, 2, 'commit'), 'abc1234');
    assert.equal(cellText(s, 4, 'decidedBy'), 'human');
  });

  it('drops the tree and timing columns for a bare results.tsv', () => {
    assert.deepEqual(visibleColumns(true).map((c) => c.key), ['id', 'commit', 'metric', 'delta', 'win', 'memoryGb', 'status', 'description']);
    assert.equal(visibleColumns(false).length, 12);
  });

  it('re-places only the changed rows, and ends exactly where a full recompute would', () => {
    const r = rng(7);
    const statuses = ['keep', 'discard', 'crash', 'invalid', 'running'] as const;
    const nodes = Array.from({ length: 300 }, (_, id) => dto({ id, parentId: id ? Math.floor(r() * id) : null, status: statuses[Math.floor(r() * 5)]!, metric: r() < 0.2 ? null : r() }));
    for (const query of [q({ sortKey: 'metric' }), q({ sortKey: 'status', sortDesc: true, filter: 'experiment' }), q({ sortKey: 'id', hidden: new Set(['crash']) })]) {
      const s = storeOf(nodes);
      const rows = tableRows(s, query);
      let rev = 0;
      for (let round = 0; round < 20; round++) {
        const touched: number[] = [];
        for (let k = 0; k < 5; k++) {
          const id = Math.floor(r() * (s.size + 2));
          const exists = id < s.size;
          const node = dto({ id: exists ? id : s.size, parentId: 0, status: statuses[Math.floor(r() * 5)]!, metric: r() < 0.2 ? null : r() });
          s.applyDelta({ rev: ++rev, nodes: [node] });
          touched.push(node.id);
        }
        updateRows(rows, s, query, touched);
        assert.deepEqual(rows, tableRows(s, query));
      }
    }
  });
});
