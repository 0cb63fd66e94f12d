/**
 * What the contract servers of record-per-value REST APIs share (Linode, Vultr, DNSimple): the
 * records kept per domain (names relative to it, `""` for the apex), finding them by full name, a
 * request's JSON body and the check of an address value. Each server keeps its own paths, answer
 * shapes and error words.
 */
import { isIP } from 'node:net';
import type { RecordedRequest } from '../http-server';
import type { ContractFailure } from './duckdns';

/** A record-per-value contract server as the tests see it. */
export interface RecordsContract<R> {
  url: string;
  requests: RecordedRequest[];
  /** Records by domain name. */
  records: Map<string, R[]>;
  /** The records of a full name and type. */
  find(fqdn: string, type: string): R[];
  failNext(f: ContractFailure, times?: number): void;
  close(): Promise<void>;
}

/** The records of each domain, each completed by `fill`, and how to find them by full name. */
export function recordStore<R extends { type: string; name: string }, G>(
  domains: Record<string, G[]>,
  fill: (given: G) => R,
): Pick<RecordsContract<R>, 'records' | 'find'> {
  const records = new Map<string, R[]>();
  for (const [d, list] of Object.entries(domains)) records.set(d, list.map(fill));
  const fq = (d: string, name: string) => (name === '' ? d : `${name}.${d}`);
  return {
    records,
    find: (fqdn, type) =>
      [...records.entries()].flatMap(([d, list]) => list.filter((r) => r.type === type && fq(d, r.name) === fqdn)),
  };
}

/** The request's JSON body (`{}` when there is none), or undefined when it is not JSON. */
export function jsonBody<T>(req: RecordedRequest): Partial<T> | undefined {
  if (!req.body) return {};
  try {
    return JSON.parse(req.body) as Partial<T>;
  } catch {
    return undefined;
  }
}

/** Whether `value` cannot be the content of a record of `type` (A and AAAA checked). */
export const badAddress = (type: string | undefined, value: string | undefined): boolean =>
  (type === 'A' && isIP(value ?? '') !== 4) || (type === 'AAAA' && isIP(value ?? '') !== 6);
