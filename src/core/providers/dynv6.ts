/**
 * dynv6.com, over its own update API (https://dynv6.com/docs/apis, "Update API").
 *
 * - `GET https://dynv6.com/api/update?zone=<zone>&token=<token>&ipv4=<v4>&ipv6=<v6>`: one zone per
 *   request, both families together, the zone's HTTP token in the query (redacted from every text).
 * - `ipv6prefix` (the "IPv6 prefix" option): the IPv6 address is sent as the zone's prefix, and
 *   dynv6 rewrites the prefix of every host of the zone server-side (their own suffixes kept).
 * - Answers are sentences: `addresses updated`, `addresses unchanged`; a wrong token is HTTP 401,
 *   an unknown zone HTTP 404 `zone not found`.
 */
import { boolSetting } from './kit';
import { createDyndns2Provider, dyndns2KeyMember, keySettings, presetFlavour, type Dyndns2Flavour } from './dyndns2';
import type { ProviderDefinition } from './types';

export const DYNV6_ENDPOINT = 'https://dynv6.com/api/update';

const SENTENCES: Array<[RegExp, string]> = [
  [/addresses updated/i, 'good'],
  [/addresses unchanged/i, 'nochg'],
  [/zone not found/i, 'nohost'],
];

export const dynv6Flavour = (prefix: boolean): Dyndns2Flavour =>
  presetFlavour({
    id: 'dynv6',
    name: 'dynv6',
    dualStack: 'split',
    maxHosts: 1,
    params: { host: 'zone', ip: 'ipv4', ipv6: prefix ? 'ipv6prefix' : 'ipv6', password: 'token' },
    translate: (res) => SENTENCES.find(([re]) => re.test(res.body))?.[1],
  });

const settings = keySettings.extend({ prefix: boolSetting(false) });
const base = dyndns2KeyMember({
  flavour: dynv6Flavour(false),
  endpoint: DYNV6_ENDPOINT,
  keyLabel: 'HTTP token',
  password: 'The HTTP token of the zone (dynv6.com → the zone → Instructions, or Keys → HTTP Tokens).',
  docsUrl: 'https://dynv6.com/docs/apis',
});

export const definition: ProviderDefinition<typeof settings> = {
  ...base,
  settings,
  fields: [
    ...base.fields,
    {
      key: 'prefix',
      label: 'IPv6 as the zone prefix',
      kind: 'checkbox',
      advanced: true,
      default: false,
      help: "Send the IPv6 address as the zone's prefix (ipv6prefix): dynv6 then moves every host of the zone to the new prefix.",
    },
  ],
  create: (s, env) =>
    createDyndns2Provider({
      flavour: dynv6Flavour(s.prefix),
      endpoint: s.endpoint ?? DYNV6_ENDPOINT,
      username: '',
      password: s.password,
      contact: s.contact,
      env,
    }),
};
