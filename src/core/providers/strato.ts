/**
 * Strato (strato.de), over dyndns2
 * (https://www.strato.de/faq/domains/so-einfach-richten-sie-dyndns-fuer-ihre-domains-ein/).
 *
 * - `https://dyndns.strato.com/nic/update`, Basic auth with the domain as username and the DynDNS
 *   password set for it in the customer login; both families in one request (`myip=<v4>,<v6>`).
 * - Strato answers `abuse` to clients that update too often (the name stays blocked for a while):
 *   the engine never writes an unchanged address, so this only follows real changes.
 */
import { dyndns2Member } from './dyndns2';

export const definition = dyndns2Member({
  flavour: {
    id: 'strato',
    name: 'Strato',
    dualStack: 'combined',
  },
  group: 'registrar',
  endpoint: 'https://dyndns.strato.com/nic/update',
  username: 'The domain (e.g. example.com) whose DynDNS is switched on in the Strato customer login.',
  password: 'The DynDNS password set for that domain in the Strato customer login.',
  docsUrl: 'https://www.strato.de/faq/domains/so-einfach-richten-sie-dyndns-fuer-ihre-domains-ein/',
});
