/**
 * The package in a real started Node-RED (red.js, the version under test): it loads without error,
 * a flow deployed through the admin API runs public-ip-watch against a loopback what's-my-IP
 * service (answering like api.ipify.org: the address as plain text, https://www.ipify.org/), and the
 * last known address survives a restart of Node-RED in a file context store.
 */
import { test } from '../support/suite';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, text } from '../support/http-server';
import { deployFull, httpPostNode, REPO_ROOT, startNodeRed, waitFor } from '../support/node-red';

type Msg = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
  name: string;
  'node-red': { nodes: Record<string, string> };
};
// Loopback only, whatever proxy the environment names.
const env = { NO_PROXY: '127.0.0.1,::1,localhost', no_proxy: '127.0.0.1,::1,localhost' };

test('started Node-RED: the package loads, a deployed public-ip-watch works and remembers its address across a restart', async () => {
  const ip = await startServer((req, res) =>
    req.path === '/ip' ? text(res, '8.8.8.8\n') : text(res, 'not found', 404),
  );
  const posted: Msg[] = [];
  const sink = await startServer((req, res) => {
    posted.push(JSON.parse(req.body));
    text(res, 'ok');
  });
  const userDir = mkdtempSync(join(tmpdir(), 'ddns-piw-'));
  // A persistent ("file") store next to the default memory store, named in the node's config.
  const settings = { contextStorage: { default: { module: 'memory' }, file: { module: 'localfilesystem' } } };
  const flows = [
    { id: 'tab1', type: 'tab', label: 'public-ip-watch' },
    {
      id: 'piw',
      type: 'public-ip-watch',
      z: 'tab1',
      name: '',
      families: 'ipv4',
      sources: [{ type: 'ipify', urlV4: `${ip.url}/ip` }],
      policy: 'first',
      quorum: 2,
      interval: 300,
      timeout: 5,
      hedge: 1,
      allowNonPublic: false,
      localAddress: '',
      emitOnStart: true,
      store: 'file',
      alertAfter: 3,
      topic: 'public-ip',
      x: 160,
      y: 80,
      wires: [['post'], []],
    },
    httpPostNode('post', 'tab1', `${sink.url}/change`, { x: 380, y: 80, wires: [[]] }),
  ];
  let log = '';
  try {
    const first = await startNodeRed({ userDir, settings, env });
    try {
      // GET /nodes: this package's node sets, public-ip-watch loaded without error.
      const nodes = await first.api('/nodes');
      assert.equal(nodes.status, 200);
      const sets = (nodes.body as Msg[]).filter((s) => s.module === pkg.name);
      const piw = sets.find((s) => s.types.includes('public-ip-watch'));
      assert.ok(piw, `public-ip-watch is listed: ${JSON.stringify(sets)}`);
      assert.equal(piw.err, undefined, `public-ip-watch loaded without error: ${piw.err}`);
      assert.equal(piw.enabled, true);
      // The other nodes of the package, as far as they are built.
      for (const [type, file] of Object.entries(pkg['node-red'].nodes)) {
        if (!existsSync(join(REPO_ROOT, file))) continue;
        const set = sets.find((s) => s.types.includes(type));
        assert.ok(set, `${type} is listed`);
        assert.equal(set.err, undefined, `${type} loaded without error: ${set.err}`);
      }
      // The editor's catalog of sources, from the runtime's admin API.
      const catalog = await first.api('/ddns/ip-sources');
      assert.equal(catalog.status, 200);
      assert.ok(catalog.body.catalog.some((e: Msg) => e.type === 'cloudflare-trace'));

      await deployFull(first, flows);
      await waitFor(() => posted.length === 1, 20_000, 25, 'the first address to reach the http request node');
    } finally {
      log += first.log();
      await first.stop();
    }
    assert.equal(posted[0].ipv4, '8.8.8.8');
    assert.deepEqual(posted[0].changed, ['ipv4']);
    assert.deepEqual(posted[0].previous, { ipv4: null, ipv6: null });
    assert.equal(posted[0].initial, true);

    // Restart with the same user directory: the file store gives back the last address.
    const second = await startNodeRed({ userDir, settings, env });
    try {
      await waitFor(() => posted.length === 2, 20_000, 25, 'the start message after the restart');
    } finally {
      log += second.log();
      await second.stop();
    }
    assert.equal(posted[1].ipv4, '8.8.8.8');
    assert.deepEqual(posted[1].changed, [], 'a restart with the same address is not a change');
    assert.deepEqual(posted[1].previous, { ipv4: '8.8.8.8', ipv6: null });
    assert.equal(posted[1].initial, true);
    assert.equal(ip.requests.length, 2, 'one lookup per start');
    assert.doesNotMatch(log, /\[error\].*public-ip-watch/);
  } finally {
    await ip.close();
    await sink.close();
    rmSync(userDir, { recursive: true, force: true });
  }
});
