/**
 * What reachability-check takes from an incoming msg (its fields checked by the node's schemas),
 * free of Node-RED: the names and the expected addresses (public-ip-watch `{ ipv4, ipv6 }`,
 * dns-update `{ results: [...] }`), the WAN address and the router's word on it, and the records
 * dns-update just changed; the configuration fills in.
 */
import type { z } from 'zod';
import { parseAddress } from '../address';
import { badInput, say } from '../errors';
import { checkName, type ExpectedAddresses } from './checks';

/** The fields of an incoming msg this node reads, checked (the schemas: the node's input schemas). */
export interface ReachMsgFields {
  wanAddress?: string | null;
  hostname?: string | string[];
  /** public-ip-watch's payload (the fields read here), or dns-update's results; undefined: no object. */
  payload?: {
    ipv4?: string | null;
    ipv6?: string | null;
    wanAddress?: string | null;
    results?: Array<{ hostname: string; family: 'ipv4' | 'ipv6'; address?: string | null; status?: string }>;
    cgnat?: { localAddress?: string; localClass?: string };
  };
}

/** Zod issues in words; an issue whose message does not name its field gets the field's path. */
export function describeReachIssues(e: z.ZodError, said: (text: string) => string = (t) => t): string {
  return e.issues
    .map((i) =>
      i.path.length && !i.message.includes(String(i.path[0]))
        ? `${i.path.join('.')}: ${said(i.message)}`
        : said(i.message),
    )
    .join('; ');
}

/** What the configuration says when the msg says nothing ('' = not set). */
export interface ReachDefaults {
  names: string[];
  expectedIpv4: string;
  expectedIpv6: string;
  wanAddress: string;
}

export interface RunInput {
  names: string[];
  expected: ExpectedAddresses;
  expectedByName: Record<string, ExpectedAddresses>;
  wanAddress: string | null;
  /** The router said it has no public address (public-ip-watch's router source: NAT-PMP result 3…). */
  routerNoPublicAddress: boolean;
  /** Names and families that dns-update just changed (the propagation wait watches them). */
  updated: Array<{ name: string; family: 'ipv4' | 'ipv6'; address: string }>;
}

/** Names and expectations from the msg's fields (when a msg came) and the configuration. Throws on bad input. */
export function readInput(cfg: ReachDefaults, msg: ReachMsgFields | null): RunInput {
  const expected: ExpectedAddresses = { ipv4: cfg.expectedIpv4 || null, ipv6: cfg.expectedIpv6 || null };
  const expectedByName: Record<string, ExpectedAddresses> = {};
  const updated: RunInput['updated'] = [];
  let names = cfg.names;
  let wanAddress: string | null = cfg.wanAddress || null;
  let routerNoPublicAddress = false;
  if (msg) {
    if (msg.wanAddress) wanAddress = msg.wanAddress;
    const pl = msg.payload;
    if (pl) {
      if (pl.ipv4 !== undefined || pl.ipv6 !== undefined) {
        // public-ip-watch: the current public addresses (null: family not tracked or not found)
        if (pl.ipv4) expected.ipv4 = pl.ipv4;
        if (pl.ipv6) expected.ipv6 = pl.ipv6;
      }
      if (pl.wanAddress) wanAddress = pl.wanAddress;
      else if (pl.cgnat?.localClass === 'cgnat' && pl.cgnat.localAddress) wanAddress = pl.cgnat.localAddress;
      // The router answered "no public address" without naming one (NAT-PMP result 3).
      if (pl.cgnat?.localClass === 'none') routerNoPublicAddress = true;
      for (const r of pl.results ?? []) {
        if (!r.address) continue;
        const name = checkName(r.hostname);
        expectedByName[name] = { ...expectedByName[name], [r.family]: r.address };
        if (r.status === 'updated') updated.push({ name, family: r.family, address: r.address });
      }
      if (!names.length && pl.results?.length) names = [...new Set(pl.results.map((r) => r.hostname))];
    }
    if (!names.length && msg.hostname) names = ([] as string[]).concat(msg.hostname);
  }
  if (wanAddress && parseAddress(wanAddress)?.family !== 'ipv4')
    throw badInput(
      say('reach.wan_not_ipv4', 'WAN address __address__ must be an IPv4 address', { address: String(wanAddress) }),
    );
  return { names, expected, expectedByName, wanAddress, routerNoPublicAddress, updated };
}
