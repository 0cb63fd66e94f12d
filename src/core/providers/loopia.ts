/**
 * Loopia (loopia.se), over dyndns2 (https://support.loopia.com/wiki/about-the-dyndns-support/).
 *
 * - `https://dns.loopia.se/XDynDNSServer/XDynDNS.php`, Basic auth with the Loopia customer
 *   number or a Loopia API user; one address per request. No wildcard names.
 * - Answers are dyndns2's (`good`/`nochg`/`badauth`/`nohost`/`notfqdn`/`911`).
 */
import { dyndns2Member } from './dyndns2';

export const definition = dyndns2Member({
  flavour: {
    id: 'loopia',
    name: 'Loopia',
    dualStack: 'separate',
  },
  group: 'registrar',
  endpoint: 'https://dns.loopia.se/XDynDNSServer/XDynDNS.php',
  username: 'Your Loopia customer number or username (or a LoopiaAPI user).',
  password: 'The password of that login.',
  docsUrl: 'https://support.loopia.com/wiki/about-the-dyndns-support/',
});
