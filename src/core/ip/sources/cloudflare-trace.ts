/**
 * Cloudflare's trace page (`/cdn-cgi/trace` on 1.1.1.1 and 2606:4700:4700::1111): lines of
 * `key=value`, of which `ip=` is the address the request came from. Reached by IP literal, so no
 * DNS lookup is needed and the family is fixed by the URL itself.
 */
import { say, transient } from '../../errors';
import { excerpt } from '../../http';
import type { IpSource, SourceAnswer, SourceContext } from '../types';
import { endpointFor, endpointFamilies, getOverFamily, hostOf, labelOf, refuseHtml, type Endpoints } from './common';

export const CLOUDFLARE_TRACE: Required<Endpoints> = {
  ipv4: 'https://1.1.1.1/cdn-cgi/trace',
  ipv6: 'https://[2606:4700:4700::1111]/cdn-cgi/trace',
};

/** The value of the `ip=` line of a trace body, or null when there is none. */
export function parseTrace(body: string): string | null {
  for (const line of body.split(/\r?\n/)) {
    const m = /^\s*ip=(.*)$/.exec(line);
    if (m) return m[1].trim();
  }
  return null;
}

export function cloudflareTraceSource(overrides: Endpoints = {}): IpSource {
  const endpoints: Endpoints = {
    ipv4: overrides.ipv4 ?? CLOUDFLARE_TRACE.ipv4,
    ipv6: overrides.ipv6 ?? CLOUDFLARE_TRACE.ipv6,
  };
  return {
    id: 'cloudflare-trace',
    label: labelOf('Cloudflare trace', endpoints),
    families: endpointFamilies(endpoints),
    kind: 'external',
    async lookup(ctx: SourceContext): Promise<SourceAnswer> {
      const url = endpointFor(endpoints, ctx.family, 'Cloudflare trace');
      const res = await getOverFamily(url, ctx);
      refuseHtml(url, res.body, ctx);
      const ip = parseTrace(res.body);
      if (ip === null) {
        throw transient(
          say('ip.trace_no_ip', '__host__ answered without an "ip=" line: __answer__', {
            host: hostOf(url),
            answer: excerpt(res.body, ctx.redactor, 80),
          }),
          { code: 'trace_no_ip' },
        );
      }
      return { address: ip, info: { host: hostOf(url) } };
    },
  };
}
