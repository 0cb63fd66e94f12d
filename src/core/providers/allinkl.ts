/**
 * ALL-INKL.COM (KAS), over its dyndns2-style server
 * (https://all-inkl.com/wichtig/anleitungen/kas/tools/ddns-tool/dyndns-einrichten_1108.html).
 *
 * - `https://dyndns.kasserver.com/`, Basic auth with the DDNS user (`dyn…`) made in KAS → Tools →
 *   DDNS-Tool; the name goes in `host`, IPv4 in `myip`, IPv6 in `myip6`, both in one request.
 * - Answers are dyndns2's (`good`/`nochg`/`badauth`/`nohost`/`abuse`/`911`).
 */
import { dyndns2Member } from './dyndns2';

export const definition = dyndns2Member({
  flavour: {
    id: 'allinkl',
    name: 'ALL-INKL.COM',
    dualStack: 'split',
    params: { host: 'host', ipv6: 'myip6' },
  },
  group: 'registrar',
  endpoint: 'https://dyndns.kasserver.com/',
  username: 'The DDNS user (dyn…) made in KAS under Tools → DDNS-Tool for this name.',
  password: 'The password of that DDNS user.',
  docsUrl: 'https://all-inkl.com/wichtig/anleitungen/kas/tools/ddns-tool/dyndns-einrichten_1108.html',
});
