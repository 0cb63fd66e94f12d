/**
 * Challenge delegation (the "CNAME alias mode" of certbot, lego, acme.sh and Caddy): a name whose
 * DNS host has no TXT API (No-IP, FreeDNS, Dynu, a dyndns2 service) gets its certificate through
 * a second account, the challenge account, that can write TXT records somewhere else (a DuckDNS
 * name, a Cloudflare or RFC 2136 zone, an acme-dns account).
 *
 * The user creates once, at the name's DNS host, `_acme-challenge.<name> CNAME <target>`. Then for
 * each DNS-01 challenge:
 * 1. the alias is read at the authoritative servers of the name's zone (RD clear, no cache:
 *    `findAuthoritativeServers` and `askServer` of core/dns/authoritative.ts), and followed while
 *    its target is itself an alias;
 * 2. the TXT value is written at the last target through the challenge account;
 * 3. the wait asks the authoritative servers of the target's zone (the manager's `waitVisible`
 *    with the target's name), since that is where the CA will read it.
 * A missing alias, an alias to a name the challenge account does not write (acme-dns knows its one
 * name: `txtTarget`) or a target the account refuses give a sentence with the record to create.
 *
 * The CA follows the same alias (RFC 8555 §8.4 lets the validation follow CNAMEs), so nothing
 * changes on the ACME side: `delegatedDns` returns a provider and a wait for the unchanged
 * DNS-01 code of client.ts.
 */
import { DdnsError, fatal, say, transient, type Sentence } from '../errors';
import {
  askServer,
  findAuthoritativeServers,
  normName,
  unreachableIpv6,
  type AuthoritativeServer,
} from '../dns/authoritative';
import type { DnsServer } from '../dns/transport';
import type { DnsProvider } from '../providers/types';
import type { ManagerDeps } from './manager';
import { failureSaid, listSaid } from '../said';

export interface DelegationLookup {
  /** Servers asked instead of the walk (cert-renew's "DNS servers"): they then serve both zones. */
  servers?: DnsServer[];
  /** Resolvers used to find the zones and their servers (default: this host's). */
  discovery?: DnsServer[];
  /** Port of the authoritative servers found by the walk (tests with named on a high port). */
  authPort?: number;
  /** Time limit of one query, ms. Default 3000. */
  timeoutMs?: number;
}

export interface Delegation {
  /** The challenge name, e.g. `_acme-challenge.www.example.com`. */
  name: string;
  /** Where the TXT record is written: the end of the alias chain. */
  target: string;
  /** Every alias met, in order. */
  chain: string[];
}

/** Aliases followed at most this deep (a loop or a long chain is the user's mistake). */
const MAX_HOPS = 8;

/** The servers of `name`'s zone: the given ones, or found by the walk. */
async function serversOf(name: string, o: DelegationLookup, signal?: AbortSignal): Promise<AuthoritativeServer[]> {
  if (o.servers?.length) return o.servers;
  const z = await findAuthoritativeServers(name, {
    discovery: o.discovery,
    authPort: o.authPort,
    timeoutMs: o.timeoutMs,
    signal,
  });
  return z.servers;
}

/**
 * Follow the alias of the challenge name `name` at the authoritative servers. `expectedTarget`
 * (acme-dns: the account's fulldomain) and `accountLabel` make the sentences exact. Throws a fatal
 * DdnsError when the alias is missing, loops or points elsewhere; a transient one when the
 * servers cannot be asked or do not agree (a change still spreading).
 */
export async function followChallengeAlias(
  name: string,
  o: DelegationLookup & { expectedTarget?: string; accountLabel?: string; signal?: AbortSignal },
): Promise<Delegation> {
  const start = normName(name);
  const want = o.expectedTarget ? normName(o.expectedTarget) : undefined;
  const record: string | Sentence = want
    ? `${start}. CNAME ${want}.`
    : o.accountLabel
      ? say('acme.delegation.record_label', '__name__. CNAME <a name the challenge account "__label__" can write>', {
          name: start,
          label: o.accountLabel,
        })
      : say('acme.delegation.record', '__name__. CNAME <a name the challenge account can write>', { name: start });
  const chain: string[] = [];
  let current = start;
  for (let hop = 0; hop < MAX_HOPS; hop++) {
    let servers: AuthoritativeServer[];
    try {
      servers = await serversOf(current, o, o.signal);
    } catch (e) {
      if (hop > 0) break; // the target's zone cannot be found: the writing and the wait will say more
      throw transient(
        say(
          'acme.delegation.no_servers',
          'could not find the name servers of __name__ to check its CNAME record (challenge delegation): __reason__',
          { name: start, reason: failureSaid(e) },
        ),
        { code: 'delegation_lookup' },
      );
    }
    const answers = await Promise.all(
      servers.map((s) =>
        askServer(s, current, 'TXT', { recursion: false, timeoutMs: o.timeoutMs, signal: o.signal, nsName: s.nsName }),
      ),
    );
    const usable = answers.filter((a) => !a.error && !unreachableIpv6(a));
    if (!usable.length) {
      if (hop > 0) break; // the servers given do not serve the target's zone: the target stays as found
      throw transient(
        say(
          'acme.delegation.not_asked',
          'could not ask the name servers of __name__ for its CNAME record (challenge delegation): __errors__',
          { name: start, errors: answers.map((a) => a.error ?? a.server).join('; ') },
        ),
        { code: 'delegation_lookup' },
      );
    }
    const said = (a: (typeof usable)[number]) => a.cnames?.join(' → ') ?? '';
    const seen = new Map<string, string[]>();
    for (const a of usable) seen.set(said(a), [...(seen.get(said(a)) ?? []), a.server]);
    if (seen.size > 1)
      throw transient(
        say(
          'acme.delegation.disagree',
          'the name servers do not agree about __name__ (__answers__): a change that is still spreading? Trying again later.',
          {
            name: current,
            answers: listSaid(
              [...seen].map(([v, s]) =>
                say('acme.delegation.answer', '__servers__: __said__', {
                  servers: s.join(', '),
                  said: v || say('acme.delegation.no_cname', 'no CNAME'),
                }),
              ),
              'semicolon',
            ),
          },
        ),
        { code: 'delegation_disagree' },
      );
    const aliases = usable[0].cnames ?? [];
    if (!aliases.length) break;
    for (const a of aliases) {
      if (a === start || chain.includes(a))
        throw fatal(
          say('acme.delegation.loop', 'the CNAME records of __name__ form a loop (__chain__): create __record__', {
            name: start,
            chain: [start, ...chain, a].join(' → '),
            record,
          }),
          { code: 'delegation_loop' },
        );
      chain.push(a);
    }
    current = chain[chain.length - 1];
  }
  if (!chain.length)
    throw fatal(
      say(
        'acme.delegation.missing',
        '__name__ has no CNAME record at the name servers of its zone, so the DNS-01 challenge cannot be handed to the challenge account. Create this record at the DNS host of the name: __record__',
        { name: start, record },
      ),
      { code: 'delegation_missing' },
    );
  if (want && current !== want)
    throw fatal(
      say(
        'acme.delegation.elsewhere',
        '__name__ points elsewhere: its CNAME leads to __target__, but __account__ writes __want__. Change the record to: __record__',
        {
          name: start,
          target:
            chain.length > 1
              ? say('acme.delegation.through', '__target__ (through __via__)', {
                  target: current,
                  via: chain.slice(0, -1).join(', '),
                })
              : current,
          account: o.accountLabel
            ? say('acme.delegation.account_label', 'the challenge account "__label__"', { label: o.accountLabel })
            : say('acme.delegation.account', 'the challenge account'),
          want,
          record,
        },
      ),
      { code: 'delegation_elsewhere' },
    );
  return { name: start, target: current, chain };
}

export interface DelegatedDnsOptions {
  /** The challenge account's provider (it writes the TXT records). */
  provider: DnsProvider;
  /** The challenge account's name, for the sentences. */
  accountLabel: string;
  /** The wait at the authoritative servers of a name (called with the target's name). */
  waitVisible: ManagerDeps['waitVisible'];
  lookup: DelegationLookup;
  log?: (text: string) => void;
}

/** A failure of the challenge account at `target`, said with the alias that led there (same kind, scope, code). */
function atTarget(e: unknown, d: Delegation, label: string): unknown {
  if (!(e instanceof DdnsError) || e.kind === 'transient' || e.constructor !== DdnsError) return e;
  return new DdnsError(
    e.kind,
    say(
      'acme.delegation.write_failed',
      'the challenge account "__label__" could not write the TXT record at __target__, where __name__ points by CNAME: __failure__. Check that __target__ is a name this account can write, or point the CNAME to one.',
      { label, target: d.target, name: d.name, failure: failureSaid(e) },
    ),
    { code: e.code, scope: e.scope, retryAfterMs: e.retryAfterMs, detail: e.detail, cause: e },
  );
}

/**
 * The DNS-01 hooks of an order whose `_acme-challenge` names are delegated: `provider.setTxt`
 * follows the alias and writes at its target through the challenge account, `deleteTxt` removes
 * it there, `waitVisible` waits at the target's authoritative servers.
 */
export function delegatedDns(o: DelegatedDnsOptions): {
  provider: DnsProvider;
  waitVisible: ManagerDeps['waitVisible'];
} {
  const inner = o.provider;
  const found = new Map<string, Delegation>(); // challenge name → its delegation, for the wait and the delete
  const log = o.log ?? (() => undefined);
  const provider: DnsProvider = {
    id: inner.id,
    maxHostsPerCall: inner.maxHostsPerCall,
    txtSerialised: inner.txtSerialised,
    setAddresses: () =>
      Promise.reject(
        fatal(say('acme.delegation.no_addresses', 'the challenge account only writes TXT records for certificates'), {
          code: 'delegation_no_addresses',
        }),
      ),
    async setTxt(name, value, signal) {
      const d = await followChallengeAlias(name, {
        ...o.lookup,
        expectedTarget: inner.txtTarget,
        accountLabel: o.accountLabel,
        signal,
      });
      found.set(normName(name), d);
      log(`${d.name} is delegated by CNAME to ${d.target}; writing the TXT record there through "${o.accountLabel}"`);
      try {
        await inner.setTxt!(d.target, value, signal);
      } catch (e) {
        throw atTarget(e, d, o.accountLabel);
      }
    },
    async deleteTxt(name, value, signal) {
      const d = found.get(normName(name));
      if (d) await inner.deleteTxt!(d.target, value, signal);
    },
  };
  return {
    provider,
    waitVisible: (name, value, signal) => o.waitVisible(found.get(normName(name))?.target ?? name, value, signal),
  };
}
