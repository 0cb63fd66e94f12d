/**
 * A directory shim in front of Pebble, for what Debian's Pebble 2.4 does not do: ACME Renewal
 * Information (RFC 9773 §4: `renewalInfo` in the directory, GET <renewalInfo>/<certID> answering
 * `{ suggestedWindow: { start, end } }` with Retry-After), profiles (`meta.profiles`, as in
 * draft-aaron-acme-profiles), and a CA that answers newOrder with a rate-limit error (RFC 8555
 * §6.6: 429, `urn:ietf:params:acme:error:rateLimited`, Retry-After).
 * Only the directory is rewritten; every signed request still goes to Pebble itself (JWS binds
 * the URL), except newOrder when the rate limit is switched on.
 */
import https from 'node:https';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { makeTlsCa } from './pebble';

export interface ShimOptions {
  pebbleDirectoryUrl: string;
  pebbleCaPem: string;
  /** Serve ARI with this window (per certID, or for all). */
  ariWindow?: () => { start: Date; end: Date } | null;
  profiles?: Record<string, string>;
  rateLimitNewOrder?: { retryAfterSeconds: number } | null;
}

export interface Shim {
  directoryUrl: string;
  caPem: string; // a bundle trusting both the shim and Pebble
  ariRequests: string[];
  newOrderRequests: number;
  /** The JWS payloads of the newOrder requests the shim received (rate-limit mode). */
  newOrderPayloads: Array<Record<string, unknown>>;
  options: ShimOptions;
  close(): Promise<void>;
}

export async function startShim(options: ShimOptions): Promise<Shim> {
  const dir = mkdtempSync(join(tmpdir(), 'ddns-shim-'));
  const tls = makeTlsCa(dir);
  const shim: Shim = {
    directoryUrl: '',
    caPem: `${readFileSync(tls.caFile, 'utf8')}\n${options.pebbleCaPem}`,
    ariRequests: [],
    newOrderRequests: 0,
    newOrderPayloads: [],
    options,
    close: async () => undefined,
  };
  const fetchPebbleDir = () =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      https
        .get(options.pebbleDirectoryUrl, { ca: options.pebbleCaPem }, (res) => {
          let b = '';
          res.on('data', (c) => (b += c));
          res.on('end', () => resolve(JSON.parse(b)));
        })
        .on('error', reject);
    });
  const server = https.createServer(
    { cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) },
    async (req, res) => {
      const base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
      if (req.url === '/dir') {
        const d = await fetchPebbleDir();
        if (options.ariWindow) d.renewalInfo = `${base}/renewal-info`;
        if (options.profiles) d.meta = { ...(d.meta as object), profiles: options.profiles };
        if (options.rateLimitNewOrder) d.newOrder = `${base}/new-order`;
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end(JSON.stringify(d));
      }
      if (req.url?.startsWith('/renewal-info/')) {
        shim.ariRequests.push(req.url.slice('/renewal-info/'.length));
        const w = options.ariWindow?.();
        if (!w) {
          res.writeHead(404);
          return res.end();
        }
        res.writeHead(200, { 'content-type': 'application/json', 'retry-after': '21600' });
        return res.end(JSON.stringify({ suggestedWindow: { start: w.start.toISOString(), end: w.end.toISOString() } }));
      }
      if (req.url === '/new-order') {
        shim.newOrderRequests++;
        const body = await new Promise<string>((r) => {
          let b = '';
          req.on('data', (c) => (b += c));
          req.on('end', () => r(b));
        });
        try {
          shim.newOrderPayloads.push(JSON.parse(Buffer.from(JSON.parse(body).payload, 'base64url').toString('utf8')));
        } catch {
          /* not a JWS: recorded as a request only */
        }
        res.writeHead(429, {
          'content-type': 'application/problem+json',
          'retry-after': String(options.rateLimitNewOrder?.retryAfterSeconds ?? 3600),
        });
        return res.end(
          JSON.stringify({
            type: 'urn:ietf:params:acme:error:rateLimited',
            detail: 'too many certificates already issued for this exact set of identifiers',
            status: 429,
          }),
        );
      }
      res.writeHead(404);
      res.end();
    },
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  shim.directoryUrl = `https://127.0.0.1:${(server.address() as AddressInfo).port}/dir`;
  shim.close = () =>
    new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => {
        rmSync(dir, { recursive: true, force: true });
        r();
      });
    });
  return shim;
}
