/**
 * A manual clock for exact timer tests: time moves only when the test calls `advance()`, which
 * fires every timer that falls due, in order, and lets the promises they start settle.
 */
export class FakeClock {
  private t: number;
  private seq = 0;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();

  constructor(start = Date.UTC(2025, 0, 1, 12, 0, 0)) {
    this.t = start;
  }

  now = (): number => this.t;

  setTimeout = (fn: () => void, ms: number): unknown => {
    const id = ++this.seq;
    this.timers.set(id, { at: this.t + Math.max(0, ms), fn });
    return id;
  };

  clearTimeout = (h: unknown): void => {
    this.timers.delete(h as number);
  };

  /** The core's Clock (src/core/schedule.ts). */
  setTimer = this.setTimeout;
  clearTimer = this.clearTimeout;

  /** Timers still set. */
  get pending(): number {
    return this.timers.size;
  }

  /** When the earliest timer is due, or undefined. */
  get nextAt(): number | undefined {
    let n: number | undefined;
    for (const t of this.timers.values()) if (n === undefined || t.at < n) n = t.at;
    return n;
  }

  /** Move time forward by `ms`, firing due timers (and awaiting what they start). */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      let id: number | undefined;
      let at = Infinity;
      for (const [k, v] of this.timers) if (v.at <= end && v.at < at) [id, at] = [k, v.at];
      if (id === undefined) break;
      const timer = this.timers.get(id)!;
      this.timers.delete(id);
      this.t = Math.max(this.t, timer.at);
      timer.fn();
      await settle();
    }
    this.t = end;
    await settle();
  }
}

/** Let pending promise chains run (several macrotask turns). */
export async function settle(turns = 5): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((r) => setImmediate(r));
}
