/**
 * TSIG (RFC 8945): shared-secret signatures on DNS messages, for hmac-sha256 and hmac-sha512.
 *
 * Contracts:
 * - `signRequest` appends a TSIG record to a complete message (ARCOUNT + 1). The MAC covers the
 *   message as it was before the TSIG record, then the TSIG variables (key name, class ANY, TTL 0,
 *   algorithm, time signed, fudge, error, other data) — RFC 8945 §4.3.3.
 * - `checkResponse` verifies a server's answer to a signed request: the MAC covers the request's MAC
 *   (length-prefixed), the answer without its TSIG record (original id, ARCOUNT − 1), then the
 *   answer's TSIG variables — §4.3.1/§5.3. It never throws: it says what it found, and
 *   `tsigServerError` turns a server's BADSIG/BADKEY/BADTIME into a DdnsError in plain words.
 * - `verifyRequest` is the server side (used by tests, and to check messages from other tools).
 * - Names are written uncompressed; key and algorithm names in the digest are lowercased (§4.3.3).
 * The secret is only ever handed to createHmac: no message or error built here can contain it.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { badInput, english, fatal, say, type DdnsError, type Sentence } from '../errors';

export type TsigAlgorithm = 'hmac-sha256' | 'hmac-sha512';
export const TSIG_ALGORITHMS: readonly TsigAlgorithm[] = ['hmac-sha256', 'hmac-sha512'];

export interface TsigKey {
  /** Key name as configured on the server, e.g. `ddns-key` or `ddns-key.` (case does not matter). */
  name: string;
  algorithm: TsigAlgorithm;
  /** The shared secret, base64 (as printed by `tsig-keygen`). */
  secret: string;
}

/** RR type of TSIG, and class ANY. */
export const TYPE_TSIG = 250;
export const CLASS_ANY = 255;
/** Seconds of clock difference allowed (RFC 8945 recommends 300). */
export const DEFAULT_FUDGE = 300;

/** TSIG error codes (the 16-bit Error field) by name. */
export const TSIG_ERRORS: Record<number, string> = {
  0: 'NOERROR',
  16: 'BADSIG',
  17: 'BADKEY',
  18: 'BADTIME',
  22: 'BADTRUNC',
};

const DIGEST: Record<TsigAlgorithm, { hash: 'sha256' | 'sha512'; size: number }> = {
  'hmac-sha256': { hash: 'sha256', size: 32 },
  'hmac-sha512': { hash: 'sha512', size: 64 },
};

// ---------------------------------------------------------------------------------------------
// Names on the wire

/** A domain name without its trailing dot, lowercased (`Home.Test.` → `home.test`; root → ``). */
export function canonicalName(name: string): string {
  return name.trim().replace(/\.$/, '').toLowerCase();
}

/** Wire form of a name, uncompressed (RFC 1035 §3.1). Throws an input error for an invalid name. */
export function encodeName(name: string): Buffer {
  const n = name.trim().replace(/\.$/, '');
  if (n === '') return Buffer.from([0]);
  // one buffer: a length byte before each label where the text has its dot, and the final zero
  const out = Buffer.allocUnsafe(Buffer.byteLength(n, 'utf8') + 2);
  let at = 0;
  for (const label of n.split('.')) {
    const len = out.write(label, at + 1, 'utf8');
    if (len === 0)
      throw badInput(
        say('dns.name_empty_label', '"__name__" is not a valid DNS name (empty label)', { name }),
        'invalid_name',
      );
    if (len > 63)
      throw badInput(
        say('dns.name_long_label', '"__name__" is not a valid DNS name (a label is longer than 63 characters)', {
          name,
        }),
        'invalid_name',
      );
    out[at] = len;
    at += len + 1;
  }
  out[at] = 0;
  if (out.length > 255)
    throw badInput(
      say('dns.name_too_long', '"__name__" is not a valid DNS name (longer than 255 bytes)', { name }),
      'invalid_name',
    );
  return out;
}

/** Read a (possibly compressed) name at `offset`; returns the name and the offset after it. */
export function readName(buf: Buffer, offset: number): { name: string; next: number } {
  const labels: string[] = [];
  let pos = offset;
  let next = -1;
  for (let jumps = 0; ;) {
    if (pos >= buf.length) throw new Error('name runs past the end of the message');
    const len = buf[pos];
    if (len === 0) {
      if (next < 0) next = pos + 1;
      break;
    }
    if ((len & 0xc0) === 0xc0) {
      if (pos + 1 >= buf.length) throw new Error('name pointer runs past the end of the message');
      if (next < 0) next = pos + 2;
      pos = ((len & 0x3f) << 8) | buf[pos + 1];
      if (++jumps > 64) throw new Error('name compression loop');
      continue;
    }
    if (len > 63) throw new Error('invalid label length');
    if (pos + 1 + len > buf.length) throw new Error('label runs past the end of the message');
    labels.push(buf.toString('latin1', pos + 1, pos + 1 + len));
    pos += 1 + len;
  }
  return { name: labels.join('.'), next };
}

const u16 = (n: number) => {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
};
const u48 = (n: number) => {
  const b = Buffer.alloc(6);
  b.writeUInt16BE(Math.floor(n / 0x1_0000_0000) & 0xffff, 0);
  b.writeUInt32BE(n % 0x1_0000_0000, 2);
  return b;
};

// ---------------------------------------------------------------------------------------------
// The TSIG record

/** A decoded TSIG record and where it starts in its message. */
export interface TsigRecord {
  /** Offset of the record's owner name in the message. */
  offset: number;
  keyName: string; // canonical
  algorithm: string; // canonical, e.g. `hmac-sha256`
  timeSigned: number; // seconds since 1970
  fudge: number;
  mac: Buffer;
  originalId: number;
  error: number;
  otherData: Buffer;
}

/**
 * Find the TSIG record of a message: it must be the last record of the additional section
 * (RFC 8945 §5.1). Returns null when there is none; throws when the message is malformed or
 * carries a TSIG anywhere else.
 */
export function parseTsig(msg: Buffer): TsigRecord | null {
  if (msg.length < 12) throw new Error('message shorter than a DNS header');
  const qd = msg.readUInt16BE(4);
  const rrs = msg.readUInt16BE(6) + msg.readUInt16BE(8) + msg.readUInt16BE(10);
  let pos = 12;
  for (let i = 0; i < qd; i++) pos = readName(msg, pos).next + 4;
  for (let i = 0; i < rrs; i++) {
    const start = pos;
    const owner = readName(msg, pos);
    pos = owner.next;
    if (pos + 10 > msg.length) throw new Error('record header runs past the end of the message');
    const type = msg.readUInt16BE(pos);
    const rdlen = msg.readUInt16BE(pos + 8);
    const rdata = pos + 10;
    pos = rdata + rdlen;
    if (pos > msg.length) throw new Error('record data runs past the end of the message');
    if (type !== TYPE_TSIG) continue;
    if (i !== rrs - 1 || msg.readUInt16BE(10) === 0)
      throw new Error('TSIG record is not the last record of the message');
    const alg = readName(msg, rdata);
    let p = alg.next;
    if (p + 10 > pos) throw new Error('TSIG record too short');
    const timeSigned = msg.readUInt16BE(p) * 0x1_0000_0000 + msg.readUInt32BE(p + 2);
    const fudge = msg.readUInt16BE(p + 6);
    const macSize = msg.readUInt16BE(p + 8);
    p += 10;
    if (p + macSize + 6 > pos) throw new Error('TSIG record too short');
    const mac = Buffer.from(msg.subarray(p, p + macSize));
    p += macSize;
    const originalId = msg.readUInt16BE(p);
    const error = msg.readUInt16BE(p + 2);
    const otherLen = msg.readUInt16BE(p + 4);
    p += 6;
    if (p + otherLen !== pos) throw new Error('TSIG record length mismatch');
    if (pos !== msg.length) throw new Error('trailing bytes after the TSIG record');
    return {
      offset: start,
      keyName: canonicalName(owner.name),
      algorithm: canonicalName(alg.name),
      timeSigned,
      fudge,
      mac,
      originalId,
      error,
      otherData: Buffer.from(msg.subarray(p, pos)),
    };
  }
  if (pos !== msg.length) throw new Error('trailing bytes after the last record');
  return null;
}

/** The message as it was before its TSIG record was added: original id, ARCOUNT − 1. */
export function withoutTsig(msg: Buffer, tsig: TsigRecord): Buffer {
  const out = Buffer.from(msg.subarray(0, tsig.offset));
  out.writeUInt16BE(tsig.originalId, 0);
  out.writeUInt16BE(out.readUInt16BE(10) - 1, 10);
  return out;
}

interface Variables {
  keyName: string;
  algorithm: string;
  timeSigned: number;
  fudge: number;
  error: number;
  otherData: Buffer;
}

/** The TSIG variables that follow the message in the digest (RFC 8945 §4.3.3). */
function variables(v: Variables): Buffer {
  return Buffer.concat([
    encodeName(canonicalName(v.keyName)),
    u16(CLASS_ANY),
    Buffer.alloc(4) /* TTL 0 */,
    encodeName(canonicalName(v.algorithm)),
    u48(v.timeSigned),
    u16(v.fudge),
    u16(v.error),
    u16(v.otherData.length),
    v.otherData,
  ]);
}

function secretBytes(key: TsigKey): Buffer {
  const s = key.secret.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(s)) {
    throw fatal(
      say(
        'dns.tsig_secret_invalid',
        'the TSIG secret of key "__key__" is not valid base64: copy it exactly from the key file',
        {
          key: canonicalName(key.name),
        },
      ),
      { code: 'tsig_secret_invalid', scope: 'account' },
    );
  }
  return Buffer.from(s, 'base64');
}

function algorithmOf(key: TsigKey) {
  const d = DIGEST[key.algorithm];
  if (!d)
    throw fatal(
      say('dns.tsig_algorithm', 'unsupported TSIG algorithm "__algorithm__": use hmac-sha256 or hmac-sha512', {
        algorithm: String(key.algorithm),
      }),
      { code: 'tsig_algorithm', scope: 'account' },
    );
  return d;
}

/** The MAC of `parts` under `key`. */
function hmac(key: TsigKey, parts: Buffer[]): Buffer {
  const h = createHmac(algorithmOf(key).hash, secretBytes(key));
  for (const p of parts) h.update(p);
  return h.digest();
}

function encodeTsig(key: TsigKey, v: Variables & { mac: Buffer; originalId: number }): Buffer {
  const rdata = Buffer.concat([
    encodeName(canonicalName(v.algorithm)),
    u48(v.timeSigned),
    u16(v.fudge),
    u16(v.mac.length),
    v.mac,
    u16(v.originalId),
    u16(v.error),
    u16(v.otherData.length),
    v.otherData,
  ]);
  return Buffer.concat([
    encodeName(canonicalName(key.name)),
    u16(TYPE_TSIG),
    u16(CLASS_ANY),
    Buffer.alloc(4),
    u16(rdata.length),
    rdata,
  ]);
}

export interface SignOptions {
  /** Current time, ms since 1970 (tests). Default Date.now(). */
  now?: number;
  fudge?: number;
}

export interface SignedRequest {
  /** The message with its TSIG record appended. */
  message: Buffer;
  /** The request MAC: needed to verify the answer. */
  mac: Buffer;
  timeSigned: number;
}

/** Sign a complete request (it must not already carry a TSIG record). */
export function signRequest(msg: Buffer, key: TsigKey, opts: SignOptions = {}): SignedRequest {
  const v: Variables = {
    keyName: key.name,
    algorithm: key.algorithm,
    timeSigned: Math.floor((opts.now ?? Date.now()) / 1000),
    fudge: opts.fudge ?? DEFAULT_FUDGE,
    error: 0,
    otherData: Buffer.alloc(0),
  };
  const mac = hmac(key, [msg, variables(v)]);
  const out = Buffer.concat([msg, encodeTsig(key, { ...v, mac, originalId: msg.readUInt16BE(0) })]);
  out.writeUInt16BE(out.readUInt16BE(10) + 1, 10);
  return { message: out, mac, timeSigned: v.timeSigned };
}

/** Sign a response to a request whose MAC is `requestMac` (the server side; used by tests). */
export function signResponse(
  msg: Buffer,
  requestMac: Buffer,
  key: TsigKey,
  opts: SignOptions & { error?: number; otherData?: Buffer } = {},
): Buffer {
  const v: Variables = {
    keyName: key.name,
    algorithm: key.algorithm,
    timeSigned: Math.floor((opts.now ?? Date.now()) / 1000),
    fudge: opts.fudge ?? DEFAULT_FUDGE,
    error: opts.error ?? 0,
    otherData: opts.otherData ?? Buffer.alloc(0),
  };
  const mac = hmac(key, [u16(requestMac.length), requestMac, msg, variables(v)]);
  const out = Buffer.concat([msg, encodeTsig(key, { ...v, mac, originalId: msg.readUInt16BE(0) })]);
  out.writeUInt16BE(out.readUInt16BE(10) + 1, 10);
  return out;
}

/** Compare a received MAC with the computed one, allowing truncation as RFC 8945 §5.2.2.1 does. */
function macMatches(received: Buffer, computed: Buffer): boolean {
  const min = Math.max(10, computed.length / 2);
  if (received.length < min || received.length > computed.length) return false;
  return timingSafeEqual(received, computed.subarray(0, received.length));
}

/** What `checkResponse` found. */
export type TsigCheck =
  /** Signed with our key, MAC and time valid. `tsig.error` may still carry the server's BADTIME. */
  | { status: 'verified'; tsig: TsigRecord; message: Buffer }
  /** An unsigned TSIG error answer (BADSIG / BADKEY: the server cannot sign with a key it rejects). */
  | { status: 'server-error'; tsig: TsigRecord; message: Buffer }
  /** No TSIG record at all. */
  | { status: 'missing' }
  /** Present but not acceptable (wrong key, bad MAC, time out of range, malformed): `reason` says why. */
  | { status: 'invalid'; reason: string; said?: Sentence };

/** An 'invalid' check: `reason` in English, and the sentence it says. */
const invalid = (said: Sentence): TsigCheck => ({ status: 'invalid', reason: english(said), said });

/**
 * Verify the answer to a request signed with `key` whose MAC was `requestMac`
 * (RFC 8945 §5.3.3 for the client side). `message` is the answer without its TSIG record.
 */
export function checkResponse(
  response: Buffer,
  requestMac: Buffer,
  key: TsigKey,
  opts: { now?: number } = {},
): TsigCheck {
  let tsig: TsigRecord | null;
  try {
    tsig = parseTsig(response);
  } catch (e) {
    return invalid(
      say('dns.tsig_malformed', 'malformed answer (__reason__)', { reason: String((e as Error).message) }),
    );
  }
  if (!tsig) return { status: 'missing' };
  const message = withoutTsig(response, tsig);
  if (tsig.keyName !== canonicalName(key.name))
    return invalid(say('dns.tsig_other_key', 'signed with another key ("__key__")', { key: tsig.keyName }));
  if (tsig.algorithm !== key.algorithm)
    return invalid(
      say('dns.tsig_other_algorithm', 'signed with another algorithm (__algorithm__)', { algorithm: tsig.algorithm }),
    );
  if (tsig.mac.length === 0) {
    if (tsig.error === 16 || tsig.error === 17) return { status: 'server-error', tsig, message };
    return invalid(say('dns.tsig_empty', 'the answer carries an empty signature'));
  }
  const computed = hmac(key, [u16(requestMac.length), requestMac, message, variables(tsig)]);
  if (!macMatches(tsig.mac, computed))
    return invalid(
      say(
        'dns.tsig_mismatch',
        'its signature does not match (the answer was altered, or it was signed with another secret)',
      ),
    );
  if (tsig.error === 0) {
    const skew = Math.abs(Math.floor((opts.now ?? Date.now()) / 1000) - tsig.timeSigned);
    if (skew > tsig.fudge)
      return invalid(
        say(
          'dns.tsig_skew',
          "its signing time differs from this machine's clock by __skew__ s (allowed: __fudge__ s)",
          { skew, fudge: tsig.fudge },
        ),
      );
  }
  return { status: 'verified', tsig, message };
}

/** What `verifyRequest` found (the server side). */
export type RequestCheck =
  | { ok: true; tsig: TsigRecord; message: Buffer }
  | { ok: false; error: 'BADKEY' | 'BADSIG' | 'BADTIME' | 'FORMERR'; tsig?: TsigRecord };

/** Verify a signed request with `key` (RFC 8945 §5.2): what a server does with our messages. */
export function verifyRequest(msg: Buffer, key: TsigKey, opts: { now?: number } = {}): RequestCheck {
  let tsig: TsigRecord | null;
  try {
    tsig = parseTsig(msg);
  } catch {
    return { ok: false, error: 'FORMERR' };
  }
  if (!tsig) return { ok: false, error: 'FORMERR' };
  if (tsig.keyName !== canonicalName(key.name) || tsig.algorithm !== key.algorithm)
    return { ok: false, error: 'BADKEY', tsig };
  const message = withoutTsig(msg, tsig);
  const computed = hmac(key, [message, variables(tsig)]);
  if (!macMatches(tsig.mac, computed)) return { ok: false, error: 'BADSIG', tsig };
  if (Math.abs(Math.floor((opts.now ?? Date.now()) / 1000) - tsig.timeSigned) > tsig.fudge)
    return { ok: false, error: 'BADTIME', tsig };
  return { ok: true, tsig, message };
}

/**
 * A server's TSIG error (BADSIG, BADKEY, BADTIME, BADTRUNC) as a fatal DdnsError in plain words:
 * the user must fix the key or the clock. `server` is a label such as `192.0.2.53:53`. The code of
 * a named error is its name (`tsig_badsig`), of another one its number (`tsig_error_<n>`).
 */
export function tsigServerError(tsig: TsigRecord, key: TsigKey, server: string, now = Date.now()): DdnsError {
  const named = tsig.error !== 0 ? TSIG_ERRORS[tsig.error] : undefined;
  return fatal(tsigRefusal(tsig, key, server, now), {
    code: named ? `tsig_${named.toLowerCase()}` : `tsig_error_${tsig.error}`,
    scope: 'account',
    detail: `NOTAUTH/${TSIG_ERRORS[tsig.error] ?? tsig.error}`,
  });
}

/** What a server's TSIG error means, and what the user can do about it. */
function tsigRefusal(tsig: TsigRecord, key: TsigKey, server: string, now: number): Sentence {
  const k = canonicalName(key.name);
  // BADSIG and BADKEY: the key does not match the server's definition of it
  const keyValues = { server, key: k, algorithm: key.algorithm };
  switch (tsig.error) {
    case 16:
      return say(
        'dns.tsig_badsig',
        'DNS server __server__ rejected the signature made with key "__key__" (BADSIG): wrong TSIG secret or algorithm. Copy the secret and the algorithm (__algorithm__) exactly from the server\'s key definition.',
        keyValues,
      );
    case 17:
      return say(
        'dns.tsig_badkey',
        'DNS server __server__ does not know the key "__key__" with algorithm __algorithm__ (BADKEY): check the key name and the algorithm against the server\'s key definition.',
        keyValues,
      );
    case 18: {
      let diff: string | Sentence = '';
      const serverTime =
        tsig.otherData.length === 6
          ? tsig.otherData.readUInt16BE(0) * 0x1_0000_0000 + tsig.otherData.readUInt32BE(2)
          : NaN;
      // A 48-bit time can lie beyond the dates JavaScript knows (8.64e15 ms): then it is not shown.
      if (Number.isFinite(new Date(serverTime * 1000).getTime())) {
        diff = say('dns.tsig_clocks', " (the server's clock says __server__, this machine's __local__)", {
          server: new Date(serverTime * 1000).toISOString(),
          local: new Date(now).toISOString(),
        });
      }
      return say(
        'dns.tsig_badtime',
        "DNS server __server__ refused the signed update (BADTIME): the server's clock differs by more than __minutes__ minutes from this machine's__diff__. Set both clocks right (NTP).",
        { server, minutes: Math.round(tsig.fudge / 60), diff },
      );
    }
    case 22:
      return say(
        'dns.tsig_badtrunc',
        'DNS server __server__ refused the truncated signature of key "__key__" (BADTRUNC).',
        { server, key: k },
      );
    default:
      return say('dns.tsig_error', 'DNS server __server__ reported TSIG error __error__ for key "__key__".', {
        server,
        error: tsig.error,
        key: k,
      });
  }
}
