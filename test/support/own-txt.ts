/**
 * Record rules that several providers' quirks tests check the same way, against servers that start
 * with records of their own at the name:
 * - TXT (every provider with `definition.txt`; the server holds another TXT value at the name):
 *   setTxt twice makes one record of its own value, deleteTxt takes away only that value;
 * - addresses (the providers that edit a record in place; the server holds an A record of its own
 *   TTL at the name): an update keeps the record's TTL, and the same addresses again write nothing;
 *   `keptTtlRecords` is what a server of single records starts with for it.
 */
import assert from 'node:assert/strict';
import type { DnsProvider, RecordResult } from '../../src/core/providers/types';

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

type Addresses = { ipv4?: string; ipv6?: string };
const BOTH: Addresses = { ipv4: '203.0.113.7', ipv6: '2001:db8::7' };

/**
 * What a server that keeps records one by one holds at the name before `checkKeptTtl`, in its own
 * form (`a` makes an A record, given its TTL or none for the server's default): an A of its own TTL
 * (`keptTtl`: the update keeps it), a second A (the update removes it) and `other`, a record of
 * another type (left alone).
 */
export function keptTtlRecords<R>(
  keptTtl: number,
  a: (address: string, ttl: { ttl?: number }) => NoInfer<R>,
  other: NoInfer<R>,
): R[] {
  return [a('192.0.2.1', { ttl: keptTtl }), a('192.0.2.2', {}), other];
}

/**
 * Setting A and AAAA updates both: the A holds the new address with its own TTL (`keptTtl`), the new
 * AAAA gets `newTtl`; setting the same addresses again (both, or the IPv4 one) leaves them unchanged
 * and writes nothing.
 */
export async function checkKeptTtl<R>(o: {
  /** One provider call at the name; the first round's provider may be made with an account TTL. */
  set: (addresses: Addresses, round: 'first' | 'again') => Promise<RecordResult[]>;
  /** What the second round sets again. Default both. */
  again?: 'both' | 'ipv4';
  /** What the server holds at the name for a type, in its own form. */
  held: (type: 'A' | 'AAAA') => R;
  /** The same form for one address with a TTL. */
  holding: (type: 'A' | 'AAAA', address: string, ttl: number) => R;
  keptTtl: number;
  newTtl: number;
  /** How many writes the server has had. */
  writes: () => number;
  /** What only this provider's test checks after the first round. */
  check?: () => void;
  /** Why nothing may be written twice. */
  why?: string;
}): Promise<void> {
  const r = await o.set(BOTH, 'first');
  assert.deepEqual(
    r.map((x) => x.outcome),
    ['updated', 'updated'],
  );
  assert.deepEqual(o.held('A'), o.holding('A', BOTH.ipv4!, o.keptTtl));
  assert.deepEqual(o.held('AAAA'), o.holding('AAAA', BOTH.ipv6!, o.newTtl));
  o.check?.();
  const writes = o.writes();
  const addresses = o.again === 'ipv4' ? { ipv4: BOTH.ipv4 } : BOTH;
  const again = await o.set(addresses, 'again');
  assert.deepEqual(
    again.map((x) => x.outcome),
    Object.keys(addresses).map(() => 'unchanged'),
  );
  assert.equal(o.writes(), writes, o.why ?? 'nothing written twice');
}
