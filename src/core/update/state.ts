/**
 * What the update engine remembers across restarts and redeploys, as one JSON document in the
 * injected store (version 2; a version 1 document is read and upgraded).
 *
 * - `records`: per `hostname|family`, the address a provider CONFIRMED (or a read showed) and
 *   when. Only confirmed writes are here: a failed or pending write never is.
 * - `pending`: per `hostname|family`, the write not done yet: the address, when it is due
 *   (`dueAt`, absent while a stop holds it), why it waits (`wait`: `retry` after a failure,
 *   `interval` for the minimum interval, `account` for a provider's account-wide wait), the
 *   consecutive failures (backoff step), the requests made for the address, and the last error.
 *   Restored at start: the timer is armed again and an input for that record before `dueAt` sends
 *   nothing.
 * - `notBefore`: the account's not-before time (epoch ms) a provider asked for (a 429 with
 *   Retry-After, dyndns2 `911`/`dnserr`); shared with every user of the account through its gate.
 * - `stops`: fatal answers (account-wide and per host name) that stop updates. `accountOwn`: the
 *   account stop came from this caller's own request (so a change of this caller's configuration
 *   may lift it; see adoptState).
 * - `failing`: the open failing alert, so that a restart neither repeats it nor forgets to send
 *   `recovered`.
 * - `accountKey`: the identity of the account settings the document belongs to. A document of
 *   other settings (provider, credentials, endpoint changed) is ignored as a whole: the new
 *   settings start from nothing. `configKey` is the caller's own configuration (dns-update: its
 *   names and families): when it changed, every stop and every pending write is dropped (the
 *   confirmed records and the account's not-before time stay).
 */
import { z } from 'zod';
import type { StopInfo } from './types';
import { say, type Sentence } from '../errors';

const stopSchema = z.object({ code: z.string(), message: z.string(), since: z.number() });
const time = z.number().finite();

export const pendingSchema = z.object({
  address: z.string(),
  dueAt: time.optional(),
  wait: z.enum(['retry', 'interval', 'account']).optional(),
  /** A retry time a stop interrupted (honoured when the stop is lifted). */
  heldUntil: time.optional(),
  failures: z.number().int().min(0).max(1000),
  attempts: z.number().int().min(0).max(1_000_000),
  force: z.boolean().optional(),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
});
export type PendingWrite = z.infer<typeof pendingSchema>;

const common = {
  accountKey: z.string(),
  configKey: z.string().optional(),
  records: z.record(z.string(), z.object({ address: z.string(), at: z.number() })),
  failing: z.object({ since: z.number(), error: z.string(), code: z.string() }).optional(),
};

const v1Schema = z.object({
  v: z.literal(1),
  ...common,
  stops: z.object({ account: stopSchema.optional(), hosts: z.record(z.string(), stopSchema) }),
});

export const stateSchema = z.object({
  v: z.literal(2),
  ...common,
  pending: z.record(z.string(), pendingSchema),
  notBefore: time.optional(),
  stops: z.object({
    account: stopSchema.optional(),
    accountOwn: z.boolean().optional(),
    hosts: z.record(z.string(), stopSchema),
  }),
});

export type StateDoc = z.infer<typeof stateSchema>;

export function emptyState(accountKey: string, configKey?: string): StateDoc {
  return { v: 2, accountKey, configKey, records: {}, pending: {}, stops: { hosts: {} } };
}

export interface Adopted {
  doc: StateDoc;
  /** Why a stored document was not used (for a warning), when there was one. */
  note?: Sentence;
  /**
   * The account stop this caller's own request caused, dropped because the caller's configuration
   * changed: the account gate is lifted when this stop is what blocks it.
   */
  lifted?: StopInfo;
}

/**
 * The stored document when it belongs to these settings; otherwise a fresh one. A version 1
 * document is upgraded (no pending writes; its account stop counts as this caller's own, the
 * common case of one node per account).
 */
export function adoptState(raw: unknown, accountKey: string, configKey?: string): Adopted {
  if (raw === undefined || raw === null) return { doc: emptyState(accountKey, configKey) };
  const parsed = stateSchema.safeParse(raw);
  let doc: StateDoc;
  if (parsed.success) doc = parsed.data;
  else {
    const old = v1Schema.safeParse(raw);
    if (!old.success)
      return {
        doc: emptyState(accountKey, configKey),
        note: say('update.state_reset', 'the saved update state was unreadable and has been reset'),
      };
    const { account, hosts } = old.data.stops;
    doc = {
      ...old.data,
      v: 2,
      pending: {},
      stops: { account, accountOwn: account ? true : undefined, hosts },
    };
  }
  if (doc.accountKey !== accountKey) return { doc: emptyState(accountKey, configKey) };
  if (doc.configKey === configKey) return { doc };
  // The caller's configuration changed: it starts afresh, whatever the scope of the stop.
  const lifted = doc.stops.accountOwn ? doc.stops.account : undefined;
  doc.configKey = configKey;
  doc.stops = { hosts: {} };
  doc.pending = {};
  return { doc, lifted };
}

export const recordKey = (hostname: string, family: string) => `${hostname}|${family}`;

/** The same stop (the gate keeps a copy of the info it was given). */
export const sameStop = (a: StopInfo | undefined, b: StopInfo | undefined): boolean =>
  a !== undefined && b !== undefined && a.code === b.code && a.since === b.since && a.message === b.message;
