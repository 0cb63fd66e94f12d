/**
 * Figures 1 and 2: staleness and reaction.
 *
 * Method (see README.md): every client polls at the same budget (one lookup every `periodMs`).
 * For each client, in turn: wait a random time drawn uniformly from [0, period) — the same seeded
 * sequence for every client —, change the address its what's-my-IP path answers, and wait until
 * named answers the new address for the client's name. Because the wait spans a whole period,
 * the change falls at a uniformly random moment of the client's own polling cycle, exactly as an
 * ISP's change does. All clients run at the same time, each on its own name and path.
 *
 * From the servers' logs, per change:
 * - staleness = named answers the new address − change;
 * - wait = first lookup answered with the new address − change (the polling part);
 * - reaction = the update request carrying the new address arrives − that lookup;
 * - apply = the provider answered that request − it arrived (the provider's own work, which
 *   includes writing to named for the dyndns2 bridge).
 * Derived for a budget of `budgetPeriodMs` (e.g. 12 lookups/h): the phase of a change within the
 * period is uniform, so the wait scales with the period and the rest does not:
 * staleness' = wait × budgetPeriod / period + (staleness − wait).
 */
import type { DnsServer } from '../src/core/dns/transport';
import type { RunningClient } from './clients';
import { visibleAt } from './dns-relay';
import { log, now, seededRandom, sleep } from './util';

export interface ChangeSample {
  address: string;
  change: number;
  /** First lookup answered with the new address. */
  seen?: number;
  /** Arrival of the first update request that carries the new address. */
  request?: number;
  /** When the provider answered that request (the record is written in named by then). */
  answered?: number;
  /** named answered the new address (null: not within the time allowed). */
  visible: number | null;
}

export interface StalenessOptions {
  named: DnsServer;
  windowMs: number;
  periodMs: number;
  seed: number;
}

/** The k-th address handed out in the staleness phase (198.51.100.10 …, documentation range). */
export function changeAddress(k: number): string {
  return `198.51.100.${10 + (k % 240)}`;
}

export async function measureStaleness(
  clients: RunningClient[],
  o: StalenessOptions,
): Promise<Map<string, ChangeSample[]>> {
  const start = now();
  const end = start + o.windowMs;
  const out = new Map<string, ChangeSample[]>();
  // a change must be able to finish (a whole period, jitter, the update) before the window closes
  const room = o.periodMs * 1.25 + 5000;
  const allowed = o.periodMs * 2.5 + 10_000;
  await Promise.all(
    clients.map(async (c) => {
      const rng = seededRandom(o.seed);
      const samples: ChangeSample[] = [];
      out.set(c.id, samples);
      for (let k = 0; k < 1000; k++) {
        const gap = (c.minGapMs ?? 0) + rng() * o.periodMs;
        if (now() + gap + (c.roomMs ?? room) > end) break;
        await sleep(gap);
        const address = c.addressFor?.(k) ?? changeAddress(k);
        const change = now();
        if (c.change) await c.change(address);
        else c.ip.address = address;
        const visible = await visibleAt(o.named, c.name, address, allowed);
        samples.push({ address, change, visible });
        if (visible === null) {
          log(
            `${c.id}: ${c.name} did not get ${address} within ${Math.round(allowed / 1000)} s; no more changes for it`,
          );
          break;
        }
        log(`${c.id}: change ${k + 1} (${address}) visible after ${((visible - change) / 1000).toFixed(1)} s`);
      }
    }),
  );
  for (const c of clients) {
    for (const s of out.get(c.id)!) {
      s.seen = c.ip.lookups.find((l) => l.t >= s.change && l.address === s.address)?.t;
      const from = s.seen ?? s.change;
      const req = c.provider.entries.find(
        (e) =>
          e.kind === 'update' &&
          e.t >= from &&
          e.names.includes(c.name) &&
          (e.address === undefined || e.address === s.address),
      );
      s.request = req?.t;
      s.answered = req?.tDone;
    }
  }
  return out;
}

export interface StalenessFigures {
  n: number;
  failed: number;
  stalenessMs: number[];
  derivedMs: number[];
  reactionMs: number[];
  applyMs: number[];
}

export function figures(samples: ChangeSample[], periodMs: number, budgetPeriodMs: number): StalenessFigures {
  const ok = samples.filter((s) => s.visible !== null);
  const f: StalenessFigures = {
    n: ok.length,
    failed: samples.length - ok.length,
    stalenessMs: [],
    derivedMs: [],
    reactionMs: [],
    applyMs: [],
  };
  for (const s of ok) {
    const staleness = s.visible! - s.change;
    f.stalenessMs.push(staleness);
    if (s.seen !== undefined) {
      const wait = s.seen - s.change;
      f.derivedMs.push(wait * (budgetPeriodMs / periodMs) + (staleness - wait));
    }
    if (s.seen !== undefined && s.request !== undefined) f.reactionMs.push(s.request - s.seen);
    if (s.request !== undefined && s.answered !== undefined) f.applyMs.push(s.answered - s.request);
  }
  return f;
}
