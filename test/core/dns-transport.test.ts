import { test } from '../support/suite';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { parseServer, query } from '../../src/core/dns/transport';
import { skipWithoutBind, startBind } from '../support/bind';
import type { DdnsError } from '../../src/core/errors';

test('parseServer', () => {
  assert.deepEqual(parseServer('1.2.3.4'), { host: '1.2.3.4', port: 53 });
  assert.deepEqual(parseServer('1.2.3.4:5353'), { host: '1.2.3.4', port: 5353 });
  assert.deepEqual(parseServer('[::1]:5353'), { host: '::1', port: 5353 });
  assert.deepEqual(parseServer('2606:4700:4700::1111'), { host: '2606:4700:4700::1111', port: 53 });
});

test('query: real named over UDP, TCP and IPv6; a silent server times out', { skip: skipWithoutBind() }, async () => {
  const txt = Array.from({ length: 30 }, (_, i) => `big 60 IN TXT "${'x'.repeat(200)}${i}"`);
  const bind = await startBind([{ name: 'home.test', records: ['www 120 IN A 192.0.2.10', ...txt] }]);
  const silent = dgram.createSocket('udp4');
  await new Promise<void>((r) => silent.bind(0, '127.0.0.1', () => r()));
  try {
    const r = await query({ host: '127.0.0.1', port: bind.port }, 'www.home.test', 'A');
    assert.equal(r.rcode, 'NOERROR');
    assert.equal(r.authoritative, true);
    assert.equal(r.answers[0].type, 'A');
    assert.equal((r.answers[0] as { data: string }).data, '192.0.2.10');
    assert.equal(r.answers[0].ttl, 120);
    const v6 = await query({ host: '::1', port: bind.port }, 'www.home.test', 'A');
    assert.equal((v6.answers[0] as { data: string }).data, '192.0.2.10');
    const nx = await query({ host: '127.0.0.1', port: bind.port }, 'nope.home.test', 'A');
    assert.equal(nx.rcode, 'NXDOMAIN');
    // 30 × 200-byte TXT records do not fit in UDP: truncated, then asked again over TCP
    const big = await query({ host: '127.0.0.1', port: bind.port }, 'big.home.test', 'TXT');
    assert.equal(big.answers.length, 30);
    const port = (silent.address() as { port: number }).port;
    await assert.rejects(
      query({ host: '127.0.0.1', port }, 'www.home.test', 'A', { timeoutMs: 300, retransmitMs: 100 }),
      (e: DdnsError) => e.code === 'timeout',
    );
  } finally {
    silent.close();
    await bind.stop();
  }
});
