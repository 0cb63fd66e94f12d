/**
 * RFC 2136 provider and UPDATE code against a real BIND 9 (test/support/bind.ts).
 *
 * Protocol references: RFC 2136 (https://www.rfc-editor.org/rfc/rfc2136) for the UPDATE message and
 * its rcodes, RFC 8945 (https://www.rfc-editor.org/rfc/rfc8945) for TSIG. Every record change is read
 * back from named with dig; the number of UPDATE messages is read from the zone's SOA serial (BIND
 * adds one per applied message).
 */
import { after, before, describe, test } from '../../support/suite';
import assert from 'node:assert/strict';
import { visibleTexts } from '../../support/visible-texts';
import { providerCall, updateRequest } from '../../support/parsed';
import { MemoryStore } from '../../../src/core/store';
import { UpdateEngine } from '../../../src/core/update/engine';
import dgram from 'node:dgram';
import net from 'node:net';
import { DdnsError } from '../../../src/core/errors';
import { definition, rfc2136Settings } from '../../../src/core/providers/rfc2136';
import { providerById } from '../../../src/core/providers/registry';
import type { DnsProvider, RecordResult } from '../../../src/core/providers/types';
import { findZoneAt, readRRset, replaceRRset, sendUpdate } from '../../../src/core/dns/update';
import { parseTsig, withoutTsig } from '../../../src/core/dns/tsig';
import { skipWithoutBind, startBind, type BindServer, type TsigKey } from '../../support/bind';

/** Everything a person could see: results, messages, errors with detail and stack. */
const seen: unknown[] = [];
const see = (x: unknown): void => void seen.push(x);
/** Await `p`, expecting a DdnsError; returns it (and records it in `seen`). */
async function failure(p: Promise<unknown>): Promise<DdnsError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof DdnsError, `a DdnsError, got ${String(e)}`);
    see(e);
    return e;
  }
  throw new Error('expected a failure');
}

test('settings: defaults, normalisation, and clear errors that never repeat the secret', () => {
  const s = rfc2136Settings.parse({
    server: '192.0.2.53',
    keyName: 'DDNS-Key.',
    tsigSecret: ' secret "c2VjcmV0c2VjcmV0";',
    zone: '',
    ttl: '',
    tcp: '',
  });
  assert.deepEqual(s, {
    server: '192.0.2.53',
    zone: undefined,
    keyName: 'ddns-key',
    tsigSecret: 'c2VjcmV0c2VjcmV0',
    algorithm: 'hmac-sha256',
    ttl: 60,
    tcp: false,
  });
  const t = rfc2136Settings.parse({
    server: '[2001:db8::53]:5353',
    zone: 'Example.COM.',
    algorithm: 'SHA512',
    ttl: '300',
    tcp: 'true',
  });
  assert.equal(t.zone, 'example.com');
  assert.equal(t.algorithm, 'hmac-sha512');
  assert.equal(t.ttl, 300);
  assert.equal(t.tcp, true);
  assert.equal(rfc2136Settings.parse({ server: 'ns1.example.com:53' }).server, 'ns1.example.com:53');
  const bad = (x: object) => {
    const r = rfc2136Settings.safeParse(x);
    assert.equal(r.success, false);
    return r.error!.issues.map((i) => i.message).join('; ');
  };
  assert.match(bad({}), /enter the DNS server/);
  assert.match(bad({ server: 'not a server!' }), /host name or an IP address/);
  assert.match(bad({ server: '192.0.2.1:70000' }), /host name or an IP address/);
  assert.match(bad({ server: '192.0.2.1', keyName: 'k' }), /both the TSIG key name and its secret/);
  assert.match(bad({ server: '192.0.2.1', algorithm: 'hmac-md5' }), /hmac-sha256 or hmac-sha512/);
  assert.match(bad({ server: '192.0.2.1', ttl: -1 }), /negative/);
  const secret = 'not*base64*SECRET';
  const msg = bad({ server: '192.0.2.1', keyName: 'k', tsigSecret: secret });
  assert.match(msg, /base64/);
  assert.ok(!msg.includes(secret));
  assert.throws(
    () => definition.create({ server: '' } as never, {}),
    (e: DdnsError) => e.kind === 'input' && /RFC 2136 account/.test(e.message),
  );
  assert.equal(definition.id, 'rfc2136');
  assert.equal(providerById('rfc2136'), definition);
  assert.equal(definition.txt, true);
  assert.ok(definition.fields.some((f) => f.key === 'tsigSecret' && f.kind === 'password'));
});

describe('RFC 2136 against a real named', { skip: skipWithoutBind() }, () => {
  let bind: BindServer;
  let server: { host: string; port: number };
  const closers: Array<() => unknown> = [];

  before(async () => {
    bind = await startBind([
      {
        name: 'home.test',
        records: [
          'multi 60 IN A 192.0.2.1',
          'multi 60 IN A 192.0.2.2',
          'cn 60 IN CNAME www.home.test.',
          'alias 60 IN CNAME www.elsewhere.test.',
          'keep 60 IN A 192.0.2.99',
        ],
      },
      { name: 'sub.home.test' },
      { name: 'example.test' },
    ]);
    server = { host: '127.0.0.1', port: bind.port };
  });
  after(async () => {
    for (const c of closers) await c();
    await bind?.stop();
    const leaked = visibleTexts(seen).filter(
      (s) => s.includes(bind.keys.sha256.secret) || s.includes(bind.keys.sha512.secret),
    );
    assert.deepEqual(leaked, [], 'no secret in any message, error or result');
  });

  const provider = (
    extra: Record<string, unknown> = {},
    key: TsigKey | null = bind.keys.sha256,
    timeoutMs = 3000,
  ): DnsProvider =>
    definition.create(
      definition.settings.parse({
        server: `127.0.0.1:${bind.port}`,
        ...(key ? { keyName: key.name, tsigSecret: key.secret, algorithm: key.algorithm } : {}),
        ...extra,
      }),
      { timeoutMs },
    );
  const serial = (zone: string) => Number(bind.dig(zone, 'SOA')[0].split(' ')[2]);
  const outcomes = (r: RecordResult[]) => r.map((x) => `${x.hostname}/${x.family}:${x.outcome}`).sort();

  test('A and AAAA of several names in two zones: one UPDATE per zone, read back with dig; then nothing to do', async () => {
    const p = provider();
    const [home, sub] = [serial('home.test'), serial('sub.home.test')];
    const names = ['a.home.test', 'b.home.test', 'Deep.Er.Sub.Home.Test.', 'home.test'];
    const r = await p.setAddresses(
      providerCall({ hostnames: names, addresses: { ipv4: '192.0.2.10', ipv6: '2001:DB8::10' } }, 'as-given'),
    );
    see(r);
    assert.deepEqual(outcomes(r), names.flatMap((n) => [`${n}/ipv4:updated`, `${n}/ipv6:updated`]).sort());
    assert.match(r[0].message, /^A record of a\.home\.test set to 192\.0\.2\.10 \(new record\)$/);
    for (const n of ['a.home.test', 'b.home.test', 'deep.er.sub.home.test', 'home.test']) {
      assert.deepEqual(bind.dig(n, 'A'), ['192.0.2.10']);
      assert.deepEqual(bind.dig(n, 'AAAA'), ['2001:db8::10']);
    }
    assert.match(bind.digAnswer('a.home.test')[0], /^a\.home\.test\.\s+60\s+IN\s+A\s+192\.0\.2\.10$/);
    assert.equal(serial('home.test'), home + 1, 'one message for the three names of home.test');
    assert.equal(serial('sub.home.test'), sub + 1, 'one message for sub.home.test');

    const again = await p.setAddresses(
      providerCall({ hostnames: names, addresses: { ipv4: '192.0.2.10', ipv6: '2001:db8:0::10' } }, 'as-given'),
    );
    assert.ok(
      again.every((x) => x.outcome === 'unchanged'),
      JSON.stringify(again),
    );
    assert.equal(serial('home.test'), home + 1, 'nothing written when the records already hold the addresses');
    assert.deepEqual(await p.getAddresses!('b.home.test', 'ipv6'), ['2001:db8::10']);
    assert.deepEqual(await p.getAddresses!('nothing.home.test', 'ipv4'), []);

    const changed = await p.setAddresses(
      providerCall({ hostnames: ['a.home.test'], addresses: { ipv4: '192.0.2.11' } }, 'as-given'),
    );
    assert.equal(changed[0].message, 'A record of a.home.test set to 192.0.2.11 (was 192.0.2.10)');
    assert.deepEqual(bind.dig('a.home.test', 'AAAA'), ['2001:db8::10'], 'the other family is left alone');
  });

  test('hmac-sha512; an RRset holding two addresses ends up holding exactly the new one', async () => {
    const p = provider({}, bind.keys.sha512);
    const r = await p.setAddresses(
      providerCall({ hostnames: ['multi.home.test'], addresses: { ipv4: '192.0.2.3' } }, 'as-given'),
    );
    assert.equal(r[0].outcome, 'updated');
    assert.match(r[0].message, /was 192\.0\.2\.1, 192\.0\.2\.2/);
    assert.deepEqual(bind.dig('multi.home.test'), ['192.0.2.3']);
    assert.deepEqual(bind.dig('keep.home.test'), ['192.0.2.99']);
    // the same through the exported helper, with two values
    await replaceRRset(server, 'home.test', 'multi.home.test', 'A', ['192.0.2.4', '192.0.2.5'], 120, bind.keys.sha512);
    assert.deepEqual(bind.dig('multi.home.test').sort(), ['192.0.2.4', '192.0.2.5']);
    assert.match(bind.digAnswer('multi.home.test')[0], /\s120\s+IN\s+A\s/);
  });

  test('TXT: two values on one name, delete one; a value longer than 255 bytes', async () => {
    const p = provider({ ttl: 30 });
    await p.setTxt!('_acme-challenge.www.home.test', 'first-token');
    await p.setTxt!('_acme-challenge.www.home.test', 'second-token');
    await p.setTxt!('_acme-challenge.www.home.test', 'second-token'); // the same value again: no duplicate
    assert.deepEqual(bind.dig('_acme-challenge.www.home.test', 'TXT').sort(), ['"first-token"', '"second-token"']);
    await p.deleteTxt!('_acme-challenge.www.home.test', 'first-token');
    assert.deepEqual(bind.dig('_acme-challenge.www.home.test', 'TXT'), ['"second-token"']);
    assert.match(bind.digAnswer('_acme-challenge.www.home.test', 'TXT')[0], /\s30\s+IN\s+TXT\s/);
    await p.deleteTxt!('_acme-challenge.www.home.test', 'second-token');
    await p.deleteTxt!('_acme-challenge.www.home.test', 'second-token'); // already gone: fine
    assert.deepEqual(bind.dig('_acme-challenge.www.home.test', 'TXT'), []);

    const long = 'x'.repeat(300) + 'é';
    await p.setTxt!('long.example.test', long);
    assert.deepEqual((await readRRset(server, 'long.example.test', 'TXT')).values, [long]);
    await p.deleteTxt!('long.example.test', long);
    assert.deepEqual(bind.dig('long.example.test', 'TXT'), []);
  });

  test('wrong secret (BADSIG), unknown key and wrong algorithm (BADKEY): fatal for the account, nothing written, secret never shown', async () => {
    const before = serial('home.test');
    const wrong = { ...bind.keys.sha256, secret: Buffer.alloc(32, 9).toString('base64') };
    const e1 = await failure(
      provider({}, wrong).setAddresses(
        providerCall({ hostnames: ['c.home.test', 'd.example.test'], addresses: { ipv4: '192.0.2.20' } }, 'as-given'),
      ),
    );
    assert.equal(e1.kind, 'fatal');
    assert.equal(e1.code, 'tsig_badsig');
    assert.equal(e1.scope, 'account');
    assert.match(e1.message, /wrong TSIG secret or algorithm/);
    assert.ok(!e1.message.includes(wrong.secret));
    const e2 = await failure(provider({}, { ...bind.keys.sha256, name: 'no-such-key' }).setTxt!('t.home.test', 'v'));
    assert.equal(e2.code, 'tsig_badkey');
    assert.match(e2.message, /does not know the key "no-such-key"/);
    const e3 = await failure(
      provider({}, { ...bind.keys.sha256, algorithm: 'hmac-sha512' }).deleteTxt!('t.home.test', 'v'),
    );
    assert.equal(e3.code, 'tsig_badkey');
    assert.equal(serial('home.test'), before);
    assert.deepEqual(bind.dig('c.home.test'), []);
  });

  test('no key: REFUSED, fatal, with a hint, nothing written', async () => {
    const r = await provider({}, null).setAddresses(
      providerCall({ hostnames: ['e.home.test'], addresses: { ipv4: '192.0.2.21' } }, 'as-given'),
    );
    see(r);
    assert.equal(r[0].outcome, 'failed');
    assert.equal(r[0].error!.kind, 'fatal');
    assert.equal(r[0].error!.code, 'refused');
    assert.match(r[0].message, /requires a TSIG key/);
    const e = await failure(
      sendUpdate(
        server,
        { zone: 'home.test', adds: [{ name: 'e.home.test', type: 'A', data: '192.0.2.21', ttl: 60 }] },
        null,
      ),
    );
    assert.equal(e.code, 'refused');
    assert.deepEqual(bind.dig('e.home.test'), []);
  });

  test('names outside the served zones: zone not found, NOTZONE, NOTAUTH, outside the configured zone', async () => {
    const p = provider();
    const r = await p.setAddresses(
      providerCall({ hostnames: ['x.elsewhere.test', 'f.home.test'], addresses: { ipv4: '192.0.2.22' } }, 'as-given'),
    );
    see(r);
    const byName = Object.fromEntries(r.map((x) => [x.hostname, x]));
    assert.equal(byName['x.elsewhere.test'].outcome, 'failed');
    assert.equal(byName['x.elsewhere.test'].error!.code, 'zone_not_found');
    assert.match(byName['x.elsewhere.test'].message, /serves no zone that contains x\.elsewhere\.test/);
    assert.equal(byName['f.home.test'].outcome, 'updated', 'the other names still go through');
    assert.deepEqual(bind.dig('f.home.test'), ['192.0.2.22']);

    /** The error of a raw update adding an A record for `name` in `zone`. */
    const refusal = (zone: string, name: string) =>
      failure(sendUpdate(server, { zone, adds: [{ name, type: 'A', data: '192.0.2.23', ttl: 60 }] }, bind.keys.sha256));
    const notzone = await refusal('home.test', 'x.example.test');
    assert.equal(notzone.code, 'notzone');
    assert.equal(notzone.kind, 'fatal');
    const notauth = await refusal('elsewhere.test', 'x.elsewhere.test');
    assert.equal(notauth.code, 'notauth');
    assert.match(notauth.message, /not authoritative for zone elsewhere\.test/);

    const zoned = provider({ zone: 'example.test' });
    const z = await zoned.setAddresses(
      providerCall({ hostnames: ['g.home.test', 'g.example.test'], addresses: { ipv4: '192.0.2.24' } }, 'as-given'),
    );
    assert.deepEqual(outcomes(z), ['g.example.test/ipv4:updated', 'g.home.test/ipv4:failed']);
    assert.match(z.find((x) => x.outcome === 'failed')!.message, /not inside zone example\.test set in the account/);
    // a zone set wrongly (the server does not serve it): NOTAUTH for those names
    const wrongZone = await provider({ zone: 'test' }).setAddresses(
      providerCall({ hostnames: ['h.home.test'], addresses: { ipv4: '192.0.2.25' } }, 'as-given'),
    );
    assert.equal(wrongZone[0].error!.code, 'notauth');
  });

  test('zone found by SOA queries: a deep name, a name below an alias (walks up), an alias refused', async () => {
    assert.equal(await findZoneAt(server, 'a.b.c.deep.sub.home.test', { timeoutMs: 2000 }), 'sub.home.test');
    assert.equal(await findZoneAt(server, 'SUB.home.test.'), 'sub.home.test');
    assert.equal(await findZoneAt(server, 'alias.home.test'), 'home.test');
    assert.equal(await findZoneAt(server, 'home.test'), 'home.test');
    await assert.rejects(
      findZoneAt(server, 'test'),
      (e: DdnsError) => e.code === 'zone_not_found' && e.kind === 'fatal',
    );

    const r = await provider().setAddresses(
      providerCall({ hostnames: ['cn.home.test', 'alias.home.test'], addresses: { ipv4: '192.0.2.26' } }, 'as-given'),
    );
    see(r);
    assert.deepEqual(outcomes(r), ['alias.home.test/ipv4:failed', 'cn.home.test/ipv4:failed']);
    assert.match(r.find((x) => x.hostname === 'cn.home.test')!.message, /alias \(CNAME\) of www\.home\.test/);
    assert.equal(r[0].error!.code, 'cname');
    assert.deepEqual(bind.dig('cn.home.test', 'CNAME'), ['www.home.test.']);
  });

  test('a server that never answers: transient, for the whole account', async () => {
    const silent = dgram.createSocket('udp4');
    await new Promise<void>((r) => silent.bind(0, '127.0.0.1', () => r()));
    closers.push(() => new Promise<void>((r) => silent.close(() => r())));
    const port = (silent.address() as net.AddressInfo).port;
    const p = definition.create(
      definition.settings.parse({ server: `127.0.0.1:${port}`, keyName: 'k', tsigSecret: bind.keys.sha256.secret }),
      { timeoutMs: 300 },
    );
    const e = await failure(
      p.setAddresses(providerCall({ hostnames: ['a.home.test'], addresses: { ipv4: '192.0.2.27' } }, 'as-given')),
    );
    assert.equal(e.kind, 'transient');
    assert.equal(e.code, 'timeout');
    assert.equal(e.scope, 'account');
    const z = definition.create(definition.settings.parse({ server: `127.0.0.1:${port}`, zone: 'home.test' }), {
      timeoutMs: 300,
    });
    assert.equal((await failure(z.setTxt!('a.home.test', 'v'))).code, 'timeout');
    const u = await failure(
      sendUpdate({ host: '127.0.0.1', port }, { zone: 'home.test' }, bind.keys.sha256, {
        timeoutMs: 250,
        retransmitMs: 100,
      }),
    );
    assert.equal(u.code, 'timeout');
  });

  /** A TCP-only path to named (nothing listens for UDP on its port) that counts connections. */
  async function tcpRelay(): Promise<{ port: number; connections: number }> {
    const relay = { port: 0, connections: 0 };
    const proxy = net.createServer((c) => {
      relay.connections++;
      const up = net.connect(bind.port, '127.0.0.1');
      c.pipe(up).pipe(c);
      c.on('error', () => up.destroy());
      up.on('error', () => c.destroy());
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
    closers.push(() => new Promise<void>((r) => proxy.close(() => r())));
    relay.port = (proxy.address() as net.AddressInfo).port;
    return relay;
  }

  // Issue 17: messages O(zones), not O(names). RFC 2136 §2.4 prerequisites ("RRset exists (value
  // dependent)", "RRset does not exist") make the write conditional on what was last confirmed; a
  // failed prerequisite (§3.2.5: NXRRSET / YXRRSET, nothing applied) leads to one read per name and
  // one more write. Each message is counted as one TCP connection to named.
  test('500 names: one UPDATE each time, no read; a record changed behind its back: read, then written once more', async () => {
    const relay = await tcpRelay();
    const p = definition.create(
      definition.settings.parse({
        server: `127.0.0.1:${relay.port}`,
        zone: 'example.test',
        keyName: bind.keys.sha256.name,
        tsigSecret: bind.keys.sha256.secret,
        tcp: true,
      }),
      { timeoutMs: 5000 },
    );
    assert.equal(p.conditional, true);
    const names = Array.from({ length: 500 }, (_, i) => `mass${i}.example.test`);
    const expected = (address: string) => new Map(names.map((n) => [`${n}|ipv4`, address]));
    const write = (address: string, known?: string) =>
      p.setAddresses({
        ...providerCall({ hostnames: names, addresses: { ipv4: address } }, 'as-given'),
        ...(known ? { expected: expected(known) } : {}),
      });

    // nothing confirmed: "the RRset does not exist" holds, one message
    let r = await write('198.51.100.1');
    assert.ok(r.every((x) => x.outcome === 'updated' && /new record/.test(x.message)));
    assert.equal(relay.connections, 1, 'one UPDATE for 500 names');
    // confirmed: "the RRset holds exactly 198.51.100.1" holds, one message
    r = await write('198.51.100.2', '198.51.100.1');
    assert.ok(r.every((x) => x.outcome === 'updated' && /was 198\.51\.100\.1\)$/.test(x.message)));
    assert.equal(relay.connections, 2);
    assert.deepEqual(bind.dig('mass499.example.test'), ['198.51.100.2']);

    // someone else changes one record: the prerequisite fails (NXRRSET), nothing is applied; the
    // names are read (500 queries) and written once more, on what was read
    await replaceRRset(server, 'example.test', 'mass7.example.test', 'A', ['192.0.2.77'], 60, bind.keys.sha256);
    r = await write('198.51.100.3', '198.51.100.2');
    assert.equal(relay.connections, 2 + 1 + 500 + 1);
    assert.ok(r.every((x) => x.outcome === 'updated'));
    assert.match(r.find((x) => x.hostname === 'mass7.example.test')!.message, /was 192\.0\.2\.77\)$/);
    assert.deepEqual(bind.dig('mass7.example.test'), ['198.51.100.3']);

    // a stale memory naming an older address while the records already hold the new one (a store
    // that lost its last save): read, `unchanged`, nothing written
    const serialBefore = serial('example.test');
    r = await write('198.51.100.3', '198.51.100.2');
    assert.ok(r.every((x) => x.outcome === 'unchanged'));
    assert.equal(serial('example.test'), serialBefore);

    // 1,000 names with A and AAAA, nothing confirmed: more than one DNS message holds (64 KiB),
    // so two messages, each all-or-nothing
    const before = relay.connections;
    const big = Array.from({ length: 1000 }, (_, i) => `big${i}.example.test`);
    r = await p.setAddresses(
      providerCall({ hostnames: big, addresses: { ipv4: '198.51.100.4', ipv6: '2001:db8::4' } }, 'as-given'),
    );
    assert.equal(r.length, 2000);
    assert.ok(r.every((x) => x.outcome === 'updated'));
    assert.equal(relay.connections, before + 2);
    assert.deepEqual(bind.dig('big999.example.test', 'AAAA'), ['2001:db8::4']);
  });

  test('the engine with RFC 2136: no read before the first write after a start; a stale saved state is caught by the prerequisite', async () => {
    const relay = await tcpRelay();
    const settings = {
      server: `127.0.0.1:${relay.port}`,
      zone: 'example.test',
      keyName: bind.keys.sha256.name,
      tsigSecret: bind.keys.sha256.secret,
      tcp: true,
    };
    const store = new MemoryStore();
    const engine = () =>
      new UpdateEngine({
        provider: definition.create(definition.settings.parse(settings), { timeoutMs: 5000 }),
        accountKey: 'rfc2136-engine',
        minIntervalMs: 0,
        store,
      });
    const names = ['eng1.example.test', 'eng2.example.test'];
    /** One engine start, one update, stopped: the statuses. */
    const started = async (ipv4: string) => {
      const e = engine();
      const r = await e.update(updateRequest({ hostnames: names, addresses: { ipv4 } }));
      e.stop();
      return r.map((x) => x.status);
    };
    assert.deepEqual(await started('198.51.100.10'), ['updated', 'updated']);
    assert.equal(relay.connections, 1, 'no read before the first write: one UPDATE');
    // a new start (the saved state names 198.51.100.10): the next change is one UPDATE, no read
    assert.deepEqual(await started('198.51.100.11'), ['updated', 'updated']);
    assert.equal(relay.connections, 2);
    // the saved state is stale (it names .10 again, the records hold .11): the condition fails,
    // the provider reads, and nothing is written for records that already hold the address
    const saved = (await store.load()) as { records: Record<string, { address: string }> };
    for (const k of Object.keys(saved.records)) saved.records[k].address = '198.51.100.10';
    await store.save(saved);
    assert.deepEqual(await started('198.51.100.11'), ['unchanged', 'unchanged']);
    assert.equal(relay.connections, 2 + 1 + 2, 'the failed UPDATE and one read per name');
  });

  test('TCP: forced by the setting, and chosen by itself for a large update', async () => {
    const relay = await tcpRelay();
    const port = relay.port;

    const p = definition.create(
      definition.settings.parse({
        server: `127.0.0.1:${port}`,
        keyName: bind.keys.sha256.name,
        tsigSecret: bind.keys.sha256.secret,
        tcp: true,
      }),
      { timeoutMs: 2000 },
    );
    const r = await p.setAddresses(
      providerCall({ hostnames: ['tcp.home.test'], addresses: { ipv6: '2001:db8::53' } }, 'as-given'),
    );
    assert.equal(r[0].outcome, 'updated');
    assert.deepEqual(bind.dig('tcp.home.test', 'AAAA'), ['2001:db8::53']);
    assert.equal(relay.connections, 2, 'zone lookup and update went over TCP (no read: the write is conditional)');

    const before = relay.connections;
    const adds = Array.from({ length: 60 }, (_, i) => ({
      name: `bulk${i}.example.test`,
      type: 'A' as const,
      data: `198.51.100.${i}`,
      ttl: 60,
    }));
    await sendUpdate({ host: '127.0.0.1', port }, { zone: 'example.test', adds }, bind.keys.sha512, {
      timeoutMs: 2000,
    });
    assert.equal(relay.connections, before + 1);
    assert.deepEqual(bind.dig('bulk59.example.test'), ['198.51.100.59']);
  });

  test("the answer's signature is checked: an altered or unsigned answer is not trusted", async () => {
    /** A UDP relay to named that passes requests on and changes UPDATE answers with `change`. */
    const relay = async (change: (m: Buffer) => Buffer) => {
      const front = dgram.createSocket('udp4');
      const back = dgram.createSocket('udp4');
      await new Promise<void>((r) => front.bind(0, '127.0.0.1', () => r()));
      await new Promise<void>((r) => back.bind(0, '127.0.0.1', () => r()));
      closers.push(
        () => new Promise<void>((r) => front.close(() => r())),
        () => new Promise<void>((r) => back.close(() => r())),
      );
      let client: dgram.RemoteInfo | undefined;
      front.on('message', (m, rinfo) => {
        client = rinfo;
        back.send(m, bind.port, '127.0.0.1');
      });
      back.on('message', (m) =>
        front.send(((m.readUInt16BE(2) >> 11) & 0xf) === 5 ? change(m) : m, client!.port, client!.address),
      );
      return { host: '127.0.0.1', port: (front.address() as net.AddressInfo).port };
    };
    const req = {
      zone: 'home.test',
      deletes: [{ name: 'mac.home.test', type: 'A' as const }],
      adds: [{ name: 'mac.home.test', type: 'A' as const, data: '192.0.2.30', ttl: 60 }],
    };

    await sendUpdate(await relay((m) => m), req, bind.keys.sha256); // control: the relay itself is harmless
    const flipCase = await relay((m) => {
      const o = Buffer.from(m);
      o[13] ^= 0x20; // zone section "home" → "Home"
      return o;
    });
    const e1 = await failure(sendUpdate(flipCase, req, bind.keys.sha256));
    assert.equal(e1.code, 'tsig_invalid_answer');
    assert.equal(e1.kind, 'transient');
    assert.match(e1.message, /cannot be trusted: its signature does not match/);
    const flipMac = await relay((m) => {
      const o = Buffer.from(m);
      o[o.length - 7] ^= 1;
      return o;
    });
    assert.equal((await failure(sendUpdate(flipMac, req, bind.keys.sha512))).code, 'tsig_invalid_answer');
    const forgedRefusal = await relay((m) => {
      const o = Buffer.from(m);
      o[3] = (o[3] & 0xf0) | 5; // REFUSED
      return o;
    });
    assert.equal((await failure(sendUpdate(forgedRefusal, req, bind.keys.sha256))).code, 'tsig_invalid_answer');
    const unsigned = await relay((m) => withoutTsig(m, parseTsig(m)!));
    const e2 = await failure(sendUpdate(unsigned, req, bind.keys.sha256));
    assert.equal(e2.code, 'tsig_unsigned_answer');
    assert.match(e2.message, /not signed/);
  });

  test('BADTIME with the clocks in plain words; failed prerequisites are transient; a server given by name; IPv6', async () => {
    const e = await failure(
      sendUpdate(
        server,
        { zone: 'home.test', adds: [{ name: 'time.home.test', type: 'A', data: '192.0.2.40', ttl: 60 }] },
        bind.keys.sha256,
        { now: () => Date.now() + 10 * 60_000 },
      ),
    );
    assert.equal(e.code, 'tsig_badtime');
    assert.equal(e.kind, 'fatal');
    assert.match(e.message, /the server's clock differs by more than 5 minutes/);

    const pre = await failure(
      sendUpdate(
        server,
        {
          zone: 'home.test',
          prereqs: [{ kind: 'rrset-absent', name: 'keep.home.test', type: 'A' }],
          adds: [{ name: 'keep.home.test', type: 'A', data: '192.0.2.41', ttl: 60 }],
        },
        bind.keys.sha256,
      ),
    );
    assert.equal(pre.code, 'yxrrset');
    assert.equal(pre.kind, 'transient');
    await sendUpdate(
      server,
      {
        zone: 'home.test',
        prereqs: [
          { kind: 'rrset-equals', name: 'keep.home.test', type: 'A', data: ['192.0.2.99'] },
          { kind: 'name-in-use', name: 'keep.home.test' },
          { kind: 'name-unused', name: 'fresh.home.test' },
        ],
        deletes: [{ name: 'keep.home.test' }],
        adds: [{ name: 'fresh.home.test', type: 'A', data: '192.0.2.42', ttl: 60 }],
      },
      bind.keys.sha256,
    );
    assert.deepEqual(bind.dig('keep.home.test'), []);
    assert.deepEqual(bind.dig('fresh.home.test'), ['192.0.2.42']);

    const byName = provider({ server: `localhost:${bind.port}` });
    assert.equal(
      (
        await byName.setAddresses(
          providerCall({ hostnames: ['name.home.test'], addresses: { ipv4: '192.0.2.43' } }, 'as-given'),
        )
      )[0].outcome,
      'updated',
    );
    const v6 = provider({ server: `[::1]:${bind.port}` }, bind.keys.sha512);
    assert.equal(
      (
        await v6.setAddresses(
          providerCall({ hostnames: ['name.home.test'], addresses: { ipv4: '192.0.2.44' } }, 'as-given'),
        )
      )[0].outcome,
      'updated',
    );
    assert.deepEqual(bind.dig('name.home.test'), ['192.0.2.44']);
    await assert.rejects(
      async () =>
        byName.setAddresses(
          providerCall({ hostnames: ['bad name.home.test'], addresses: { ipv4: '192.0.2.45' } }, 'as-given'),
        ),
      (x: DdnsError) => x.kind === 'input',
    );
    await assert.rejects(
      async () =>
        byName.setAddresses(
          providerCall({ hostnames: ['ok.home.test'], addresses: { ipv4: '2001:db8::1' } }, 'as-given'),
        ),
      (x: DdnsError) => x.kind === 'input' && x.code === 'invalid_address',
    );
  });
});
