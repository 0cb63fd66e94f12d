/**
 * The times of the requests a provider's documented limits count (Porkbun: one request per second
 * per key; deSEC: 2 writes/s, 15/min, 100/h, 300/day per domain), shared by every provider
 * instance of this process and kept across restarts in the stores the adapters attach (dns-update
 * attaches its context store). Without an attached persistent store the ledger lives only as long
 * as the process, as it did before.
 *
 * Keys are hashed before they are kept: a key usually holds an API token, and the saved document
 * must never carry a secret.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { StateStore } from '../store';

/** The longest window any provider's limit counts (deSEC's day), plus a margin. */
const KEEP_MS = 86_400_000 + 60_000;
/** The most times kept per key (deSEC's 300 writes a day is the largest count any limit needs). */
const KEEP_COUNT = 300;

const LedgerDoc = z.object({ v: z.literal(1), keys: z.record(z.string(), z.array(z.number())) });
export type LedgerDoc = z.infer<typeof LedgerDoc>;

/** A recorded request: `done()` moves its time to when the answer came back (limits count from arrival). */
export interface LedgerEntry {
  done(): void;
}

export class Ledger {
  private readonly times = new Map<string, number[]>();
  private readonly stores = new Set<StateStore<LedgerDoc>>();

  constructor(private readonly now: () => number = Date.now) {}

  /** The hashed form of a key (what the map and the saved document hold). */
  static id(key: string): string {
    return createHash('sha256').update(key).digest('hex').slice(0, 32);
  }

  /** The recorded times of `key` still inside the kept day, oldest first. */
  history(key: string): number[] {
    return this.prune(Ledger.id(key));
  }

  /** The last recorded time of `key`, or undefined. */
  last(key: string): number | undefined {
    const h = this.history(key);
    return h.length ? h[h.length - 1] : undefined;
  }

  /** Record a request of `key` now; `keep` caps how many times this key needs (1 for a pacing gap). */
  record(key: string, keep = KEEP_COUNT): LedgerEntry {
    const id = Ledger.id(key);
    const list = this.prune(id);
    const slot = { at: this.now() };
    list.push(slot.at);
    while (list.length > Math.min(keep, KEEP_COUNT)) list.shift();
    this.save();
    return {
      done: () => {
        const i = list.lastIndexOf(slot.at);
        slot.at = this.now();
        if (i >= 0) list[i] = slot.at;
        else list.push(slot.at);
        list.sort((a, b) => a - b);
        this.save();
      },
    };
  }

  /**
   * Keep the ledger in `store` too: what it holds is merged in (a restart remembers the writes of
   * the last day), and every record is saved to it. Returns the detach function (node close).
   * A store that cannot be read is reported through the returned promise; the ledger works on.
   */
  async attach(store: StateStore<LedgerDoc>): Promise<() => void> {
    this.stores.add(store);
    const detach = () => void this.stores.delete(store);
    const raw = await store.load();
    const doc = LedgerDoc.safeParse(raw);
    if (doc.success) {
      for (const [id, saved] of Object.entries(doc.data.keys)) {
        // The list itself is kept (a write in flight moves its own time in it when its answer comes).
        const list = this.prune(id);
        const merged = [...new Set([...list, ...saved.filter((t) => Number.isFinite(t))])].sort((a, b) => a - b);
        list.splice(0, list.length, ...merged.slice(-KEEP_COUNT));
        this.prune(id);
      }
    }
    return detach;
  }

  /** The document saved: every key's times inside the kept day. */
  snapshot(): LedgerDoc {
    const keys: Record<string, number[]> = {};
    for (const id of [...this.times.keys()]) {
      const list = this.prune(id);
      if (list.length) keys[id] = [...list];
    }
    return { v: 1, keys };
  }

  /** The kept list of `id` (created empty), without the times older than the kept day. */
  private prune(id: string): number[] {
    let list = this.times.get(id);
    if (!list) this.times.set(id, (list = []));
    const from = this.now() - KEEP_MS;
    while (list.length && list[0] <= from) list.shift();
    return list;
  }

  private save(): void {
    if (!this.stores.size) return;
    const doc = this.snapshot();
    // A failed save loses at most this write's time after a restart; the request itself goes on.
    for (const s of this.stores) s.save(doc).catch(() => undefined);
  }
}

/** The ledger of this process (module state, like the pacing queues). */
export const ledger = new Ledger();
