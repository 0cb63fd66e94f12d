/**
 * Cloudflare API v4 answers as zod schemas (validated; unknown fields allowed), the error codes the
 * provider acts on, and the names and TXT contents as Cloudflare stores them.
 * API reference: https://developers.cloudflare.com/api/resources/dns/subresources/records/
 */
import { domainToASCII } from 'node:url';
import { z } from 'zod';

export const CfMessage = z.looseObject({
  code: z.number(),
  message: z.string(),
  error_chain: z.array(z.looseObject({ code: z.number(), message: z.string() })).optional(),
});
export const ResultInfo = z.looseObject({
  page: z.number().optional(),
  per_page: z.number().optional(),
  total_pages: z.number().optional(),
  count: z.number().optional(),
  total_count: z.number().optional(),
});
export const Envelope = z.looseObject({
  success: z.boolean(),
  errors: z.array(CfMessage).nullish(),
  messages: z.array(z.unknown()).nullish(),
  // Some error answers carry no `result` at all (9106: `{"success":false,"errors":[…]}`).
  result: z.unknown().optional(),
  result_info: ResultInfo.nullish(),
});
export const ZoneSchema = z.looseObject({
  id: z.string().min(1),
  name: z.string().min(1),
  status: z.string().optional(),
});
export const RecordSchema = z.looseObject({
  id: z.string().min(1),
  type: z.string(),
  name: z.string(),
  content: z.string(),
  proxied: z.boolean().optional(),
  ttl: z.number().optional(),
  comment: z.string().nullish(),
});
export const Deleted = z.looseObject({ id: z.string() });

export type CfMessage = z.infer<typeof CfMessage>;
export type CfResultInfo = z.infer<typeof ResultInfo>;
export type Zone = { id: string; name: string };
export type CfRecord = z.infer<typeof RecordSchema>;
export type AddressType = 'A' | 'AAAA';

/** Codes (or chained codes) meaning "this token cannot be used": stop the account. */
export const AUTH_CODES = new Set([6003, 6111, 9103, 9106, 9109, 10000]);
/** Codes meaning "no such record / zone": cached ids are stale. */
export const NOT_FOUND_CODES = new Set([81044, 7003, 1001]);

export function describeErrors(errors: CfMessage[]): string {
  return errors
    .map((e) => {
      const chain = (e.error_chain ?? []).map((c) => `${c.code} ${c.message}`).join('; ');
      return `${e.code} ${e.message}${chain ? ` (${chain})` : ''}`;
    })
    .join('; ');
}

export function allCodes(errors: CfMessage[]): number[] {
  return errors.flatMap((e) => [e.code, ...(e.error_chain ?? []).map((c) => c.code)]);
}

// ---------------------------------------------------------------------------------------------
// Names and contents

export const ZONE_ID = /^[0-9a-f]{32}$/;

/** The ASCII (punycode) lower-case form of a DNS name, or null when it is not a usable name. */
export function asciiName(name: string): string | null {
  const ascii = domainToASCII(name.trim().replace(/\.$/, '')).toLowerCase();
  if (!ascii || ascii.length > 253) return null;
  const labels = ascii.split('.');
  if (labels.length < 2) return null;
  const ok = labels.every((l, i) => (l === '*' && i === 0) || /^(?!-)[a-z0-9_-]{1,63}(?<!-)$/.test(l));
  return ok ? ascii : null;
}

export const sameName = (a: string, b: string) => asciiName(a) === asciiName(b);

/** Zone candidates and TXT quoting are the kit's (shared with the other REST providers). */
export { quoteTxt, sameAddress, unquoteTxt, zoneCandidates } from '../kit';
