/**
 * The Home Assistant entity example (examples/11-home-assistant-entities.json, issue 15): its
 * wiring (every alert output feeds the problem sensor, the button forces dns-update, each entity
 * node has an entity config of the right kind and device class, all under one device), and its
 * function node "alerts → problem" run in a real Node-RED runtime: alerts of the three nodes switch
 * the binary sensor on, and off only when every source has recovered. The entity nodes themselves
 * are node-red-contrib-home-assistant-websocket's (0.80.3: its entity-config `haConfig`, sensor
 * `state`/`attributes`); that they resolve and start is tested in test/e2e/ha-addon.test.ts.
 */
import { after, afterEach, before, describe, test } from '../support/suite';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { helper, NODE_RED_PATH, waitFor } from '../support/node-red';
import { readExample, type FlowNode } from '../support/examples';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const functionNode = require(join(NODE_RED_PATH, '..', '@node-red', 'nodes', 'core', 'function', '10-function.js'));

type Msg = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const flow = readExample('11-home-assistant-entities.json');
const byId = new Map(flow.map((n) => [n.id, n]));
const one = (pred: (n: FlowNode) => boolean, what: string): FlowNode => {
  const found = flow.filter(pred);
  assert.equal(found.length, 1, `one ${what}`);
  return found[0];
};
const haConfig = (n: FlowNode, key: string) =>
  (n.haConfig as Array<{ property: string; value: string }>).find((c) => c.property === key)?.value;

describe('Home Assistant entity example', () => {
  test('wiring: alerts → problem sensor, button → dns-update with msg.force, entities of the right kind', () => {
    const problemFn = one((n) => n.type === 'function', 'function node');
    for (const type of ['public-ip-watch', 'dns-update', 'cert-renew']) {
      const n = one((x) => x.type === type, type);
      assert.ok(n.wires![1].includes(problemFn.id), `${type}'s alert output feeds the problem sensor`);
    }
    const entity = (type: string, name: string) => {
      const n = one((x) => x.type === type && x.name === name, `${type} ${name}`);
      const cfg = byId.get(n.entityConfig as string);
      assert.ok(cfg && cfg.type === 'ha-entity-config', `${name} has its entity config`);
      assert.equal(byId.get(cfg.deviceConfig as string)?.type, 'ha-device-config', `${name} is on the device`);
      assert.equal(byId.get(cfg.server as string)?.type, 'server', `${name}'s config names the server`);
      return { n, cfg };
    };
    assert.equal(entity('ha-sensor', 'Public IPv4').cfg.entityType, 'sensor');
    assert.equal(entity('ha-sensor', 'Public IPv6').cfg.entityType, 'sensor');
    const problem = entity('ha-binary-sensor', 'DDNS problem');
    assert.equal(haConfig(problem.cfg, 'device_class'), 'problem');
    assert.ok(problemFn.wires![0].includes(problem.n.id));
    const expiry = entity('ha-sensor', 'Certificate expiry');
    assert.equal(haConfig(expiry.cfg, 'device_class'), 'timestamp');
    assert.equal(expiry.n.state, 'payload.notAfter');
    const cert = one((x) => x.type === 'cert-renew', 'cert-renew');
    assert.ok(cert.wires![0].includes(expiry.n.id), 'every certificate check updates the expiry sensor');
    assert.equal(cert.output, 'always');
    assert.match(String(cert.outDir), /^\/share\//, 'the add-on can write /share, not /ssl');
    const button = entity('ha-button', 'Update DNS now');
    assert.equal(button.cfg.entityType, 'button');
    const force = byId.get(button.n.wires![0][0])!;
    assert.deepEqual(
      (force.rules as Msg[]).map((r) => [r.t, r.p, r.to]),
      [
        ['set', 'force', 'true'],
        ['delete', 'payload', undefined],
      ],
    );
    assert.equal(byId.get(force.wires![0][0])?.type, 'dns-update', 'msg.force alone makes dns-update write again');
  });

  describe('the "alerts → problem" function in Node-RED', () => {
    before(() => helper.startServer());
    after(() => helper.stopServer());
    afterEach(() => helper.unload());

    test('on while any source fails, off when all have recovered; other msgs pass by', async () => {
      const fn = one((n) => n.type === 'function', 'function node');
      await helper.load(functionNode, [
        { id: 'tab', type: 'tab', label: 'example' },
        { ...fn, z: 'tab', wires: [['sensor']] },
        { id: 'sensor', type: 'helper', z: 'tab' },
      ]);
      const seen: Msg[] = [];
      helper.getNode('sensor').on('input', (m: Msg) => seen.push(m));
      const node = helper.getNode(fn.id);
      const send = async (m: Msg, expect: number) => {
        node.receive(m);
        await waitFor(() => seen.length === expect, 5_000, 10, `output ${expect}`);
        return seen[expect - 1];
      };
      let out = await send(
        {
          topic: 'public-ip',
          payload: {
            state: 'failing',
            family: 'ipv4',
            failures: 3,
            error: 'no source answered',
            since: '2026-12-06T05:00:00.000Z',
          },
        },
        1,
      );
      assert.equal(out.payload, true);
      assert.equal(out.reason, 'no public ipv4 address');
      assert.equal(out.since, '2026-12-06T05:00:00.000Z');
      out = await send(
        {
          topic: 'dns-update/alert',
          payload: {
            state: 'failing',
            account: 'DuckDNS',
            code: 'duckdns_ko',
            error: 'DuckDNS answered KO: check the token.',
            since: '2026-12-06T05:01:00.000Z',
          },
        },
        2,
      );
      assert.equal(out.reason, 'no public ipv4 address, duckdns_ko');
      assert.match(out.fix, /check the token/);
      out = await send(
        { topic: 'public-ip', payload: { state: 'recovered', family: 'ipv4', failures: 3, error: null, since: '' } },
        3,
      );
      assert.equal(out.payload, true, 'dns-update still fails');
      assert.equal(out.reason, 'duckdns_ko');
      // A results msg or an address is not an alert: nothing is sent.
      node.receive({ topic: 'dns-update', payload: { ok: true, results: [] } });
      out = await send(
        { topic: 'dns-update/alert', payload: { state: 'recovered', code: 'duckdns_ko', error: '', since: '' } },
        4,
      );
      assert.equal(out.payload, false);
      assert.equal(out.reason, 'none');
      assert.equal(out.since, null);
      out = await send(
        { topic: 'certificate', payload: { state: 'expiring', names: ['yourname.duckdns.org'], daysLeft: 5 } },
        5,
      );
      assert.equal(out.payload, true);
      assert.equal(out.reason, 'certificate expiring');
    });
  });
});
