// Which parser reads a file (by its extension), and the hyperparameters of one file's content.
import { cliDefaults } from './cliDefaults.js';
import { jsonValues, tomlValues, yamlValues } from './configFiles.js';
import type { Hyperparameter } from './hyperparameter.js';
import { isHyperparameter } from './names.js';
import { pythonAssignments } from './python.js';

/** The hyperparameters of one file's content, in file order; a name assigned twice counts at its last assignment. */
export function parseHyperparameters(file: string, content: string): Hyperparameter[] {
  return readValues(file, content).filter(isHyperparameter);
}

/** Every literal the proposer can read in a file, the names it leaves alone included. */
export function readValues(file: string, content: string): Hyperparameter[] {
  const ext = /\.([^./]+)$/.exec(file)?.[1]?.toLowerCase();
  const found = ext === 'yaml' || ext === 'yml' ? yamlValues(file, content)
    : ext === 'json' ? jsonValues(file, content)
    : ext === 'toml' ? tomlValues(file, content)
    : [...pythonAssignments(file, content), ...cliDefaults(file, content)];
  const byName = new Map<string, Hyperparameter>();
  for (const p of found.sort((a, b) => a.start - b.start)) {
    byName.delete(p.name);
    byName.set(p.name, p);
  }
  return [...byName.values()].sort((a, b) => a.start - b.start);
}
