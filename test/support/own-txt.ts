/**
 * The TXT rule of every provider with `definition.txt`, for the quirks tests whose servers start
 * with another TXT value at the name: setTxt twice makes one record of its own value, deleteTxt
 * takes away only that value.
 */
import assert from 'node:assert/strict';
import type { DnsProvider } from '../../src/core/providers/types';

export async function checkOwnTxt(
  p: DnsProvider,
  name: string,
  other: string,
  /** The values the server holds at `name`, as the provider's user reads them. */
  values: () => string[],
): Promise<void> {
  await p.setTxt!(name, 'mine');
  await p.setTxt!(name, 'mine');
  assert.deepEqual(values(), [other, 'mine']);
  await p.deleteTxt!(name, 'mine');
  assert.deepEqual(values(), [other]);
}
