/**
 * The router-push endpoint without Node-RED: what a router's request may hold (dyndns2's
 * `myip=<v4>,<v6>` as No-IP documents it, https://www.noip.com/integrate/request; the Fritz!Box
 * placeholders, AVM knowledge base "Setting up dynamic DNS in the FRITZ!Box"), when a claim counts
 * as confirmed, the lockout over time (a manual clock), the time limit of the answer, and the watcher
 * queueing pushes apart from plain hints. The requests through Node-RED's HTTP server, with a real
 * confirming check: test/runtime/public-ip-watch.test.ts.
 */
import { after, describe, test } from '../support/suite';
import assert from 'node:assert/strict';
import { closeHttpPools } from '../../src/core/http';
import { detectRound } from '../../src/core/ip/detector';
import { claimMatches } from '../../src/core/ip/push-claim';
import { parsePushQuery, PushEndpoint, PushRoutes, type PushEvent } from '../../src/core/ip/push-endpoint';
import { buildSource } from '../../src/core/ip/sources';
import { IpWatcher, type KnownAddresses } from '../../src/core/ip/watcher';
import { FakeClock } from '../support/fake-clock';
import { startServer, text } from '../support/http-server';

after(closeHttpPools);

const TOKEN = 'a-long-push-token-0123';
const basic = (password: string) => `Basic ${Buffer.from(`router:${password}`).toString('base64')}`;

describe('the request', () => {
  test('dyndns2 and Fritz!Box forms, empty placeholders, prefixes', () => {
    const ok = (q: string, lab = false) => {
      const r = parsePushQuery(q, { allowNonPublic: lab });
      assert.ok(r.ok, `${q}: ${r.ok ? '' : r.reason}`);
      return r;
    };
    assert.deepEqual(ok('hostname=home.example.com&myip=8.8.4.4').claims, { ipv4: { address: '8.8.4.4' } });
    assert.deepEqual(ok('hostname=a.example.com,%20b.example.com&myip=8.8.4.4').hostnames, [
      'a.example.com',
      'b.example.com',
    ]);
    assert.deepEqual(ok('myip=8.8.4.4,2001:4860:0:0::8888').claims, {
      ipv4: { address: '8.8.4.4' },
      ipv6: { address: '2001:4860::8888' },
    });
    assert.deepEqual(ok('myip=8.8.4.4&ipv4=8.8.4.4').claims, { ipv4: { address: '8.8.4.4' } }, 'the same twice');
    // Fritz!Box: <ipaddr>, <ip6addr>, <ip6lanprefix>, some of them empty
    assert.deepEqual(ok('token=x&ipv4=8.8.4.4&ipv6=&prefix=').claims, { ipv4: { address: '8.8.4.4' } });
    assert.deepEqual(ok('ipv4=&ipv6=2a00:1450:4002:ffff::1&prefix=2a00:1450:4002:7::/64').claims, {
      ipv6: { address: '2a00:1450:4002:ffff::1', prefix: { address: '2a00:1450:4002:7::', length: 64 } },
    });
    assert.deepEqual(ok('prefix=2a00:1450:4002:7:1234::/56').claims.ipv6?.prefix, {
      address: '2a00:1450:4002::',
      length: 56,
    });
    assert.deepEqual(ok('prefix=2a00:1450:4002:7::').claims.ipv6?.prefix, {
      address: '2a00:1450:4002:7::',
      length: 64,
    });
    assert.deepEqual(ok('myip=192.0.2.7', true).claims, { ipv4: { address: '192.0.2.7' } }, 'lab use');

    const bad = (q: string, re: RegExp) => {
      const r = parsePushQuery(q);
      assert.equal(r.ok, false, q);
      assert.match(r.ok ? '' : r.reason, re, q);
    };
    bad('myip=192.0.2.7', /documentation address/);
    bad('myip=<ipaddr>', /"<ipaddr>" is not an IP address/);
    bad('ipv4=2a00:1450::1', /IPv6 address where an IPv4 address was expected/);
    bad('myip=8.8.4.4,8.8.8.8,1.1.1.1', /more than two/);
    bad('myip=8.8.4.4&ipv4=8.8.8.8', /two different IPv4 addresses/);
    bad('prefix=2a00:1450::/129', /not an IPv6 prefix/);
    bad('prefix=8.8.0.0/16', /not an IPv6 prefix/);
    bad('prefix=fe80::/64', /link-local/);
    bad('hostname=home.example.com', /no address in the request/);
  });

  test('a claim is confirmed by the same IPv4 address, by an IPv6 address in the pushed prefix, else in the same /64', () => {
    assert.equal(claimMatches('ipv4', { address: '8.8.4.4' }, '8.8.4.4'), true);
    assert.equal(claimMatches('ipv4', { address: '8.8.4.4' }, '8.8.8.8'), false);
    assert.equal(claimMatches('ipv4', { address: '8.8.4.4' }, null), false);
    const prefix = { address: '2a00:1450:4002:7::', length: 64 };
    assert.equal(claimMatches('ipv6', { address: '2a00:1450:9999::1', prefix }, '2a00:1450:4002:7::5'), true);
    assert.equal(claimMatches('ipv6', { prefix }, '2a00:1450:4002:8::5'), false);
    assert.equal(claimMatches('ipv6', { address: '2a00:1450:4002:7::1' }, '2a00:1450:4002:7:aaaa::5'), true);
    assert.equal(claimMatches('ipv6', { address: '2a00:1450:4002:7::1' }, '2a00:1450:4002:8::1'), false);
  });

  test('routes: one endpoint per path, found at the path and at <path>/nic/update, removed only by its owner', () => {
    const routes = new PushRoutes();
    const ep = new PushEndpoint({
      token: TOKEN,
      families: ['ipv4'],
      known: () => ({ ipv4: null, ipv6: null }),
      confirm: () => Promise.reject(new Error('not here')),
    });
    routes.add('/ddns/push', 'n1', ep);
    assert.equal(routes.find('/ddns/push'), ep);
    assert.equal(routes.find('/ddns/push/'), ep);
    assert.equal(routes.find('/ddns/push/nic/update'), ep);
    assert.equal(routes.find('/ddns'), undefined);
    assert.equal(routes.find('/ddns/push/other'), undefined);
    assert.equal(routes.takenBy('/ddns/push', 'n2'), 'n1');
    assert.equal(routes.takenBy('/ddns/push', 'n1'), undefined, 'a node may take its own path again');
    routes.remove('/ddns/push', 'n2');
    assert.equal(routes.size, 1, 'only the owner removes its path');
    routes.remove('/ddns/push', 'n1');
    assert.equal(routes.find('/ddns/push'), undefined);
  });
});

describe('the endpoint', () => {
  const known: KnownAddresses = { ipv4: '8.8.4.4', ipv6: null };
  function endpoint(o: { clock: FakeClock; maxClients?: number }) {
    const events: PushEvent[] = [];
    const ep = new PushEndpoint({
      token: TOKEN,
      families: ['ipv4'],
      known: () => known,
      confirm: () => new Promise(() => undefined), // never settles: only the time limit answers
      onEvent: (e) => events.push(e),
      clock: o.clock,
      lockout: { maxClients: o.maxClients ?? 1000 },
      answerWithinMs: 5000,
    });
    return { ep, events };
  }
  const get = (ep: PushEndpoint, password: string, client = '192.168.1.1', query = 'myip=8.8.4.4') =>
    ep.handle({ method: 'GET', query, authorization: basic(password), client });

  test('a lockout ends after its time and doubles after the next five wrong tokens; a right token resets the count', async () => {
    const clock = new FakeClock();
    const { ep, events } = endpoint({ clock });
    for (let i = 0; i < 4; i++) assert.equal((await get(ep, 'wrong')).status, 401);
    assert.equal((await get(ep, TOKEN)).body, 'nochg 8.8.4.4\n', 'four wrong, then right: accepted');
    for (let i = 0; i < 5; i++) assert.equal((await get(ep, 'wrong')).status, 401, 'the count started again');
    const locked = await get(ep, TOKEN);
    assert.equal(locked.status, 429);
    assert.equal(locked.headers['retry-after'], '60');
    assert.equal((await get(ep, TOKEN, '192.168.1.2')).status, 200, 'another client is not locked out');
    await clock.advance(59_000);
    assert.equal((await get(ep, TOKEN)).headers['retry-after'], '1');
    await clock.advance(1_000);
    for (let i = 0; i < 5; i++) assert.equal((await get(ep, 'wrong')).status, 401, 'the lockout is over');
    assert.equal((await get(ep, TOKEN)).headers['retry-after'], '120', 'the next lockout is twice as long');
    await clock.advance(120_000);
    assert.equal((await get(ep, TOKEN)).status, 200, 'over again');
    for (let i = 0; i < 5; i++) await get(ep, 'wrong');
    assert.equal((await get(ep, TOKEN)).headers['retry-after'], '60', 'the right token ended the doubling');
    assert.deepEqual(
      events.filter((e) => e.kind === 'locked').map((e) => (e as { forMs: number }).forMs),
      [60_000, 120_000, 60_000],
    );
    assert.ok(!JSON.stringify(events).includes(TOKEN));
  });

  test('beyond the tracked clients, new clients share one count', async () => {
    const clock = new FakeClock();
    const { ep } = endpoint({ clock, maxClients: 2 });
    await get(ep, 'wrong', 'a');
    await get(ep, 'wrong', 'b');
    for (const c of ['c', 'd', 'e', 'f', 'g']) await get(ep, 'wrong', c);
    assert.equal((await get(ep, TOKEN, 'h')).status, 429, 'the shared count locked every new client');
    assert.equal((await get(ep, TOKEN, 'a')).status, 200, 'a tracked client keeps its own count');
  });

  test('a check that does not finish in time: 911, and the check goes on', async () => {
    const clock = new FakeClock();
    const { ep, events } = endpoint({ clock });
    const answer = get(ep, TOKEN, 'r', 'myip=8.8.8.8');
    await clock.advance(5000);
    assert.equal((await answer).body, '911\n');
    assert.deepEqual(
      events.map((e) => e.kind),
      ['unconfirmed'],
    );
    assert.equal(clock.pending, 0, 'no timer left');
    const v6only = await get(ep, TOKEN, 'r', 'myip=2a00:1450::1');
    assert.equal(v6only.status, 400);
    assert.match(v6only.body, /^dnserr this node watches IPv4 only/);
    assert.equal((await ep.handle({ method: 'POST', query: 'myip=8.8.8.8', client: 'r' })).status, 405);
  });
});

test('watcher: pushes join each other (the newest claim wins) but never a plain hint', async () => {
  // The regular check sees the known address; the router's new one is seen from then on.
  let asked = 0;
  const srv = await startServer((_req, res) => text(res, asked++ === 0 ? '8.8.8.8' : '8.8.4.4'));
  const ipify = buildSource({ type: 'ipify', urlV4: `${srv.url}/ip` });
  const claims: Array<string | undefined> = [];
  const w = new IpWatcher({
    families: 'ipv4',
    store: { load: async () => ({ ipv4: '8.8.8.8', ipv6: null }), save: async () => undefined },
    detect: (family, signal, scope, claim) => {
      claims.push(claim?.address);
      return detectRound(family, { scope, claim, sources: [ipify], policy: 'first', signal });
    },
  });
  try {
    const first = w.checkNow();
    const [a, b, plain] = [
      w.push({ ipv4: { address: '1.1.1.1' } }),
      w.push({ ipv4: { address: '8.8.4.4' } }),
      w.hint(['ipv4']),
    ];
    assert.equal(a, b, 'a waiting push is joined');
    assert.notEqual(a, plain);
    await first;
    const r = await a;
    assert.equal(r.origin, 'hint');
    assert.equal(r.change?.ipv4, '8.8.4.4', 'the newest claim was confirmed');
    assert.deepEqual(r.change?.sources.ipv4?.agreedBy, ['router-push', 'ipify']);
    await plain;
    assert.deepEqual(claims, [undefined, '8.8.4.4', undefined], 'the full check, the push, the plain hint');
    const none = await w.push({ ipv6: { address: '2a00:1450::1' } });
    assert.deepEqual(none.families, [], 'an untracked family is not checked');
  } finally {
    await w.stop();
    await srv.close();
  }
});
