import { test } from './suite';
import assert from 'node:assert/strict';
import https from 'node:https';
import { skipWithoutPebble, startPebble } from './pebble';

test(
  'the Pebble harness serves an ACME directory over HTTPS trusted through its own CA',
  { skip: skipWithoutPebble() },
  async () => {
    const pebble = await startPebble({ dnsServer: '127.0.0.1:1' });
    try {
      const dir = await new Promise<string>((resolve, reject) => {
        https
          .get(pebble.directoryUrl, { ca: pebble.caPem }, (res) => {
            let b = '';
            res.on('data', (c) => (b += c));
            res.on('end', () => resolve(b));
          })
          .on('error', reject);
      });
      assert.ok(JSON.parse(dir).newOrder);
      assert.match(await pebble.issuingRoot(), /BEGIN CERTIFICATE/);
    } finally {
      await pebble.stop();
    }
  },
);
