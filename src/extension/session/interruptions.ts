// Remembers sessions this editor stopped only because its window closed or reloaded, so the next window
// shows them as interrupted (with Resume) rather than as stopped by the user. Kept in the extension's
// storage, written synchronously: deactivation gives no second chance.
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

interface Marker {
  /** Size of the journal when the window let go of it: what was written after it tells whether the session moved on. */
  journalBytes: number;
  at: string;
}

export class InterruptionStore {
  constructor(private readonly file: string) {}

  private read(): Record<string, Marker> {
    try {
      return JSON.parse(readFileSync(this.file, 'utf8')) as Record<string, Marker>;
    } catch {
      return {};
    }
  }

  private write(all: Record<string, Marker>): void {
    try {
      mkdirSync(dirname(this.file), { recursive: true });
      writeFileSync(this.file, JSON.stringify(all, null, 2));
    } catch {
      // Storage is a convenience; without it an interrupted session shows as stopped, still resumable.
    }
  }

  mark(journal: string): void {
    if (!existsSync(journal)) return;
    const all = this.read();
    all[journal] = { journalBytes: statSync(journal).size, at: new Date().toISOString() };
    this.write(all);
  }

  clear(journal: string): void {
    const all = this.read();
    if (!(journal in all)) return;
    delete all[journal];
    this.write(all);
  }

  /**
   * True while nobody took the session up again since the closing window let go of it. A stop that was still
   * under way when the window marked it (a run's process group can take longer to end than the window waits)
   * journals its last records after the mark; those are still the same stop. Only a record that opens the
   * session again (resume, restart, a new session) means it moved on.
   */
  isInterrupted(journal: string): boolean {
    const m = this.read()[journal];
    if (!m || !existsSync(journal)) return false;
    const size = statSync(journal).size;
    if (size === m.journalBytes) return true;
    if (size < m.journalBytes) return false;
    return !tailReopens(journal, m.journalBytes, size);
  }
}

const REOPENING = new Set(['session', 'resume', 'restart']);

/** Whether the journal's records from byte `from` on include one that opens the session again. */
function tailReopens(journal: string, from: number, size: number): boolean {
  let fd: number | undefined;
  try {
    fd = openSync(journal, 'r');
    const buf = Buffer.alloc(size - from);
    readSync(fd, buf, 0, buf.length, from);
    for (const line of buf.toString('utf8').split('\n')) {
      const type = recordType(line);
      if (type && REOPENING.has(type)) return true;
    }
    return false;
  } catch {
    return true;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function recordType(line: string): string | undefined {
  if (!line.trim()) return undefined;
  try {
    const rec = JSON.parse(line) as { type?: unknown };
    return typeof rec.type === 'string' ? rec.type : undefined;
  } catch {
    return undefined;
  }
}
