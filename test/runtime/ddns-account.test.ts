/**
 * ddns-account in the real Node-RED runtime (node-red-node-test-helper): what the account says
 * about its own settings when it starts.
 * - A secret over plain http:// (a DuckDNS contract server on loopback, following
 *   https://www.duckdns.org/spec.jsp; a documentation address that is never contacted for the
 *   remote case): one warning in the log per account and start, never one per request, and a
 *   yellow status on each dns-update / cert-renew node that uses the account when it starts.
 * - The No-IP contact e-mail (https://www.noip.com/integrate/request, "Setting the Agent"): a value
 *   that is not an e-mail address is refused when the account starts, with a clear error.
 */
import { after, afterEach, before, test } from '../support/suite';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closeHttpPools } from '../../src/core/http';
import { PROJECT_CONTACT } from '../../src/core/version';
import { startDuckDns, type DuckDnsContract } from '../support/contracts/duckdns';
import { helper, nodeModule, REPO_ROOT } from '../support/node-red';
import { observe, observerNodes, type Msg } from '../support/observer';

const TOKEN = 'f3b9c2d7-61ae-4f08-9d5c-7e2a4b8c1d60';
const dir = mkdtempSync(join(tmpdir(), 'ddns-account-test-'));
let duck: DuckDnsContract | undefined;

before(async () => {
  await helper.startServer();
});
afterEach(async () => {
  await helper.unload();
  await duck?.close();
  duck = undefined;
});
after(async () => {
  await helper.stopServer();
  await closeHttpPools();
  rmSync(dir, { recursive: true, force: true });
});

const modules = () => [nodeModule('ddns-account'), nodeModule('dns-update'), nodeModule('cert-renew')];

function update(id: string, extra: Msg = {}): Msg {
  return {
    id,
    type: 'dns-update',
    account: 'acc',
    hostnames: 'myhome.duckdns.org',
    families: 'ipv4',
    minInterval: 0,
    contextStore: '',
    alertAfter: 3,
    wires: [['out'], ['alerts']],
    ...extra,
  };
}

/** A No-IP account `acc` with these settings (the password is set in the credentials). */
const noipAccount = (settings: Msg): Msg => ({
  id: 'acc',
  type: 'ddns-account',
  provider: 'noip',
  settings: { username: 'alice@example.com', ...settings },
});

function certRenew(id: string, account: string): Msg {
  return {
    id,
    type: 'cert-renew',
    account,
    names: 'myhome.duckdns.org',
    ca: 'custom',
    directoryUrl: 'https://127.0.0.1:9/dir',
    outDir: join(dir, id),
    checkOnStart: false,
    wires: [[], []],
  };
}

/** Log entries of one level from one node (the runtime's log spy). */
function logged(level: 'WARN' | 'ERROR', id: string): string[] {
  const log = helper.log();
  return log.args.filter((a: Msg[]) => a[0].level === log[level] && a[0].id === id).map((a: Msg[]) => String(a[0].msg));
}

/** Every status a node set, in order (the runtime's spy: also those set while it was created). */
function statusesOf(id: string): Array<{ fill: string; shape: string; text: string }> {
  return helper
    .getNode(id)
    .status.getCalls()
    .filter((c: { thisValue: { id: string } }) => c.thisValue.id === id)
    .map((c: { args: unknown[] }) => c.args[0]);
}

const everything = () => JSON.stringify(helper.log().args);

test('a token over plain http:// to this machine: one calm warning per start, yellow at start, none per request', async () => {
  duck = await startDuckDns({ token: TOKEN, domains: ['myhome'] });
  const flow = [
    { id: 'acc', type: 'ddns-account', name: 'Home', provider: 'duckdns', settings: { endpoint: duck.url } },
    update('u'),
    update('u2', { wires: [[], []] }),
    ...observerNodes('u'),
  ];
  await helper.load(modules(), flow, { acc: { token: TOKEN } });
  const h = observe('u');

  const warnings = logged('WARN', 'acc');
  assert.equal(warnings.length, 1, warnings.join('\n'));
  assert.match(
    warnings[0],
    /^The Home account sends its token over plain http:\/\/ to 127\.0\.0\.1:\d+ \(Server URL\)/,
  );
  assert.match(warnings[0], /on this machine: it does not leave the machine, but it is not encrypted/);
  for (const id of ['u', 'u2']) {
    assert.deepEqual(statusesOf(id)[0], {
      fill: 'yellow',
      shape: 'ring',
      text: 'token over plain http:// (this machine)',
    });
  }

  for (const ip of ['203.0.113.1', '203.0.113.2', '203.0.113.3']) {
    const done = await h.input({ payload: { ipv4: ip } });
    assert.equal(done.error, undefined, JSON.stringify(done.error));
  }
  assert.equal(duck.requests.length, 3);
  assert.equal(h.lastStatus()?.fill, 'green');
  assert.equal(logged('WARN', 'acc').length, 1, 'said once, not on every request');
  assert.equal(logged('WARN', 'u').length + logged('WARN', 'u2').length, 0);
  assert.equal(everything().includes(TOKEN), false);
});

test('a password over plain http:// to another machine: the warning says anyone on the way can read it; cert-renew shows it too', async () => {
  const flow = [
    noipAccount({ endpoint: 'http://192.0.2.44:8245/nic/update' }),
    update('u', { wires: [[], []] }),
    { id: 'duck', type: 'ddns-account', provider: 'duckdns', settings: { endpoint: 'http://192.0.2.45/' } },
    certRenew('cr', 'duck'),
  ];
  await helper.load(modules(), flow, { acc: { password: 'N0-ip-Secret' }, duck: { token: TOKEN } });
  const warnings = logged('WARN', 'acc');
  assert.deepEqual(warnings, [
    'The No-IP account sends its password over plain http:// to 192.0.2.44:8245 (Update server): anyone on the way can read it. Use an https:// address for Update server.',
  ]);
  assert.deepEqual(statusesOf('u')[0], { fill: 'yellow', shape: 'ring', text: 'password sent unencrypted (http://)' });
  assert.equal(logged('WARN', 'duck').length, 1);
  assert.deepEqual(statusesOf('cr').at(-1), {
    fill: 'yellow',
    shape: 'ring',
    text: 'token sent unencrypted (http://)',
  });
  assert.equal(everything().includes('N0-ip-Secret'), false);
  assert.equal(everything().includes(TOKEN), false);
});

test('https://, the default server, or no secret at all: no warning, no yellow status', async () => {
  for (const [provider, settings, credentials] of [
    ['duckdns', { endpoint: 'https://127.0.0.1:9/' }, { token: TOKEN }],
    ['duckdns', {}, { token: TOKEN }],
    ['dryrun', {}, {}],
  ] as const) {
    await helper.load(
      modules(),
      [{ id: 'acc', type: 'ddns-account', provider, settings }, update('u', { wires: [[], []] })],
      { acc: credentials },
    );
    assert.deepEqual(logged('WARN', 'acc'), [], provider);
    assert.equal(
      statusesOf('u').some((s) => s.fill === 'yellow'),
      false,
      `${provider} ${JSON.stringify(settings)}`,
    );
    await helper.unload();
  }
});

test('No-IP contact e-mail: not an e-mail address is refused when the account starts, with a clear error', async () => {
  const flow = [noipAccount({ contact: 'https://example.com/contact' }), update('u'), ...observerNodes('u')];
  await helper.load(modules(), flow, { acc: { password: 'N0-ip-Secret' } });
  const errors = logged('ERROR', 'acc');
  assert.deepEqual(errors, [
    'The No-IP account settings are not valid: Contact e-mail: Enter an e-mail address such as you@example.com (or leave it empty).',
  ]);
  const h = observe('u');
  const done = await h.input({ payload: { ipv4: '203.0.113.1' } });
  assert.match(String(done.error?.message), /Contact e-mail: Enter an e-mail address/);
  assert.equal(h.lastStatus()?.fill, 'red');
  assert.equal(everything().includes('N0-ip-Secret'), false);
});

test('an account no node uses is quiet (invalid settings, plain http://); the first user hears it once (issue 15)', async () => {
  // As core's mqtt-broker: accounts left behind by a deleted example must not log on every deploy.
  const unused = [
    { ...noipAccount({ contact: 'not-an-address' }), id: 'bad' },
    { id: 'plain', type: 'ddns-account', provider: 'duckdns', settings: { endpoint: 'http://192.0.2.44/update' } },
    { id: 'none', type: 'ddns-account', provider: 'no-such-provider', settings: {} },
  ];
  await helper.load(modules(), unused, { bad: { password: 'N0-ip-Secret' }, plain: { token: TOKEN } });
  for (const id of ['bad', 'plain', 'none']) {
    assert.deepEqual(logged('ERROR', id), [], id);
    assert.deepEqual(logged('WARN', id), [], id);
  }
  await helper.unload();
  // The same accounts with a user each: one line per account.
  await helper.load(
    modules(),
    [...unused, ...['bad', 'plain', 'none'].map((a) => update(`u-${a}`, { account: a, wires: [[], []] }))],
    { bad: { password: 'N0-ip-Secret' }, plain: { token: TOKEN } },
  );
  assert.equal(logged('ERROR', 'bad').length, 1);
  assert.equal(logged('WARN', 'plain').length, 1);
  assert.match(logged('ERROR', 'none').join(), /"no-such-provider" is not known/);
  assert.equal(everything().includes('N0-ip-Secret') || everything().includes(TOKEN), false);
});

test("the help names the contact e-mail sent by default, and the editor checks the field's shape", () => {
  const help = readFileSync(join(REPO_ROOT, 'nodes/locales/en-US/ddns-account.html'), 'utf8');
  assert.ok(help.includes(PROJECT_CONTACT), 'the help gives the default contact address');
  const messages = JSON.parse(readFileSync(join(REPO_ROOT, 'nodes/locales/en-US/ddns-account.json'), 'utf8'));
  assert.match(messages['ddns-account'].errors.email, /e-mail address/);
  const editor = readFileSync(join(REPO_ROOT, 'nodes/ddns-account.html'), 'utf8');
  assert.match(editor, /f\.kind === "email"/);
});
