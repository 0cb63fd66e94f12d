/**
 * IPv64.net, over its dyndns2-style update API (https://ipv64.net/dyndns_updater_api).
 *
 * - `https://ipv64.net/nic/update?key=<DomainUpdateHash>&domain=<name>&ip=<v4>&ip6=<v6>`: the
 *   account's update key in the query (redacted from every text), both families in one request.
 * - Answers are dyndns2's words; a wrong key is HTTP 401, too many updates HTTP 429.
 */
import { dyndns2KeyMember } from './dyndns2';

export const definition = dyndns2KeyMember({
  flavour: {
    id: 'ipv64',
    name: 'IPv64',
    dualStack: 'split',
    params: { host: 'domain', ip: 'ip', ipv6: 'ip6', password: 'key' },
  },
  endpoint: 'https://ipv64.net/nic/update',
  keyLabel: 'Update key',
  password: 'The DomainUpdateHash shown at ipv64.net → Dashboard → Domain update hash.',
  docsUrl: 'https://ipv64.net/dyndns_updater_api',
});
