/**
 * The dyndns2 protocol, the generic "dyndns2" provider and DynDNS (Dyn), against a local contract
 * server (test/support/contracts/dyndns2.ts) that follows the documented requests and answers:
 * - https://help.dyn.com/remote-access-api/perform-update/ (request, User-Agent, /v3/update myip=v4,v6)
 * - https://help.dyn.com/return-codes/ (answer table; one line per host in order; account and
 *   system errors returned once)
 */
import { withServer } from '../../support/http-server';
import { after, describe, test } from '../../support/suite';
import assert from 'node:assert/strict';
import { providerCall } from '../../support/parsed';
import { visibleTexts } from '../../support/visible-texts';
import { parsePublishable } from '../../../src/core/address';
import { normaliseHostname as parseHostname } from '../../../src/core/hostname';
import { closeHttpPools } from '../../../src/core/http';
import { DdnsError } from '../../../src/core/errors';
import { Redactor } from '../../../src/core/redact';
import { PACKAGE_NAME, PACKAGE_VERSION, PROJECT_CONTACT } from '../../../src/core/version';
import {
  ANSWERS,
  buildUrl,
  definition as generic,
  dyndns2UserAgent,
  createDyndns2Provider,
  interpretAnswer,
  parseWait,
  planRequests,
  type Dyndns2Flavour,
} from '../../../src/core/providers/dyndns2';
import { definition as dyndns, DYNDNS_ENDPOINT, dyndnsFlavour } from '../../../src/core/providers/dyndns';
import { providerById } from '../../../src/core/providers/registry';
import { AGENT_RULES, startDyndns2 } from '../../support/contracts/dyndns2';

after(closeHttpPools);

const PASSWORD = 'Sup3r-Secret-Pa55';
const USER = 'alice';
const V4 = parsePublishable('198.51.100.7', 'ipv4').address;
const V6 = parsePublishable('2001:db8::7', 'ipv6').address;

const flavour: Dyndns2Flavour = {
  id: 'dyndns2',
  name: 'dyn.example',
  dualStack: 'separate',
  serverTroubleWaitMs: 600_000,
  abuseScope: 'host',
};
const red = new Redactor([PASSWORD]);
/** The shared host-name parser, as text or null (dyndns2 takes what it accepts, wildcards aside). */
const normaliseHostname = (text: string): string | null => {
  const r = parseHostname(text);
  return r.ok ? r.name : null;
};
const answer = (body: string, hostnames = ['a.example.net'], status = 200, headers: Record<string, string> = {}) =>
  interpretAnswer({
    response: { status, headers, body },
    hostnames,
    families: ['ipv4'],
    addresses: { ipv4: V4 },
    flavour,
    name: 'dyn.example',
    redactor: red,
  });
const thrown = (fn: () => unknown): DdnsError => {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof DdnsError, String(e));
    return e;
  }
  assert.fail('expected a DdnsError');
};

const thrownAsync = (p: Promise<unknown>): Promise<DdnsError> =>
  p.then(
    () => assert.fail('expected a DdnsError'),
    (e: unknown) => {
      assert.ok(e instanceof DdnsError, String(e));
      return e;
    },
  );

/** Nothing the user could see carries the password (message, stack, detail, results). */
function assertNoSecret(...values: unknown[]): void {
  for (const p of visibleTexts(values)) {
    assert.doesNotMatch(p, new RegExp(PASSWORD));
    assert.doesNotMatch(p, new RegExp(Buffer.from(`${USER}:${PASSWORD}`).toString('base64')));
  }
}

describe('dyndns2 protocol pieces', () => {
  test("User-Agent in No-IP's format (client, version, contact e-mail) and in Dyn's (company - device - version)", () => {
    const ua = dyndns2UserAgent('contact', undefined, 'linux');
    assert.equal(ua, `${PACKAGE_NAME} ${PACKAGE_NAME}/linux-${PACKAGE_VERSION} ${PROJECT_CONTACT}`);
    assert.match(ua, AGENT_RULES.noip!);
    assert.equal(dyndns2UserAgent(), dyndns2UserAgent('contact', PROJECT_CONTACT, process.platform));
    assert.match(dyndns2UserAgent('contact', 'me@example.org'), / me@example\.org$/);
    const dyn = dyndns2UserAgent('dyn', undefined, 'linux');
    assert.equal(dyn, `${PACKAGE_NAME} - Node-RED on linux - ${PACKAGE_VERSION}`);
    assert.match(dyn, AGENT_RULES.dyn!);
    // Each format is refused where the other is documented.
    assert.doesNotMatch(ua, AGENT_RULES.dyn!);
    assert.doesNotMatch(dyn, AGENT_RULES.noip!);
  });

  test('host names: normalised, IDN to punycode, bad ones refused', () => {
    assert.equal(normaliseHostname(' MyHome.Example.NET. '), 'myhome.example.net');
    assert.equal(normaliseHostname('bücher.example'), 'xn--bcher-kva.example');
    for (const bad of [
      '',
      'localhost',
      'a..b',
      '-a.example',
      'a-.example',
      'a.example,b.example',
      'a b.example',
      '1.2.3.4',
      'x'.repeat(64) + '.example',
      'a.example/x',
      'user@a.example',
    ]) {
      assert.equal(normaliseHostname(bad), null, bad);
    }
  });

  test('wait instructions', () => {
    assert.deepEqual(parseWait('w90s'), { ms: 90_000, words: '90 seconds' });
    assert.deepEqual(parseWait('w30m'), { ms: 1_800_000, words: '30 minutes' });
    assert.deepEqual(parseWait('W2H'), { ms: 7_200_000, words: '2 hours' });
    assert.equal(parseWait('w30'), undefined);
    assert.equal(parseWait('wait'), undefined);
  });

  test("request plans per dual-stack style, and URLs keeping the endpoint's own query", () => {
    assert.deepEqual(planRequests('separate', { ipv4: V4, ipv6: V6 }), [
      { families: ['ipv4'], params: [['myip', V4]] },
      { families: ['ipv6'], params: [['myip', V6]] },
    ]);
    assert.deepEqual(planRequests('combined', { ipv4: V4, ipv6: V6 }), [
      { families: ['ipv4', 'ipv6'], params: [['myip', `${V4},${V6}`]] },
    ]);
    assert.deepEqual(planRequests('combined', { ipv6: V6 }), [{ families: ['ipv6'], params: [['myip', V6]] }]);
    assert.deepEqual(planRequests('dynu', { ipv6: V6 }), [
      {
        families: ['ipv6'],
        params: [
          ['myip', 'no'],
          ['myipv6', V6],
        ],
      },
    ]);
    assert.equal(
      buildUrl('https://x.example/nic/update?system=dyndns#frag', ['a.example.net', 'b.example.net'], {
        families: ['ipv4', 'ipv6'],
        params: [['myip', `${V4},${V6}`]],
      }),
      `https://x.example/nic/update?system=dyndns&hostname=a.example.net,b.example.net&myip=${V4},${V6}`,
    );
  });
});

describe('dyndns2 answer table', () => {
  test('good and nochg, with and without the address', () => {
    const [good, ...more] = answer(`good ${V4}`);
    const { said, ...plain } = good;
    assert.deepEqual(more, []);
    assert.deepEqual(plain, {
      hostname: 'a.example.net',
      family: 'ipv4',
      outcome: 'updated',
      message: `good ${V4}: record updated`,
    });
    assert.equal(said?.key, 'dyndns2.answer', 'the message as a sentence, to say in the user language');
    assert.equal(answer(`nochg ${V4}\r\n`)[0].outcome, 'unchanged');
    assert.equal(answer('good')[0].outcome, 'updated');
    assert.equal(answer('NOCHG')[0].outcome, 'unchanged');
  });

  test('every error answer: kind, code, scope, wait, and a message that says what to do', () => {
    const expect: Record<string, [string, string, number | undefined, RegExp]> = {
      badauth: ['fatal', 'account', undefined, /username or password/],
      '!donator': ['fatal', 'account', undefined, /paid account/],
      badagent: ['fatal', 'account', undefined, /refused this client/],
      notfqdn: ['fatal', 'host', undefined, /not a complete host name/],
      nohost: ['fatal', 'host', undefined, /does not know a\.example\.net/],
      numhost: ['fatal', 'host', undefined, /too many names/],
      abuse: ['fatal', 'host', undefined, /blocked a\.example\.net for update abuse/],
      dnserr: ['transient', 'account', 600_000, /DNS error.*10 minutes/],
      '911': ['transient', 'account', 600_000, /maintenance.*10 minutes/],
      servererror: ['transient', 'account', 600_000, /error on its side/],
    };
    assert.deepEqual(Object.keys(ANSWERS).sort(), Object.keys(expect).sort());
    for (const [word, [kind, scope, wait, text]] of Object.entries(expect)) {
      let err: DdnsError;
      if (ANSWERS[word].accountWide) err = thrown(() => answer(word));
      else {
        // Host answers are the record's result, not a thrown error.
        const [r] = answer(word);
        assert.equal(r.outcome, 'failed', word);
        err = r.error!;
        assert.match(r.message, new RegExp(`^${word.replace('!', '\\!')}: `));
      }
      assert.equal(err.kind, kind, word);
      assert.equal(err.code, word);
      assert.equal(err.scope, scope, word);
      assert.equal(err.retryAfterMs, wait, word);
      assert.match(err.message, text, word);
      assert.match(err.message, new RegExp(`\\(${word.replace('!', '\\!')}\\)`), 'the message names the answer');
    }
  });

  test('multi-host answers in order; an answer given once applies to every host', () => {
    const hosts = ['a.example.net', 'b.example.net', 'c.example.net'];
    const rs = answer(`good ${V4}\nnohost\nnochg ${V4}`, hosts);
    assert.deepEqual(
      rs.map((r) => [r.hostname, r.outcome, r.error?.code]),
      [
        ['a.example.net', 'updated', undefined],
        ['b.example.net', 'failed', 'nohost'],
        ['c.example.net', 'unchanged', undefined],
      ],
    );
    const once = thrown(() => answer('notfqdn', hosts));
    assert.equal(once.code, 'notfqdn');
    assert.match(once.message, /a\.example\.net, b\.example\.net, c\.example\.net/);
    assert.equal(thrown(() => answer('badauth', hosts)).scope, 'account');
    assert.equal(thrown(() => answer(`good ${V4}\nbadauth\n`, hosts)).code, 'badauth');
    // one success line for three names is not an answer the protocol allows
    assert.equal(thrown(() => answer(`good ${V4}`, hosts)).code, 'bad_answer');
    assert.equal(thrown(() => answer(`good ${V4}\ngood ${V4}`, hosts)).code, 'bad_answer');
    // one unreadable line among readable ones fails that name only
    const mixed = answer(`good ${V4}\nwhat?\nnochg`, hosts);
    assert.deepEqual(
      mixed.map((r) => r.error?.code),
      [undefined, 'bad_answer', undefined],
    );
    assert.equal(mixed[1].error!.kind, 'transient');
  });

  test('unknown answers are transient with an excerpt: HTML, empty, garbage, 5xx, 404; 401 is badauth', () => {
    const html = thrown(() =>
      answer('<!DOCTYPE html><html><head><title>Bad Gateway</title></head><body>…</body></html>', undefined, 502, {
        'retry-after': '120',
      }),
    );
    assert.deepEqual([html.kind, html.code, html.retryAfterMs], ['transient', 'http_502', 120_000]);
    assert.match(html.message, /HTTP status 502: HTML page "Bad Gateway"/);
    const empty = thrown(() => answer(''));
    assert.deepEqual([empty.kind, empty.code], ['transient', 'bad_answer']);
    assert.match(empty.message, /\(empty\)/);
    assert.equal(thrown(() => answer('hello world')).code, 'bad_answer');
    assert.match(
      thrown(() => answer('<html><title>Not Found</title></html>', undefined, 404)).message,
      /Check the server address/,
    );
    assert.match(
      thrown(() => answer('', undefined, 301, { location: 'https://dyn.example/nic/update' })).message,
      /moved to https:\/\/dyn\.example\/nic\/update/,
    );
    const maint = thrown(() => answer('911', undefined, 503));
    assert.deepEqual([maint.code, maint.retryAfterMs], ['911', 600_000]);
    const auth = thrown(() => answer('Unauthorized', undefined, 401));
    assert.deepEqual([auth.kind, auth.code, auth.scope], ['fatal', 'badauth', 'account']);
  });

  test("echoed addresses: a different address is a fatal mismatch; 127.0.0.1 is Dyn's refused-client signal", () => {
    const [r] = answer('good 192.0.2.99');
    assert.equal(r.outcome, 'failed');
    assert.deepEqual([r.error!.kind, r.error!.code, r.error!.scope], ['fatal', 'address_mismatch', 'host']);
    assert.match(r.message, /ignore the address sent/);
    assert.equal(thrown(() => answer('good 127.0.0.1')).code, 'badagent');
  });

  test('a secret echoed by the server is redacted', () => {
    const e = thrown(() => answer(`error: password=${PASSWORD} rejected`));
    assertNoSecret(e);
    const [r] = answer(`nohost ${PASSWORD}`);
    assertNoSecret([r]);
  });
});

describe('generic dyndns2 provider', () => {
  const create = (endpoint: string, extra: Record<string, unknown> = {}, env = {}) =>
    generic.create(generic.settings.parse({ endpoint, username: USER, password: PASSWORD, ...extra }), env);

  test('settings: URL required, http(s) only, no credentials in it; registered', () => {
    assert.equal(providerById('dyndns2'), generic);
    assert.equal(generic.txt, false);
    assert.deepEqual(
      generic.fields.filter((f) => f.kind === 'password').map((f) => f.key),
      ['password'],
    );
    assert.equal(generic.fields.find((f) => f.key === 'username')!.kind, 'text');
    assert.equal(generic.settings.safeParse({ username: USER, password: PASSWORD }).success, false);
    assert.equal(
      generic.settings.safeParse({ endpoint: 'ftp://x.example/', username: USER, password: PASSWORD }).success,
      false,
    );
    const userinfo = generic.settings.safeParse({
      endpoint: `https://${USER}:${PASSWORD}@x.example/nic/update`,
      username: USER,
      password: PASSWORD,
    });
    assert.equal(userinfo.success, false);
    assert.equal(
      generic.settings.safeParse({ endpoint: 'https://x.example/nic/update', username: 'a:b', password: PASSWORD })
        .success,
      false,
    );
    assert.equal(
      generic.settings.safeParse({ endpoint: 'https://x.example/nic/update', username: USER, password: '' }).success,
      false,
    );
    assert.equal(
      generic.settings.parse({
        endpoint: 'https://x.example/nic/update',
        username: USER,
        password: PASSWORD,
        combined: '',
      }).combined,
      undefined,
    );
  });

  test('exact requests: GET, path, hostname list, explicit myip, Basic auth, User-Agent; one request per family', async () => {
    const srv = await startDyndns2({
      flavour: 'generic',
      users: { [USER]: PASSWORD },
      hosts: ['a.example.net', 'b.example.net'],
    });
    try {
      const p = create(srv.url);
      assert.equal(p.id, 'dyndns2');
      assert.equal(p.maxHostsPerCall, 20);
      const rs = await p.setAddresses(
        providerCall({ hostnames: ['A.example.net', 'b.example.net'], addresses: { ipv4: V4, ipv6: '2001:DB8:0::7' } }),
      );
      assert.deepEqual(
        rs.map((r) => [r.hostname, r.family, r.outcome]),
        [
          ['a.example.net', 'ipv4', 'updated'],
          ['b.example.net', 'ipv4', 'updated'],
          ['a.example.net', 'ipv6', 'updated'],
          ['b.example.net', 'ipv6', 'updated'],
        ],
      );
      assert.equal(srv.requests.length, 2);
      for (const [i, myip] of [V4, V6].entries()) {
        const r = srv.requests[i];
        assert.equal(r.method, 'GET');
        assert.equal(r.path, '/nic/update');
        assert.deepEqual([...r.query.keys()], ['hostname', 'myip']);
        assert.equal(r.query.get('hostname'), 'a.example.net,b.example.net');
        assert.equal(r.query.get('myip'), myip);
        assert.deepEqual(r.basic, { user: USER, password: PASSWORD });
        assert.equal(r.headers['user-agent'], dyndns2UserAgent());
        assert.equal(r.url.includes(PASSWORD), false, 'the password is never in the URL');
      }
      assert.deepEqual(srv.record('a.example.net'), { ipv4: V4, ipv6: V6 });
      // the same addresses again: nochg
      const again = await p.setAddresses(providerCall({ hostnames: ['a.example.net'], addresses: { ipv4: V4 } }));
      assert.equal(again[0].outcome, 'unchanged');
    } finally {
      await srv.close();
    }
  });

  test('combined option: both families in one request (myip=v4,v6)', async () => {
    await withServer(
      startDyndns2({ flavour: 'generic', users: { [USER]: PASSWORD }, hosts: ['a.example.net'] }),
      async (srv) => {
        const rs = await create(srv.url, { combined: true }).setAddresses(
          providerCall({ hostnames: ['a.example.net'], addresses: { ipv4: V4, ipv6: V6 } }),
        );
        assert.deepEqual(
          rs.map((r) => [r.family, r.outcome]),
          [
            ['ipv4', 'updated'],
            ['ipv6', 'updated'],
          ],
        );
        assert.equal(srv.requests.length, 1);
        assert.equal(srv.requests[0].query.get('myip'), `${V4},${V6}`);
      },
    );
  });

  test('bad input is refused before anything is sent', async () => {
    await withServer(
      startDyndns2({ flavour: 'generic', users: { [USER]: PASSWORD }, hosts: ['a.example.net'] }),
      async (srv) => {
        const p = create(srv.url);
        const cases: Array<[Parameters<typeof providerCall>[0], string]> = [
          [{ hostnames: [], addresses: { ipv4: V4 } }, 'no_hostname'],
          [{ hostnames: ['not a host'], addresses: { ipv4: V4 } }, 'invalid_hostname'],
          [{ hostnames: ['a.example.net', 'A.example.net.'], addresses: { ipv4: V4 } }, 'duplicate_hostname'],
          [
            { hostnames: Array.from({ length: 21 }, (_, i) => `h${i}.example.net`), addresses: { ipv4: V4 } },
            'too_many_hostnames',
          ],
          [{ hostnames: ['a.example.net'], addresses: {} }, 'no_address'],
          [{ hostnames: ['a.example.net'], addresses: { ipv4: V6 } }, 'invalid_address'],
          [{ hostnames: ['a.example.net'], addresses: { ipv6: V4 } }, 'invalid_address'],
          [{ hostnames: ['a.example.net'], addresses: { ipv4: '1.2.3' } }, 'invalid_address'],
          [{ hostnames: ['a.example.net'], addresses: { ipv4: '0.0.0.0' } }, 'invalid_address'],
          [{ hostnames: ['*.example.net'], addresses: { ipv4: V4 } }, 'invalid_hostname'],
          [{ hostnames: ['a.example.net'], addresses: { ipv4: `${V4}&myip=1.1.1.1` } }, 'invalid_address'],
        ];
        for (const [call, code] of cases) {
          // refused where it is parsed (the boundary) or by dyndns2's own rules: either way before sending
          await assert.rejects(
            async () => p.setAddresses(providerCall(call)),
            (e: DdnsError) => e.kind === 'input' && e.code === code,
            code,
          );
        }
        assert.equal(srv.requests.length, 0);
      },
    );
  });

  test('second request failing after the first was answered: the first results are kept', async () => {
    await withServer(
      startDyndns2({ flavour: 'generic', users: { [USER]: PASSWORD }, hosts: ['a.example.net'] }),
      async (srv) => {
        srv.answerNext(`good ${V4}`);
        srv.answerNext({ lines: ['911'] });
        const rs = await create(srv.url).setAddresses(
          providerCall({ hostnames: ['a.example.net'], addresses: { ipv4: V4, ipv6: V6 } }),
        );
        assert.deepEqual(
          rs.map((r) => [r.family, r.outcome, r.error?.code, r.error?.retryAfterMs]),
          [
            ['ipv4', 'updated', undefined, undefined],
            ['ipv6', 'failed', '911', 600_000],
          ],
        );
        assert.equal(rs[1].error!.scope, 'account');
      },
    );
  });

  test('a name with a fatal answer in the first request is not sent again in the second', async () => {
    await withServer(
      startDyndns2({ flavour: 'generic', users: { [USER]: PASSWORD }, hosts: ['a.example.net'] }),
      async (srv) => {
        const rs = await create(srv.url).setAddresses(
          providerCall({ hostnames: ['a.example.net', 'gone.example.net'], addresses: { ipv4: V4, ipv6: V6 } }),
        );
        assert.equal(srv.requests.length, 2);
        assert.equal(srv.requests[1].query.get('hostname'), 'a.example.net');
        const byKey = Object.fromEntries(
          rs.map((r) => [`${r.hostname}/${r.family}`, `${r.outcome}:${r.error?.code ?? ''}`]),
        );
        assert.deepEqual(byKey, {
          'a.example.net/ipv4': 'updated:',
          'a.example.net/ipv6': 'updated:',
          'gone.example.net/ipv4': 'failed:nohost',
          'gone.example.net/ipv6': 'failed:nohost',
        });
      },
    );
  });

  test('transport failures are transient: slow server, reset, oversized and malformed bodies; no secret leaks', async () => {
    await withServer(
      startDyndns2({ flavour: 'generic', users: { [USER]: PASSWORD }, hosts: ['a.example.net'] }),
      async (srv) => {
        const p = create(srv.url, {}, { timeoutMs: 300 });
        const call = providerCall({ hostnames: ['a.example.net'], addresses: { ipv4: V4 } });
        const cases: Array<[Parameters<typeof srv.answerNext>[0], string]> = [
          [{ delayMs: 2_000, lines: [`good ${V4}`] }, 'timeout'],
          [{ hang: true }, 'timeout'],
          [{ reset: true }, ''],
          [{ hugeBytes: 200_000 }, 'body_too_large'],
          [{ body: 'x'.repeat(40_000), headers: {} }, 'body_too_large'],
          [{ body: `<html><body>${PASSWORD}</body></html>` }, 'bad_answer'],
          [{ body: '\u0000\u0001garbage' }, 'bad_answer'],
          [{ status: 500, body: `Internal error for ${USER}:${PASSWORD}` }, 'http_500'],
        ];
        for (const [canned, code] of cases) {
          srv.answerNext(canned);
          await assert.rejects(p.setAddresses(call), (e: DdnsError) => {
            assert.equal(e.kind, 'transient', JSON.stringify(canned).slice(0, 40));
            if (code) assert.equal(e.code, code);
            else assert.ok(e.code, 'has a code');
            assertNoSecret(e);
            return true;
          });
        }
        assert.equal(srv.requests.length, cases.length);
      },
    );
  });

  test('connection refused is transient', async () => {
    const srv = await startDyndns2({ flavour: 'generic', users: {}, hosts: [] });
    const url = srv.url;
    await srv.close();
    await assert.rejects(
      async () =>
        create(url, {}, { timeoutMs: 2_000 }).setAddresses(
          providerCall({ hostnames: ['a.example.net'], addresses: { ipv4: V4 } }),
        ),
      (e: DdnsError) => e.kind === 'transient' && e.code === 'ECONNREFUSED',
    );
  });

  test('wrong password: badauth from the server, fatal for the account; password never shown', async () => {
    await withServer(
      startDyndns2({ flavour: 'generic', users: { [USER]: 'other' }, hosts: ['a.example.net'] }),
      async (srv) => {
        await assert.rejects(
          async () =>
            create(srv.url).setAddresses(providerCall({ hostnames: ['a.example.net'], addresses: { ipv4: V4 } })),
          (e: DdnsError) => {
            assert.deepEqual([e.kind, e.code, e.scope], ['fatal', 'badauth', 'account']);
            assert.match(e.message, /^127\.0\.0\.1:\d+ rejected the username or password/);
            assertNoSecret(e);
            return true;
          },
        );
      },
    );
  });
});

describe('DynDNS (Dyn) provider', () => {
  const create = (endpoint?: string) =>
    dyndns.create(dyndns.settings.parse({ username: USER, password: PASSWORD, endpoint }), {});

  test('definition: default endpoint, secret only in password, registered', () => {
    assert.equal(providerById('dyndns'), dyndns);
    assert.equal(DYNDNS_ENDPOINT, 'https://members.dyndns.org/nic/update');
    assert.equal(dyndns.settings.parse({ username: USER, password: PASSWORD, endpoint: '' }).endpoint, undefined);
    assert.deepEqual(
      dyndns.fields.map((f) => [f.key, f.kind, !!f.advanced]),
      [
        ['username', 'text', false],
        ['password', 'password', false],
        ['endpoint', 'url', true],
      ],
    );
    assert.ok(dyndns.docsUrl);
  });

  test('/nic/update: one address per request; multi-host answer in order with a nohost', async () => {
    const srv = await startDyndns2({
      flavour: 'dyn',
      users: { [USER]: PASSWORD },
      hosts: ['a.example.net', 'c.example.net'],
    });
    try {
      const rs = await create(srv.url).setAddresses(
        providerCall({
          hostnames: ['a.example.net', 'b.example.net', 'c.example.net'],
          addresses: { ipv4: V4, ipv6: V6 },
        }),
      );
      assert.equal(srv.requests.length, 2);
      assert.deepEqual(
        srv.requests.map((r) => r.query.get('myip')),
        [V4, V6],
      );
      assert.deepEqual(
        srv.requests.map((r) => r.query.get('hostname')),
        ['a.example.net,b.example.net,c.example.net', 'a.example.net,c.example.net'],
      );
      assert.deepEqual(
        rs.filter((r) => r.family === 'ipv4').map((r) => r.outcome),
        ['updated', 'failed', 'updated'],
      );
      assert.deepEqual(srv.record('c.example.net'), { ipv4: V4, ipv6: V6 });
      for (const r of srv.requests) assert.equal(r.headers['user-agent'], dyndns2UserAgent('dyn'));
    } finally {
      await srv.close();
    }
  });

  test("User-Agent: Dyn's documented form is accepted; another one gets badagent, fatal for the account", async () => {
    await withServer(
      startDyndns2({ flavour: 'dyn', users: { [USER]: PASSWORD }, hosts: ['a.example.net'] }),
      async (srv) => {
        const rs = await create(srv.url).setAddresses(
          providerCall({ hostnames: ['a.example.net'], addresses: { ipv4: V4 } }),
        );
        assert.equal(rs[0].outcome, 'updated');
        // The contract refuses what Dyn's page does not describe (here No-IP's format).
        const other = createDyndns2Provider({
          flavour: { ...dyndnsFlavour(srv.url), agent: 'contact' },
          endpoint: srv.url,
          username: USER,
          password: PASSWORD,
        });
        const e = await thrownAsync(
          other.setAddresses(providerCall({ hostnames: ['a.example.net'], addresses: { ipv4: V4 } })),
        );
        assert.deepEqual([e.code, e.kind, e.scope], ['badagent', 'fatal', 'account']);
        assert.equal(srv.requests.length, 2);
      },
    );
  });

  test('/v3/update (updater client key): both families in one request', async () => {
    const srv = await startDyndns2({
      flavour: 'dyn',
      users: { [USER]: PASSWORD },
      hosts: ['a.example.net'],
      path: '/v3/update',
    });
    try {
      const rs = await create(srv.url).setAddresses(
        providerCall({ hostnames: ['a.example.net'], addresses: { ipv4: V4, ipv6: V6 } }),
      );
      assert.deepEqual(
        rs.map((r) => r.outcome),
        ['updated', 'updated'],
      );
      assert.equal(srv.requests.length, 1);
      assert.equal(srv.requests[0].query.get('myip'), `${V4},${V6}`);
    } finally {
      await srv.close();
    }
  });

  test('blocked host: abuse, fatal for that host only', async () => {
    const srv = await startDyndns2({
      flavour: 'dyn',
      users: { [USER]: PASSWORD },
      hosts: ['a.example.net', 'b.example.net'],
    });
    try {
      srv.block('b.example.net');
      const rs = await create(srv.url).setAddresses(
        providerCall({ hostnames: ['a.example.net', 'b.example.net'], addresses: { ipv4: V4 } }),
      );
      assert.equal(rs[0].outcome, 'updated');
      assert.deepEqual(
        [rs[1].outcome, rs[1].error!.code, rs[1].error!.scope, rs[1].error!.kind],
        ['failed', 'abuse', 'host', 'fatal'],
      );
      assert.match(rs[1].message, /blocked b\.example\.net for update abuse/);
    } finally {
      await srv.close();
    }
  });
});
