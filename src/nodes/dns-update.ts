/**
 * dns-update: the Node-RED adapter around the update engine (src/core/update/engine.ts).
 *
 * It validates its configuration and every input msg (zod; a bad name or address is an error and
 * nothing is sent), gets the provider from its ddns-account, keeps the engine's state in the
 * node's context (in the store the user names), and turns results into msgs (output 1: one msg
 * per input, plus one per automatic retry; output 2: alerts), status and node.error / done(err).
 * Every text leaves through the account's Redactor.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { english, say, toDdnsError, type Sentence } from '../core/errors';
import { parseAddressSet, parseIpv6Prefix, type AddressSet, type Family } from '../core/address';
import {
  addressesPerName,
  describeHostId,
  hasHostIds,
  parseHostEntries,
  type HostEntry,
  type Prefix,
} from '../core/ip/host-id';
import { ipWatchPayloadSchema } from '../core/ip/payload';
import { ledger, type LedgerDoc } from '../core/providers/ledger';
import type { DnsProvider } from '../core/providers/types';
import type { Redactor } from '../core/redact';
import { UpdateEngine } from '../core/update/engine';
import { resultsFailure, ResultsView } from '../core/update/results-view';
import { resultsOk, STATUS_TEXTS, type StatusWords } from '../core/update/summary';
import { fillIn } from '../core/text';
import type { AccountAlert, SkipReason, UpdateResult } from '../core/update/types';
import type { DdnsAccount } from '../core/update/account';
import { blank, contextStoreField, numberField } from './config-fields';
import { asError, catalog, contextStore, fail, relocalized, spoken, spokenText, stayIdle } from './adapter';
import { describeProperty, fixedAtDeploy, typeField, valueAtDeploy, valueFor, VALUE_TYPES } from './typed';
import type { Msg, Red, RedNode } from './red-types';
import { phrase } from '../core/said';

/** Context key of the engine's state. */
const STATE_KEY = 'ddnsUpdate';
/** Where the providers' request ledger is kept in the node's context (see core/providers/ledger.ts). */
const LEDGER_KEY = 'ddnsProviderLedger';

type Families = 'auto' | 'ipv4' | 'ipv6' | 'both';

/** The node's configuration as the editor saves it (numbers may arrive as strings). */
const configSchema = z.object({
  name: z.string().optional(),
  account: z
    .string({ error: phrase('node.choose_provider_account', 'choose a provider account') })
    .min(1, phrase('node.choose_provider_account', 'choose a provider account')),
  hostnames: z.preprocess(
    (v) => (blank(v) ? '' : v),
    z.string({ error: phrase('node.host_names_must_text', 'host names must be text') }),
  ),
  /** Where the names come from: the list itself (`str`), or msg, flow, global or an environment variable. */
  hostnamesType: typeField('host names', VALUE_TYPES, 'str'),
  /** Where an input's addresses are read (default msg.payload). */
  addressProperty: z.preprocess((v) => (blank(v) ? 'payload' : v), z.string().trim().min(1)),
  addressPropertyType: typeField('address from', ['msg', 'flow', 'global'], 'msg'),
  families: z.preprocess(
    (v) => (blank(v) ? undefined : v),
    z
      .enum(['auto', 'ipv4', 'ipv6', 'both'], {
        error: phrase('node.families_must_auto_ipv4', 'families must be auto, ipv4, ipv6 or both'),
      })
      .default('auto'),
  ),
  /** Seconds between two writes of the same record. */
  minInterval: numberField(phrase('node.field_minimum_interval', 'minimum interval'), 0, 86_400, 60),
  contextStore: contextStoreField(),
  alertAfter: numberField(phrase('node.field_alert_after', 'alert after'), 1, 1000, 3, true),
});

/** An input msg. The payload is public-ip-watch's (or `{ ipv4?, ipv6? }`, or one address as text). */
const inputSchema = z.looseObject({
  payload: z
    .union([z.string(), ipWatchPayloadSchema.pick({ ipv4: true, ipv6: true, ipv6Prefix: true, ipv6Stability: true })], {
      error: phrase(
        'node.msg_payload_must_ipv4_ipv6',
        'msg.payload must be { ipv4, ipv6 } (what public-ip-watch sends) or one address as text',
      ),
    })
    .optional()
    .nullable(),
  hostname: z.string({ error: phrase('node.msg_hostname_must_text', 'msg.hostname must be text') }).optional(),
  hostnames: z
    .union([z.string(), z.array(z.string())], {
      error: phrase('node.msg_hostnames_must_text_list', 'msg.hostnames must be text or a list of texts'),
    })
    .optional(),
  force: z.boolean({ error: phrase('node.msg_force_must_true_false', 'msg.force must be true or false') }).optional(),
  reset: z.boolean({ error: phrase('node.msg_reset_must_true_false', 'msg.reset must be true or false') }).optional(),
});

/**
 * An ordinary inject's payload (a timestamp, by default) beside msg.force / msg.reset carries no
 * address: it is left out. A text or an { ipv4, ipv6 } object is still read (and refused if wrong).
 */
function withoutControlPayload(msg: Record<string, unknown>): Record<string, unknown> {
  if (msg.force !== true && msg.reset !== true) return msg;
  const p = msg.payload;
  const addressLike =
    (typeof p === 'string' && p.trim() !== '') ||
    (typeof p === 'object' && p !== null && ('ipv4' in p || 'ipv6' in p || 'ipv6Prefix' in p));
  return addressLike ? msg : { ...msg, payload: undefined };
}

/** Host entries from a TypedInput value: text (names separated by commas or spaces) or a list of texts. */
function namesOf(v: unknown, from: string): HostEntry[] {
  if (v === undefined || v === null || v === '') return [];
  if (typeof v === 'string' || (Array.isArray(v) && v.every((x) => typeof x === 'string')))
    return parseHostEntries(v as string | string[]);
  throw new Error(`${from} must hold host names as text or a list of texts`);
}

function describeIssues(e: z.ZodError): string {
  return e.issues
    .map((i) => {
      const path = i.path.join('.');
      const where =
        i.path[0] === 'payload' ||
        i.path[0] === 'hostname' ||
        i.path[0] === 'hostnames' ||
        i.path[0] === 'force' ||
        i.path[0] === 'reset'
          ? `msg.${path}`
          : path;
      const message = spokenText(i.message);
      return where && !i.message.includes(where) ? `${where}: ${message}` : message;
    })
    .join('; ');
}

/**
 * The addresses of the payload for the configured families, and the IPv6 prefix that names with a
 * host identifier are built on: this host's IPv6 address (all 128 bits known), else `ipv6Prefix`.
 */
function pickAddresses(
  payload: z.infer<typeof inputSchema>['payload'],
  families: Families,
): { addresses: AddressSet; missing: Family[]; prefix?: Prefix } {
  let raw: { ipv4?: unknown; ipv6?: unknown; ipv6Prefix?: unknown } = {};
  if (typeof payload === 'string') {
    const t = payload.trim();
    raw = t.includes(':') ? { ipv6: t } : { ipv4: t };
  } else if (payload) raw = { ipv4: payload.ipv4, ipv6: payload.ipv6, ipv6Prefix: payload.ipv6Prefix };
  const wanted: Family[] = families === 'auto' ? ['ipv4', 'ipv6'] : families === 'both' ? ['ipv4', 'ipv6'] : [families];
  const picked = parseAddressSet({
    ipv4: wanted.includes('ipv4') ? raw.ipv4 : undefined,
    ipv6: wanted.includes('ipv6') ? raw.ipv6 : undefined,
  });
  let prefix: Prefix | undefined;
  if (picked.ipv6) prefix = { address: picked.ipv6, length: 128 };
  else if (wanted.includes('ipv6') && typeof raw.ipv6Prefix === 'string') prefix = parseIpv6Prefix(raw.ipv6Prefix);
  const missing =
    families === 'auto' ? [] : wanted.filter((f) => picked[f] === undefined && (f === 'ipv4' || prefix === undefined));
  return { addresses: picked, missing, prefix };
}

/** A skipped result: the name keeps its record of `family` (`said`: why, in the user's language). */
function keeps(hostname: string, family: Family, said: Sentence, temporary = false): UpdateResult {
  const reason: SkipReason = temporary ? 'temporary-address' : 'no-address';
  const message = english(said);
  return { hostname, family, status: 'skipped', address: '', message, sentence: said, attempts: 0, ms: 0, reason };
}

export = function register(RED: Red): void {
  /** The engine state of every node, for as long as the process runs: a redeploy must not send the same address again (see contextStore). */
  const processMemory = new Map<string, unknown>();

  /** Status texts in the runtime's language (Node-RED's `lang` setting), English without the catalog. */
  const t = catalog(RED, 'dns-update');
  const words: StatusWords = (key, subs) => t(`status.${key}`, fillIn(STATUS_TEXTS[key], subs), subs);

  function DnsUpdateNode(this: RedNode, raw: Record<string, unknown>): void {
    RED.nodes.createNode(this, raw);
    const node = this;
    const parsed = configSchema.safeParse(raw);
    if (!parsed.success)
      return stayIdle(
        node,
        spoken(
          say('node.dns_update_invalid', 'The dns-update settings are not valid: __issues__.', {
            issues: describeIssues(parsed.error),
          }),
        ),
        t('status.invalid-config', 'invalid settings'),
      );
    const cfg = parsed.data;
    // The names: fixed at deploy (the list, an environment variable), or read for each msg.
    const namesFrom = describeProperty(cfg.hostnames, cfg.hostnamesType);
    let configEntries: HostEntry[] = [];
    try {
      if (fixedAtDeploy(cfg.hostnamesType))
        configEntries = namesOf(valueAtDeploy(RED, node, cfg.hostnames, cfg.hostnamesType), namesFrom);
    } catch (e) {
      return stayIdle(node, toDdnsError(e).message, t('status.invalid-hostname', 'invalid host name'));
    }
    const addressFrom =
      cfg.addressPropertyType === 'msg' && cfg.addressProperty === 'payload'
        ? undefined
        : { value: cfg.addressProperty, type: cfg.addressPropertyType };
    const account = RED.nodes.getNode(cfg.account) as (DdnsAccount & object) | null;
    if (!account || typeof account.getProvider !== 'function') {
      return stayIdle(
        node,
        spoken(
          say('node.no_account', 'No provider account is chosen, or it is not deployed: open the node and choose one.'),
        ),
        t('status.no-account', 'no account'),
        { logged: false },
      );
    }
    const redactor: Redactor = account.redactor;
    // A TXT-only provider (acme-dns) cannot hold addresses: refused at deploy, with what to do instead.
    if (account.definition?.txtOnly)
      return stayIdle(
        node,
        spoken(
          say(
            'node.txt_only_account',
            'The account "__account__" (__provider__) holds only the TXT records of certificate challenges: it cannot set the addresses (A/AAAA) of a name. Choose the account of the name\'s DNS host here, and use this one as cert-renew\'s challenge account.',
            { account: account.label, provider: account.definition.label },
          ),
        ),
        'TXT-only account',
      );
    let provider: DnsProvider;
    try {
      provider = account.getProvider();
    } catch (e) {
      return stayIdle(
        node,
        redactor.text(toDdnsError(e).message),
        t('status.account-invalid', 'account settings invalid'),
        {
          logged: false,
        },
      );
    }
    // A secret over plain http:// (the account logs it once): a yellow status until the first result.
    if (account.plainHttp) node.status({ fill: 'yellow', shape: 'ring', text: account.plainHttp.status });

    const view = new ResultsView((text) => redactor.text(text), words);
    const dryRun = account.providerId === 'dryrun';
    let closed = false;

    const engine = new UpdateEngine({
      provider,
      accountKey: account.accountKey,
      accountLabel: account.label,
      configKey: createHash('sha256')
        .update(
          JSON.stringify(
            !fixedAtDeploy(cfg.hostnamesType)
              ? [namesFrom, cfg.families]
              : hasHostIds(configEntries)
                ? [configEntries.map((e) => e.name), cfg.families, configEntries.map((e) => describeHostId(e.hostId))]
                : [configEntries.map((e) => e.name), cfg.families],
          ),
        )
        .digest('hex')
        .slice(0, 16),
      gate: account.gate,
      redactor,
      minIntervalMs: cfg.minInterval * 1000,
      alertAfter: cfg.alertAfter,
      store: contextStore(node, STATE_KEY, cfg.contextStore, processMemory),
      onResults: (raw) => {
        if (closed) return;
        const results = said(raw);
        remember(results);
        const msg: Msg = { topic: 'dns-update', payload: { ok: resultsOk(results), results, automatic: true } };
        node.send([msg, null]);
        const err = failure(results);
        if (err) node.error(err.message, msg);
      },
      onAlert: (a: AccountAlert) => {
        if (!closed) node.send([null, { topic: 'dns-update/alert', payload: a }]);
      },
      onWarning: (_m, said) => {
        if (!closed) node.warn(redactor.text(spoken(said)));
      },
    });

    /** The results as the user reads them: failures in the runtime's language, secrets removed. */
    function said(results: readonly UpdateResult[]): UpdateResult[] {
      return results.map(({ sentence, ...r }) =>
        sentence ? { ...r, message: redactor.text(relocalized(sentence, r.message)) } : r,
      );
    }

    /** The status line for the last results (secrets removed). */
    function remember(results: readonly UpdateResult[]): void {
      const s = view.take(results);
      if (!s) return;
      // A dry run looks different from a real write: blue ring, "dry run:", an arrow for "would set".
      if (dryRun && s.fill === 'green')
        node.status({
          fill: 'blue',
          shape: 'ring',
          text: t('status.dry-run', `dry run: ${s.text.replace(' ✓ ', ' → ')}`, { text: s.text.replace(' ✓ ', ' → ') }),
        });
      else node.status(s);
    }

    /** One error naming every failed result (secrets removed), or null. */
    function failure(results: readonly UpdateResult[]): Error | null {
      const text = resultsFailure(results);
      return text === null ? null : new Error(redactor.text(text));
    }

    // The providers' request ledger (deSEC's daily write budget, Porkbun's pacing) is kept in this
    // node's store too, so a restart remembers the day's writes (core/providers/ledger.ts). It is
    // loaded before anything is sent.
    let detachLedger = (): void => undefined;
    const ledgerReady = ledger.attach(contextStore<LedgerDoc>(node, LEDGER_KEY, cfg.contextStore, new Map())).then(
      (detach) => {
        if (closed) detach();
        else detachLedger = detach;
      },
      (e) => {
        if (!closed)
          node.warn(`The providers' request times could not be read from the context store: ${asError(e).message}`);
      },
    );

    // The saved state comes back at once: a pending retry or a provider's wait survives a redeploy
    // or a restart (its timer runs again), and the status shows it.
    void ledgerReady
      .then(() => engine.start())
      .then(
        (restored) => {
          if (!closed && restored.length) remember(restored);
        },
        (e) => {
          if (!closed) node.warn(redactor.text(toDdnsError(e).message));
        },
      );

    node.on('input', (msg, send, done) => {
      void (async () => {
        // The addresses from another property than msg.payload: read as if they were the payload.
        const read = addressFrom
          ? { ...msg, payload: await valueFor(RED, node, addressFrom.value, addressFrom.type, msg) }
          : msg;
        const m = inputSchema.safeParse(withoutControlPayload(read));
        if (!m.success) {
          const text = describeIssues(m.error);
          throw new Error(
            addressFrom ? text.replace(/msg\.payload/g, describeProperty(addressFrom.value, addressFrom.type)) : text,
          );
        }
        await ledgerReady;
        const input = m.data;
        const entries =
          input.hostnames !== undefined
            ? parseHostEntries(input.hostnames)
            : input.hostname !== undefined
              ? parseHostEntries(input.hostname)
              : fixedAtDeploy(cfg.hostnamesType)
                ? configEntries
                : namesOf(await valueFor(RED, node, cfg.hostnames, cfg.hostnamesType, msg), namesFrom);
        const { addresses, missing, prefix } = pickAddresses(input.payload, cfg.families);
        const hasAddress = addresses.ipv4 !== undefined || addresses.ipv6 !== undefined || prefix !== undefined;
        const names = entries.map((e) => e.name);
        if (!hasAddress && input.force === true && !input.reset) {
          // msg.force alone (a "write now" inject): each name's last address again.
          const again = await engine.rewrite(names);
          if (again.length === 0)
            throw new Error('msg.force: no address has been published for these names yet; send one in msg.payload.');
          return again;
        }
        if (!hasAddress && !input.reset) {
          throw new Error(
            cfg.families === 'auto' || cfg.families === 'both'
              ? 'msg.payload carries no address: send { ipv4, ipv6 } (what public-ip-watch sends) or one address as text.'
              : `msg.payload carries no ${cfg.families === 'ipv4' ? 'IPv4' : 'IPv6'} address, and this node updates only that family.`,
          );
        }
        if (hasAddress && entries.length === 0)
          throw new Error(
            cfg.hostnamesType === 'str'
              ? 'No host name to update: enter names in the node, or send msg.hostname.'
              : `No host name to update: ${namesFrom} holds none (and the msg has no msg.hostname).`,
          );
        // Every name's addresses are worked out before anything is sent: a bad one sends nothing.
        const perName = hasAddress
          ? addressesPerName(entries, addresses, prefix, {
              stability: typeof input.payload === 'object' ? input.payload?.ipv6Stability : undefined,
              localDns: provider.localDns === true,
              provider: account.label,
            })
          : { groups: [], kept: [] };
        const results: UpdateResult[] = [];
        if (input.reset) {
          results.push(...(await engine.reset()));
          // the status no longer shows stops that have been lifted
          if (view.forgetStops())
            node.status({
              fill: 'grey',
              shape: 'ring',
              text: t('status.reset', 'reset: waiting for the next address'),
            });
        }
        for (const g of perName.groups)
          results.push(
            ...(await engine.update({ hostnames: g.names, addresses: g.addresses, force: input.force === true })),
          );
        if (!hasAddress && input.force === true) results.push(...(await engine.rewrite(names)));
        for (const k of perName.kept) results.push(keeps(k.name, k.family, k.said, k.temporary));
        for (const { name: hostname } of hasAddress ? entries : []) {
          for (const family of missing) {
            results.push(
              keeps(
                hostname,
                family,
                say('node.no_family_kept', 'msg.payload has no __family__ address: __name__ keeps its record.', {
                  family: family === 'ipv4' ? 'IPv4' : 'IPv6',
                  name: hostname,
                }),
              ),
            );
          }
        }
        return results;
      })().then(
        (raw) => {
          if (closed) return done();
          const results = said(raw);
          remember(results);
          msg.payload = { ok: resultsOk(results), results };
          send([msg, null]);
          const err = failure(results);
          done(err ?? undefined);
        },
        (e) =>
          closed
            ? done()
            : fail(node, e, {
                done,
                redact: (text) => redactor.text(text),
                status: t('status.invalid-msg', 'invalid msg'),
              }),
      );
    });

    node.on('close', (removed, done) => {
      closed = true;
      engine.stop();
      detachLedger();
      if (removed) processMemory.delete(node.id);
      done();
    });
  }

  RED.nodes.registerType('dns-update', DnsUpdateNode);
};
