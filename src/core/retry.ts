/**
 * Exponential backoff with jitter, shared by every component that retries.
 *
 * delay(n) = min(cap, base * 2^(n-1)) scaled by a random factor in [1 - jitter, 1], and never
 * earlier than what the other side asked for (Retry-After, No-IP's 30 minutes after `911`).
 */
export interface BackoffOptions {
  baseMs: number;
  capMs: number;
  /** Fraction of the delay that is randomised, 0..1. Default 0.2. */
  jitter?: number;
  random?: () => number;
}

/** The wait before attempt number `failures + 1`, after `failures` consecutive failures (>= 1). */
export function backoffDelay(failures: number, o: BackoffOptions, atLeastMs = 0): number {
  const n = Math.max(1, failures);
  const raw = Math.min(o.capMs, o.baseMs * 2 ** Math.min(n - 1, 30));
  const jitter = o.jitter ?? 0.2;
  const r = (o.random ?? Math.random)();
  const d = Math.round(raw * (1 - jitter * r));
  return Math.max(d, atLeastMs);
}

/** A random spread of ±fraction around ms (used for poll intervals so that many installs do not align). */
export function withJitter(ms: number, fraction = 0.1, random: () => number = Math.random): number {
  return Math.round(ms * (1 + fraction * (2 * random() - 1)));
}

/** setTimeout that can be awaited and aborted; never keeps a finished process alive longer than asked. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason ?? new Error('aborted'));
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal?.reason ?? new Error('aborted'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
