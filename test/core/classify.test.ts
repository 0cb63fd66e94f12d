import { test } from '../support/suite';
import assert from 'node:assert/strict';
import { acceptAddress, classify } from '../../src/core/address';

test('classify: public and non-public addresses of both families', () => {
  const cases: Array<[string, string]> = [
    ['8.8.8.8', 'public'],
    ['1.1.1.1', 'public'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.32.0.1', 'public'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'cgnat'],
    ['100.127.255.254', 'cgnat'],
    ['100.128.0.1', 'public'],
    ['127.0.0.1', 'loopback'],
    ['169.254.3.4', 'link-local'],
    ['192.0.2.5', 'documentation'],
    ['198.51.100.7', 'documentation'],
    ['203.0.113.9', 'documentation'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['0.0.0.0', 'unspecified'],
    ['198.18.0.1', 'reserved'],
    ['2606:4700:4700::1111', 'public'],
    ['2001:4860:4860::8888', 'public'],
    ['::1', 'loopback'],
    ['fe80::1', 'link-local'],
    ['fd12:3456::1', 'unique-local'],
    ['2001:db8::1', 'documentation'],
    ['ff02::1', 'multicast'],
    ['::ffff:8.8.8.8', 'reserved'],
    ['2002:808:808::1', 'reserved'],
    ['<html>', 'invalid'],
    ['010.1.1.1', 'invalid'],
    ['1.2.3', 'invalid'],
    ['fe80::1%eth0', 'invalid'],
  ];
  for (const [a, c] of cases) assert.equal(classify(a).class, c, a);
});

test('acceptAddress: family mismatch, non-public and the lab option', () => {
  assert.deepEqual(acceptAddress(' 8.8.8.8\n', 'ipv4'), { ok: true, address: '8.8.8.8', class: 'public' });
  const wrong = acceptAddress('8.8.8.8', 'ipv6');
  assert.equal(wrong.ok, false);
  assert.match((wrong as { reason: string }).reason, /IPv4 address where an IPv6/);
  const cg = acceptAddress('100.64.1.1', 'ipv4');
  assert.equal(cg.ok, false);
  assert.match((cg as { reason: string }).reason, /carrier-grade NAT/);
  assert.equal(acceptAddress('192.168.1.1', 'ipv4', { allowNonPublic: true }).ok, true);
  assert.equal(acceptAddress('2001:0db8:0000::0001', 'ipv6', { allowNonPublic: true }).ok, true);
  assert.equal(
    (acceptAddress('2001:0db8:0000::0001', 'ipv6', { allowNonPublic: true }) as { address: string }).address,
    '2001:db8::1',
  );
});
