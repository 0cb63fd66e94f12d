/**
 * Push for public-ip-watch, free of Node-RED: with a router source in the list (and IPv4 watched)
 * router announcements and a safety poll (watchRouter); with a network interface source, this
 * host's address events (watchInterfaces). Each push becomes a hint (a check of the local sources
 * only) for the families it concerns. After close() nothing is hinted or reported any more.
 */
import type { Family } from '../address';
import type { DdnsError } from '../errors';
import type { InterfaceWatchOptions } from './iface-events';
import { watchInterfaces, watchRouter, type InterfaceSnapshot } from './router';
import { DEFAULT_ROUTER_SAFETY_POLL_S, type SourceConfig } from './sources';

export interface PushOptions {
  /** The source list of the node (only router and interface entries start a push). */
  sources: readonly SourceConfig[];
  /** The families the watcher tracks. */
  families: readonly Family[];
  /** Check these families with the local sources (the watcher's hint). */
  hint(families: Family[]): Promise<unknown> | void;
  /** A push cannot work as asked (no announcements, no interface events): worth a warning, once per `key`. */
  onProblem?(p: { watch: 'router' | 'interface'; key: string; message: string }): void;
  /** Expected and harmless, for the log (polling instead of interface events on BusyBox). */
  onNote?(message: string): void;
  /** Passed to watchInterfaces (mode, pollMs, readers): for test benches. */
  interfaceOptions?: Partial<Pick<InterfaceWatchOptions, 'mode' | 'pollMs' | 'readers'>>;
}

export interface Push {
  /** How many push watchers run. */
  readonly count: number;
  /** Every socket, timer and child of the push watchers ends here. */
  close(): Promise<void>;
}

/** The usable addresses of one family on the watched interface(s), to tell which family an interface event concerns. */
const interfaceKey = (s: InterfaceSnapshot, f: Family) =>
  s.addresses
    .filter((a) => a.family === f)
    .map((a) => `${a.interface} ${a.address}`)
    .join(',');

/** The tracked families whose usable addresses differ between two snapshots. */
export function movedFamilies(
  before: InterfaceSnapshot,
  after: InterfaceSnapshot,
  families: readonly Family[],
): Family[] {
  return families.filter((f) => interfaceKey(before, f) !== interfaceKey(after, f));
}

export function startPush(o: PushOptions): Push {
  let closed = false;
  const hint = (families: Family[]) => (closed ? undefined : o.hint(families));
  const problem = (watch: 'router' | 'interface', e: DdnsError) => {
    if (!closed)
      o.onProblem?.({
        watch,
        key: `${watch === 'router' ? 'router-watch' : 'interface'}:${e.code ?? ''}`,
        message: e.message,
      });
  };
  const watches: Array<{ close(): Promise<void> }> = [];

  if (o.families.includes('ipv4')) {
    for (const c of o.sources) {
      if (c.type !== 'router') continue;
      watches.push(
        watchRouter({
          gateway: c.gateway,
          safetyPollMs: Math.round((c.safetyPoll ?? DEFAULT_ROUTER_SAFETY_POLL_S) * 1000),
          port: c.announcePort,
          group: c.announceGroup,
          onHint: async () => void (await hint(['ipv4'])),
          onError: (e) => problem('router', e),
        }),
      );
    }
  }
  for (const c of o.sources) {
    if (c.type !== 'interface') continue;
    let last: InterfaceSnapshot | null = null;
    watches.push(
      watchInterfaces({
        ...o.interfaceOptions,
        interface: c.interface,
        allowTemporary: c.allowTemporary,
        onChange: (snap) => {
          const before = last;
          last = snap;
          if (!before) return; // the state at start: the start check covers it
          const moved = movedFamilies(before, snap, o.families);
          if (moved.length) void hint(moved);
        },
        onError: (e) => {
          if (closed) return;
          // BusyBox (Home Assistant add-on): polling instead of events is expected, not a problem.
          if (e.code === 'monitor_unavailable') o.onNote?.(e.message);
          else problem('interface', e);
        },
      }),
    );
  }

  return {
    count: watches.length,
    close: async () => {
      closed = true;
      await Promise.allSettled(watches.map((w) => w.close()));
    },
  };
}
