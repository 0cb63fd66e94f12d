/**
 * The IPv6 watcher of the ipv6-hosts tests (test/core/ipv6-hosts.test.ts, test/router/ipv6-hosts-netns.test.ts):
 * IpWatcher over detectRound, first answer wins, and the outside what's-my-IP service it asks.
 */
import { detectRound, type RoundOptions } from '../../src/core/ip/detector';
import type { IpSource } from '../../src/core/ip/types';
import { IpWatcher } from '../../src/core/ip/watcher';

/** An outside service that answers the address `seen()` gives (connections leave from a temporary one). */
export function outsideEcho(seen: () => string | Promise<string>): IpSource {
  return {
    id: 'echo',
    label: 'echo',
    families: ['ipv6'],
    kind: 'external',
    lookup: async () => ({ address: await seen() }),
  };
}

/**
 * An IPv6 watcher over `sources` (the first answer wins); `keep`: the last known addresses kept in
 * memory (otherwise nothing is kept); `if6Flags`: the kernel's address flags (default: the host's own).
 */
export function ipv6Watcher(
  sources: IpSource[],
  opts: { keep?: boolean; if6Flags?: RoundOptions['if6Flags'] } = {},
): IpWatcher {
  let saved: unknown;
  return new IpWatcher({
    families: 'ipv6',
    detect: (family, signal, scope) =>
      detectRound(family, { scope, sources, policy: 'first', signal, if6Flags: opts.if6Flags }),
    store: opts.keep
      ? { load: async () => saved, save: async (v) => void (saved = v) }
      : { load: async () => undefined, save: async () => undefined },
  });
}
