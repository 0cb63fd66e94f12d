/**
 * The markdown report: the machine, then one table per figure, then the gaps the numbers show.
 * The same text is printed and written to bench/RESULTS.md.
 */
import type { RunningClient } from './clients';
import type { CertRow } from './certs';
import type { Machine } from './env';
import type { ScaleRow } from './scale';
import type { StalenessFigures } from './staleness';
import type { Footprint, LoadCost, SteadyCost } from './steady';
import { max, median, msText, secs } from './util';

export interface Report {
  mode: 'full' | 'quick';
  startedAt: Date;
  durationMs: number;
  machine: Machine;
  periodS: number;
  budgetPeriodS: number;
  stalenessWindowMs: number;
  clients: RunningClient[];
  staleness: Map<string, StalenessFigures>;
  costs: SteadyCost[];
  footprints: Footprint[];
  loadCosts: LoadCost[];
  scale: ScaleRow[];
  certs: CertRow[];
  notes: string[];
}

const table = (head: string[], rows: string[][]): string =>
  [
    `| ${head.join(' | ')} |`,
    `| ${head.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');

const mb = (b: number) => (Number.isFinite(b) ? `${(b / 2 ** 20).toFixed(1)} MB` : '—');
const perDay = (count: number, windowMs: number) => Math.round((count * 86_400_000) / windowMs).toLocaleString('en-US');

/** A section of the report: heading, intro, then its table, or a line saying it was not run (the router-only run). */
function section(out: string[], heading: string, intro: string, head: string[], rows: string[][]): void {
  out.push(heading, '', intro, '', rows.length === 0 ? 'Not run in this run (--only router).' : table(head, rows));
}

export function renderReport(r: Report): string {
  const out: string[] = [];
  const lookupsPerHour = Math.round(3600 / r.periodS);
  const budgetPerHour = Math.round(3600 / r.budgetPeriodS);
  out.push(
    '# Benchmark results',
    '',
    `Run of \`npm run bench${r.mode === 'quick' ? ' -- --quick' : ''}\` on ${r.startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC, ` +
      `${Math.round(r.durationMs / 60_000)} min, loopback only. How each figure is measured and why it is fair: [README.md](README.md).` +
      (r.mode === 'quick' ? ' **Quick mode: few samples, indicative only.**' : ''),
    '',
    '## Machine',
    '',
    table(
      ['', ''],
      r.machine.rows.map(([k, v]) => [k, v]),
    ),
    '',
  );

  // 1–2
  out.push(
    '## 1–2. Staleness and reaction',
    '',
    `Every client polls its own what's-my-IP path at the same budget of ${lookupsPerHour} lookups/h (one every ${r.periodS} s, ` +
      `the shortest period ddclient allows); the address changed at random moments over ${Math.round(r.stalenessWindowMs / 60_000)} min. ` +
      `Staleness: change → named answers the new address. The ${budgetPerHour}/h columns are derived from the same samples ` +
      `(the polling wait × ${r.budgetPeriodS / r.periodS}, the rest as measured). Reaction: the lookup that first saw the new ` +
      'address → the update request arrived. Provider: that request → the provider answered (record written).',
    '',
  );
  out.push(
    table(
      [
        'Client',
        'Protocol',
        'Changes',
        'Staleness median',
        'worst',
        `At ${budgetPerHour}/h: median`,
        'worst',
        'Reaction median',
        'worst',
        'Provider median',
      ],
      r.clients.map((c) => {
        const f = r.staleness.get(c.id);
        if (!f) return [c.software, c.protocol, '—', '—', '—', '—', '—', '—', '—', '—'];
        const n = f.failed ? `${f.n} (+${f.failed} not visible)` : String(f.n);
        // the router row makes no external lookup, the push row is told: their measured figures hold at any budget
        const budgetFree = c.external !== undefined || c.pushed === true;
        const ext = c.external ? ` (${c.external()} external lookups)` : '';
        return [
          `${c.software}${ext}`,
          c.protocol,
          n,
          secs(median(f.stalenessMs)),
          secs(max(f.stalenessMs)),
          budgetFree ? `${secs(median(f.stalenessMs))} (as measured)` : secs(median(f.derivedMs)),
          budgetFree ? secs(max(f.stalenessMs)) : secs(max(f.derivedMs)),
          msText(median(f.reactionMs)),
          msText(max(f.reactionMs)),
          msText(median(f.applyMs)),
        ];
      }),
    ),
  );
  const router = r.clients.find((c) => c.external !== undefined);
  out.push(
    '',
    router
      ? `_Router source (issue 8): public-ip-watch with only the router source (NAT-PMP/UPnP to miniupnpd in network namespaces; ` +
          'announcements plus the default 30 s safety poll) makes no external lookup at all, so no budget applies and its 12/h columns ' +
          'are its measured figures. Its "lookup" is the router\'s answer that first carried the new address, seen at the router; ' +
          "its changes are made on the router's WAN side, at least 30 s (dns-update's minInterval) + a random 0–60 s apart (README.md)._"
      : '_Router source (issue 8): not measured in this run (see the notes)._',
    '',
  );
  if (r.clients.some((c) => c.pushed))
    out.push(
      "_Router push (issue 16): the same flow as the dyndns2 row with a router-push source in front of its what's-my-IP URL. At each " +
        "change the router's DDNS client is simulated by one dyndns2 GET (Basic auth) to Node-RED at the moment of the change; the push " +
        'is confirmed by one lookup of the URL (its "lookup" column) before anything moves. Its wait does not depend on the polling ' +
        "period, so its 12/h columns are its measured figures; changes at least 30 s (dns-update's minInterval) + a random 0–60 s apart._",
      '',
    );

  // 3
  const window = r.costs[0]?.windowMs ?? NaN;
  out.push(
    '## 3. Steady-state cost (no address change)',
    '',
    `Counted at the servers over a window of ${secs(window)} with no change. Lookups/day: from the mean time between ` +
      `consecutive lookups; provider requests/day: the count scaled to a day. At ${lookupsPerHour} lookups/h a client should make ` +
      `${(lookupsPerHour * 24).toLocaleString('en-US')} lookups/day (${budgetPerHour * 24}/day at ${budgetPerHour}/h) and no provider request. ` +
      'Not visible in a window this short: ddclient re-sends every name after 25–30 days without change (max-interval), ' +
      'inadyn after 30 days (forced-update); this package does not.',
    '',
  );
  out.push(
    table(
      ['Client', 'Protocol', 'Lookups (window)', 'Provider requests (window)', 'Lookups/day', 'Provider requests/day'],
      r.costs.map((k) => {
        const c = r.clients.find((x) => x.id === k.client)!;
        const req = k.updates + k.queries;
        const lookupsPerDay = Number.isFinite(k.lookupIntervalMs)
          ? Math.round(86_400_000 / k.lookupIntervalMs).toLocaleString('en-US')
          : `${perDay(k.lookups, k.windowMs)} (from the count)`;
        return [
          c.external ? `${c.software} (lookups: router queries on the LAN)` : c.software,
          c.protocol,
          String(k.lookups),
          `${req}${k.queries ? ` (${k.updates} updates, ${k.queries} queries)` : ''}`,
          lookupsPerDay,
          perDay(req, k.windowMs),
        ];
      }),
    ),
  );
  out.push('');

  // 4
  out.push(
    '## 4. Footprint (idle, same window)',
    '',
    'Resident memory (VmRSS, median of samples every 5 s, and the largest) and CPU time (user + system, with finished ' +
      `children such as nsupdate) over the window, scaled to an hour, while polling at ${lookupsPerHour} lookups/h.`,
    '',
  );
  out.push(
    table(
      ['Process', 'RSS median', 'RSS max', 'CPU per hour'],
      r.footprints.map((f) => [
        f.label,
        mb(f.rssMedian),
        mb(f.rssMax),
        Number.isFinite(f.cpuSeconds) ? `${((f.cpuSeconds * 3_600_000) / f.windowMs).toFixed(1)} s` : '—',
      ]),
    ),
  );
  const withPkg = r.footprints.find((f) => f.label.startsWith('Node-RED + node-red-contrib-ddns'));
  const bare = r.footprints.find((f) => f.label.startsWith('Node-RED alone'));
  if (withPkg && bare) {
    out.push(
      '',
      `The package and its deployed nodes add ${mb(withPkg.rssMedian - bare.rssMedian)} of resident memory and ` +
        `${(((withPkg.cpuSeconds - bare.cpuSeconds) * 3_600_000) / withPkg.windowMs).toFixed(1)} s of CPU per hour to Node-RED.`,
    );
  }
  if (r.loadCosts.length) {
    out.push(
      '',
      'Where it goes: resident memory a fresh Node.js gains by loading each module (shared dependencies counted in each; approximate):',
      '',
      table(
        ['Module', 'RSS added'],
        r.loadCosts.map((l) => [l.what, mb(l.rss)]),
      ),
    );
  }
  out.push('');

  out.push(scaleSection(r.scale), '', certSection(r.certs), '');

  const gaps = findGaps(r);
  if (gaps.length) out.push('## What the numbers show', '', ...gaps.map((g) => `- ${g}`), '');
  if (r.notes.length) out.push('## Notes from this run', '', ...r.notes.map((n) => `- ${n}`), '');
  return out.join('\n');
}

/** Figure 5, also printed alone by `--only scale`. */
export function scaleSection(scale: ScaleRow[]): string {
  const out: string[] = [];
  section(
    out,
    '## 5. Scale: N names after one change',
    'Every name held the old address and the client knew it; then one change. This package: the core (update engine + ' +
      'provider) directly, timed from update() to its return. Peers: one run of the client, timed from the answer to its ' +
      "lookup to the provider's answer to its last update request. Requests are counted at the relay (RFC 2136) or the " +
      'dyndns2 server; "names updated" is asked from named afterwards.',
    ['Client', 'Protocol', 'Names', 'Time', 'Lookups', 'Update requests', 'Other DNS queries', 'Names updated', 'Note'],
    scale.map((s) => [
      s.software,
      s.protocol,
      String(s.n),
      s.ms === null ? 'not done' : msText(s.ms),
      String(s.lookups),
      String(s.updates),
      String(s.queries),
      `${s.updated}/${s.n}`,
      s.note ?? '',
    ]),
  );
  const growth = growthRows(scale);
  if (growth.length > 0 && new Set(scale.map((s) => s.n)).size > 1) {
    out.push(
      '',
      'Growth from the smallest to the largest N:',
      '',
      table(['Client', 'Protocol', 'Names', 'Time', 'Requests (updates + queries)'], growth),
    );
  }
  return out.join('\n');
}

/** Figure 6, also printed alone by `--only certs`. */
export function certSection(certs: CertRow[]): string {
  const out: string[] = [];
  section(
    out,
    '## 6. Certificates (DNS-01 against the same Pebble and named)',
    'From the start of the order (call or process) to the certificate files written; each starts with a fresh ACME account. ' +
      "certbot's propagation wait is a fixed sleep (default 60 s); with 1 s certbot is as quick as it can be here, since the " +
      'records are on the one server Pebble asks: that row is the like-for-like comparison, the default row is what a user gets.',
    ['Client', 'Propagation wait', 'Order → files written', 'Note'],
    certs.map((c) => [c.client, c.wait, c.ms === null ? 'failed' : secs(c.ms), c.note ?? '']),
  );
  return out.join('\n');
}

/** The certificate headline: certbot with a 1 s wait first (like for like), then with its default. */
export function certHeadline(certs: CertRow[]): string | undefined {
  const cert = certs.find((c) => c.client === 'node-red-contrib-ddns');
  const quick = certs.find((c) => c.client.startsWith('certbot') && c.wait.startsWith('fixed 1 s'));
  const dflt = certs.find((c) => c.client.startsWith('certbot') && c.wait.includes('(default)'));
  if (!cert?.ms || !(quick?.ms || dflt?.ms)) return undefined;
  const vs = (c: CertRow | undefined, what: string) =>
    c?.ms ? `${secs(c.ms)} for certbot ${what} (×${(c.ms / cert.ms!).toFixed(1)})` : undefined;
  return (
    `Certificates: ${secs(cert.ms)} for this package against ` +
    [vs(quick, 'with a 1 s wait'), vs(dflt, 'with its default fixed 60 s wait')].filter(Boolean).join(', and ') +
    '.'
  );
}

export function scaleHeadline(scale: ScaleRow[]): string | undefined {
  if (!scale.length) return undefined;
  const big = Math.max(...scale.map((s) => s.n));
  return (
    `At ${big} names: ` +
    scale
      .filter((s) => s.n === big)
      .map(
        (s) =>
          `${s.software} ${s.protocol} ${s.ms === null ? `not done (${s.note ?? 'see table'})` : msText(s.ms)} with ${s.updates + s.queries} request${s.updates + s.queries === 1 ? '' : 's'}`,
      )
      .join('; ') +
    '.'
  );
}

function growthRows(rows: ScaleRow[]): string[][] {
  const keys = [...new Set(rows.map((s) => `${s.software}|${s.protocol}`))];
  const out: string[][] = [];
  for (const k of keys) {
    const rs = rows
      .filter((s) => `${s.software}|${s.protocol}` === k && s.ms !== null && s.updated === s.n)
      .sort((a, b) => a.n - b.n);
    if (rs.length < 2) continue;
    const a = rs[0];
    const b = rs[rs.length - 1];
    out.push([
      a.software,
      a.protocol,
      `${a.n} → ${b.n}`,
      `${msText(a.ms!)} → ${msText(b.ms!)} (×${(b.ms! / a.ms!).toFixed(1)})`,
      `${a.updates + a.queries} → ${b.updates + b.queries}`,
    ]);
  }
  return out;
}

/** Plain statements computed from the figures (the closing note names the biggest). */
function findGaps(r: Report): string[] {
  const gaps: string[] = [];
  const medOf = (id: string) => median(r.staleness.get(id)?.derivedMs ?? []);
  const ours = r.clients.filter((c) => c.software === 'node-red-contrib-ddns');
  const router = r.clients.find((c) => c.external !== undefined);
  const rf = router ? r.staleness.get(router.id) : undefined;
  if (router && rf && rf.n > 0) {
    gaps.push(
      `Router source: staleness median ${secs(median(rf.stalenessMs))}, worst ${secs(max(rf.stalenessMs))} over ${rf.n} change${rf.n === 1 ? '' : 's'}, ` +
        `with ${router.external!()} external lookups — against pollers bound by their period at any budget of external lookups.`,
    );
  }
  for (const c of r.clients.filter((x) => x.pushed)) {
    const pf = r.staleness.get(c.id);
    if (pf && pf.n > 0)
      gaps.push(
        `Router push: staleness median ${secs(median(pf.stalenessMs))}, worst ${secs(max(pf.stalenessMs))} over ${pf.n} change${pf.n === 1 ? '' : 's'}, ` +
          'one confirming lookup per change — whatever the polling period.',
      );
  }
  const peers = r.clients.filter((c) => !c.software.startsWith('node-red-contrib-ddns'));
  const budgetPerHour = Math.round(3600 / r.budgetPeriodS);
  if (ours.length && peers.length) {
    const bestOurs = ours.map((c) => medOf(c.id)).filter(Number.isFinite);
    const peerMeds = peers.map((c) => [c, medOf(c.id)] as const).filter(([, m]) => Number.isFinite(m));
    if (bestOurs.length && peerMeds.length) {
      const o = Math.min(...bestOurs);
      const [bp, p] = peerMeds.reduce((a, b) => (b[1] < a[1] ? b : a));
      const n = Math.min(
        ...r.clients
          .filter((c) => c.external === undefined && !c.pushed)
          .map((c) => r.staleness.get(c.id)?.n ?? 0)
          .filter((x) => x > 0),
      );
      const noise = n > 0 ? r.budgetPeriodS / (2 * Math.sqrt(n)) : NaN;
      gaps.push(
        `Staleness at ${budgetPerHour} lookups/h: median ${secs(o)} for this package, ${secs(p)} for the best peer (${bp.software}, ${bp.protocol}). ` +
          `At an equal lookup budget every poller is bound by its period (${r.budgetPeriodS} s): with ${n} change${n === 1 ? '' : 's'} per client a median is known to about ` +
          `±${Math.round(noise)} s, so differences below that are chance. The reaction after the lookup is milliseconds to a few hundred ms for all.`,
      );
    }
  }
  const certLine = certHeadline(r.certs);
  if (certLine) gaps.push(certLine);
  const scaleLine = scaleHeadline(r.scale);
  if (scaleLine) gaps.push(scaleLine);
  const withPkg = r.footprints.find((f) => f.label.startsWith('Node-RED + node-red-contrib-ddns'));
  const peerFp = r.footprints.filter((f) => !f.label.startsWith('Node-RED'));
  if (withPkg && peerFp.length) {
    gaps.push(
      `Memory: Node-RED with the package ${mb(withPkg.rssMedian)} against ${peerFp.map((f) => `${f.label} ${mb(f.rssMedian)}`).join(', ')} — ` +
        'the package is meant for a Node-RED that is running anyway; its own share is the difference to Node-RED alone.',
    );
  }
  return gaps;
}
