/**
 * Figure 5: scale. N names (1, 10, 100, 1000) hold an old address, the client knows it, the address
 * changes once; how long until every name is written, and with how many requests.
 *
 * - this package: the core directly — the update engine (src/core/update/engine.ts) with the
 *   rfc2136 provider (through a counting relay to named) or the dyndns2 provider (to the bridge).
 *   The engine first learns the old state (an update to the old address: RFC 2136 reads it, the
 *   bridge answers nochg), then the timed update to the new address. Time: update() called →
 *   returned.
 * - ddclient (nsupdate, dyndns2) and inadyn (dyndns2): one run of the client with its cache saying
 *   the names hold the old address (ddclient `-daemon 0`, inadyn `--once`) while the what's-my-IP
 *   service answers the new one. Time: the client's lookup was answered → the provider answered
 *   its last update request.
 * Afterwards named is asked for every name: "names updated" counts those holding the new address.
 */
import { writeFileSync } from 'node:fs';
import { parseAddressSet } from '../src/core/address';
import { parseHostnames } from '../src/core/hostname';
import type { DnsServer } from '../src/core/dns/transport';
import type { TsigKey } from '../src/core/dns/tsig';
import { closeHttpPools } from '../src/core/http';
import { definition as dyndns2 } from '../src/core/providers/dyndns2';
import { definition as rfc2136 } from '../src/core/providers/rfc2136';
import type { DnsProvider } from '../src/core/providers/types';
import { UpdateEngine } from '../src/core/update/engine';
import { BRIDGE_USER, ddclientFiles, INADYN_MAX_ALIASES, startDdclient, startInadyn, type Protocol } from './clients';
import { countHolding, preset, type DnsProxy } from './dns-relay';
import type { Dyndns2Bridge, IpPath, IpService, ProviderLog } from './servers';
import { log, now, tempDir, type Managed } from './util';

export const SCALE_OLD = '198.51.100.200';
export const SCALE_NEW = '198.51.100.201';
/** A run that takes longer than this is stopped and reported as such. */
const RUN_LIMIT_MS = 5 * 60_000;

export interface ScaleRow {
  software: string;
  protocol: Protocol;
  n: number;
  /** null: did not finish (see note). */
  ms: number | null;
  /** Lookups at the what's-my-IP service (0 for this package's core, which is given the address). */
  lookups: number;
  updates: number;
  queries: number;
  updated: number;
  note?: string;
}

export interface ScaleContext {
  named: DnsServer;
  key: TsigKey;
  zone: string;
  ipService: IpService;
  relay: DnsProxy;
  bridge: Dyndns2Bridge;
  bridgePassword: string;
}

const namesFor = (client: string, n: number, zone: string) =>
  Array.from({ length: n }, (_, i) => `h${i}.n${n}.${client}.${zone}`);

function counts(
  p: ProviderLog,
  from: number,
): { updates: number; queries: number; lastDone: number | undefined; answers: string[] } {
  const es = p.entries.slice(from);
  const ups = es.filter((e) => e.kind === 'update');
  return {
    updates: ups.length,
    queries: es.length - ups.length,
    lastDone: ups.reduce<number | undefined>(
      (m, e) => (e.tDone !== undefined && (m === undefined || e.tDone > m) ? e.tDone : m),
      undefined,
    ),
    answers: [...new Set(ups.map((e) => e.answer ?? '?'))],
  };
}

async function prepare(c: ScaleContext, names: string[]): Promise<void> {
  await preset(c.named, c.key, c.zone, names, SCALE_OLD);
  for (const n of names) c.bridge.assume(n, SCALE_OLD);
}

/** This package's core: engine + provider. */
export async function scaleOurs(c: ScaleContext, protocol: Protocol, n: number): Promise<ScaleRow> {
  const names = namesFor(protocol === 'RFC 2136' ? 'ours-rfc' : 'ours-d2', n, c.zone);
  await prepare(c, names);
  const provider: DnsProvider =
    protocol === 'RFC 2136'
      ? rfc2136.create(
          rfc2136.settings.parse({
            server: c.relay.endpoint,
            zone: c.zone,
            keyName: c.key.name,
            algorithm: c.key.algorithm,
            tsigSecret: c.key.secret,
            ttl: 60,
          }),
          {},
        )
      : dyndns2.create(
          dyndns2.settings.parse({ endpoint: c.bridge.endpoint, username: BRIDGE_USER, password: c.bridgePassword }),
          {},
        );
  const log_: ProviderLog = protocol === 'RFC 2136' ? c.relay : c.bridge;
  const engine = new UpdateEngine({ provider, accountKey: `bench-${protocol}-${n}`, minIntervalMs: 0 });
  try {
    await engine.update({ hostnames: parseHostnames(names), addresses: parseAddressSet({ ipv4: SCALE_OLD }) }); // learn the old state
    const mark = log_.entries.length;
    const t0 = now();
    const results = await engine.update({
      hostnames: parseHostnames(names),
      addresses: parseAddressSet({ ipv4: SCALE_NEW }),
    });
    const ms = now() - t0;
    const k = counts(log_, mark);
    const failed = results.filter((r) => r.status === 'failed');
    const updated = await countHolding(c.named, names, SCALE_NEW);
    return {
      software: 'node-red-contrib-ddns',
      protocol,
      n,
      ms,
      lookups: 0,
      updates: k.updates,
      queries: k.queries,
      updated,
      note: failed.length ? `${failed.length} failed: ${failed[0].message}` : undefined,
    };
  } finally {
    engine.stop();
    await provider.close?.();
    await closeHttpPools();
  }
}

/** A peer run: returns the row, measured at the servers. */
async function peerRun(
  c: ScaleContext,
  software: string,
  protocol: Protocol,
  n: number,
  names: string[],
  start: (ipUrl: string, path: IpPath) => Managed,
  remark?: string,
): Promise<ScaleRow> {
  await prepare(c, names);
  const path = c.ipService.add(`scale-${software}-${protocol === 'RFC 2136' ? 'rfc' : 'd2'}-${n}`, SCALE_NEW);
  const provider: ProviderLog = protocol === 'RFC 2136' ? c.relay : c.bridge;
  const mark = provider.entries.length;
  const proc = start(c.ipService.url(path), path);
  const limit = setTimeout(() => void proc.stop(), RUN_LIMIT_MS);
  const code = await proc.exited;
  clearTimeout(limit);
  await proc.stop();
  const k = counts(provider, mark);
  const seen = path.lookups.find((l) => l.address === SCALE_NEW)?.t;
  const updated = await countHolding(c.named, names, SCALE_NEW);
  const ms = seen !== undefined && k.lastDone !== undefined && updated === n ? k.lastDone - seen : null;
  let note = remark;
  if (updated < n) {
    const bad = k.answers.filter((a) => a !== 'good' && a !== 'nochg' && a !== '0');
    note =
      k.updates === 0
        ? `no update sent (exit ${code})`
        : bad.length
          ? `provider answered ${bad.join(', ')}`
          : `exit ${code}`;
    if (bad.includes('numhost')) note = `numhost: all ${n} names in one request (the protocol allows ${20})`;
  }
  return {
    software,
    protocol,
    n,
    ms,
    lookups: path.lookups.length,
    updates: k.updates,
    queries: k.queries,
    updated,
    note,
  };
}

export function scaleDdclient(c: ScaleContext, protocol: Protocol, n: number): Promise<ScaleRow> {
  const id = protocol === 'RFC 2136' ? 'ddclient-rfc' : 'ddclient-d2';
  const names = namesFor(id, n, c.zone);
  const dir = tempDir(`scale-${id}-${n}`);
  return peerRun(c, 'ddclient', protocol, n, names, (ipUrl) => {
    const opts = {
      id,
      dir,
      ipUrl,
      names,
      zone: c.zone,
      key: c.key,
      relay: protocol === 'RFC 2136' ? c.relay : undefined,
      bridge: protocol === 'dyndns2' ? c.bridge : undefined,
      bridgePassword: c.bridgePassword,
    };
    const f = ddclientFiles(opts);
    // the cache says: every name holds the old address, last written a day ago, successfully
    const t = Math.floor(Date.now() / 1000) - 86_400;
    writeFileSync(
      f.cache,
      `## ddclient-3.10.0\n${names.map((h) => `atime=${t},host=${h},ip=${SCALE_OLD},mtime=${t},status=good,wtime=0 ${h}`).join('\n')}\n`,
    );
    return startDdclient(opts);
  });
}

export function scaleInadyn(c: ScaleContext, n: number): Promise<ScaleRow> {
  const names = namesFor('inadyn', n, c.zone);
  const dir = tempDir(`scale-inadyn-${n}`);
  const sections = Math.ceil(n / INADYN_MAX_ALIASES);
  return peerRun(
    c,
    'inadyn',
    'dyndns2',
    n,
    names,
    (_ipUrl, path) =>
      startInadyn({
        id: `scale-${n}`,
        dir,
        ipService: c.ipService,
        ip: path,
        bridge: c.bridge,
        bridgePassword: c.bridgePassword,
        names,
        cachedAddress: SCALE_OLD,
        periodS: 60,
        once: true,
      }),
    sections > 1
      ? `${sections} provider sections of ${INADYN_MAX_ALIASES} names (inadyn's limit per section)`
      : undefined,
  );
}

/** Every row of the scale figure for the sizes given; a failing row never stops the others. */
export async function measureScale(
  c: ScaleContext,
  sizes: number[],
  peers: { ddclient: boolean; inadyn: boolean },
): Promise<ScaleRow[]> {
  const rows: ScaleRow[] = [];
  const jobs: Array<[string, Protocol, number, () => Promise<ScaleRow>]> = [];
  for (const n of sizes) {
    jobs.push(['node-red-contrib-ddns', 'RFC 2136', n, () => scaleOurs(c, 'RFC 2136', n)]);
    if (peers.ddclient) jobs.push(['ddclient', 'RFC 2136', n, () => scaleDdclient(c, 'RFC 2136', n)]);
    jobs.push(['node-red-contrib-ddns', 'dyndns2', n, () => scaleOurs(c, 'dyndns2', n)]);
    if (peers.ddclient) jobs.push(['ddclient', 'dyndns2', n, () => scaleDdclient(c, 'dyndns2', n)]);
    if (peers.inadyn) jobs.push(['inadyn', 'dyndns2', n, () => scaleInadyn(c, n)]);
  }
  for (const [software, protocol, n, job] of jobs) {
    try {
      const r = await job();
      rows.push(r);
      log(
        `scale: ${software} ${protocol} ${n} names: ${r.ms === null ? 'not done' : `${Math.round(r.ms)} ms`}, ${r.lookups} lookups, ${r.updates} updates + ${r.queries} queries, ${r.updated}/${n} updated${r.note ? ` (${r.note})` : ''}`,
      );
    } catch (e) {
      rows.push({
        software,
        protocol,
        n,
        ms: null,
        lookups: 0,
        updates: 0,
        queries: 0,
        updated: 0,
        note: `bench error: ${(e as Error).message}`,
      });
      log(`scale: ${software} ${protocol} ${n}: ${(e as Error).message}`);
    }
  }
  return rows;
}
