/**
 * Hetzner DNS through the Hetzner Cloud API (https://docs.hetzner.cloud/reference/cloud#zones,
 * RRsets: https://docs.hetzner.cloud/reference/cloud#zone-rrsets, actions:
 * https://docs.hetzner.cloud/reference/cloud#zone-actions). The old dns.hetzner.com API is not
 * used: it was shut down in 2026, and a zone moved to the Console cannot be reached through it.
 *
 * - `Authorization: Bearer <project API token>` (read & write) on `https://api.hetzner.cloud/v1`.
 * - The zone of a name: the project's zones (`GET /zones`, every page, read once), the longest that
 *   ends the name.
 * - Read first: `GET /zones/{zone}/rrsets/{name}/{type}` (404 when there is none; the apex is `@`).
 * - Writes are asynchronous actions: `POST …/rrsets/{name}/{type}/actions/set_records` replaces the
 *   records and keeps the RRset's TTL (the record's comment is carried over); `POST /zones/{zone}/rrsets`
 *   creates an RRset with the account's TTL; TXT uses `add_records` / `remove_records`, which add or
 *   remove only the values sent (the RRset is created or deleted with its first or last value).
 *   Every write answers an action `{id, status: running|success|error, error}`, polled at
 *   `GET /zones/actions/{id}` until it ends: a record is only "updated" (and a DNS-01 value only
 *   "set") once Hetzner reports success. An action still running after two minutes is a transient
 *   failure (the next attempt reads what Hetzner holds by then).
 * - Errors are `{"error": {"code", "message", "details"}}`: `unauthorized` (401), `forbidden` (403, a
 *   read-only token), `not_found` (404), `incorrect_zone_mode` (422, a secondary zone), `locked`
 *   / `conflict` (another action on the zone); limit 3600 requests per hour per project, 429 with
 *   `RateLimit-Reset` (epoch seconds).
 * - TXT values are quoted strings; Hetzner's name servers publish within a minute of success.
 */
import { z } from 'zod';
import { setTimeout as sleep } from 'node:timers/promises';
import { say, transient } from '../errors';
import type { Family } from '../address';
import {
  accountZoneApi,
  bearerTokenSetting,
  checkSettings,
  type DomainList,
  eachRecord,
  holdOnly,
  type JsonResponse,
  quoteTxt,
  rateLimitResetWait,
  recordType,
  type TokenApi,
  unquoteTxt,
  zoneFields,
  zoneSettingsShape,
} from './kit';
import type { DnsProvider, ProviderCall, ProviderDefinition, ProviderEnv, RecordResult } from './types';
import { phrase } from '../said';

export const HETZNER_ENDPOINT = 'https://api.hetzner.cloud/v1';
/** How long a write waits for its action to end, and the pauses between polls. */
export const ACTION_WAIT_MS = 120_000;
const POLL_MS = [250, 500, 1_000, 2_000, 3_000, 5_000];
const TOKEN_HINT = say(
  'hetzner.hint',
  'create an API token with Read & Write permission in the Hetzner Console project that holds the zone (Security › API tokens)',
);

export const hetznerSettings = z.object({
  token: bearerTokenSetting(phrase('hetzner.enter_hetzner_cloud_api', 'Enter the Hetzner Cloud API token.')),
  ...zoneSettingsShape('Hetzner', { min: 60, max: 2_147_483_647, def: 300 }),
});
export type HetznerSettings = z.infer<typeof hetznerSettings>;

const RRset = z.object({
  rrset: z.object({
    ttl: z.number().nullish(),
    records: z.array(z.object({ value: z.string(), comment: z.string().nullish() })),
  }),
});
type RRset = z.infer<typeof RRset>['rrset'];
const Action = z.object({
  id: z.number(),
  status: z.string(),
  error: z.object({ code: z.string(), message: z.string() }).nullish(),
});
const Zones = z.object({
  zones: z.array(z.object({ name: z.string() })),
  meta: z.object({ pagination: z.object({ next_page: z.number().nullish() }) }).optional(),
});

class HetznerProvider implements DnsProvider {
  readonly id = 'hetzner';
  readonly maxHostsPerCall = 10;
  private readonly api: TokenApi;
  private readonly zones: DomainList;

  constructor(
    private readonly s: HetznerSettings,
    env: ProviderEnv,
  ) {
    ({ api: this.api, domains: this.zones } = accountZoneApi(s, env, {
      name: 'Hetzner',
      code: 'hetzner',
      endpoint: HETZNER_ENDPOINT,
      tokenHint: TOKEN_HINT,
      forbiddenScope: 'account',
      said: (json) => {
        const e = z.object({ error: z.object({ code: z.string(), message: z.string() }) }).safeParse(json);
        return e.success ? `${e.data.error.code}: ${e.data.error.message}` : undefined;
      },
      rateLimitWaitMs: (res) => rateLimitResetWait(res, 60_000),
      domains: {
        account: say('hetzner.any_zone', 'any zone of this Hetzner project'),
        hint: say(
          'hetzner.check_project',
          'check the name, and that the token is the one of the project holding the zone',
        ),
        read: (signal) => this.projectZones(signal),
      },
    }));
  }

  setAddresses(call: ProviderCall): Promise<RecordResult[]> {
    return eachRecord(call, async ({ hostname, family, address }) => {
      const type = recordType(family);
      const { zone, sub, path, set } = await this.read(hostname, type, call.signal);
      const o = { subject: hostname, signal: call.signal };
      const held = set?.records.map((r) => r.value) ?? [];
      return holdOnly({
        provider: 'Hetzner',
        hostname,
        family,
        address,
        held,
        write: async () => {
          if (set) {
            const comment = set.records[0]?.comment;
            const body = { records: [{ value: address, ...(comment ? { comment } : {}) }] };
            await this.act(
              await this.api.call('POST', `${path}/actions/set_records`, { ...o, body }),
              hostname,
              call.signal,
            );
          } else {
            const body = { name: sub || '@', type, ttl: this.s.ttl, records: [{ value: address }] };
            await this.act(await this.api.call('POST', `/zones/${zone}/rrsets`, { ...o, body }), hostname, call.signal);
          }
          return set ? 'updated' : 'created';
        },
      });
    });
  }

  async getAddresses(hostname: string, family: Family, signal?: AbortSignal): Promise<string[]> {
    return ((await this.read(hostname, recordType(family), signal)).set?.records ?? []).map((r) => r.value);
  }

  async setTxt(name: string, value: string, signal?: AbortSignal): Promise<void> {
    const { path, set } = await this.read(name, 'TXT', signal);
    if (set?.records.some((r) => unquoteTxt(r.value) === value)) return;
    const body = { ...(set ? {} : { ttl: this.s.ttl }), records: [{ value: quoteTxt(value) }] };
    await this.act(
      await this.api.call('POST', `${path}/actions/add_records`, { body, subject: name, signal }),
      name,
      signal,
    );
  }

  async deleteTxt(name: string, value: string, signal?: AbortSignal): Promise<void> {
    const { path, set } = await this.read(name, 'TXT', signal);
    const mine = set?.records.filter((r) => unquoteTxt(r.value) === value) ?? [];
    if (mine.length === 0) return;
    const body = { records: mine.map((r) => ({ value: r.value })) };
    await this.act(
      await this.api.call('POST', `${path}/actions/remove_records`, { body, subject: name, signal }),
      name,
      signal,
    );
  }

  /** The RRset of one type of a name (undefined when there is none), its zone and API path. */
  private async read(
    name: string,
    type: string,
    signal?: AbortSignal,
  ): Promise<{ zone: string; sub: string; path: string; set?: RRset }> {
    const { domain: zone, sub } = await this.zones.require(name, signal);
    const path = `/zones/${zone}/rrsets/${encodeURIComponent(sub || '@')}/${type}`;
    const res = await this.api.call('GET', path, { subject: name, signal, missingIsAnswer: true });
    return { zone, sub, path, set: res.status === 404 ? undefined : this.api.parse(RRset, res).rrset };
  }

  /** Wait for the action of a write to end: resolves on success, throws on error or when it runs too long. */
  private async act(res: JsonResponse, name: string, signal?: AbortSignal): Promise<void> {
    let action = this.api.parse(z.object({ action: Action }), res).action;
    const started = Date.now();
    for (let i = 0; action.status === 'running'; i++) {
      if (Date.now() - started > ACTION_WAIT_MS) {
        throw transient(
          say(
            'hetzner.action_running',
            'Hetzner accepted the change of __name__ but its action __id__ is still running after __s__ s',
            { name, id: action.id, s: ACTION_WAIT_MS / 1000 },
          ),
          { code: 'hetzner_action_running', retryAfterMs: 60_000 },
        );
      }
      await sleep(POLL_MS[Math.min(i, POLL_MS.length - 1)], undefined, { signal });
      const poll = await this.api.call('GET', `/zones/actions/${action.id}`, { subject: name, signal });
      action = this.api.parse(z.object({ action: Action }), poll).action;
    }
    if (action.status === 'success') return;
    const why = action.error
      ? say('hetzner.action_failed', 'Hetzner could not apply the change of __name__ (action __id__, __said__)', {
          name,
          id: action.id,
          said: `${action.error.code}: ${action.error.message}`,
        })
      : say(
          'hetzner.action_status',
          'Hetzner could not apply the change of __name__ (action __id__, status __status__)',
          {
            name,
            id: action.id,
            status: action.status,
          },
        );
    throw this.api.redactor.error(
      transient(why, {
        code: action.error ? `hetzner_${action.error.code}` : 'hetzner_action_failed',
      }),
    );
  }

  /** The project's zones, every page. */
  private async projectZones(signal?: AbortSignal): Promise<string[]> {
    const found: string[] = [];
    for (let page = 1; page <= 20; page++) {
      const res = await this.api.call('GET', `/zones?per_page=50&page=${page}`, { subject: 'the zone list', signal });
      const list = this.api.parse(Zones, res);
      found.push(...list.zones.map((z) => z.name));
      if (!list.meta?.pagination.next_page) break;
    }
    return found;
  }
}

export const definition: ProviderDefinition<typeof hetznerSettings> = {
  id: 'hetzner',
  label: 'Hetzner DNS (Cloud API)',
  settings: hetznerSettings,
  fields: [
    {
      key: 'token',
      label: 'API token',
      kind: 'password',
      required: true,
      help: 'A Read & Write API token of the Hetzner Console project that holds the zone (Security › API tokens). Zones still on dns.hetzner.com must be moved to the Console first.',
    },
    ...zoneFields({
      provider: 'Hetzner',
      foundFrom: 'the project\u2019s zones',
      label: 'Zone',
      ttl: { min: 60, def: 300 },
      endpoint: HETZNER_ENDPOINT,
    }),
  ],
  txt: true,
  group: 'cloud',
  docsUrl: 'https://docs.hetzner.com/cloud/api/getting-started/generating-api-token/',
  create: (settings, env) => new HetznerProvider(checkSettings(hetznerSettings, 'Hetzner', settings), env),
};
