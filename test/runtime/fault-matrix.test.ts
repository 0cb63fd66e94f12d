/**
 * The fault matrix of issue 12: the packed package (npm pack, installed into the user directory as
 * the Home Assistant add-on does, ../support/packed.ts) in a started Node-RED (red.js), one flow
 * with one dns-update node and one ddns-account per case, every case at once. Each account's
 * endpoint is a path of one scripted fault server (../support/fault-server.ts) that answers what
 * the case scripts and counts its requests; the answers that work come from the contract servers'
 * documented bodies (../support/contracts/*): dyndns2 https://help.dyn.com/remote-access-api/return-codes/,
 * https://www.noip.com/integrate/request, https://www.dynu.com/DynamicDNS/IP-Update-Protocol;
 * DuckDNS https://www.duckdns.org/spec.jsp; FreeDNS https://freedns.afraid.org/dynamic/v2/;
 * Cloudflare https://developers.cloudflare.com/api/ (the contract server itself for the cases that
 * need a working API).
 *
 * Per case, the requests that reach the server are counted in each phase:
 *   first    the first address (inject node, triggered through the admin API POST /inject/:id);
 *   changes  three address changes;
 *   redeploy a full deploy of the unchanged flows (POST /flows, Node-RED-Deployment-Type: full),
 *            then the current address again (as public-ip-watch sends it at start);
 *   restart  Node-RED stopped and started on the same user directory (a `localfilesystem` context
 *            store with flushInterval 1 s, named in the nodes), then the current address again;
 *   config   the configuration changed (a fatal case's host name, a waiting case's secret), then
 *            the current address again.
 * Expected: a fatal answer or a wait → 0 requests in changes, redeploy and restart (before the
 * wait ends), at least one again after the config change; a working answer → one write per
 * change, 0 for an address already written (also after the restart). A retry never comes before
 * the wait announced after the previous failure has ended. Always: Node-RED stays up (/flows
 * answers), every fault shows a status and an error for Catch, no secret in the log or in any msg
 * (results, alerts, statuses, errors: errors that a Catch node handles are not logged, so their
 * texts are checked where Catch delivers them).
 *
 * Why test/runtime: nothing here needs root or a network namespace (every server is on loopback,
 * the network guard watches the rest), and packing takes about a second, so it runs in both
 * Node-RED versions of the matrix (scripts/test.mjs).
 */
import { test, type TestContext } from '../support/suite';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCloudflare, type CloudflareContract } from '../support/contracts/cloudflare';
import type { ContractFailure } from '../support/contracts/duckdns';
import { AGENT_RULES } from '../support/contracts/dyndns2';
import { startFaultServer, type FaultScript } from '../support/fault-server';
import { startServer, text, type RecordedRequest, type TestServer } from '../support/http-server';
import { deployFull, httpPostNode, startNodeRed, waitFor, type StartedNodeRed } from '../support/node-red';
import { installPacked, MODULE, npmUnavailable, packPackage } from '../support/packed';

type Msg = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const IPS = ['203.0.113.10', '203.0.113.11', '203.0.113.12', '203.0.113.13'];
/** The injections: the first address, three changes, then the current address after each event. */
const STEPS = [
  { step: 's1', ip: IPS[0] },
  { step: 's2', ip: IPS[1] },
  { step: 's3', ip: IPS[2] },
  { step: 's4', ip: IPS[3] },
  { step: 's5', ip: IPS[3] },
  { step: 's6', ip: IPS[3] },
  { step: 's7', ip: IPS[3] },
];
const PHASES = ['first', 'changes', 'redeploy', 'restart', 'config'] as const;
type Phase = (typeof PHASES)[number];
/** The checks of a case (a problem found is filed under one of them). */
type Check = Phase | 'status' | 'error' | 'texts' | 'secret';

type Provider = 'noip' | 'dyndns' | 'dynu' | 'dyndns2' | 'duckdns' | 'freedns' | 'cloudflare';
type Kind = 'ok' | 'fatal' | 'wait';

interface Case {
  id: string;
  provider: Provider;
  fault: string;
  kind: Kind;
  /** Fatal: whose stop it is. */
  scope?: 'account' | 'host';
  /** Expected code of the first failure (`cause` of a stop, `reason` of a failure). */
  code?: string;
  /** Wait: the server's wait, the earliest retry (ms after the answer). */
  minWaitMs?: number;
  /** Answered by the fault server; else by a Cloudflare contract server of its own. */
  script?: FaultScript;
  contract?: () => Promise<CloudflareContract & { token: string }>;
  /** Extra account settings. */
  settings?: Msg;
}

// ------------------------------------------------------------------------------------------ answers

const answer = (body: string, status = 200, headers: Record<string, string> = {}): ContractFailure => ({
  status,
  body,
  headers,
});
const ABSURD = '99999999999999999999';
const HTML_PAGE =
  '<!DOCTYPE html><html><head><title>Sign in to the hotel Wi-Fi</title></head><body><form>…</form></body></html>';
/** The same fault, whatever the request: these faults concern every request of the case. */
const always =
  (f: ContractFailure): FaultScript =>
  () =>
    f;
const HOSTS: Record<Provider, [string, string]> = {
  noip: ['home.example.com', 'home2.example.com'],
  dyndns: ['home.example.com', 'home2.example.com'],
  dynu: ['home.example.com', 'home2.example.com'],
  dyndns2: ['home.example.com', 'home2.example.com'],
  duckdns: ['home.duckdns.org', 'home2.duckdns.org'],
  freedns: ['home.mooo.com', 'home2.mooo.com'],
  cloudflare: ['home.example.com', 'home2.example.com'],
};
/** A Cloudflare API answer: its JSON envelope (contracts/cloudflare.ts). */
const cfAnswer = (status: number, envelope: object, headers: Record<string, string> = {}) =>
  answer(JSON.stringify({ messages: [], ...envelope }), status, { 'content-type': 'application/json', ...headers });
const cfError = (status: number, code: number, message: string, headers: Record<string, string> = {}, chain?: object) =>
  cfAnswer(
    status,
    { success: false, errors: [{ code, message, ...(chain ? { error_chain: chain } : {}) }], result: null },
    headers,
  );

/** A case: its id is the provider and the fault (`!donator` → `noip-donator`). */
const caseOf = (provider: Provider, fault: string, kind: Kind, extra: Partial<Case> = {}): Case => ({
  id: `${provider}-${fault.replace(/^!/, '')}`,
  provider,
  fault,
  kind,
  ...extra,
});

/**
 * Faults every provider meets from the network, with how each is answered for that provider. A
 * family of several providers on one protocol (dyndns2) takes them in turn: the i-th fault goes to
 * providers[i % n], so that every member meets some of them.
 */
function networkFaults(...providers: Provider[]): Case[] {
  const retryAfter = (s: string) => ({ 'retry-after': s });
  const rateLimited = (p: Provider, wait: string) =>
    p === 'cloudflare'
      ? cfError(429, 971, 'Please wait and consider throttling your request speed', retryAfter(wait))
      : answer('Too Many Requests', 429, retryAfter(wait));
  const faults: Array<[string, (p: Provider) => ContractFailure, Partial<Case>]> = [
    ['http-500', () => 'server-error', { code: 'http_500' }],
    ['429-retry-after', (p) => rateLimited(p, '900'), { minWaitMs: 900_000 }],
    ['html-200', () => answer(HTML_PAGE, 200, { 'content-type': 'text/html' }), {}],
    ['body-1mib', () => 'huge', { code: 'body_too_large' }],
    ['hang', () => 'hang', { code: 'timeout' }],
    ['reset', () => 'reset', {}],
    [
      'absurd-503',
      () => answer('Service Unavailable', 503, retryAfter(ABSURD)),
      { code: 'http_503', minWaitMs: 24 * 3_600_000 },
    ],
    ['absurd-429', (p) => rateLimited(p, ABSURD), { minWaitMs: 24 * 3_600_000 }],
  ];
  return faults.map(([fault, f, extra], i) => {
    const p = providers[i % providers.length];
    return caseOf(p, fault, 'wait', {
      script: always(f(p)),
      ...extra,
    });
  });
}

/** The dyndns2 family: the documented answer words (help.dyn.com/return-codes, noip.com/integrate/response). */
function dyndns2Cases(p: 'noip' | 'dyndns' | 'dynu' | 'dyndns2'): Case[] {
  const myip = (req: RecordedRequest) => req.query.get('myip') ?? '';
  const troubleMs = p === 'noip' ? 30 * 60_000 : 10 * 60_000;
  const c = (fault: string, kind: Kind, script: FaultScript, extra: Partial<Case> = {}) =>
    caseOf(p, fault, kind, { script, ...extra });
  const fatal = (word: string, scope: 'account' | 'host', status = 200) =>
    c(word, 'fatal', always(answer(word, status)), { scope, code: word });
  const wait = (word: string) => c(word, 'wait', always(answer(word)), { code: word, minWaitMs: troubleMs });
  return [
    c('good', 'ok', (req) => answer(`good ${myip(req)}`)),
    c('nochg', 'ok', (req) => answer(`nochg ${myip(req)}`)),
    fatal('badauth', 'account', p === 'noip' ? 401 : 200),
    fatal('!donator', 'account'),
    fatal('notfqdn', 'host'),
    fatal('nohost', 'host'),
    fatal('numhost', 'host'),
    fatal('abuse', p === 'noip' ? 'account' : 'host'),
    fatal('badagent', 'account'),
    wait('911'),
    wait('dnserr'),
    ...(p === 'dynu' ? [wait('servererror')] : []),
    ...(p === 'noip'
      ? [
          c('w90m', 'wait', always(answer('w90m')), { code: 'wait', minWaitMs: 90 * 60_000 }),
          // No-IP's documented User-Agent: `Company NameOfProgram/OSVersion-ReleaseVersion
          // maintainer-contact@example.com` (noip.com/integrate/request); others get `badagent`.
          c('user-agent', 'ok', (req) =>
            AGENT_RULES.noip!.test(req.headers['user-agent'] ?? '') ? answer(`good ${myip(req)}`) : answer('badagent'),
          ),
        ]
      : []),
  ];
}

function duckdnsCases(): Case[] {
  const ip = (req: RecordedRequest) => req.query.get('ip') ?? '';
  const c = (fault: string, kind: Kind, script: FaultScript, extra: Partial<Case> = {}) =>
    caseOf('duckdns', fault, kind, { script, ...extra });
  return [
    c('good', 'ok', (req) => answer(`OK\n${ip(req)}\n\nUPDATED`)),
    c('nochg', 'ok', (req) => answer(`OK\n${ip(req)}\n\nNOCHANGE`)),
    c('KO', 'fatal', always(answer('KO')), { scope: 'account', code: 'ko' }),
    // A broken or hostile server echoing the token where the address belongs (issue 12, defect 7).
    c('echo-token', 'wait', (req) => answer(`OK\n${'x'.repeat(40)}${req.query.get('token')}\n\nUPDATED`), {
      code: 'address_not_taken',
    }),
    ...networkFaults('duckdns'),
  ];
}

function freednsCases(): Case[] {
  const address = (req: RecordedRequest) => req.query.get('address') ?? '';
  const c = (fault: string, kind: Kind, script: FaultScript, extra: Partial<Case> = {}) =>
    caseOf('freedns', fault, kind, { script, ...extra });
  return [
    c('good', 'ok', (req) => answer(`Updated home.mooo.com from 192.0.2.1 to ${address(req)}`)),
    c('nochg', 'ok', (req) =>
      answer(`No IP change detected for home.mooo.com with IP ${address(req)}, skipping update`),
    ),
    c('unknown-token', 'fatal', always(answer('ERROR: Unable to locate this record')), {
      scope: 'host',
      code: 'unknown_token',
    }),
    ...networkFaults('freedns'),
  ];
}

function cloudflareCases(): Case[] {
  const c = (fault: string, kind: Kind, extra: Partial<Case>) => caseOf('cloudflare', fault, kind, extra);
  const contract =
    (content: string, readOnly = false) =>
    async () => {
      const token = cfToken();
      const cf = await startCloudflare({
        token: readOnly ? cfToken() : token,
        tokens: readOnly ? { [token]: { dns: 'read' } } : {},
        zones: [{ name: 'example.com', records: [{ type: 'A', name: 'home.example.com', content }] }],
      });
      return Object.assign(cf, { token });
    };
  const auth = (fault: string, status: number, code: number, message: string) =>
    c(fault, 'fatal', { scope: 'account', code: `cf_${code}`, script: always(cfError(status, code, message)) });
  const noZones = always(cfAnswer(200, { success: true, errors: [], result: [] }));
  return [
    c('good', 'ok', { contract: contract('192.0.2.1') }),
    c('nochg', 'ok', { contract: contract(IPS[0]) }),
    // A token that may read but not edit DNS: reads work, the write gets 403 10000.
    c('read-only-token', 'fatal', { scope: 'account', code: 'cf_10000', contract: contract('192.0.2.1', true) }),
    auth('401-10000', 401, 10000, 'Authentication error'),
    auth('403-9109', 403, 9109, 'Invalid access token'),
    auth('400-9106', 400, 9106, 'Missing X-Auth-Key, X-Auth-Email or Authorization headers'),
    c('400-6003', 'fatal', {
      scope: 'account',
      code: 'cf_6003',
      script: always(
        cfError(400, 6003, 'Invalid request headers', {}, [
          { code: 6111, message: 'Invalid format for Authorization header' },
        ]),
      ),
    }),
    c('zone-not-found', 'fatal', { scope: 'host', code: 'cf_zone_not_found', script: noZones }),
    c('set-zone-not-found', 'fatal', {
      scope: 'account',
      code: 'cf_zone_not_found',
      script: noZones,
      settings: { zone: 'example.org' },
    }),
    ...networkFaults('cloudflare'),
  ];
}

const CASES: Case[] = [
  ...(['noip', 'dyndns', 'dynu', 'dyndns2'] as const).flatMap(dyndns2Cases),
  ...networkFaults('noip', 'dyndns', 'dynu', 'dyndns2'),
  ...duckdnsCases(),
  ...freednsCases(),
  ...cloudflareCases(),
];

// ------------------------------------------------------------------------------------------ secrets

const base62 = (n: number) =>
  Array.from(randomBytes(n), (b) => 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'[b % 62]).join('');
function cfToken(): string {
  return base62(40);
}
/** A secret as the provider's users have them (the account's password or token). */
function newSecret(p: Provider): string {
  if (p === 'duckdns') return randomUUID();
  if (p === 'cloudflare') return cfToken();
  if (p === 'freedns') return base62(24);
  return `P${base62(23)}`;
}
/** A secret leaks when any 12 characters of it in a row appear. */
function leaks(haystack: string, secret: string): boolean {
  for (let i = 0; i + 12 <= secret.length; i++) if (haystack.includes(secret.slice(i, i + 12))) return true;
  return false;
}

// ------------------------------------------------------------------------------------------ the flow

interface Live {
  c: Case;
  base: string;
  /** Requests that reached the case's server (`at`: arrival time). */
  requests(): RecordedRequest[];
  /** Secrets of the account: [before, after the config change]. */
  secrets: [string, string];
}

const secretKey = (p: Provider) => (['duckdns', 'freedns', 'cloudflare'].includes(p) ? 'token' : 'password');

function accountSettings(l: Live): Msg {
  const { c, base } = l;
  const user = { username: `user-${c.id}` };
  switch (c.provider) {
    case 'noip':
    case 'dyndns':
    case 'dynu':
    case 'dyndns2':
      return { ...user, endpoint: `${base}/nic/update` };
    case 'duckdns':
    case 'freedns':
      return { endpoint: base };
    case 'cloudflare':
      return { endpoint: c.script ? `${base}/client/v4` : base, ...c.settings };
  }
}

/**
 * The flow: per case an account, a dns-update node and an http request node posting its outputs
 * to the sink; one inject node per step wired to every dns-update node; a Status and a Catch node
 * for the dns-update nodes, posting to the sink as well. `changed`: the config phase (fatal cases
 * get another host name, waiting cases another secret).
 */
function buildFlow(live: Live[], sink: string, changed: boolean): Msg[] {
  const z = 'matrix';
  const ids = live.map((l) => `u-${l.c.id}`);
  const nodes: Msg[] = [{ id: z, type: 'tab', label: 'fault matrix' }];
  for (const l of live) {
    const { c } = l;
    const rename = changed && c.kind === 'fatal';
    const rekey = changed && c.kind === 'wait';
    nodes.push(
      {
        id: `a-${c.id}`,
        type: 'ddns-account',
        name: c.id,
        provider: c.provider,
        settings: accountSettings(l),
        credentials: { [secretKey(c.provider)]: l.secrets[rekey ? 1 : 0] },
      },
      {
        id: `u-${c.id}`,
        type: 'dns-update',
        z,
        name: c.id,
        account: `a-${c.id}`,
        hostnames: HOSTS[c.provider][rename ? 1 : 0],
        families: 'ipv4',
        minInterval: 0,
        contextStore: 'file',
        alertAfter: 3,
        wires: [[`p-${c.id}`], [`p-${c.id}`]],
      },
      httpPostNode(`p-${c.id}`, z, `${sink}/out/${encodeURIComponent(c.id)}/{{{step}}}`),
    );
  }
  for (const { step, ip } of STEPS) {
    nodes.push({
      id: `ip-${step}`,
      type: 'inject',
      z,
      name: step,
      props: [{ p: 'payload' }, { p: 'step', v: step, vt: 'str' }],
      repeat: '',
      crontab: '',
      once: false,
      onceDelay: 0.1,
      topic: '',
      payload: ip,
      payloadType: 'str',
      wires: [ids],
    });
  }
  const setPayload = (id: string, from: string, next: string) => ({
    id,
    type: 'change',
    z,
    name: '',
    rules: [{ t: 'set', p: 'payload', pt: 'msg', to: from, tot: 'msg' }],
    wires: [[next]],
  });
  nodes.push(
    { id: 'status', type: 'status', z, name: '', scope: ids, wires: [['status-payload']] },
    setPayload('status-payload', 'status', 'status-post'),
    httpPostNode('status-post', z, `${sink}/status`),
    { id: 'catch', type: 'catch', z, name: '', scope: ids, uncaught: false, wires: [['error-payload']] },
    setPayload('error-payload', 'error', 'error-post'),
    httpPostNode('error-post', z, `${sink}/error/{{{step}}}`),
  );
  // A node of a tab without a position would be taken for a config node: lay them out in rows.
  return nodes.map((n, i) => (n.z ? { x: 150 + 250 * (i % 3), y: 40 + 20 * Math.floor(i / 3), ...n } : n));
}

// ------------------------------------------------------------------------------------------ the sink

interface Sink {
  server: TestServer;
  /** Output msgs (results, alerts) per case, with their arrival time. */
  outs: Array<{ id: string; step: string; payload: Msg; at: number }>;
  statuses: Msg[];
  errors: Array<{ step: string; error: Msg }>;
}

async function startSink(): Promise<Sink> {
  const s: Partial<Sink> = { outs: [], statuses: [], errors: [] };
  s.server = await startServer((req, res) => {
    const [, kind, a, b] = req.path.split('/').map(decodeURIComponent);
    const payload = JSON.parse(req.body || 'null');
    if (kind === 'out') s.outs!.push({ id: a, step: b ?? '', payload, at: req.at });
    else if (kind === 'status') s.statuses!.push(payload);
    else if (kind === 'error') s.errors!.push({ step: a ?? '', error: payload });
    text(res, 'ok');
  });
  return s as Sink;
}

// ------------------------------------------------------------------------------------------ the test

const skip = npmUnavailable();
const settings = {
  contextStorage: {
    default: { module: 'memory' },
    file: { module: 'localfilesystem', config: { flushInterval: 1 } },
  },
};
// Loopback only, whatever proxy the environment names.
const env = { NO_PROXY: '127.0.0.1,::1,localhost', no_proxy: '127.0.0.1,::1,localhost' };

test(
  'fault matrix: every provider family × fault through a started Node-RED with the packed package',
  { skip: skip ?? false, timeout: 170_000 },
  async (t) => {
    const work = mkdtempSync(join(tmpdir(), 'ddns-fault-matrix-'));
    const userDir = join(work, 'node-red');
    const faults = await startFaultServer(
      Object.fromEntries(CASES.filter((c) => c.script).map((c) => [c.id, c.script!])),
    );
    const contracts: CloudflareContract[] = [];
    const sink = await startSink();
    let red: StartedNodeRed | undefined;
    let log = '';
    const timings: string[] = [];
    const timed = async <T>(what: string, fn: () => Promise<T> | T): Promise<T> => {
      const t0 = Date.now();
      const v = await fn();
      timings.push(`${what} ${Date.now() - t0} ms`);
      return v;
    };
    try {
      // The cases and their servers.
      const live: Live[] = [];
      for (const c of CASES) {
        if (c.script) {
          const secrets: [string, string] = [newSecret(c.provider), newSecret(c.provider)];
          live.push({ c, base: faults.base(c.id), requests: () => faults.requests(c.id), secrets });
        } else {
          const cf = await c.contract!();
          contracts.push(cf);
          live.push({ c, base: cf.url, requests: () => cf.requests, secrets: [cf.token, cf.token] });
        }
      }
      const { tgz } = await timed('npm pack', () => packPackage(work));
      await timed('npm install', () => installPacked(tgz, userDir));

      const phaseStart = new Map<Phase, number>();
      const starts = (r: StartedNodeRed) => r.log().split('Started flows').length - 1;
      const running = (r: StartedNodeRed) => waitFor(() => starts(r) > 0, 60_000, 25, 'Node-RED to start the flows');
      /** Deploy (full) and wait until Node-RED has started the flows. */
      const deploy = async (r: StartedNodeRed, nodes: Msg[]) => {
        const before = starts(r);
        await deployFull(r, nodes);
        await waitFor(() => starts(r) > before, 60_000, 25, 'Node-RED to start the deployed flows');
      };
      const alive = async (r: StartedNodeRed, when: string) => {
        assert.equal(r.process.exitCode, null, `Node-RED is still running ${when}`);
        assert.equal((await r.api('/flows')).status, 200, `/flows answers ${when}`);
      };
      const handled = (step: string, c: Case) =>
        sink.outs.some((o) => o.id === c.id && o.step === step) ||
        sink.errors.some((e) => e.step === step && e.error?.source?.id === `u-${c.id}`);
      /**
       * Send the step's address to every case; wait until each has answered it (`unless`: cases
       * that may still be busy: their inputs queue up and are answered in order).
       */
      const inject = async (r: StartedNodeRed, step: string, unless: (c: Case) => boolean = () => false) => {
        const res = await r.api(`/inject/ip-${step}`, { method: 'POST' });
        assert.equal(res.status, 200, `POST /inject/ip-${step}: ${res.status} ${JSON.stringify(res.body)}`);
        const missing = () => CASES.filter((c) => !unless(c) && !handled(step, c));
        await waitFor(() => missing().length === 0, 60_000, 25, `every case to answer ${step}`).catch((e) => {
          throw new Error(`${e.message}; missing: ${missing().map((c) => c.id)}`);
        });
      };
      const start = () => startNodeRed({ userDir, settings, env, installPackage: false });

      red = await timed('Node-RED start', start);
      await running(red);
      const mod = (await red.api(`/nodes/${MODULE}`)).body as Msg;
      assert.equal(
        realpathSync(mod.path),
        realpathSync(join(userDir, 'node_modules', MODULE)),
        'loaded from the installed tarball, not the checkout',
      );
      const flow = buildFlow(live, sink.server.url, false);
      await timed(`deploy of ${CASES.length} cases`, () => deploy(red!, flow));

      // A case whose server never answers is busy until the client's timeout (10 s) once it has
      // sent a request: the others go on meanwhile, its inputs wait their turn.
      const hangs = (c: Case) => c.fault === 'hang';
      const hangsSince = (phase: Phase) => (c: Case) =>
        hangs(c) &&
        live
          .find((l) => l.c === c)!
          .requests()
          .some((r) => r.at >= phaseStart.get(phase)!);
      await timed('first + 3 changes', async () => {
        phaseStart.set('first', Date.now());
        await inject(red!, 's1', hangs);
        phaseStart.set('changes', Date.now());
        for (const step of ['s2', 's3', 's4']) await inject(red!, step, hangs);
        await waitFor(() => CASES.every((c) => handled('s4', c)), 60_000, 25, 'every case to answer s4');
      });
      await alive(red, 'after the first address and three changes');

      await timed('redeploy', async () => {
        phaseStart.set('redeploy', Date.now());
        await deploy(red!, flow);
        await inject(red!, 's5', hangsSince('redeploy'));
      });
      await alive(red, 'after a full redeploy');

      await timed('restart', async () => {
        phaseStart.set('restart', Date.now());
        log += red!.log();
        await red!.stop();
        red = await start();
        await running(red);
        await inject(red, 's6', hangsSince('restart'));
      });
      await alive(red, 'after a restart');

      await timed('config change', async () => {
        phaseStart.set('config', Date.now());
        await deploy(red!, buildFlow(live, sink.server.url, true));
        await inject(red!, 's7', hangsSince('config'));
      });
      await alive(red, 'after the configuration changed');
      // The errors and statuses of a step are posted after its results.
      const shown = (l: Live) => l.c.kind === 'ok' || sink.errors.some((e) => e.error?.source?.id === `u-${l.c.id}`);
      await waitFor(() => live.every(shown), 10_000, 25, 'the errors of every fault').catch(() => undefined);
      log += red.log();

      const report = evaluate(live, sink, phaseStart, log);
      for (const line of timings) t.diagnostic(line);
      printReport(t, report);
      assert.deepEqual(
        report.filter((r) => r.problems.length).map((r) => `${r.c.id}: ${r.problems.join('; ')}`),
        [],
        'every case of the matrix behaves as issue 12 expects',
      );
    } finally {
      if (red) {
        log += red.log();
        await red.stop();
      }
      await faults.close();
      for (const cf of contracts) await cf.close();
      await sink.server.close();
      rmSync(work, { recursive: true, force: true });
    }
  },
);

// ------------------------------------------------------------------------------------------ checks

interface CaseReport {
  c: Case;
  /** Requests that reached the server, per phase. */
  counts: Record<Phase, number>;
  problems: string[];
}

function evaluate(live: Live[], sink: Sink, phaseStart: Map<Phase, number>, log: string): CaseReport[] {
  const phaseOf = (at: number): Phase => {
    let p: Phase = 'first';
    for (const ph of PHASES) if ((phaseStart.get(ph) ?? Infinity) <= at) p = ph;
    return p;
  };
  const captured = JSON.stringify([sink.outs, sink.statuses, sink.errors]);
  return live.map((l) => {
    const { c } = l;
    const found = new Set<string>();
    const problem = (check: Check, text: string) => found.add(`[${check}] ${text}`);
    const outs = sink.outs.filter((o) => o.id === c.id);
    const result = (step: string): Msg | undefined => outs.find((o) => o.step === step)?.payload?.results?.[0];
    const errors = sink.errors.filter((e) => e.error?.source?.id === `u-${c.id}`);
    const statuses = sink.statuses.filter((s) => s?.source?.id === `u-${c.id}`);
    const requests = l.requests();
    const counts = Object.fromEntries(PHASES.map((p) => [p, 0])) as Record<Phase, number>;
    for (const r of requests) counts[phaseOf(r.at)]++;
    const first = result('s1');
    const afterFirst: Array<[Phase, string]> = [
      ['changes', 's2'],
      ['changes', 's3'],
      ['changes', 's4'],
      ['redeploy', 's5'],
      ['restart', 's6'],
    ];

    if (counts.first < 1) problem('first', 'no request reached the server');
    if (c.kind === 'ok') {
      if (!['updated', 'unchanged'].includes(first?.status))
        problem('first', `expected a success, got ${describe(first)}`);
      if (counts.changes !== 3) problem('changes', `expected 3 requests (one per change), got ${counts.changes}`);
      for (const [phase, step] of [...afterFirst, ['config', 's7']] as Array<[Phase, string]>) {
        const want = phase === 'changes' ? ['updated', 'unchanged'] : ['unchanged'];
        if (!want.includes(result(step)?.status))
          problem(phase, `${step}: expected ${want}, got ${describe(result(step))}`);
      }
      for (const phase of ['redeploy', 'restart', 'config'] as const)
        if (counts[phase] !== 0)
          problem(phase, `the address is written already: expected 0 requests, got ${counts[phase]}`);
    } else {
      if (first?.status !== 'failed') problem('first', `expected failed, got ${describe(first)}`);
      else {
        const code = first.cause ?? first.reason;
        if (c.code && code !== c.code) problem('first', `expected the code ${c.code}, got ${code}`);
        if (c.kind === 'fatal' && first.stopped !== true) problem('first', `expected a stop, got ${describe(first)}`);
      }
      if (c.kind === 'fatal') {
        for (const [phase, step] of afterFirst)
          if (result(step)?.stopped !== true)
            problem(phase, `${step}: expected stopped, got ${describe(result(step))}`);
        for (const phase of ['changes', 'redeploy', 'restart'] as const)
          if (counts[phase] !== 0) problem(phase, `expected 0 requests after a stop, got ${counts[phase]}`);
      } else {
        // Every retry comes when the wait announced after the previous failure has ended.
        const waits = outs
          .filter((o) => o.at < phaseStart.get('config')!)
          .flatMap((o) => (o.payload?.results ?? []) as Msg[])
          .filter((r) => r.status === 'failed' && r.nextRetryAt)
          .map((r) => Date.parse(r.nextRetryAt))
          .sort((a, b) => a - b);
        const firstWait = waits[0] - (requests[0]?.at ?? 0);
        if (!(firstWait >= (c.minWaitMs ?? 20_000) - 2_000))
          problem(
            'first',
            `the retry comes ${Math.round(firstWait / 1000)} s later, expected ≥ ${(c.minWaitMs ?? 20_000) / 1000} s`,
          );
        if (firstWait > 24 * 3_600_000 + 60_000)
          problem('first', `a wait of ${Math.round(firstWait / 3_600_000)} h is not clamped to 24 h`);
        const before = requests.filter((r) => r.at < phaseStart.get('config')!);
        before.slice(1).forEach((r, i) => {
          if (waits[i] === undefined || r.at < waits[i] - 1_000) {
            const left =
              waits[i] === undefined
                ? 'no wait announced'
                : `${Math.round((waits[i] - r.at) / 1000)} s before the wait ended`;
            problem(phaseOf(r.at), `request ${i + 2} came ${left}`);
          }
        });
        for (const [phase, step] of afterFirst)
          if (!result(step)?.nextRetryAt)
            problem(phase, `${step}: expected a pending retry, got ${describe(result(step))}`);
      }
      const changed = c.kind === 'fatal' ? 'host name' : 'secret';
      if (counts.config < 1)
        problem('config', `the ${changed} changed: expected a request, got 0 (${describe(result('s7'))})`);
      // Every fault shows itself: a status and an error for Catch.
      const want = c.kind === 'fatal' ? 'red' : 'yellow';
      if (!statuses.some((s) => s.fill === want))
        problem(
          'status',
          `expected a ${want} status, got ${statuses.map((s) => `${s.fill}: ${s.text}`).join(' | ') || 'none'}`,
        );
      if (!errors.some((e) => e.step === 's1' && typeof e.error?.message === 'string' && e.error.message.length > 0))
        problem('error', 'no error reached the Catch node for the first answer');
    }
    // Texts a person reads: no absurd numbers, no Invalid Date, no Infinity.
    const texts = [
      ...outs.flatMap((o) => ((o.payload?.results ?? []) as Msg[]).map((r) => r.message)),
      ...statuses.map((s) => s.text),
      ...errors.map((e) => e.error?.message),
    ];
    const bad = texts.find((x) => /Infinity|Invalid (time value|Date)|RangeError|\bNaN\b|\d{13,}/.test(String(x)));
    if (bad) problem('texts', `a text reads: ${bad}`);
    for (const secret of l.secrets) {
      if (leaks(log, secret)) problem('secret', 'a secret of the account appears in the Node-RED log');
      if (leaks(captured, secret)) problem('secret', 'a secret of the account appears in a captured msg');
    }

    return { c, counts, problems: [...found] };
  });
}

function describe(r: Msg | undefined): string {
  if (!r) return 'no result';
  const extra = [r.reason, r.cause, r.nextRetryAt].filter(Boolean).join(', ');
  return `${r.status}${r.stopped ? ' (stopped)' : ''}${extra ? ` [${extra}]` : ''}: ${String(r.message).slice(0, 160)}`;
}

function printReport(t: TestContext, report: CaseReport[]): void {
  const faults = report.filter((r) => r.c.kind !== 'ok');
  const held = faults.filter((r) => !r.problems.length).length;
  t.diagnostic(
    `cases ${report.length} (${report.length - faults.length} working answers); faults run ${faults.length}, ` +
      `survived ${held} (Node-RED up, every check held), failed ${faults.length - held}`,
  );
  t.diagnostic(`requests per case, by phase: ${PHASES.join('/')}`);
  for (const r of report) {
    const verdict = r.problems.length ? 'FAIL' : 'ok';
    t.diagnostic(
      `${r.c.id.padEnd(30)} ${r.c.kind.padEnd(5)} ${PHASES.map((p) => r.counts[p])
        .join('/')
        .padEnd(10)} ${verdict}`,
    );
  }
}
