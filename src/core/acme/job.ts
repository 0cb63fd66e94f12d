/**
 * cert-renew's configuration turned into what the renewal loop needs, free of Node-RED: the
 * certificate job (CA, key, where the files go), the DNS servers lists, the wait until the
 * authoritative servers give the TXT record.
 */
import { join } from 'node:path';
import { DdnsError, say } from '../errors';
import { describePropagation, waitForPropagation, type PropagationServer } from '../dns/propagation';
import { parseServer, type DnsServer } from '../dns/transport';
import type { CertificateJob, KeyType, ManagerDeps } from './manager';
import { CA_PRESETS, type CaPreset } from './names';

/** The configuration fields the job is made of ('' = not set). */
export interface CertJobSettings {
  ca: CaPreset | 'custom';
  directoryUrl: string;
  email: string;
  eabKid: string;
  caCert: string;
  keyType: KeyType;
  pinKey: boolean;
  renewDays?: number;
  profile: string;
  outDir: string;
  /** Write certificate.p12 too (its password: the node's credentials). */
  pkcs12?: boolean;
  /** Write combined.pem too (full chain + key). */
  combinedPem?: boolean;
}

/**
 * The job for `names` (validated). Files go to `outDir`, or `<userDir>/certificates/<first name>`
 * (a wildcard as `_wildcard.`); account keys to `<userDir>/ddns-acme`.
 */
export function certificateJob(
  cfg: CertJobSettings,
  names: string[],
  eabKey: string | undefined,
  userDir: string,
  pkcs12Password?: string,
): CertificateJob {
  return {
    names,
    directoryUrl: cfg.ca === 'custom' ? cfg.directoryUrl : CA_PRESETS[cfg.ca].url,
    email: cfg.email || undefined,
    eab: cfg.eabKid && eabKey ? { kid: cfg.eabKid, hmacKey: eabKey } : undefined,
    caPem: cfg.caCert || undefined,
    keyType: cfg.keyType,
    pinKey: cfg.pinKey,
    renewDaysBefore: cfg.renewDays,
    profile: cfg.profile || undefined,
    outDir: cfg.outDir || join(userDir, 'certificates', names[0].replace(/^\*\./, '_wildcard.')),
    accountDir: join(userDir, 'ddns-acme'),
    ...(cfg.pkcs12 && pkcs12Password ? { pkcs12Password } : {}),
    ...(cfg.combinedPem ? { combinedPem: true } : {}),
  };
}

/** Servers separated by spaces or commas; '' = undefined (the default). Throws on a bad server. */
export function serverListText(text: string): DnsServer[] | undefined {
  return text
    ? text
        .split(/[\s,]+/)
        .filter(Boolean)
        .map((s) => parseServer(s))
    : undefined;
}

/** Above this wait the authoritative servers are asked every 15 s instead of every 2 s. */
const LONG_WAIT_MS = 600_000;

/**
 * How long to wait for the TXT value at the authoritative servers: the node's own wait, or the
 * provider's documented propagation time when that is longer (`raisedBy`: the provider's note).
 */
export function txtWait(
  ownSeconds: number,
  provider?: { maxMs: number; note: string },
): { timeoutMs: number; intervalMs: number; raisedBy?: string } {
  const own = ownSeconds * 1000;
  const timeoutMs = Math.max(own, provider?.maxMs ?? 0);
  return {
    timeoutMs,
    intervalMs: timeoutMs > LONG_WAIT_MS ? 15_000 : 2_000,
    ...(timeoutMs > own && provider ? { raisedBy: provider.note } : {}),
  };
}

/** The manager's waitVisible: until every authoritative server gives the TXT value, or a transient error. */
export function txtWaiter(o: {
  servers?: DnsServer[];
  discovery?: DnsServer[];
  timeoutMs: number;
  intervalMs?: number;
  onRound?: (perServer: PropagationServer[]) => void;
}): ManagerDeps['waitVisible'] {
  return async (name, value, signal) => {
    const r = await waitForPropagation({
      name,
      type: 'TXT',
      expected: [value],
      servers: o.servers,
      discovery: o.discovery,
      timeoutMs: o.timeoutMs,
      intervalMs: o.intervalMs ?? 2000,
      signal,
      onRound: o.onRound,
    });
    if (!r.ok)
      throw new DdnsError(
        'transient',
        say('acme.txt_not_visible', 'the TXT record is not visible at the authoritative servers: __detail__', {
          detail: describePropagation(r, name),
        }),
        { code: 'txt_not_visible' },
      );
  };
}
