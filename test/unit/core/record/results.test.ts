// results.tsv in the original autoresearch format, and summaries from it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatResults, parseResults } from '../../../../src/core/record/results.js';
import { summarizeResults } from '../../../../src/core/report/summary.js';
import { fakeNode } from '../../helpers/nodes.js';

describe('results.tsv', () => {
  it('writes the 5-column header and one row per node; crashes carry 0.000000; human decisions are marked', () => {
    const text = formatResults('val_bpb', [
      fakeNode({ id: 0, commit: 'a'.repeat(40), metric: 0.9979, memoryGb: 44, status: 'keep', description: 'baseline', decidedBy: 'rule' }),
      fakeNode({ id: 1, commit: 'b'.repeat(40), metric: NaN, memoryGb: null, status: 'crash', description: 'LR\t10x', decidedBy: 'rule' }),
      fakeNode({ id: 2, commit: 'c'.repeat(40), metric: 1.01, memoryGb: 44.2, status: 'keep', description: 'GeLU', decidedBy: 'human', ruleStatus: 'discard' }),
    ]);
    assert.equal(text,
      'commit\tval_bpb\tmemory_gb\tstatus\tdescription\n'
      + 'aaaaaaa\t0.997900\t44.0\tkeep\tbaseline\n'
      + 'bbbbbbb\t0.000000\t0.0\tcrash\tLR 10x\n'
      + 'ccccccc\t1.010000\t44.2\tkeep\tGeLU [keep by human; rule said discard]\n');
    const back = parseResults(text);
    assert.deepEqual(back.errors, []);
    assert.equal(back.metricName, 'val_bpb');
    assert.equal(back.rows[1]!.metric, null, 'a crash row has no metric, not 0');
  });

  it('reports malformed lines with their line number instead of dropping them silently', () => {
    const parsed = parseResults('commit\tloss\tmemory_gb\tstatus\tdescription\nabc1234\t0.5\t1.0\tkeep\tok\nabc1235\tfast\t1.0\tkeep\tbad metric\nabc1236\t0.4\t1.0\tmaybe\tbad status\nshort line\n');
    assert.equal(parsed.rows.length, 1);
    assert.deepEqual(parsed.errors.map((e) => e.line), [3, 4, 5]);
    assert.match(parsed.errors[0]!.message, /metric "fast" is not a number/);
    assert.match(parsed.errors[1]!.message, /unknown status "maybe"/);
    assert.match(parsed.errors[2]!.message, /expected 5 tab-separated columns/);
    assert.equal(parseResults('nonsense\n').errors[0]!.line, 1);
  });

  it('summarizes a results.tsv from another tool: baseline vs best by direction', () => {
    const parsed = parseResults('commit\tacc\tmemory_gb\tstatus\tdescription\na\t0.80\t1\tkeep\tbaseline\nb\t0.85\t1\tkeep\twider\nc\t0.83\t1\tkeep\tdeeper\nd\t0.7\t1\tdiscard\tno dropout\n');
    const md = summarizeResults(parsed, 'maximize', 'results.tsv');
    assert.match(md, /acc: 0\.80 → 0\.85/);
    assert.match(md, /higher is better/);
    assert.match(md, /\| 1 \| `b` \| 0\.85/);
    assert.match(md, /no dropout/);
  });
});
