/**
 * selfHost.de, over dyndns2 (https://www.selfhost.de/cgi-bin/selfhost?p=document&name=api, the
 * "DynDNS-Update" PDF linked there).
 *
 * - `https://carol.selfhost.de/nic/update`, Basic auth with the DynDNS account's username and
 *   password; one address per request.
 * - Beside dyndns2's words it answers with HTTP status codes: 204 no change, 409 the zone is
 *   unknown, 410 the account is inactive, 412 a private address was sent.
 */
import { dyndns2Member } from './dyndns2';

/** Its status answers that have a dyndns2 word; the others (410, 412) are shown with their status. */
const STATUS: Record<number, string> = { 204: 'nochg', 409: 'nohost (selfHost.de knows no such zone)' };

export const definition = dyndns2Member({
  flavour: {
    id: 'selfhost',
    name: 'selfHost.de',
    dualStack: 'separate',
    maxHosts: 1,
    translate: (res) => STATUS[res.status],
  },
  endpoint: 'https://carol.selfhost.de/nic/update',
  username: 'The username of the DynDNS account (selfHost.de → DynDNS Accounte).',
  password: 'The password of that DynDNS account.',
  docsUrl: 'https://www.selfhost.de/cgi-bin/selfhost?p=document&name=api',
});
