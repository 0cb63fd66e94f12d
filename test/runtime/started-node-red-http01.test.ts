/**
 * HTTP-01 answered by Node-RED's own HTTP server: a real started Node-RED (red.js) on the port
 * Pebble validates HTTP-01 on (Pebble's `httpPort`; the name resolves to 127.0.0.1 at a real
 * BIND). A flow of cert-renew alone (no provider account), deployed as a file, checks on start;
 * its certificate goes to a loopback sink through Node-RED's core `http request` node. Before and
 * after the order, /.well-known/acme-challenge/ on Node-RED answers 404.
 */
import { test } from '../support/suite';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, text } from '../support/http-server';
import { httpPostNode, startNodeRed, waitFor } from '../support/node-red';
import { skipWithoutBind, startBind } from '../support/bind';
import { skipWithoutPebble, startPebble } from '../support/pebble';
import { freePort } from '../support/ports';

type Msg = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const env = { NO_PROXY: '127.0.0.1,::1,localhost', no_proxy: '127.0.0.1,::1,localhost' };
const skip = skipWithoutBind() || skipWithoutPebble();

test(
  "started Node-RED: HTTP-01 answered on Node-RED's own HTTP server, the certificate issued by Pebble",
  { skip },
  async () => {
    const bind = await startBind([{ name: 'home.test', records: ['www 60 IN A 127.0.0.1'] }]);
    const port = await freePort();
    const pebble = await startPebble({ dnsServer: `127.0.0.1:${bind.port}`, httpPort: port });
    const posted: Msg[] = [];
    const sink = await startServer((req, res) => {
      posted.push(JSON.parse(req.body));
      text(res, 'ok');
    });
    const userDir = mkdtempSync(join(tmpdir(), 'ddns-nr-http01-'));
    const flows = [
      { id: 'tab1', type: 'tab', label: 'certificate' },
      {
        id: 'cr',
        type: 'cert-renew',
        z: 'tab1',
        name: '',
        names: 'www.home.test',
        challenge: 'http-01-node',
        ca: 'custom',
        directoryUrl: pebble.directoryUrl,
        caCert: pebble.caPem,
        outDir: join(userDir, 'certs'),
        checkOnStart: true,
        authServers: `127.0.0.1:${bind.port}`,
        x: 160,
        y: 80,
        wires: [['post'], []],
      },
      httpPostNode('post', 'tab1', `${sink.url}/cert`, { x: 380, y: 80, wires: [[]] }),
    ];
    const token = `http://127.0.0.1:${port}/.well-known/acme-challenge/abcdef`;
    const red = await startNodeRed({ userDir, flows, env, port });
    try {
      await waitFor(() => posted.length === 1, 60_000, 50, 'the certificate on output 1');
      assert.equal(posted[0].renewed, true, JSON.stringify(posted[0]));
      assert.deepEqual(posted[0].names, ['www.home.test']);
      assert.match(pebble.log(), /validate w\/ HTTP: http:\/\/www\.home\.test:\d+\/\.well-known\/acme-challenge\//);
      assert.equal((await fetch(token)).status, 404, 'no token is served once the order is over');
      assert.doesNotMatch(red.log(), /\[error\].*cert-renew/);
    } finally {
      await red.stop();
      await sink.close();
      await pebble.stop();
      await bind.stop();
      rmSync(userDir, { recursive: true, force: true });
    }
  },
);
