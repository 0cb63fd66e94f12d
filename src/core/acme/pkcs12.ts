/**
 * A PKCS#12 (PFX) file for servers that load only that (Plex, Jellyfin), built with node:crypto
 * alone: DER by hand, no dependency, no native module.
 *
 * Layout (RFC 7292 §4, as OpenSSL 3 writes it with AES):
 *   PFX { version 3, authSafe: data ContentInfo of AuthenticatedSafe, macData }
 *   AuthenticatedSafe = [ data(SafeContents: certBag leaf, certBag intermediates…),
 *                         data(SafeContents: pkcs8ShroudedKeyBag) ]
 * - the key: PKCS#8 PrivateKeyInfo encrypted with PBES2 (RFC 8018 §6.2): PBKDF2-HMAC-SHA256
 *   (16-byte salt) + AES-256-CBC; PBES2 takes the password as its UTF-8 bytes (as OpenSSL does);
 * - the certificates are not encrypted (nothing secret in them; OpenSSL's `-certpbe NONE`);
 * - the leaf and the key carry the same localKeyId (SHA-1 of the leaf, as OpenSSL) and a
 *   friendlyName, so that Windows/.NET pair them;
 * - the integrity MAC: HMAC-SHA256 over the AuthenticatedSafe, its key from the PKCS#12 KDF
 *   (RFC 7292 Appendix B.2, ID 3) with the password as a NUL-terminated BMPString.
 */
import {
  X509Certificate,
  createCipheriv,
  createHash,
  createHmac,
  createPrivateKey,
  pbkdf2Sync,
  randomBytes,
} from 'node:crypto';
import { children, readTlv } from './x509';

/** Work factor of PBKDF2 (the key) and of the MAC's KDF: OpenSSL's default is 2048. */
export const PKCS12_ITERATIONS = 10_000;

// ---- DER ---------------------------------------------------------------------------------------
function len(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}
const tlv = (tag: number, ...content: Buffer[]) => {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), len(body.length), body]);
};
const seq = (...c: Buffer[]) => tlv(0x30, ...c);
/** SET OF in DER order (elements sorted by their encodings). */
const set = (...c: Buffer[]) => tlv(0x31, ...[...c].sort(Buffer.compare));
const octets = (b: Buffer) => tlv(0x04, b);
const explicit0 = (b: Buffer) => tlv(0xa0, b);
const NULL = Buffer.from([0x05, 0x00]);

function int(n: number): Buffer {
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  if (bytes.length === 0 || bytes[0] & 0x80) bytes.unshift(0);
  return tlv(0x02, Buffer.from(bytes));
}

function oid(dotted: string): Buffer {
  const [a, b, ...rest] = dotted.split('.').map(Number);
  const out = [40 * a + b];
  for (const n of rest) {
    const parts = [n & 0x7f];
    for (let v = Math.floor(n / 128); v > 0; v = Math.floor(v / 128)) parts.unshift(0x80 | (v & 0x7f));
    out.push(...parts);
  }
  return tlv(0x06, Buffer.from(out));
}

const OID = {
  data: '1.2.840.113549.1.7.1',
  keyBag: '1.2.840.113549.1.12.10.1.2', // pkcs8ShroudedKeyBag
  certBag: '1.2.840.113549.1.12.10.1.3',
  x509Certificate: '1.2.840.113549.1.9.22.1',
  friendlyName: '1.2.840.113549.1.9.20',
  localKeyId: '1.2.840.113549.1.9.21',
  pbes2: '1.2.840.113549.1.5.13',
  pbkdf2: '1.2.840.113549.1.5.12',
  hmacWithSha256: '1.2.840.113549.2.9',
  aes256Cbc: '2.16.840.1.101.3.4.1.42',
  sha256: '2.16.840.1.101.3.4.2.1',
};

/** A data ContentInfo (RFC 2315) around `content`. */
const dataInfo = (content: Buffer) => seq(oid(OID.data), explicit0(octets(content)));

/** The password as PKCS#12 wants it for its own KDF: UTF-16BE with a final NUL (RFC 7292 B.1). */
export function bmpPassword(password: string): Buffer {
  const le = Buffer.from(`${password}\0`, 'utf16le');
  return le.swap16();
}

/** The PKCS#12 key derivation (RFC 7292 Appendix B.2) with SHA-256 (u = 32, v = 64). */
export function pkcs12Kdf(password: Buffer, salt: Buffer, id: number, iterations: number, n: number): Buffer {
  const u = 32;
  const v = 64;
  const fill = (b: Buffer) => {
    if (b.length === 0) return Buffer.alloc(0);
    const out = Buffer.alloc(v * Math.ceil(b.length / v));
    for (let i = 0; i < out.length; i++) out[i] = b[i % b.length];
    return out;
  };
  const D = Buffer.alloc(v, id);
  const I = Buffer.concat([fill(salt), fill(password)]);
  const blocks: Buffer[] = [];
  for (let i = 0; i < Math.ceil(n / u); i++) {
    let A = createHash('sha256').update(D).update(I).digest();
    for (let r = 1; r < iterations; r++) A = createHash('sha256').update(A).digest();
    blocks.push(A);
    // I_j = (I_j + B + 1) mod 2^(8v), B = A repeated to v bytes
    const B = fill(A);
    for (let j = 0; j < I.length; j += v) {
      let carry = 1;
      for (let k = v - 1; k >= 0; k--) {
        const s = I[j + k] + B[k] + carry;
        I[j + k] = s & 0xff;
        carry = s >> 8;
      }
    }
  }
  return Buffer.concat(blocks).subarray(0, n);
}

/** EncryptedPrivateKeyInfo (RFC 5208 §6) with PBES2: PBKDF2-HMAC-SHA256 + AES-256-CBC. */
function encryptKey(keyPem: string, password: string, iterations: number): Buffer {
  const pkcs8 = createPrivateKey(keyPem).export({ type: 'pkcs8', format: 'der' });
  const salt = randomBytes(16);
  const iv = randomBytes(16);
  const key = pbkdf2Sync(Buffer.from(password, 'utf8'), salt, iterations, 32, 'sha256');
  const c = createCipheriv('aes-256-cbc', key, iv);
  const encrypted = Buffer.concat([c.update(pkcs8), c.final()]);
  const alg = seq(
    oid(OID.pbes2),
    seq(
      seq(oid(OID.pbkdf2), seq(octets(salt), int(iterations), seq(oid(OID.hmacWithSha256), NULL))),
      seq(oid(OID.aes256Cbc), octets(iv)),
    ),
  );
  return seq(alg, octets(encrypted));
}

const attributes = (localKeyId: Buffer, friendlyName: string) =>
  set(
    seq(oid(OID.localKeyId), set(octets(localKeyId))),
    seq(oid(OID.friendlyName), set(tlv(0x1e, bmpPassword(friendlyName).subarray(0, -2)))),
  );

/** The MacData of `authSafe` (the AuthenticatedSafe's DER) for `password`. */
function macOf(authSafe: Buffer, password: string, salt: Buffer, iterations: number): Buffer {
  const key = pkcs12Kdf(bmpPassword(password), salt, 3, iterations, 32);
  return createHmac('sha256', key).update(authSafe).digest();
}

export interface Pkcs12Input {
  /** The private key, PEM (any form Node reads). */
  keyPem: string;
  /** The leaf certificate, then the intermediates: PEM each. */
  certPems: string[];
  password: string;
  /** Shown by Windows and some servers; default: the leaf's first name. */
  friendlyName?: string;
  iterations?: number;
}

/** The PFX file (DER) for a key and its chain. */
export function buildPkcs12(o: Pkcs12Input): Buffer {
  if (!o.password) throw new Error('a PKCS#12 file needs a password');
  if (o.certPems.length === 0) throw new Error('a PKCS#12 file needs the certificate');
  const iterations = o.iterations ?? PKCS12_ITERATIONS;
  const certs = o.certPems.map((p) => new X509Certificate(p));
  const leaf = certs[0];
  const localKeyId = createHash('sha1').update(leaf.raw).digest();
  const name = o.friendlyName ?? leaf.subjectAltName?.match(/DNS:([^,\s]+)/)?.[1] ?? 'certificate';
  const certBags = certs.map((c, i) =>
    seq(
      oid(OID.certBag),
      explicit0(seq(oid(OID.x509Certificate), explicit0(octets(c.raw)))),
      ...(i === 0 ? [attributes(localKeyId, name)] : []),
    ),
  );
  const keyBag = seq(
    oid(OID.keyBag),
    explicit0(encryptKey(o.keyPem, o.password, iterations)),
    attributes(localKeyId, name),
  );
  const authSafe = seq(dataInfo(seq(...certBags)), dataInfo(seq(keyBag)));
  const salt = randomBytes(16);
  const macData = seq(
    seq(seq(oid(OID.sha256), NULL), octets(macOf(authSafe, o.password, salt, iterations))),
    octets(salt),
    int(iterations),
  );
  return seq(int(3), dataInfo(authSafe), macData);
}

/**
 * Does `pfx` carry a SHA-256 MAC that `password` verifies? (A file written with another password
 * is written again.) False for anything it cannot read.
 */
export function pkcs12PasswordMatches(pfx: Buffer, password: string): boolean {
  try {
    const [, authSafeInfo, macData] = children(pfx, readTlv(pfx, 0));
    const wrapped = children(pfx, authSafeInfo)[1]; // [0] EXPLICIT
    const content = children(pfx, wrapped)[0]; // OCTET STRING
    const authSafe = pfx.subarray(content.start, content.end);
    const [digestInfo, saltTlv, iterTlv] = children(pfx, macData);
    const [alg, digest] = children(pfx, digestInfo);
    const algOid = children(pfx, alg)[0];
    if (!pfx.subarray(algOid.start - 2, algOid.end).equals(oid(OID.sha256))) return false;
    const salt = pfx.subarray(saltTlv.start, saltTlv.end);
    let iterations = 0;
    for (const b of pfx.subarray(iterTlv.start, iterTlv.end)) iterations = iterations * 256 + b;
    if (iterations < 1 || iterations > 10_000_000) return false;
    return macOf(authSafe, password, salt, iterations).equals(pfx.subarray(digest.start, digest.end));
  } catch {
    return false;
  }
}
