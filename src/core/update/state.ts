/**
 * What the update engine remembers across restarts, as one JSON document in the injected store.
 *
 * - `records`: per `hostname|family`, the address a provider CONFIRMED (or a read showed) and
 *   when. Only confirmed writes are here: a failed or pending write never is.
 * - `stops`: fatal answers (account-wide and per host name) that stop updates.
 * - `failing`: the open failing alert, so that a restart neither repeats it nor forgets to send
 *   `recovered`.
 * - `accountKey`: the identity of the account settings the document belongs to. A document of
 *   other settings (provider, credentials, endpoint changed) is ignored as a whole: the new
 *   settings start from nothing. `configKey` does the same for per-host stops when the caller's
 *   own configuration (its names) changed.
 */
import { z } from 'zod';

const stopSchema = z.object({ code: z.string(), message: z.string(), since: z.number() });

export const stateSchema = z.object({
  v: z.literal(1),
  accountKey: z.string(),
  configKey: z.string().optional(),
  records: z.record(z.string(), z.object({ address: z.string(), at: z.number() })),
  stops: z.object({
    account: stopSchema.optional(),
    hosts: z.record(z.string(), stopSchema),
  }),
  failing: z.object({ since: z.number(), error: z.string(), code: z.string() }).optional(),
});

export type StateDoc = z.infer<typeof stateSchema>;

export function emptyState(accountKey: string, configKey?: string): StateDoc {
  return { v: 1, accountKey, configKey, records: {}, stops: { hosts: {} } };
}

/**
 * The stored document when it belongs to these settings; otherwise a fresh one. `note` says why
 * a stored document was not used (for a warning), when there was one.
 */
export function adoptState(raw: unknown, accountKey: string, configKey?: string): { doc: StateDoc; note?: string } {
  if (raw === undefined || raw === null) return { doc: emptyState(accountKey, configKey) };
  const parsed = stateSchema.safeParse(raw);
  if (!parsed.success)
    return { doc: emptyState(accountKey, configKey), note: 'the saved update state was unreadable and has been reset' };
  const doc = parsed.data;
  if (doc.accountKey !== accountKey) return { doc: emptyState(accountKey, configKey) };
  if (doc.configKey !== configKey) {
    doc.configKey = configKey;
    doc.stops.hosts = {};
  }
  return { doc };
}

export const recordKey = (hostname: string, family: string) => `${hostname}|${family}`;
