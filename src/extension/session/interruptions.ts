// Remembers sessions this editor stopped only because its window closed or reloaded, so the next window
// shows them as interrupted (with Resume) rather than as stopped by the user. Kept in the extension's
// storage, written synchronously: deactivation gives no second chance.
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

interface Marker {
  /** Size of the journal when the window let go of it: a session that moved on since is not "interrupted" any more. */
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

  /** True while the journal is exactly as the closing window left it. */
  isInterrupted(journal: string): boolean {
    const m = this.read()[journal];
    if (!m || !existsSync(journal)) return false;
    return statSync(journal).size === m.journalBytes;
  }
}
