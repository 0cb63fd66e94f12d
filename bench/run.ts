/**
 * `npm run bench` — this package side by side with ddclient, inadyn and certbot, on loopback only.
 *
 *   node dist/bench/run.js [--quick] [--out FILE] [--skip-missing] [--seed N] [--only router|memory|scale|certs]
 *
 * Full run (~15 min): writes bench/RESULTS.md. --quick (~4 min): fewer samples, prints only
 * (unless --out is given). --skip-missing runs without the peers that are not installed.
 * --only memory: only the memory rows of issue 17 (bench/memory.ts), against its goals, prints only.
 * --only scale: only figure 5 at 1,000 names (this package and the installed peers), prints only.
 * --only certs: only figure 6 (this package, certbot with a 1 s and with its default wait), prints only.
 * --only router: only the router row of issue 8 (staleness, steady cost and footprint of
 * public-ip-watch with the router source; needs root and miniupnpd), prints only.
 * Phases: set-up → 1–2 staleness/reaction → 3–4 steady state and footprint (6 certificates run
 * meanwhile) → 5 scale → report. Everything started is stopped by its pid, on errors and Ctrl-C too.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DnsServer } from '../src/core/dns/transport';
import { closeHttpPools } from '../src/core/http';
import { bindUnavailable, startBind } from '../test/support/bind';
import { startPebble } from '../test/support/pebble';
import { measureCerts, type CertRow } from './certs';
import { oursFlows, routerPush, startDdclient, startInadyn, type OursFlowClient, type RunningClient } from './clients';
import { checkEnvironment, describeMachine, describeMissing } from './env';
import { REPO_ROOT, startNodeRed } from './node-red';
import { certHeadline, certSection, renderReport, scaleHeadline, scaleSection } from './report';
import { measureScale } from './scale';
import { httpArenaReport, measureHttpArena } from './http-arena';
import { measureMemory, memoryReport } from './memory';
import { DnsProxy, countHolding, preset } from './dns-relay';
import { ROUTER_START, routerUnavailable, startRouterClient, type RouterClient } from './router';
import { Dyndns2Bridge, IpService } from './servers';
import { figures, measureStaleness, type StalenessFigures } from './staleness';
import { loadCosts, measureSteady, type WatchedProcess } from './steady';
import { cleanupAll, installExitHandlers, log, now, onCleanup, pollUntil, tempDir, type Managed } from './util';

const ZONE = 'bench.test';
/** The address every client starts with. */
const START_ADDRESS = '198.51.100.1';
/** The budget the issue asks about: 12 lookups per hour. */
const BUDGET_PERIOD_S = 300;
/** The shortest period ddclient allows (it never polls more often than every 60 s). */
const PERIOD_S = 60;

interface Args {
  quick: boolean;
  out?: string;
  skipMissing: boolean;
  seed: number;
  /** Only the router row (issue 8). */
  onlyRouter: boolean;
  /** Only the memory rows (issue 17). */
  onlyMemory: boolean;
  /** Only figure 5 at 1,000 names (issue 17), or only figure 6. */
  onlyScale: boolean;
  onlyCerts: boolean;
}

function parseArgs(argv: string[]): Args {
  const a: Args = {
    quick: false,
    skipMissing: false,
    seed: 20_260_101,
    onlyRouter: false,
    onlyMemory: false,
    onlyScale: false,
    onlyCerts: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i];
    if (v === '--quick') a.quick = true;
    else if (v === '--skip-missing') a.skipMissing = true;
    else if (v === '--out') a.out = argv[++i];
    else if (v === '--seed') a.seed = Number(argv[++i]);
    else if (v === '--only') {
      const what = argv[++i];
      if (what === 'router') a.onlyRouter = true;
      else if (what === 'memory') a.onlyMemory = true;
      else if (what === 'scale') a.onlyScale = true;
      else if (what === 'certs') a.onlyCerts = true;
      else throw new Error(`--only knows "router", "memory", "scale" and "certs", not ${what}`);
    } else if (v === '--help' || v === '-h') {
      process.stdout.write(
        'usage: node dist/bench/run.js [--quick] [--out FILE] [--skip-missing] [--seed N] [--only router|memory|scale|certs]\n',
      );
      process.exit(0);
    } else throw new Error(`unknown option ${v} (try --help)`);
  }
  if (!a.quick && !a.onlyRouter && !a.onlyMemory && !a.onlyScale && !a.onlyCerts && a.out === undefined)
    a.out = join(REPO_ROOT, 'bench', 'RESULTS.md');
  return a;
}

async function main(): Promise<void> {
  installExitHandlers();
  const args = parseArgs(process.argv.slice(2));
  if (args.onlyMemory) {
    const f = await measureMemory(
      // 1,000 changes take about a minute: the quick run makes them too
      args.quick ? { idleMs: 30_000, changes: [1000] } : { idleMs: 120_000, changes: [50, 1000] },
    );
    process.stdout.write(`${memoryReport(f)}\n\n${httpArenaReport(measureHttpArena())}\n`);
    await cleanupAll();
    return;
  }
  if (args.onlyScale || args.onlyCerts) return onlyScaleOrCerts(args);
  const plan = args.onlyRouter
    ? // the router row waits at least 30 s between changes: a longer window for a few samples
      args.quick
      ? { stalenessMs: 4 * 60_000, steadyMs: 60_000, sizes: [] }
      : { stalenessMs: 11 * 60_000, steadyMs: 2 * 60_000, sizes: [] }
    : args.quick
      ? { stalenessMs: 150_000, steadyMs: 60_000, sizes: [1, 10, 100] }
      : { stalenessMs: 11 * 60_000, steadyMs: 4 * 60_000, sizes: [1, 10, 100, 1000] };
  const startedAt = new Date();
  const t0 = now();
  const notes: string[] = [];

  // ------------------------------------------------------------------ what the machine has
  const env = checkEnvironment();
  if (env.required.length || bindUnavailable()) {
    process.stderr.write(
      `The bench needs ${describeMissing(env.required)}${bindUnavailable() ? ` (${bindUnavailable()})` : ''}.\n`,
    );
    process.exit(2);
  }
  if (env.peers.length && !args.skipMissing) {
    process.stderr.write(
      `Missing peers: ${describeMissing(env.peers)}.\nOr run with --skip-missing to leave them out.\n`,
    );
    process.exit(2);
  }
  const has = {
    ddclient: !args.onlyRouter && !env.peers.some((p) => p.pkg === 'ddclient'),
    inadyn: !args.onlyRouter && !env.peers.some((p) => p.pkg === 'inadyn'),
    certbot: !args.onlyRouter && !env.peers.some((p) => p.pkg.includes('certbot')),
  };
  // the router row (issue 8) needs root, network namespaces and miniupnpd: without them it is skipped
  const routerWhy = routerUnavailable();
  if (routerWhy) {
    log(`router row skipped: ${routerWhy}`);
    notes.push(`Not measured: the router row (public-ip-watch with the router source) — ${routerWhy}.`);
    if (args.onlyRouter) {
      process.stderr.write(`--only router: the router row cannot run here: ${routerWhy}\n`);
      process.exit(2);
    }
  }
  for (const p of env.peers) notes.push(`Not measured: ${p.what} is not installed (apt-get install ${p.pkg}).`);
  for (const s of env.strays) {
    log(`warning: ${s} is already running on this machine (not started by the bench; left alone)`);
    notes.push(`A ${s} not started by the bench was running during the run.`);
  }
  const machine = describeMachine();
  log(
    `${args.quick ? 'quick' : 'full'} run; staleness window ${plan.stalenessMs / 60_000} min, steady window ${plan.steadyMs / 60_000} min, scale ${plan.sizes.join('/')}`,
  );

  // ------------------------------------------------------------------ the real servers
  const named = await startBind([{ name: ZONE, ttl: 60 }]);
  onCleanup('named', () => named.stop());
  const ns: DnsServer = { host: '127.0.0.1', port: named.port };
  const key = named.keys.sha256;
  const pebble = args.onlyRouter ? undefined : await startPebble({ dnsServer: `127.0.0.1:${named.port}` });
  if (pebble) onCleanup('pebble', () => pebble.stop());
  const ipService = await new IpService().start();
  const bridgePassword = randomBytes(12).toString('hex');
  const newBridge = () =>
    new Dyndns2Bridge({ named: ns, key, zone: ZONE, username: 'bench', password: bridgePassword }).start();
  log(
    `named on 127.0.0.1:${named.port}, Pebble at ${pebble?.directoryUrl ?? '(not needed)'}, what's-my-IP on port ${ipService.port}`,
  );

  // ------------------------------------------------------------------ the clients
  const clients: RunningClient[] = [];
  const procs: WatchedProcess[] = [];
  const add = async (id: string, software: string, protocol: RunningClient['protocol']) => {
    const c: RunningClient = {
      id,
      software,
      protocol,
      name: `${id}.${ZONE}`,
      ip: ipService.add(id, START_ADDRESS),
      provider: protocol === 'RFC 2136' ? await new DnsProxy(ns).start() : await newBridge(),
      periodS: PERIOD_S,
    };
    clients.push(c);
    return c;
  };
  const oursRfc = args.onlyRouter ? undefined : await add('ours-rfc2136', 'node-red-contrib-ddns', 'RFC 2136');
  const oursD2 = args.onlyRouter ? undefined : await add('ours-dyndns2', 'node-red-contrib-ddns', 'dyndns2');
  // Issue 16: the same flow with a router-push source; at each change the "router" pushes at once.
  const oursPush = args.onlyRouter
    ? undefined
    : await add('ours-push', 'node-red-contrib-ddns, router push', 'dyndns2');
  const push = { path: '/bench/push', token: randomBytes(16).toString('hex') };
  if (oursPush) {
    oursPush.pushed = true;
    oursPush.minGapMs = 30_000; // dns-update's minInterval: a sooner change would measure the rate limit
    oursPush.roomMs = 40_000;
  }
  const ddRfc = has.ddclient ? await add('ddclient-nsupdate', 'ddclient', 'RFC 2136') : undefined;
  const ddD2 = has.ddclient ? await add('ddclient-dyndns2', 'ddclient', 'dyndns2') : undefined;
  const ina = has.inadyn ? await add('inadyn-dyndns2', 'inadyn', 'dyndns2') : undefined;
  // Issue 8: public-ip-watch with only the router source (miniupnpd in network namespaces the
  // bench makes), its `ip.lookups` the router's answers seen at the router, its address change
  // made on the router's WAN side, at zero external lookups (router.ts).
  let routerClient: RouterClient | undefined;
  if (!routerWhy) {
    const id = 'ours-router';
    routerClient = await startRouterClient({
      id,
      name: `${id}.${ZONE}`,
      bridge: await newBridge(),
      bridgePassword,
      periodS: PERIOD_S,
    });
    routerClient.minGapMs = 30_000; // dns-update's minInterval: a sooner change would measure the rate limit
    routerClient.roomMs = 40_000; // a lost announcement: the 30 s safety poll, then the update
    clients.push(routerClient);
    procs.push({
      label: 'Node-RED + node-red-contrib-ddns (router flow, in the client namespace)',
      pid: routerClient.nodeRedPid,
    });
  }

  const startOf = (c: RunningClient) => c.startAddress ?? START_ADDRESS;
  for (const start of new Set(clients.map(startOf)))
    await preset(
      ns,
      key,
      ZONE,
      clients.filter((c) => startOf(c) === start).map((c) => c.name),
      start,
    );
  for (const c of clients) if (c.provider instanceof Dyndns2Bridge) c.provider.assume(c.name, startOf(c));

  const redWith = args.onlyRouter ? undefined : await startNodeRed('Node-RED + package', { withPackage: true });
  const oursFlowClients: OursFlowClient[] = [oursRfc, oursD2, oursPush]
    .filter((c) => c !== undefined)
    .map((c) => ({
      id: c.id,
      name: c.name,
      ip: c.ip,
      relay: c.provider instanceof DnsProxy ? c.provider : undefined,
      bridge: c.provider instanceof Dyndns2Bridge ? c.provider : undefined,
      push: c === oursPush ? push : undefined,
    }));
  if (oursPush && redWith) {
    const nodeRedUrl = redWith.url;
    // The router's client: the WAN address changes (its what's-my-IP path answers it) and it pushes at once.
    oursPush.change = async (address) => {
      oursPush.ip.address = address;
      const answer = await routerPush({ nodeRedUrl, ...push, name: oursPush.name, address });
      if (!answer.startsWith('good ')) log(`${oursPush.id}: the push of ${address} was answered "${answer}"`);
    };
  }
  if (redWith) {
    await redWith.deploy(
      oursFlows({ clients: oursFlowClients, ipService, key, zone: ZONE, bridgePassword, periodS: PERIOD_S }),
    );
    procs.unshift({
      label: 'Node-RED + node-red-contrib-ddns (3 flows: RFC 2136, dyndns2, dyndns2 with router push)',
      pid: redWith.proc.pid,
    });
  }
  const redBare = args.onlyRouter ? undefined : await startNodeRed('Node-RED alone', { withPackage: false });
  if (redBare) procs.splice(1, 0, { label: 'Node-RED alone (no package, no flows)', pid: redBare.proc.pid });

  // ddclient's nsupdate protocol never marks an update "good" in its cache (3.10), so its
  // min-error-interval (5 min) would hold back a change that comes within 5 minutes of the
  // previous update. Real changes are hours apart; the compressed schedule of the bench is not,
  // so both ddclient instances get min-error-interval = min-interval = 30 s (ours: 30 s too).
  const ddExtra = ['min-error-interval=30s'];
  const daemons: Managed[] = [];
  const ddRfcDir = tempDir('ddclient-rfc');
  if (ddRfc) {
    const p = startDdclient({
      id: ddRfc.id,
      dir: ddRfcDir,
      ipUrl: ipService.url(ddRfc.ip),
      names: [ddRfc.name],
      zone: ZONE,
      key,
      relay: ddRfc.provider as DnsProxy,
      daemonS: PERIOD_S,
      extra: ddExtra,
    });
    daemons.push(p);
    procs.push({ label: 'ddclient (nsupdate)', pid: p.pid });
  }
  if (ddD2) {
    const p = startDdclient({
      id: ddD2.id,
      dir: tempDir('ddclient-d2'),
      ipUrl: ipService.url(ddD2.ip),
      names: [ddD2.name],
      zone: ZONE,
      key,
      bridge: ddD2.provider as Dyndns2Bridge,
      bridgePassword,
      daemonS: PERIOD_S,
      extra: ddExtra,
    });
    daemons.push(p);
    procs.push({ label: 'ddclient (dyndns2)', pid: p.pid });
  }
  if (ina) {
    const p = startInadyn({
      id: ina.id,
      dir: tempDir('inadyn'),
      ipService,
      ip: ina.ip,
      bridge: ina.provider as Dyndns2Bridge,
      bridgePassword,
      names: [ina.name],
      cachedAddress: START_ADDRESS,
      periodS: PERIOD_S,
    });
    daemons.push(p);
    procs.push({ label: 'inadyn', pid: p.pid });
  }

  // every client has looked once and every name holds the start address
  const ready = await pollUntil(
    async () =>
      clients.every((c) => c.ip.lookups.length > 0) &&
      (await Promise.all(clients.map((c) => countHolding(ns, [c.name], startOf(c))))).every((n) => n === 1),
    120_000,
    500,
  );
  if (!ready)
    throw new Error(
      `not every client started: ${
        clients
          .filter((c) => c.ip.lookups.length === 0)
          .map((c) => c.id)
          .join(', ') || 'records not in place'
      }`,
    );
  log(`set-up done in ${Math.round((now() - t0) / 1000)} s: ${clients.map((c) => c.id).join(', ')}`);

  // ------------------------------------------------------------------ 1–2 staleness
  log(`staleness: changes at random moments for ${plan.stalenessMs / 60_000} min`);
  const samples = await measureStaleness(clients, {
    named: ns,
    windowMs: plan.stalenessMs,
    periodMs: PERIOD_S * 1000,
    seed: args.seed,
  });
  const staleness = new Map<string, StalenessFigures>();
  for (const c of clients)
    staleness.set(c.id, figures(samples.get(c.id) ?? [], PERIOD_S * 1000, BUDGET_PERIOD_S * 1000));
  if (ddRfc && (staleness.get(ddRfc.id)?.n ?? 0) > 0) {
    const status = /(?:^|,)status=([a-z]+)/m.exec(safeRead(join(ddRfcDir, 'ddclient.cache')))?.[1];
    if (status && status !== 'good') {
      notes.push(
        `ddclient's nsupdate protocol records its successful updates as \`status=${status}\` in its cache (seen after the ${staleness.get(ddRfc.id)!.n} ` +
          'successful change(s) of this run). With its default min-error-interval (5 min) a change that comes within 5 minutes of the previous ' +
          'update is therefore held back until those 5 minutes have passed; the bench sets min-error-interval=30s for both ddclient instances.',
      );
    }
  }

  // ------------------------------------------------------------------ 3–4 steady, 6 certificates meanwhile
  log(`steady state and footprint for ${plan.steadyMs / 60_000} min; certificates meanwhile`);
  const certsDone: Promise<CertRow[]> = pebble
    ? measureCerts({ named: ns, key, zone: ZONE, pebble }, has.certbot)
    : Promise.resolve([]);
  const steady = await measureSteady(clients, procs, plan.steadyMs);
  const certs = await certsDone;

  // the long-running clients are not needed any more: stopped by pid before the scale runs
  await Promise.all([redWith?.stop(), redBare?.stop(), ...daemons.map((d) => d.stop())]);
  if (routerClient) {
    const k = routerClient.counts();
    const q =
      Object.entries(k.queries)
        .map(([p, n]) => `${n} ${p === 'natpmp' ? 'NAT-PMP' : 'UPnP'}`)
        .join(' and ') || 'no';
    notes.push(
      `Router row: public-ip-watch with only the router source (default safety poll 30 s, regular check every ${PERIOD_S} s) against miniupnpd ` +
        `in network namespaces made by the bench; ${routerClient.external()} packet(s) from the client went beyond the router (external lookups, DNS …) ` +
        `during the whole run; the router saw ${q} queries and sent ${k.announcements} announcement(s). Its changes are made on the router's WAN side ` +
        `(${ROUTER_START} → 192.0.3.x: miniupnpd does not report documentation addresses) and come at least 30 s (dns-update's minInterval) + ` +
        `a random 0–${PERIOD_S} s after the previous one; its dyndns2 requests reach the bridge through a Unix socket.`,
    );
  }

  // ------------------------------------------------------------------ 5 scale
  if (plan.sizes.length) log(`scale: ${plan.sizes.join(', ')} names`);
  const scale =
    plan.sizes.length === 0
      ? []
      : await measureScale(
          {
            named: ns,
            key,
            zone: ZONE,
            ipService,
            relay: await new DnsProxy(ns).start(),
            bridge: await newBridge(),
            bridgePassword,
          },
          plan.sizes,
          has,
        );

  // ------------------------------------------------------------------ report
  const report = renderReport({
    mode: args.quick ? 'quick' : 'full',
    startedAt,
    durationMs: now() - t0,
    machine,
    periodS: PERIOD_S,
    budgetPeriodS: BUDGET_PERIOD_S,
    stalenessWindowMs: plan.stalenessMs,
    clients,
    staleness,
    costs: steady.costs,
    footprints: steady.footprints,
    loadCosts: loadCosts(REPO_ROOT),
    scale,
    certs,
    notes,
  });
  process.stdout.write(`${report}\n`);
  if (args.out) {
    writeFileSync(args.out, `${report}\n`);
    log(`written to ${args.out}`);
  }
}

/** `--only scale` (figure 5 at 1,000 names) or `--only certs` (figure 6): named (+ Pebble), the peers found. */
async function onlyScaleOrCerts(args: Args): Promise<void> {
  const env = checkEnvironment();
  if (env.required.length || bindUnavailable()) {
    process.stderr.write(`The bench needs ${describeMissing(env.required)}${bindUnavailable() ?? ''}.\n`);
    process.exit(2);
  }
  const missing = (pkg: string) => env.peers.some((p) => p.pkg.includes(pkg));
  for (const p of env.peers) log(`not measured: ${p.what} is not installed (apt-get install ${p.pkg})`);
  const named = await startBind([{ name: ZONE, ttl: 60 }]);
  onCleanup('named', () => named.stop());
  const ns: DnsServer = { host: '127.0.0.1', port: named.port };
  const key = named.keys.sha256;
  if (args.onlyScale) {
    const ipService = await new IpService().start();
    const bridgePassword = randomBytes(12).toString('hex');
    const bridge = await new Dyndns2Bridge({
      named: ns,
      key,
      zone: ZONE,
      username: 'bench',
      password: bridgePassword,
    }).start();
    const scale = await measureScale(
      { named: ns, key, zone: ZONE, ipService, relay: await new DnsProxy(ns).start(), bridge, bridgePassword },
      [1000],
      { ddclient: !missing('ddclient'), inadyn: !missing('inadyn') },
    );
    process.stdout.write(`${scaleSection(scale)}\n\n${scaleHeadline(scale) ?? ''}\n`);
  } else {
    const pebble = await startPebble({ dnsServer: `127.0.0.1:${named.port}` });
    onCleanup('pebble', () => pebble.stop());
    const certs = await measureCerts({ named: ns, key, zone: ZONE, pebble }, !missing('certbot'));
    process.stdout.write(`${certSection(certs)}\n\n${certHeadline(certs) ?? ''}\n`);
  }
}

function safeRead(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

main()
  .catch((e) => {
    log(`failed: ${(e as Error).stack ?? e}`);
    process.exitCode = 1;
  })
  .finally(async () => {
    await cleanupAll();
    await closeHttpPools();
  });
