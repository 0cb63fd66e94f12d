/**
 * A DNS-PERSIST-01 CA for tests: the fault proxy (acme-fault-proxy.ts) in front of a Pebble that
 * runs with PEBBLE_VA_ALWAYS_VALID=1, since Debian's Pebble 2.4 has no dns-persist-01. The shim
 * does what draft-ietf-acme-dns-persist says a CA does, and Pebble only keeps the books:
 * - the directory gets `meta.issuerDomainNames` (-02 §3.2; left out in `draft01` mode) and, in
 *   `draft02` mode, `meta.accountHashPrefix` (-02 §4.1);
 * - every authorization offers a `dns-persist-01` challenge (§3.1: with `issuerDomainNames`)
 *   instead of Pebble's dns-01 one (same URL), and nothing else;
 * - the POST that asks for validation is checked here by reading the real BIND (dig): a TXT record
 *   at `_validation-persist.<name>` naming the issuer and this account (-01: the account URL;
 *   -02: the hashed URI, computed here on its own from the account's JWK as RFC 7638 says), with
 *   `policy=wildcard` for a wildcard, `persistUntil` not past. Only then is the POST forwarded to
 *   Pebble (which marks it valid); otherwise the challenge and its authorization answer `invalid`.
 */
import { createHash } from 'node:crypto';
import type { BindServer } from './bind';
import { startFaultProxy, type FaultProxy, type ProxiedAnswer, type ProxiedRequest } from './acme-fault-proxy';

export const SHIM_ISSUER = 'persist.pebble.test';

export interface PersistShim {
  proxy: FaultProxy;
  /** The challenge POSTs the shim judged, with its verdict. */
  validations: Array<{ name: string; ok: boolean; why: string }>;
  /** The account URLs seen (newAccount answers). */
  accounts: Map<string, Record<string, string>>;
}

type Json = Record<string, unknown>;
const json = (b: Buffer): Json | null => {
  try {
    return JSON.parse(b.toString('utf8')) as Json;
  } catch {
    return null;
  }
};
const answer = (status: number, body: unknown, headers: ProxiedAnswer['headers'] = {}): ProxiedAnswer => ({
  status,
  headers: { ...headers, 'content-type': 'application/json' },
  body: Buffer.from(JSON.stringify(body)),
});
const jws = (req: ProxiedRequest) => {
  const b = json(req.body) as { protected?: string; payload?: string } | null;
  const prot = b?.protected ? (JSON.parse(Buffer.from(b.protected, 'base64url').toString('utf8')) as Json) : {};
  return { prot, payload: b?.payload ?? '' };
};

/** RFC 7638: the required members in lexicographic order, no spaces. */
function thumbprint(jwk: Record<string, string>): string {
  const members = jwk.kty === 'EC' ? ['crv', 'kty', 'x', 'y'] : ['e', 'kty', 'n'];
  const canonical = `{${members.map((m) => `"${m}":"${jwk[m]}"`).join(',')}}`;
  return createHash('sha256').update(canonical).digest('base64url');
}

export async function startPersistShim(
  pebble: { directoryUrl: string; caPem: string },
  bind: BindServer,
  mode: 'draft01' | 'draft02',
): Promise<PersistShim> {
  const challenges = new Map<string, { name: string; wildcard: boolean; authz: string }>(); // path → identifier
  const failed = new Map<string, string>(); // authz or challenge path → why
  const shim: PersistShim = {
    proxy: null as unknown as FaultProxy,
    validations: [],
    accounts: new Map(),
  };
  let origin = '';
  const prefix = () => `${origin}/account-hash/`;
  const pathOf = (url: string) => new URL(url).pathname;

  const judge = (name: string, wildcard: boolean, accountUrl: string): { ok: boolean; why: string } => {
    const jwk = shim.accounts.get(accountUrl);
    if (!jwk) return { ok: false, why: 'unknown account' };
    const uriFor = (domain: string) => {
      const d = Buffer.from(domain);
      const digest = createHash('sha256')
        .update(Buffer.concat([Buffer.from([d.length]), d, Buffer.from(thumbprint(jwk)), Buffer.from(accountUrl)]))
        .digest('base64url');
      return `${prefix()}sha-256/${digest}`;
    };
    const accepted = mode === 'draft01' ? [accountUrl] : [uriFor(name), uriFor('*')];
    const records = bind
      .dig(`_validation-persist.${name}`, 'TXT')
      .map((l) => l.replace(/^"|"$/g, '').replace(/" "/g, ''));
    for (const r of records) {
      const [issuer, ...params] = r.split(';').map((p) => p.trim());
      if (issuer.toLowerCase() !== SHIM_ISSUER) continue;
      const kv = Object.fromEntries(params.map((p) => p.split('=').map((x) => x.trim()) as [string, string]));
      if (!accepted.includes(kv.accounturi)) continue;
      if (kv.persistUntil && Number(kv.persistUntil) * 1000 < Date.now()) continue;
      if (wildcard && kv.policy?.toLowerCase() !== 'wildcard') continue;
      return { ok: true, why: r };
    }
    return {
      ok: false,
      why: `no matching _validation-persist record for ${name} (found: ${records.join(' | ') || 'none'})`,
    };
  };

  /** An authorization (or challenge) as the client must see it: dns-persist-01 only. */
  const rewriteAuthz = (path: string, a: Json): Json => {
    const wildcard = a.wildcard === true;
    const name = (a.identifier as { value: string }).value;
    const chs = (a.challenges as Json[]).filter((c) => c.type === 'dns-01');
    const out = chs.map((c) => {
      const p = pathOf(c.url as string);
      challenges.set(p, { name, wildcard, authz: path });
      const why = failed.get(p);
      return {
        type: 'dns-persist-01',
        url: c.url,
        status: why ? 'invalid' : c.status,
        issuerDomainNames: [SHIM_ISSUER],
        ...(why ? { error: { type: 'urn:ietf:params:acme:error:unauthorized', detail: why } } : {}),
      };
    });
    const why = failed.get(path);
    return { ...a, ...(why ? { status: 'invalid' } : {}), challenges: out };
  };

  shim.proxy = await startFaultProxy(pebble, {
    before: async (req) => {
      const path = new URL(req.path, 'https://x').pathname;
      if (req.method !== 'POST' || !path.startsWith('/chalZ/')) return null;
      const c = challenges.get(path);
      const { prot, payload } = jws(req);
      if (!c || !payload) return null; // a poll: Pebble answers, rewritten below
      const v = judge(c.name, c.wildcard, String(prot.kid));
      shim.validations.push({ name: c.name, ...v });
      if (v.ok) return null; // Pebble (always valid) marks it valid
      failed.set(path, v.why);
      failed.set(c.authz, v.why);
      return answer(200, {
        type: 'dns-persist-01',
        url: `${origin}${path}`,
        status: 'invalid',
        issuerDomainNames: [SHIM_ISSUER],
        error: { type: 'urn:ietf:params:acme:error:unauthorized', detail: v.why },
      });
    },
    after: async (req, up) => {
      const path = new URL(req.path, 'https://x').pathname;
      const body = json(up.body);
      if (!body) return up;
      const headers = { ...up.headers };
      delete headers['content-length'];
      if (path.endsWith('/dir')) {
        origin = new URL(String(body.newNonce)).origin;
        const meta: Json = { ...(body.meta as Json) };
        if (mode === 'draft02') {
          meta.issuerDomainNames = [SHIM_ISSUER];
          meta.accountHashPrefix = prefix();
        }
        return answer(up.status, { ...body, meta }, headers);
      }
      if (path.startsWith('/sign-me-up') && typeof up.headers.location === 'string') {
        const jwk = jws(req).prot.jwk as Record<string, string> | undefined;
        if (jwk) shim.accounts.set(up.headers.location, jwk);
        return up;
      }
      if (path.startsWith('/authZ/')) return answer(up.status, rewriteAuthz(path, body), headers);
      if (path.startsWith('/chalZ/') && body.type === 'dns-01') {
        const why = failed.get(path);
        return answer(
          up.status,
          {
            ...body,
            type: 'dns-persist-01',
            token: undefined,
            issuerDomainNames: [SHIM_ISSUER],
            ...(why ? { status: 'invalid' } : {}),
          },
          headers,
        );
      }
      return up;
    },
  });
  return shim;
}
