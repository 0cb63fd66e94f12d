/**
 * Fuzzing DNS answers: a loopback DNS server (UDP and TCP) answers every query with generated
 * bytes: arbitrary ones, structurally valid dns-packet messages with odd content (any record
 * types, names, TTLs, sections, flags, rcodes), and such messages cut short or with bytes changed.
 * - transport `query`, `askServer`, the authoritative walk (`findAuthoritativeServers`,
 *   `askAuthoritative`), the resolvers (`askPublicResolvers`, `askSystemResolver`) and
 *   `waitForPropagation`: results or DdnsErrors, never a crash;
 * - RFC 2136: `judgeAnswer` on any answer (unsigned, signed with the key with any TSIG error and
 *   other data, signed then altered), `readRRset`/`findZoneAt`, and the rfc2136 provider end to end
 *   with a server that signs its odd answers with the account's key.
 */
import { after, before, test } from '../../support/suite';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import * as dnsPacket from 'dns-packet';
import { query, type DnsServer } from '../../../src/core/dns/transport';
import {
  askAuthoritative,
  askServer,
  findAuthoritativeServers,
  type ServerAnswer,
} from '../../../src/core/dns/authoritative';
import { askPublicResolvers, askSystemResolver } from '../../../src/core/dns/resolvers';
import { waitForPropagation } from '../../../src/core/dns/propagation';
import { findZoneAt, judgeAnswer, readRRset } from '../../../src/core/dns/update';
import { parseTsig, signRequest, signResponse, type TsigKey } from '../../../src/core/dns/tsig';
import { definition as rfc2136 } from '../../../src/core/providers/rfc2136';
import { addressSet, anyText, checkResultErrors, fuzz, outcome, outcomeSync, printTally } from './fuzz';
import { startRawDns, type RawDnsServer } from './wire';
import { hostname } from '../../support/parsed';

let dns: RawDnsServer;
let server: DnsServer;
before(async () => {
  dns = await startRawDns();
  server = { host: dns.host, port: dns.port };
});
after(async () => {
  await dns.close();
  printTally('dns');
});

const KEY: TsigKey = {
  name: 'ddns-key',
  algorithm: 'hmac-sha256',
  secret: 'XLAYnYsnEFP7j1o0yQ8sDaYlGQkCWziusA1jqgZWk7k=',
};
/** Time limit of one query: every query is answered at once, so a limit is only reached by a silent case. */
const Q = 400;

// ---------------------------------------------------------------------------------------------
// Generated answers

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const oddName = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      'home.example.com',
      'example.com',
      'ns1.example.com',
      'myip.opendns.com',
      'o-o.myaddr.l.google.com',
    ),
  },
  { weight: 2, arbitrary: fc.domain() },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '',
      '.',
      'com',
      'x'.repeat(63) + '.com',
      'HOME.Example.COM',
      'a.b.c.d.e.f.g.example.com',
    ),
  },
  { weight: 1, arbitrary: fc.stringMatching(/^[a-z0-9_\-*]{1,20}(\.[a-z0-9_-]{1,20}){0,3}$/) },
);
const ttl = fc.oneof(u32, fc.constantFrom(0, 1, 0x7fffffff, 0xffffffff));
const txtData = fc.oneof(
  anyText(60),
  fc.array(anyText(40), { maxLength: 3 }),
  fc.uint8Array({ maxLength: 80 }).map((b) => Buffer.from(b)),
);
const record: fc.Arbitrary<dnsPacket.Answer> = fc.oneof(
  fc.record({ type: fc.constant('A' as const), name: oddName, ttl, data: fc.ipV4() }),
  fc.record({ type: fc.constant('AAAA' as const), name: oddName, ttl, data: fc.ipV6() }),
  fc.record({ type: fc.constant('TXT' as const), name: oddName, ttl, data: txtData }),
  fc.record({
    type: fc.constantFrom('CNAME' as const, 'NS' as const, 'PTR' as const),
    name: oddName,
    ttl,
    data: oddName,
  }),
  fc.record({
    type: fc.constant('SOA' as const),
    name: oddName,
    ttl,
    data: fc.record({
      mname: oddName,
      rname: oddName,
      serial: u32,
      refresh: u32,
      retry: u32,
      expire: u32,
      minimum: u32,
    }),
  }),
  fc.record({
    type: fc.constant('MX' as const),
    name: oddName,
    ttl,
    data: fc.record({ preference: fc.integer({ min: 0, max: 0xffff }), exchange: oddName }),
  }),
) as fc.Arbitrary<dnsPacket.Answer>;
const section = fc.array(record, { maxLength: 4 });

/** A message as the generator describes it; the query's id (and question) are filled in at answer time. */
interface Shape {
  kind: 'raw' | 'packet';
  raw: Uint8Array;
  flags: number;
  rcode: number;
  echoQuestion: boolean;
  answers: dnsPacket.Answer[];
  authorities: dnsPacket.Answer[];
  additionals: dnsPacket.Answer[];
  /** Applied after encoding: cut to this length (when shorter), and these bytes changed. */
  cut: number | null;
  flips: Array<[number, number]>;
  keepId: boolean;
}

const shape: fc.Arbitrary<Shape> = fc.record({
  kind: fc.oneof(
    { weight: 1, arbitrary: fc.constant('raw' as const) },
    { weight: 3, arbitrary: fc.constant('packet' as const) },
  ),
  raw: fc.uint8Array({ minLength: 0, maxLength: 300 }),
  flags: fc.oneof(
    fc.integer({ min: 0, max: 0xffff }),
    fc.constantFrom(0x8400, 0x8580, 0x8000, 0x8180, 0x8200 /* TC */),
  ),
  rcode: fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(0, 3) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 15 }) },
  ),
  echoQuestion: fc.boolean(),
  answers: section,
  authorities: section,
  additionals: section,
  cut: fc.option(fc.nat({ max: 400 }), { nil: null, freq: 5 }),
  flips: fc.oneof(
    { weight: 3, arbitrary: fc.constant([] as Array<[number, number]>) },
    {
      weight: 1,
      arbitrary: fc.array(fc.tuple(fc.nat({ max: 400 }), fc.integer({ min: 0, max: 255 })), { maxLength: 3 }),
    },
  ),
  keepId: fc.boolean(),
});

/** The bytes of `s` answering `q` (a raw query). UDP answers are at least a header long (shorter ones are dropped: a timeout). */
function bytesOf(s: Shape, q: Buffer, via: 'udp' | 'tcp'): Buffer {
  let out: Buffer;
  if (s.kind === 'raw') out = Buffer.from(s.raw);
  else {
    let questions: dnsPacket.Question[] = [];
    try {
      questions = s.echoQuestion ? (dnsPacket.decode(q).questions ?? []) : [];
    } catch {
      questions = [];
    }
    try {
      out = dnsPacket.encode({
        type: 'response',
        id: 0,
        flags: (s.flags & ~0xf) | s.rcode,
        questions,
        answers: s.answers,
        authorities: s.authorities,
        additionals: s.additionals,
      });
    } catch {
      out = Buffer.from(s.raw);
    }
  }
  if (s.cut !== null && s.cut < out.length) out = out.subarray(0, s.cut);
  out = Buffer.from(out);
  for (const [at, v] of s.flips) if (at < out.length) out[at] = v;
  if (via === 'udp' && out.length < 12) out = Buffer.concat([out, Buffer.alloc(12 - out.length)]);
  // UDP answers with another id are dropped (a timeout): keep the id unless the case says otherwise over TCP.
  if (out.length >= 2 && (via === 'udp' || s.keepId) && q.length >= 2) q.copy(out, 0, 0, 2);
  return out;
}

/** Answer with `udp` over UDP and `tcp` over TCP (a TC bit sends the client there). */
function answerWith(udp: Shape, tcp: Shape) {
  dns.reply = (q, via) => bytesOf(via === 'udp' ? udp : tcp, q, via);
}

/** A server answer that hides a crash: askServer turns a non-DdnsError into `dns_error`. */
function checkAnswer(a: ServerAnswer): void {
  assert.notEqual(a.errorCode, 'dns_error', `askServer swallowed a crash: ${a.error}`);
  assert.ok(a.values.every((v) => typeof v === 'string'));
  assert.ok(a.ttl === null || Number.isFinite(a.ttl));
  if (a.negativeTtl !== undefined) assert.ok(Number.isFinite(a.negativeTtl));
}

const kind = fc.constantFrom('A' as const, 'AAAA' as const, 'TXT' as const);

test('transport query and askServer: any answer gives a result or a DdnsError', async () => {
  await fuzz(
    'dns query/askServer',
    fc.asyncProperty(shape, shape, oddName, kind, async (udp, tcp, name, type) => {
      answerWith(udp, tcp);
      const r = await outcome(() => query(server, name, type, { timeoutMs: Q }));
      if (r.ok) {
        assert.equal(typeof r.value.rcode, 'string');
        assert.ok(Array.isArray(r.value.answers) && Array.isArray(r.value.authorities));
      }
      checkAnswer(await askServer(server, name, type, { timeoutMs: Q }));
    }),
    { runs: 500 },
  );
});

test('authoritative walk, resolvers and propagation: any answer gives a result or a DdnsError', async () => {
  await fuzz(
    'dns walk/resolvers/propagation',
    fc.asyncProperty(
      shape,
      shape,
      oddName,
      kind,
      fc.constantFrom('walk', 'authoritative', 'public', 'system', 'propagation'),
      fc.array(fc.oneof(fc.ipV4(), fc.ipV6(), anyText(20)), { minLength: 1, maxLength: 2 }),
      async (udp, tcp, name, type, what, expected) => {
        answerWith(udp, tcp);
        const o = { discovery: [server], authPort: dns.port, timeoutMs: Q };
        switch (what) {
          case 'walk': {
            const r = await outcome(() => findAuthoritativeServers(name, o));
            if (r.ok) assert.ok(r.value.servers.length > 0);
            break;
          }
          case 'authoritative': {
            const r = await outcome(() => askAuthoritative(name, type, { ...o, servers: [server], maxCnames: 2 }));
            if (r.ok) r.value.answers.forEach(checkAnswer);
            break;
          }
          case 'public':
            (await askPublicResolvers({ name, type, expected, servers: [server], timeoutMs: Q })).forEach(checkAnswer);
            break;
          case 'system': {
            // c-ares drops answers it cannot read and waits for the time limit: a short one.
            const r = await outcome(() =>
              askSystemResolver({ name, type, expected, servers: [server], timeoutMs: 150 }),
            );
            if (r.ok) assert.ok(r.value.values.every((v) => typeof v === 'string'));
            break;
          }
          case 'propagation': {
            const r = await outcome(() =>
              waitForPropagation({
                name: name || 'x.example',
                type,
                expected,
                servers: [server],
                timeoutMs: 120,
                intervalMs: 50,
                queryTimeoutMs: 100,
              }),
            );
            if (r.ok) r.value.perServer.forEach(checkAnswer);
          }
        }
      },
    ),
    { runs: 300 },
  );
});

// ---------------------------------------------------------------------------------------------
// RFC 2136

/** An UPDATE answer: QR and opcode 5 mostly, any rcode, sections of odd records, signed or not. */
const updateAnswer = fc.record({
  base: shape,
  update: fc.boolean(),
  sign: fc.oneof(
    { weight: 2, arbitrary: fc.constant('yes' as const) },
    fc.constantFrom('no' as const, 'tampered' as const),
  ),
  tsigError: fc.oneof(fc.constantFrom(0, 16, 17, 18, 22), fc.integer({ min: 0, max: 0xffff })),
  otherData: fc.oneof(
    fc.uint8Array({ minLength: 6, maxLength: 6 }),
    fc.constant(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff])),
    fc.uint8Array({ maxLength: 12 }),
  ),
  skewS: fc.oneof(fc.constant(0), fc.integer({ min: -1e6, max: 1e6 }), fc.constantFrom(-2e9, 2e9)),
  fudge: fc.integer({ min: 0, max: 0xffff }),
});
type UpdateAnswer = typeof updateAnswer extends fc.Arbitrary<infer T> ? T : never;

/** The bytes of an answer to request `q` (signed with KEY, whose request MAC is read from `q` when signed). */
function updateBytes(a: UpdateAnswer, q: Buffer, via: 'udp' | 'tcp', now: number): Buffer {
  let msg = bytesOf(a.base, q, via);
  if (a.update && msg.length >= 4) msg.writeUInt16BE(0xa800 | (msg.readUInt16BE(2) & 0x000f), 2);
  if (a.sign === 'no' || msg.length < 12) return msg;
  let requestMac: Buffer = Buffer.alloc(32);
  try {
    requestMac = parseTsig(q)?.mac ?? requestMac;
  } catch {
    // an unsigned or odd request: any MAC will do
  }
  try {
    msg = signResponse(msg, requestMac, KEY, {
      now: now + a.skewS * 1000,
      fudge: a.fudge,
      error: a.tsigError,
      otherData: Buffer.from(a.otherData),
    });
  } catch {
    return msg;
  }
  if (a.sign === 'tampered' && msg.length > 20) msg[msg.length - 20] ^= 0x55;
  return msg;
}

test('RFC 2136 answers: judgeAnswer gives nothing (NOERROR) or a DdnsError', async () => {
  const request = dnsPacket.encode({ type: 'query', id: 4242, questions: [{ name: 'example.com', type: 'SOA' }] });
  const signed = signRequest(request, KEY, { now: Date.UTC(2025, 0, 1) });
  const now = Date.UTC(2025, 0, 1);
  await fuzz(
    'rfc2136 judgeAnswer',
    fc.property(updateAnswer, fc.boolean(), (a, withKey) => {
      const raw = updateBytes(a, signed.message, 'tcp', now);
      outcomeSync(() =>
        judgeAnswer(
          raw,
          { server: '127.0.0.1:53', zone: 'example.com', key: withKey ? KEY : null },
          withKey ? signed.mac : null,
          now,
        ),
      );
    }),
    { runs: 2500 },
  );
});

test('RFC 2136 reads and the rfc2136 provider: any answer, signed or not, gives results or a DdnsError', async () => {
  await fuzz(
    'rfc2136 provider',
    fc.asyncProperty(
      updateAnswer,
      updateAnswer,
      addressSet,
      fc.record({ zone: fc.constantFrom(undefined, 'example.com'), signed: fc.boolean(), tcp: fc.boolean() }),
      fc.constantFrom('set', 'get', 'txt', 'read', 'zone'),
      async (udp, tcp, addresses, s, op) => {
        dns.reply = (q, via) => updateBytes(via === 'udp' ? udp : tcp, q, via, Date.now());
        const p = rfc2136.create(
          rfc2136.settings.parse({
            server: `${dns.host}:${dns.port}`,
            zone: s.zone,
            tcp: s.tcp,
            ...(s.signed ? { keyName: KEY.name, algorithm: KEY.algorithm, tsigSecret: KEY.secret } : {}),
          }),
          { timeoutMs: Q },
        );
        const name = hostname('home.example.com');
        switch (op) {
          case 'set': {
            const r = await outcome(() => p.setAddresses({ hostnames: [name], addresses }));
            if (r.ok) checkResultErrors(r.value);
            break;
          }
          case 'get':
            await outcome(() => p.getAddresses!(name, addresses.ipv4 ? 'ipv4' : 'ipv6'));
            break;
          case 'txt':
            await outcome(() => p.setTxt!(`_acme-challenge.${name}`, 'challenge-value'));
            break;
          case 'read':
            await outcome(() => readRRset(server, name, addresses.ipv4 ? 'A' : 'AAAA', { timeoutMs: Q }));
            break;
          case 'zone':
            await outcome(() => findZoneAt(server, name, { timeoutMs: Q }));
        }
      },
    ),
    { runs: 500 },
  );
});
