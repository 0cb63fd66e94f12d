/**
 * deSEC (dedyn.io names and own domains), through its REST API
 * (https://desec.readthedocs.io/en/latest/dns/rrsets.html, domains:
 * https://desec.readthedocs.io/en/latest/dns/domains.html, limits:
 * https://desec.readthedocs.io/en/latest/rate-limits.html).
 *
 * - `Authorization: Token <token>` on `https://desec.io/api/v1`.
 * - The domain of a name: `GET /domains/?owns_qname=<name>` (one cheap read, remembered); an empty
 *   list means the account does not own the name.
 * - Read first: `GET /domains/{d}/rrsets/?subname=<sub>` gives every RRset of the name in one read;
 *   nothing is written when the name already holds the address (deSEC's terms: "only send update
 *   requests when there is something to update").
 * - Write: one bulk `PATCH /domains/{d}/rrsets/` carries A and AAAA together (one write of the
 *   domain's budget). An RRset that exists is sent without `ttl` (its TTL stays the user's); a new
 *   one gets the domain's `minimum_ttl`. `records: []` deletes an RRset (TXT clean-up).
 * - Addresses go through the REST API, not the dynDNS endpoint (update.dedyn.io): the dynDNS
 *   endpoint sets the TTL to 60 s on every update, which would undo the user's TTL, and it only
 *   allows one update per minute per domain.
 * - Limits: RRset writes per domain 2/s, 15/min, 100/h, 300/day; reads 10/s, 50/min; 429 with
 *   `Retry-After`. Writes of this process are counted per domain and a write that would exceed a
 *   window waits (up to 2 s here, longer through the engine: a transient error with the wait).
 * - TXT (ACME DNS-01): values are quoted strings; set adds its value to the RRset, delete removes
 *   only its own value. deSEC publishes within seconds on its anycast name servers.
 */
import { z } from 'zod';
import { setTimeout as sleep } from 'node:timers/promises';
import { say, transient, type DdnsError } from '../errors';
import type { Family } from '../address';
import {
  accountApi,
  apiEndpoint,
  checkSettings,
  editTxtValues,
  failed,
  hasAlready,
  quoteTxt,
  records,
  recordType,
  relativeName,
  said,
  sameAddress,
  type TokenApi,
  tokenScheme,
  unquoteTxt,
  zoneCandidates,
} from './kit';
import { ledger } from './ledger';
import type { DnsProvider, ProviderCall, ProviderDefinition, ProviderEnv, RecordResult } from './types';
import { phrase } from '../said';

export const DESEC_ENDPOINT = 'https://desec.io/api/v1';
/** deSEC's RRset write limits per domain (dns_api_per_domain_expensive): [window ms, writes]. */
export const DESEC_WRITE_LIMITS: ReadonlyArray<readonly [number, number]> = [
  [1_000, 2],
  [60_000, 15],
  [3_600_000, 100],
  [86_400_000, 300],
];
const TOKEN = tokenScheme('Token');
const TOKEN_HINT = say(
  'desec.hint',
  'check the token at desec.io (Token management); a token with a policy must allow writing this name',
);

export const desecSettings = z.object({
  token: TOKEN.setting(phrase('desec.enter_desec_api_token', 'Enter the deSEC API token.')),
  endpoint: apiEndpoint(),
});
export type DesecSettings = z.infer<typeof desecSettings>;

const Domain = z.object({ name: z.string(), minimum_ttl: z.number().optional() });
const RRset = z.object({
  subname: z.string(),
  type: z.string(),
  ttl: z.number().optional(),
  records: z.array(z.string()),
});
type RRset = z.infer<typeof RRset>;

/** How long until one more write fits every window, given the times of the past writes. */
export function writeWait(past: readonly number[], now: number): number {
  let wait = 0;
  for (const [win, max] of DESEC_WRITE_LIMITS) {
    const inWindow = past.filter((t) => t > now - win).sort((a, b) => a - b);
    if (inWindow.length >= max) wait = Math.max(wait, inWindow[inWindow.length - max] + win - now);
  }
  return wait;
}

interface Change {
  subname: string;
  type: string;
  records: string[];
  ttl?: number;
}

class DesecProvider implements DnsProvider {
  readonly id = 'desec';
  readonly maxHostsPerCall = 1;
  private readonly api: TokenApi;
  private readonly domains = new Map<string, z.infer<typeof Domain>>();

  constructor(
    private readonly s: DesecSettings,
    env: ProviderEnv,
  ) {
    this.api = accountApi(s, env, {
      name: 'deSEC',
      code: 'desec',
      endpoint: DESEC_ENDPOINT,
      authorization: TOKEN.authorization,
      tokenHint: TOKEN_HINT,
      forbiddenScope: 'host',
      said: (json) => {
        if (json === undefined) return undefined;
        const d = (json as { detail?: unknown }).detail;
        return typeof d === 'string' ? d : JSON.stringify(json).slice(0, 200);
      },
      rateLimitCode: 'desec_throttled',
      onFailure: (res) => res.status === 404 && this.domains.clear(),
    });
  }

  async setAddresses(call: ProviderCall): Promise<RecordResult[]> {
    const results: RecordResult[] = [];
    for (const hostname of call.hostnames) {
      const wanted = [...records({ hostnames: [hostname], addresses: call.addresses })];
      if (wanted.length === 0) continue;
      try {
        const { domain, sub } = await this.locate(hostname, call.signal);
        const sets = await this.rrsets(domain.name, sub, undefined, hostname, call.signal);
        const changes: Change[] = [];
        for (const { family, address } of wanted) {
          const type = recordType(family);
          const now = sets.find((r) => r.type === type);
          if (now?.records.length === 1 && sameAddress(now.records[0], address)) continue;
          changes.push({ subname: sub, type, records: [address], ...(now ? {} : { ttl: domain.minimum_ttl ?? 3600 }) });
        }
        if (changes.length) await this.patch(domain.name, changes, hostname, call.signal);
        const together = changes.length === 2 ? say('desec.together', ' (A and AAAA in one request)') : '';
        for (const { family, address } of wanted) {
          const type = recordType(family);
          const v = { provider: 'deSEC', type, address, host: hostname };
          results.push(
            changes.some((c) => c.type === type)
              ? said(
                  hostname,
                  family,
                  'updated',
                  say('desec.set', 'deSEC set __type__ __host__ to __address____together__', { ...v, together }),
                )
              : said(hostname, family, 'unchanged', hasAlready(v)),
          );
        }
      } catch (e) {
        const err = e as DdnsError;
        if (err.kind !== 'fatal' || err.scope !== 'host') throw err;
        for (const { family } of wanted) results.push(failed(hostname, family, err));
      }
    }
    return results;
  }

  async getAddresses(hostname: string, family: Family, signal?: AbortSignal): Promise<string[]> {
    const { domain, sub } = await this.locate(hostname, signal);
    const [set] = await this.rrsets(domain.name, sub, recordType(family), hostname, signal);
    return set?.records ?? [];
  }

  async setTxt(name: string, value: string, signal?: AbortSignal): Promise<void> {
    await this.changeTxt(name, value, 'add', signal);
  }

  async deleteTxt(name: string, value: string, signal?: AbortSignal): Promise<void> {
    await this.changeTxt(name, value, 'remove', signal);
  }

  private async changeTxt(name: string, value: string, op: 'add' | 'remove', signal?: AbortSignal): Promise<void> {
    const { domain, sub } = await this.locate(name, signal);
    const [set] = await this.rrsets(domain.name, sub, 'TXT', name, signal);
    const after = editTxtValues((set?.records ?? []).map(unquoteTxt), value, op);
    if (!after) return;
    const change: Change = { subname: sub, type: 'TXT', records: after.map(quoteTxt) };
    if (!set) change.ttl = domain.minimum_ttl ?? 3600;
    await this.patch(domain.name, [change], name, signal);
  }

  /** The deSEC domain that holds a name, and the name relative to it. */
  private async locate(name: string, signal?: AbortSignal): Promise<{ domain: z.infer<typeof Domain>; sub: string }> {
    const host = name.toLowerCase().replace(/\.$/, '');
    let domain = zoneCandidates(host)
      .map((c) => this.domains.get(c))
      .find((d) => d !== undefined);
    if (!domain) {
      const q = `/domains/?owns_qname=${encodeURIComponent(host)}`;
      domain = this.api.parse(z.array(Domain), await this.api.call('GET', q, { subject: host, signal }))[0];
      if (!domain)
        throw this.api.notOwned(
          host,
          say('desec.any_domain', 'any domain of this deSEC account'),
          say('desec.check_token', "check the name, and that the token is this account's"),
        );
      this.domains.set(domain.name, domain);
    }
    return { domain, sub: relativeName(host, domain.name) ?? '' };
  }

  private async rrsets(
    domain: string,
    sub: string,
    type: string | undefined,
    name: string,
    signal?: AbortSignal,
  ): Promise<RRset[]> {
    const q = new URLSearchParams({ subname: sub });
    if (type) q.set('type', type);
    const res = await this.api.call('GET', `/domains/${domain}/rrsets/?${q.toString()}`, { subject: name, signal });
    return this.api.parse(z.array(RRset), res).filter((r) => r.subname === sub && (!type || r.type === type));
  }

  /**
   * One bulk write, within deSEC's per-domain write budget. A write is counted from when its
   * answer came back: deSEC counts it when it arrives, which is never later, so the next write
   * can never reach deSEC inside a window that still holds it.
   */
  private async patch(domain: string, changes: Change[], name: string, signal?: AbortSignal): Promise<void> {
    // Writes per domain, shared by every instance of this process and kept across restarts (ledger.ts).
    const key = `desec\u0000${this.s.token}\u0000${domain}`;
    let wait = writeWait(ledger.history(key), Date.now());
    // A short wait (the per-second limit) is slept here. A timer may fire a millisecond before
    // Date.now() shows the full wait, so look again (a few times at most: other writes may come first).
    for (let i = 0; i < 3 && wait > 0 && wait <= 2_000; i++) {
      await sleep(wait + 1, undefined, { signal });
      wait = writeWait(ledger.history(key), Date.now());
    }
    if (wait > 0) {
      throw transient(
        say(
          'desec.write_budget',
          'deSEC allows 2 record changes per second, 15 per minute, 100 per hour and 300 per day for each domain: the change of __name__ waits __s__ s',
          { name, s: Math.ceil(wait / 1000) },
        ),
        { code: 'desec_write_budget', scope: 'host', retryAfterMs: wait },
      );
    }
    const write = ledger.record(key);
    try {
      await this.api.call('PATCH', `/domains/${domain}/rrsets/`, { body: changes, subject: name, signal });
    } finally {
      write.done();
    }
  }
}

export const definition: ProviderDefinition<typeof desecSettings> = {
  id: 'desec',
  label: 'deSEC (dedyn.io)',
  settings: desecSettings,
  fields: [
    {
      key: 'token',
      label: 'API token',
      kind: 'password',
      required: true,
      help: 'A token from desec.io › Token management (the one of your dedyn.io sign-up works). A token policy may restrict it to the names this account updates.',
    },
    {
      key: 'endpoint',
      label: 'API address',
      kind: 'url',
      placeholder: DESEC_ENDPOINT,
      advanced: true,
      help: 'Leave empty for deSEC itself; change only for testing.',
    },
  ],
  txt: true,
  group: 'ddns',
  docsUrl: 'https://desec.readthedocs.io/en/latest/auth/tokens.html',
  create: (settings, env) => new DesecProvider(checkSettings(desecSettings, 'deSEC', settings), env),
};
