/**
 * Dynu over its IP update protocol, against a local contract server following Dynu's
 * documentation: https://www.dynu.com/DynamicDNS/IP-Update-Protocol (GET only; Basic auth, the
 * password plain, MD5 or SHA-256; `myip` for IPv4 and `myipv6` for IPv6, `no` leaves a family
 * as it is, an omitted family is taken from the request's source address; dyndns2 answers incl.
 * `servererror` and `911` = maintenance, retry in 10 minutes).
 */
import { withServer } from '../../support/http-server';
import { createHash } from 'node:crypto';
import { after, describe, test } from '../../support/suite';
import assert from 'node:assert/strict';
import { providerCall } from '../../support/parsed';
import { visibleTexts } from '../../support/visible-texts';
import { closeHttpPools } from '../../../src/core/http';
import type { DdnsError } from '../../../src/core/errors';
import { dyndns2UserAgent } from '../../../src/core/providers/dyndns2';
import { definition as dynu, DYNU_ENDPOINT } from '../../../src/core/providers/dynu';
import { providerById } from '../../../src/core/providers/registry';
import { startDyndns2, type Dyndns2Server, onlyUpdate } from '../../support/contracts/dyndns2';

after(closeHttpPools);

const USER = 'bob';
const PASSWORD = 'dynu-Pa55word';
const V4 = '192.0.2.44';
const V6 = '2001:db8:44::1';
const OLD4 = '192.0.2.1';
const OLD6 = '2001:db8::1';

const create = (srv: Dyndns2Server, password = PASSWORD, env = {}) =>
  dynu.create(dynu.settings.parse({ username: USER, password, endpoint: srv.url }), env);
const serve = () =>
  startDyndns2({
    flavour: 'dynu',
    users: { [USER]: PASSWORD },
    hosts: { 'home.dynu.net': { ipv4: OLD4, ipv6: OLD6 }, 'other.dynu.net': {} },
  });

function assertNoSecret(...values: unknown[]): void {
  for (const p of visibleTexts(values)) assert.equal(p.includes(PASSWORD), false, p);
}

describe('Dynu', () => {
  test('definition', () => {
    assert.equal(providerById('dynu'), dynu);
    assert.equal(DYNU_ENDPOINT, 'https://api.dynu.com/nic/update');
    assert.equal(dynu.txt, false);
    assert.deepEqual(
      dynu.fields.filter((f) => f.kind === 'password').map((f) => f.key),
      ['password'],
    );
    assert.ok(dynu.docsUrl?.startsWith('https://www.dynu.com/'));
  });

  test('IPv4 only: myip=<v4>&myipv6=no, and the IPv6 record is left as it was', async () => {
    await withServer(serve(), async (srv) => {
      const rs = await create(srv).setAddresses(
        providerCall({ hostnames: ['home.dynu.net'], addresses: { ipv4: V4 } }),
      );
      const r = onlyUpdate(srv);
      assert.deepEqual(
        [...r.query.entries()],
        [
          ['hostname', 'home.dynu.net'],
          ['myip', V4],
          ['myipv6', 'no'],
        ],
      );
      assert.deepEqual(r.basic, { user: USER, password: PASSWORD });
      assert.equal(r.url.includes(PASSWORD), false);
      assert.equal(r.headers['user-agent'], dyndns2UserAgent());
      assert.deepEqual(
        rs.map((x) => [x.family, x.outcome]),
        [['ipv4', 'updated']],
      );
      assert.deepEqual(srv.record('home.dynu.net'), { ipv4: V4, ipv6: OLD6 });
    });
  });

  test('IPv6 only: myip=no&myipv6=<v6>, and the IPv4 record is left as it was', async () => {
    await withServer(serve(), async (srv) => {
      const rs = await create(srv).setAddresses(
        providerCall({ hostnames: ['home.dynu.net'], addresses: { ipv6: V6 } }),
      );
      assert.deepEqual(
        [...srv.requests[0].query.entries()],
        [
          ['hostname', 'home.dynu.net'],
          ['myip', 'no'],
          ['myipv6', V6],
        ],
      );
      assert.deepEqual(
        rs.map((x) => [x.family, x.outcome]),
        [['ipv6', 'updated']],
      );
      assert.deepEqual(srv.record('home.dynu.net'), { ipv4: OLD4, ipv6: V6 });
    });
  });

  test('why both are always sent: a request that leaves a family out lets Dynu take the source address', async () => {
    await withServer(serve(), async (srv) => {
      const res = await fetch(`${srv.url}?hostname=home.dynu.net&myipv6=${V6}`, {
        headers: {
          authorization: `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`,
          'user-agent': dyndns2UserAgent(),
        },
      });
      assert.equal(res.status, 200);
      await res.text();
      assert.deepEqual(srv.record('home.dynu.net'), { ipv4: '127.0.0.1', ipv6: V6 });
    });
  });

  test('dual stack and several hosts: one request, one line per host', async () => {
    await withServer(serve(), async (srv) => {
      const rs = await create(srv).setAddresses(
        providerCall({
          hostnames: ['home.dynu.net', 'nope.dynu.net', 'other.dynu.net'],
          addresses: { ipv4: V4, ipv6: V6 },
        }),
      );
      assert.equal(srv.requests.length, 1);
      assert.deepEqual(
        [...srv.requests[0].query.entries()],
        [
          ['hostname', 'home.dynu.net,nope.dynu.net,other.dynu.net'],
          ['myip', V4],
          ['myipv6', V6],
        ],
      );
      assert.deepEqual(
        rs.map((r) => [r.hostname, r.family, r.outcome, r.error?.code ?? null]),
        [
          ['home.dynu.net', 'ipv4', 'updated', null],
          ['home.dynu.net', 'ipv6', 'updated', null],
          ['nope.dynu.net', 'ipv4', 'failed', 'nohost'],
          ['nope.dynu.net', 'ipv6', 'failed', 'nohost'],
          ['other.dynu.net', 'ipv4', 'updated', null],
          ['other.dynu.net', 'ipv6', 'updated', null],
        ],
      );
      assert.equal(rs[0].message, `good ${V4} ${V6}: record updated`);
      assert.deepEqual(srv.record('other.dynu.net'), { ipv4: V4, ipv6: V6 });
    });
  });

  test('a hashed password (MD5 or SHA-256) is sent as entered', async () => {
    await withServer(serve(), async (srv) => {
      for (const algo of ['md5', 'sha256']) {
        const hashed = createHash(algo).update(PASSWORD).digest('hex');
        const rs = await create(srv, hashed).setAddresses(
          providerCall({ hostnames: ['other.dynu.net'], addresses: { ipv4: V4 } }),
        );
        assert.ok(['updated', 'unchanged'].includes(rs[0].outcome), algo);
        assert.equal(srv.requests.at(-1)!.basic!.password, hashed);
      }
    });
  });

  test('answers: bare good/nochg; servererror, 911 and dnserr wait 10 minutes; account and host errors', async () => {
    await withServer(serve(), async (srv) => {
      const p = create(srv);
      const call = providerCall({ hostnames: ['home.dynu.net'], addresses: { ipv4: V4 } });
      srv.answerNext('good');
      assert.equal((await p.setAddresses(call))[0].outcome, 'updated');
      srv.answerNext('nochg');
      assert.equal((await p.setAddresses(call))[0].outcome, 'unchanged');
      for (const word of ['servererror', '911', 'dnserr']) {
        srv.answerNext(word);
        await assert.rejects(
          p.setAddresses(call),
          (e: DdnsError) =>
            e.kind === 'transient' &&
            e.code === word &&
            e.retryAfterMs === 10 * 60_000 &&
            /^Dynu .*10 minutes/.test(e.message),
        );
      }
      for (const word of ['badauth', '!donator', 'badagent']) {
        srv.answerNext(word);
        await assert.rejects(
          p.setAddresses(call),
          (e: DdnsError) => e.kind === 'fatal' && e.code === word && e.scope === 'account',
        );
      }
      for (const word of ['notfqdn', 'nohost', 'numhost', 'abuse']) {
        srv.answerNext(word);
        const [r] = await p.setAddresses(call);
        assert.deepEqual([r.outcome, r.error!.kind, r.error!.code, r.error!.scope], ['failed', 'fatal', word, 'host']);
      }
    });
  });

  test('wrong password: badauth (HTTP 200) is fatal for the account; slow server and reset are transient; no secret shown', async () => {
    await withServer(
      startDyndns2({ flavour: 'dynu', users: { [USER]: 'not-this' }, hosts: ['home.dynu.net'] }),
      async (srv) => {
        const p = create(srv, PASSWORD, { timeoutMs: 250 });
        const call = providerCall({ hostnames: ['home.dynu.net'], addresses: { ipv4: V4 } });
        await assert.rejects(
          p.setAddresses(call),
          (e: DdnsError) => (assertNoSecret(e), e.code === 'badauth' && e.kind === 'fatal'),
        );
        srv.answerNext({ hang: true });
        await assert.rejects(p.setAddresses(call), (e: DdnsError) => (assertNoSecret(e), e.code === 'timeout'));
        srv.answerNext({ reset: true });
        await assert.rejects(p.setAddresses(call), (e: DdnsError) => (assertNoSecret(e), e.kind === 'transient'));
        srv.answerNext({ body: `<html><title>Error</title>${PASSWORD}</html>` });
        await assert.rejects(p.setAddresses(call), (e: DdnsError) => (assertNoSecret(e), e.code === 'bad_answer'));
      },
    );
  });
});
