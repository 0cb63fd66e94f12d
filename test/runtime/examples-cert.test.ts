/**
 * The certificate examples (06 reload behind a switch, 09 Node-RED over HTTPS, 10 PKCS#12 for a
 * media server) deploy in a real Node-RED with this package: every node type is known, the reload
 * or restart sits behind a switch on msg.payload.renewed, the HTTPS example documents the
 * settings.js `https` function with `httpsRefreshInterval`, and the PKCS#12 example without its
 * password (examples carry no credentials) says what is missing instead of failing silently.
 */
import { test } from '../support/suite';
import assert from 'node:assert/strict';
import { deployFull, startNodeRed, waitFor } from '../support/node-red';
import { offlineFlow, readExample } from '../support/examples';

const FILES = ['06-letsencrypt-dns01-reload.json', '09-node-red-https.json', '10-media-server-pkcs12.json'];

test('certificate examples deploy; reloads only behind a switch on msg.payload.renewed', async () => {
  const red = await startNodeRed();
  try {
    const flows = FILES.flatMap((f, i) =>
      offlineFlow(readExample(f), { ipUrl: 'http://127.0.0.1:1/', tab: `certexampletab${i}0` }),
    );
    await deployFull(red, flows);
    await waitFor(() => red.log().includes('Started flows'), 30_000, 50, 'the flows to start');
    assert.doesNotMatch(red.log(), /unknown type|Waiting for missing types/i);
    const deployed = (await red.api('/flows')).body as Array<Record<string, unknown>>;
    for (const f of FILES) {
      const nodes = readExample(f);
      for (const n of nodes)
        assert.ok(
          deployed.some((d) => d.id === n.id),
          `${f}: ${n.type} ${n.id} deployed`,
        );
      const byId = new Map(nodes.map((n) => [n.id, n]));
      for (const cert of nodes.filter((n) => n.type === 'cert-renew')) {
        // Whatever output 1 reaches directly: never an exec node (output 1 fires with renewed: false too).
        for (const target of cert.wires![0].map((id) => byId.get(id)!)) {
          assert.notEqual(target.type, 'exec', `${f}: output 1 goes to a switch, not straight to exec`);
          if (target.type === 'switch') assert.equal(target.property, 'payload.renewed');
        }
      }
    }
    const https = readExample('09-node-red-https.json').find((n) => n.type === 'comment')!;
    assert.match(String(https.info), /https: function \(\)/);
    assert.match(String(https.info), /httpsRefreshInterval: 12/);
    await waitFor(() => /certificate\.p12 needs a password/.test(red.log()), 10_000, 50, 'the missing-password error');
  } finally {
    await red.stop();
  }
});
