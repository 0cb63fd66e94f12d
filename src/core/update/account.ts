/**
 * What every user of a provider account relies on, free of Node-RED: the shape of an account
 * (implemented by the ddns-account config node), its identity key, and the provider list the
 * account editor shows.
 *
 * How a node uses an account (dns-update, cert-renew):
 *   const account = RED.nodes.getNode(config.account) as DdnsAccount | null;
 *   if (!account || account.configError) → red status, error (the text is safe to show);
 *   const provider = account.getProvider();            // the same instance for every user
 *   every text shown → account.redactor.text(text).
 * The account stop is part of that provider: while `account.gate` is stopped it sends nothing and
 * throws an `AccountStoppedError` (fatal), and a fatal account-scope answer stops the gate.
 */
import { createHash, scryptSync } from 'node:crypto';
import { classify } from '../address';
import { allProviders } from '../providers/registry';
import { SECRET_KEYS, type ProviderDefinition } from '../providers/types';
import type { DnsProvider } from '../providers/types';
import type { Redactor } from '../redact';
import type { AccountGate } from './gate';

/** A provider account as its users see it (the ddns-account node). */
export interface DdnsAccount {
  readonly id: string;
  /** The provider id chosen (`duckdns`, `cloudflare`, `rfc2136`, `dryrun` …). */
  readonly providerId: string;
  /** The account's name, or the provider's label. */
  readonly label: string;
  /** Identity of provider + settings + secrets (secrets only through a slow salted hash). */
  readonly accountKey: string;
  /** The provider's registry entry (`definition.txt`: it can manage TXT records). */
  readonly definition?: ProviderDefinition;
  /** Why the settings are invalid (safe to show), or undefined. */
  readonly configError?: string;
  /**
   * Set when the account sends a secret over plain http:// (plainHttpSecret): the account logs
   * `message` once when it starts; each node using it shows `status` (yellow) when it starts.
   */
  readonly plainHttp?: PlainHttpSecret;
  /** The account-wide stop after a fatal answer, shared by all users of the account. */
  readonly gate: AccountGate;
  /** Removes this account's secrets from any text. */
  readonly redactor: Redactor;
  /**
   * The provider, created once per deploy, guarded by `gate` (core/update/gate.ts guardProvider).
   * Throws an `input` DdnsError when the settings are invalid.
   */
  getProvider(): DnsProvider;
}

/** The provider list for the editor: descriptions only, never a value of a secret. */
export function providerCatalog() {
  return allProviders().map((p) => ({
    id: p.id,
    label: p.label,
    group: p.group,
    txt: p.txt,
    txtOnly: p.txtOnly,
    docsUrl: p.docsUrl,
    docsLabel: p.docsLabel,
    fields: p.fields.map((f) => (f.kind === 'password' ? { ...f, default: undefined } : { ...f })),
  }));
}

const isSecretKey = (k: string): boolean => (SECRET_KEYS as readonly string[]).includes(k);

/** Non-secret settings without empty values, keys sorted (the identity does not depend on order). */
export function plainSettings(settings: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!settings || typeof settings !== 'object' || Array.isArray(settings)) return out;
  for (const k of Object.keys(settings).sort()) {
    const v = (settings as Record<string, unknown>)[k];
    if (isSecretKey(k) || v === undefined || v === null || v === '') continue;
    out[k] = v;
  }
  return out;
}

/** The secret values that are set, by key (only SECRET_KEYS). */
export function secretValues(creds: Record<string, string | undefined> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of SECRET_KEYS) {
    const v = creds?.[k];
    if (typeof v === 'string' && v !== '') out[k] = v;
  }
  return out;
}

/**
 * The account's identity: provider, settings and secrets. The secrets enter only through a slow,
 * salted hash (scrypt), so the key, which is stored in context, cannot be used to guess them.
 */
export function accountKeyOf(
  providerId: string,
  settings: Record<string, unknown>,
  secrets: Record<string, string>,
): string {
  const names = Object.keys(secrets).sort();
  const secretPart = names.length
    ? scryptSync(JSON.stringify(names.map((k) => [k, secrets[k]])), 'node-red-contrib-ddns/account-key', 16).toString(
        'hex',
      )
    : '';
  return createHash('sha256')
    .update(JSON.stringify([providerId, settings, secretPart]))
    .digest('hex')
    .slice(0, 24);
}

/** A provider account that sends a secret over plain http://, readable by anyone on the way. */
export interface PlainHttpSecret {
  /** The label of the address field (e.g. `Update server`). */
  field: string;
  /** The server, host and port only. */
  host: string;
  /** The secrets sent there, as the editor names them (in a sentence), e.g. `token`. */
  secrets: string[];
  /** The server is this machine (localhost, 127.0.0.0/8, ::1): the secret does not leave it. */
  loopback: boolean;
  /** What the log says, once per account and start. */
  message: string;
  /** A few words for the status of a node using the account. */
  status: string;
}

/** localhost, *.localhost, 127.0.0.0/8, ::1 (and its IPv4-mapped form). */
function isLoopbackHost(hostname: string): boolean {
  const h = hostname
    .toLowerCase()
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '');
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  const c = classify(h.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, ''));
  return c.class === 'loopback';
}

/**
 * Whether these settings send a secret over plain HTTP: a secret of `def` is set and one of its
 * `url` fields (an address the provider sends its requests to, with the secrets) starts with
 * `http://`. Returns what to say about it, or undefined. Loopback servers count too (the secret is
 * still not encrypted), and are worded calmly. Nothing of a secret or of the address's path and
 * query is repeated.
 */
export function plainHttpSecret(
  def: Pick<ProviderDefinition, 'fields'>,
  settings: Record<string, unknown>,
  secrets: Record<string, string>,
  label: string,
): PlainHttpSecret | undefined {
  // `Update token` → `update token`; `API token`, `TSIG secret` stay as they are.
  const word = (l: string) => (/^[A-Z][a-z]/.test(l) ? l[0].toLowerCase() + l.slice(1) : l);
  const sent = def.fields.filter((f) => f.kind === 'password' && secrets[f.key]).map((f) => word(f.label));
  if (sent.length === 0) return undefined;
  for (const f of def.fields) {
    const v = settings[f.key];
    if (f.kind !== 'url' || typeof v !== 'string' || !URL.canParse(v.trim())) continue;
    const u = new URL(v.trim());
    if (u.protocol !== 'http:') continue;
    const loopback = isLoopbackHost(u.hostname);
    const what = sent.join(' and ');
    return {
      field: f.label,
      host: u.host,
      secrets: sent,
      loopback,
      message: loopback
        ? `The ${label} account sends its ${what} over plain http:// to ${u.host} (${f.label}), a server on this ` +
          'machine: it does not leave the machine, but it is not encrypted. Use https:// if the server ever moves elsewhere.'
        : `The ${label} account sends its ${what} over plain http:// to ${u.host} (${f.label}): anyone on the way ` +
          `can read it. Use an https:// address for ${f.label}.`,
      status: loopback ? `${what} over plain http:// (this machine)` : `${what} sent unencrypted (http://)`,
    };
  }
  return undefined;
}
