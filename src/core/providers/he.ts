/**
 * Hurricane Electric Free DNS (dns.he.net), over dyndns2 (https://dns.he.net/docs.html,
 * "Dynamic DNS").
 *
 * - `https://dyn.dns.he.net/nic/update`, Basic auth with the name being updated as username and
 *   that record's own DDNS key as password (made with "Enable entry for dynamic dns" and the key
 *   button of the record): one name per request; IPv4 and IPv6 in separate requests. An account
 *   here holds one key: several names need the same key set on each record, or one account each.
 * - TXT: HE updates a TXT record through the same page (`txt=<value>`, with the TXT record's own
 *   key), but cannot create or delete one, nor hold two values on a name: an ACME challenge
 *   needs the record made by hand first, and deleting can only overwrite. So `txt` stays false:
 *   for DNS-01 delegate `_acme-challenge` (CNAME) to a provider with full TXT support.
 */
import { dyndns2KeyMember } from './dyndns2';

export const definition = dyndns2KeyMember({
  flavour: {
    id: 'he',
    name: 'Hurricane Electric',
    dualStack: 'separate',
    hostIsUser: true,
  },
  label: 'Hurricane Electric (dns.he.net)',
  group: 'registrar',
  endpoint: 'https://dyn.dns.he.net/nic/update',
  keyLabel: 'DDNS key',
  password:
    'The record\'s DDNS key (dns.he.net → the zone → the A/AAAA record, with "Enable entry for dynamic dns", then the key button). Names of this account must share this key.',
  docsUrl: 'https://dns.he.net/docs.html',
});
