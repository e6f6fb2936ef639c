// The data a training script reads by name (ng-video-lecture's `open('input.txt')`): `init` and the editor's wizard
// protect it, like prepare.py, so that no experiment can change what the metric is measured on.
import { readFileSync } from 'node:fs';
import { join, normalize } from 'node:path';
import { statOrNull } from './files.js';

// A file opened by a literal name: `open('input.txt')`, `pd.read_csv("data/train.csv")`, `np.load(…)`, and the mode
// when one follows (`open('out.txt', 'w')`).
const READS = /\b(?:open|read_csv|read_json|read_parquet|load|loadtxt|genfromtxt)\(\s*(?:r|f)?(['"])([^'"\n{}]+)\1\s*(?:,\s*(['"])([^'"]*)\3)?/g;

/** The files in `folder` that `script` (a path from it) opens by name to read, as sorted paths from the folder; never one it writes, code, or a path outside. */
export function dataFilesRead(folder: string, script: string): string[] {
  let text: string;
  try {
    text = readFileSync(join(folder, script), 'utf8');
  } catch {
    return [];
  }
  const found = new Set<string>();
  for (const m of text.matchAll(READS)) {
    const [, , file = '', , mode = 'r'] = m;
    if (/[wax+]/.test(mode) || /\.(py|ts|js)$/.test(file) || file.startsWith('/')) continue;
    const path = normalize(file).replace(/\\/g, '/');
    if (!path.startsWith('..') && statOrNull(join(folder, path))?.isFile()) found.add(path);
  }
  return [...found].sort();
}
