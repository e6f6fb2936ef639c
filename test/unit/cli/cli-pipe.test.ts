// The CLI's output piped into a reader that stops early (`autoresearch show 8 | head -3`, seen on nanoGPT with the built
// CLI): it ended in an unhandled `Error: write EPIPE` with a Node stack and exit code 1. The entry point hands stdout and
// stderr to quietOnClosedPipe.
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { quietOnClosedPipe } from '../../../src/cli/main.js';

function failing(code: string): Error {
  return Object.assign(new Error(`write ${code}`), { code });
}

describe('a closed pipe', () => {
  it('is no error: EPIPE, and a write after it, are dropped; any other error still surfaces', () => {
    const bare = new PassThrough();
    assert.throws(() => bare.emit('error', failing('EPIPE')), /EPIPE/);
    const out = new PassThrough();
    quietOnClosedPipe(out);
    assert.doesNotThrow(() => out.emit('error', failing('EPIPE')));
    assert.doesNotThrow(() => out.emit('error', failing('ERR_STREAM_DESTROYED')));
    assert.throws(() => out.emit('error', failing('ENOSPC')), /ENOSPC/);
  });
});
