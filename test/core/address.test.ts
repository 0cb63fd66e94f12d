/**
 * The parsed address: `parseAddress` (any address, canonical form and family), `classify` (its
 * class), and the boundary parser `parsePublishable` / `parseAddressSet` (an address a name may be
 * given: non-public accepted, 0.0.0.0 and :: refused) whose result the engine and providers trust.
 */
import { test } from '../support/suite';
import assert from 'node:assert/strict';
import {
  classify,
  parseAddress,
  parseAddressSet,
  parsePublishable,
  type Ipv4,
  type Ipv6,
} from '../../src/core/address';
import { DdnsError } from '../../src/core/errors';

const inputError = (re: RegExp) => (e: unknown) =>
  e instanceof DdnsError && e.kind === 'input' && e.code === 'invalid_address' && re.test(e.message);

test('parseAddress: canonical form and family, strict syntax', () => {
  assert.deepEqual(parseAddress(' 203.0.113.7\n'), { address: '203.0.113.7', family: 'ipv4' });
  assert.deepEqual(parseAddress('2001:DB8:0:0::7'), { address: '2001:db8::7', family: 'ipv6' });
  for (const bad of ['', '1.2.3', '01.2.3.4', '1.2.3.256', 'fe80::1%eth0', '::g', 'example.com', '203.0.113.7:80']) {
    assert.equal(parseAddress(bad), null, bad);
  }
});

test('classify: a parsed address carries its family and class; text that is none is invalid', () => {
  const c = classify('100.64.1.2');
  assert.equal(c.family, 'ipv4');
  assert.equal(c.class, 'cgnat');
  assert.match(c.reason, /carrier-grade NAT/);
  const bad = classify('nonsense');
  assert.deepEqual([bad.family, bad.class, bad.address], [null, 'invalid', 'nonsense']);
});

test('classify: the same text asked again gets the same frozen answer; a long text is not kept', () => {
  const a = classify(' 203.0.113.9 ');
  assert.equal(classify(' 203.0.113.9 '), a);
  assert.ok(Object.isFrozen(a));
  assert.deepEqual({ ...a }, { address: '203.0.113.9', family: 'ipv4', class: 'documentation', reason: a.reason });
  assert.equal(a.said?.key, 'address.is', 'the sentence is kept (not enumerable)');
  const long = 'x'.repeat(65);
  assert.notEqual(classify(long), classify(long));
  assert.equal(classify(long).class, 'invalid');
  // more texts than are kept: each still classified right
  for (let i = 0; i < 200; i++) assert.equal(classify(`198.51.100.${i}`).address, `198.51.100.${i}`);
  assert.equal(classify(' 203.0.113.9 ').address, '203.0.113.9');
});

test('parsePublishable: non-public accepted, unspecified refused, family checked, text only', () => {
  const p = parsePublishable(' 192.168.1.10 ', 'ipv4');
  assert.deepEqual(p, {
    address: '192.168.1.10',
    family: 'ipv4',
    class: 'private',
    reason: '192.168.1.10 is a private address (192.168.0.0/16)',
  });
  const v6: Ipv6 = parsePublishable('2001:0DB8::0:1', 'ipv6').address;
  assert.equal(v6, '2001:db8::1');
  assert.equal(parsePublishable('8.8.8.8', 'ipv4').class, 'public');
  assert.throws(
    () => parsePublishable('0.0.0.0', 'ipv4'),
    inputError(/Invalid IPv4 address: 0\.0\.0\.0 is "this network"/),
  );
  assert.throws(
    () => parsePublishable('::', 'ipv6'),
    inputError(/Invalid IPv6 address: :: is the unspecified address/),
  );
  assert.throws(
    () => parsePublishable('2001:db8::1', 'ipv4'),
    inputError(/IPv6 address where an IPv4 address was expected/),
  );
  assert.throws(() => parsePublishable('203.0.113.7&myip=1.1.1.1', 'ipv4'), inputError(/is not an IP address/));
  assert.throws(() => parsePublishable(42, 'ipv6'), inputError(/must be text/));
});

test('parseAddressSet: each family parsed, absent ones left out', () => {
  const set = parseAddressSet({ ipv4: ' 203.0.113.7 ', ipv6: '2001:DB8::0:7' });
  const v4: Ipv4 | undefined = set.ipv4;
  assert.equal(v4, '203.0.113.7');
  assert.deepEqual(set, { ipv4: '203.0.113.7', ipv6: '2001:db8::7' });
  assert.deepEqual(parseAddressSet({ ipv4: null, ipv6: undefined }), {});
  assert.throws(
    () => parseAddressSet({ ipv4: '203.0.113.7', ipv6: '203.0.113.8' }),
    inputError(/Invalid IPv6 address/),
  );
});
