// Assertions the node:test/assert API does not have.
import assert from 'node:assert/strict';

/** The error a promise rejects with, for assertions on its message and fields; fails the test if it resolves. */
export async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  assert.fail('expected a rejection');
}
