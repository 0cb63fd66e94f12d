/**
 * What a renewal check needs from the CA without acme-client (issue 17: acme-client costs
 * 7–13 MB and is loaded only to order): the directory (one GET) and ACME Renewal Information
 * (RFC 9773: an unauthenticated GET of <renewalInfo>/<certID>), plus the mapping of errors to
 * DdnsErrors shared with client.ts (which loads acme-client).
 */
import tls from 'node:tls';
import { DdnsError, fatal, say, transient, type Sentence } from '../errors';
import { httpRequest, parseRetryAfter } from '../http';
import type { RenewalWindow } from './timing';
import { failureSaid } from '../said';
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
      throw transient(
        say('acme.ca_unavailable', 'the certificate authority answered HTTP __status__ (temporarily unavailable)', {
          status: r.status,
        }),
        {
          code: 'acme_unavailable',
          retryAfterMs: parseRetryAfter(r.headers['retry-after']),
        },
      );
    if (r.status !== 200)
      throw transient(say('acme.directory_http', 'the ACME directory answered HTTP __status__', { status: r.status }), {
        code: 'acme_error',
      });
    const directory = JSON.parse(r.body) as unknown;
    if (!directory || typeof directory !== 'object')
      throw transient(say('acme.directory_not_json', 'the ACME directory is not JSON'), { code: 'acme_error' });
    return { directory: directory as Record<string, unknown>, opts: { caPem } };
  } catch (e) {
    throw acmeError(
      e instanceof SyntaxError
        ? transient(say('acme.directory_not_json', 'the ACME directory is not JSON'), { code: 'acme_error' })
        : e,
      say('acme.step.open_account', 'opening the ACME account'),
    );
  }
}

/** `step: failure`: what was being done (a step such as "creating the order"), then what went wrong. */
const stepFailed = (step: string | Sentence, failure: string | Sentence): Sentence =>
  say('acme.step_failed', '__step__: __failure__', { step, failure });

/** The CA's HTTPS certificate is not trusted. */
const untrusted = (step: string | Sentence, said: string | Sentence): Sentence =>
  say(
    'acme.ca_untrusted',
    "__step__: the certificate authority's HTTPS certificate is not trusted (__said__). For a private CA, add its root certificate in the node.",
    { step, said },
  );

/** The CA cannot be reached. */
const unreachable = (step: string | Sentence, said: string | Sentence): Sentence =>
  say('acme.ca_unreachable', '__step__: the certificate authority cannot be reached (__said__)', { step, said });

/** Node's codes of a server certificate that is not trusted (expired, self-signed, unknown issuer, wrong name). */
const TLS_CODE = /CERT|SELF_SIGNED|UNABLE_TO_(VERIFY|GET_ISSUER)|ERR_TLS/;

/**
 * acme-client and network errors as DdnsErrors with words a person understands. `what`: the step
 * that failed (a sentence such as "creating the order").
 */
export function acmeError(e: unknown, what: string | Sentence): DdnsError {
  if (e instanceof DdnsError) {
    if (e.code === 'acme_rate_limited') return e;
    if (e.code === 'acme_unavailable')
      return transient(stepFailed(what, failureSaid(e)), { code: e.code, retryAfterMs: e.retryAfterMs, cause: e });
    // Told by the TLS error's code (core/http keeps it), never by words of the message: a CA whose
    // host is "certificates.home.lan" that times out is not a trust problem.
    if (TLS_CODE.test(e.code)) return fatal(untrusted(what, failureSaid(e)), { code: 'acme_tls', cause: e });
    return transient(unreachable(what, failureSaid(e)), {
      code: 'acme_unreachable',
      retryAfterMs: e.retryAfterMs,
      cause: e,
    });
  }
  const err = e as { code?: string; message?: string; response?: { status?: number } };
  const msg = err?.message ?? String(e);
  if (/rateLimited/i.test(msg))
    return transient(
      say('acme.ca_rate_limit', "__step__: the certificate authority's rate limit was reached (__said__)", {
        step: what,
        said: msg,
      }),
      {
        code: 'acme_rate_limited',
        retryAfterMs: 3_600_000,
      },
    );
  if (
    err?.code &&
    /^(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ECONNRESET|ETIMEDOUT|ECONNABORTED|EHOSTUNREACH|ENETUNREACH)$/.test(err.code)
  ) {
    return transient(unreachable(what, err.code), {
      code: 'acme_unreachable',
      cause: e,
    });
  }
  if (/certificate|self.signed|UNABLE_TO_VERIFY/i.test(err?.code ?? '') || /self.signed|unable to verify/i.test(msg)) {
    return fatal(untrusted(what, msg), { code: 'acme_tls', cause: e });
  }
  // acme-client retries a rejected nonce a few times, then gives up with the CA's detail
  if (/badNonce|anti-replay nonce/i.test(msg)) {
    return transient(
      say(
        'acme.bad_nonce',
        "__step__: the certificate authority rejected the request's nonce again and again (__said__)",
        {
          step: what,
          said: msg,
        },
      ),
      { code: 'acme_bad_nonce', cause: e },
    );
  }
  if (/externalAccountBinding|externalAccountRequired|external account/i.test(msg)) {
    return fatal(
      say(
        'acme.eab_required',
        '__step__: this certificate authority requires External Account Binding (__said__). Enter the key ID and HMAC key it gave you in the node.',
        { step: what, said: msg },
      ),
      { code: 'acme_eab_required', cause: e },
    );
  }
  if (/unauthorized|accountDoesNotExist|malformed|rejectedIdentifier|unsupportedIdentifier|caa/i.test(msg)) {
    return fatal(stepFailed(what, msg), { code: 'acme_refused', cause: e });
  }
  return transient(stepFailed(what, msg), { code: 'acme_error', cause: e });
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
