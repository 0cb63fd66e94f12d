/**
 * DNS-O-Matic (OpenDNS/Cisco), over dyndns2 (https://www.dnsomatic.com/docs/api).
 *
 * - `https://updates.dnsomatic.com/nic/update`, Basic auth with the DNS-O-Matic account; it
 *   forwards the address to every service of the account (or to `hostname`'s one). IPv4 only.
 * - Answers are dyndns2's; the docs ask for at least 10 minutes after `911` or `dnserr`.
 */
import { dyndns2Member } from './dyndns2';

export const definition = dyndns2Member({
  flavour: {
    id: 'dnsomatic',
    name: 'DNS-O-Matic',
    dualStack: 'separate',
    ipv4Only: true,
    abuseScope: 'account',
  },
  endpoint: 'https://updates.dnsomatic.com/nic/update',
  username: 'Your DNS-O-Matic username (an e-mail address).',
  password: 'Your DNS-O-Matic password.',
  docsUrl: 'https://www.dnsomatic.com/docs/api',
});
