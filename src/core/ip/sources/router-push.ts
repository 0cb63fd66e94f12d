/**
 * The `router-push` source: the home router calls Node-RED when its address changes (its built-in
 * DDNS client with a custom update URL). It answers no lookup itself: a push is a claim that
 * another source in the list must confirm (../push-claim.ts, ../push-endpoint.ts), so in the
 * detector it finds nothing (no families) and the list needs another source for every family.
 */
import { z } from 'zod';
import { say, transient } from '../../errors';
import type { IpSource } from '../types';
import { phrase } from '../../said';

/** Where the endpoint listens (under Node-RED's httpNodeRoot) when the path is left empty. */
export const DEFAULT_PUSH_PATH = '/ddns/push';

/** `/segment[/segment…]`: URL-safe characters, no empty segment and none that starts with a dot, no trailing `/nic/update` (added by us). */
export const pushPathSchema = z
  .string()
  .trim()
  .transform((s) => (s.startsWith('/') ? s : `/${s}`).replace(/\/+$/, ''))
  .refine((s) => /^(\/[A-Za-z0-9_~-][A-Za-z0-9._~-]*)+$/.test(s), {
    message: phrase(
      'ip.push_path_must_look',
      'the push path must look like /ddns/push (letters, digits and . _ ~ - between slashes)',
    ),
  })
  .refine((s) => s.length <= 100, {
    message: phrase('ip.push_path_must_have', 'the push path must have at most 100 characters'),
  })
  .refine((s) => !/\/nic\/update$/i.test(s), {
    message: phrase(
      'ip.leave_nic_update_out',
      'leave /nic/update out of the push path: the endpoint answers at the path and at <path>/nic/update',
    ),
  });

export function routerPushSource(path: string): IpSource {
  return {
    id: 'router-push',
    label: `router push (${path})`,
    families: [],
    kind: 'local',
    lookup: () =>
      Promise.reject(
        transient(say('ip.push_no_lookup', 'the router push answers no lookup'), { code: 'family_unsupported' }),
      ),
  };
}
