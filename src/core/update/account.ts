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
import { PROVIDERS } from '../providers/registry';
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
  return PROVIDERS.map((p) => ({
    id: p.id,
    label: p.label,
    txt: p.txt,
    docsUrl: p.docsUrl,
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
