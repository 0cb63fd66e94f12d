/**
 * Watching one node under test in node-red-node-test-helper the way a user's flow would: helper
 * nodes on its two outputs (`out`, `alerts`) and Node-RED's own Catch, Status and Complete nodes
 * scoped to it. `input()` sends a msg and waits until the node has handled it (Complete or Catch).
 */
import { helper, waitFor } from './node-red';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Msg = Record<string, any>;

export interface Observed {
  out: Msg[];
  alerts: Msg[];
  caught: Msg[];
  statuses: Msg[];
  completed: Msg[];
  /** Send a msg to the node and resolve with the Complete (or Catch) msg that ends it. */
  input(msg?: Msg): Promise<Msg>;
  /** The node's last status ({ fill, shape, text }). */
  lastStatus(): { fill: string; shape: string; text: string } | undefined;
}

/** The observing nodes for node `id`; wire the node's outputs to `out` and `alerts`. */
export function observerNodes(id: string, at: Msg = {}): Msg[] {
  return [
    { id: 'out', type: 'helper', ...at },
    { id: 'alerts', type: 'helper', ...at },
    { id: 'catcher', type: 'catch', ...at, scope: [id], uncaught: false, wires: [['caught']] },
    { id: 'caught', type: 'helper', ...at },
    { id: 'statuser', type: 'status', ...at, scope: [id], wires: [['statuses']] },
    { id: 'statuses', type: 'helper', ...at },
    { id: 'completer', type: 'complete', ...at, scope: [id], uncaught: false, wires: [['completed']] },
    { id: 'completed', type: 'helper', ...at },
  ];
}

/**
 * A flow of one tab (Catch, Status and Complete work within a flow) with one public-ip-watch `w`
 * (IPv4, no output at start, every 300 s; `config` over that) wired to `out` and `alerts`, its
 * observing nodes, and `extra` beside them.
 */
export function publicIpWatchFlow(config: Msg, extra: Msg[] = [], label = 'test'): Msg[] {
  const nodes = [
    {
      id: 'w',
      type: 'public-ip-watch',
      name: 'watch',
      families: 'ipv4',
      emitOnStart: false,
      interval: 300,
      ...config,
      wires: [['out'], ['alerts']],
    },
    ...observerNodes('w'),
    ...extra,
  ];
  return [{ id: 'f1', type: 'tab', label }, ...nodes.map((n) => ({ z: 'f1', ...n }))];
}

/**
 * A flow of one tab with `accounts` (ddns-account config nodes) and one cert-renew `cr` against a
 * test CA and DNS server (`lab`: the custom CA is its Pebble, propagation is checked at its named;
 * no check at start, a 30 s propagation timeout; `config` over that) wired to `out` and `alerts`,
 * and its observing nodes.
 */
export function certRenewFlow(
  lab: { pebble: { directoryUrl: string; caPem: string }; bind: { port: number } },
  accounts: Msg[],
  config: Msg,
): Msg[] {
  const at = { z: 'f1', x: 100, y: 100 };
  return [
    { id: 'f1', type: 'tab', label: 'certificates' },
    ...accounts,
    {
      id: 'cr',
      type: 'cert-renew',
      ...at,
      ca: 'custom',
      directoryUrl: lab.pebble.directoryUrl,
      caCert: lab.pebble.caPem,
      checkOnStart: false,
      propagationTimeout: 30,
      authServers: `127.0.0.1:${lab.bind.port}`,
      wires: [['out'], ['alerts']],
      ...config,
    },
    ...observerNodes('cr', at),
  ];
}

/** Attach to the observing nodes after helper.load() (or a redeploy). */
export function observe(id: string, timeoutMs = 15_000): Observed {
  const o: Observed = {
    out: [],
    alerts: [],
    caught: [],
    statuses: [],
    completed: [],
    input: async (msg: Msg = { payload: 'check' }) => {
      const tag = `t${Math.random()}`;
      helper.getNode(id).receive({ ...msg, tag });
      return waitFor<Msg | undefined>(
        () => o.completed.find((c) => c.tag === tag) ?? o.caught.find((c) => c.tag === tag),
        timeoutMs,
        10,
        'the input to be handled',
      ) as Promise<Msg>;
    },
    lastStatus: () => o.statuses.at(-1)?.status,
  };
  for (const k of ['out', 'alerts', 'caught', 'statuses', 'completed'] as const)
    helper.getNode(k).on('input', (m: Msg) => o[k].push(m));
  return o;
}
