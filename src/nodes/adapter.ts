/**
 * Pieces every adapter in src/nodes/ shares: the node's state in its context store, texts from the
 * message catalog, a configuration that cannot work (stay idle), failures of an input or a timed
 * run (node.error / done + a red status), warnings said once.
 */
import { DdnsError, english, flatParams, type Sentence } from '../core/errors';
import { phraseOf } from '../core/said';
import type { StateStore } from '../core/store';
import { clip } from '../core/text';
import { WarnOnce } from '../core/warn-once';
import type { Done, Msg, Red, RedNode } from './red-types';

/**
 * The node's state under `key` in the context store the user names ('' = the default store).
 * `memory` (one Map per node type, per process) keeps a copy: Node-RED drops a node's context at
 * every deploy unless settings.js configures a store, and a redeploy must not look like a fresh
 * start. Across restarts only a persistent store helps. Delete `memory`'s entry when the node is
 * removed (close handler, `removed`).
 */
export function contextStore<T>(
  node: RedNode,
  key: string,
  store: string,
  memory: Map<string, unknown>,
): StateStore<T> {
  const ctx = node.context();
  const name = store || undefined;
  return {
    load: () =>
      new Promise((resolve, reject) =>
        ctx.get(key, name, (err, v) => (err ? reject(err) : resolve(v ?? memory.get(node.id)))),
      ),
    save: (v: T) => {
      memory.set(node.id, structuredClone(v));
      return new Promise((resolve, reject) => ctx.set(key, v, name, (err) => (err ? reject(err) : resolve())));
    },
  };
}

/**
 * Texts of the node's message catalog: `t('status.checking')` is `RED._('<type>.status.checking')`.
 * With a `fallback`, that is said when the catalog is not loaded (tests, embedding).
 */
export function catalog(
  RED: Red,
  type: string,
): (key: string, fallback?: string, subs?: Record<string, unknown>) => string {
  runtime = RED;
  return (key, fallback, subs) => {
    const v = translated(RED, `${type}.${key}`, subs);
    return fallback !== undefined && (!v || v === `${type}.${key}`) ? fallback : v;
  };
}

/**
 * `RED._(key, subs)`, each catalog text looked up once (`textOf`) and its values put in at each
 * call (`filled`). i18next's lookup and interpolation allocate some kB per call, and every change
 * of address says the same sentences again (status lines, results). `count` and `context` choose
 * among a text's forms in i18next: a call with either goes to i18next every time.
 */
function translated(RED: Red, key: string, subs?: Record<string, unknown>): string {
  const names = subs ? Object.keys(subs) : [];
  if (pickFormBy(names)) return RED._(key, subs);
  const text = textOf(RED, key, names);
  return text === null ? key : filled(text, names, subs ?? {});
}

const pickFormBy = (names: readonly string[]) => names.includes('count') || names.includes('context');

/**
 * The catalog text of `key` with a mark in place of each of the values `names`, or null when the
 * catalogs have no text for it (in English the core's sentences have none: the code holds their
 * English), asked of i18next once per runtime. The runtime loads a node set's catalogs before its
 * nodes run.
 */
function textOf(RED: Red, key: string, names: readonly string[]): string | null {
  let texts = TEXTS.get(RED);
  if (!texts) TEXTS.set(RED, (texts = new Map()));
  const id = `${key}\n${names.join(',')}`;
  let text = texts.get(id);
  if (text === undefined) {
    text = RED._(key, Object.fromEntries(names.map((n, i) => [n, `\uE000${i}\uE001`])));
    if (noText(text, key)) text = null;
    texts.set(id, text);
  }
  return text;
}

/** Whether i18next's answer for `key` is no text: empty, or the key itself (without its namespace). */
const noText = (text: string, key: string) => !text || text === key || text.endsWith(key.slice(key.indexOf(':') + 1));

/** `text` with its marks replaced by the values, as i18next does with Node-RED's `escapeValue: false`: as they are, `null` and `undefined` as nothing. */
const filled = (text: string, names: readonly string[], subs: Record<string, unknown>) =>
  text.replace(MARK, (_, i: string) => {
    const v = subs[names[Number(i)]];
    return v === null || v === undefined ? '' : String(v);
  });

/** Each runtime's catalog texts with marks in place of their values, or null: no text (see `textOf`). */
const TEXTS = new WeakMap<Red, Map<string, string | null>>();
const MARK = /\uE000(\d+)\uE001/g;

/** The runtime the catalogs come from (set by `catalog()`; one runtime per process). */
let runtime: Red | undefined;

/** Which node set's catalog holds a core sentence (`core.<key>`), by the key's first word. */
const SENTENCES: Readonly<Record<string, string>> = {
  acme: 'cert-renew',
  ip: 'public-ip-watch',
  reach: 'reachability-check',
  dns: 'reachability-check',
};

/** The catalog key of a core sentence: `node-red-contrib-ddns/<set>:core.<key>`. */
export const sentenceKey = (key: string): string =>
  `node-red-contrib-ddns/${SENTENCES[key.split('.')[0]] ?? 'ddns-account'}:core.${key}`;

/**
 * A core sentence in the runtime's language (settings.js `lang`, else the process's locale): the
 * catalogs' `core.<key>` with its values filled in, or the English wording when the language has
 * no text for it (or no runtime is loaded).
 */
export function spoken(s: Sentence): string {
  return inLanguage(s) ?? english(s);
}

/** A core sentence from the runtime's catalogs, or undefined when they have no text for it. */
function inLanguage(s: Sentence): string | undefined {
  if (!runtime) return undefined;
  const full = sentenceKey(s.key);
  const names = Object.keys(s.params);
  if (pickFormBy(names)) {
    const v = runtime._(full, flatParams(s, spoken));
    return noText(v, full) ? undefined : v;
  }
  const text = textOf(runtime, full, names);
  return text === null ? undefined : filled(text, names, flatParams(s, spoken));
}

/**
 * A failure's text in the runtime's language: a DdnsError written as a sentence is said from the
 * catalogs, anything else as it is. `message` is the text to translate (by default the error's
 * own): what follows the sentence's English in it (an answer, a hint) is kept.
 */
export function spokenError(e: unknown, message?: string): string {
  const text = message ?? asError(e).message;
  const s = e instanceof DdnsError ? e.sentence : undefined;
  return s ? relocalized(s, text) : text;
}

/** A fixed text given by the core's `phrase()` (a schema's message) in the runtime's language; any other text as it is. */
export function spokenText(text: string): string {
  const s = phraseOf(text);
  if (!s) return text;
  // the text had its full stop cut (a list of issues): cut the translation's too
  return english(s) === text ? spoken(s) : spoken(s).replace(/[.。]$/, '');
}

/** `text` (which begins with the English of `s`, maybe redacted) with that beginning in the runtime's language. */
export function relocalized(s: Sentence, text: string): string {
  const en = english(s);
  if (!text.startsWith(en)) return text;
  const said = inLanguage(s);
  return said === undefined ? text : said + text.slice(en.length);
}

/**
 * A configuration that cannot work: a red status, `reason` as an error in the log (unless
 * `logged: false`), and every input msg gets the same error (the status shown again).
 */
export function stayIdle(node: RedNode, reason: string, status: string, opts: { logged?: boolean } = {}): void {
  const red = () => node.status({ fill: 'red', shape: 'ring', text: status });
  red();
  if (opts.logged !== false) node.error(reason);
  node.on('input', (_msg, _send, done) => {
    red();
    done(new Error(reason));
  });
}

export const asError = (e: unknown): Error => (e instanceof Error ? e : new Error(String(e)));

/** The machine-readable code of a core error, kept on an error rewritten for people. */
const codeOf = (e: unknown): { code?: string } => (e instanceof DdnsError ? { code: e.code } : {});

export interface FailOptions {
  /** The input's done: the error goes there (Catch nodes see it with the msg); else node.error(err, msg). */
  done?: Done | null;
  msg?: Msg;
  /** Clean the text (remove secrets) before anyone sees it. */
  redact?: (text: string) => string;
  /** The red status: true (the error, clipped to 60 characters), a text of its own, or false (none). */
  status?: boolean | string;
}

/** An input msg or a timed run failed: red status, then done(err) or node.error(err, msg). Returns the (cleaned) error. */
export function fail(node: RedNode, e: unknown, o: FailOptions = {}): Error {
  const said = spokenError(e);
  const text = o.redact ? o.redact(said) : said;
  const err = text === asError(e).message ? asError(e) : Object.assign(new Error(text), codeOf(e));
  if (o.status !== false && o.status !== undefined) {
    node.status({ fill: 'red', shape: 'ring', text: typeof o.status === 'string' ? o.status : clip(err.message, 60) });
  }
  if (o.done) o.done(err);
  else node.error(err, o.msg);
  return err;
}

/** Warnings to the node's log, each said once while its cause lasts (see core/warn-once.ts). */
export const warnOnce = (node: RedNode): WarnOnce => new WarnOnce((text) => node.warn(text));
