/**
 * A recursive resolver in front of a real BIND, as a CA has one: each question is asked of the
 * authoritative named (RD clear) and a CNAME answer is followed into the target's zone, so Pebble
 * can validate a delegated `_acme-challenge` CNAME whose target is in another zone of that named
 * (an authoritative named does not chase an alias across zones). It keeps no cache, unlike a
 * resolver such as named in recursive mode (which serves a TTL-0 record for up to a second): a name
 * and its wildcard validated one right after the other then both see the current TXT values.
 */
import type * as dnsPacket from 'dns-packet';
import { query } from '../../src/core/dns/transport';
import { startDnsServer, type TestDnsServer } from './dns-server';

const norm = (n: string) => n.toLowerCase().replace(/\.$/, '');

export function startChasingResolver(auth: { port: number }): Promise<TestDnsServer> {
  return startDnsServer(async (q) => {
    const answers: dnsPacket.Answer[] = [];
    let name = q.name;
    for (let hop = 0; hop < 8; hop++) {
      const r = await query({ host: '127.0.0.1', port: auth.port }, name, q.type as dnsPacket.RecordType, {
        recursion: false,
        timeoutMs: 2000,
      });
      answers.push(...r.answers);
      const alias = r.answers.find((a) => a.type === 'CNAME' && norm(a.name) === norm(name));
      if (!alias || r.answers.some((a) => a.type === q.type))
        return { answers, rcode: r.rcode as 'NOERROR' | 'NXDOMAIN' | 'SERVFAIL' | 'REFUSED' };
      name = String((alias as { data?: unknown }).data);
      if (answers.some((a) => a.type === 'CNAME' && norm(a.name) === norm(name))) return { answers, rcode: 'SERVFAIL' };
    }
    return { answers, rcode: 'SERVFAIL' };
  });
}
