/**
 * What cert-renew needs to know about a certificate, from Node's X509Certificate plus a minimal DER
 * reader for the two values it does not expose: the serial's exact DER bytes and the Authority Key
 * Identifier — together they form the ACME Renewal Information certificate id (RFC 9773 §4.1).
 */
import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto';

export interface Tlv {
  tag: number;
  start: number; // offset of the value
  end: number; // offset after the value
}

export function readTlv(buf: Buffer, pos: number): Tlv {
  const tag = buf[pos];
  let len = buf[pos + 1];
  let off = pos + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4) throw new Error('unsupported DER length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[off + i];
    off += n;
  }
  if (off + len > buf.length) throw new Error('truncated DER');
  return { tag, start: off, end: off + len };
}

export function children(buf: Buffer, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let p = parent.start; p < parent.end;) {
    const t = readTlv(buf, p);
    out.push(t);
    p = t.end;
  }
  return out;
}

const AKI_OID = Buffer.from([0x55, 0x1d, 0x23]); // 2.5.29.35

/** Serial (DER INTEGER content bytes) and Authority Key Identifier of a DER certificate. */
export function serialAndAki(der: Buffer): { serial: Buffer; aki: Buffer | null } {
  const cert = readTlv(der, 0);
  const tbs = children(der, cert)[0];
  const fields = children(der, tbs);
  let i = 0;
  if (fields[0].tag === 0xa0) i = 1; // [0] version
  const serialTlv = fields[i];
  const serial = der.subarray(serialTlv.start, serialTlv.end);
  let aki: Buffer | null = null;
  const extWrapper = fields.find((f) => f.tag === 0xa3);
  if (extWrapper) {
    const exts = children(der, children(der, extWrapper)[0]);
    for (const ext of exts) {
      const parts = children(der, ext);
      const oid = der.subarray(parts[0].start, parts[0].end);
      if (!oid.equals(AKI_OID)) continue;
      const octet = parts[parts.length - 1];
      const seq = readTlv(der, octet.start);
      for (const c of children(der, seq)) if (c.tag === 0x80) aki = der.subarray(c.start, c.end);
    }
  }
  return { serial, aki };
}

const b64u = (b: Buffer) => b.toString('base64url');

/** The RFC 9773 certificate identifier: base64url(AKI keyIdentifier) "." base64url(serial). */
export function ariCertId(certPem: string): string | null {
  const der = new X509Certificate(certPem).raw;
  const { serial, aki } = serialAndAki(der);
  return aki ? `${b64u(aki)}.${b64u(serial)}` : null;
}

export interface CertInfo {
  names: string[];
  notBefore: Date;
  notAfter: Date;
  serial: string; // hex, lower case
  issuer: string;
  fingerprint256: string;
}

/** Split a PEM bundle into its certificates (leaf first, as ACME sends them). */
export function splitPem(bundle: string): string[] {
  return bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)?.map((c) => `${c}\n`) ?? [];
}

export function certInfo(certPem: string): CertInfo {
  const c = new X509Certificate(certPem);
  const names = (c.subjectAltName ?? '')
    .split(/,\s*/)
    .filter((s) => s.startsWith('DNS:'))
    .map((s) => s.slice(4));
  return {
    names,
    notBefore: new Date(c.validFrom),
    notAfter: new Date(c.validTo),
    serial: c.serialNumber.toLowerCase(),
    issuer: c.issuer,
    fingerprint256: c.fingerprint256,
  };
}

/** Does the private key belong to the certificate? */
export function keyMatchesCert(keyPem: string, certPem: string): boolean {
  const c = new X509Certificate(certPem);
  try {
    return c.checkPrivateKey(createPrivateKey(keyPem));
  } catch {
    return false;
  }
}

/** Is `certPem` signed by `issuerPem`? */
export function signedBy(certPem: string, issuerPem: string): boolean {
  try {
    return new X509Certificate(certPem).verify(
      createPublicKey(new X509Certificate(issuerPem).publicKey.export({ type: 'spki', format: 'pem' })),
    );
  } catch {
    return false;
  }
}
