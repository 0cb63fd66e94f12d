/**
 * The parts of the Node-RED runtime API that this package's nodes use (Node-RED ships no types of
 * its own, and @types/node-red lags behind). Shared by every adapter in src/nodes/.
 */
export interface Msg {
  [key: string]: unknown;
}

export type Send = (m: Msg | Array<Msg | Msg[] | null> | null) => void;
export type Done = (err?: Error) => void;

export interface NodeContextStore {
  get(key: string, store: string | undefined, cb: (err: Error | null | undefined, value: unknown) => void): void;
  set(key: string, value: unknown, store: string | undefined, cb: (err: Error | null | undefined) => void): void;
}

export interface RedNode {
  id: string;
  name?: string;
  credentials?: Record<string, string | undefined>;
  on(event: 'input', fn: (msg: Msg, send: Send, done: Done) => void): void;
  on(event: 'close', fn: (removed: boolean, done: () => void) => void): void;
  send(m: Msg | Array<Msg | Msg[] | null> | null): void;
  status(
    s:
      | { fill?: 'red' | 'green' | 'yellow' | 'blue' | 'grey'; shape?: 'ring' | 'dot'; text?: string }
      | Record<string, never>,
  ): void;
  error(err: unknown, msg?: Msg): void;
  warn(m: unknown): void;
  log(m: unknown): void;
  debug(m: unknown): void;
  context(): NodeContextStore;
}

export interface Red {
  nodes: {
    createNode(node: unknown, config: unknown): void;
    registerType(
      type: string,
      ctor: (this: RedNode, config: Record<string, unknown>) => void,
      opts?: { credentials?: Record<string, { type: 'text' | 'password' }> },
    ): void;
    getNode(id: string): unknown;
  };
  settings: { userDir?: string; [k: string]: unknown };
  util: {
    /** A TypedInput property's value: synchronous without `cb` (str, env), through `cb` for every type. */
    evaluateNodeProperty(
      value: string,
      type: string,
      node: RedNode,
      msg: Msg | undefined,
      cb?: (err: Error | null | undefined, value: unknown) => void,
    ): unknown;
  };
  httpAdmin?: { get(path: string, ...handlers: unknown[]): void; post?(path: string, ...handlers: unknown[]): void };
  auth?: { needsPermission(permission: string): unknown };
  _(key: string, subs?: Record<string, unknown>): string;
}
