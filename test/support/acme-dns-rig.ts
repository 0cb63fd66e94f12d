/**
 * The DNS-01 parts of the ACME tests against one real named: the named and Pebble themselves (an
 * ACME lab), our RFC 2136 provider (TSIG) and a propagation wait on that server.
 */
import { waitForPropagation } from '../../src/core/dns/propagation';
import { definition as rfc2136 } from '../../src/core/providers/rfc2136';
import { startBind, type BindServer, type ZoneSpec } from './bind';
import { startChasingResolver } from './chasing-resolver';
import type { TestDnsServer } from './dns-server';
import { startPebble, type PebbleOptions, type PebbleServer } from './pebble';

export interface AcmeLab {
  bind: BindServer;
  pebble: PebbleServer;
  /** The resolver Pebble asks, with `chase`. */
  resolver?: TestDnsServer;
  /** Stop them, the last started first. */
  close(): Promise<void>;
}

/**
 * A real named serving `zones` and a Pebble validating DNS-01 against it; with `chase`, through a
 * CNAME-following resolver in front of named (test/support/chasing-resolver.ts), as a CA's resolver
 * follows a delegated `_acme-challenge` alias into another zone. What started is stopped again
 * when a later part fails to start.
 */
export async function startAcmeLab(
  zones: ZoneSpec[],
  o: { chase?: boolean } & Omit<PebbleOptions, 'dnsServer'> = {},
): Promise<AcmeLab> {
  const { chase, ...pebbleOptions } = o;
  const bind = await startBind(zones);
  let resolver: TestDnsServer | undefined;
  let pebble: PebbleServer | undefined;
  const close = async () => {
    await pebble?.stop();
    await resolver?.close();
    await bind.stop();
  };
  try {
    if (chase) resolver = await startChasingResolver(bind);
    pebble = await startPebble({ dnsServer: resolver?.address ?? `127.0.0.1:${bind.port}`, ...pebbleOptions });
    return { bind, pebble, resolver, close };
  } catch (e) {
    await close();
    throw e;
  }
}

/** The zone of a delegation test's names, and the zone its challenge account writes. */
export const HOME = 'home.test';
export const DELEGATED = 'delegated.test';

/**
 * The lab of the delegation tests, Pebble validating through the chasing resolver: `home.test` (www
 * at 127.0.0.1, its `_acme-challenge` an alias to www in `delegated.test`; `home` adds the test's own
 * records), `delegated.test` (`delegated` its records), then the test's `more` zones.
 */
export function startDelegationLab(o: { home?: string[]; delegated?: string[]; more?: ZoneSpec[] }): Promise<AcmeLab> {
  const zones = [
    {
      name: HOME,
      records: ['www 60 IN A 127.0.0.1', `_acme-challenge.www 60 IN CNAME www.${DELEGATED}.`, ...(o.home ?? [])],
    },
    { name: DELEGATED, records: o.delegated ?? [] },
    ...(o.more ?? []),
  ];
  return startAcmeLab(zones, { chase: true });
}

export function dnsRig(bind: BindServer) {
  const k = bind.keys.sha256;
  const provider = rfc2136.create(
    rfc2136.settings.parse({
      server: `127.0.0.1:${bind.port}`,
      keyName: k.name,
      algorithm: k.algorithm,
      tsigSecret: k.secret,
    }),
    {},
  );
  const waitVisible = async (name: string, value: string) => {
    const r = await waitForPropagation({
      name,
      type: 'TXT',
      expected: [value],
      servers: [{ host: '127.0.0.1', port: bind.port }],
      timeoutMs: 10_000,
      intervalMs: 100,
    });
    if (!r.ok) throw new Error(`TXT ${name} not visible`);
  };
  return { provider, waitVisible };
}
