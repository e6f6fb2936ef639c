// The engine's own folder in a workspace, and small file reads the engine and its executors share.
import { closeSync, existsSync, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';

/** Where the engine keeps a workspace's sessions, logs and probes; never committed. */
export const STATE_DIR = '.autoresearch';

/** The last `max` bytes of a file (a run's log: the metric is near the end, and logs can be large); '' when missing. */
export function readTail(path: string, max: number): string {
  if (!existsSync(path)) return '';
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const len = Math.min(size, max);
    const buf = Buffer.alloc(len);
    readSync(fd, buf, 0, len, size - len);
    return buf.toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** The path's stat, links followed; null when it is not there (or a dangling link). */
export function statOrNull(path: string): Stats | null {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}
