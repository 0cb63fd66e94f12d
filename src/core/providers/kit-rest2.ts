/**
 * Kit pieces for REST APIs that keep one record per value, each with its id (Linode, Vultr,
 * DNSimple …): `RecordsById` is the whole DnsProvider once a provider says how to read one name's
 * records of one type and how to create, edit and delete one of them.
 *
 * - Addresses: `convergeRecords` (read first; nothing is sent when the name already holds just the
 *   address; a record is edited rather than replaced, so that its TTL and other fields stay).
 * - TXT (ACME DNS-01): its own value is created once and deleted by id; the other values stay.
 */
import type { Family } from '../address';
import { convergedResult, convergeRecords, eachRecord, type JsonResponse, recordType } from './kit';
import type { DnsProvider, ProviderCall, RecordResult } from './types';

/** A TokenApi `said` that reads the API's words from one string field of its error JSON (`error`, `message`). */
export const saidField =
  (key: string) =>
  (json: unknown): string | undefined => {
    const v = typeof json === 'object' && json !== null ? (json as Record<string, unknown>)[key] : undefined;
    return typeof v === 'string' ? v : undefined;
  };

/** One name's records of one type, and how to change them (each call sends one request). */
export interface RecordSet<R> {
  records: readonly R[];
  /** A new record holding `value` (the TTL is the provider's choice for the type). */
  create(value: string): Promise<unknown>;
  /** Record `r` now holds `value`; nothing else of it changes. */
  edit(r: R, value: string): Promise<unknown>;
  remove(r: R): Promise<unknown>;
}

export abstract class RecordsById<R> implements DnsProvider {
  abstract readonly id: string;
  readonly maxHostsPerCall: number = 10;
  /** The provider's name in result messages. */
  protected abstract readonly label: string;

  /** The value of a record as the user reads it (a TXT value without its quotes). */
  protected abstract content(r: R): string;

  /** The records of `type` of `name` (fatal, host scope, when the name is in none of the account's domains). */
  protected abstract lookup(name: string, type: 'A' | 'AAAA' | 'TXT', signal?: AbortSignal): Promise<RecordSet<R>>;

  setAddresses(call: ProviderCall): Promise<RecordResult[]> {
    return eachRecord(call, async ({ hostname, family, address }) => {
      const set = await this.lookup(hostname, recordType(family), call.signal);
      const c = await convergeRecords(set.records, address, {
        content: (r) => this.content(r),
        create: () => set.create(address),
        edit: (r) => set.edit(r, address),
        remove: (r) => set.remove(r),
      });
      return convergedResult(this.label, hostname, family, address, c);
    });
  }

  async getAddresses(hostname: string, family: Family, signal?: AbortSignal): Promise<string[]> {
    return (await this.lookup(hostname, recordType(family), signal)).records.map((r) => this.content(r));
  }

  async setTxt(name: string, value: string, signal?: AbortSignal): Promise<void> {
    const set = await this.lookup(name, 'TXT', signal);
    if (!set.records.some((r) => this.content(r) === value)) await set.create(value);
  }

  async deleteTxt(name: string, value: string, signal?: AbortSignal): Promise<void> {
    const set = await this.lookup(name, 'TXT', signal);
    for (const r of set.records.filter((x) => this.content(x) === value)) await set.remove(r);
  }
}

/** The TTL of a record the provider creates: short for an ACME TXT value, the account's for addresses. */
export const createTtl = (type: string, account: number, txt = 60): number => (type === 'TXT' ? txt : account);

/**
 * The wait after a 429 whose answer names the end of the window in epoch seconds in `header`
 * (DNSimple's `X-RateLimit-Reset`, DigitalOcean's `ratelimit-reset`), or `fallbackMs` without it.
 */
export const epochResetWait =
  (header: string, fallbackMs = 60_000) =>
  (res: JsonResponse): number => {
    const reset = Number(res.headers[header]);
    return Number.isFinite(reset) && reset > 0 ? Math.max(0, reset * 1000 - Date.now()) : fallbackMs;
  };

/** A TTL rounded up to the next of the values a provider accepts (`steps` ascending; the last when above all). */
export const roundUpTtl = (steps: readonly number[], ttl: number): number =>
  steps.find((t) => t >= ttl) ?? steps[steps.length - 1];
