/**
 * FreeDNS provider against a local contract server that follows the FreeDNS (afraid.org) dynamic
 * update interface v2: https://freedns.afraid.org/dynamic/v2/ (token update URLs on
 * sync.afraid.org / v6.sync.afraid.org, `?address=`, the `Updated …` / `No IP change detected …` /
 * `ERROR: …` answers), and the other wordings FreeDNS answers with (the update.php interface's
 * `Updated 1 host(s) <host> to <ip> in <t> seconds` and `ERROR: Address <ip> has not changed.`, and
 * `Updated <host> to <ip> in <t> seconds`; see the contract server's header).
 */
import { withServer } from '../../support/http-server';
import { after, describe, test } from '../../support/suite';
import assert from 'node:assert/strict';
import { providerCall } from '../../support/parsed';
import { definition, freednsSettings, parseFreeDnsTokens, successAnswer } from '../../../src/core/providers/freedns';
import { providerById } from '../../../src/core/providers/registry';
import type { DnsProvider, RecordResult } from '../../../src/core/providers/types';
import { DdnsError } from '../../../src/core/errors';
import { visibleTexts } from '../../support/visible-texts';
import { closeHttpPools } from '../../../src/core/http';
import { answerForms, startFreeDns, type FreeDnsContract, type FreeDnsForms } from '../../support/contracts/freedns';

const T4 = 'Qw3rTy8uIoP4aSdF5gHjK6lZ';
const T6 = 'Zx9cVb7nM2qW1eR4tY6uI8oP';
const TB = 'Bb1cVb7nM2qW1eR4tY6uI8oB';
const SECRETS = [T4, T6, TB];
const HOST = 'home.mooo.com';
const V4 = '203.0.113.7';
const V6 = '2001:db8::7';

after(closeHttpPools);

const seen: unknown[] = [];

function create(fd: FreeDnsContract | { url: string; urlIpv6: string }, token: string, timeoutMs = 3000): DnsProvider {
  return definition.create({ token, endpoint: fd.url, endpointIpv6: fd.urlIpv6 }, { timeoutMs });
}

async function update(p: DnsProvider, hostnames: string[], addresses: { ipv4?: string; ipv6?: string }) {
  const r = await p.setAddresses(providerCall({ hostnames, addresses }, 'as-given'));
  seen.push(r);
  return r;
}

const brief = (r: RecordResult[]) =>
  r.map((x) => [x.hostname, x.family, x.outcome, x.error?.kind ?? null, x.error?.code ?? null]);

async function withFd(
  t: (fd: FreeDnsContract) => Promise<void>,
  tokens: Parameters<typeof startFreeDns>[0]['tokens'] = {
    [T4]: HOST,
    [T6]: { hostname: HOST, type: 'AAAA', address: '2001:db8::1' },
    [TB]: 'b.mooo.com',
  },
) {
  await withServer(startFreeDns({ tokens }), t);
}

describe('freedns: definition and the token field', () => {
  test('registered, settings validated', () => {
    assert.equal(providerById('freedns'), definition);
    assert.equal(definition.txt, false);
    // secrets only under SECRET_KEYS: the conformance suite checks it for every provider
    assert.deepEqual(freednsSettings.parse({ token: ` ${T4} `, endpoint: '', endpointIpv6: '' }), {
      token: T4,
      endpoint: undefined,
      endpointIpv6: undefined,
    });
    assert.equal(freednsSettings.safeParse({ token: '' }).success, false);
    assert.equal(freednsSettings.safeParse({ token: T4, endpointIpv6: 'nope' }).success, false);
    const p = definition.create({ token: T4 }, {});
    assert.equal(p.maxHostsPerCall, 1);
    assert.equal(p.setTxt, undefined);
    assert.equal(p.getAddresses, undefined);
  });

  test('one token, an update URL, ipv6=, name=, name/ipv6=', () => {
    const ok = (text: string) => {
      const r = parseFreeDnsTokens(text);
      assert.ok('tokens' in r, JSON.stringify(r));
      return r.tokens;
    };
    assert.deepEqual(ok(T4), [{ name: null, family: 'ipv4', token: T4 }]);
    assert.deepEqual(ok(`https://sync.afraid.org/u/${T4}/`), [{ name: null, family: 'ipv4', token: T4 }]);
    assert.deepEqual(ok(`http://v6.sync.afraid.org/u/${T6}/`), [{ name: null, family: 'ipv6', token: T6 }]);
    assert.deepEqual(ok(`${T4}, ipv6=${T6}`), [
      { name: null, family: 'ipv4', token: T4 },
      { name: null, family: 'ipv6', token: T6 },
    ]);
    assert.deepEqual(
      ok(`Home.Mooo.com.=${T4}; home.mooo.com/AAAA=https://sync.afraid.org/u/${T6}/\nb.mooo.com/ipv4=${TB}`),
      [
        { name: HOST, family: 'ipv4', token: T4 },
        { name: HOST, family: 'ipv6', token: T6 },
        { name: 'b.mooo.com', family: 'ipv4', token: TB },
      ],
    );
    const bad = (text: string, re: RegExp) => {
      const r = parseFreeDnsTokens(text);
      assert.ok('error' in r, text);
      assert.match(r.error, re);
      for (const s of SECRETS) assert.ok(!r.error.includes(s), 'no token in the error');
    };
    bad('', /required/);
    bad(`https://freedns.afraid.org/dynamic/update.php?${T4}`, /version 1 update URL/);
    bad(`https://sync.afraid.org/x/${T4}`, /not a FreeDNS update URL/);
    bad(`${T4} ${T6}`, /two tokens for the A record of every name/);
    bad(`ipv4=${T4}/x`, /does not look like a FreeDNS update token/);
    bad(`${HOST}/ipv4=https://v6.sync.afraid.org/u/${T6}/`, /IPv6 .* URL is given for an A record/);
    bad(`bad_host!=${T4}`, /does not look like|not a host name/);
    assert.throws(
      () => definition.create({ token: `${T4} ${T4}` }, {}),
      (e: DdnsError) => e.kind === 'input' && !e.message.includes(T4),
    );
  });
});

describe('freedns: updates', () => {
  test('IPv4: GET /u/<token>/?address= on the IPv4 endpoint; Updated then No IP change', () =>
    withFd(async (fd) => {
      const p = create(fd, T4);
      const r1 = await update(p, [HOST], { ipv4: V4 });
      assert.equal(fd.requests.length, 1);
      const q = fd.requests[0];
      assert.equal(q.endpoint, 'ipv4');
      assert.equal(q.method, 'GET');
      assert.equal(q.path, `/u/${T4}/`);
      assert.deepEqual([...q.query.keys()], ['address']);
      assert.equal(q.query.get('address'), V4);
      assert.deepEqual(brief(r1), [[HOST, 'ipv4', 'updated', null, null]]);
      assert.equal(r1[0].message, `FreeDNS: Updated ${HOST} from 0.0.0.0 to ${V4}`);
      assert.deepEqual(fd.records.get(T4), { hostname: HOST, type: 'A', address: V4 });

      const r2 = await update(p, [`${HOST.toUpperCase()}.`], { ipv4: V4 });
      assert.equal(fd.requests.length, 2);
      assert.deepEqual(brief(r2), [[`${HOST.toUpperCase()}.`, 'ipv4', 'unchanged', null, null]]);
      assert.match(r2[0].message, /No IP change detected for home\.mooo\.com with IP 203\.0\.113\.7/);
    }));

  test('IPv6: the IPv6 endpoint with the AAAA token', () =>
    withFd(async (fd) => {
      const r = await update(create(fd, `ipv6=${T6}`), [HOST], { ipv6: '2001:DB8:0::7' });
      assert.equal(fd.requests.length, 1);
      assert.equal(fd.requests[0].endpoint, 'ipv6');
      assert.equal(fd.requests[0].path, `/u/${T6}/`);
      assert.equal(fd.requests[0].query.get('address'), V6);
      assert.deepEqual(brief(r), [[HOST, 'ipv6', 'updated', null, null]]);
      assert.deepEqual(fd.records.get(T6), { hostname: HOST, type: 'AAAA', address: V6 });
    }));

  test('dual-stack: two requests, one per record, each with its own outcome', () =>
    withFd(async (fd) => {
      const p = create(fd, `${T4}, ipv6=${T6}`);
      const r = await update(p, [HOST], { ipv4: V4, ipv6: V6 });
      assert.deepEqual(
        fd.requests.map((q) => [q.endpoint, q.path, q.query.get('address')]),
        [
          ['ipv4', `/u/${T4}/`, V4],
          ['ipv6', `/u/${T6}/`, V6],
        ],
      );
      assert.deepEqual(brief(r), [
        [HOST, 'ipv4', 'updated', null, null],
        [HOST, 'ipv6', 'updated', null, null],
      ]);

      fd.failNext('html');
      const r2 = await update(p, [HOST], { ipv4: '198.51.100.2', ipv6: V6 });
      assert.deepEqual(brief(r2), [
        [HOST, 'ipv4', 'failed', 'transient', 'http_502'],
        [HOST, 'ipv6', 'unchanged', null, null],
      ]);
      assert.equal(fd.records.get(T4)?.address, V4, 'the failed request changed nothing');
    }));

  test('a family or a name without a token: fatal for that record, nothing sent', () =>
    withFd(async (fd) => {
      const r = await update(create(fd, T4), [HOST], { ipv6: V6 });
      assert.equal(fd.requests.length, 0);
      assert.deepEqual(brief(r), [[HOST, 'ipv6', 'failed', 'fatal', 'no_token']]);
      assert.equal(r[0].error?.scope, 'host');
      assert.match(r[0].message, /AAAA record of home\.mooo\.com: add ipv6=<token>/);

      const p = create(fd, `${HOST}=${T4}, b.mooo.com=${TB}`);
      const r2 = await update(p, [HOST, 'b.mooo.com', 'c.mooo.com', 'not a name'], { ipv4: V4 });
      assert.deepEqual(
        fd.requests.map((q) => q.path),
        [`/u/${T4}/`, `/u/${TB}/`],
      );
      assert.deepEqual(brief(r2), [
        [HOST, 'ipv4', 'updated', null, null],
        ['b.mooo.com', 'ipv4', 'updated', null, null],
        ['c.mooo.com', 'ipv4', 'failed', 'fatal', 'no_token'],
        ['not a name', 'ipv4', 'failed', 'input', 'invalid_name'],
      ]);
      assert.match(r2[2].message, /add c\.mooo\.com=<token>/);
    }));

  test('a token that belongs to another name: fatal, says which name it updates', () =>
    withFd(async (fd) => {
      const r = await update(create(fd, TB), [HOST], { ipv4: V4 });
      assert.equal(fd.requests.length, 1);
      assert.deepEqual(brief(r), [[HOST, 'ipv4', 'failed', 'fatal', 'token_other_host']]);
      assert.match(r[0].message, /belongs to another record: FreeDNS answered about b\.mooo\.com/);
    }));

  const UPDATED_FORMS = Object.keys(answerForms.updated) as Array<FreeDnsForms['updated']>;
  const UNCHANGED_FORMS = Object.keys(answerForms.unchanged) as Array<FreeDnsForms['unchanged']>;

  for (const form of UPDATED_FORMS) {
    test(`answer form "${answerForms.updated[form]('<host>', '<old>', '<ip>')}": the own token updates, another record's token is fatal`, async () => {
      const fd = await startFreeDns({ tokens: { [T4]: HOST, [TB]: 'office.mooo.com' }, forms: { updated: form } });
      try {
        const own = await update(create(fd, T4), [HOST], { ipv4: V4 });
        assert.deepEqual(brief(own), [[HOST, 'ipv4', 'updated', null, null]]);
        assert.equal(own[0].message, `FreeDNS: ${answerForms.updated[form](HOST, '0.0.0.0', V4)}`);

        const other = await update(create(fd, `${HOST}=${TB}`), [HOST], { ipv4: V4 });
        assert.equal(fd.records.get(TB)?.address, V4, 'FreeDNS changed the other record');
        assert.deepEqual(brief(other), [[HOST, 'ipv4', 'failed', 'fatal', 'token_other_host']]);
        assert.equal(other[0].error?.scope, 'host');
        assert.match(other[0].message, /token used for the A record of home\.mooo\.com belongs to another record/);
        assert.match(other[0].message, /about office\.mooo\.com/);
        assert.match(other[0].message, /Give home\.mooo\.com its own token from freedns\.afraid\.org\/dynamic\/v2\//);
      } finally {
        await fd.close();
      }
    });
  }

  for (const form of UNCHANGED_FORMS) {
    test(`answer form "${answerForms.unchanged[form]('<host>', '<ip>')}": unchanged; another record's token is fatal when the answer names it`, async () => {
      const fd = await startFreeDns({
        tokens: { [T4]: { hostname: HOST, address: V4 }, [TB]: { hostname: 'office.mooo.com', address: V4 } },
        forms: { unchanged: form },
      });
      try {
        const own = await update(create(fd, T4), [HOST], { ipv4: V4 });
        assert.deepEqual(brief(own), [[HOST, 'ipv4', 'unchanged', null, null]]);
        const other = await update(create(fd, `${HOST}=${TB}`), [HOST], { ipv4: V4 });
        // `has not changed` names no record: there is nothing to compare (and nothing was changed).
        assert.deepEqual(
          brief(other),
          form === 'has-not-changed'
            ? [[HOST, 'ipv4', 'unchanged', null, null]]
            : [[HOST, 'ipv4', 'failed', 'fatal', 'token_other_host']],
        );
      } finally {
        await fd.close();
      }
    });
  }

  test('the names and the address of every success form, and what is not a success', () => {
    const forms = [
      ['Updated home.mooo.com from 198.51.100.1 to 203.0.113.7', 'updated', ['home.mooo.com'], V4],
      ['Updated office.mooo.com to 203.0.113.7 in 0.1 seconds', 'updated', ['office.mooo.com'], V4],
      ['Updated 1 host(s) Office.Mooo.com. to 203.0.113.7 in 0.178 seconds', 'updated', ['office.mooo.com'], V4],
      [
        'Updated 2 host(s) a.mooo.com, b.mooo.com to 203.0.113.7 in 0.3 seconds',
        'updated',
        ['a.mooo.com', 'b.mooo.com'],
        V4,
      ],
      ['Updated home.mooo.com from :: to 2001:db8::7', 'updated', ['home.mooo.com'], V6],
      ['Updated 1 host(s)', 'updated', [], undefined],
      [
        'No IP change detected for home.mooo.com with IP 203.0.113.7, skipping update',
        'unchanged',
        ['home.mooo.com'],
        V4,
      ],
      ['ERROR: Address 203.0.113.7 has not changed.', 'unchanged', [], V4],
    ] as const;
    for (const [text, outcome, names, address] of forms) {
      assert.deepEqual(successAnswer(text), { outcome, names: [...names], address }, text);
    }
    for (const text of ['ERROR: Unable to locate this record', 'OK', '', '<html>Updated</html>', 'nochg 1.2.3.4'])
      assert.equal(successAnswer(text), null, text);
  });

  test('ERROR answers: unknown record is fatal for that record, other refusals too', () =>
    withFd(async (fd) => {
      const r = await update(create(fd, 'Unkn0wnTokenXXXXXXXXXXXX'), [HOST], { ipv4: V4 });
      assert.deepEqual(brief(r), [[HOST, 'ipv4', 'failed', 'fatal', 'unknown_token']]);
      assert.equal(r[0].error?.scope, 'host');
      assert.match(
        r[0].message,
        /ERROR: Unable to locate this record.*copy the token again from freedns\.afraid\.org\/dynamic\/v2\//,
      );
      const p = create(fd, T4);
      fd.failNext('unknown-record');
      assert.equal((await update(p, [HOST], { ipv4: V4 }))[0].error?.code, 'unknown_token');
      fd.failNext({ body: `ERROR: something else went wrong for https://sync.afraid.org/u/${T4}/` });
      const r3 = await update(p, [HOST], { ipv4: V4 });
      assert.deepEqual(brief(r3), [[HOST, 'ipv4', 'failed', 'fatal', 'refused']]);
      assert.match(r3[0].message, /u\/\*\*\*\//, 'the token in the answer is redacted');
      assert.equal(fd.requests.length, 3);
    }));

  test('an answer naming another address: failed, not updated', () =>
    withFd(async (fd) => {
      fd.failNext({ body: `Updated ${HOST} from 0.0.0.0 to 198.51.100.1` });
      const r = await update(create(fd, T4), [HOST], { ipv4: V4 });
      assert.deepEqual(brief(r), [[HOST, 'ipv4', 'failed', 'transient', 'address_not_taken']]);
      fd.failNext({ body: 'Updated 1 host(s)' });
      assert.equal(
        (await update(create(fd, T4), [HOST], { ipv4: V4 }))[0].outcome,
        'updated',
        'an Updated answer of another shape still counts',
      );
    }));

  test('HTML, garbage, empty, 5xx, 429, 1 MB, no answer, reset: transient', () =>
    withFd(async (fd) => {
      const p = create(fd, T4, 400);
      const one = async () => (await update(p, [HOST], { ipv4: V4 }))[0];
      const cases: Array<[Parameters<FreeDnsContract['failNext']>[0], string]> = [
        ['html', 'http_502'],
        ['garbage', 'unexpected_answer'],
        ['empty', 'unexpected_answer'],
        ['server-error', 'http_500'],
        ['rate-limit', 'http_429'],
        ['huge', 'body_too_large'],
        ['hang', 'timeout'],
      ];
      for (const [f, code] of cases) {
        fd.failNext(f);
        const r = await one();
        assert.equal(r.outcome, 'failed', String(f));
        assert.equal(r.error?.kind, 'transient', String(f));
        assert.equal(r.error?.code, code, String(f));
        if (f === 'rate-limit') assert.deepEqual([r.error?.retryAfterMs, r.error?.scope], [120_000, 'account']);
        else assert.equal(r.error?.scope, 'host');
        if (f === 'html') assert.match(r.message, /HTML page "502 Bad Gateway"/);
      }
      fd.failNext('reset');
      const r = await one();
      assert.equal(r.error?.kind, 'transient');
      assert.match(r.message, /reset|closed/);
      assert.equal(fd.requests.length, cases.length + 1);
      assert.equal(fd.records.get(T4)?.address, '0.0.0.0', 'no failed request changed the record');
      fd.failNext({ delayMs: 50 });
      assert.equal((await one()).outcome, 'updated', 'slow but in time');
    }));

  test('nobody listening: transient, redacted; bad addresses: nothing sent', async () => {
    const p = create({ url: 'http://127.0.0.1:1', urlIpv6: 'http://127.0.0.1:1' }, `${T4}, ipv6=${T6}`);
    const r = await update(p, [HOST], { ipv4: V4, ipv6: V6 });
    assert.deepEqual(
      r.map((x) => [x.outcome, x.error?.kind]),
      [
        ['failed', 'transient'],
        ['failed', 'transient'],
      ],
    );
    for (const bad of [{ ipv4: V6 }, { ipv6: V4 }, { ipv4: '1.2.3' }]) {
      try {
        await p.setAddresses(providerCall({ hostnames: [HOST], addresses: bad }, 'as-given'));
        assert.fail('expected an input error');
      } catch (e) {
        assert.ok(e instanceof DdnsError);
        assert.equal(e.kind, 'input');
        seen.push(e);
      }
    }
    assert.deepEqual(await update(p, [HOST], {}), []);
  });
});

describe('freedns: contract server', () => {
  test('without address the source address is used; other paths are 404', () =>
    withFd(async (fd) => {
      assert.equal(await (await fetch(`${fd.url}/u/${TB}/`)).text(), 'Updated b.mooo.com from 0.0.0.0 to 127.0.0.1');
      assert.equal((await fetch(`${fd.url}/dynamic/update.php?x`)).status, 404);
      assert.equal(
        await (await fetch(`${fd.urlIpv6}/u/${TB}/?address=${V4}`)).text(),
        `ERROR: Address ${V4} is not a valid IPv6 address`,
      );
      assert.equal(
        await (await fetch(`${fd.url}/u/nope/?address=${V4}`)).text(),
        'ERROR: Unable to locate this record',
      );
    }));
});

test('no token ever appears in a result, message, detail or stack', () => {
  assert.ok(seen.length > 15);
  for (const s of visibleTexts(seen))
    for (const t of SECRETS) assert.ok(!s.includes(t), `token leaked in: ${s.slice(0, 200)}`);
});

test('an update URL with broken %-escapes in the token field is refused with a clear error, never thrown', () => {
  // Found by the fuzz tests (test/core/fuzz/providers.fuzz.test.ts, provider settings): the token
  // of a pasted URL went through decodeURIComponent, whose URIError escaped the settings schema.
  for (const text of ['https://sync.afraid.org/u/%E0%A4%A/', `home.mooo.com=https://sync.afraid.org/u/%zz${T4}/`]) {
    const r = parseFreeDnsTokens(text);
    assert.ok('error' in r, text);
    assert.match(r.error, /not a valid URL|does not look like a FreeDNS update token/);
    assert.equal(freednsSettings.safeParse({ token: text }).success, false);
  }
});
