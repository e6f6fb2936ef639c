// Follows a session's journal that another process writes (the CLI, or a window being reloaded): reads
// only what was appended since the last poll and replays it into a SessionModel, as the controller does.
import { closeSync, existsSync, fstatSync, openSync, readSync } from 'node:fs';
import { Journal, type JournalRecord } from '../../core/record/journal.js';
import { SessionModel } from '../../core/model.js';

export interface FollowResult {
  /** Whether anything was applied (or the model was rebuilt). */
  changed: boolean;
  /** The records applied by this poll, in order. */
  records: JournalRecord[];
}

export class JournalFollower {
  private _model = new SessionModel();
  private offset = 0;
  private partial = '';

  constructor(readonly path: string) {}

  get model(): SessionModel {
    return this._model;
  }

  get exists(): boolean {
    return existsSync(this.path);
  }

  /** Size of the journal already applied, in bytes. */
  get appliedBytes(): number {
    return this.offset;
  }

  /** Applies whatever was appended since the last call. A journal that shrank (rewritten) is replayed from scratch. */
  poll(): FollowResult {
    if (!existsSync(this.path)) {
      if (this.offset === 0 && this._model.nodes.length === 0) return { changed: false, records: [] };
      this.reset();
      return { changed: true, records: [] };
    }
    let fd: number;
    try {
      fd = openSync(this.path, 'r');
    } catch {
      return { changed: false, records: [] };
    }
    try {
      const size = fstatSync(fd).size;
      let rebuilt = false;
      if (size < this.offset) {
        this.reset();
        rebuilt = true;
      }
      if (size === this.offset) return { changed: rebuilt, records: [] };
      const buf = Buffer.alloc(size - this.offset);
      readSync(fd, buf, 0, buf.length, this.offset);
      this.offset = size;
      const text = this.partial + buf.toString('utf8');
      const cut = text.lastIndexOf('\n');
      // A record being written right now stays for the next poll.
      this.partial = cut === -1 ? text : text.slice(cut + 1);
      const complete = cut === -1 ? '' : text.slice(0, cut + 1);
      const { records } = Journal.parse(complete);
      for (const r of records) this._model.apply(r);
      return { changed: rebuilt || records.length > 0, records };
    } finally {
      closeSync(fd);
    }
  }

  private reset(): void {
    this._model = new SessionModel();
    this.offset = 0;
    this.partial = '';
  }
}
