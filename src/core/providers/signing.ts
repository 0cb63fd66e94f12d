/**
 * Request signing with node:crypto, for the cloud providers that do not take a plain token:
 *
 * - `signV4`: AWS Signature Version 4 (Route 53). The algorithm of
 *   https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html: a canonical
 *   request (method, URI-encoded path, sorted query, lower-case sorted headers with trimmed values,
 *   signed header list, SHA-256 of the body), the string to sign (`AWS4-HMAC-SHA256`, the
 *   timestamp, the scope `date/region/service/aws4_request`, the hash of the canonical request) and
 *   the HMAC-SHA256 chain `AWS4<secret>` → date → region → service → `aws4_request`. Checked
 *   against AWS's published "Signature Version 4 test suite" vectors (test/core/providers/signing.test.ts).
 * - `signJwtRs256`: a JSON Web Token signed with RS256 (RFC 7515/7519), as Google's service-account
 *   OAuth flow asks (https://developers.google.com/identity/protocols/oauth2/service-account#authorizingrequests).
 */
import { createHash, createHmac, createSign } from 'node:crypto';

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
}

export interface SigV4Request {
  method: string;
  url: string;
  /** Headers to send and sign (host and x-amz-date are added). */
  headers?: Record<string, string>;
  body?: string;
  region: string;
  service: string;
  /** The signing time (default now). */
  now?: Date;
}

export interface SigV4Result {
  /** The headers to send: the request's (lower-case), `x-amz-date` and `authorization` (not host). */
  headers: Record<string, string>;
  canonicalRequest: string;
  stringToSign: string;
  signature: string;
}

const sha256 = (s: string | Buffer) => createHash('sha256').update(s).digest('hex');
const hmac = (key: string | Buffer, s: string) => createHmac('sha256', key).update(s).digest();

/** RFC 3986 encoding of SigV4: everything but unreserved characters is %XX (upper case). */
export function awsEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The SigV4 timestamp `YYYYMMDDTHHMMSSZ` of a date. */
export const amzDate = (d: Date): string =>
  d
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');

/** The signing key of a day, region and service: the documented chain of four HMAC-SHA256. */
export function sigV4Key(secret: string, day: string, region: string, service: string): Buffer {
  return hmac(hmac(hmac(hmac(`AWS4${secret}`, day), region), service), 'aws4_request');
}

/** Sign one request with AWS Signature Version 4 (the Authorization header form). */
export function signV4(r: SigV4Request, creds: AwsCredentials): SigV4Result {
  const url = new URL(r.url);
  const stamp = amzDate(r.now ?? new Date());
  const day = stamp.slice(0, 8);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(r.headers ?? {})) headers[k.toLowerCase()] = v;
  headers['x-amz-date'] = stamp;
  const signed: Record<string, string> = { ...headers, host: url.host };
  const names = Object.keys(signed).sort();
  const canonicalHeaders = names.map((n) => `${n}:${signed[n].trim().replace(/\s+/g, ' ')}\n`).join('');
  const path = url.pathname
    .split('/')
    .map((seg) => awsEncode(decodeURIComponent(seg)))
    .join('/');
  const query = [...url.searchParams.entries()]
    .map(([k, v]) => [awsEncode(k), awsEncode(v)])
    .sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const signedHeaders = names.join(';');
  const canonicalRequest = [
    r.method.toUpperCase(),
    path || '/',
    query,
    canonicalHeaders,
    signedHeaders,
    sha256(r.body ?? ''),
  ].join('\n');
  const scope = `${day}/${r.region}/${r.service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', stamp, scope, sha256(canonicalRequest)].join('\n');
  const signature = createHmac('sha256', sigV4Key(creds.secretAccessKey, day, r.region, r.service))
    .update(stringToSign)
    .digest('hex');
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${creds.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
  return { headers, canonicalRequest, stringToSign, signature };
}

const base64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

/** A JWT `header.payload.signature` signed with RS256 by a PEM private key. */
export function signJwtRs256(payload: object, privateKeyPem: string, keyId?: string): string {
  const header = { alg: 'RS256', typ: 'JWT', ...(keyId ? { kid: keyId } : {}) };
  const input = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(payload))}`;
  const signature = createSign('RSA-SHA256').update(input).sign(privateKeyPem);
  return `${input}.${base64url(signature)}`;
}
