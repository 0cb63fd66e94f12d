/**
 * OVH DynHost, over dyndns2 (https://help.ovhcloud.com/csm/en-dns-dynhost?id=kb_article_view&sysparm_article=KB0051640).
 *
 * - `https://www.ovh.com/nic/update?system=dyndns`, Basic auth with a DynHost login made in the
 *   OVHcloud control panel (Domains → DynHost → Manage accesses), limited to a suffix of the zone.
 * - A DynHost record is an A record: IPv4 only, one address per request. Answers are dyndns2's.
 */
import { dyndns2Member } from './dyndns2';

export const definition = dyndns2Member({
  flavour: {
    id: 'ovh-dynhost',
    name: 'OVH DynHost',
    dualStack: 'separate',
    ipv4Only: true,
  },
  group: 'registrar',
  endpoint: 'https://www.ovh.com/nic/update?system=dyndns',
  username: 'The DynHost login (e.g. example.com-home) made under Domains → DynHost → Manage accesses.',
  password: 'The password of that DynHost login.',
  docsUrl: 'https://help.ovhcloud.com/csm/en-dns-dynhost?id=kb_article_view&sysparm_article=KB0051640',
});
