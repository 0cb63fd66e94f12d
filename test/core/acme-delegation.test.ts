/**
 * Challenge delegation (src/core/acme/delegation.ts) against a real BIND 9 serving two zones:
 * `home.test` (the names of the certificate, whose DNS host is supposed to have no TXT API) holds
 * the `_acme-challenge` CNAMEs, `delegated.test` is the zone the challenge account writes by
 * RFC 2136. The records are set up with BIND's own nsupdate; the CA is a real Pebble validating
 * through a resolver in front of that BIND (test/support/chasing-resolver.ts), so it follows the
 * CNAME into the other zone as Let's Encrypt's resolvers do.
 */
import { after, before, describe, test } from '../support/suite';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bindUpdate, skipWithoutBind, type BindServer } from '../support/bind';
import { pebbleJob, skipWithoutPebble, type PebbleServer } from '../support/pebble';
import { DELEGATED, dnsRig, HOME, startDelegationLab, type AcmeLab } from '../support/acme-dns-rig';
import { failure } from '../support/failure';
import { delegatedDns, followChallengeAlias } from '../../src/core/acme/delegation';
import { ensureCertificate } from '../../src/core/acme/manager';
import { certInfo } from '../../src/core/acme/x509';
import type { DnsProvider } from '../../src/core/providers/types';

const skip = skipWithoutBind() || skipWithoutPebble();

describe('challenge delegation with BIND (two zones) and Pebble', { skip }, () => {
  let lab: AcmeLab;
  let bind: BindServer;
  let pebble: PebbleServer;
  let rig: ReturnType<typeof dnsRig>;
  let dir: string;
  const servers = () => [{ host: '127.0.0.1', port: bind.port }];

  before(async () => {
    lab = await startDelegationLab({
      home: [
        `_acme-challenge.chain 60 IN CNAME hop.${DELEGATED}.`,
        `_acme-challenge.away 60 IN CNAME x.elsewhere.example.`,
        `_acme-challenge.loop 60 IN CNAME loop2.${DELEGATED}.`,
      ],
      delegated: [`hop 60 IN CNAME end.${DELEGATED}.`, `loop2 60 IN CNAME _acme-challenge.loop.${HOME}.`],
    });
    ({ bind, pebble } = lab);
    rig = dnsRig(bind);
    dir = mkdtempSync(join(tmpdir(), 'ddns-delegation-'));
  });
  after(async () => {
    await rig?.provider.close?.();
    await lab?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the CNAME is read at the authoritative servers, given or found by the walk; chains are followed', async () => {
    const d = await followChallengeAlias(`_acme-challenge.www.${HOME}`, { servers: servers() });
    assert.deepEqual(d, {
      name: `_acme-challenge.www.${HOME}`,
      target: `www.${DELEGATED}`,
      chain: [`www.${DELEGATED}`],
    });
    const walked = await followChallengeAlias(`_acme-challenge.www.${HOME}.`, {
      discovery: servers(),
      authPort: bind.port,
    });
    assert.equal(walked.target, `www.${DELEGATED}`, 'the walk finds the zone and asks its NS');
    const chain = await followChallengeAlias(`_acme-challenge.chain.${HOME}`, { servers: servers() });
    assert.deepEqual(chain.chain, [`hop.${DELEGATED}`, `end.${DELEGATED}`]);
    assert.equal(chain.target, `end.${DELEGATED}`);
  });

  test('a missing CNAME: a fatal error that names the exact record to create', async () => {
    const e = await failure(
      followChallengeAlias(`_acme-challenge.none.${HOME}`, {
        servers: servers(),
        expectedTarget: 'abc.auth.acmedns.test',
        accountLabel: 'my acme-dns',
      }),
    );
    assert.equal(e.kind, 'fatal');
    assert.equal(e.code, 'delegation_missing');
    assert.match(e.message, /_acme-challenge\.none\.home\.test has no CNAME record/);
    assert.ok(e.message.includes(`_acme-challenge.none.${HOME}. CNAME abc.auth.acmedns.test.`), e.message);
    const generic = await failure(
      followChallengeAlias(`_acme-challenge.none.${HOME}`, { servers: servers(), accountLabel: 'duck' }),
    );
    assert.ok(
      generic.message.includes(`_acme-challenge.none.${HOME}. CNAME <a name the challenge account "duck" can write>`),
      generic.message,
    );
  });

  test('a CNAME that points elsewhere than the one name the account writes: fatal, with the record to change', async () => {
    const e = await failure(
      followChallengeAlias(`_acme-challenge.www.${HOME}`, {
        servers: servers(),
        expectedTarget: 'abc.auth.acmedns.test',
      }),
    );
    assert.equal(e.code, 'delegation_elsewhere');
    assert.equal(e.kind, 'fatal');
    assert.match(e.message, /points elsewhere: its CNAME leads to www\.delegated\.test/);
    assert.ok(e.message.includes(`Change the record to: _acme-challenge.www.${HOME}. CNAME abc.auth.acmedns.test.`));
  });

  test('a CNAME loop is refused', async () => {
    const e = await failure(followChallengeAlias(`_acme-challenge.loop.${HOME}`, { servers: servers() }));
    assert.equal(e.code, 'delegation_loop');
  });

  test('a name of home.test gets its certificate with the TXT records written in delegated.test', async () => {
    const logs: string[] = [];
    const written: string[] = [];
    const spy: DnsProvider = {
      ...rig.provider,
      setTxt: (n, v, s) => (written.push(n), rig.provider.setTxt!(n, v, s)),
      deleteTxt: (n, v, s) => rig.provider.deleteTxt!(n, v, s),
      setAddresses: (c) => rig.provider.setAddresses(c),
    };
    const dns = delegatedDns({
      provider: spy,
      accountLabel: 'delegated zone',
      waitVisible: rig.waitVisible,
      lookup: { servers: servers() },
      log: (s) => logs.push(s),
    });
    const r = await ensureCertificate(pebbleJob(pebble, dir, [`www.${HOME}`, `*.www.${HOME}`]), {
      ...dns,
      log: (s) => logs.push(s),
    });
    assert.equal(r.renewed, true);
    assert.deepEqual([...certInfo((await import('node:fs')).readFileSync(r.paths.cert, 'utf8')).names].sort(), [
      `*.www.${HOME}`,
      `www.${HOME}`,
    ]);
    assert.deepEqual(written, [`www.${DELEGATED}`, `www.${DELEGATED}`], 'both values written at the target');
    assert.deepEqual(bind.dig(`www.${DELEGATED}`, 'TXT'), [], 'removed afterwards');
    assert.ok(logs.some((l) => l.includes(`delegated by CNAME to www.${DELEGATED}`)));
  });

  test('a target the challenge account cannot write: the sentence names the CNAME and the target', async () => {
    const dns = delegatedDns({
      provider: rig.provider,
      accountLabel: 'delegated zone',
      waitVisible: rig.waitVisible,
      lookup: { servers: servers() },
    });
    const e = await failure(dns.provider.setTxt!(`_acme-challenge.away.${HOME}`, 'v'.repeat(43)));
    assert.match(
      e.message,
      /the challenge account "delegated zone" could not write the TXT record at x\.elsewhere\.example, where _acme-challenge\.away\.home\.test points by CNAME/,
    );
  });

  test('a CNAME added later (nsupdate) is seen at once: no cache between the node and the servers', async () => {
    bindUpdate(bind, [`update add _acme-challenge.late.${HOME}. 60 CNAME late.${DELEGATED}.`]);
    const d = await followChallengeAlias(`_acme-challenge.late.${HOME}`, { servers: servers() });
    assert.equal(d.target, `late.${DELEGATED}`);
  });
});
