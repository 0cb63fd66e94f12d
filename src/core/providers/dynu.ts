/**
 * Dynu (dynu.com), over its dyndns2-style IP update protocol
 * (https://www.dynu.com/DynamicDNS/IP-Update-Protocol).
 *
 * - GET only; Basic auth with the account's username and its password (Dynu also accepts the MD5
 *   or SHA-256 of the password there: whatever the user enters is sent as it is).
 * - IPv4 in `myip`, IPv6 in `myipv6`. Dynu fills a family that is left out from the request's
 *   source address, so both are always sent: the one not being updated as `no`, which leaves it
 *   as it is (IPv6 only: `myip=no&myipv6=<v6>`; IPv4 only: `myip=<v4>&myipv6=no`).
 * - `911` (maintenance), `dnserr` and `servererror`: try again in 10 minutes at the earliest.
 * - User-Agent: Dynu asks for `[DEVICE-MODEL-MAKE-VERSION]` without a stricter form; No-IP's form
 *   (client, version, contact e-mail) is sent, the contact overridable by the account.
 */
import { dyndns2Member, presetFlavour } from './dyndns2';

export const DYNU_ENDPOINT = 'https://api.dynu.com/nic/update';

/** Dynu waits the preset's 10 minutes after server trouble, and its `abuse` blocks the host (the preset's too). */
export const dynuFlavour = presetFlavour({ id: 'dynu', name: 'Dynu', dualStack: 'dynu' });

export const definition = dyndns2Member({
  flavour: dynuFlavour,
  endpoint: DYNU_ENDPOINT,
  username: 'Your Dynu username (shown in the control panel).',
  password: 'Your Dynu password, its MD5 or SHA-256 hash, or the IP update password set in the control panel.',
  docsUrl: 'https://www.dynu.com/en-US/ControlPanel/ManageCredentials',
});
