/**
 * Test input as the boundary hands it on: names and addresses parsed by the real parsers
 * (src/core/hostname.ts, src/core/address.ts). A value the boundary refuses throws the parser's
 * `input` DdnsError here, as it would in dns-update, and never reaches the engine or a provider.
 */
import { parseAddressSet, type AddressSet } from '../../src/core/address';
import { badInput } from '../../src/core/errors';
import { normaliseHostname, parseHostnames, type Hostname } from '../../src/core/hostname';

interface Raw {
  hostnames: readonly string[];
  addresses: { ipv4?: unknown; ipv6?: unknown };
}
type Parsed<T extends Raw> = Omit<T, 'hostnames' | 'addresses'> & { hostnames: Hostname[]; addresses: AddressSet };

/** An engine request: the names parsed as dns-update parses a list (normalised, duplicates dropped). */
export function updateRequest<T extends Raw>(req: T): Parsed<T> {
  return { ...req, hostnames: parseHostnames(req.hostnames), addresses: parseAddressSet(req.addresses) };
}

/**
 * A provider call: every name parsed on its own (duplicates kept, for the provider's own rule).
 * `as-given` hands the names over untouched, for the providers that still map names their own way
 * (Cloudflare, FreeDNS, RFC 2136, DuckDNS's short form `myhome`) and whose tests check that mapping.
 */
export function providerCall<T extends Raw>(call: T, names: 'parse' | 'as-given' = 'parse'): Parsed<T> {
  const hostnames = names === 'parse' ? call.hostnames.map(hostname) : (call.hostnames as Hostname[]);
  return { ...call, hostnames, addresses: parseAddressSet(call.addresses) };
}

export function hostname(text: string): Hostname {
  const r = normaliseHostname(text);
  if (!r.ok) throw badInput(`Invalid host name: ${r.reason}.`, 'invalid_hostname');
  return r.name;
}
