// What a user could see of provider results and errors: JSON, and for errors (thrown, or in a
// record result) the message, stack and detail. The provider tests check none carries a secret.
import type { DdnsError } from '../../src/core/errors';
import type { RecordResult } from '../../src/core/providers/types';

/** JSON of a value with every error inside it (at any depth) spelled out. */
const withErrors = (_key: string, v: unknown): unknown =>
  v instanceof Error ? { ...v, message: v.message, stack: v.stack, detail: (v as DdnsError).detail } : v;

export function visibleTexts(values: unknown[]): string[] {
  const parts: string[] = [];
  for (const v of values) {
    parts.push(String(JSON.stringify(v, withErrors)));
    if (v instanceof Error) parts.push(v.message, String(v.stack), String((v as DdnsError).detail));
    if (Array.isArray(v))
      for (const r of v as RecordResult[])
        if (r.error) parts.push(r.error.message, String(r.error.stack), String(r.error.detail));
  }
  return parts;
}
