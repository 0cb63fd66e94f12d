/**
 * RFC 2136 dynamic updates: build an UPDATE message, sign it with TSIG, send it, judge the answer.
 *
 * Contracts:
 * - `sendUpdate` sends ONE message for ONE zone (prerequisites, then deletes, then adds: the server
 *   applies them in that order, all or nothing) over UDP, or TCP when the message is larger than
 *   512 bytes, the answer is truncated, or `tcp` is set. It resolves when the server answered
 *   NOERROR (and, with a key, the answer's signature verified); otherwise it throws a DdnsError:
 *   - fatal (the user must act): REFUSED, NOTAUTH, NOTZONE, FORMERR, NOTIMP, and the TSIG errors
 *     BADSIG / BADKEY / BADTIME;
 *   - transient: SERVFAIL, timeouts and connection errors, a failed prerequisite (YXRRSET, NXRRSET,
 *     YXDOMAIN, NXDOMAIN: the records changed meanwhile), an answer whose signature is missing or wrong.
 * - `findZoneAt` asks the server for the SOA of the name, then of each parent, and returns the zone
 *   that contains the name (the SOA comes in the answer, or in the authority section of a negative
 *   answer). Queries are unsigned.
 * - Names are compressed (RFC 1035 §4.1.4: a name's known suffix is a pointer), so that one message
 *   carries about a thousand names; messages and errors never contain the TSIG secret.
 * dns-packet has no class NONE, no empty-RDATA records and no TSIG, so UPDATE messages are built here.
 */
import net from 'node:net';
import ipaddr from 'ipaddr.js';
import type * as dnsPacket from 'dns-packet';
import { badInput, english, fatal, say, transient, type DdnsError } from '../errors';
import { exchange, newId, query, RCODES, serverLabel, type DnsServer, type ExchangeOptions } from './transport';
import { canonicalName, checkResponse, encodeName, signRequest, tsigServerError, type TsigKey } from './tsig';
import { inZone } from './authoritative';

/** Record types this module can write. */
export type UpdateType = 'A' | 'AAAA' | 'TXT' | 'CNAME';

const TYPE: Record<UpdateType | 'SOA' | 'ANY', number> = { A: 1, CNAME: 5, SOA: 6, TXT: 16, AAAA: 28, ANY: 255 };
const CLASS_IN = 1;
const CLASS_NONE = 254;
const CLASS_ANY = 255;
const OPCODE_UPDATE = 5;

/** One record value: A/AAAA an address, TXT one text value (split into 255-byte strings), CNAME a name. */
export interface RecordValue {
  name: string;
  type: UpdateType;
  data: string;
}

export interface AddRecord extends RecordValue {
  ttl: number;
}

/**
 * What to delete: every RRset of the name (no type), one RRset (type), or one record (type and data).
 */
export interface DeleteSpec {
  name: string;
  type?: UpdateType;
  data?: string;
}

/** RFC 2136 §2.4 prerequisites: the update is applied only when all hold. */
export type Prereq =
  | { kind: 'rrset-exists'; name: string; type: UpdateType }
  /** The RRset holds exactly these values. */
  | { kind: 'rrset-equals'; name: string; type: UpdateType; data: string[] }
  | { kind: 'rrset-absent'; name: string; type: UpdateType }
  | { kind: 'name-in-use'; name: string }
  | { kind: 'name-unused'; name: string };

export interface UpdateMessage {
  zone: string;
  prereqs?: Prereq[];
  deletes?: DeleteSpec[];
  adds?: AddRecord[];
}

export interface UpdateOptions extends ExchangeOptions {
  /** Clock for TSIG (ms since 1970); tests shift it. Default Date.now. */
  now?: () => number;
  /** TSIG fudge, seconds. Default 300. */
  fudge?: number;
}

// ---------------------------------------------------------------------------------------------
// Building the message

const u16 = (n: number) => {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
};

/** The RDATA of one value, or an input error when the value does not fit the type. */
export function encodeRdata(type: UpdateType, data: string): Buffer {
  switch (type) {
    case 'A':
      if (!net.isIPv4(data))
        throw badInput(say('dns.not_ipv4', '"__value__" is not an IPv4 address', { value: data }), 'invalid_address');
      return Buffer.from(ipaddr.IPv4.parse(data).toByteArray());
    case 'AAAA':
      if (!net.isIPv6(data) || data.includes('%'))
        throw badInput(say('dns.not_ipv6', '"__value__" is not an IPv6 address', { value: data }), 'invalid_address');
      return Buffer.from(ipaddr.IPv6.parse(data).toByteArray());
    case 'TXT': {
      const bytes = Buffer.from(data, 'utf8');
      if (bytes.length > 60_000) throw badInput(say('dns.txt_too_long', 'TXT value too long'), 'invalid_txt');
      const parts: Buffer[] = [];
      for (let i = 0; i === 0 || i < bytes.length; i += 255) {
        const chunk = bytes.subarray(i, i + 255);
        parts.push(Buffer.from([chunk.length]), chunk);
      }
      return Buffer.concat(parts);
    }
    case 'CNAME':
      return encodeName(data);
    default:
      throw badInput(
        say('dns.type_unsupported', 'record type __type__ is not supported', { type: String(type) }),
        'invalid_type',
      );
  }
}

/** A record before its owner name is placed in the message. */
interface Rr {
  /** The owner name's wire form (validated). */
  wire: Buffer;
  rest: Buffer;
}

function rr(name: string, type: number, klass: number, ttl: number, rdata: Buffer = Buffer.alloc(0)): Rr {
  const head = Buffer.alloc(10);
  head.writeUInt16BE(type, 0);
  head.writeUInt16BE(klass, 2);
  head.writeUInt32BE(ttl >>> 0, 4);
  head.writeUInt16BE(rdata.length, 8);
  return { wire: encodeName(name), rest: Buffer.concat([head, rdata]) };
}

const ZERO = Buffer.from([0]);
const asciiLower = (t: string) => t.replace(/[A-Z]+/g, (m) => m.toLowerCase());

/** Writes a message front to back, owner names compressed against the names already written. */
class MessageWriter {
  private readonly parts: Buffer[] = [];
  private length = 0;
  private readonly suffixes = new Map<string, number>();

  put(b: Buffer): void {
    this.parts.push(b);
    this.length += b.length;
  }

  name(name: string): void {
    this.wireName(encodeName(name));
  }

  /** A name in wire form; the key of a suffix is its bytes with ASCII letters in lower case (RFC 4343). */
  private wireName(wire: Buffer): void {
    const text = asciiLower(wire.toString('latin1'));
    for (let i = 0; wire[i] !== 0; i += wire[i] + 1) {
      const suffix = text.slice(i);
      const at = this.suffixes.get(suffix);
      if (at !== undefined) return this.put(u16(0xc000 | at));
      if (this.length < 0x4000) this.suffixes.set(suffix, this.length);
      this.put(wire.subarray(i, i + wire[i] + 1));
    }
    this.put(ZERO);
  }

  record(r: Rr): void {
    this.wireName(r.wire);
    this.put(r.rest);
  }

  done(): Buffer {
    return Buffer.concat(this.parts, this.length);
  }
}

function prereqRecords(p: Prereq): Rr[] {
  switch (p.kind) {
    case 'rrset-exists':
      return [rr(p.name, TYPE[p.type], CLASS_ANY, 0)];
    case 'rrset-equals':
      return p.data.map((d) => rr(p.name, TYPE[p.type], CLASS_IN, 0, encodeRdata(p.type, d)));
    case 'rrset-absent':
      return [rr(p.name, TYPE[p.type], CLASS_NONE, 0)];
    case 'name-in-use':
      return [rr(p.name, TYPE.ANY, CLASS_ANY, 0)];
    case 'name-unused':
      return [rr(p.name, TYPE.ANY, CLASS_NONE, 0)];
  }
}

function deleteRecord(d: DeleteSpec): Rr {
  if (!d.type) return rr(d.name, TYPE.ANY, CLASS_ANY, 0); // every RRset of the name
  if (d.data === undefined) return rr(d.name, TYPE[d.type], CLASS_ANY, 0); // one RRset
  return rr(d.name, TYPE[d.type], CLASS_NONE, 0, encodeRdata(d.type, d.data)); // one record
}

/** The unsigned UPDATE message (RFC 2136 §2). Throws an input error for an invalid name or value. */
export function buildUpdate(req: UpdateMessage, id: number = newId()): Buffer {
  const prereqs = (req.prereqs ?? []).flatMap(prereqRecords);
  const updates = [
    ...(req.deletes ?? []).map(deleteRecord),
    ...(req.adds ?? []).map((a) => {
      if (!Number.isInteger(a.ttl) || a.ttl < 0 || a.ttl > 0x7fffffff)
        throw badInput(say('dns.bad_ttl', 'invalid TTL __ttl__', { ttl: String(a.ttl) }), 'invalid_ttl');
      return rr(a.name, TYPE[a.type], CLASS_IN, a.ttl, encodeRdata(a.type, a.data));
    }),
  ];
  if (prereqs.length > 0xffff || updates.length > 0xffff)
    throw badInput(say('dns.too_many_records', 'too many records for one update'), 'too_many_records');
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(OPCODE_UPDATE << 11, 2);
  header.writeUInt16BE(1, 4); // ZOCOUNT
  header.writeUInt16BE(prereqs.length, 6); // PRCOUNT
  header.writeUInt16BE(updates.length, 8); // UPCOUNT
  const w = new MessageWriter();
  w.put(header);
  w.name(req.zone);
  w.put(Buffer.concat([u16(TYPE.SOA), u16(CLASS_IN)]));
  for (const r of [...prereqs, ...updates]) w.record(r);
  const msg = w.done();
  if (msg.length > 65_000)
    throw badInput(
      say('dns.update_too_large', 'the update is too large for one DNS message: send fewer names at once'),
      'too_large',
    );
  return msg;
}

// ---------------------------------------------------------------------------------------------
// Judging the answer

export interface UpdateContext {
  server: string;
  zone: string;
  key: TsigKey | null;
  /** The answer carried no signature although the request was signed. */
  unsigned?: boolean;
}

/** The DdnsError for an UPDATE answer's rcode, or null for NOERROR. */
export function updateRcodeError(rcode: number, ctx: UpdateContext): DdnsError | null {
  const name = RCODES[rcode] ?? `RCODE${rcode}`;
  const where = ctx.server;
  const zone = ctx.zone;
  const note = ctx.unsigned ? say('dns.unsigned_note', ' (this answer was not signed)') : '';
  const opts = { detail: name + english(note) };
  switch (name) {
    case 'NOERROR':
      return null;
    case 'REFUSED':
      return ctx.key
        ? fatal(
            say(
              'dns.update_refused',
              'DNS server __server__ refused the update of zone __zone__ (REFUSED): the key is not allowed to update this name: check update-policy (or allow-update) of the zone on the server.__note__',
              { server: where, zone, note },
            ),
            { code: 'refused', ...opts },
          )
        : fatal(
            say(
              'dns.update_refused_unsigned',
              'DNS server __server__ refused an unsigned update of zone __zone__ (REFUSED): the server probably requires a TSIG key: set the key name and secret, or check allow-update / update-policy of the zone.__note__',
              { server: where, zone, note },
            ),
            { code: 'refused', ...opts },
          );
    case 'NOTAUTH':
      return fatal(
        say(
          'dns.update_notauth',
          "DNS server __server__ is not authoritative for zone __zone__ (NOTAUTH): check the zone name, and send updates to the zone's primary server.__note__",
          { server: where, zone, note },
        ),
        { code: 'notauth', ...opts },
      );
    case 'NOTZONE':
      return fatal(
        say(
          'dns.update_notzone',
          'a name in the update is not inside zone __zone__ (NOTZONE): check the zone setting.__note__',
          { zone, note },
        ),
        { code: 'notzone', ...opts },
      );
    case 'FORMERR':
      return fatal(
        say(
          'dns.update_formerr',
          'DNS server __server__ could not understand the update (FORMERR): it may not support dynamic updates or this key algorithm.__note__',
          { server: where, note },
        ),
        { code: 'formerr', ...opts },
      );
    case 'NOTIMP':
      return fatal(
        say('dns.update_notimp', 'DNS server __server__ does not support dynamic updates (NOTIMP).__note__', {
          server: where,
          note,
        }),
        { code: 'notimp', ...opts },
      );
    case 'SERVFAIL':
      return transient(
        say(
          'dns.update_servfail',
          'DNS server __server__ failed to apply the update of zone __zone__ (SERVFAIL): a temporary server problem.__note__',
          { server: where, zone, note },
        ),
        { code: 'servfail', ...opts },
      );
    case 'YXRRSET':
    case 'NXRRSET':
    case 'YXDOMAIN':
    case 'NXDOMAIN':
      return transient(
        say(
          'dns.update_prerequisite',
          'DNS server __server__ did not apply the update of zone __zone__: the records changed in the meantime (__rcode__, a prerequisite did not hold).__note__',
          { server: where, zone, rcode: name, note },
        ),
        { code: name.toLowerCase(), ...opts },
      );
    default:
      return transient(
        say('dns.update_rcode', 'DNS server __server__ answered the update of zone __zone__ with __rcode__.__note__', {
          server: where,
          zone,
          rcode: name,
          note,
        }),
        { code: name.toLowerCase(), ...opts },
      );
  }
}

/** Judge a raw answer to `request` (signed with `key` and `requestMac` when given). */
export function judgeAnswer(raw: Buffer, ctx: UpdateContext, requestMac: Buffer | null, now = Date.now()): void {
  if (raw.length < 12)
    throw transient(
      say('dns.answer_too_short', 'DNS server __server__ sent an answer that is too short', { server: ctx.server }),
      { code: 'dns_malformed' },
    );
  const flags = raw.readUInt16BE(2);
  if (!(flags & 0x8000) || ((flags >> 11) & 0xf) !== OPCODE_UPDATE) {
    throw transient(
      say('dns.not_update_answer', 'DNS server __server__ sent something that is not an answer to an update', {
        server: ctx.server,
      }),
      { code: 'dns_malformed' },
    );
  }
  const rcode = flags & 0xf;
  if (ctx.key && requestMac) {
    const check = checkResponse(raw, requestMac, ctx.key, { now });
    switch (check.status) {
      case 'server-error':
        throw tsigServerError(check.tsig, ctx.key, ctx.server, now);
      case 'invalid':
        throw transient(
          say(
            'dns.answer_untrusted',
            'the answer from DNS server __server__ cannot be trusted: __reason__. The update may or may not have been applied.',
            { server: ctx.server, reason: check.said ?? check.reason },
          ),
          { code: 'tsig_invalid_answer', scope: 'account' },
        );
      case 'missing':
        if (rcode === 0)
          throw transient(
            say(
              'dns.answer_unsigned',
              'the answer from DNS server __server__ is not signed although the update was: it cannot be trusted. The update may or may not have been applied.',
              { server: ctx.server },
            ),
            { code: 'tsig_unsigned_answer', scope: 'account' },
          );
        throw updateRcodeError(rcode, { ...ctx, unsigned: true })!;
      case 'verified':
        if (check.tsig.error !== 0) throw tsigServerError(check.tsig, ctx.key, ctx.server, now);
    }
  }
  const err = updateRcodeError(rcode, ctx);
  if (err) throw err;
}

/**
 * Send one UPDATE for one zone to `server`, signed with `key` (null: unsigned). Resolves on NOERROR.
 */
export async function sendUpdate(
  server: DnsServer,
  req: UpdateMessage,
  key: TsigKey | null | undefined,
  opts: UpdateOptions = {},
): Promise<void> {
  const now = opts.now ?? Date.now;
  const msg = buildUpdate(req);
  const signed = key ? signRequest(msg, key, { now: now(), fudge: opts.fudge }) : null;
  const raw = await exchange(server, signed ? signed.message : msg, opts);
  judgeAnswer(
    raw,
    { server: serverLabel(server), zone: canonicalName(req.zone), key: key ?? null },
    signed?.mac ?? null,
    now(),
  );
}

/** Replace the RRset (name, type) with exactly `values` in one message (delete RRset, then add). */
export function replaceRRset(
  server: DnsServer,
  zone: string,
  name: string,
  type: UpdateType,
  values: string[],
  ttl: number,
  key: TsigKey | null | undefined,
  opts: UpdateOptions = {},
): Promise<void> {
  return sendUpdate(
    server,
    { zone, deletes: [{ name, type }], adds: values.map((data) => ({ name, type, data, ttl })) },
    key,
    opts,
  );
}

// ---------------------------------------------------------------------------------------------
// Reading from the server

/** True when `name` is `zone` or below it (both canonical). */
/**
 * The zone that contains `name`, asking `server` for SOA records of the name and its parents.
 * Throws fatal `zone_not_found` when the server serves no enclosing zone, fatal `zone_delegated`
 * when it hands the name to other servers, transient errors when it does not answer.
 */
export async function findZoneAt(server: DnsServer, name: string, opts: ExchangeOptions = {}): Promise<string> {
  const target = canonicalName(name);
  encodeName(target); // validates
  const labels = target.split('.');
  for (let i = 0; i < labels.length; i++) {
    const qname = labels.slice(i).join('.');
    const r = await query(server, qname, 'SOA', opts);
    const owner = (a: dnsPacket.Answer) => canonicalName(a.name);
    const answer = r.answers.find((a) => a.type === 'SOA' && owner(a) === qname);
    if (answer) return qname;
    const negative = r.authorities.find((a) => a.type === 'SOA' && inZone(target, owner(a)));
    if (negative) return owner(negative);
    const referral = r.authorities.filter((a) => a.type === 'NS' && inZone(target, owner(a)));
    if (r.rcode === 'NOERROR' && !r.authoritative && referral.length) {
      const ns = referral.map((a) => String((a as { data: unknown }).data)).join(', ');
      throw fatal(
        say(
          'dns.zone_delegated',
          "__name__ belongs to zone __zone__, which DNS server __server__ delegates to other servers (__ns__): send the updates to that zone's primary server.",
          { name: target, zone: owner(referral[0]), server: serverLabel(server), ns },
        ),
        { code: 'zone_delegated' },
      );
    }
  }
  throw fatal(
    say(
      'dns.zone_not_found',
      'DNS server __server__ serves no zone that contains __name__: check the server address, or set the zone.',
      { server: serverLabel(server), name: target },
    ),
    { code: 'zone_not_found' },
  );
}

export interface RRsetRead {
  /** Values of the RRset: addresses for A/AAAA, the joined strings for TXT, names for CNAME. */
  values: string[];
  /** The name is an alias (CNAME) of this target: it cannot hold other records. */
  cname?: string;
  rcode: string;
}

/** Read the RRset (name, type) from `server` (unsigned query). */
export async function readRRset(
  server: DnsServer,
  name: string,
  type: UpdateType,
  opts: ExchangeOptions = {},
): Promise<RRsetRead> {
  const target = canonicalName(name);
  const r = await query(server, target, type, opts);
  const own = r.answers.filter((a) => canonicalName(a.name) === target);
  const cname = type === 'CNAME' ? undefined : own.find((a) => a.type === 'CNAME');
  const values = own
    .filter((a) => a.type === type)
    .map((a) => {
      const d = (a as { data: unknown }).data;
      if (type === 'TXT')
        return (Array.isArray(d) ? d : [d]).map((x) => (Buffer.isBuffer(x) ? x.toString('utf8') : String(x))).join('');
      if (type === 'AAAA') return ipaddr.IPv6.parse(String(d)).toString();
      return type === 'CNAME' ? canonicalName(String(d)) : String(d);
    });
  return {
    values,
    rcode: r.rcode,
    ...(cname ? { cname: canonicalName(String((cname as { data: unknown }).data)) } : {}),
  };
}
