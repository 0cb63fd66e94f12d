/**
 * Figure 6: certificates. Time from the order to the certificate files written, against the same
 * Pebble (validating DNS-01 for real against named) and the same named:
 *
 * - this package: ensureCertificate (src/core/acme/manager.ts) with the rfc2136 provider and the
 *   propagation wait of the cert-renew node (waitForPropagation against the zone's server, a
 *   round every 2 s), a fresh ACME account as on a first run;
 * - certbot with its RFC 2136 plugin and --dns-rfc2136-propagation-seconds 1, a fresh account
 *   (--register-unsafely-without-email), trusting Pebble's CA through REQUESTS_CA_BUNDLE: the main
 *   comparison (issue 17), certbot as quick as it gets here (the one server Pebble asks has the
 *   record at once; a wait that short can fail against real secondaries);
 * - certbot again with its default propagation wait (60 s), what a user gets without tuning.
 * Each is timed from the start of the call or process to its end, and the files are checked.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureCertificate } from '../src/core/acme/manager';
import { waitForPropagation } from '../src/core/dns/propagation';
import type { DnsServer } from '../src/core/dns/transport';
import type { TsigKey } from '../src/core/dns/tsig';
import { definition as rfc2136 } from '../src/core/providers/rfc2136';
import type { PebbleServer } from '../test/support/pebble';
import { launch, log, now, tempDir } from './util';

export interface CertRow {
  client: string;
  wait: string;
  ms: number | null;
  note?: string;
}

export interface CertContext {
  named: DnsServer;
  key: TsigKey;
  zone: string;
  pebble: PebbleServer;
}

export async function certOurs(c: CertContext): Promise<CertRow> {
  const dir = tempDir('cert-ours');
  const name = `cert-ours.${c.zone}`;
  const provider = rfc2136.create(
    rfc2136.settings.parse({
      server: `${c.named.host}:${c.named.port}`,
      keyName: c.key.name,
      algorithm: c.key.algorithm,
      tsigSecret: c.key.secret,
      ttl: 60,
    }),
    {},
  );
  const waitVisible = async (n: string, value: string, signal?: AbortSignal) => {
    const r = await waitForPropagation({
      name: n,
      type: 'TXT',
      expected: [value],
      servers: [c.named],
      timeoutMs: 120_000,
      intervalMs: 2000,
      signal,
    });
    if (!r.ok) throw new Error(`TXT ${n} not visible`);
  };
  const t0 = now();
  try {
    const r = await ensureCertificate(
      {
        names: [name],
        directoryUrl: c.pebble.directoryUrl,
        caPem: c.pebble.caPem,
        keyType: 'ecdsa-p256',
        outDir: join(dir, 'live'),
        accountDir: join(dir, 'accounts'),
      },
      { provider, waitVisible },
    );
    const ms = now() - t0;
    const ok = Object.values(r.paths).every((p) => existsSync(p));
    return {
      client: 'node-red-contrib-ddns',
      wait: 'until named answers the TXT record (checked every 2 s)',
      ms: ok ? ms : null,
      note: ok ? undefined : 'files missing',
    };
  } catch (e) {
    return {
      client: 'node-red-contrib-ddns',
      wait: 'until named answers the TXT record (checked every 2 s)',
      ms: null,
      note: (e as Error).message,
    };
  } finally {
    await provider.close?.();
  }
}

export async function certCertbot(c: CertContext, propagationSeconds?: number): Promise<CertRow> {
  const dir = tempDir('certbot');
  const name = `cert-certbot${propagationSeconds === undefined ? '' : `-${propagationSeconds}`}.${c.zone}`;
  const ini = join(dir, 'rfc2136.ini');
  writeFileSync(
    ini,
    [
      `dns_rfc2136_server = ${c.named.host}`,
      `dns_rfc2136_port = ${c.named.port}`,
      `dns_rfc2136_name = ${c.key.name}`,
      `dns_rfc2136_secret = ${c.key.secret}`,
      `dns_rfc2136_algorithm = ${c.key.algorithm.toUpperCase()}`,
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  const args = [
    'certonly',
    '--non-interactive',
    '--agree-tos',
    '--register-unsafely-without-email',
    '--server',
    c.pebble.directoryUrl,
    '--config-dir',
    join(dir, 'config'),
    '--work-dir',
    join(dir, 'work'),
    '--logs-dir',
    join(dir, 'logs'),
    '--authenticator',
    'dns-rfc2136',
    '--dns-rfc2136-credentials',
    ini,
    '-d',
    name,
  ];
  if (propagationSeconds !== undefined) args.push('--dns-rfc2136-propagation-seconds', String(propagationSeconds));
  const wait =
    propagationSeconds === undefined ? 'fixed 60 s (default)' : `fixed ${propagationSeconds} s (not the default)`;
  const t0 = now();
  const proc = launch('certbot', 'certbot', args, { env: { ...process.env, REQUESTS_CA_BUNDLE: c.pebble.caFile } });
  const limit = setTimeout(() => void proc.stop(), 5 * 60_000);
  const code = await proc.exited;
  const ms = now() - t0;
  clearTimeout(limit);
  await proc.stop();
  const files = ['cert.pem', 'chain.pem', 'fullchain.pem', 'privkey.pem'].map((f) =>
    join(dir, 'config', 'live', name, f),
  );
  const ok = code === 0 && files.every((f) => existsSync(f));
  if (!ok) log(`certbot failed (exit ${code}):\n${proc.output().slice(-2000)}`);
  return { client: 'certbot + dns-rfc2136', wait, ms: ok ? ms : null, note: ok ? undefined : `exit ${code}` };
}

export async function measureCerts(c: CertContext, withCertbot: boolean): Promise<CertRow[]> {
  const rows: CertRow[] = [];
  rows.push(await certOurs(c));
  log(
    `certificates: this package ${rows[rows.length - 1].ms === null ? 'failed' : `${Math.round(rows[rows.length - 1].ms!)} ms`}`,
  );
  if (!withCertbot) return rows;
  rows.push(await certCertbot(c, 1));
  log(
    `certificates: certbot (1 s wait) ${rows[rows.length - 1].ms === null ? 'failed' : `${Math.round(rows[rows.length - 1].ms!)} ms`}`,
  );
  rows.push(await certCertbot(c));
  log(
    `certificates: certbot (default wait) ${rows[rows.length - 1].ms === null ? 'failed' : `${Math.round(rows[rows.length - 1].ms!)} ms`}`,
  );
  return rows;
}
