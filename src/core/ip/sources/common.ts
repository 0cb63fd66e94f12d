/**
 * Pieces shared by the address sources: one HTTP GET that travels over the lookup's own family,
 * with the source's timeout, signal, local address, redactor and a small body cap.
 */
import { say, transient } from '../../errors';
import { excerpt, httpRequest, type HttpResponse } from '../../http';
import { familyLabel, type Family } from '../../address';
import type { SourceContext } from '../types';

/** Body cap of plain-text address services: an address is at most 45 characters. */
export const PLAIN_BODY_CAP = 4 * 1024;

export const familyNumber = (f: Family): 4 | 6 => (f === 'ipv4' ? 4 : 6);

/** Does this body look like an HTML page (a captive portal, an error page of a proxy)? */
export function looksLikeHtml(body: string): boolean {
  return /<\s*(html|!doctype|body|head|title)\b/i.test(body);
}

/** The host part of a URL for labels and messages (never the path or query, which may hold a token). */
export function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return '(invalid URL)';
  }
}

/**
 * GET `url` over the family of the lookup. Resolves with a 2xx response; rejects with a transient
 * DdnsError for a network failure, a timeout, a body over `maxBodyBytes` or a non-2xx status.
 */
export async function getOverFamily(
  url: string,
  ctx: SourceContext,
  maxBodyBytes = PLAIN_BODY_CAP,
): Promise<HttpResponse> {
  const res = await httpRequest({
    url,
    family: familyNumber(ctx.family),
    timeoutMs: ctx.timeoutMs,
    maxBodyBytes,
    signal: ctx.signal,
    localAddress: ctx.localAddress,
    redactor: ctx.redactor,
    headers: { accept: 'text/plain, application/json;q=0.9, */*;q=0.1' },
  });
  if (res.status < 200 || res.status > 299) {
    throw transient(
      say('ip.http_status', '__host__ answered HTTP __status__: __answer__', {
        host: hostOf(url),
        status: res.status,
        answer: excerpt(res.body, ctx.redactor),
      }),
      {
        code: `http_${res.status}`,
        detail: excerpt(res.body, ctx.redactor),
      },
    );
  }
  return res;
}

/** Reject an HTML page with a clear reason (instead of "… is not an IP address"). */
export function refuseHtml(url: string, body: string, ctx: SourceContext): void {
  if (looksLikeHtml(body)) {
    throw transient(
      say('ip.html_answer', '__host__ answered with a web page (__answer__) instead of an address', {
        host: hostOf(url),
        answer: excerpt(body, ctx.redactor, 80),
      }),
      {
        code: 'html_answer',
      },
    );
  }
}

/** One URL (or server) per family; a family without one is not supported. */
export interface Endpoints {
  ipv4?: string;
  ipv6?: string;
}

/** Families that have an endpoint, in the order IPv4, IPv6. */
export function endpointFamilies(e: Endpoints): Family[] {
  return (['ipv4', 'ipv6'] as const).filter((f) => !!e[f]);
}

/** A label such as "ipify (api.ipify.org, api6.ipify.org)". */
export function labelOf(name: string, e: Endpoints): string {
  const hosts = [...new Set(endpointFamilies(e).map((f) => hostOf(e[f]!)))];
  return hosts.length ? `${name} (${hosts.join(', ')})` : name;
}

/** The endpoint for `family`, or a clear error when the source has none (the detector filters first). */
export function endpointFor(e: Endpoints, family: Family, name: string): string {
  const url = e[family];
  if (!url)
    throw transient(
      say('ip.no_family_service', '__name__ has no __family__ service', { name, family: familyLabel(family) }),
      {
        code: 'family_unsupported',
      },
    );
  return url;
}
