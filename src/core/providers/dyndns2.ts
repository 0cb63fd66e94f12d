/**
 * The dyndns2 protocol ("Remote Access API" of Dyn, spoken also by No-IP, Dynu and many servers),
 * and the generic "dyndns2" provider for any server that speaks it.
 *
 * The protocol, as the providers document it (help.dyn.com/remote-access-api/perform-update,
 * help.dyn.com/return-codes, noip.com/integrate/request, dynu.com/DynamicDNS/IP-Update-Protocol):
 * - `GET <endpoint>?hostname=<h1,h2,…>&myip=<ip>` with HTTP Basic auth and a User-Agent that names
 *   the client. `myip` is always sent: without it the server takes the request's source address.
 * - At most 20 names per request. The answer has one line per name, in the order of the request;
 *   an answer about the account or the server comes back once, for every name.
 * - `good <ip>` (changed), `nochg <ip>` (already so); every other answer needs the user to act
 *   (`badauth`, `!donator`, `notfqdn`, `nohost`, `numhost`, `abuse`, `badagent`), except `dnserr`,
 *   `911` (and Dynu's `servererror`): server trouble, try again later (No-IP: 30 minutes at the
 *   earliest), and No-IP's `w<N><s|m|h>`: wait that long.
 *
 * This module turns one provider call into requests (`planRequests`), interprets each answer
 * (`interpretAnswer`, with the answer table `ANSWERS`) and runs them (`createDyndns2Provider`). The
 * flavours (No-IP, Dynu, Dyn) differ only in their `Dyndns2Flavour` and their settings.
 *
 * Providers do not retry or remember: errors carry what the update engine needs (kind, code,
 * scope, retryAfterMs, detail), and every text has been through the account's Redactor.
 */
import type { Hostname } from '../hostname';
import { z } from 'zod';
import { DdnsError, badInput, fatal, say, toDdnsError, transient, type Sentence } from '../errors';
import type { HttpResponse } from '../http';
import { parseAddress, type Family } from '../address';
import { Redactor } from '../redact';
import { PACKAGE_NAME, PACKAGE_VERSION, PROJECT_CONTACT, PROJECT_ISSUES } from '../version';
import {
  answerError as tableError,
  type AnswerRow,
  type AnswerTable,
  blankToUndefined,
  excerpt,
  failed,
  hasAnswer,
  httpFault,
  httpUrl,
  messageOf,
  providerRequest,
} from './kit';
import { durationSaid, phrase } from '../said';
import type {
  AddressSet,
  DnsProvider,
  ProviderCall,
  ProviderDefinition,
  ProviderEnv,
  ProviderField,
  ProviderGroup,
  RecordResult,
} from './types';

/** Names per request allowed by the protocol. */
export const MAX_HOSTS_PER_REQUEST = 20;
const MINUTE = 60_000;
/** dyndns2 answers are a few lines; anything larger is not an answer. */
const MAX_ANSWER_BYTES = 16 * 1024;

/**
 * The User-Agent formats the dyndns2 providers document (a bad or missing one gets `badagent`):
 * - `contact`: No-IP's (https://www.noip.com/integrate/request, "Setting the Agent", software
 *   clients): `Company NameOfProgram/OSVersion-ReleaseVersion maintainer-contact@example.com`.
 *   Also sent to Dynu ("[DEVICE-MODEL-MAKE-VERSION]") and to any other dyndns2 server: it names
 *   the client, its version and whom to write to.
 * - `dyn`: Dyn's (https://help.dyn.com/remote-access-api/perform-update/: "company name, model
 *   number, and software build revision", shown as `Company - Device - Version Number`).
 */
export type AgentFormat = 'contact' | 'dyn';

/** A contact e-mail as No-IP's format needs it (one word, no spaces); the settings check it. */
export const contactEmail = z.email({
  error: phrase(
    'dyndns2.enter_mail_address_you',
    'Enter an e-mail address such as you@example.com (or leave it empty).',
  ),
});

/**
 * The User-Agent for `format`: `contact` defaults to the project's address (PROJECT_CONTACT); `os`
 * defaults to this machine's platform.
 */
export function dyndns2UserAgent(
  format: AgentFormat = 'contact',
  contact: string = PROJECT_CONTACT,
  os: string = process.platform,
): string {
  return format === 'dyn'
    ? `${PACKAGE_NAME} - Node-RED on ${os} - ${PACKAGE_VERSION}`
    : `${PACKAGE_NAME} ${PACKAGE_NAME}/${os}-${PACKAGE_VERSION} ${contact}`;
}

/**
 * How a flavour sends the two address families:
 * - `combined`: one request, `myip=<v4>,<v6>` (No-IP, Dyn `/v3/update`, many self-hosted servers);
 * - `separate`: one request per family, `myip=<address>` (the original protocol);
 * - `dynu`: one request, `myip=<v4|no>&myipv6=<v6|no>`: Dynu fills an omitted family from the
 *   request's source address, and `no` leaves that family as it is.
 */
export type DualStack = 'combined' | 'separate' | 'dynu' | 'split';

/**
 * Query parameter names where a provider's differ from dyndns2's (`hostname`, `myip`); `ipv6` is
 * where a `split` flavour sends IPv6 (IPv4 goes in `ip`), `user`/`password` put the credentials in
 * the query instead of Basic auth (a service that documents only that).
 */
export interface Dyndns2Params {
  host?: string;
  ip?: string;
  ipv6?: string;
  user?: string;
  password?: string;
}

export interface Dyndns2Flavour {
  /** Provider id (registry). */
  id: string;
  /** The provider's name as users know it, used in messages. */
  name: string;
  dualStack: DualStack;
  /** Earliest retry after `911`, `dnserr` or `servererror`, ms. */
  serverTroubleWaitMs: number;
  /** No-IP blocks the whole username on `abuse`; Dyn and others block the host. */
  abuseScope: 'account' | 'host';
  /** The User-Agent format the provider documents; default `contact` (No-IP's). */
  agent?: AgentFormat;
  /** Parameter names where they differ from dyndns2's. */
  params?: Dyndns2Params;
  /** Names per request (default 20); HE takes one. */
  maxHosts?: number;
  /** The Basic-auth username is the name being updated (HE's per-record keys): one name per request. */
  hostIsUser?: boolean;
  /** The provider sets A records only (Namecheap, DNS-O-Matic, OVH DynHost): IPv6 is refused, nothing sent. */
  ipv4Only?: boolean;
  /** The provider's shortest time between two updates of a record (the engine keeps to it). */
  minIntervalMs?: number;
  /**
   * Rewrites the provider's own answer (Zoneedit's XML, dynv6's sentences) into dyndns2 answer
   * lines, each word followed by the provider's own words for the user (`badauth (Failed login)`);
   * undefined: not an answer of the protocol (HTTP faults, HTML pages), handled as such.
   */
  translate?: (res: Pick<HttpResponse, 'status' | 'body'>) => string | undefined;
}

// ---------------------------------------------------------------------------------------------
// Answer table

interface AnswerContext {
  /** Provider name. */
  name: string;
  /** The names the answer is about (one, or all of the request's when returned once). */
  hosts: string[];
  flavour: Dyndns2Flavour;
}

/** The answer concerns the account or the server: it is thrown, never reported per name. */
export interface AccountWide {
  accountWide: boolean;
}

const names = (hosts: string[]): string | Sentence =>
  hosts.length === 0
    ? say('dyndns2.the_names', 'the names')
    : hosts.length <= 3
      ? hosts.join(', ')
      : say('dyndns2.names_more', '__names__ and __more__ more', {
          names: hosts.slice(0, 3).join(', '),
          more: hosts.length - 3,
        });

/**
 * A trouble on the provider's side (`dnserr`, `911`, `servererror`): transient for the whole
 * account, tried again after the flavour's `serverTroubleWaitMs`; `message` words it with the
 * provider's name and that wait.
 */
function serverTrouble(
  message: (v: { name: string; wait: Sentence }) => Sentence,
): AnswerRow<AnswerContext> & AccountWide {
  return {
    kind: 'transient',
    scope: 'account',
    accountWide: true,
    waitMs: (c) => c.flavour.serverTroubleWaitMs,
    message: (c) => message({ name: c.name, wait: durationSaid(c.flavour.serverTroubleWaitMs) }),
  };
}

/**
 * Every answer word of the protocol that is not a success, with what it means for the user.
 * Codes of the DdnsErrors are these words.
 */
export const ANSWERS: AnswerTable<AnswerContext, AccountWide> = {
  badauth: {
    kind: 'fatal',
    scope: 'account',
    accountWide: true,
    message: (c) =>
      say(
        'dyndns2.badauth',
        '__name__ rejected the username or password (badauth). Check both in the account settings; no update is sent until they are changed.',
        { name: c.name },
      ),
  },
  '!donator': {
    kind: 'fatal',
    scope: 'account',
    accountWide: true,
    message: (c) =>
      say(
        'dyndns2.donator',
        '__name__ says this update needs a paid account (!donator). Upgrade the account or remove the feature; no update is sent until the settings are changed.',
        { name: c.name },
      ),
  },
  badagent: {
    kind: 'fatal',
    scope: 'account',
    accountWide: true,
    message: (c) =>
      say(
        'dyndns2.badagent',
        '__name__ refused this client (badagent). No update is sent until the configuration changes; please report it at __issues__.',
        { name: c.name, issues: PROJECT_ISSUES },
      ),
  },
  notfqdn: {
    kind: 'fatal',
    scope: 'host',
    accountWide: false,
    message: (c) =>
      say(
        'dyndns2.notfqdn',
        '__name__ says __hosts__ is not a complete host name (notfqdn). Enter the full name, e.g. myhome.example.net; this name is not updated until then.',
        { name: c.name, hosts: names(c.hosts) },
      ),
  },
  nohost: {
    kind: 'fatal',
    scope: 'host',
    accountWide: false,
    message: (c) =>
      say(
        'dyndns2.nohost',
        "__name__ does not know __hosts__ in this account (nohost). Check the spelling, or create the name in the provider's control panel; it is not updated until then.",
        { name: c.name, hosts: names(c.hosts) },
      ),
  },
  numhost: {
    kind: 'fatal',
    scope: 'host',
    accountWide: false,
    message: (c) =>
      say(
        'dyndns2.numhost',
        '__name__ refused __hosts__: too many names in one update, or a round-robin name that cannot be updated this way (numhost). Change the list of names; they are not updated until then.',
        { name: c.name, hosts: names(c.hosts) },
      ),
  },
  abuse: {
    kind: 'fatal',
    scope: (c) => c.flavour.abuseScope,
    accountWide: false,
    message: (c) =>
      c.flavour.abuseScope === 'account'
        ? say(
            'dyndns2.abuse_account',
            "__name__ has blocked this account for update abuse (abuse). Unblock it with __name__'s support; no update is sent until the settings are changed.",
            { name: c.name },
          )
        : say(
            'dyndns2.abuse_host',
            "__name__ has blocked __hosts__ for update abuse (abuse). Unblock it in the provider's control panel or with their support; it is not updated until then.",
            { name: c.name, hosts: names(c.hosts) },
          ),
  },
  dnserr: serverTrouble((v) =>
    say(
      'dyndns2.dnserr',
      '__name__ reported a DNS error on its side (dnserr); the update is tried again in __wait__ at the earliest.',
      v,
    ),
  ),
  '911': serverTrouble((v) =>
    say(
      'dyndns2.911',
      '__name__ reported a problem or maintenance on its side (911); the update is tried again in __wait__ at the earliest.',
      v,
    ),
  ),
  servererror: serverTrouble((v) =>
    say(
      'dyndns2.servererror',
      '__name__ reported an error on its side (servererror); the update is tried again in __wait__ at the earliest.',
      v,
    ),
  ),
};

const WAIT_UNITS = { s: [1000, 'seconds'], m: [MINUTE, 'minutes'], h: [60 * MINUTE, 'hours'] } as const;

/** A No-IP wait instruction `w<N>` followed by s, m or h: its length in ms and in words. */
export function parseWait(word: string): { ms: number; words: string } | undefined {
  const m = /^w(\d{1,6})([smh])$/i.exec(word);
  if (!m) return undefined;
  const [unit, label] = WAIT_UNITS[m[2].toLowerCase() as keyof typeof WAIT_UNITS];
  return { ms: Number(m[1]) * unit, words: `${Number(m[1])} ${label}` };
}

const has = hasAnswer;

/** The error text of a No-IP wait instruction (`w<N><s|m|h>`, already checked by parseWait). */
function waitSaid(name: string, word: string): Sentence {
  const m = /^w(\d{1,6})([smh])$/i.exec(word)!;
  const p = { name, n: Number(m[1]), word };
  const unit = m[2].toLowerCase();
  if (unit === 's')
    return say('dyndns2.wait_s', '__name__ asks to wait __n__ seconds before the next update (__word__).', p);
  if (unit === 'm')
    return say('dyndns2.wait_m', '__name__ asks to wait __n__ minutes before the next update (__word__).', p);
  return say('dyndns2.wait_h', '__name__ asks to wait __n__ hours before the next update (__word__).', p);
}

function answerError(word: string, c: AnswerContext, detail: string, redactor: Redactor): DdnsError {
  return tableError(ANSWERS, word, c, { detail, redactor });
}

// ---------------------------------------------------------------------------------------------
// Input validation

/** dyndns2 servers update named hosts: a wildcard is not a host they know. */
export const isDyndns2Host = (name: Hostname): boolean => !name.startsWith('*.');

function validateCall(call: ProviderCall, max: number): { hostnames: Hostname[]; addresses: AddressSet } {
  if (!Array.isArray(call.hostnames) || call.hostnames.length === 0)
    throw badInput(say('dyndns2.no_hostname', 'No host name to update was given.'), 'no_hostname');
  if (call.hostnames.length > max) {
    throw badInput(
      say('dyndns2.too_many', '__count__ names were given for one update; at most __max__ fit in one request.', {
        count: call.hostnames.length,
        max,
      }),
      'too_many_hostnames',
    );
  }
  const hostnames: Hostname[] = [];
  for (const n of call.hostnames) {
    if (!isDyndns2Host(n))
      throw badInput(
        say('dyndns2.not_complete', '"__name__" is not a complete host name such as myhome.example.net.', { name: n }),
        'invalid_hostname',
      );
    if (hostnames.includes(n))
      throw badInput(say('dyndns2.twice', '__name__ is listed twice.', { name: n }), 'duplicate_hostname');
    hostnames.push(n);
  }
  const addresses = call.addresses;
  if (!addresses.ipv4 && !addresses.ipv6)
    throw badInput(say('dyndns2.no_address', 'No address to publish was given (neither IPv4 nor IPv6).'), 'no_address');
  return { hostnames, addresses };
}

// ---------------------------------------------------------------------------------------------
// Requests

export interface PlannedRequest {
  /** The families this request sets; each answer line reports on all of them. */
  families: Family[];
  /** Query parameters besides `hostname`, in order. */
  params: Array<[string, string]>;
}

/** The requests one call needs, in the order they are sent (IPv4 first). */
export function planRequests(dualStack: DualStack, addresses: AddressSet, names: Dyndns2Params = {}): PlannedRequest[] {
  const families = (['ipv4', 'ipv6'] as const).filter((f) => addresses[f]);
  const ip = names.ip ?? 'myip';
  switch (dualStack) {
    case 'combined':
      return [{ families: [...families], params: [[ip, families.map((f) => addresses[f]).join(',')]] }];
    case 'split':
      return [
        {
          families: [...families],
          params: families.map((f) => [f === 'ipv4' ? ip : (names.ipv6 ?? 'myipv6'), addresses[f]!]),
        },
      ];
    case 'dynu':
      return [
        {
          families: [...families],
          params: [
            ['myip', addresses.ipv4 ?? 'no'],
            ['myipv6', addresses.ipv6 ?? 'no'],
          ],
        },
      ];
    case 'separate':
      return families.map((f) => ({ families: [f], params: [[ip, addresses[f]!]] }));
  }
}

/** Names and addresses only hold [a-z0-9.:-] after validation; `,` and `:` stay literal as the providers show them. */
const enc = (v: string) => encodeURIComponent(v).replace(/%2C/gi, ',').replace(/%3A/gi, ':');

/** The request URL: the endpoint (its own query kept) plus `hostname` and the request's parameters. */
export function buildUrl(endpoint: string, hostnames: string[], req: PlannedRequest, hostParam = 'hostname'): string {
  const u = new URL(endpoint);
  const own = u.search.replace(/^\?/, '');
  const ours = [[hostParam, hostnames.join(',')], ...req.params].map(([k, v]) => `${k}=${enc(v)}`).join('&');
  return `${u.origin}${u.pathname}?${own ? `${own}&` : ''}${ours}`;
}

// ---------------------------------------------------------------------------------------------
// Answers

export interface AnswerInput {
  response: Pick<HttpResponse, 'status' | 'headers' | 'body'>;
  hostnames: string[];
  families: Family[];
  /** The addresses sent. */
  addresses: AddressSet;
  flavour: Dyndns2Flavour;
  /** Provider name for messages (the flavour's, or the server's host for the generic provider). */
  name: string;
  redactor: Redactor;
}

const SUCCESS: Record<string, { outcome: 'updated' | 'unchanged'; says: Sentence }> = {
  good: { outcome: 'updated', says: say('dyndns2.good', 'record updated') },
  nochg: { outcome: 'unchanged', says: say('dyndns2.nochg', 'the record already held this address') },
};

/**
 * The results of one answer: one RecordResult per name and family of the request, in order.
 * Throws a DdnsError when the answer concerns the whole request (account, server, wait, HTTP
 * status, an answer that cannot be read).
 */
export function interpretAnswer(a: AnswerInput): RecordResult[] {
  const { response: res, hostnames, families, flavour, name, redactor } = a;
  const detail = excerpt(res.body, redactor);
  const ctx = (hosts: string[]): AnswerContext => ({ name, hosts, flavour });
  const linesOf = (text: string) =>
    text
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter(Boolean);
  const lines = linesOf(res.body);
  // Each line as shown: the whole body is redacted before it is cut into lines and shortened (a
  // secret that spans lines leaves the lines uneven: then every line shows the whole excerpt).
  const safeLines = linesOf(redactor.text(res.body));
  const shownLine = (i: number) => (safeLines.length === lines.length ? excerpt(safeLines[i], redactor) : detail);
  const words = lines.map((l) => l.split(/\s+/)[0].toLowerCase());
  const known = (w: string) => has(SUCCESS, w) || has(ANSWERS, w);

  if (res.status === 401) throw answerError('badauth', ctx(hostnames), detail, redactor);
  const readable = lines.length > 0 && words.every((w) => known(w) || parseWait(w) !== undefined);
  if ((res.status < 200 || res.status >= 300) && !readable) {
    const location = res.headers.location ? redactor.text(res.headers.location).slice(0, 200) : '';
    const moved = res.status >= 300 && res.status < 400 && location;
    throw httpFault(res, {
      name,
      redactor,
      scope: 'account',
      message: (f) =>
        res.status === 404
          ? say(
              'dyndns2.http_404',
              '__name__ answered with HTTP status __status__: __detail__. Check the server address (endpoint).',
              { name, status: f.status, detail: f.detail },
            )
          : moved
            ? say(
                'dyndns2.http_moved',
                '__name__ answered with HTTP status __status__: __detail__. The server moved to __location__: use that address as the endpoint.',
                { name, status: f.status, detail: f.detail, location },
              )
            : say('dyndns2.http_status', '__name__ answered with HTTP status __status__: __detail__.', {
                name,
                status: f.status,
                detail: f.detail,
              }),
    });
  }
  const waitWord = words.find((w) => parseWait(w) !== undefined);
  if (waitWord) {
    const wait = parseWait(waitWord)!;
    throw redactor.error(
      transient(waitSaid(name, waitWord), {
        code: 'wait',
        scope: 'account',
        detail,
        retryAfterMs: wait.ms,
      }),
    );
  }
  if (!lines.some((_, i) => known(words[i]))) {
    throw httpFault(res, {
      name,
      redactor,
      scope: 'account',
      unreadableCode: 'bad_answer',
      message: (f) =>
        say('dyndns2.not_dyndns2', '__name__ sent an answer that is not a dyndns2 answer: __detail__', {
          name,
          detail: f.detail,
        }),
    });
  }
  // An answer about the account or the server, wherever it appears, concerns every name.
  const wide = words.find((w) => has(ANSWERS, w) && ANSWERS[w].accountWide);
  if (wide) throw answerError(wide, ctx(hostnames), detail, redactor);
  // Returned once for several names: applies to all of them.
  if (lines.length === 1 && hostnames.length > 1) {
    if (has(ANSWERS, words[0])) throw answerError(words[0], ctx(hostnames), detail, redactor);
    throw redactor.error(
      transient(
        say(
          'dyndns2.answered_once',
          '__name__ answered once (__detail__) for __count__ names; one answer per name was expected.',
          {
            name,
            detail,
            count: hostnames.length,
          },
        ),
        {
          code: 'bad_answer',
          scope: 'account',
          detail,
        },
      ),
    );
  }
  if (lines.length !== hostnames.length) {
    throw redactor.error(
      transient(
        say('dyndns2.line_count', '__name__ sent __lines__ answer lines for __count__ names: __detail__', {
          name,
          lines: lines.length,
          count: hostnames.length,
          detail,
        }),
        {
          code: 'bad_answer',
          scope: 'account',
          detail,
        },
      ),
    );
  }
  // An account-level abuse block (No-IP) is not per name either.
  if (words.includes('abuse') && flavour.abuseScope === 'account')
    throw answerError('abuse', ctx(hostnames), detail, redactor);

  const out: RecordResult[] = [];
  lines.forEach((line, i) => {
    const host = hostnames[i];
    const shown = shownLine(i);
    const each = (outcome: RecordResult['outcome'], message: string, error?: DdnsError) =>
      families.forEach((family) => out.push({ hostname: host, family, outcome, message, ...(error ? { error } : {}) }));
    const w = words[i];
    if (has(ANSWERS, w)) {
      const err = answerError(w, ctx([host]), shown, redactor);
      return each('failed', `${shown}: ${err.message}`, err);
    }
    const ok = has(SUCCESS, w) ? SUCCESS[w] : undefined;
    if (!ok) {
      const err = redactor.error(
        transient(
          say('dyndns2.unexpected', '__name__ sent an unexpected answer for __host__: __line__', {
            name,
            host,
            line: shown,
          }),
          { code: 'bad_answer', detail: shown },
        ),
      );
      return each('failed', err.message, err);
    }
    // The addresses the server says the name now has must be the ones sent.
    const echoed = line
      .split(/[\s,]+/)
      .slice(1)
      .map((t) => parseAddress(t))
      .filter((p) => p !== null);
    for (const family of families) {
      const got = echoed.filter((p) => p.family === family).map((p) => p.address);
      if (got.length === 0 || got.includes(a.addresses[family]!)) {
        out.push({
          hostname: host,
          family,
          outcome: ok.outcome,
          ...messageOf(say('dyndns2.answer', '__answer__: __says__', { answer: shown, says: ok.says })),
        });
      } else if (got.some((g) => g === '127.0.0.1')) {
        // Dyn's signal for a refused client: the update was ignored.
        throw answerError('badagent', ctx(hostnames), detail, redactor);
      } else {
        const err = redactor.error(
          fatal(
            say(
              'dyndns2.address_mismatch',
              '__name__ set __host__ to __got__ where __sent__ was sent (__line__). The server seems to ignore the address sent (myip); check the server address (endpoint). The name is not updated until the settings change.',
              { name, host, got: got.join(', '), sent: a.addresses[family]!, line: shown },
            ),
            { code: 'address_mismatch', scope: 'host', detail: shown },
          ),
        );
        out.push(failed(host, family, err));
      }
    }
  });
  return out;
}

// ---------------------------------------------------------------------------------------------
// The provider

/** The answer for an IPv6 address given to a provider that sets IPv4 only (nothing is sent). */
export const ipv6Refused = (name: string): DdnsError =>
  badInput(
    say(
      'dyndns2.ipv4_only',
      '__name__ updates IPv4 addresses (A records) only; choose IPv4 in the node for this account.',
      {
        name,
      },
    ),
    'ipv6_unsupported',
  );

export interface Dyndns2Options {
  flavour: Dyndns2Flavour;
  endpoint: string;
  username: string;
  password: string;
  env?: ProviderEnv;
  /** Name used in messages; default the flavour's name. */
  name?: string;
  /** The e-mail sent in a `contact` User-Agent; default the project's (PROJECT_CONTACT). */
  contact?: string;
}

/**
 * A DnsProvider speaking dyndns2 to `endpoint`. One call sends one request (or one per family for
 * `separate` flavours, IPv4 first). When a later request of the same call fails after an earlier
 * one was answered, the earlier results are returned and the later records are `failed` with the
 * error (scope `account` when it concerned the whole request), so that a record that was written
 * is never reported as not written. A name that got a fatal answer in the first request is not
 * sent again in the second.
 */
export function createDyndns2Provider(o: Dyndns2Options): DnsProvider {
  const { flavour: f } = o;
  const name = o.name ?? f.name;
  const redactor = new Redactor([o.password, `${o.username}:${o.password}`]);
  const basic = (user: string) => `Basic ${Buffer.from(`${user}:${o.password}`).toString('base64')}`;
  const userAgent = dyndns2UserAgent(f.agent, o.contact);
  const max = f.hostIsUser ? 1 : (f.maxHosts ?? MAX_HOSTS_PER_REQUEST);
  const inQuery = f.params?.password;

  async function send(
    hostnames: string[],
    req: PlannedRequest,
    addresses: AddressSet,
    signal?: AbortSignal,
  ): Promise<RecordResult[]> {
    const http = { redactor, env: o.env ?? {}, maxBodyBytes: MAX_ANSWER_BYTES, userAgent };
    const credentials: Array<[string, string]> = inQuery
      ? [...(f.params?.user ? [[f.params.user, o.username] as [string, string]] : []), [inQuery, o.password]]
      : [];
    const response = await providerRequest(http, {
      url: buildUrl(o.endpoint, hostnames, { ...req, params: [...req.params, ...credentials] }, f.params?.host),
      method: 'GET',
      headers: inQuery ? {} : { authorization: basic(f.hostIsUser ? hostnames[0] : o.username) },
      signal,
    });
    const words = f.translate?.(response);
    return interpretAnswer({
      response: words === undefined ? response : { ...response, status: 200, body: words },
      hostnames,
      families: req.families,
      addresses,
      flavour: f,
      name,
      redactor,
    });
  }

  return {
    id: f.id,
    maxHostsPerCall: max,
    ...(f.minIntervalMs ? { minIntervalMs: f.minIntervalMs } : {}),
    async setAddresses(call: ProviderCall): Promise<RecordResult[]> {
      const { hostnames, addresses: asked } = validateCall(call, max);
      const refused = f.ipv4Only && asked.ipv6 ? hostnames.map((h) => failed(h, 'ipv6', ipv6Refused(name))) : [];
      const addresses: AddressSet = f.ipv4Only ? (asked.ipv4 ? { ipv4: asked.ipv4 } : {}) : asked;
      if (!addresses.ipv4 && !addresses.ipv6) return refused;
      const plan = planRequests(f.dualStack, addresses, f.params);
      const results: RecordResult[] = [...refused];
      const fail = (hostname: string, family: Family, error: DdnsError) =>
        results.push(failed(hostname, family, error));
      let failure: DdnsError | undefined;
      for (const req of plan) {
        // A name that got a fatal answer is not sent again in this call.
        const stopped = new Map(results.filter((r) => r.error?.kind === 'fatal').map((r) => [r.hostname, r.error!]));
        for (const [h, error] of stopped) for (const family of req.families) fail(h, family, error);
        const sendTo = hostnames.filter((h) => !stopped.has(h));
        if (sendTo.length === 0) continue;
        try {
          results.push(...(await send(sendTo, req, addresses, call.signal)));
        } catch (e) {
          failure = redactor.error(toDdnsError(e));
          if (results.length === 0) throw failure;
          break;
        }
      }
      // Records of requests that were not answered carry the failure that stopped the call.
      if (failure) {
        for (const req of plan)
          for (const h of hostnames)
            for (const family of req.families) {
              if (!results.some((r) => r.hostname === h && r.family === family)) fail(h, family, failure);
            }
      }
      return results;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Settings shared by the dyndns2 providers

const endpointUrl = httpUrl(
  phrase('dyndns2.enter_web_address_starting', 'Enter a web address starting with https:// (or http://).'),
);

/** Username, password and an optional endpoint override (default: the provider's real server). */
export const accountSettings = z.object({
  username: z
    .string()
    .trim()
    .min(1, phrase('dyndns2.enter_username', 'Enter the username.'))
    .refine((s) => !s.includes(':'), phrase('dyndns2.username_cannot_contain', 'A username cannot contain ":".')),
  password: z.string().min(1, phrase('dyndns2.enter_password', 'Enter the password.')),
  endpoint: z.preprocess(blankToUndefined, endpointUrl.optional()),
});
export type AccountSettings = z.infer<typeof accountSettings>;

/** The optional contact e-mail of a `contact` User-Agent (empty: the project's). */
const contactSetting = z.preprocess(
  (v) => (typeof v === 'string' ? blankToUndefined(v.trim()) : v),
  contactEmail.optional(),
);

/** `accountSettings` plus the contact e-mail, for providers whose User-Agent carries one. */
export const contactAccountSettings = accountSettings.extend({ contact: contactSetting });
export type ContactAccountSettings = z.infer<typeof contactAccountSettings>;

/** The editor field of the contact e-mail (`provider`: whose support may write to it). */
function contactField(provider: string): ProviderField {
  return {
    key: 'contact',
    label: 'Contact e-mail',
    kind: 'email',
    advanced: true,
    placeholder: PROJECT_CONTACT,
    help:
      `Sent to ${provider} in the User-Agent of every update, as its rules ask, so that its support can reach ` +
      `whoever runs this client. Leave empty to send the project's address (${PROJECT_CONTACT}).`,
  };
}

/**
 * The editor fields of `accountSettings`; with `contact` (the provider's name), those of
 * `contactAccountSettings`.
 */
export function accountFields(o: {
  username: string;
  password: string;
  defaultEndpoint: string;
  contact?: string;
}): ProviderField[] {
  return [
    { key: 'username', label: 'Username', kind: 'text', required: true, help: o.username },
    { key: 'password', label: 'Password', kind: 'password', required: true, help: o.password },
    {
      key: 'endpoint',
      label: 'Update server',
      kind: 'url',
      advanced: true,
      placeholder: o.defaultEndpoint,
      help: `Leave empty to use ${o.defaultEndpoint}.`,
    },
    ...(o.contact ? [contactField(o.contact)] : []),
  ];
}

/** A preset's flavour: server trouble waits 10 minutes and `abuse` blocks one name unless it says otherwise. */
export type PresetFlavour = Omit<Dyndns2Flavour, 'serverTroubleWaitMs' | 'abuseScope'> &
  Partial<Pick<Dyndns2Flavour, 'serverTroubleWaitMs' | 'abuseScope'>>;

export const presetFlavour = (f: PresetFlavour): Dyndns2Flavour => ({
  serverTroubleWaitMs: 10 * MINUTE,
  abuseScope: 'host',
  ...f,
});

/** What the editor says about a fixed-server dyndns2 provider's account, and where its docs are. */
interface MemberText {
  flavour: PresetFlavour;
  label?: string;
  /** Default `ddns` (a dynamic-DNS service); registrars and hosts with a DynDNS page say `registrar`. */
  group?: ProviderGroup;
  endpoint: string;
  password: string;
  docsUrl: string;
}

function member<S extends z.ZodType<{ password: string; endpoint?: string; contact?: string; username?: string }>>(
  o: MemberText,
  settings: S,
  fields: ProviderField[],
): ProviderDefinition<S> {
  const flavour = presetFlavour(o.flavour);
  return {
    id: o.flavour.id,
    label: o.label ?? o.flavour.name,
    group: o.group ?? 'ddns',
    settings,
    fields,
    txt: false,
    docsUrl: o.docsUrl,
    create: (s, env) =>
      createDyndns2Provider({
        flavour,
        endpoint: s.endpoint ?? o.endpoint,
        username: s.username ?? '',
        password: s.password,
        contact: s.contact,
        env,
      }),
  };
}

/**
 * The whole definition of a dyndns2 provider at a fixed server whose User-Agent carries a contact
 * (No-IP, Dynu and the like): its flavour, its server, and what the editor says about its account.
 */
export function dyndns2Member(o: MemberText & { username: string }): ProviderDefinition<typeof contactAccountSettings> {
  const fields = accountFields({ ...o, contact: o.flavour.name, defaultEndpoint: o.endpoint });
  return member(o, contactAccountSettings, fields);
}

/** A key (or token) alone, with the optional endpoint and contact: providers without a username. */
export const keySettings = z.object({
  password: z.string().trim().min(1, phrase('dyndns2.enter_key', 'Enter the key.')),
  endpoint: accountSettings.shape.endpoint,
  contact: contactSetting,
});

/**
 * `dyndns2Member` for a provider whose update needs only a key (HE's per-record keys, IPv64's
 * update key, dynv6's token): `keyLabel` names it in the editor.
 */
export function dyndns2KeyMember(o: MemberText & { keyLabel: string }): ProviderDefinition<typeof keySettings> {
  const [, password, ...rest] = accountFields({
    ...o,
    username: '',
    contact: o.flavour.name,
    defaultEndpoint: o.endpoint,
  });
  return member(o, keySettings, [{ ...password, label: o.keyLabel }, ...rest]);
}

// ---------------------------------------------------------------------------------------------
// The generic provider: any dyndns2 server by URL

const genericSettings = z.object({
  endpoint: endpointUrl,
  username: accountSettings.shape.username,
  password: accountSettings.shape.password,
  /** Send both families in one request as `myip=<v4>,<v6>` (servers that accept it). */
  combined: z.preprocess(blankToUndefined, z.boolean().optional()),
  contact: contactSetting,
});

export const definition: ProviderDefinition<typeof genericSettings> = {
  id: 'dyndns2',
  label: 'Other dyndns2 server',
  group: 'self-hosted',
  settings: genericSettings,
  fields: [
    {
      key: 'endpoint',
      label: 'Update URL',
      kind: 'url',
      required: true,
      placeholder: 'https://dyn.example.net/nic/update',
      help: "The full address of the server's update page, usually ending in /nic/update.",
    },
    { key: 'username', label: 'Username', kind: 'text', required: true, help: 'The user name for this server.' },
    {
      key: 'password',
      label: 'Password',
      kind: 'password',
      required: true,
      help: 'The password or update key for this server.',
    },
    {
      key: 'combined',
      label: 'IPv4 and IPv6 in one request',
      kind: 'checkbox',
      advanced: true,
      default: false,
      help: 'Send both addresses together (myip=IPv4,IPv6) when the server accepts it; otherwise one request per address.',
    },
    contactField('the server'),
  ],
  txt: false,
  docsUrl: 'https://help.dyn.com/remote-access-api/perform-update/',
  create(s, env) {
    const flavour: Dyndns2Flavour = {
      id: 'dyndns2',
      name: new URL(s.endpoint).host,
      dualStack: s.combined ? 'combined' : 'separate',
      serverTroubleWaitMs: 10 * MINUTE,
      abuseScope: 'host',
    };
    return createDyndns2Provider({
      flavour,
      endpoint: s.endpoint,
      username: s.username,
      password: s.password,
      contact: s.contact,
      env,
    });
  },
};
