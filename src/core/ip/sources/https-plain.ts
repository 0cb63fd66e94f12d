/**
 * Plain-text "what is my IP" services over HTTPS: the body is the address and nothing else
 * (whitespace around it is allowed). Each family has its own URL, reached over that family.
 */
import type { IpSource, SourceAnswer, SourceContext } from '../types';
import { endpointFor, endpointFamilies, getOverFamily, hostOf, labelOf, refuseHtml, type Endpoints } from './common';

export type PlainPreset = 'ipify' | 'icanhazip' | 'aws';

/** The services' own endpoints (ipify.org, icanhazip.com, checkip.amazonaws.com — IPv4 only). */
export const PLAIN_PRESETS: Record<PlainPreset, { name: string; endpoints: Endpoints }> = {
  ipify: { name: 'ipify', endpoints: { ipv4: 'https://api.ipify.org', ipv6: 'https://api6.ipify.org' } },
  icanhazip: {
    name: 'icanhazip',
    endpoints: { ipv4: 'https://ipv4.icanhazip.com', ipv6: 'https://ipv6.icanhazip.com' },
  },
  aws: { name: 'AWS checkip', endpoints: { ipv4: 'https://checkip.amazonaws.com' } },
};

/**
 * A plain-text source. `overrides` replace the preset's URLs per family (tests, mirrors); a family
 * without a URL is not supported.
 */
export function plainTextSource(preset: PlainPreset, overrides: Endpoints = {}): IpSource {
  const p = PLAIN_PRESETS[preset];
  const endpoints: Endpoints = { ipv4: overrides.ipv4 ?? p.endpoints.ipv4, ipv6: overrides.ipv6 ?? p.endpoints.ipv6 };
  return {
    id: preset,
    label: labelOf(p.name, endpoints),
    families: endpointFamilies(endpoints),
    kind: 'external',
    async lookup(ctx: SourceContext): Promise<SourceAnswer> {
      const url = endpointFor(endpoints, ctx.family, p.name);
      const res = await getOverFamily(url, ctx);
      refuseHtml(url, res.body, ctx);
      return { address: res.body.trim(), info: { host: hostOf(url) } };
    },
  };
}
