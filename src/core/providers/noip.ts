/**
 * No-IP (noip.com), over dyndns2 (https://www.noip.com/integrate/request).
 *
 * - Basic auth with the account's username or e-mail and password, or a DDNS key pair.
 * - IPv4 and IPv6 in one request: `myip=<v4>,<v6>`; the answer line of each name lists both.
 * - `911` means trouble on No-IP's side: no update before 30 minutes. `abuse` blocks the username,
 *   not one name. Wait instructions (`w<N><s|m|h>`) are honoured.
 * - User-Agent `Company NameOfProgram/OSVersion-ReleaseVersion maintainer-contact@example.com`
 *   ("Setting the Agent"); a client without an approved agent gets `badagent`. The contact is the
 *   project's address unless the account gives its own (`contact`).
 */
import { dyndns2Member, type Dyndns2Flavour } from './dyndns2';

export const NOIP_ENDPOINT = 'https://dynupdate.no-ip.com/nic/update';

export const noipFlavour: Dyndns2Flavour = {
  id: 'noip',
  name: 'No-IP',
  dualStack: 'combined',
  serverTroubleWaitMs: 30 * 60_000,
  abuseScope: 'account',
};

export const definition = dyndns2Member({
  flavour: noipFlavour,
  endpoint: NOIP_ENDPOINT,
  username: 'Your No-IP username or e-mail address, or the username of a DDNS key.',
  password: 'Your No-IP password, or the password of the DDNS key.',
  docsUrl: 'https://my.noip.com/dynamic-dns',
});
