/**
 * Cloudflare API v4 provider against the local contract server (test/support/contracts/cloudflare.ts).
 *
 * Documentation followed (and reproduced by the contract server):
 * - DNS records (list with type/name filters and result_info pages, create, PATCH edits only the
 *   fields sent, delete; names in punycode): https://developers.cloudflare.com/api/resources/dns/subresources/records/
 * - Zones (GET /zones?name=): https://developers.cloudflare.com/api/resources/zones/methods/list/
 * - Rate limits (1200 calls / 5 min, then 429 for every call, `retry-after` in seconds):
 *   https://developers.cloudflare.com/fundamentals/api/reference/limits/
 * - Creating an API token (Zone · DNS · Edit): https://developers.cloudflare.com/fundamentals/api/get-started/create-token/
 * - TXT content as quoted character strings: https://developers.cloudflare.com/dns/manage-dns-records/reference/dns-record-types/#txt
 * - Error envelope answers for bad tokens as Cloudflare sends them (9106, 6003/6111, 9109, 10000) are
 *   the ones reported in e.g. https://github.com/jeessy2/ddns-go/issues/916 and
 *   https://github.com/cloudflare/cloudflare-python/issues/2678.
 */
import { after, describe, test } from '../../support/suite';
import assert from 'node:assert/strict';
import { visibleTexts } from '../../support/visible-texts';
import { providerCall } from '../../support/parsed';
import { closeHttpPools } from '../../../src/core/http';
import { DdnsError, english } from '../../../src/core/errors';
import {
  asciiName,
  cloudflareSettings,
  definition,
  zoneCandidates,
} from '../../../src/core/providers/cloudflare/index';
import { providerById } from '../../../src/core/providers/registry';
import type { DnsProvider, ProviderEnv, RecordResult } from '../../../src/core/providers/types';
import { startCloudflare, type CloudflareContract, type CloudflareOptions } from '../../support/contracts/cloudflare';

const TOKEN = 'T0kenT0kenT0kenT0kenT0kenT0kenT0kenT0ken'; // 40 characters, like a real token
const OTHER = 'OtherOtherOtherOtherOtherOtherOtherOther';

after(closeHttpPools);

/** Everything a person could see from a provider: results, messages, errors with detail and stack. */
const seen: unknown[] = [];
const see = (x: unknown): void => void seen.push(x);

async function withCf(opts: Partial<CloudflareOptions>, fn: (cf: CloudflareContract) => Promise<void>): Promise<void> {
  const cf = await startCloudflare({ token: TOKEN, zones: ['example.com'], ...opts });
  try {
    await fn(cf);
  } finally {
    await cf.close();
  }
}

function make(cf: CloudflareContract, extra: Record<string, unknown> = {}, env: ProviderEnv = {}): DnsProvider {
  return definition.create(definition.settings.parse({ token: TOKEN, endpoint: cf.url, ...extra }), env);
}

async function set(
  p: DnsProvider,
  hostnames: string[],
  addresses: { ipv4?: string; ipv6?: string },
): Promise<RecordResult[]> {
  const r = await p.setAddresses(providerCall({ hostnames, addresses }, 'as-given'));
  see(r);
  return r;
}

async function rejects(p: Promise<unknown>, check: (e: DdnsError) => void): Promise<DdnsError> {
  let caught: unknown;
  await p.then(
    () => assert.fail('expected a rejection'),
    (e) => {
      caught = e;
    },
  );
  assert.ok(caught instanceof DdnsError, `not a DdnsError: ${String(caught)}`);
  see(caught);
  check(caught);
  return caught;
}

const ZONE_WALK = [
  'GET /zones?name=sub.home.example.com&per_page=50',
  'GET /zones?name=home.example.com&per_page=50',
  'GET /zones?name=example.com&per_page=50',
];

describe('cloudflare: names and settings', () => {
  test('punycode names and zone candidates', () => {
    assert.equal(asciiName('Bücher.Example.com.'), 'xn--bcher-kva.example.com');
    assert.equal(asciiName('localhost'), null);
    assert.equal(asciiName('a..b.com'), null);
    assert.equal(asciiName('-x.example.com'), null);
    assert.deepEqual(zoneCandidates('sub.home.example.com'), [
      'sub.home.example.com',
      'home.example.com',
      'example.com',
    ]);
    assert.deepEqual(zoneCandidates('*.example.com'), ['example.com']);
  });

  test('settings: defaults, values from the editor, refusals', () => {
    const s = cloudflareSettings.parse({ token: ' Bearer abc ' });
    assert.deepEqual(
      { ...s },
      { token: 'abc', createMissing: true, ttl: 1, proxied: false, endpoint: 'https://api.cloudflare.com/client/v4' },
    );
    const t = cloudflareSettings.parse({
      token: 'abc',
      ttl: '120',
      createMissing: 'false',
      proxied: 'true',
      zone: 'Example.COM.',
      endpoint: '',
    });
    assert.equal(t.ttl, 120);
    assert.equal(t.createMissing, false);
    assert.equal(t.proxied, true);
    assert.equal(t.zone, 'example.com');
    for (const bad of [
      {},
      { token: '' },
      { token: 'x', ttl: 30 },
      { token: 'x', ttl: 90000 },
      { token: 'x', ttl: '1.5' },
      { token: 'x', endpoint: 'ftp://x' },
      { token: 'x', zone: 'not a zone' },
    ]) {
      assert.equal(cloudflareSettings.safeParse(bad).success, false, JSON.stringify(bad));
    }
    assert.equal(providerById('cloudflare'), definition);
    assert.equal(definition.txt, true);
    assert.deepEqual(
      definition.fields.filter((f) => f.kind === 'password').map((f) => f.key),
      ['token'],
    );
  });
});

describe('cloudflare: updates', () => {
  test('zone walk, PATCH of the content only (TTL, proxied, comment kept), then the id cache', async () => {
    await withCf(
      {
        zones: [
          {
            name: 'example.com',
            records: [
              { type: 'A', name: 'sub.home.example.com', content: '198.51.100.4', ttl: 300, comment: 'my router' },
            ],
          },
        ],
      },
      async (cf) => {
        const p = make(cf);
        const [r] = await set(p, ['sub.home.example.com'], { ipv4: '203.0.113.7' });
        assert.equal(r.outcome, 'updated', r.message);
        assert.match(r.message, /set to 203\.0\.113\.7 \(was 198\.51\.100\.4\)/);
        assert.deepEqual(cf.calls(), [
          ...ZONE_WALK,
          'GET /zones/' + cf.zones[0].id + '/dns_records?type=A&name=sub.home.example.com&per_page=100&page=1',
          'PATCH /zones/' + cf.zones[0].id + '/dns_records/' + cf.records[0].id,
        ]);
        const patch = cf.requests.at(-1)!;
        assert.deepEqual(JSON.parse(patch.body), { content: '203.0.113.7' });
        assert.equal(patch.headers.authorization, `Bearer ${TOKEN}`);
        assert.match(String(patch.headers['content-type']), /application\/json/);
        assert.deepEqual(
          {
            content: cf.records[0].content,
            ttl: cf.records[0].ttl,
            proxied: cf.records[0].proxied,
            comment: cf.records[0].comment,
          },
          { content: '203.0.113.7', ttl: 300, proxied: false, comment: 'my router' },
        );

        // Second update, new address: one PATCH and nothing else.
        const n = cf.requests.length;
        const [r2] = await set(p, ['sub.home.example.com'], { ipv4: '203.0.113.8' });
        assert.equal(r2.outcome, 'updated');
        assert.deepEqual(cf.calls().slice(n), ['PATCH /zones/' + cf.zones[0].id + '/dns_records/' + cf.records[0].id]);
        assert.equal(cf.records[0].content, '203.0.113.8');

        // Second update, stable address: still exactly one call (the provider does not remember outcomes).
        const m = cf.requests.length;
        const [r3] = await set(p, ['sub.home.example.com'], { ipv4: '203.0.113.8' });
        assert.equal(r3.outcome, 'unchanged', r3.message);
        assert.deepEqual(
          cf
            .calls()
            .slice(m)
            .map((c) => c.split(' ')[0]),
          ['PATCH'],
        );

        // Another name below the same zone reuses what the walk learned: one zone lookup only.
        cf.addRecord('example.com', { type: 'A', name: 'nas.home.example.com', content: '203.0.113.8' });
        const k = cf.requests.length;
        const [r4] = await set(p, ['nas.home.example.com'], { ipv4: '203.0.113.8' });
        assert.equal(r4.outcome, 'unchanged');
        assert.deepEqual(cf.calls().slice(k), [
          'GET /zones?name=nas.home.example.com&per_page=50',
          'GET /zones/' + cf.zones[0].id + '/dns_records?type=A&name=nas.home.example.com&per_page=100&page=1',
        ]);
        assert.equal(cf.records.length, 2);
      },
    );
  });

  test('a record that already holds the address is not written', async () => {
    await withCf(
      {
        zones: [{ name: 'example.com', records: [{ type: 'AAAA', name: 'example.com', content: '2001:0db8:0:0::1' }] }],
      },
      async (cf) => {
        const [r] = await set(make(cf), ['Example.com'], { ipv6: '2001:db8::1' });
        assert.equal(r.outcome, 'unchanged');
        assert.equal(r.family, 'ipv6');
        assert.equal(r.hostname, 'Example.com');
        assert.deepEqual(
          cf.requests.map((q) => q.method),
          ['GET', 'GET'],
        );
      },
    );
  });

  test('create when missing, with the TTL and proxy status of the settings', async () => {
    await withCf({}, async (cf) => {
      const p = make(cf, { ttl: 120, proxied: true });
      const [r] = await set(p, ['new.example.com'], { ipv4: '203.0.113.9' });
      assert.equal(r.outcome, 'updated');
      assert.match(r.message, /created with 203\.0\.113\.9 \(TTL 120 s, proxied\)/);
      assert.match(r.message, /proxied: DNS shows Cloudflare's addresses, confirmed through the API/);
      // The same words as a sentence, said in the user's language by dns-update (issue 15).
      assert.equal(r.said?.key, 'cloudflare.created');
      assert.equal(english(r.said!), r.message);
      const post = cf.requests.at(-1)!;
      assert.equal(post.method, 'POST');
      const body = JSON.parse(post.body);
      assert.deepEqual(
        { ...body, comment: undefined },
        { type: 'A', name: 'new.example.com', content: '203.0.113.9', ttl: 120, proxied: true, comment: undefined },
      );
      assert.equal(typeof body.comment, 'string');
      assert.deepEqual(
        cf.find('new.example.com').map((x) => [x.type, x.content, x.ttl, x.proxied]),
        [['A', '203.0.113.9', 120, true]],
      );
      // The created record's id is cached: the next change is one PATCH.
      const n = cf.requests.length;
      await set(p, ['new.example.com'], { ipv4: '203.0.113.10' });
      assert.deepEqual(
        cf.requests.slice(n).map((q) => q.method),
        ['PATCH'],
      );
    });
  });

  test('createMissing=false: a fatal "nohost" result for that name, nothing created', async () => {
    await withCf({}, async (cf) => {
      const [r] = await set(make(cf, { createMissing: false }), ['gone.example.com'], { ipv4: '203.0.113.9' });
      assert.equal(r.outcome, 'failed');
      assert.equal(r.error?.kind, 'fatal');
      assert.equal(r.error?.code, 'nohost');
      assert.equal(r.error?.scope, 'host');
      assert.match(r.message, /no A record/);
      assert.equal(cf.requests.filter((q) => q.method !== 'GET').length, 0);
      assert.equal(cf.records.length, 0);
    });
  });

  test('IPv4 and IPv6 of one name in one call', async () => {
    await withCf(
      { zones: [{ name: 'example.com', records: [{ type: 'A', name: 'home.example.com', content: '198.51.100.1' }] }] },
      async (cf) => {
        const rs = await set(make(cf), ['home.example.com'], { ipv4: '203.0.113.1', ipv6: '2001:db8::42' });
        assert.deepEqual(
          rs.map((r) => [r.family, r.outcome]),
          [
            ['ipv4', 'updated'],
            ['ipv6', 'updated'],
          ],
        );
        assert.deepEqual(
          cf
            .find('home.example.com')
            .map((r) => [r.type, r.content])
            .sort(),
          [
            ['A', '203.0.113.1'],
            ['AAAA', '2001:db8::42'],
          ],
        );
        assert.equal(make(cf).maxHostsPerCall, 1);
      },
    );
  });

  test('several records of one name: keep the right one, delete the others', async () => {
    const records = ['198.51.100.1', '198.51.100.2', '198.51.100.3'].map((content) => ({
      type: 'A',
      name: 'multi.example.com',
      content,
    }));
    records.push({ type: 'A', name: 'other.example.com', content: '198.51.100.1' });
    await withCf({ zones: [{ name: 'example.com', records }] }, async (cf) => {
      const p = make(cf);
      const [r] = await set(p, ['multi.example.com'], { ipv4: '198.51.100.2' });
      assert.equal(r.outcome, 'updated');
      assert.match(
        r.message,
        /already 198\.51\.100\.2; removed 2 other A records \(198\.51\.100\.1, 198\.51\.100\.3\)/,
      );
      assert.deepEqual(
        cf.requests.map((q) => q.method),
        ['GET', 'GET', 'GET', 'DELETE', 'DELETE'],
      );
      assert.deepEqual(
        cf.find('multi.example.com').map((x) => x.content),
        ['198.51.100.2'],
      );
      assert.equal(cf.find('other.example.com').length, 1);
    });
    await withCf({ zones: [{ name: 'example.com', records: records.slice(0, 2) }] }, async (cf) => {
      const first = cf.records[0].id;
      const [r] = await set(make(cf), ['multi.example.com'], { ipv4: '203.0.113.5' });
      assert.equal(r.outcome, 'updated');
      // The update comes before the deletion: the name is never without a record.
      assert.deepEqual(
        cf.requests.map((q) => q.method),
        ['GET', 'GET', 'GET', 'PATCH', 'DELETE'],
      );
      assert.deepEqual(
        cf.find('multi.example.com').map((x) => [x.id, x.content]),
        [[first, '203.0.113.5']],
      );
    });
  });

  test('punycode: a Unicode name is sent and matched in its ASCII form', async () => {
    await withCf(
      {
        zones: [
          { name: 'example.com', records: [{ type: 'A', name: 'xn--bcher-kva.example.com', content: '198.51.100.1' }] },
        ],
      },
      async (cf) => {
        const [r] = await set(make(cf), ['Bücher.example.com'], { ipv4: '203.0.113.1' });
        assert.equal(r.outcome, 'updated');
        assert.equal(cf.requests[0].query.get('name'), 'xn--bcher-kva.example.com');
        assert.equal(cf.records[0].content, '203.0.113.1');
      },
    );
  });

  test('zone set in the account: by name (one lookup) or by id; names outside it are refused', async () => {
    await withCf({ zones: ['example.com', 'example.net'] }, async (cf) => {
      const p = make(cf, { zone: 'example.com' });
      await set(p, ['a.b.example.com'], { ipv4: '203.0.113.1' });
      await set(p, ['c.example.com'], { ipv4: '203.0.113.1' });
      assert.deepEqual(
        cf.calls().filter((c) => c.startsWith('GET /zones?')),
        ['GET /zones?name=example.com&per_page=50'],
      );
      const [r] = await set(p, ['www.example.net'], { ipv4: '203.0.113.1' });
      assert.equal(r.outcome, 'failed');
      assert.equal(r.error?.kind, 'input');

      const n = cf.requests.length;
      const q = make(cf, { zone: cf.zones[1].id });
      await set(q, ['www.example.net'], { ipv4: '203.0.113.1' });
      assert.equal(cf.calls()[n], `GET /zones/${cf.zones[1].id}`);
      assert.equal(cf.find('www.example.net').length, 1);

      const [bad] = await set(make(cf, { zone: 'missing.org' }), ['x.missing.org'], { ipv4: '203.0.113.1' }).catch(
        (e) => [e],
      );
      assert.ok(bad instanceof DdnsError);
      assert.equal(bad.code, 'cf_zone_not_found');
      assert.equal(bad.scope, 'account');
    });
  });

  test('no zone for a name: fatal for that name, with a hint', async () => {
    await withCf({ zones: ['example.com'] }, async (cf) => {
      const [r] = await set(make(cf), ['www.example.org'], { ipv4: '203.0.113.1' });
      assert.equal(r.outcome, 'failed');
      assert.equal(r.error?.code, 'cf_zone_not_found');
      assert.equal(r.error?.kind, 'fatal');
      assert.match(r.message, /looked for www\.example\.org, example\.org/);
      assert.match(r.message, /Zone · Zone · Read/);
    });
  });

  test('invalid names and addresses: input errors, nothing sent', async () => {
    await withCf({}, async (cf) => {
      // an address of the wrong family is refused where it is parsed, before it reaches a provider
      await assert.rejects(
        async () => set(make(cf), ['x.example.com'], { ipv4: '2001:db8::1' }),
        (e: DdnsError) => e.kind === 'input' && e.code === 'invalid_address',
      );
      const rs = await set(make(cf), ['not a name'], { ipv4: '203.0.113.7' });
      assert.deepEqual(
        rs.map((r) => [r.outcome, r.error?.kind]),
        [['failed', 'input']],
      );
      assert.equal(cf.requests.length, 0);
    });
  });

  test('getAddresses reads the records and feeds the id cache', async () => {
    await withCf(
      {
        zones: [
          {
            name: 'example.com',
            records: [{ type: 'A', name: 'r.example.com', content: '198.51.100.7', proxied: true }],
          },
        ],
      },
      async (cf) => {
        const p = make(cf);
        assert.deepEqual(await p.getAddresses!('r.example.com', 'ipv4'), ['198.51.100.7']);
        assert.deepEqual(await p.getAddresses!('r.example.com', 'ipv6'), []);
        const n = cf.requests.length;
        const [r] = await set(p, ['r.example.com'], { ipv4: '203.0.113.3' });
        assert.deepEqual(
          cf.requests.slice(n).map((q) => q.method),
          ['PATCH'],
        );
        assert.match(r.message, /proxied: DNS shows Cloudflare's addresses, confirmed through the API/);
        assert.equal(cf.records[0].proxied, true);
      },
    );
  });

  test('a stale cached id (404 / 81044): forget the cache and start over once', async () => {
    await withCf(
      {
        zones: [
          { name: 'example.com', records: [{ type: 'A', name: 'sub.home.example.com', content: '198.51.100.4' }] },
        ],
      },
      async (cf) => {
        const p = make(cf);
        await set(p, ['sub.home.example.com'], { ipv4: '203.0.113.7' });
        const stale = cf.records[0].id;
        cf.records.splice(0, 1); // deleted in the dashboard
        const n = cf.requests.length;
        const [r] = await set(p, ['sub.home.example.com'], { ipv4: '203.0.113.8' });
        assert.equal(r.outcome, 'updated', r.message);
        const zid = cf.zones[0].id;
        assert.deepEqual(cf.calls().slice(n), [
          `PATCH /zones/${zid}/dns_records/${stale}`,
          ...ZONE_WALK,
          `GET /zones/${zid}/dns_records?type=A&name=sub.home.example.com&per_page=100&page=1`,
          `POST /zones/${zid}/dns_records`,
        ]);
        assert.deepEqual(
          cf.find('sub.home.example.com').map((x) => x.content),
          ['203.0.113.8'],
        );
      },
    );
  });

  test('record pages are followed (result_info.total_pages)', async () => {
    const records = Array.from({ length: 105 }, (_, i) => ({
      type: 'A',
      name: 'rr.example.com',
      content: `198.51.100.${i + 1}`,
    }));
    await withCf({ zones: [{ name: 'example.com', records }] }, async (cf) => {
      const got = await make(cf).getAddresses!('rr.example.com', 'ipv4');
      assert.equal(got.length, 105);
      assert.deepEqual(
        cf.requests.map((q) => q.query.get('page')),
        [null, null, '1', '2'],
      );
    });
  });
});

describe('cloudflare: TXT for ACME DNS-01', () => {
  test('set (idempotent, quoted), delete only the exact value', async () => {
    await withCf(
      {
        zones: [
          {
            name: 'example.com',
            records: [{ type: 'TXT', name: '_acme-challenge.home.example.com', content: '"v=keep-me"' }],
          },
        ],
      },
      async (cf) => {
        const p = make(cf);
        const name = '_acme-challenge.home.example.com';
        await p.setTxt!(name, 'token-one_AbC');
        await p.setTxt!(name, 'token-one_AbC');
        await p.setTxt!(name, 'token-two_XyZ');
        const posts = cf.requests.filter((q) => q.method === 'POST').map((q) => JSON.parse(q.body));
        assert.equal(posts.length, 2);
        assert.deepEqual(
          { type: posts[0].type, name: posts[0].name, content: posts[0].content, ttl: posts[0].ttl },
          { type: 'TXT', name, content: '"token-one_AbC"', ttl: 60 },
        );
        assert.equal(cf.find(name, 'TXT').length, 3);

        await p.deleteTxt!(name, 'token-one_AbC');
        assert.deepEqual(
          cf
            .find(name, 'TXT')
            .map((r) => r.content)
            .sort(),
          ['"token-two_XyZ"', '"v=keep-me"'],
        );
        // An unquoted record (made by another tool) with the value is found too; an absent value is no error.
        cf.addRecord('example.com', { type: 'TXT', name, content: 'token-three' });
        await p.deleteTxt!(name, 'token-three');
        const n = cf.requests.length;
        await p.deleteTxt!(name, 'never-set');
        assert.deepEqual(
          cf.requests.slice(n).map((q) => q.method),
          ['GET'],
        );
        assert.deepEqual(
          cf
            .find(name, 'TXT')
            .map((r) => r.content)
            .sort(),
          ['"token-two_XyZ"', '"v=keep-me"'],
        );
        await rejects(p.setTxt!(name, 'bad\nvalue'), (e) => assert.equal(e.kind, 'input'));
      },
    );
  });
});

describe('cloudflare: errors', () => {
  const ZONE = {
    zones: [{ name: 'example.com', records: [{ type: 'A', name: 'h.example.com', content: '198.51.100.1' }] }],
  };

  async function authCase(token: string, opts: Partial<CloudflareOptions>, code: string, text: RegExp) {
    await withCf({ ...ZONE, ...opts }, async (cf) => {
      const p = definition.create(definition.settings.parse({ token, endpoint: cf.url }), {});
      await rejects(set(p, ['h.example.com'], { ipv4: '203.0.113.1', ipv6: '2001:db8::1' }), (e) => {
        assert.equal(e.kind, 'fatal');
        assert.equal(e.scope, 'account');
        assert.equal(e.code, code);
        assert.match(e.message, text);
        assert.match(e.message, /Zone · DNS · Edit/);
      });
      // Nothing is sent after a fatal answer (the IPv6 record is not tried).
      assert.equal(cf.requests.length, code === 'cf_10000' && opts.tokens?.[OTHER]?.dns === 'read' ? 4 : 1);
      assert.equal(cf.records[0].content, '198.51.100.1');
    });
  }

  test('403 9109 Invalid access token', () => authCase(OTHER, {}, 'cf_9109', /9109 Invalid access token/));
  test('400 6003 + 6111 Invalid format for Authorization header', () =>
    authCase(
      'short-token',
      {},
      'cf_6003',
      /6003 Invalid request headers \(6111 Invalid format for Authorization header\)/,
    ));
  test('401 10000 Authentication error (expired token)', () =>
    authCase(OTHER, { tokens: { [OTHER]: { expired: true } } }, 'cf_10000', /10000 Authentication error/));
  test('403 10000 on a write (token with DNS read only)', () =>
    authCase(OTHER, { tokens: { [OTHER]: { dns: 'read' } } }, 'cf_10000', /lacks a permission/));
  test('400 9106 Missing credentials', async () => {
    await withCf(ZONE, async (cf) => {
      cf.failNext({
        status: 400,
        body: {
          success: false,
          errors: [{ code: 9106, message: 'Missing X-Auth-Key, X-Auth-Email or Authorization headers' }],
        },
      });
      await rejects(set(make(cf), ['h.example.com'], { ipv4: '203.0.113.1' }), (e) => {
        assert.equal(e.code, 'cf_9106');
        assert.equal(e.scope, 'account');
        assert.match(e.message, /No API token reached Cloudflare/);
      });
    });
  });
  test('a bare 403 page (no envelope) is an authentication problem too', async () => {
    await withCf(ZONE, async (cf) => {
      cf.failNext({ status: 403, body: '<html><head><title>Access denied</title></head></html>' });
      await rejects(set(make(cf), ['h.example.com'], { ipv4: '203.0.113.1' }), (e) => {
        assert.equal(e.kind, 'fatal');
        assert.equal(e.code, 'http_403');
      });
    });
  });
  test('a token restricted to other zones does not see this one', async () => {
    await withCf({ ...ZONE, tokens: { [OTHER]: { zones: ['example.net'] } } }, async (cf) => {
      const p = definition.create(definition.settings.parse({ token: OTHER, endpoint: cf.url }), {});
      const [r] = await set(p, ['h.example.com'], { ipv4: '203.0.113.1' });
      assert.equal(r.error?.code, 'cf_zone_not_found');
    });
  });

  test('429 with retry-after, and without (at least five minutes)', async () => {
    await withCf(ZONE, async (cf) => {
      cf.rateLimit({ retryAfter: 42 });
      await rejects(set(make(cf), ['h.example.com'], { ipv4: '203.0.113.1', ipv6: '2001:db8::1' }), (e) => {
        assert.equal(e.kind, 'transient');
        assert.equal(e.code, 'rate_limited');
        assert.equal(e.scope, 'account');
        assert.equal(e.retryAfterMs, 42_000);
      });
      assert.equal(cf.requests.length, 1);
      cf.rateLimit({ retryAfter: null, after: 1 });
      await rejects(set(make(cf), ['h.example.com'], { ipv4: '203.0.113.1' }), (e) => {
        assert.equal(e.retryAfterMs, 5 * 60_000);
        assert.match(e.message, /971 Please wait/);
      });
      assert.equal(cf.requests.length, 3);
    });
  });

  test('5xx, HTML, garbage, wrong shape, 1 MB body, slow server, reset: transient with an excerpt', async () => {
    await withCf(ZONE, async (cf) => {
      const p = make(cf, {}, { timeoutMs: 400 });
      const cases: Array<[Parameters<CloudflareContract['failNext']>[0], string, RegExp]> = [
        ['server-error', 'http_500', /HTTP 500.*10002 An unknown error has occurred/],
        ['html', 'http_502', /HTML page "502 Bad Gateway"/],
        ['garbage', 'cf_bad_answer', /not its JSON envelope.*\{"success": tru/],
        ['bad-shape', 'cf_bad_answer', /unexpected shape/],
        ['huge', 'body_too_large', /larger than/],
        ['slow', 'timeout', /did not answer within 400 ms/],
        [
          { status: 200, body: { success: false, errors: [{ code: 1234, message: 'odd' }], result: null } },
          'cf_bad_answer',
          /1234 odd/,
        ],
      ];
      for (const [f, code, text] of cases) {
        cf.failNext(f);
        await rejects(set(p, ['h.example.com'], { ipv4: '203.0.113.1' }), (e) => {
          assert.equal(e.kind, 'transient', String(f));
          assert.equal(e.code, code, `${JSON.stringify(f)}: ${e.message}`);
          assert.match(e.message, text);
        });
      }
      cf.failNext('reset');
      await rejects(set(p, ['h.example.com'], { ipv4: '203.0.113.1' }), (e) => {
        assert.equal(e.kind, 'transient');
        assert.match(e.message, /^Cloudflare API, looking up the zone h\.example\.com: /);
      });
      assert.equal(cf.records[0].content, '198.51.100.1');
    });
  });

  test('a refused record (4xx envelope) fails that name only', async () => {
    await withCf(ZONE, async (cf) => {
      const p = make(cf);
      cf.failNext(
        {
          status: 400,
          body: {
            success: false,
            errors: [{ code: 9005, message: 'Content for A record must be a valid IPv4 address.' }],
            result: null,
          },
        },
        { method: 'PATCH' },
      );
      const [r] = await set(p, ['h.example.com'], { ipv4: '203.0.113.1' });
      assert.equal(r.outcome, 'failed');
      assert.equal(r.error?.kind, 'fatal');
      assert.equal(r.error?.scope, 'host');
      assert.equal(r.error?.code, 'cf_9005');
    });
  });

  test('the token never appears, even when the server echoes it', async () => {
    await withCf(ZONE, async (cf) => {
      const p = make(cf);
      cf.failNext({
        status: 400,
        body: {
          success: false,
          errors: [{ code: 9999, message: `bad header Authorization: Bearer ${TOKEN}` }],
          result: null,
        },
      });
      const [r] = await set(p, ['h.example.com'], { ipv4: '203.0.113.1' });
      assert.equal(r.outcome, 'failed');
      cf.failNext({ status: 503, body: `upstream said ${TOKEN}` });
      await rejects(set(p, ['h.example.com'], { ipv4: '203.0.113.1' }), () => undefined);
      cf.failNext({ status: 403, body: { success: false, errors: [{ code: 10000, message: TOKEN }], result: null } });
      await rejects(p.getAddresses!('h.example.com', 'ipv4'), () => undefined);
      // Every request did carry it (in the Authorization header only).
      assert.ok(
        cf.requests.every(
          (q) => q.headers.authorization === `Bearer ${TOKEN}` && !q.url.includes(TOKEN) && !q.body.includes(TOKEN),
        ),
      );
    });
    assert.ok(seen.length > 20, `only ${seen.length} results and errors observed`);
    for (const s of visibleTexts(seen))
      assert.ok(!s.includes(TOKEN) && !s.includes(OTHER), `token leaked: ${s.slice(0, 300)}`);
  });
});
