/**
 * A local FreeDNS (afraid.org) dynamic update interface v2: follows
 * https://freedns.afraid.org/dynamic/v2/ (the token update URL on sync.afraid.org for IPv4 and
 * v6.sync.afraid.org for IPv6, and its plain-text answers), keeps each token's record, records
 * every request, and can be told to misbehave for the next requests.
 *
 *   const fd = await startFreeDns({ tokens: { TOKENA4aaaaaaaaaa: 'home.mooo.com' } });
 *   // provider endpoint = fd.url, IPv6 endpoint = fd.urlIpv6
 *   fd.failNext('unknown-record'); fd.failNext('hang');
 *   await fd.close();
 *
 * Behaviour reproduced:
 * - `GET /u/<token>/[?address=<ip>]` on either endpoint; the token names one record, the
 *   hostname is not sent. Without `address`, the request's source address is used.
 * - IPv4 endpoint → the record becomes an A record; IPv6 endpoint → an AAAA record (the v2 page's
 *   own example moves one record from an IPv4 to an IPv6 address with the same token).
 * - `Updated <host> from <old> to <new>` / `No IP change detected for <host> with IP <ip>, skipping
 *   update` / `ERROR: Unable to locate this record` for an unknown token (HTTP 200 in all cases).
 * - The other wordings FreeDNS is seen to use, chosen with `forms` (answerForms below): the
 *   update.php interface's `Updated <n> host(s) <host> to <ip> in <t> seconds` and `ERROR: Address
 *   <ip> has not changed.` (as update clients' own FreeDNS test servers reproduce them), and
 *   `Updated <host> to <ip> in <t> seconds` (seen from sync.afraid.org, issue 12).
 * Not documented, chosen here: an address of the wrong family or an invalid one gets
 * `ERROR: Address <x> is not a valid IPv4|IPv6 address` (HTTP 200); other paths get a 404 page.
 */
import http from 'node:http';
import net from 'node:net';
import { startServer, text, type RecordedRequest } from '../http-server';
import { FailureQueue, type ContractFailure } from './duckdns';

export interface FreeDnsRecord {
  hostname: string;
  type: 'A' | 'AAAA';
  address: string;
}

/** FreeDNS's own failure besides the generic ones: the token is not (or no longer) known. */
export type FreeDnsFailure = ContractFailure | 'unknown-record';

/** How the server words a change and a no-op (see the header); default the v2 page's forms. */
export interface FreeDnsForms {
  updated: 'from-to' | 'to-in-seconds' | 'hosts-to-in-seconds';
  unchanged: 'no-change-detected' | 'has-not-changed';
}

/** Every answer form, worded for `host` (changed from `old` to `ip`, or left at `ip`). */
export const answerForms = {
  updated: {
    'from-to': (host: string, old: string, ip: string) => `Updated ${host} from ${old} to ${ip}`,
    'to-in-seconds': (host: string, _old: string, ip: string) => `Updated ${host} to ${ip} in 0.1 seconds`,
    'hosts-to-in-seconds': (host: string, _old: string, ip: string) =>
      `Updated 1 host(s) ${host} to ${ip} in 0.178 seconds`,
  },
  unchanged: {
    'no-change-detected': (host: string, ip: string) =>
      `No IP change detected for ${host} with IP ${ip}, skipping update`,
    'has-not-changed': (_host: string, ip: string) => `ERROR: Address ${ip} has not changed.`,
  },
} as const;

export interface FreeDnsContractOptions {
  /** token → hostname (an A record holding 0.0.0.0), or the full initial record. */
  tokens: Record<string, string | (Partial<FreeDnsRecord> & { hostname: string })>;
  /** Listen address of both endpoints, default 127.0.0.1. */
  host?: string;
  forms?: Partial<FreeDnsForms>;
}

export interface FreeDnsRequest extends RecordedRequest {
  /** Which endpoint received it. */
  endpoint: 'ipv4' | 'ipv6';
}

export interface FreeDnsContract {
  /** IPv4 endpoint base URL (stands for https://sync.afraid.org). */
  url: string;
  /** IPv6 endpoint base URL (stands for https://v6.sync.afraid.org). */
  urlIpv6: string;
  /** Every request to either endpoint, in order (including failed ones). */
  requests: FreeDnsRequest[];
  /** token → record. Tests may read and change it. */
  records: Map<string, FreeDnsRecord>;
  /** Make the next `times` requests (default 1, either endpoint) fail this way. */
  failNext(failure: FreeDnsFailure, times?: number): void;
  /** How the answers are worded from now on (tests may change it). */
  forms: FreeDnsForms;
  close(): Promise<void>;
}

const UNKNOWN = 'ERROR: Unable to locate this record';

export async function startFreeDns(opts: FreeDnsContractOptions): Promise<FreeDnsContract> {
  const records = new Map<string, FreeDnsRecord>();
  for (const [token, r] of Object.entries(opts.tokens)) {
    records.set(
      token,
      typeof r === 'string'
        ? { hostname: r, type: 'A', address: '0.0.0.0' }
        : { type: 'A', address: r.type === 'AAAA' ? '::' : '0.0.0.0', ...r },
    );
  }
  const requests: FreeDnsRequest[] = [];
  const failures = new FailureQueue<FreeDnsFailure>();
  const forms: FreeDnsForms = { updated: 'from-to', unchanged: 'no-change-detected', ...opts.forms };

  const answer = (req: RecordedRequest, res: http.ServerResponse, endpoint: 'ipv4' | 'ipv6') => {
    const m = /^\/u\/([^/]+)\/?$/.exec(req.path);
    if (!m) {
      res.writeHead(404, { 'content-type': 'text/html' });
      return void res.end('<html><head><title>404 Not Found</title></head><body>Not Found</body></html>');
    }
    const record = records.get(decodeURIComponent(m[1]));
    if (!record) return text(res, UNKNOWN);
    const given = req.query.get('address');
    const address = given ?? req.remoteAddress.replace(/^::ffff:/, '');
    const ok = endpoint === 'ipv4' ? net.isIPv4(address) : net.isIPv6(address);
    if (!ok)
      return text(res, `ERROR: Address ${address} is not a valid ${endpoint === 'ipv4' ? 'IPv4' : 'IPv6'} address`);
    const type = endpoint === 'ipv4' ? 'A' : 'AAAA';
    const normal = type === 'AAAA' ? address.toLowerCase() : address;
    if (record.type === type && record.address === normal) {
      return text(res, answerForms.unchanged[forms.unchanged](record.hostname, normal));
    }
    const old = record.address;
    record.type = type;
    record.address = normal;
    text(res, answerForms.updated[forms.updated](record.hostname, old, normal));
  };

  const handler = (endpoint: 'ipv4' | 'ipv6') => (req: RecordedRequest, res: http.ServerResponse) => {
    requests.push({ ...req, endpoint });
    const f = failures.take();
    if (f === undefined) return answer(req, res, endpoint);
    if (f === 'unknown-record') return text(res, UNKNOWN);
    if (!failures.apply(f, res, () => answer(req, res, endpoint))) answer(req, res, endpoint);
  };

  const host = opts.host ?? '127.0.0.1';
  const v4 = await startServer(handler('ipv4'), host);
  const v6 = await startServer(handler('ipv6'), host);
  return {
    url: v4.url,
    urlIpv6: v6.url,
    requests,
    records,
    forms,
    failNext: (f, times = 1) => failures.push(f, times),
    close: async () => {
      failures.clear();
      await Promise.all([v4.close(), v6.close()]);
    },
  };
}
