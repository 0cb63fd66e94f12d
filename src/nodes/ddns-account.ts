/**
 * ddns-account: a provider account (config node). Holds the provider id, its non-secret settings
 * (`settings`, an object) and its secrets as Node-RED credentials (exactly SECRET_KEYS, password
 * type, encrypted, never exported).
 *
 * Runtime API for the nodes that use an account (dns-update, cert-renew):
 * - `configError`: why the settings are invalid (already redacted), or undefined;
 * - `getProvider()`: the provider, created once per deploy and closed with the node, with the
 *   account stop built in (see guardProvider in core/update/gate.ts); throws an `input` DdnsError
 *   with `configError` when the settings are invalid;
 * - `accountKey`: a stable identity of provider + settings + (a slow hash of) the secrets: it
 *   changes whenever anything of the account changes and never reveals a secret;
 * - `gate`: the shared account-wide stop after a fatal answer (see core/update/gate.ts);
 * - `redactor`: removes this account's secrets from any text;
 * - `plainHttp`: set when a secret travels over plain http:// (warned once here, at start; the
 *   nodes using the account show its `status` when they start);
 * - `label`, `providerId`, `definition` (txt support: `definition.txt`).
 *
 * The editor gets the providers' field descriptions from GET /ddns/providers (never a secret).
 */
import { z } from 'zod';
import { badInput, say, toDdnsError } from '../core/errors';
import { registerAcmedns } from '../core/providers/acmedns';
import { providerById, type ProviderDefinition } from '../core/providers/registry';
import { SECRET_KEYS, type DnsProvider } from '../core/providers/types';
import { Redactor } from '../core/redact';
import { AccountGate, guardProvider } from '../core/update/gate';
import {
  accountKeyOf,
  plainHttpSecret,
  plainSettings,
  providerCatalog,
  type PlainHttpSecret,
  secretValues,
  type DdnsAccount,
} from '../core/update/account';
import { catalog, spoken, spokenError, spokenText } from './adapter';
import type { Red, RedNode } from './red-types';
import { phrase } from '../core/said';

/** The node's own properties as the editor saves them. */
const accountConfigSchema = z.object({
  name: z.preprocess(
    (v) => (v === null ? undefined : v),
    z.string({ error: phrase('node.name_must_text', 'the name must be text') }).optional(),
  ),
  provider: z.preprocess(
    (v) => (v === null || v === undefined ? '' : v),
    z.string({ error: phrase('node.provider_must_provider_id', 'the provider must be a provider id') }),
  ),
  settings: z.preprocess(
    (v) => (v === null || v === undefined || v === '' ? {} : v),
    z.record(z.string(), z.unknown(), {
      error: phrase('node.provider_settings_must_object', 'the provider settings must be an object'),
    }),
  ),
});

/** A zod error as sentences naming the fields by their labels (values are never shown). */
function describeIssues(
  RED: Red,
  def: ProviderDefinition,
  issues: ReadonlyArray<{ path: PropertyKey[]; message: string }>,
): string {
  return issues
    .map((i) => {
      const key = String(i.path[0] ?? '');
      const field = def.fields.find((f) => f.key === key);
      const message = spokenText(i.message.replace(/\.$/, ''));
      return field ? `${fieldLabel(RED, field)}: ${message}` : key ? `${key}: ${message}` : message;
    })
    .join('; ');
}

/**
 * A field's label in the runtime's language, as the editor finds it (nodes/ddns-account.html): the
 * catalog entry `field.<key>` or `field.<key>-N` whose en-US text is the definition's label; else
 * the definition's English.
 */
function fieldLabel(RED: Red, f: { key: string; label: string }): string {
  const base = `ddns-account.field.${f.key}`;
  for (let i = 1; i < 40; i++) {
    const key = i === 1 ? base : `${base}-${i}`;
    const en = RED._(key, { lng: 'en-US' });
    if (!en || en.endsWith(key)) break; // no such entry
    if (en === f.label) return RED._(key);
  }
  return f.label;
}

/**
 * The status of a node using an account that sends a secret over plain http://, in the runtime's
 * language: core's English words where a label has no translation.
 */
function plainHttpStatus(
  RED: Red,
  def: ProviderDefinition,
  secrets: Record<string, string>,
  p: PlainHttpSecret,
): string {
  const t = catalog(RED, 'ddns-account');
  const sent = def.fields.filter((f) => f.kind === 'password' && secrets[f.key]);
  const what = sent
    .map((f, i) => {
      const local = fieldLabel(RED, f);
      return local === f.label ? (p.secrets[i] ?? local) : local;
    })
    .join(t('status.and', ' and '));
  return t(p.loopback ? 'status.plain-http-local' : 'status.plain-http', p.status, { what });
}

interface AdminResponse {
  set?(name: string, value: string): void;
  json(v: unknown): void;
  status(code: number): AdminResponse;
}

export = function register(RED: Red): void {
  if (RED.httpAdmin && RED.auth) {
    RED.httpAdmin.get(
      '/ddns/providers',
      RED.auth.needsPermission('ddns-account.read'),
      (_req: unknown, res: { json(v: unknown): void }) => {
        res.json(providerCatalog());
      },
    );
    // acme-dns: the editor's "Register" button (a new account at the server the user typed; admins only).
    RED.httpAdmin.post?.(
      '/ddns/acmedns/register',
      RED.auth.needsPermission('ddns-account.write'),
      (req: { body?: { endpoint?: unknown } }, res: AdminResponse) => {
        res.set?.('Cache-Control', 'no-store');
        registerAcmedns(String(req.body?.endpoint ?? '')).then(
          (r) => res.json(r),
          (e: unknown) => res.status(400).json({ error: toDdnsError(e).message }),
        );
      },
    );
  }

  function DdnsAccountNode(this: RedNode, raw: Record<string, unknown>) {
    RED.nodes.createNode(this, raw);
    const node = this as RedNode & { -readonly [K in keyof DdnsAccount]: DdnsAccount[K] };
    const cfg = accountConfigSchema.safeParse(raw);
    const config = cfg.success ? cfg.data : { name: undefined, provider: '', settings: {} };
    const secrets = secretValues(this.credentials);
    const settings = plainSettings(config.settings);
    const providerId = config.provider.trim();
    const def = providerById(providerId);
    node.providerId = providerId;
    node.definition = def;
    node.label = (config.name ?? '').trim() || def?.label || providerId || 'DDNS account';
    node.redactor = new Redactor(Object.values(secrets));
    node.gate = new AccountGate();
    node.accountKey = accountKeyOf(providerId, settings, secrets);

    let parsed: unknown;
    if (!cfg.success) {
      node.configError = spoken(
        say(
          'node.account_damaged',
          'The account settings are damaged: __issues__. Open the account and save it again.',
          {
            issues: cfg.error.issues.map((i) => spokenText(i.message)).join('; '),
          },
        ),
      );
    } else if (!def) {
      node.configError = spoken(
        providerId
          ? say(
              'node.unknown_provider',
              'The provider "__provider__" is not known to this version of node-red-contrib-ddns.',
              {
                provider: providerId,
              },
            )
          : say('node.no_provider', 'No provider is chosen in the account settings.'),
      );
    } else {
      const r = def.settings.safeParse({ ...settings, ...secrets });
      if (r.success) parsed = r.data;
      else
        node.configError = node.redactor.text(
          spoken(
            say('node.account_invalid', 'The __label__ account settings are not valid: __issues__.', {
              label: def.label,
              issues: describeIssues(RED, def, r.error.issues),
            }),
          ),
        );
    }
    // The nodes using the account show node.plainHttp.status.
    if (!node.configError && def) {
      const plain = plainHttpSecret(def, settings, secrets, node.label);
      node.plainHttp = plain && { ...plain, status: plainHttpStatus(RED, def, secrets, plain) };
    }
    // Quiet until used, as core's mqtt-broker: an account that no node uses (say, left behind by a
    // deleted example) logs nothing; the first use says what is wrong, once per account and start.
    let told = false;
    const tellOnce = () => {
      if (told) return;
      told = true;
      if (node.configError) node.error(node.configError);
      else if (node.plainHttp) node.warn(node.redactor.text(node.plainHttp.message));
    };

    let provider: DnsProvider | undefined;
    node.getProvider = () => {
      tellOnce();
      if (node.configError || !def)
        throw badInput(
          node.configError ?? spoken(say('node.account_not_configured', 'The account is not configured.')),
          'invalid_account',
        );
      if (!provider) {
        try {
          provider = guardProvider(def.create(parsed, {}), node.gate, {
            label: node.label,
            redact: (t) => node.redactor.text(t),
          });
        } catch (e) {
          const msg = spokenError(e);
          const text = spoken(
            say('node.account_setup_failed', 'The __label__ account could not be set up: __failure__', {
              label: def.label,
              failure: msg,
            }),
          );
          throw badInput(node.redactor.text(text), 'invalid_account');
        }
      }
      return provider;
    };

    this.on('close', (_removed, done) => {
      const p = provider;
      provider = undefined;
      // The gate is not cleared: users of the account are closing too, and the next deploy makes a new one.
      if (!p?.close) return done();
      p.close().then(done, () => done());
    });
  }

  // The secrets are exactly SECRET_KEYS (the editor derives the same list from the catalog's password fields).
  const credentials = Object.fromEntries(SECRET_KEYS.map((k) => [k, { type: 'password' as const }]));
  RED.nodes.registerType('ddns-account', DdnsAccountNode, { credentials });
};
