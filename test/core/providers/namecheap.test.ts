/**
 * Namecheap dynamic DNS against a local contract server following its documentation
 * (https://www.namecheap.com/support/knowledgebase/article.aspx/29/11/how-to-dynamically-update-the-hosts-ip-with-an-http-request/):
 * `host`/`domain`/`password`/`ip` in the query, an XML answer with `<ErrCount>` and `<Err1>`, IPv4 only.
 */
import { after, describe, test } from '../../support/suite';
import assert from 'node:assert/strict';
import { providerCall } from '../../support/parsed';
import { visibleTexts } from '../../support/visible-texts';
import { withServer } from '../../support/http-server';
import { closeHttpPools } from '../../../src/core/http';
import { DdnsError } from '../../../src/core/errors';
import { definition as namecheap, namecheapHost } from '../../../src/core/providers/namecheap';
import { startNamecheap, type NamecheapContract } from '../../support/contracts/namecheap';

after(closeHttpPools);

const PASSWORD = '0123456789abcdef0123456789abcdef';
const V4 = '192.0.2.66';
const serve = () => startNamecheap({ domain: 'example.com', password: PASSWORD, hosts: ['home', '@', '*'] });
const make = (srv: NamecheapContract, password = PASSWORD) =>
  namecheap.create(namecheap.settings.parse({ domain: 'Example.com', password, endpoint: srv.url }), {});
const call = (hostnames: string[], addresses: { ipv4?: string; ipv6?: string }) =>
  providerCall({ hostnames, addresses });

describe('Namecheap', () => {
  test('host is the part before the domain: @ for the domain, * for its wildcard', () => {
    assert.equal(namecheapHost('home.example.com', 'example.com'), 'home');
    assert.equal(namecheapHost('a.b.example.com', 'example.com'), 'a.b');
    assert.equal(namecheapHost('example.com', 'example.com'), '@');
    assert.equal(namecheapHost('*.example.com', 'example.com'), '*');
    assert.equal(namecheapHost('home.example.org', 'example.com'), undefined);
    assert.equal(namecheapHost('badexample.com', 'example.com'), undefined);
  });

  test('one GET per name with host, domain, password and ip; the domain itself as @', async () => {
    await withServer(serve(), async (srv) => {
      const rs = await make(srv).setAddresses(call(['home.example.com', 'example.com'], { ipv4: V4 }));
      assert.deepEqual(
        rs.map((r) => r.outcome),
        ['updated', 'updated'],
      );
      assert.deepEqual(
        srv.requests.map((r) => ['host', 'domain', 'password', 'ip'].map((k) => r.query.get(k))),
        [
          ['home', 'example.com', PASSWORD, V4],
          ['@', 'example.com', PASSWORD, V4],
        ],
      );
      assert.equal(srv.records.get('@'), V4);
    });
  });

  test('IPv6 is refused without a request; a name outside the domain is an input error', async () => {
    await withServer(serve(), async (srv) => {
      const rs = await make(srv).setAddresses(
        call(['home.example.com', 'home.example.org'], { ipv4: V4, ipv6: '2001:db8::1' }),
      );
      assert.deepEqual(
        rs.map((r) => `${r.hostname}/${r.family}:${r.outcome}:${r.error?.code ?? ''}`),
        [
          'home.example.com/ipv6:failed:ipv6_unsupported',
          'home.example.com/ipv4:updated:',
          'home.example.org/ipv6:failed:ipv6_unsupported',
          'home.example.org/ipv4:failed:invalid_name',
        ],
      );
      assert.equal(srv.requests.length, 1);
    });
  });

  test('Passwords do not match: fatal for the account, the password never shown', async () => {
    await withServer(serve(), async (srv) => {
      const wrong = 'ffffffffffffffffffffffffffffffff';
      const e = await make(srv, wrong)
        .setAddresses(call(['home.example.com'], { ipv4: V4 }))
        .catch((x: unknown) => x);
      assert.ok(e instanceof DdnsError);
      assert.deepEqual([e.kind, e.scope, e.code], ['fatal', 'account', 'bad_password']);
      assert.match(e.message, /Advanced DNS/);
      for (const t of visibleTexts([e])) assert.ok(!t.includes(wrong) && !t.includes(PASSWORD), t);
    });
  });

  test('a record that is not there: fatal for that name only', async () => {
    await withServer(serve(), async (srv) => {
      const rs = await make(srv).setAddresses(call(['nas.example.com'], { ipv4: V4 }));
      assert.deepEqual(
        [rs[0].outcome, rs[0].error?.kind, rs[0].error?.scope, rs[0].error?.code],
        ['failed', 'fatal', 'host', 'no_record'],
      );
      assert.match(rs[0].message, /A \+ Dynamic DNS/);
    });
  });

  test('an unknown domain: fatal for the account', async () => {
    await withServer(startNamecheap({ domain: 'example.net', password: PASSWORD, hosts: ['home'] }), async (srv) => {
      const e = await make(srv)
        .setAddresses(call(['home.example.com'], { ipv4: V4 }))
        .catch((x: unknown) => x);
      assert.ok(e instanceof DdnsError);
      assert.deepEqual([e.scope, e.code], ['account', 'no_domain']);
    });
  });

  test('an answer without ErrCount is not success', async () => {
    await withServer(serve(), async (srv) => {
      srv.failNext({ body: '<interface-response><Done>true</Done></interface-response>' });
      const e = await make(srv)
        .setAddresses(call(['home.example.com'], { ipv4: V4 }))
        .catch((x: unknown) => x);
      assert.ok(e instanceof DdnsError);
      assert.equal(e.kind, 'transient');
    });
  });
});
