/**
 * What a renewal check needs from the CA without acme-client (issue 17: acme-client costs
 * 7–13 MB and is loaded only to order): the directory (one GET) and ACME Renewal Information
 * (RFC 9773: an unauthenticated GET of <renewalInfo>/<certID>), plus the mapping of errors to
 * DdnsErrors shared with client.ts (which loads acme-client).
 */
import tls from 'node:tls';
import { DdnsError, fatal, transient } from '../errors';
import { httpRequest, parseRetryAfter } from '../http';
import type { RenewalWindow } from './timing';
import { ariCertId } from './x509';

/** The CA's directory and the HTTPS trust to use with it. */
export interface CaDirectory {
  directory: Record<string, unknown>;
  opts: { caPem?: string };
}

/** Trust for the CA's own HTTPS: the system's roots plus a private CA's root, when given. */
export const caTrust = (caPem: string | undefined): string[] | undefined =>
  caPem ? [...tls.rootCertificates, caPem] : undefined;

/** The CA's directory (RFC 8555 §7.1.1), fetched without acme-client; DdnsError on failure. */
export async function fetchDirectory(directoryUrl: string, caPem?: string): Promise<CaDirectory> {
  try {
    const r = await httpRequest({
      url: directoryUrl,
      ca: caTrust(caPem),
      timeoutMs: 30_000,
      maxBodyBytes: 1024 * 1024,
    });
    if (r.status === 429 || r.status >= 500)
      throw transient(`the certificate authority answered HTTP ${r.status} (temporarily unavailable)`, {
        code: 'acme_unavailable',
        retryAfterMs: parseRetryAfter(r.headers['retry-after']),
      });
    if (r.status !== 200) throw transient(`the ACME directory answered HTTP ${r.status}`, { code: 'acme_error' });
    const directory = JSON.parse(r.body) as unknown;
    if (!directory || typeof directory !== 'object')
      throw transient('the ACME directory is not JSON', { code: 'acme_error' });
    return { directory: directory as Record<string, unknown>, opts: { caPem } };
  } catch (e) {
    throw acmeError(
      e instanceof SyntaxError ? transient('the ACME directory is not JSON', { code: 'acme_error' }) : e,
      'opening the ACME account',
    );
  }
}

/** acme-client and network errors as DdnsErrors with words a person understands. */
export function acmeError(e: unknown, what: string): DdnsError {
  if (e instanceof DdnsError) {
    if (e.code === 'acme_rate_limited') return e;
    if (e.code === 'acme_unavailable')
      return transient(`${what}: ${e.message}`, { code: e.code, retryAfterMs: e.retryAfterMs, cause: e });
    const tlsProblem = /certificate|self-signed/i.test(e.message);
    if (tlsProblem)
      return fatal(
        `${what}: the certificate authority's HTTPS certificate is not trusted (${e.message}). For a private CA, add its root certificate in the node.`,
        { code: 'acme_tls', cause: e },
      );
    return transient(`${what}: the certificate authority cannot be reached (${e.message})`, {
      code: 'acme_unreachable',
      retryAfterMs: e.retryAfterMs,
      cause: e,
    });
  }
  const err = e as { code?: string; message?: string; response?: { status?: number } };
  const msg = err?.message ?? String(e);
  if (/rateLimited/i.test(msg))
    return transient(`${what}: the certificate authority's rate limit was reached (${msg})`, {
      code: 'acme_rate_limited',
      retryAfterMs: 3_600_000,
    });
  if (
    err?.code &&
    /^(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ECONNRESET|ETIMEDOUT|ECONNABORTED|EHOSTUNREACH|ENETUNREACH)$/.test(err.code)
  ) {
    return transient(`${what}: the certificate authority cannot be reached (${err.code})`, {
      code: 'acme_unreachable',
      cause: e,
    });
  }
  if (/certificate|self.signed|UNABLE_TO_VERIFY/i.test(err?.code ?? '') || /self.signed|unable to verify/i.test(msg)) {
    return fatal(
      `${what}: the certificate authority's HTTPS certificate is not trusted (${msg}). For a private CA, add its root certificate in the node.`,
      { code: 'acme_tls', cause: e },
    );
  }
  // acme-client retries a rejected nonce a few times, then gives up with the CA's detail
  if (/badNonce|anti-replay nonce/i.test(msg)) {
    return transient(`${what}: the certificate authority rejected the request's nonce again and again (${msg})`, {
      code: 'acme_bad_nonce',
      cause: e,
    });
  }
  if (/externalAccountBinding|externalAccountRequired|external account/i.test(msg)) {
    return fatal(
      `${what}: this certificate authority requires External Account Binding (${msg}). Enter the key ID and HMAC key it gave you in the node.`,
      { code: 'acme_eab_required', cause: e },
    );
  }
  if (/unauthorized|accountDoesNotExist|malformed|rejectedIdentifier|unsupportedIdentifier|caa/i.test(msg)) {
    return fatal(`${what}: ${msg}`, { code: 'acme_refused', cause: e });
  }
  return transient(`${what}: ${msg}`, { code: 'acme_error', cause: e });
}

/** The CA's suggested renewal window for a certificate (RFC 9773), or null when not offered. */
export async function renewalInfo(
  session: CaDirectory,
  certPem: string,
): Promise<(RenewalWindow & { explanationURL?: string; retryAfterMs?: number }) | null> {
  const base = session.directory.renewalInfo;
  if (typeof base !== 'string') return null;
  const id = ariCertId(certPem);
  if (!id) return null;
  try {
    const r = await httpRequest({
      url: `${base.replace(/\/$/, '')}/${id}`,
      ca: session.opts.caPem,
      timeoutMs: 15_000,
      maxBodyBytes: 16_384,
    });
    if (r.status !== 200) return null;
    const j = JSON.parse(r.body) as { suggestedWindow?: { start?: string; end?: string }; explanationURL?: string };
    const start = new Date(j.suggestedWindow?.start ?? '');
    const end = new Date(j.suggestedWindow?.end ?? '');
    if (Number.isNaN(start.getTime()) || Number.isNaN(end.getTime()) || end <= start) return null;
    return { start, end, explanationURL: j.explanationURL, retryAfterMs: parseRetryAfter(r.headers['retry-after']) };
  } catch {
    return null; // ARI is advisory: without it the lifetime rule applies
  }
}
