/**
 * One reachability-check run, free of Node-RED: after a dns-update that changed records, wait until
 * the authoritative servers give the new addresses (when asked to), then the checks (checks.ts).
 */
import { waitForPropagation, type PropagationResult } from '../dns/propagation';
import { DEFAULT_PUBLIC_RESOLVERS } from '../dns/resolvers';
import { parseServer, type DnsServer } from '../dns/transport';
import type { Redactor } from '../redact';
import { runChecks, type ReachPlan, type ReachReport } from './checks';
import type { RunInput } from './input';

/** The node's settings a run needs (the configuration, lists parsed; times in seconds unless named). */
export interface ReachSettings {
  dnsAuthoritative: boolean;
  dnsPublic: boolean;
  dnsSystem: boolean;
  /** Empty: DEFAULT_PUBLIC_RESOLVERS. */
  publicResolvers: DnsServer[];
  discovery: DnsServer[];
  authServers: DnsServer[];
  authPort: number;
  tcpPorts: string[];
  tcpFamily: NonNullable<ReachPlan['tcp']>['family'];
  httpUrls: string[];
  httpStatus: string;
  certWarnDays: number;
  natDiagnosis: boolean;
  /** Seconds to wait for the records dns-update changed; 0: no wait. */
  propagationWait: number;
  /** Limit of every network wait. */
  timeoutMs: number;
  concurrency: number;
  /** '' = none. */
  externalUrl: string;
  redactor: Redactor;
}

export interface ReachRun {
  ok: boolean;
  report: ReachReport;
  propagation?: PropagationResult[];
}

const orUndefined = <T>(list: T[]) => (list.length ? list : undefined);

/** Wait for the records dns-update just changed, when asked to; undefined when there is no wait. */
async function propagate(
  s: ReachSettings,
  input: RunInput,
  signal: AbortSignal,
  onPropagating: () => void,
): Promise<PropagationResult[] | undefined> {
  if (!(s.propagationWait > 0) || !input.updated.length || !s.dnsAuthoritative) return undefined;
  onPropagating();
  return Promise.all(
    input.updated.map(async (u) => {
      const r = await waitForPropagation({
        name: u.name,
        type: u.family === 'ipv4' ? 'A' : 'AAAA',
        expected: [u.address],
        servers: orUndefined(s.authServers),
        discovery: orUndefined(s.discovery),
        authPort: s.authPort,
        timeoutMs: s.propagationWait * 1000,
        intervalMs: 2000,
        queryTimeoutMs: s.timeoutMs,
        signal,
      });
      return { name: u.name, family: u.family, ...r };
    }),
  );
}

/** One run: the propagation wait (after an update; `onPropagating` when it begins), the checks. */
export async function runReach(
  s: ReachSettings,
  input: RunInput,
  signal: AbortSignal,
  onPropagating: () => void,
): Promise<ReachRun> {
  const propagation = await propagate(s, input, signal, onPropagating);
  const report = await runChecks({
    names: input.names,
    expected: input.expected,
    expectedByName: input.expectedByName,
    dns: {
      authoritative: s.dnsAuthoritative,
      public: s.dnsPublic,
      system: s.dnsSystem,
      publicResolvers: s.publicResolvers.length
        ? s.publicResolvers
        : DEFAULT_PUBLIC_RESOLVERS.map((x) => parseServer(x)),
      discovery: orUndefined(s.discovery),
      authServers: orUndefined(s.authServers),
      authPort: s.authPort,
    },
    tcp: { ports: s.tcpPorts.map(Number), family: s.tcpFamily },
    http: { urls: s.httpUrls, expectStatus: s.httpStatus, certWarnDays: s.certWarnDays },
    externalUrl: s.externalUrl || undefined,
    nat: s.natDiagnosis
      ? { wanAddress: input.wanAddress, routerNoPublicAddress: input.routerNoPublicAddress }
      : undefined,
    timeoutMs: s.timeoutMs,
    concurrency: s.concurrency,
    signal,
    redactor: s.redactor,
  });
  return { ok: report.ok, report, propagation };
}
