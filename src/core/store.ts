/**
 * Where a long-lived piece of core (the update engine, the IP watcher) keeps what it must remember
 * across restarts. The one StateStore of the code base: the Node-RED adapters implement it over a
 * node's context (src/nodes/adapter.ts), tests and callers without persistence use MemoryStore.
 */

/** `load` resolves undefined when nothing is stored; the caller validates what it gets. */
export interface StateStore<T = unknown> {
  load(): Promise<unknown>;
  save(state: T): Promise<void>;
}

/** A store in memory (tests, and callers without persistence); keeps a copy, never the caller's object. */
export class MemoryStore<T = unknown> implements StateStore<T> {
  doc: unknown;
  saves = 0;
  async load(): Promise<unknown> {
    return this.doc === undefined ? undefined : structuredClone(this.doc);
  }
  async save(doc: T): Promise<void> {
    this.saves++;
    this.doc = structuredClone(doc);
  }
}
