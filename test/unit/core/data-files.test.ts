// The data a training script reads by name, which init and the wizard protect (src/core/dataFiles.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dataFilesRead } from '../../../src/core/dataFiles.js';
import { tempFolder } from '../helpers/repo.js';

describe('the data a script reads by name', () => {
  it('finds the files it opens to read that are here, not what it writes, code, folders or paths outside', () => {
    const script = [
      "with open('input.txt', 'r', encoding='utf-8') as f: text = f.read()",
      'df = pd.read_csv("data/train.csv")',
      "arr = np.load('data/features.npy')",
      "open('samples.txt', 'w').write(text)",
      "log = open('log.txt', 'a')",
      "cfg = open('config.py')",
      "secret = open('../secret.txt')",
      "d = open('data')",
      "gone = open('missing.txt')",
      "name = open(f'{split}.bin', 'rb')",
      '',
    ].join('\n');
    const dir = tempFolder({
      'gpt.py': script, 'input.txt': 'First Citizen:\n', 'data/train.csv': 'a,b\n', 'data/features.npy': 'x', 'samples.txt': '', 'log.txt': '', 'config.py': 'x = 1\n',
    }, 'ar-data-files-');
    assert.deepEqual(dataFilesRead(dir, 'gpt.py'), ['data/features.npy', 'data/train.csv', 'input.txt']);
    assert.deepEqual(dataFilesRead(dir, 'nope.py'), []);
  });
});
