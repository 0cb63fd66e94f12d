/**
 * Router push: NAT-PMP and PCP announcements, as hints to ask the router again.
 *
 * Routers multicast a NAT-PMP announcement (RFC 6886 §3.2.1: the 12-byte external address
 * answer, from port 5351) and a PCP ANNOUNCE (RFC 6887 §14.1.3) to 224.0.0.1:5350 when their
 * external address changes. Real routers are sloppy about it (miniupnpd sends one datagram
 * instead of ten, sometimes duplicates, sometimes the old address first, and some changes are not
 * announced at all), so an announcement is never taken as the answer:
 *
 * - each valid announcement from the gateway (source address = gateway, source port 5351) starts
 *   a short debounce (`debounceMs`, default 100 ms); announcements arriving meanwhile are merged;
 *   then `onHint({ reason: 'announcement' })` is called, and the caller queries the router;
 * - one `follow-up` hint comes `followUpMs` (default 2 s) after an announcement, for routers that
 *   announce before the new address is in place or skip the second change of a reconnection;
 * - a `safety-poll` hint comes every `safetyPollMs` (default 30 s, ±10 %) after the last hint of
 *   any kind, because announcements get lost; it also re-reads the default gateway and moves the
 *   listener when the gateway changed;
 * - hints never overlap: while `onHint`'s promise is pending, further hints are merged into one
 *   that runs after it.
 *
 * Listening: a UDP socket on port 5350 (shared with other listeners: SO_REUSEADDR) bound to
 * 224.0.0.1 where the system allows it (Linux; otherwise the wildcard address), member of
 * 224.0.0.1 on the interface towards the gateway. When it cannot listen (port taken without
 * sharing, no multicast), `onError` is told and the safety poll carries on alone.
 *
 * `close()` stops every timer, closes the socket and waits for a running hint to finish.
 */
import dgram from 'node:dgram';
import { toDdnsError, transient, type DdnsError } from '../../errors';
import { withJitter } from '../../retry';
import { findGateway, type GatewayInfo, type GatewayReaders } from './gateway';
import { NATPMP_ANNOUNCE_PORT, NATPMP_PORT, parseNatPmp } from './natpmp';
import { OP_ANNOUNCE } from './pcp';

export const ANNOUNCE_GROUP = '224.0.0.1';
export const DEFAULT_SAFETY_POLL_MS = 30_000;
export const DEFAULT_DEBOUNCE_MS = 100;
export const DEFAULT_FOLLOW_UP_MS = 2000;

export interface Announcement {
  protocol: 'natpmp' | 'pcp';
  /** The address a NAT-PMP announcement carries (a hint: may be stale). */
  address?: string;
  epoch: number;
}

export interface RouterHint {
  reason: 'announcement' | 'follow-up' | 'safety-poll';
  gateway: string | null;
  /** The announcements merged into this hint (for `announcement`). */
  announced?: Announcement[];
  at: string;
}

export interface RouterWatchOptions {
  /** The router's IPv4 address; the default gateway when absent. */
  gateway?: string;
  /** Called for each hint; the caller asks the router (e.g. runs a check with the router source). */
  onHint: (hint: RouterHint) => void | Promise<void>;
  /** Problems worth a warning: cannot listen for announcements, no gateway, a failing onHint. */
  onError?: (err: DdnsError) => void;
  /** Safety poll period, ms; 0 turns it off. Default 30 000. */
  safetyPollMs?: number;
  debounceMs?: number;
  /** 0 turns the follow-up off. Default 2000. */
  followUpMs?: number;
  /** Announcement port (5350) and group (224.0.0.1), overridable for tests. */
  port?: number;
  group?: string;
  readers?: GatewayReaders;
}

export interface RouterWatch {
  /** Resolves once the listener is set up (or has failed and told onError). */
  readonly ready: Promise<void>;
  /** True while announcements can be received. */
  readonly listening: boolean;
  readonly gateway: string | null;
  readonly stats: { announcements: number; ignored: number; hints: number };
  close(): Promise<void>;
}

/** Decode an announcement datagram; null when it is not one. */
export function parseAnnouncement(msg: Buffer): Announcement | null {
  if (msg.length >= 12 && msg[0] === 0) {
    const p = parseNatPmp(msg);
    if (p && p.opcode === 128 && p.result === 0 && p.address)
      return { protocol: 'natpmp', address: p.address, epoch: p.epoch };
    return null;
  }
  // PCP ANNOUNCE response: version 2, R bit set, opcode 0, result SUCCESS, 24-byte header.
  if (msg.length >= 24 && msg.length % 4 === 0 && msg[0] === 2 && msg[1] === (0x80 | OP_ANNOUNCE) && msg[3] === 0) {
    return { protocol: 'pcp', epoch: msg.readUInt32BE(8) };
  }
  return null;
}

export function watchRouter(o: RouterWatchOptions): RouterWatch {
  const port = o.port ?? NATPMP_ANNOUNCE_PORT;
  const group = o.group ?? ANNOUNCE_GROUP;
  const debounceMs = Math.max(0, o.debounceMs ?? DEFAULT_DEBOUNCE_MS);
  const followUpMs = Math.max(0, o.followUpMs ?? DEFAULT_FOLLOW_UP_MS);
  const safetyPollMs = Math.max(0, o.safetyPollMs ?? DEFAULT_SAFETY_POLL_MS);
  const stats = { announcements: 0, ignored: 0, hints: 0 };
  let gw: GatewayInfo | null = null;
  let socket: dgram.Socket | null = null;
  let listening = false;
  let closed = false;
  let debounce: NodeJS.Timeout | undefined;
  let followUp: NodeJS.Timeout | undefined;
  let poll: NodeJS.Timeout | undefined;
  let merged: Announcement[] = [];
  let running: Promise<void> | null = null;
  let pending: RouterHint | null = null;

  const report = (e: unknown) => {
    if (!closed) o.onError?.(toDdnsError(e));
  };

  const armPoll = () => {
    clearTimeout(poll);
    if (!closed && safetyPollMs > 0) poll = setTimeout(() => void safetyPoll(), withJitter(safetyPollMs));
  };

  /** Run onHint, one at a time; a hint arriving meanwhile runs once afterwards (the newest wins, announcements merged). */
  const fire = (hint: RouterHint) => {
    if (closed) return;
    if (running) {
      pending = pending ? { ...hint, announced: [...(pending.announced ?? []), ...(hint.announced ?? [])] } : hint;
      if (!pending.announced?.length) delete pending.announced;
      return;
    }
    stats.hints++;
    armPoll();
    running = (async () => {
      try {
        await o.onHint(hint);
      } catch (e) {
        report(e);
      }
    })().finally(() => {
      running = null;
      const next = pending;
      pending = null;
      if (next) fire(next);
    });
  };

  const onAnnouncement = (a: Announcement) => {
    stats.announcements++;
    merged.push(a);
    if (!debounce) {
      debounce = setTimeout(() => {
        debounce = undefined;
        const announced = merged;
        merged = [];
        fire({ reason: 'announcement', gateway: gw?.address ?? null, announced, at: new Date().toISOString() });
        clearTimeout(followUp);
        if (followUpMs > 0) {
          followUp = setTimeout(
            () => fire({ reason: 'follow-up', gateway: gw?.address ?? null, at: new Date().toISOString() }),
            followUpMs,
          );
        }
      }, debounceMs);
    }
  };

  const closeSocket = (): Promise<void> =>
    new Promise((resolve) => {
      const s = socket;
      socket = null;
      listening = false;
      if (!s) return resolve();
      try {
        s.close(() => resolve());
      } catch {
        resolve();
      }
    });

  const bind = (s: dgram.Socket, address?: string) =>
    new Promise<void>((resolve, reject) => {
      const onErr = (e: Error) => reject(e);
      s.once('error', onErr);
      s.bind({ port, address, exclusive: false }, () => {
        s.removeListener('error', onErr);
        resolve();
      });
    });

  async function listen(): Promise<void> {
    if (!gw) return;
    const gateway = gw.address;
    const make = () => dgram.createSocket({ type: 'udp4', reuseAddr: true });
    let s = make();
    try {
      try {
        await bind(s, group); // only multicast to the group reaches us (Linux)
      } catch {
        s.close();
        s = make();
        await bind(s, undefined);
      }
    } catch (e) {
      try {
        s.close();
      } catch {
        /* already closed */
      }
      const code = (e as NodeJS.ErrnoException).code ?? 'network';
      report(
        transient(
          `cannot listen for router announcements on UDP port ${port} (${code === 'EADDRINUSE' ? 'another program uses the port' : (e as Error).message}); the router is asked every ${Math.round(safetyPollMs / 1000)} s instead`,
          { code: 'announce_listen_failed' },
        ),
      );
      return;
    }
    if (closed) {
      s.close();
      return;
    }
    try {
      s.addMembership(group, gw.localAddress);
    } catch {
      // 224.0.0.1 is joined by the system on every multicast interface anyway.
    }
    s.on('error', (e) =>
      report(transient(`router announcement listener: ${e.message}`, { code: 'announce_socket_error' })),
    );
    s.on('message', (msg, from) => {
      if (closed) return;
      const a = from.address === gateway && from.port === NATPMP_PORT ? parseAnnouncement(msg) : null;
      if (!a) {
        stats.ignored++;
        return;
      }
      onAnnouncement(a);
    });
    socket = s;
    listening = true;
  }

  async function resolveGateway(): Promise<boolean> {
    try {
      const next = await findGateway({ gateway: o.gateway, readers: o.readers });
      const moved = !gw || next.address !== gw.address || next.localAddress !== gw.localAddress;
      gw = next;
      return moved;
    } catch (e) {
      report(e);
      return false;
    }
  }

  async function safetyPoll(): Promise<void> {
    if (closed) return;
    if (await resolveGateway()) {
      await closeSocket();
      if (!closed) await listen();
    }
    fire({ reason: 'safety-poll', gateway: gw?.address ?? null, at: new Date().toISOString() });
  }

  const ready = (async () => {
    await resolveGateway();
    if (!closed) await listen();
    armPoll();
  })().catch(report);

  return {
    ready,
    get listening() {
      return listening;
    },
    get gateway() {
      return gw?.address ?? null;
    },
    stats,
    async close() {
      if (closed) return;
      closed = true;
      clearTimeout(debounce);
      clearTimeout(followUp);
      clearTimeout(poll);
      pending = null;
      await ready;
      await closeSocket();
      if (running) await running;
    },
  };
}
