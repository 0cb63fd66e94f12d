/**
 * `--only memory` (issue 17): the package's marginal resident memory inside Node-RED, as a new user
 * gets it: the packed package (npm pack + install, test/support/packed.ts) in a Node-RED with one
 * of each node deployed, beside a Node-RED alone; both idle, then N address changes (router pushes,
 * each confirmed by the what's-my-IP URL, dns-update with minInterval 0 on a dry-run account).
 * cert-renew holds a valid certificate (not due) and checks it on start against Pebble's directory.
 *
 * A third Node-RED, without the package, gets the same requests through core nodes (http in → http
 * request to the same what's-my-IP URL → http response): V8 grows its young generation under any
 * such burst of requests and gives it back only at a moment of its own, so "after N changes" is
 * compared with that process too, beside Node-RED alone idle.
 */
import { packPackage } from '../test/support/packed';
import { startPebble } from '../test/support/pebble';
import { selfSignedCertificate } from '../test/support/openssl';
import { oursFlows, routerPush } from './clients';
import { fullGcFlow, startNodeRed, type BenchNodeRed, type HeapSpaces } from './node-red';
import { IpService } from './servers';
import { log, median, onCleanup, rssBytes, rssParts, sleep, tempDir, type RssParts } from './util';

/** Where a process's RSS lies (smaps), and V8's young and old generation then (MB committed). */
export interface Where {
  rss: RssParts | null;
  heap: HeapSpaces | null;
}

export interface MemoryFigures {
  aloneMb: number[];
  /** The Node-RED with the core-nodes flow, idle: a second process without the package. */
  coreIdleMb: number[];
  withMb: number[];
  marginalMb: number;
  /** Where each process's RSS lies when the idle samples were taken (alone, with, core). */
  idleParts: Where[];
  afterChanges: {
    changes: number;
    answered: number;
    withMb: number[];
    marginalMb: number;
    /** Node-RED without the package after the same requests through core nodes, and ours minus it. */
    coreMb: number[];
    marginalVsCoreMb: number;
    parts: Where[];
  }[];
  /**
   * After the last changes, once every process has run a full garbage collection (V8 keeps its
   * grown young generation and the garbage of a burst until a collection of its own choosing):
   * RSS of alone, with, core (MB) and where it lies. What the package still holds then is retained.
   */
  afterFullGc: { mb: number[]; parts: Where[] };
}

const mb = (b: number | null) => (b === null ? NaN : b / 1e6);

/**
 * `n` samples of each process's RSS, `everyMs` apart, taken once every process has settled: its
 * last `2n` samples lie within 1 MB. V8 gives memory back to the system some time after a burst
 * (start-up, deploy, a run of changes), at a moment of its own: an unsettled sample can be 30 to
 * 50 MB off either way, and a plateau of 15 s was seen before a drop. Waits at most `maxMs`, then
 * logs that a process did not settle and returns the last samples.
 */
async function samples(
  procs: Array<[string, BenchNodeRed]>,
  n: number,
  everyMs: number,
  maxMs = 180_000,
): Promise<number[][]> {
  const seen: number[][] = procs.map(() => []);
  const last = (k: number) => seen.map((xs) => xs.slice(-k));
  const settled = () => last(2 * n).every((xs) => xs.length === 2 * n && Math.max(...xs) - Math.min(...xs) <= 1);
  const t0 = Date.now();
  for (let i = 0; !settled(); i++) {
    if (i) await sleep(everyMs);
    procs.forEach(([, p], k) => seen[k].push(mb(rssBytes(p.proc.pid))));
    if (Date.now() - t0 > maxMs) {
      log(`memory: not settled after ${maxMs / 1000} s`);
      break;
    }
  }
  log(
    `memory: RSS every ${everyMs / 1000} s until settled: ${procs.map(([label], k) => `${label}: ${seen[k].map((x) => x.toFixed(0)).join(' ')}`).join('; ')} MB`,
  );
  return last(n);
}

export async function measureMemory(o: { idleMs: number; changes: number[] }): Promise<MemoryFigures> {
  const { tgz } = packPackage(tempDir('pack'));
  const pebble = await startPebble({ dnsServer: '127.0.0.1:9' });
  onCleanup('pebble', () => pebble.stop());
  const ipService = await new IpService().start();
  const ip = ipService.add('mem', '198.51.100.1');
  const push = { path: '/bench/push', token: 'memory-bench-token-0123456789' };
  const name = 'mem.bench.test';
  const certDir = tempDir('cert');
  selfSignedCertificate(certDir, 90, [name]); // not due

  const flows = oursFlows({
    clients: [{ id: 'mem', name, ip, push, bridge: { endpoint: '' } as never }], // replaced by dryrun below
    ipService,
    key: { name: 'unused', algorithm: 'hmac-sha256', secret: '' } as never,
    zone: 'bench.test',
    bridgePassword: '',
    periodS: 3600,
  }) as Record<string, unknown>[];
  for (const n of flows) {
    if (n.type === 'ddns-account') Object.assign(n, { provider: 'dryrun', settings: {}, credentials: {} });
    if (n.type === 'dns-update') n.minInterval = 0;
  }
  flows.push(
    {
      id: 'reach-mem',
      type: 'reachability-check',
      z: 'bench-tab',
      name: 'reach',
      ...{ dnsAuthoritative: false, dnsPublic: false, dnsSystem: false, natDiagnosis: false, timeout: 2 },
      wires: [[], []],
    },
    {
      id: 'cert-mem',
      type: 'cert-renew',
      z: 'bench-tab',
      account: 'acc-mem',
      names: name,
      ca: 'custom',
      directoryUrl: pebble.directoryUrl,
      caCert: pebble.caPem,
      outDir: certDir,
      checkOnStart: true,
      wires: [[], []],
    },
  );
  for (const n of flows) if (n.type !== 'tab' && n.type !== 'ddns-account') Object.assign(n, { x: 100, y: 100 });

  const alone = await startNodeRed('Node-RED alone', { withPackage: false, fullGc: true });
  onCleanup('Node-RED alone', () => alone.stop());
  const core = await startNodeRed('Node-RED, core nodes', { withPackage: false, fullGc: true });
  onCleanup('Node-RED, core nodes', () => core.stop());
  const ours = await startNodeRed('Node-RED + packed package', { withPackage: false, packed: tgz, fullGc: true });
  onCleanup('Node-RED + packed package', () => ours.stop());
  // each process also gets the bench's full-GC endpoint (the same three core nodes in each)
  await ours.deploy([...flows, ...fullGcFlow('bench-tab')]);
  await alone.deploy([{ id: 'bench-tab', type: 'tab', label: 'bench' }, ...fullGcFlow('bench-tab')]);
  await core.deploy([...coreFlow(`${push.path}/nic/update`, ipService.url(ip)), ...fullGcFlow('bench-tab')]);
  log(`memory: both deployed; idle ${o.idleMs / 1000} s`);
  await sleep(o.idleMs);
  const both: Array<[string, BenchNodeRed]> = [
    ['alone', alone],
    ['with', ours],
    ['core', core],
  ];
  const [a, w, c] = await samples(both, 3, 5_000);
  const partsOfAll = () =>
    Promise.all(both.map(async ([, p]) => ({ rss: rssParts(p.proc.pid), heap: await p.heap().catch(() => null) })));
  const idleParts = await partsOfAll();
  // The lower of the two processes without the package: one of them often still holds start-up
  // memory V8 has not given back (seen: 112 against 87 MB); the lower baseline never flatters.
  const marginal = median(w) - Math.min(median(a), median(c));
  log(`memory: alone ${a.map((x) => x.toFixed(1)).join('/')} MB, with ${w.map((x) => x.toFixed(1)).join('/')} MB`);
  const afterChanges: MemoryFigures['afterChanges'] = [];
  let done = 0;
  let answered = 0;
  for (const target of o.changes) {
    const t0 = Date.now();
    for (; done < target; done++) {
      const address = `198.51.${100 + (Math.floor(done / 250) % 3)}.${(done % 250) + 2}`;
      ip.address = address;
      const r = await routerPush({ nodeRedUrl: ours.url, ...push, name, address }).catch(() => '');
      if (/^(good|nochg)/.test(r)) answered++;
      await routerPush({ nodeRedUrl: core.url, ...push, name, address }).catch(() => '');
      await sleep(20);
    }
    await sleep(10_000);
    const [a2, w2, c2] = await samples(both, 3, 5_000);
    const parts = await partsOfAll();
    afterChanges.push({
      changes: done,
      answered,
      withMb: w2,
      marginalMb: median(w2) - median(a2),
      coreMb: c2,
      marginalVsCoreMb: median(w2) - median(c2),
      parts,
    });
    log(
      `memory: after ${done} changes (${answered} answered good/nochg; ${((Date.now() - t0) / 1000).toFixed(0)} s) with ${w2.map((x) => x.toFixed(1)).join('/')} MB`,
    );
  }
  // last, so that it changes none of the figures above
  const heaps: HeapSpaces[] = [];
  for (const [, p] of both) heaps.push(await p.fullGc());
  await sleep(5_000);
  const afterFullGc = {
    mb: both.map(([, p]) => mb(rssBytes(p.proc.pid))),
    parts: both.map(([, p], k) => ({ rss: rssParts(p.proc.pid), heap: heaps[k] })),
  };
  log(`memory: after a full GC: ${afterFullGc.mb.map((x) => x.toFixed(1)).join(' / ')} MB (alone / with / core)`);
  return { aloneMb: a, coreIdleMb: c, withMb: w, marginalMb: marginal, idleParts, afterChanges, afterFullGc };
}

/** The same traffic through core nodes: the router's request → the what's-my-IP URL → its answer sent back. */
function coreFlow(path: string, ipUrl: string): object[] {
  const z = 'bench-tab';
  return [
    { id: z, type: 'tab', label: 'bench' },
    { id: 'in', type: 'http in', z, url: path, method: 'get', x: 100, y: 100, wires: [['req']] },
    { id: 'req', type: 'http request', z, method: 'GET', ret: 'txt', url: ipUrl, x: 300, y: 100, wires: [['res']] },
    { id: 'res', type: 'http response', z, x: 700, y: 100, wires: [] },
  ];
}

/** Issue 17's goals: marginal resident memory idle, and after 1,000 address changes. */
export const MEMORY_GOAL = { idleMb: 15, changes: 1000, afterChangesMb: 20 };

export function memoryReport(f: MemoryFigures): string {
  const row = (label: string, xs: number[], m: number, goal: string) =>
    `| ${label} | ${xs.map((x) => x.toFixed(1)).join(' / ')} | ${m.toFixed(1)} | ${goal} |`;
  const judge = (m: number, limit: number) => `≤ ${limit} MB: ${m <= limit ? 'met' : 'NOT met'}`;
  // glibc's malloc settings change where freed memory goes (see bench/README.md): say when a run had any
  const tunables = process.env.GLIBC_TUNABLES
    ? [`Every process of this run had GLIBC_TUNABLES=${process.env.GLIBC_TUNABLES}.`, '']
    : [];
  return [
    ...tunables,
    '| Node-RED, packed package, one of each node | RSS samples (MB) | marginal (MB, medians) | goal (issue 17) |',
    '|---|---|---|---|',
    row('Node-RED alone, idle', f.aloneMb, 0, ''),
    row('Node-RED with the core-nodes flow, idle', f.coreIdleMb, 0, ''),
    row(
      'with the package, idle; marginal = with − the lower of the two',
      f.withMb,
      f.marginalMb,
      judge(f.marginalMb, MEMORY_GOAL.idleMb),
    ),
    ...f.afterChanges.flatMap((c) => {
      const goal = (m: number) =>
        c.changes >= MEMORY_GOAL.changes
          ? judge(m, MEMORY_GOAL.afterChangesMb)
          : `(the goal is for ${MEMORY_GOAL.changes.toLocaleString('en')} changes)`;
      return [
        row(
          `after ${c.changes} address changes (${c.answered} pushes answered)`,
          c.withMb,
          c.marginalMb,
          goal(c.marginalMb),
        ),
        row(
          `Node-RED alone after the same ${c.changes} requests through core nodes; marginal = with − it`,
          c.coreMb,
          c.marginalVsCoreMb,
          goal(c.marginalVsCoreMb),
        ),
      ];
    }),
    `| then a full GC in each process (alone / with / core); retained by the changes = with after it − with idle (not a goal) | ${f.afterFullGc.mb.map((x) => x.toFixed(1)).join(' / ')} | ${(f.afterFullGc.mb[1] - median(f.withMb)).toFixed(1)} | |`,
    '',
    "Where the RSS lies (MB, /proc/PID/smaps): malloc heaps of threads other than the main one (V8's compilers,",
    "libuv's pool; glibc keeps what they free resident), the main malloc heap, other anonymous memory (V8's heap",
    "pages, code), mapped files; and of V8's heap (in the other anonymous memory) the young generation, which V8",
    'grows under a burst of allocation and shrinks when it chooses, and the old generation (MB committed).',
    '',
    '| when | process | thread arenas | main malloc | other anonymous | files | V8 young generation | V8 old generation |',
    '|---|---|---|---|---|---|---|---|',
    ...partsRows('idle', f.idleParts),
    ...f.afterChanges.flatMap((c) => partsRows(`after ${c.changes} changes`, c.parts)),
    ...partsRows('then a full GC', f.afterFullGc.parts),
  ].join('\n');
}

function partsRows(when: string, parts: Where[]): string[] {
  const mbOf = (b: number) => (b / 1e6).toFixed(1);
  return ['alone', 'with the package', 'core-nodes flow'].map((label, k) => {
    const { rss: p, heap: h } = parts[k];
    const rss = p ? [p.threadArenas, p.mainMalloc, p.anon, p.files].map(mbOf) : ['–', '–', '–', '–'];
    const heap = h ? [h.young, h.old].map((x) => x.toFixed(1)) : ['–', '–'];
    return `| ${when} | ${label} | ${[...rss, ...heap].join(' | ')} |`;
  });
}
