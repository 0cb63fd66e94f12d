/**
 * public-ip-watch's payload schema (src/core/ip/payload.ts), shared by its writer (the watcher;
 * watcher.test.ts checks real output against it) and its readers (dns-update, reachability-check).
 */
import { test } from '../support/suite';
import assert from 'node:assert/strict';
import { ipWatchPayloadSchema } from '../../src/core/ip/payload';

test('payload: the full form, the short form { ipv4?, ipv6? }, nulls, extra fields kept', () => {
  const full = {
    ipv4: '203.0.113.7',
    ipv6: null,
    previous: { ipv4: null, ipv6: null },
    changed: ['ipv4'],
    sources: { ipv4: { agreedBy: ['ipify'], reports: [] } },
    checkedAt: '2024-01-01T00:00:00.000Z',
  };
  assert.deepEqual(ipWatchPayloadSchema.parse(full), full);
  assert.deepEqual(ipWatchPayloadSchema.parse({ ipv6: '2001:db8::7' }), { ipv6: '2001:db8::7' });
  assert.deepEqual(ipWatchPayloadSchema.parse({}), {});
  for (const bad of [{ ipv4: 42 }, { changed: ['ipv5'] }, { previous: { ipv4: 1 } }, { cgnat: { localClass: 3 } }]) {
    assert.equal(ipWatchPayloadSchema.safeParse(bad).success, false, JSON.stringify(bad));
  }
});

test('payload: a reader picks the fields it reads and stays loose', () => {
  const addresses = ipWatchPayloadSchema.pick({ ipv4: true, ipv6: true });
  assert.deepEqual(addresses.parse({ ipv4: '203.0.113.7', previous: 'anything', topic: 'x' }), {
    ipv4: '203.0.113.7',
    previous: 'anything',
    topic: 'x',
  });
});
