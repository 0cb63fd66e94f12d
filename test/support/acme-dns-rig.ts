/**
 * The DNS-01 parts of the ACME tests against one real named: our RFC 2136 provider (TSIG) and a
 * propagation wait on that server.
 */
import { waitForPropagation } from '../../src/core/dns/propagation';
import { definition as rfc2136 } from '../../src/core/providers/rfc2136';
import type { BindServer } from './bind';

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
