/**
 * dnshome.de, over its dyndns2-style update page (https://www.dnshome.de/faq.php, "DynDNS-Update").
 *
 * - `https://www.dnshome.de/dyndns.php`, Basic auth with the subdomain as username and its
 *   password; IPv4 in `ip`, IPv6 in `ip6`, both in one request. Answers are dyndns2's.
 */
import { dyndns2Member } from './dyndns2';

export const definition = dyndns2Member({
  flavour: {
    id: 'dnshome',
    name: 'dnshome.de',
    dualStack: 'split',
    params: { ip: 'ip', ipv6: 'ip6' },
  },
  endpoint: 'https://www.dnshome.de/dyndns.php',
  username: 'The subdomain (e.g. myhome.dnshome.de), which is the username.',
  password: 'The password of that subdomain.',
  docsUrl: 'https://www.dnshome.de/faq.php',
});
