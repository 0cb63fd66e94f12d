/**
 * A provider's documented limit holds across a restart of Node-RED (issue 13). deSEC allows 2 RRset
 * writes per second, 15 per minute, 100 per hour and 300 per day for each domain
 * (https://desec.readthedocs.io/en/latest/rate-limits.html, `dns_api_per_domain_expensive`); a
 * write over the budget is answered 429 and still counts against the user. The times of the writes
 * are kept in the providers' ledger (src/core/providers/ledger.ts), which dns-update saves in its
 * context store: after a restart on the same user directory (a `localfilesystem` store), the 16th
 * write of the minute is held back by the package and never reaches deSEC.
 *
 * The deSEC contract server (../support/contracts/desec.ts) enforces the same limits, as deSEC does.
 * A started Node-RED (red.js) with the package linked; addresses are posted to an `http in` node
 * wired to dns-update and an `http response` node, so each answer carries the node's results.
 */
import { test } from '../support/suite';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { request } from 'node:http';
import { join } from 'node:path';
import { startDesec } from '../support/contracts/desec';
import { deployFull, dnsUpdateBehindHttpIn, startNodeRed, waitFor, type StartedNodeRed } from '../support/node-red';

type Msg = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const TOKEN = 'desecTokenForTheRestartTest0123';
const settings = {
  contextStorage: {
    default: { module: 'memory' },
    file: { module: 'localfilesystem', config: { flushInterval: 1 } },
  },
};
// Loopback only, whatever proxy the environment names.
const env = { NO_PROXY: '127.0.0.1,::1,localhost', no_proxy: '127.0.0.1,::1,localhost' };

const flow = (endpoint: string) =>
  dnsUpdateBehindHttpIn({ z: 'limits', label: 'provider limits', endpoint, token: TOKEN, contextStore: 'file' });

/**
 * Post one address; the dns-update results of it. A connection of its own each time (no keep-alive):
 * the second Node-RED may get the port the first one had.
 */
function send(red: StartedNodeRed, ipv4: string): Promise<Msg[]> {
  const body = JSON.stringify({ ipv4 });
  return new Promise((resolve, reject) => {
    const req = request(
      `${red.url}/addr`,
      { method: 'POST', agent: false, headers: { 'content-type': 'application/json', connection: 'close' } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => {
          try {
            assert.equal(res.statusCode, 200, `POST /addr ${ipv4}: ${res.statusCode} ${text.slice(0, 300)}`);
            resolve((JSON.parse(text) as Msg).results as Msg[]);
          } catch (e) {
            reject(e instanceof Error ? e : new Error(String(e)));
          }
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** The last lines of a Node-RED log, for an assertion's message. */
const tail = (log: string) => log.split('\n').slice(-25).join('\n');

test("deSEC's write budget survives a restart: the 16th write of a minute never reaches deSEC", async () => {
  const desec = await startDesec({
    token: TOKEN,
    domains: { 'example.com': { minimumTtl: 60 } },
    enforceWriteLimits: true,
  });
  const userDir = mkdtempSync(join(tmpdir(), 'ddns-limits-'));
  const patches = () => desec.requests.filter((r) => r.method === 'PATCH').length;
  let log = '';
  let firstWriteAt = 0;
  try {
    const first = await startNodeRed({ userDir, settings, env });
    try {
      const started = () => first.log().split('Started flows').length - 1;
      // startNodeRed may return on "Server now running" before the first flows are logged as started:
      // count from after that line, or it would be taken for the deploy's.
      await waitFor(() => started() > 0, 30_000, 25, 'the first flows');
      const before = started();
      await deployFull(first, flow(`${desec.url}/api/v1`));
      await waitFor(() => started() > before, 30_000, 25, 'the deployed flows');
      // 15 changes: the per-second limit spaces them (the provider waits up to 2 s itself).
      for (let i = 1; i <= 15; i++) {
        if (i === 1) firstWriteAt = Date.now();
        const [r] = await send(first, `203.0.113.${i}`);
        assert.equal(r.status, 'updated', `write ${i}: ${JSON.stringify(r)}\n${tail(first.log())}`);
      }
      assert.equal(patches(), 15);
      // Let the file store flush (flushInterval 1 s) before Node-RED stops.
      await new Promise((r) => setTimeout(r, 1_500));
    } finally {
      log += first.log();
      await first.stop();
    }

    const second = await startNodeRed({ userDir, settings, env });
    try {
      await waitFor(() => second.log().includes('Started flows'), 30_000, 25, 'the flows after the restart');
      // The minute of the first write must not be over yet, or the 16th write would rightly go.
      const seconds = (Date.now() - firstWriteAt) / 1000;
      assert.ok(
        seconds < 55,
        `the writes and the restart took ${seconds.toFixed(1)} s: too slow for a minute's budget`,
      );
      const [r] = await send(second, '203.0.113.16');
      const why = `${seconds.toFixed(1)} s after the first write: ${JSON.stringify(r)}\n${tail(second.log())}`;
      assert.notEqual(r.status, 'updated', `held back after the restart, ${why}`);
      assert.match(r.message, /15 per minute/, why);
      assert.equal(patches(), 15, `no write reached deSEC after the restart (it would have answered 429), ${why}`);
    } finally {
      log += second.log();
      await second.stop();
    }
    assert.doesNotMatch(log, new RegExp(TOKEN), 'the token is in no log line');
    // The saved ledger holds hashed keys and times only, never the token.
    const saved = readdirSync(join(userDir, 'context'), { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => readFileSync(join(e.parentPath, e.name), 'utf8'))
      .join('\n');
    assert.match(saved, /ddnsProviderLedger/);
    assert.doesNotMatch(saved, new RegExp(TOKEN));
  } finally {
    await desec.close();
    rmSync(userDir, { recursive: true, force: true });
  }
});
