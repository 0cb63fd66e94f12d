/**
 * The core's errors in the user's language (issue 15): a started Node-RED (red.js) with settings.js
 * `lang: 'de'`, dns-update behind an `http in` node. A msg whose address is no address fails at the
 * input (the error reaches a Catch node, as any node error does) and a provider that answers an HTML
 * 503 page fails the update (the results on output 1): both are said in German from the package's
 * catalogs (nodes/locales/de, `core.*`), with the values filled in, and the token is in neither.
 * The provider is deSEC's API address on a loopback server that answers every request with the
 * kind of HTML error page a proxy sends (https://desec.readthedocs.io/en/latest/dns/rrsets.html
 * documents JSON answers only; anything else is not its API). A DuckDNS account without its token,
 * used by a second dns-update, logs its config error in German too.
 */
import { test } from '../support/suite';
import assert from 'node:assert/strict';
import { startServer, text } from '../support/http-server';
import { deployFull, dnsUpdateBehindHttpIn, startNodeRed, waitFor } from '../support/node-red';

type Msg = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const TOKEN = 'desecTokenForTheLanguageTest0123';
// Loopback only, whatever proxy the environment names.
const env = { NO_PROXY: '127.0.0.1,::1,localhost', no_proxy: '127.0.0.1,::1,localhost' };

function flow(endpoint: string): Array<Record<string, unknown>> {
  const z = 'lang';
  const nodes = dnsUpdateBehindHttpIn({ z, label: 'language', endpoint, token: TOKEN });
  const copy = (id: string, over: Record<string, unknown>) => ({ ...nodes.find((n) => n.id === id), ...over });
  return [
    ...nodes,
    // POST /bad: a second dns-update whose failed inputs a Catch node answers with the error's text
    // (the Catch msg keeps msg.res of the http in). A failed update at /addr also reaches Catch nodes
    // after its results went out, so /addr has none (one answer per request).
    copy('in', { id: 'in2', url: '/bad', y: 120, wires: [['upd2']] }),
    copy('upd', { id: 'upd2', y: 120 }),
    // POST /dry: a dry-run account: a success is said in German too.
    { id: 'dry', type: 'ddns-account', name: '', provider: 'dryrun', settings: {}, credentials: {} },
    copy('in', { id: 'in3', url: '/dry', y: 220, wires: [['upd3']] }),
    copy('upd', { id: 'upd3', account: 'dry', families: 'both', y: 220 }),
    { id: 'catch', type: 'catch', z, name: '', scope: ['upd2'], uncaught: false, x: 120, y: 160, wires: [['said']] },
    {
      id: 'said',
      type: 'change',
      z,
      name: '',
      rules: [{ t: 'set', p: 'payload', pt: 'msg', to: 'error.message', tot: 'msg' }],
      x: 300,
      y: 160,
      wires: [['out']],
    },
    // A DuckDNS account without its token, used by a second dns-update: its config error is logged.
    { id: 'duck', type: 'ddns-account', name: '', provider: 'duckdns', settings: {}, credentials: {} },
    {
      id: 'upd-duck',
      type: 'dns-update',
      z,
      name: '',
      account: 'duck',
      hostnames: 'myhome.duckdns.org',
      families: 'ipv4',
      minInterval: 0,
      alertAfter: 3,
      x: 300,
      y: 180,
      wires: [[], []],
    },
  ];
}

test("settings.js lang 'de': the core's errors reach the flow in German, values filled in, the token in none", async () => {
  const provider = await startServer((_req, res) =>
    text(res, '<!DOCTYPE html><html><head><title>503 Service Unavailable</title></head><body>down</body></html>', 503, {
      'content-type': 'text/html',
    }),
  );
  const red = await startNodeRed({ settings: { lang: 'de' }, env });
  try {
    const started = () => red.log().split(/Started flows|Flows sind gestartet/).length - 1;
    // startNodeRed may return on "Server now running" before the first flows are logged as started:
    // count from after that line, or it would be taken for the deploy's.
    await waitFor(() => started() > 0, 30_000, 25, 'the first flows');
    const before = started();
    await deployFull(red, flow(`${provider.url}/api/v1`));
    await waitFor(() => started() > before, 30_000, 25, 'the deployed flows');
    const post = async (body: unknown, path = '/addr') => {
      const res = await fetch(`${red.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: res.status, text: await res.text() };
    };

    // A text that is no address: the input fails before anything is sent (address.invalid, its
    // reason address.not_ip said in German too; the Catch node's msg.error.message is "Error: …").
    const bad = await post({ ipv4: 'example' }, '/bad');
    assert.equal(bad.text, 'Error: Ungültige IPv4-Adresse: „example“ ist keine IP-Adresse.');
    assert.equal(provider.requests.length, 0, 'nothing was sent for a bad input');

    // The provider answers an HTML 503: the result's message is kit.not_json in German.
    const ok = await post({ ipv4: '203.0.113.7' });
    assert.equal(ok.status, 200);
    const [r] = (JSON.parse(ok.text) as Msg).results as Msg[];
    assert.equal(r.status, 'failed', JSON.stringify(r));
    assert.match(
      r.message,
      /^deSEC hat etwas anderes als sein JSON geantwortet \(HTTP 503\): .*503 Service Unavailable/,
    );
    assert.equal(r.reason, 'http_503', 'the machine-readable code stays as it is');
    assert.ok(provider.requests.length >= 1);
    assert.doesNotMatch(bad.text + ok.text + red.log(), new RegExp(TOKEN), 'the token is in no text');

    // A success, in German: the dry run's result.
    const dry = JSON.parse((await post({ ipv4: '203.0.113.7' }, '/dry')).text) as Msg;
    assert.equal(dry.results[0].status, 'updated');
    assert.equal(
      dry.results[0].message,
      'Probelauf: Der A-Eintrag von home.example.com würde auf 203.0.113.7 gesetzt (nichts gesendet)',
    );
    assert.equal(dry.results[0].sentence, undefined, 'the sentence itself stays inside');
    // A name kept as it is (no IPv6 address in the msg), in German too.
    assert.equal(dry.results[1].status, 'skipped');
    assert.equal(
      dry.results[1].message,
      'msg.payload enthält keine IPv6-Adresse: home.example.com behält seinen Eintrag.',
    );

    // The account without its token: the config error (the adapter's sentence, the field's label and
    // the schema's message) is logged in German, the English nowhere.
    const invalid = 'Die Einstellungen des Kontos DuckDNS sind ungültig: Token: Das DuckDNS-Token fehlt.';
    await waitFor(() => red.log().includes(invalid), 10_000, 25, 'the German config error');
    assert.doesNotMatch(red.log(), /account settings are not valid|DuckDNS token is required/);
    assert.doesNotMatch(red.log(), /ERR_HTTP_HEADERS_SENT/, 'one answer per request');
  } finally {
    await red.stop();
    await provider.close();
  }
});
