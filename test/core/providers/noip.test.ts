/**
 * No-IP over dyndns2, against a local contract server following No-IP's documentation:
 * https://www.noip.com/integrate/request (request, Basic auth, `myip=<v4>,<v6>`, User-Agent
 * `Company NameOfProgram/OSVersion-ReleaseVersion maintainer-contact`) and its response list
 * (good/nochg, nohost, badauth, badagent, !donator, abuse = username blocked, 911 = retry no
 * sooner than 30 minutes), plus the dyndns2 return codes of https://help.dyn.com/return-codes/.
 */
import { withServer } from '../../support/http-server';
import { after, describe, test } from '../../support/suite';
import assert from 'node:assert/strict';
import { providerCall } from '../../support/parsed';
import { visibleTexts } from '../../support/visible-texts';
import { closeHttpPools } from '../../../src/core/http';
import type { DdnsError } from '../../../src/core/errors';
import { dyndns2UserAgent } from '../../../src/core/providers/dyndns2';
import { definition as noip, NOIP_ENDPOINT } from '../../../src/core/providers/noip';
import { providerById } from '../../../src/core/providers/registry';
import { AGENT_RULES, startDyndns2, type Dyndns2Server, onlyUpdate } from '../../support/contracts/dyndns2';
import { PROJECT_CONTACT } from '../../../src/core/version';
import { accountKeyOf } from '../../../src/core/update/account';

after(closeHttpPools);

const USER = 'alice@example.com';
const PASSWORD = 'n0-ip-Secret!';
const V4 = '203.0.113.10';
const V6 = '2001:db8:1::10';
const HOSTS = ['home.ddns.net', 'cam.ddns.net', 'nas.hopto.org'];

const create = (srv: Dyndns2Server, env = {}, extra: Record<string, unknown> = {}) =>
  noip.create(noip.settings.parse({ username: USER, password: PASSWORD, endpoint: srv.url, ...extra }), env);
const serve = () => startDyndns2({ flavour: 'noip', users: { [USER]: PASSWORD }, hosts: HOSTS });

const failure = (p: Promise<unknown>): Promise<DdnsError> =>
  p.then(
    () => assert.fail('should throw'),
    (e: DdnsError) => e,
  );

function assertNoSecret(...values: unknown[]): void {
  const token = Buffer.from(`${USER}:${PASSWORD}`).toString('base64');
  for (const p of visibleTexts(values)) {
    assert.equal(p.includes(PASSWORD), false, p);
    assert.equal(p.includes(token), false, p);
  }
}

describe('No-IP', () => {
  test('definition: id, fields (secret only in password), endpoint default, docs', () => {
    assert.equal(providerById('noip'), noip);
    assert.equal(noip.label, 'No-IP');
    assert.equal(noip.txt, false);
    assert.equal(NOIP_ENDPOINT, 'https://dynupdate.no-ip.com/nic/update');
    assert.deepEqual(
      noip.fields.map((f) => [f.key, f.kind]),
      [
        ['username', 'text'],
        ['password', 'password'],
        ['endpoint', 'url'],
        ['contact', 'email'],
      ],
    );
    assert.equal(noip.fields.find((f) => f.key === 'endpoint')!.placeholder, NOIP_ENDPOINT);
    assert.match(noip.docsUrl!, /^https:\/\/[^/]*noip\.com\//);
    assert.equal(noip.settings.parse({ username: USER, password: PASSWORD, endpoint: '' }).endpoint, undefined);
    assert.equal(noip.settings.safeParse({ username: '', password: PASSWORD }).success, false);
    assert.equal(noip.settings.safeParse({ username: USER, password: PASSWORD, endpoint: 'not a url' }).success, false);
  });

  test('dual stack in one request: myip=v4,v6, Basic auth, User-Agent format; the answer lists both', async () => {
    await withServer(serve(), async (srv) => {
      const p = create(srv);
      assert.equal(p.id, 'noip');
      assert.equal(p.maxHostsPerCall, 20);
      const rs = await p.setAddresses(
        providerCall({ hostnames: ['home.ddns.net'], addresses: { ipv4: V4, ipv6: V6 } }),
      );
      const r = onlyUpdate(srv);
      assert.deepEqual(
        [...r.query.entries()],
        [
          ['hostname', 'home.ddns.net'],
          ['myip', `${V4},${V6}`],
        ],
      );
      assert.deepEqual(r.basic, { user: USER, password: PASSWORD });
      assert.equal(r.headers['user-agent'], dyndns2UserAgent());
      assert.deepEqual(
        rs.map((x) => [x.family, x.outcome, x.message]),
        [
          ['ipv4', 'updated', `good ${V4},${V6}: record updated`],
          ['ipv6', 'updated', `good ${V4},${V6}: record updated`],
        ],
      );
      assert.deepEqual(srv.record('home.ddns.net'), { ipv4: V4, ipv6: V6 });

      const again = await p.setAddresses(providerCall({ hostnames: ['home.ddns.net'], addresses: { ipv6: V6 } }));
      assert.equal(srv.requests[1].query.get('myip'), V6);
      assert.deepEqual(
        again.map((x) => [x.family, x.outcome]),
        [['ipv6', 'unchanged']],
      );
    });
  });

  test('User-Agent (No-IP\'s "Setting the Agent"): the default one, with the project\'s contact e-mail, is accepted', async () => {
    await withServer(serve(), async (srv) => {
      const rs = await create(srv).setAddresses(
        providerCall({ hostnames: ['home.ddns.net'], addresses: { ipv4: V4 } }),
      );
      assert.equal(rs[0].outcome, 'updated');
      const ua = srv.requests[0].headers['user-agent'] as string;
      assert.match(ua, AGENT_RULES.noip!);
      assert.ok(ua.endsWith(` ${PROJECT_CONTACT}`), ua);
    });
  });

  test('User-Agent: an agent ending in a web address (not an e-mail) gets badagent from the contract server', async () => {
    await withServer(serve(), async (srv) => {
      const auth = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;
      const ask = (ua: string) =>
        fetch(`${srv.url}?hostname=home.ddns.net&myip=${V4}`, {
          headers: { authorization: auth, 'user-agent': ua },
        }).then((r) => r.text());
      assert.equal(
        await ask('node-red-contrib-ddns node-red-contrib-ddns/linux-0.1.0 https://github.com/x/y/issues'),
        'badagent',
      );
      assert.equal(await ask('Bob/1.0'), 'badagent');
      assert.match(await ask(`Acme Updater/linux-1.0 ops@acme.example`), /^good /);
    });
  });

  test("User-Agent: the account's own contact e-mail is sent in place of the project's", async () => {
    await withServer(serve(), async (srv) => {
      const p = create(srv, {}, { contact: ' ops@home.example ' });
      const rs = await p.setAddresses(providerCall({ hostnames: ['home.ddns.net'], addresses: { ipv4: V4 } }));
      assert.equal(rs[0].outcome, 'updated');
      const ua = srv.requests[0].headers['user-agent'] as string;
      assert.match(ua, AGENT_RULES.noip!);
      assert.ok(ua.endsWith(' ops@home.example'), ua);
      // An empty field means the project's address.
      assert.equal(noip.settings.parse({ username: USER, password: PASSWORD, contact: '  ' }).contact, undefined);
      // The contact is a setting of the account: changing it changes the account's identity.
      assert.notEqual(
        accountKeyOf('noip', { username: USER }, { password: PASSWORD }),
        accountKeyOf('noip', { username: USER, contact: 'ops@home.example' }, { password: PASSWORD }),
      );
    });
  });

  test('User-Agent: a contact that is not an e-mail address is refused by the settings check', () => {
    for (const bad of ['https://example.com/contact', 'ops at home.example', 'ops@', 'a b@example.com', 'ops@home']) {
      const r = noip.settings.safeParse({ username: USER, password: PASSWORD, contact: bad });
      assert.equal(r.success, false, bad);
      assert.match(r.error!.issues.map((i) => i.message).join(' '), /Enter an e-mail address such as you@example\.com/);
    }
  });

  test('several hosts: one line each, in order, a nohost among them fails only that host', async () => {
    await withServer(serve(), async (srv) => {
      srv.setAddress('cam.ddns.net', 'ipv4', V4);
      const rs = await create(srv).setAddresses(
        providerCall({ hostnames: ['home.ddns.net', 'unknown.ddns.net', 'cam.ddns.net'], addresses: { ipv4: V4 } }),
      );
      assert.equal(srv.requests.length, 1);
      assert.equal(srv.requests[0].query.get('hostname'), 'home.ddns.net,unknown.ddns.net,cam.ddns.net');
      assert.deepEqual(
        rs.map((r) => [r.hostname, r.outcome, r.error?.code ?? null]),
        [
          ['home.ddns.net', 'updated', null],
          ['unknown.ddns.net', 'failed', 'nohost'],
          ['cam.ddns.net', 'unchanged', null],
        ],
      );
      assert.equal(rs[1].error!.kind, 'fatal');
      assert.equal(rs[1].error!.scope, 'host');
      assert.match(rs[1].message, /^nohost: No-IP does not know unknown\.ddns\.net/);
    });
  });

  test('20 hosts fit in one request; 21 are refused before sending', async () => {
    const many = Array.from({ length: 20 }, (_, i) => `h${i}.ddns.net`);
    await withServer(startDyndns2({ flavour: 'noip', users: { [USER]: PASSWORD }, hosts: many }), async (srv) => {
      const rs = await create(srv).setAddresses(providerCall({ hostnames: many, addresses: { ipv4: V4 } }));
      assert.equal(srv.requests.length, 1);
      assert.deepEqual(
        rs.map((r) => r.hostname),
        many,
      );
      assert.ok(rs.every((r) => r.outcome === 'updated'));
      await assert.rejects(
        async () =>
          create(srv).setAddresses(providerCall({ hostnames: [...many, 'x.ddns.net'], addresses: { ipv4: V4 } })),
        (e: DdnsError) => e.kind === 'input',
      );
      assert.equal(srv.requests.length, 1);
    });
  });

  test('wrong password: HTTP 401 badauth, fatal for the account, password never shown', async () => {
    await withServer(
      startDyndns2({ flavour: 'noip', users: { [USER]: 'something else' }, hosts: HOSTS }),
      async (srv) => {
        await assert.rejects(
          async () => create(srv).setAddresses(providerCall({ hostnames: HOSTS, addresses: { ipv4: V4 } })),
          (e: DdnsError) => {
            assert.deepEqual([e.kind, e.code, e.scope], ['fatal', 'badauth', 'account']);
            assert.match(e.message, /^No-IP rejected the username or password \(badauth\)/);
            assertNoSecret(e);
            return true;
          },
        );
      },
    );
  });

  test('every answer of the table, as No-IP sends it', async () => {
    await withServer(serve(), async (srv) => {
      const p = create(srv);
      const call = providerCall({ hostnames: ['home.ddns.net'], addresses: { ipv4: V4 } });
      // [answer, thrown?, kind, code, scope, retryAfterMs]
      const table: Array<[string, boolean, string, string, string, number | undefined]> = [
        ['badauth', true, 'fatal', 'badauth', 'account', undefined],
        ['!donator', true, 'fatal', '!donator', 'account', undefined],
        ['badagent', true, 'fatal', 'badagent', 'account', undefined],
        ['abuse', true, 'fatal', 'abuse', 'account', undefined], // No-IP: the username is blocked
        ['notfqdn', false, 'fatal', 'notfqdn', 'host', undefined],
        ['nohost', false, 'fatal', 'nohost', 'host', undefined],
        ['numhost', false, 'fatal', 'numhost', 'host', undefined],
        ['dnserr', true, 'transient', 'dnserr', 'account', 30 * 60_000],
        ['911', true, 'transient', '911', 'account', 30 * 60_000],
        ['w90s', true, 'transient', 'wait', 'account', 90_000],
        ['w30m', true, 'transient', 'wait', 'account', 30 * 60_000],
        ['w2h', true, 'transient', 'wait', 'account', 2 * 3_600_000],
      ];
      for (const [word, throws, kind, code, scope, wait] of table) {
        srv.answerNext(word);
        let err: DdnsError;
        if (throws) {
          err = await p.setAddresses(call).then(
            () => assert.fail(`${word} should throw`),
            (e: DdnsError) => e,
          );
        } else {
          const [r] = await p.setAddresses(call);
          assert.equal(r.outcome, 'failed', word);
          err = r.error!;
        }
        assert.deepEqual([err.kind, err.code, err.scope, err.retryAfterMs], [kind, code, scope, wait], word);
        assert.match(err.message, /^No-IP /, word);
        assertNoSecret(err);
      }
      srv.answerNext('abuse');
      assert.match((await failure(p.setAddresses(call))).message, /blocked this account/);
      srv.answerNext('911');
      assert.match((await failure(p.setAddresses(call))).message, /in 30 minutes at the earliest/);
      srv.answerNext('w30m');
      assert.match((await failure(p.setAddresses(call))).message, /wait 30 minutes/);
    });
  });

  test('abuse for one of several hosts blocks the whole No-IP account (thrown)', async () => {
    await withServer(serve(), async (srv) => {
      srv.block('cam.ddns.net');
      await assert.rejects(
        async () =>
          create(srv).setAddresses(
            providerCall({ hostnames: ['home.ddns.net', 'cam.ddns.net'], addresses: { ipv4: V4 } }),
          ),
        (e: DdnsError) => e.code === 'abuse' && e.scope === 'account' && e.kind === 'fatal',
      );
    });
  });

  test('repeated nochg gets a host blocked by the server: the client reports abuse', async () => {
    await withServer(
      startDyndns2({ flavour: 'noip', users: { [USER]: PASSWORD }, hosts: HOSTS, nochgLimit: 1 }),
      async (srv) => {
        const p = create(srv);
        const call = providerCall({ hostnames: ['home.ddns.net'], addresses: { ipv4: V4 } });
        assert.equal((await p.setAddresses(call))[0].outcome, 'updated');
        assert.equal((await p.setAddresses(call))[0].outcome, 'unchanged');
        await assert.rejects(p.setAddresses(call), (e: DdnsError) => e.code === 'abuse');
      },
    );
  });

  test('slow server, reset, oversized and malformed answers: transient; nothing secret in them', async () => {
    await withServer(serve(), async (srv) => {
      const p = create(srv, { timeoutMs: 250 });
      const call = providerCall({ hostnames: ['home.ddns.net'], addresses: { ipv4: V4, ipv6: V6 } });
      for (const canned of [
        { delayMs: 1_500, lines: [`good ${V4}`] },
        { reset: true },
        { hugeBytes: 100_000 },
        {
          status: 503,
          body: '<html><head><title>Service Unavailable</title></head></html>',
          headers: { 'retry-after': '60' },
        },
        { body: '' },
        { body: `good ${V4}\ngood ${V4}\ngood ${V4}` },
      ]) {
        srv.answerNext(canned);
        const e = await p.setAddresses(call).then(
          () => assert.fail('should throw'),
          (x: DdnsError) => x,
        );
        assert.equal(e.kind, 'transient', JSON.stringify(canned).slice(0, 50));
        assertNoSecret(e);
        if (canned.status === 503) assert.equal(e.retryAfterMs, 60_000);
      }
    });
  });
});
