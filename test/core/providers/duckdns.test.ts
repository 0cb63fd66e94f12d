/**
 * DuckDNS provider against a local contract server that follows the DuckDNS HTTP API
 * specification: https://www.duckdns.org/spec.jsp (update URL and parameters, OK/KO, verbose
 * answers, clear=true, TXT with txt=/clear=true).
 */
import { withServer } from '../../support/http-server';
import { after, describe, test } from '../../support/suite';
import assert from 'node:assert/strict';
import { providerCall } from '../../support/parsed';
import { definition, duckdnsSettings, duckdnsSubName } from '../../../src/core/providers/duckdns';
import { providerById } from '../../../src/core/providers/registry';
import type { DnsProvider } from '../../../src/core/providers/types';
import { DdnsError } from '../../../src/core/errors';
import { visibleTexts } from '../../support/visible-texts';
import { closeHttpPools } from '../../../src/core/http';
import { startDuckDns, type DuckDnsContract } from '../../support/contracts/duckdns';

const TOKEN = '5f3c1a2b-9d8e-4f70-a6b5-c4d3e2f1a0b9';
const V4 = '203.0.113.7';
const V6 = '2001:db8::7';

after(closeHttpPools);

/** Everything the provider produced; checked for the token at the end. */
const seen: unknown[] = [];

function create(duck: DuckDnsContract | { url: string }, timeoutMs = 3000): DnsProvider {
  return definition.create({ token: TOKEN, endpoint: duck.url }, { timeoutMs });
}

async function update(p: DnsProvider, hostnames: string[], addresses: { ipv4?: string; ipv6?: string }) {
  const r = await p.setAddresses(providerCall({ hostnames, addresses }, 'as-given'));
  seen.push(r);
  return r;
}

/** Run fn, expect a DdnsError, record it. */
async function failure(fn: () => Promise<unknown>): Promise<DdnsError> {
  try {
    await fn();
  } catch (e) {
    assert.ok(e instanceof DdnsError, `expected a DdnsError, got ${String(e)}`);
    seen.push(e);
    return e;
  }
  assert.fail('expected a failure');
}

const keys = (q: URLSearchParams) => [...q.keys()];

async function withDuck(
  t: (duck: DuckDnsContract, p: DnsProvider) => Promise<void>,
  opts?: Parameters<typeof startDuckDns>[0],
) {
  await withServer(startDuckDns(opts ?? { token: TOKEN, domains: ['myhome', 'other'] }), (duck) =>
    t(duck, create(duck)),
  );
}

describe('duckdns: definition and names', () => {
  test('registered, settings validated', () => {
    assert.equal(providerById('duckdns'), definition);
    assert.equal(definition.txt, true);
    // secrets only under SECRET_KEYS: the conformance suite checks it for every provider
    assert.deepEqual(duckdnsSettings.parse({ token: ` ${TOKEN} `, endpoint: '' }), {
      token: TOKEN,
      endpoint: undefined,
    });
    assert.equal(duckdnsSettings.safeParse({ token: '' }).success, false);
    assert.equal(duckdnsSettings.safeParse({ token: 'a b' }).success, false);
    assert.equal(duckdnsSettings.safeParse({ token: TOKEN, endpoint: 'ftp://x' }).success, false);
    assert.throws(
      () => definition.create({ token: '' }, {}),
      (e: DdnsError) => e.kind === 'input' && /token is required/.test(e.message),
    );
    const p = definition.create({ token: TOKEN }, {});
    assert.equal(p.maxHostsPerCall, 1);
    assert.equal(p.txtSerialised, true);
    assert.equal(p.getAddresses, undefined);
  });

  test('sub-names', () => {
    assert.deepEqual(duckdnsSubName('myhome'), { sub: 'myhome' });
    assert.deepEqual(duckdnsSubName('MyHome.DuckDNS.org.'), { sub: 'myhome' });
    assert.deepEqual(duckdnsSubName('_acme-challenge.myhome.duckdns.org', true), { sub: 'myhome' });
    assert.match(
      (duckdnsSubName('www.myhome.duckdns.org') as { reason: string }).reason,
      /follows myhome\.duckdns\.org; use "myhome"/,
    );
    assert.match((duckdnsSubName('home.example.com') as { reason: string }).reason, /not a DuckDNS name/);
    assert.ok('reason' in duckdnsSubName('my_home'));
    assert.ok('reason' in duckdnsSubName(''));
  });
});

describe('duckdns: updates', () => {
  test('IPv4 only: one request with ip=, never ipv6=; UPDATED then NOCHANGE', () =>
    withDuck(async (duck, p) => {
      const r1 = await update(p, ['myhome'], { ipv4: V4 });
      assert.equal(duck.requests.length, 1);
      const q = duck.requests[0].query;
      assert.equal(duck.requests[0].method, 'GET');
      assert.equal(duck.requests[0].path, '/update');
      assert.deepEqual(keys(q), ['domains', 'token', 'ip', 'verbose']);
      assert.equal(q.get('domains'), 'myhome');
      assert.equal(q.get('token'), TOKEN);
      assert.equal(q.get('ip'), V4);
      assert.equal(q.get('verbose'), 'true');
      assert.deepEqual(
        r1.map((r) => [r.hostname, r.family, r.outcome]),
        [['myhome', 'ipv4', 'updated']],
      );
      assert.match(r1[0].message, /DuckDNS updated myhome\.duckdns\.org to 203\.0\.113\.7/);
      assert.deepEqual(duck.records.get('myhome'), { ipv4: V4 });

      const r2 = await update(p, ['myhome.duckdns.org'], { ipv4: V4 });
      assert.equal(duck.requests.length, 2);
      assert.equal(duck.requests[1].query.get('domains'), 'myhome');
      assert.deepEqual(
        r2.map((r) => [r.hostname, r.family, r.outcome]),
        [['myhome.duckdns.org', 'ipv4', 'unchanged']],
      );
      assert.match(r2[0].message, /already had 203\.0\.113\.7/);
    }));

  test('IPv6 only: ipv6= without ip= (no auto-detection), the A record is left alone', () =>
    withDuck(
      async (duck, p) => {
        const r = await update(p, ['myhome'], { ipv6: V6 });
        assert.equal(duck.requests.length, 1);
        const q = duck.requests[0].query;
        assert.deepEqual(keys(q), ['domains', 'token', 'ipv6', 'verbose']);
        assert.equal(q.get('ipv6'), V6);
        assert.deepEqual(
          r.map((x) => [x.family, x.outcome]),
          [['ipv6', 'updated']],
        );
        assert.deepEqual(duck.records.get('myhome'), { ipv4: '198.51.100.1', ipv6: V6 });
      },
      { token: TOKEN, domains: { myhome: { ipv4: '198.51.100.1' } } },
    ));

  test('dual-stack: ip= and ipv6= in one request, one result per family', () =>
    withDuck(async (duck, p) => {
      const r = await update(p, ['myhome'], { ipv4: V4, ipv6: '2001:DB8:0:0::7' });
      assert.equal(duck.requests.length, 1);
      const q = duck.requests[0].query;
      assert.deepEqual(keys(q), ['domains', 'token', 'ip', 'ipv6', 'verbose']);
      assert.equal(q.get('ip'), V4);
      assert.equal(q.get('ipv6'), V6, 'the address is sent normalised');
      assert.deepEqual(
        r.map((x) => [x.family, x.outcome]),
        [
          ['ipv4', 'updated'],
          ['ipv6', 'updated'],
        ],
      );
      assert.match(r[1].message, /one request/);
      const again = await update(p, ['myhome'], { ipv4: V4, ipv6: V6 });
      assert.deepEqual(
        again.map((x) => x.outcome),
        ['unchanged', 'unchanged'],
      );
    }));

  test('several names: one request each (maxHostsPerCall 1 keeps answers per name)', () =>
    withDuck(async (duck, p) => {
      const r = await update(p, ['myhome', 'other.duckdns.org'], { ipv4: V4 });
      assert.deepEqual(
        duck.requests.map((x) => x.query.get('domains')),
        ['myhome', 'other'],
      );
      assert.deepEqual(
        r.map((x) => [x.hostname, x.outcome]),
        [
          ['myhome', 'updated'],
          ['other.duckdns.org', 'updated'],
        ],
      );
    }));

  test('names DuckDNS cannot hold and bad addresses: nothing is sent', () =>
    withDuck(async (duck, p) => {
      const r = await update(p, ['www.myhome.duckdns.org', 'home.example.com'], { ipv4: V4, ipv6: V6 });
      assert.equal(duck.requests.length, 0);
      assert.equal(r.length, 4);
      for (const x of r) {
        assert.equal(x.outcome, 'failed');
        assert.equal(x.error?.kind, 'input');
      }
      const e1 = await failure(() =>
        p.setAddresses(providerCall({ hostnames: ['myhome'], addresses: { ipv4: V6 } }, 'as-given')),
      );
      assert.equal(e1.kind, 'input');
      const e2 = await failure(() =>
        p.setAddresses(providerCall({ hostnames: ['myhome'], addresses: { ipv6: 'not-an-ip' } }, 'as-given')),
      );
      assert.equal(e2.code, 'invalid_address');
      assert.deepEqual(await update(p, ['myhome'], {}), [], 'no address: no request (DuckDNS would guess one)');
      assert.equal(duck.requests.length, 0);
    }));

  test('KO for a wrong token or a domain of another account: fatal, account scope, says what to check', async () => {
    const duck = await startDuckDns({ token: 'another-token-000', domains: ['myhome'] });
    try {
      const e = await failure(() =>
        create(duck).setAddresses(providerCall({ hostnames: ['myhome'], addresses: { ipv4: V4 } }, 'as-given')),
      );
      assert.equal(e.kind, 'fatal');
      assert.equal(e.code, 'ko');
      assert.equal(e.scope, 'account');
      assert.equal(e.retryable, false);
      assert.match(e.message, /KO.*token.*myhome\.duckdns\.org is one of that account's domains/);
      assert.equal(duck.requests.length, 1);
    } finally {
      await duck.close();
    }
    await withDuck(async (duck, p) => {
      const e = await failure(() =>
        p.setAddresses(providerCall({ hostnames: ['stranger'], addresses: { ipv4: V4 } }, 'as-given')),
      );
      assert.equal(e.code, 'ko');
      duck.failNext('ko');
      const e2 = await failure(() => p.setTxt!('myhome.duckdns.org', 'abc'));
      assert.equal(e2.code, 'ko');
      assert.equal(duck.records.get('myhome')?.txt, undefined);
    });
  });

  test('verbose answer that does not hold the address sent: failed, not updated', () =>
    withDuck(async (duck, p) => {
      duck.failNext({ body: 'OK\n198.51.100.9\n\nUPDATED' });
      const r = await update(p, ['myhome'], { ipv4: V4 });
      assert.equal(r[0].outcome, 'failed');
      assert.equal(r[0].error?.code, 'address_not_taken');
      duck.failNext({ body: 'OK\n\n\nUPDATED' });
      const r2 = await update(p, ['myhome'], { ipv6: V6 });
      assert.equal(r2[0].error?.code, 'address_not_taken');
      assert.match(r2[0].message, /IPv6 as empty/);
      duck.failNext({ body: 'OK\n\n2001:DB8::7\nNOCHANGE\n' });
      assert.equal((await update(p, ['myhome'], { ipv6: V6 }))[0].outcome, 'unchanged', 'echo compared normalised');
      duck.failNext({ body: 'OK' });
      const r3 = await update(p, ['myhome'], { ipv4: V4 });
      assert.equal(r3[0].outcome, 'updated');
      assert.match(r3[0].message, /accepted/);
    }));

  test('answers that are neither OK nor KO, whatever the HTTP status: transient', () =>
    withDuck(async (duck, p) => {
      const call = () => p.setAddresses(providerCall({ hostnames: ['myhome'], addresses: { ipv4: V4 } }, 'as-given'));
      duck.failNext('html');
      let e = await failure(call);
      assert.equal(e.kind, 'transient');
      assert.equal(e.code, 'http_502');
      assert.match(e.message, /HTML page "502 Bad Gateway"/);
      duck.failNext('garbage');
      e = await failure(call);
      assert.equal(e.code, 'unexpected_answer');
      duck.failNext('empty');
      e = await failure(call);
      assert.match(e.message, /\(empty\)/);
      duck.failNext('server-error');
      assert.equal((await failure(call)).code, 'http_500');
      duck.failNext('rate-limit');
      e = await failure(call);
      assert.equal(e.code, 'http_429');
      assert.equal(e.retryAfterMs, 120_000);
      assert.equal(e.scope, 'account');
      duck.failNext({ status: 500, body: 'OK\n203.0.113.7\n\nUPDATED' });
      assert.equal(
        (await update(p, ['myhome'], { ipv4: V4 }))[0].outcome,
        'updated',
        'the body decides, not the status',
      );
      duck.failNext({ status: 200, body: 'KOALA' });
      assert.equal((await failure(call)).code, 'unexpected_answer');
      assert.equal(duck.requests.length, 7);
    }));

  test('a 1 MB body, a server that never answers, a connection reset: transient', () =>
    withDuck(async (duck) => {
      const p = create(duck, 400);
      const call = () => p.setAddresses(providerCall({ hostnames: ['myhome'], addresses: { ipv4: V4 } }, 'as-given'));
      duck.failNext('huge');
      let e = await failure(call);
      assert.equal(e.kind, 'transient');
      assert.equal(e.code, 'body_too_large');
      duck.failNext('hang');
      e = await failure(call);
      assert.equal(e.code, 'timeout');
      assert.match(e.message, /did not answer within 400 ms/);
      duck.failNext('reset');
      e = await failure(call);
      assert.equal(e.kind, 'transient');
      assert.match(e.message, /reset|closed/);
      duck.failNext({ delayMs: 50 });
      assert.equal((await update(p, ['myhome'], { ipv4: V4 }))[0].outcome, 'updated', 'slow but in time');
      assert.equal(duck.requests.length, 4);
      assert.deepEqual(duck.records.get('myhome'), { ipv4: V4 }, 'failed requests changed nothing');
    }));

  test('nobody listening: transient, redacted', async () => {
    const e = await failure(() =>
      create({ url: 'http://127.0.0.1:1' }).setAddresses(
        providerCall({ hostnames: ['myhome'], addresses: { ipv4: V4 } }, 'as-given'),
      ),
    );
    assert.equal(e.kind, 'transient');
  });
});

describe('duckdns: TXT', () => {
  test('set with txt=, clear with txt=&clear=true, on the sub-name of the challenge name', () =>
    withDuck(async (duck, p) => {
      const value = 'XKrxpRBosdIKFzxW_CT3KLZNf6q0HG9i01zxXp5CPBs';
      await p.setTxt!('_acme-challenge.myhome.duckdns.org', value);
      assert.equal(duck.requests.length, 1);
      let q = duck.requests[0].query;
      assert.deepEqual(keys(q), ['domains', 'token', 'txt']);
      assert.equal(q.get('domains'), 'myhome');
      assert.equal(q.get('txt'), value);
      assert.equal(duck.records.get('myhome')?.txt, value);
      assert.equal(duck.records.get('myhome')?.ipv4, undefined, 'a TXT call touches no address');

      await p.deleteTxt!('_acme-challenge.myhome.duckdns.org', value);
      assert.equal(duck.requests.length, 2);
      q = duck.requests[1].query;
      assert.deepEqual(keys(q), ['domains', 'token', 'txt', 'clear']);
      assert.equal(q.get('clear'), 'true');
      assert.equal(duck.records.get('myhome')?.txt, undefined);

      const e = await failure(() => p.setTxt!('_acme-challenge.example.com', value));
      assert.equal(e.kind, 'input');
      const e2 = await failure(() => p.setTxt!('myhome', 'two words'));
      assert.equal(e2.code, 'invalid_txt');
      duck.failNext('html');
      assert.equal((await failure(() => p.setTxt!('myhome', value))).kind, 'transient');
      assert.equal(duck.requests.length, 3);
    }));
});

describe('duckdns: contract server', () => {
  test('reproduces the documented behaviour: auto-detection without ip, clear=true, several domains', () =>
    withDuck(async (duck) => {
      const get = async (qs: string) => (await fetch(`${duck.url}/update?${qs}`)).text();
      assert.equal(await get(`domains=myhome&token=${TOKEN}&verbose=true`), 'OK\n127.0.0.1\n\nUPDATED');
      assert.equal(await get(`domains=myhome,other&token=${TOKEN}&ip=${V4}`), 'OK');
      assert.deepEqual(duck.records.get('other'), { ipv4: V4 });
      assert.equal(await get(`domains=myhome,nothere&token=${TOKEN}&ip=${V4}`), 'KO');
      assert.equal(await get(`domains=myhome&token=${TOKEN}&clear=true&verbose=true`), 'OK\n\n\nUPDATED');
      assert.deepEqual(duck.records.get('myhome'), {});
      assert.equal(await get(`domains=myhome&token=nope&ip=${V4}`), 'KO');
    }));
});

test('the token never appears in a result, message, detail or stack', () => {
  assert.ok(seen.length > 20);
  for (const s of visibleTexts(seen)) assert.ok(!s.includes(TOKEN), `token leaked in: ${s.slice(0, 200)}`);
});
