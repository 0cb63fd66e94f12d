import assert from 'node:assert/strict';
import { DdnsError } from '../../src/core/errors';

/** The error a promise rejects with (a DdnsError); fails the test when it resolves. */
export async function failure(p: Promise<unknown>): Promise<DdnsError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof DdnsError, String(e));
    return e;
  }
  assert.fail('expected a failure');
}
