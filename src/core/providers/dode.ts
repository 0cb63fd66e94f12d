/**
 * do.de FlexDNS, over its dyndns2-style update page (https://do.de/wiki/flexdns-einrichtung).
 *
 * - `https://ddns.do.de/?hostname=<name>&myip=<address>&username=…&password=…`: the FlexDNS
 *   username and password travel in the query, as do.de documents it (they are redacted from
 *   every text). One address per request; answers are dyndns2's (`good`/`nochg`/`badauth`).
 */
import { dyndns2Member } from './dyndns2';

export const definition = dyndns2Member({
  flavour: {
    id: 'dode',
    name: 'do.de',
    dualStack: 'separate',
    params: { user: 'username', password: 'password' },
  },
  group: 'registrar',
  endpoint: 'https://ddns.do.de/',
  username: 'The FlexDNS username shown for the name in the do.de customer area.',
  password: 'The FlexDNS password of that name.',
  docsUrl: 'https://do.de/wiki/flexdns-einrichtung',
});
