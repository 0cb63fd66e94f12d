/**
 * DNS-PERSIST-01 (draft-ietf-acme-dns-persist): the user creates one TXT record, once, at
 * `_validation-persist.<name>`, naming the CA and this ACME account; the CA reads it at every
 * order, so renewals need no DNS write, no propagation wait and no DNS credentials. This package
 * never writes the record: it says which one to create and checks it, read-only, at the name's
 * authoritative servers (dns/authoritative.ts) before asking the CA.
 *
 * The record (draft -01, 24 March 2026, §4.1; -02, 20 September 2026, §4.1): RDATA in the CAA
 * issue-value syntax of RFC 8659 §4.2, `<issuer-domain-name>; accounturi=<uri>[; policy=wildcard]`,
 * the issuer domain name one of the challenge's `issuerDomainNames` (-02 §3.2: also the directory's
 * `meta.issuerDomainNames`, each of which every challenge must offer). `accounturi` is the ACME
 * account URL in -01; in -02 it is a hashed URI, when the CA's directory has `meta.accountHashPrefix`:
 * `<prefix>sha-256/<base64url(SHA-256(len(domain) || domain || JWK thumbprint || account URL))>`.
 * A wildcard name is covered by the record of its base name with `policy=wildcard`. A record with
 * `persistUntil` in the past no longer counts.
 */
import { createHash } from 'node:crypto';
import { askAuthoritative } from '../dns/authoritative';
import type { DnsServer } from '../dns/transport';
import { english, fatal, say, transient, type Sentence } from '../errors';
import { listSaid } from '../said';
import type { ChallengeSolver, OfferedChallenge, SolverContext } from './solver';

export const PERSIST_LABEL = '_validation-persist';

/** A TXT record to create: its owner name and its value. */
export interface PersistRecord {
  name: string;
  value: string;
}

/** The hashed account URI of draft -02 §4.1 for `domain` (the validated FQDN, or `*`). */
export function hashedAccountUri(prefix: string, domain: string, thumbprint: string, accountUrl: string): string {
  const d = Buffer.from(domain, 'ascii');
  const digest = createHash('sha256')
    .update(
      Buffer.concat([Buffer.from([d.length]), d, Buffer.from(thumbprint, 'ascii'), Buffer.from(accountUrl, 'ascii')]),
    )
    .digest('base64url');
  return `${prefix}sha-256/${digest}`;
}

/** `accounturi` for the account and the name: hashed when the CA publishes a prefix (-02), else the URL (-01). */
export function accountUri(directory: Record<string, unknown>, base: string, ctx: SolverContext): string {
  const prefix = (directory.meta as { accountHashPrefix?: unknown } | undefined)?.accountHashPrefix;
  return typeof prefix === 'string' && prefix
    ? hashedAccountUri(prefix, base, ctx.thumbprint, ctx.accountUrl)
    : ctx.accountUrl;
}

/** The record for `base` (a name without `*.`); `wildcard` adds policy=wildcard. */
export function persistRecord(base: string, issuer: string, uri: string, wildcard: boolean): PersistRecord {
  return {
    name: `${PERSIST_LABEL}.${base}`,
    value: `${issuer}; accounturi=${uri}${wildcard ? '; policy=wildcard' : ''}`,
  };
}

/** RFC 8659 §4.2 issue-value: the issuer domain name, then `;`-separated `tag=value` parameters. */
export function parseIssueValue(text: string): { issuer: string; params: Record<string, string> } | null {
  const [head, ...rest] = text.split(';');
  const issuer = head.trim().toLowerCase().replace(/\.$/, '');
  if (!/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/.test(issuer)) return null;
  const params: Record<string, string> = {};
  for (const p of rest) {
    if (!p.trim()) continue;
    const m = /^\s*([A-Za-z0-9]+)\s*=\s*(\S*)\s*$/.exec(p);
    if (!m) return null;
    params[m[1].toLowerCase()] = m[2];
  }
  return { issuer, params };
}

/** A verdict against the record: `why` in English, `said` the same as a sentence. */
const notOk = (said: Sentence): { ok: false; why: string; said: Sentence } => ({ ok: false, why: english(said), said });

/** Whether one of `values` (TXT records at the name) lets this account validate; why not, else. */
export function matchRecord(
  values: string[],
  want: { issuers: string[]; uri: string; wildcard: boolean; now: number },
): { ok: true } | { ok: false; why: string; said: Sentence } {
  const parsed = values.map(parseIssueValue).filter((v): v is NonNullable<typeof v> => v !== null);
  const ours = parsed.filter((p) => want.issuers.includes(p.issuer));
  if (!values.length) return notOk(say('acme.persist.no_record', 'there is no TXT record there'));
  if (!ours.length)
    return notOk(
      say('acme.persist.other_ca', 'the TXT records there name __named__, not __wanted__', {
        named: parsed.map((p) => p.issuer).join(', ') || say('acme.persist.no_ca', 'no certificate authority'),
        wanted: listSaid(want.issuers, 'or'),
      }),
    );
  const mine = ours.filter((p) => p.params.accounturi === want.uri);
  if (!mine.length)
    return notOk(say('acme.persist.other_account', 'the record there names another ACME account (accounturi)'));
  const live = mine.filter((p) => !p.params.persistuntil || Number(p.params.persistuntil) * 1000 > want.now);
  if (!live.length)
    return notOk(
      say('acme.persist.expired', 'the record there expired (persistUntil __date__)', {
        date: new Date(Number(mine[0].params.persistuntil) * 1000).toISOString().slice(0, 10),
      }),
    );
  if (want.wildcard && !live.some((p) => p.params.policy?.toLowerCase() === 'wildcard'))
    return notOk(say('acme.persist.no_wildcard', 'a wildcard name needs policy=wildcard in the record'));
  return { ok: true };
}

/** A valid issuerDomainNames array (-01/-02 §3.1: 1 to 10 lowercase names without a trailing dot), or null. */
function issuerNames(v: unknown): string[] | null {
  if (!Array.isArray(v) || v.length < 1 || v.length > 10) return null;
  const ok = v.every((n) => typeof n === 'string' && n.length <= 253 && /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/.test(n));
  return ok ? (v as string[]) : null;
}

export interface PersistOptions {
  /** Ask these servers (default: the names' authoritative servers, found by the walk). */
  authServers?: DnsServer[];
  discovery?: DnsServer[];
  timeoutMs?: number;
  now?: () => number;
}

export class PersistSolver implements ChallengeSolver {
  readonly type = 'dns-persist-01';
  readonly label = 'DNS-PERSIST-01';
  /** The records this account needs, as last computed (for messages). */
  records: PersistRecord[] = [];

  constructor(private readonly o: PersistOptions = {}) {}

  /** When the CA's directory names its issuers (-02 §3.2): every record checked before any order. */
  async prepare(names: string[], ctx: SolverContext): Promise<void> {
    this.records = [];
    const issuers = issuerNames((ctx.directory.meta as { issuerDomainNames?: unknown } | undefined)?.issuerDomainNames);
    if (!issuers) return; // known only from the challenges (-01): checked there
    const bases = new Map<string, boolean>(); // base name → a wildcard needs it
    for (const n of names) {
      const base = n.replace(/^\*\./, '');
      bases.set(base, (bases.get(base) ?? false) || n.startsWith('*.'));
    }
    const missing: Array<{ record: PersistRecord; why: Sentence }> = [];
    for (const [base, wildcard] of bases) {
      const r = await this.check(base, wildcard, issuers, ctx);
      if (r) missing.push(r);
    }
    if (missing.length) throw this.missingError(missing);
  }

  async present(
    a: { identifier: string; wildcard: boolean; challenge: OfferedChallenge },
    ctx: SolverContext,
  ): Promise<void> {
    const issuers = issuerNames(a.challenge.issuerDomainNames);
    if (!issuers)
      throw fatal(
        say(
          'acme.persist.malformed',
          'the certificate authority sent a malformed DNS-PERSIST-01 challenge for __name__ (issuerDomainNames must list 1 to 10 names)',
          { name: a.identifier },
        ),
        { code: 'persist_malformed' },
      );
    const missing = await this.check(a.identifier, a.wildcard, issuers, ctx);
    if (missing) throw this.missingError([missing]);
  }

  async finish(): Promise<void> {
    /* nothing was opened or written */
  }

  /** Read the record of `base` at every authoritative server; what to create (and why) when one lacks it. */
  private async check(
    base: string,
    wildcard: boolean,
    issuers: string[],
    ctx: SolverContext,
  ): Promise<{ record: PersistRecord; why: Sentence } | null> {
    // The directory's issuers (-02 §3.2) come first: every challenge of the CA accepts them.
    const advertised = issuerNames(
      (ctx.directory.meta as { issuerDomainNames?: unknown } | undefined)?.issuerDomainNames,
    );
    const issuer = advertised?.find((i) => issuers.includes(i)) ?? issuers[0];
    const record = persistRecord(base, issuer, accountUri(ctx.directory, base, ctx), wildcard);
    if (!this.records.some((r) => r.name === record.name)) this.records.push(record);
    const uris = [accountUri(ctx.directory, base, ctx), accountUri(ctx.directory, '*', ctx)];
    const report = await askAuthoritative(record.name, 'TXT', {
      servers: this.o.authServers,
      discovery: this.o.discovery,
      timeoutMs: this.o.timeoutMs ?? 5000,
      signal: ctx.signal,
    });
    const answered = report.answers.filter((x) => !x.error);
    if (!answered.length)
      throw transient(
        say(
          'acme.persist.not_asked',
          'DNS-PERSIST-01: the authoritative servers of __name__ could not be asked for __record__: __error__',
          {
            name: base,
            record: record.name,
            error: report.answers[0]?.error ?? say('acme.persist.none_found', 'none found'),
          },
        ),
        { code: 'persist_dns' },
      );
    for (const ans of answered) {
      const verdicts = uris.map((uri) =>
        matchRecord(ans.values, { issuers, uri, wildcard, now: (this.o.now ?? Date.now)() }),
      );
      const good = verdicts.find((v) => v.ok);
      if (!good) {
        const bad = verdicts[0] as { said: Sentence };
        return {
          record,
          why: say('acme.persist.found', '__where__: __why__', { where: ans.nsName ?? ans.server, why: bad.said }),
        };
      }
    }
    ctx.log(`DNS-PERSIST-01: ${record.name} is in place at ${answered.length} authoritative server(s)`);
    return null;
  }

  private missingError(missing: Array<{ record: PersistRecord; why: Sentence }>) {
    const list = listSaid(
      missing.map((m) => `${m.record.name} TXT "${m.record.value}"`),
      'and',
    );
    const whys = listSaid(
      missing.map((m) => say('acme.persist.found', '__where__: __why__', { where: m.record.name, why: m.why })),
      'semicolon',
    );
    return transient(
      missing.length === 1
        ? say(
            'acme.persist.missing_one',
            'DNS-PERSIST-01: create this TXT record once in your DNS zone (__records__); it stays, and renewals then need no DNS access. Found: __found__.',
            { records: list, found: whys },
          )
        : say(
            'acme.persist.missing_many',
            'DNS-PERSIST-01: create these TXT records once in your DNS zone (__records__); it stays, and renewals then need no DNS access. Found: __found__.',
            { records: list, found: whys },
          ),
      { code: 'persist_record_missing' },
    );
  }
}
