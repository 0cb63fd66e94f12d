/**
 * How to exercise each provider of the registry (allProviders()) for the conformance suite
 * (test/core/providers/conformance.test.ts, modelled on libdns's libdnstest): per provider, how to
 * start its contract server, the account settings that work, how to make the server produce each
 * fault, and which behaviours do not apply (always with the reason).
 *
 * Adding a provider: add one entry to HARNESSES (the suite fails for a provider without one).
 */
import dgram from 'node:dgram';
import { skipWithoutBind, startBind } from '../bind';
import { startCloudflare } from '../contracts/cloudflare';
import { startDuckDns } from '../contracts/duckdns';
import { startDyndns2, type Dyndns2Flavour } from '../contracts/dyndns2';
import { startFreeDns } from '../contracts/freedns';
import { startNamecheap } from '../contracts/namecheap';
import { startPorkbun } from '../contracts/porkbun';
import { startDesec } from '../contracts/desec';
import { startDigitalocean } from '../contracts/digitalocean';
import { startGandi } from '../contracts/gandi';
import { startHetzner } from '../contracts/hetzner';
import { startRoute53 } from '../contracts/route53';
import { serviceAccount, startGcloud } from '../contracts/gcloud';
import { startAzure } from '../contracts/azure';
import { startPihole } from '../contracts/pihole';
import { startAdguard } from '../contracts/adguard';
import { startIonos } from '../contracts/ionos';
import { startLinode } from '../contracts/linode';
import { startVultr } from '../contracts/vultr';
import { startDnsimple } from '../contracts/dnsimple';
import { startPowerdns } from '../contracts/powerdns';
import { startCloudns } from '../contracts/cloudns';
import { startNjalla } from '../contracts/njalla';
import { startNamesilo } from '../contracts/namesilo';
import { startGodaddy } from '../contracts/godaddy';
import { startSpaceship } from '../contracts/spaceship';
import { startOvhApi } from '../contracts/ovhapi';
import { startNetcup } from '../contracts/netcup';
import { startInfomaniak } from '../contracts/infomaniak';
import { startAcmedns } from '../contracts/acmedns';

/** The behaviours every provider is checked for. */
export const BEHAVIOURS = [
  'update',
  'unchanged',
  'auth',
  'notOwned',
  'server-error',
  'rate-limit',
  'html',
  'huge',
  'timeout',
  'txt',
] as const;
export type Behaviour = (typeof BEHAVIOURS)[number];
/** Faults the contract server is told to produce for the next request. */
export type Fault = 'server-error' | 'rate-limit' | 'html' | 'huge' | 'hang';

export interface Rig {
  /** Settings of a working account (secrets included), as the editor would save them. */
  settings: Record<string, unknown>;
  /** The same account with a wrong secret. */
  badAuth: Record<string, unknown>;
  /** Every secret of the rig: none may appear in any text. */
  secrets: string[];
  /** A name the account owns. */
  hostname: string;
  /** A name the account does not own. */
  notOwned: string;
  /** The next request fails this way. */
  fault(f: Fault): void;
  /** Ends a fault that lasts (rate limit) once the check is done. */
  clearFaults?(): void;
  /** A name for TXT records and what the server now holds there (for `definition.txt`). */
  txtName?: string;
  txtValues?(name: string): Promise<string[]> | string[];
  /** The TXT value written (default: the suite's own); acme-dns stores only 43-character values. */
  txtValue?: string;
  close(): Promise<void>;
}

/** A behaviour that differs from the common expectation, and why (the provider's protocol). */
export interface Deviation {
  scope?: 'account' | 'host';
  reason: string;
}

export interface Harness {
  /** Provider id (registry). */
  id: string;
  /** Why the provider cannot be run here (e.g. no named installed), or false. */
  skip?: () => string | false;
  start(): Promise<Rig>;
  /** Behaviours that do not apply, each with its reason. */
  notApplicable?: Partial<Record<Behaviour, string>>;
  deviations?: Partial<Record<Behaviour, Deviation>>;
  /** Request timeout given to the provider (ms). */
  timeoutMs?: number;
}

const TOKEN = 'c0nformance-t0ken-c0nformance-t0ken-0001';
const OTHER = 'c0nformance-wr0ng-t0ken-c0nformance-002';
const HTML_PAGE =
  '<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>';

const dyndns2Harness = (id: string, flavour: Dyndns2Flavour, notApplicable?: Harness['notApplicable']): Harness => ({
  id,
  notApplicable: { txt: 'definition.txt is false: the dyndns2 protocol sets addresses only', ...notApplicable },
  async start() {
    const password = 'c0nformance-passw0rd';
    const srv = await startDyndns2({ flavour, users: { alice: password }, hosts: ['a.example.net'] });
    return {
      settings: { username: 'alice', password, endpoint: srv.url },
      badAuth: { username: 'alice', password: 'wrong-passw0rd', endpoint: srv.url },
      secrets: [password],
      hostname: 'a.example.net',
      notOwned: 'b.example.net',
      fault: (f) =>
        srv.answerNext(
          f === 'server-error'
            ? { status: 500, body: `Internal Server Error for alice:${password}` }
            : f === 'rate-limit'
              ? { status: 429, body: 'Too Many Requests', headers: { 'retry-after': '120' } }
              : f === 'html'
                ? { status: 502, body: HTML_PAGE, headers: { 'content-type': 'text/html' } }
                : f === 'huge'
                  ? { hugeBytes: 1 << 20 }
                  : { hang: true },
        ),
      close: () => srv.close(),
    };
  },
});

/**
 * A REST provider with TXT whose contract server owns example.com: the token (and any other
 * setting) of a working account, what makes it a bad one, how to read the TXT values.
 */
const restHarness = (
  id: string,
  start: () => Promise<{
    endpoint: string;
    failNext(f: Fault): void;
    close(): Promise<void>;
    txt(name: string): string[];
    settings?: Record<string, unknown>;
    badAuth: Record<string, unknown>;
    secret?: string;
  }>,
): Harness => ({
  id,
  async start() {
    const srv = await start();
    const settings = { token: TOKEN, endpoint: srv.endpoint, ...srv.settings };
    return {
      settings,
      badAuth: { ...settings, ...srv.badAuth },
      secrets: [TOKEN, OTHER, ...(srv.secret ? [srv.secret] : [])],
      hostname: 'h.example.com',
      notOwned: 'h.example.org',
      fault: (f) => srv.failNext(f),
      txtName: '_acme-challenge.example.com',
      txtValues: (name) => srv.txt(name),
      close: () => srv.close(),
    };
  },
});

/** A local (split-horizon) DNS server of the LAN: it holds any name it is given, and has no TXT records. */
const localHarness = (
  id: string,
  start: () => Promise<{
    srv: { failNext(f: Fault): void; close(): Promise<void> };
    settings: Record<string, unknown>;
    badAuth: Record<string, unknown>;
  }>,
): Harness => ({
  id,
  notApplicable: {
    notOwned: 'a local DNS server answers for any name it is given: there is no name it does not own',
    txt: 'definition.txt is false: local DNS records hold addresses only',
  },
  async start() {
    const { srv, settings, badAuth } = await start();
    return {
      settings,
      badAuth,
      secrets: [TOKEN, OTHER],
      hostname: 'nas.home.lan',
      notOwned: 'unused.example',
      fault: (f) => srv.failNext(f),
      close: () => srv.close(),
    };
  },
});

const NO_SERVER = 'the dry run sends nothing: there is no server to fail, no secret and no account';

export const HARNESSES: Harness[] = [
  {
    id: 'dryrun',
    async start() {
      return {
        settings: {},
        badAuth: {},
        secrets: [],
        hostname: 'home.example.com',
        notOwned: 'x.example.org',
        fault: () => assertNever(),
        close: async () => undefined,
      };
    },
    notApplicable: {
      auth: NO_SERVER,
      notOwned: 'the dry run owns every name',
      'server-error': NO_SERVER,
      'rate-limit': NO_SERVER,
      html: NO_SERVER,
      huge: NO_SERVER,
      timeout: NO_SERVER,
      txt: 'definition.txt is false',
    },
  },
  {
    id: 'duckdns',
    async start() {
      const duck = await startDuckDns({ token: TOKEN, domains: ['myhome'] });
      return {
        settings: { token: TOKEN, endpoint: duck.url },
        badAuth: { token: OTHER, endpoint: duck.url },
        secrets: [TOKEN, OTHER],
        hostname: 'myhome',
        notOwned: 'someoneelse.duckdns.org',
        fault: (f) => duck.failNext(f),
        txtName: '_acme-challenge.myhome.duckdns.org',
        txtValues: () => [duck.records.get('myhome')?.txt].filter((v): v is string => v !== undefined),
        close: () => duck.close(),
      };
    },
    deviations: {
      notOwned: {
        scope: 'account',
        reason:
          'DuckDNS answers KO both for a wrong token and for a name the account does not own: the provider cannot tell them apart',
      },
    },
  },
  {
    id: 'freedns',
    async start() {
      const fd = await startFreeDns({ tokens: { [TOKEN.replace(/-/g, '')]: 'home.mooo.com' } });
      const token = TOKEN.replace(/-/g, '');
      return {
        settings: { token, endpoint: fd.url, endpointIpv6: fd.urlIpv6 },
        badAuth: { token: OTHER.replace(/-/g, ''), endpoint: fd.url, endpointIpv6: fd.urlIpv6 },
        secrets: [token, OTHER.replace(/-/g, '')],
        hostname: 'home.mooo.com',
        notOwned: 'other.mooo.com',
        fault: (f) => fd.failNext(f),
        close: () => fd.close(),
      };
    },
    notApplicable: { txt: 'definition.txt is false (the FreeDNS update URL sets addresses only)' },
    deviations: {
      auth: {
        scope: 'host',
        reason:
          'FreeDNS has no account secret: each update token belongs to one record, so an unknown token stops that record only',
      },
    },
  },
  dyndns2Harness('dyndns2', 'generic'),
  dyndns2Harness('noip', 'noip'),
  dyndns2Harness('dynu', 'dynu'),
  dyndns2Harness('dyndns', 'dyn'),
  dyndns2Harness('he', 'he'),
  dyndns2Harness('strato', 'strato'),
  dyndns2Harness('allinkl', 'allinkl'),
  dyndns2Harness('selfhost', 'selfhost'),
  dyndns2Harness('dynv6', 'dynv6'),
  dyndns2Harness('zoneedit', 'zoneedit'),
  dyndns2Harness('changeip', 'changeip', {
    unchanged:
      'ChangeIP answers `200 Successful Update` whether the address changed or not; the engine sends no unchanged address',
  }),
  dyndns2Harness('loopia', 'generic'),
  dyndns2Harness('dnsomatic', 'generic'),
  dyndns2Harness('ydns', 'ydns'),
  dyndns2Harness('dnshome', 'dnshome'),
  dyndns2Harness('dode', 'dode'),
  dyndns2Harness('ipv64', 'ipv64'),
  dyndns2Harness('ovh-dynhost', 'generic'),
  {
    id: 'namecheap',
    async start() {
      const nc = await startNamecheap({ domain: 'example.net', password: TOKEN, hosts: ['a'] });
      return {
        settings: { domain: 'example.net', password: TOKEN, endpoint: nc.url },
        badAuth: { domain: 'example.net', password: OTHER, endpoint: nc.url },
        secrets: [TOKEN, OTHER],
        hostname: 'a.example.net',
        notOwned: 'b.example.net',
        fault: (f) => nc.failNext(f),
        close: () => nc.close(),
      };
    },
    notApplicable: {
      unchanged:
        'Namecheap answers ErrCount 0 whether the address changed or not; the engine sends no unchanged address',
      txt: 'definition.txt is false: the dynamic DNS page sets A records only',
    },
  },
  {
    id: 'cloudflare',
    async start() {
      const cf = await startCloudflare({ token: TOKEN, zones: ['example.com'] });
      return {
        settings: { token: TOKEN, endpoint: cf.url },
        badAuth: { token: OTHER, endpoint: cf.url },
        secrets: [TOKEN, OTHER],
        hostname: 'h.example.com',
        notOwned: 'h.example.org',
        fault: (f) => {
          if (f === 'rate-limit') cf.rateLimit({ retryAfter: 120 });
          else cf.failNext(f === 'hang' ? 'slow' : f);
        },
        clearFaults: () => cf.rateLimit(false),
        txtName: '_acme-challenge.example.com',
        txtValues: (name) => cf.find(name, 'TXT').map((r) => r.content.replace(/^"|"$/g, '')),
        close: () => cf.close(),
      };
    },
  },
  restHarness('porkbun', async () => {
    const secret = 'sk1_c0nformance-secret-key';
    const pb = await startPorkbun({ apikey: TOKEN, secret, domains: { 'example.com': {} } });
    const txt = (name: string) => pb.find(name, 'TXT').map((r) => r.content);
    return { ...pb, endpoint: pb.url, txt, settings: { password: secret }, badAuth: { password: OTHER }, secret };
  }),
  restHarness('desec', async () => {
    const d = await startDesec({ token: TOKEN, domains: { 'example.com': { minimumTtl: 60 } } });
    const txt = () => (d.find('example.com', '_acme-challenge', 'TXT')?.records ?? []).map((v) => v.slice(1, -1));
    return { ...d, endpoint: `${d.url}/api/v1`, txt, badAuth: { token: OTHER } };
  }),
  restHarness('digitalocean', async () => {
    const dig = await startDigitalocean({ token: TOKEN, domains: { 'example.com': [] } });
    const txt = (name: string) => dig.find(name, 'TXT').map((r) => r.data);
    return { ...dig, endpoint: `${dig.url}/v2`, txt, badAuth: { token: OTHER } };
  }),
  restHarness('gandi', async () => {
    const g = await startGandi({ token: TOKEN, domains: { 'example.com': [] } });
    const txt = () => (g.find('example.com', '_acme-challenge', 'TXT')?.rrset_values ?? []).map((v) => v.slice(1, -1));
    return { ...g, endpoint: `${g.url}/v5/livedns`, txt, badAuth: { token: OTHER } };
  }),
  restHarness('hetzner', async () => {
    const h = await startHetzner({ token: TOKEN, zones: { 'example.com': [] } });
    const txt = () => (h.find('example.com', '_acme-challenge', 'TXT')?.records ?? []).map((r) => r.value.slice(1, -1));
    return { ...h, endpoint: `${h.url}/v1`, txt, badAuth: { token: OTHER } };
  }),
  restHarness('route53', async () => {
    const secret = 'wJalrXUtnFEMI/K7MDENG+c0nformanceSECRET';
    const r = await startRoute53({ accessKeyId: 'AKIACONFORMANCE00001', secret, zones: { 'example.com': [] } });
    const txt = (name: string) => (r.find(name, 'TXT')?.values ?? []).map((v) => v.slice(1, -1));
    const settings = { accessKeyId: 'AKIACONFORMANCE00001', password: secret };
    return { ...r, endpoint: r.url, txt, settings, badAuth: { password: OTHER }, secret };
  }),
  restHarness('gcloud', async () => {
    const sa = serviceAccount('conformance');
    const g = await startGcloud({ ...sa, project: 'conformance-project', zones: { 'example.com': [] } });
    const txt = (name: string) => (g.find(name, 'TXT')?.rrdatas ?? []).map((v) => v.slice(1, -1));
    const settings = { password: sa.json, endpoint: `${g.url}/dns/v1`, tokenEndpoint: `${g.url}/token` };
    const other = serviceAccount('conformance', 'other');
    return { ...g, endpoint: settings.endpoint, txt, settings, badAuth: { password: other.json }, secret: sa.json };
  }),
  restHarness('azure', async () => {
    const ids = { tenant: '11111111-2222-3333-4444-555555555555', clientId: '66666666-7777-8888-9999-000000000000' };
    const subscriptionId = 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee';
    const a = await startAzure({
      ...ids,
      secret: TOKEN,
      subscription: subscriptionId,
      group: 'dns-rg',
      zones: { 'example.com': [] },
    });
    const txt = () => a.find('example.com', '_acme-challenge', 'TXT')?.values ?? [];
    const settings = { ...ids, password: TOKEN, subscriptionId, resourceGroup: 'dns-rg', authorityHost: a.url };
    return { ...a, endpoint: a.url, txt, settings, badAuth: { password: OTHER } };
  }),
  restHarness('ionos', async () => {
    const key = `c0nformance.${TOKEN}`;
    const i = await startIonos({ key, zones: { 'example.com': [] } });
    const txt = (name: string) => i.find(name, 'TXT').map((r) => r.content.slice(1, -1));
    const bad = { password: `c0nformance.${OTHER}` };
    return { ...i, endpoint: `${i.url}/dns/v1`, txt, settings: { password: key }, badAuth: bad, secret: key };
  }),
  restHarness('godaddy', async () => {
    const g = await startGodaddy({ key: 'c0nformance-key', secret: TOKEN, domains: { 'example.com': [] } });
    const txt = () => g.find('example.com', '_acme-challenge', 'TXT').map((r) => r.data);
    const settings = { apiKey: 'c0nformance-key', password: TOKEN };
    return { ...g, endpoint: `${g.url}/v1`, txt, settings, badAuth: { password: OTHER } };
  }),
  restHarness('spaceship', async () => {
    const sp = await startSpaceship({ key: 'c0nformance-key', secret: TOKEN, domains: { 'example.com': [] } });
    const txt = () => sp.find('example.com', '_acme-challenge', 'TXT').map((r) => r.value ?? '');
    const settings = { apiKey: 'c0nformance-key', password: TOKEN };
    return { ...sp, endpoint: `${sp.url}/api/v1`, txt, settings, badAuth: { password: OTHER } };
  }),
  restHarness('ovhapi', async () => {
    const secret = 'c0nformance-app-SECRET-0003';
    const keys = { applicationKey: 'c0nformance-ak', secret, consumerKey: TOKEN };
    const o = await startOvhApi({ ...keys, zones: { 'example.com': [] }, skewSeconds: 600 });
    const txt = () => o.published('example.com', '_acme-challenge', 'TXT').map((r) => r.target);
    const settings = { applicationKey: keys.applicationKey, password: secret };
    return { ...o, endpoint: `${o.url}/1.0`, txt, settings, badAuth: { password: OTHER }, secret };
  }),
  restHarness('netcup', async () => {
    const password = 'c0nformance-api-PASSW0RD-0004';
    const n = await startNetcup({
      customerNumber: '12345',
      apiKey: TOKEN,
      apiPassword: password,
      domains: { 'example.com': [] },
    });
    const txt = () => n.find('example.com', '_acme-challenge', 'TXT').map((r) => r.destination);
    const settings = { customerNumber: '12345', password, domain: 'example.com' };
    const endpoint = `${n.url}/run/webservice/servers/endpoint.php?JSON`;
    return { ...n, endpoint, txt, settings, badAuth: { password: OTHER }, secret: password };
  }),
  localHarness('pihole', async () => {
    const p = await startPihole({ password: TOKEN });
    return { srv: p, settings: { endpoint: p.url, password: TOKEN }, badAuth: { endpoint: p.url, password: OTHER } };
  }),
  localHarness('adguard', async () => {
    const a = await startAdguard({ username: 'admin', password: TOKEN });
    const settings = { endpoint: a.url, username: 'admin', password: TOKEN };
    return { srv: a, settings, badAuth: { ...settings, password: OTHER } };
  }),
  restHarness('linode', async () => {
    const lin = await startLinode({ token: TOKEN, domains: { 'example.com': [] } });
    const txt = (name: string) => lin.find(name, 'TXT').map((r) => r.target);
    return { ...lin, endpoint: `${lin.url}/v4`, txt, badAuth: { token: OTHER } };
  }),
  restHarness('infomaniak', async () => {
    const ik = await startInfomaniak({ token: TOKEN, domains: { 'example.com': [] } });
    const txt = (name: string) => ik.find(name, 'TXT').map((r) => r.target);
    return { ...ik, endpoint: ik.url, txt, badAuth: { token: OTHER } };
  }),
  restHarness('vultr', async () => {
    const v = await startVultr({ token: TOKEN, domains: { 'example.com': [] } });
    const txt = (name: string) => v.find(name, 'TXT').map((r) => r.data.slice(1, -1));
    return { ...v, endpoint: `${v.url}/v2`, txt, badAuth: { token: OTHER } };
  }),
  restHarness('dnsimple', async () => {
    const d = await startDnsimple({ token: TOKEN, account: 1010, domains: { 'example.com': [] } });
    const txt = (name: string) => d.find(name, 'TXT').map((r) => r.content);
    return { ...d, endpoint: `${d.url}/v2`, txt, badAuth: { token: OTHER } };
  }),
  restHarness('powerdns', async () => {
    const p = await startPowerdns({ apiKey: TOKEN, zones: { 'example.com': [] } });
    const txt = (name: string) => (p.find(name, 'TXT')?.records ?? []).map((r) => r.content.slice(1, -1));
    return { ...p, endpoint: p.url, txt, badAuth: { token: OTHER } };
  }),
  restHarness('cloudns', async () => {
    const c = await startCloudns({ authId: '1234', password: TOKEN, zones: { 'example.com': [] } });
    const txt = (name: string) => c.find(name, 'TXT').map((r) => r.record);
    const settings = { username: '1234', password: TOKEN };
    return { ...c, endpoint: c.url, txt, settings, badAuth: { password: OTHER } };
  }),
  restHarness('njalla', async () => {
    const n = await startNjalla({ token: TOKEN, domains: { 'example.com': [] } });
    const txt = (name: string) => n.find(name, 'TXT').map((r) => r.content);
    return { ...n, endpoint: `${n.url}/api/1/`, txt, badAuth: { token: OTHER } };
  }),
  restHarness('namesilo', async () => {
    const n = await startNamesilo({ key: TOKEN, domains: { 'example.com': [] } });
    const txt = (name: string) => n.find(name, 'TXT').map((r) => r.value);
    return { ...n, endpoint: `${n.url}/api`, txt, badAuth: { token: OTHER } };
  }),
  {
    id: 'rfc2136',
    skip: skipWithoutBind,
    timeoutMs: 1500,
    async start() {
      const bind = await startBind([{ name: 'home.test' }]);
      const key = bind.keys.sha256;
      // A UDP port that receives and never answers: the request must time out.
      const silent = dgram.createSocket('udp4');
      await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', resolve));
      let hang = false;
      const base = { keyName: key.name, algorithm: key.algorithm, zone: 'home.test' };
      const server = () => (hang ? `127.0.0.1:${silent.address().port}` : `127.0.0.1:${bind.port}`);
      const rig: Rig = {
        get settings() {
          return { ...base, server: server(), tsigSecret: key.secret };
        },
        get badAuth() {
          return {
            ...base,
            server: server(),
            tsigSecret: Buffer.from('not-the-key-not-the-key-not-the!').toString('base64'),
          };
        },
        secrets: [key.secret, bind.keys.sha512.secret],
        hostname: 'h.home.test',
        notOwned: 'h.elsewhere.test',
        fault: (f) => {
          if (f !== 'hang') throw new Error(`rfc2136 has no HTTP fault ${f}`);
          hang = true;
        },
        clearFaults: () => {
          hang = false;
        },
        txtName: '_acme-challenge.home.test',
        txtValues: (name) => bind.dig(name, 'TXT').map((v) => v.replace(/^"|"$/g, '')),
        close: async () => {
          silent.close();
          await bind.stop();
        },
      };
      return rig;
    },
    notApplicable: {
      'server-error': 'DNS UPDATE over UDP/TCP, no HTTP: server failures are rcodes, tested in rfc2136.test.ts',
      'rate-limit': 'DNS UPDATE has no rate-limit answer',
      html: 'DNS UPDATE answers are DNS messages, never HTML',
      huge: 'DNS answers are bounded by the message size (checked by the wire code in dns/*.test.ts)',
    },
  },
  {
    // TXT only (definition.txtOnly): the auth and fault behaviours are run through setTxt.
    id: 'acmedns',
    async start() {
      const srv = await startAcmedns({ domain: 'auth.example.net' });
      const u = srv.register();
      const settings = { endpoint: srv.url, apiUser: u.username, password: u.password, fulldomain: u.fulldomain };
      return {
        settings,
        badAuth: { ...settings, password: 'wr0ng-key-wr0ng-key-wr0ng-key-wr0ng-key0' },
        secrets: [u.password, u.username],
        hostname: u.fulldomain,
        notOwned: 'h.example.org',
        fault: (f) => srv.failNext(f),
        txtName: u.fulldomain,
        txtValue: 'c0nformance-challenge-value-0123456789abcde',
        txtValues: (name) => srv.txt(name),
        close: () => srv.close(),
      };
    },
    notApplicable: {
      update: 'acme-dns holds TXT records only (txtOnly): it cannot set addresses (refusal tested in acmedns.test.ts)',
      unchanged: 'acme-dns holds TXT records only (txtOnly): there is no address to leave unchanged',
      notOwned: 'an acme-dns account writes exactly one name, refused before any request for another (acmedns.test.ts)',
    },
    deviations: {
      txt: {
        reason: 'acme-dns has no delete: a value stays until two later updates push it out (README, rolling update)',
      },
    },
  },
];

function assertNever(): never {
  throw new Error('no fault for this provider');
}
