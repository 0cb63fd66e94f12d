/**
 * Issue 17: cert-renew loads acme-client (7–13 MB) only to order. With a valid certificate on disk
 * a check reads its expiry (node:crypto) and asks the CA's directory and renewal information over
 * plain HTTPS; acme-client stays out of the process (require.cache, same process as the runtime).
 * Real Node-RED (node-red-node-test-helper), real Pebble for the directory; the provider account
 * is never used (nothing is due), so it points at a closed loopback port.
 */
import { after, before, describe, test } from '../support/suite';
import assert from 'node:assert/strict';

import { join, sep } from 'node:path';
import { helper, nodeModule, helperServer } from '../support/node-red';
import { skipWithoutPebble, startPebble, type PebbleServer } from '../support/pebble';
import { observe, observerNodes } from '../support/observer';
import { selfSignedCertificate } from '../support/openssl';

const skip = skipWithoutPebble();
const NAME = 'www.lazy.test';
const ACME_CLIENT = `${sep}node_modules${sep}acme-client${sep}`;
const loadedAcmeClient = () => Object.keys(require.cache).filter((k) => k.includes(ACME_CLIENT));

describe('cert-renew without acme-client while nothing is due', { skip }, () => {
  let pebble: PebbleServer;
  let dir: string;

  helperServer('ddns-cert-lazy-', (d) => (dir = d));
  before(async () => {
    pebble = await startPebble({ dnsServer: '127.0.0.1:9' });
  });
  after(async () => {
    await pebble?.stop();
  });

  test('a check of a valid certificate reports "not due" and leaves acme-client unloaded', async () => {
    // A valid certificate (90 days, the name in its SAN), as an earlier order would have left it.
    const out = join(dir, 'out');
    selfSignedCertificate(out, 90, [NAME]);
    // Other tests in this process may have ordered: start from a process without acme-client.
    for (const k of loadedAcmeClient()) delete require.cache[k];

    const at = { z: 'f1', x: 100, y: 100 };
    await helper.load(
      [nodeModule('ddns-account'), nodeModule('cert-renew')],
      [
        { id: 'f1', type: 'tab', label: 'certificates' },
        {
          id: 'acc',
          type: 'ddns-account',
          name: 'unused',
          provider: 'rfc2136',
          settings: { server: '127.0.0.1:9', keyName: 'unused', algorithm: 'hmac-sha256' },
        },
        {
          id: 'cr',
          type: 'cert-renew',
          ...at,
          account: 'acc',
          names: NAME,
          ca: 'custom',
          directoryUrl: pebble.directoryUrl,
          caCert: pebble.caPem,
          outDir: out,
          checkOnStart: false,
          wires: [['out'], ['alerts']],
        },
        ...observerNodes('cr', at),
      ],
      { acc: { tsigSecret: Buffer.alloc(32, 7).toString('base64') } },
    );
    const o = observe('cr', 30_000);
    await o.input();
    assert.equal(o.caught.length, 0, JSON.stringify(o.caught));
    assert.equal(o.out.length, 1);
    assert.equal(o.out[0].payload.renewed, false);
    assert.ok(o.out[0].payload.daysLeft > 80);
    assert.deepEqual(loadedAcmeClient(), [], 'acme-client is loaded only to order');
  });
});
