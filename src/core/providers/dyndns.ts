/**
 * DynDNS (Dyn, now Oracle), the origin of dyndns2
 * (https://help.dyn.com/remote-access-api/perform-update/, https://help.dyn.com/return-codes/).
 *
 * - `/nic/update` with the account password: one address per request, so IPv4 and IPv6 go in two
 *   requests. Newer accounts use an "updater client key" in place of the password with
 *   `/v3/update`, which takes both families in one request (`myip=<v4>,<v6>`): an endpoint ending
 *   in `/v3/update` is used that way.
 * - Dyn's rule: any failed update is fatal until the user acts, except server trouble (`911`,
 *   `dnserr`), which waits at least 10 minutes.
 * - User-Agent in Dyn's documented form `Company - Device - Version Number` ("company name, model
 *   number, and software build revision"); it has no place for a contact, so no contact field.
 */
import { accountFields, accountSettings, createDyndns2Provider, type Dyndns2Flavour } from './dyndns2';
import type { ProviderDefinition } from './types';

export const DYNDNS_ENDPOINT = 'https://members.dyndns.org/nic/update';

export function dyndnsFlavour(endpoint: string): Dyndns2Flavour {
  return {
    id: 'dyndns',
    name: 'DynDNS',
    dualStack: new URL(endpoint).pathname.replace(/\/+$/, '').endsWith('/v3/update') ? 'combined' : 'separate',
    serverTroubleWaitMs: 10 * 60_000,
    abuseScope: 'host',
    agent: 'dyn',
  };
}

export const definition: ProviderDefinition<typeof accountSettings> = {
  id: 'dyndns',
  label: 'DynDNS (Oracle Dyn)',
  group: 'ddns',
  settings: accountSettings,
  fields: accountFields({
    username: 'Your Dyn account username.',
    password:
      'Your Dyn password, or the updater client key (then set the update server to https://members.dyndns.org/v3/update).',
    defaultEndpoint: DYNDNS_ENDPOINT,
  }),
  txt: false,
  docsUrl: 'https://account.dyn.com/',
  create: (s, env) => {
    const endpoint = s.endpoint ?? DYNDNS_ENDPOINT;
    return createDyndns2Provider({
      flavour: dyndnsFlavour(endpoint),
      endpoint,
      username: s.username,
      password: s.password,
      env,
    });
  },
};
