// Which sessions the next window shows as interrupted (with Resume) rather than stopped by the user
// (src/extension/session/interruptions.ts): the window marks the journal when it lets go, and the stop it began
// may still journal its last records after that.
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { InterruptionStore } from '../../../src/extension/session/interruptions.js';

const dir = mkdtempSync(join(tmpdir(), 'ar-interruptions-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
function journalWith(...types: string[]): string {
  const file = join(dir, `journal-${n++}.jsonl`);
  writeFileSync(file, types.map((type, seq) => JSON.stringify({ seq, type })).join('\n') + '\n');
  return file;
}
const append = (file: string, ...records: object[]) => appendFileSync(file, records.map((r) => JSON.stringify(r) + '\n').join(''));

describe('interrupted sessions', () => {
  const store = new InterruptionStore(join(dir, 'storage', 'interrupted-sessions.json'));

  it('keeps a session interrupted when its stop journals after the mark (a run that took long to end)', () => {
    const journal = journalWith('session', 'node', 'start');
    store.mark(journal);
    assert.equal(store.isInterrupted(journal), true);
    append(journal, { seq: 3, type: 'finish', id: 1 }, { seq: 4, type: 'decide', id: 1, status: 'crash' }, { seq: 5, type: 'state', state: 'stopped' });
    assert.equal(store.isInterrupted(journal), true);
  });

  it('lets go of it once someone takes the session up again (a resume or a restart after the mark)', () => {
    for (const reopening of ['resume', 'restart']) {
      const journal = journalWith('session', 'state');
      store.mark(journal);
      append(journal, { seq: 2, type: 'state', state: 'stopped' }, { seq: 3, type: reopening });
      assert.equal(store.isInterrupted(journal), false, reopening);
    }
  });

  it('is not interrupted when the journal was rewritten shorter, cleared, or never marked', () => {
    const shorter = journalWith('session', 'node', 'start');
    store.mark(shorter);
    writeFileSync(shorter, JSON.stringify({ seq: 0, type: 'session' }) + '\n');
    assert.equal(store.isInterrupted(shorter), false);

    const cleared = journalWith('session');
    store.mark(cleared);
    store.clear(cleared);
    assert.equal(store.isInterrupted(cleared), false);

    assert.equal(store.isInterrupted(journalWith('session')), false);
  });
});
