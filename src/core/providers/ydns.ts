/**
 * YDNS (ydns.io), over its dyndns2-style API (https://ydns.io/api, the bash updater of
 * https://github.com/ydns/bash-updater).
 *
 * - `https://ydns.io/api/v1/update/?host=<name>&ip=<address>`, Basic auth with the API username
 *   and secret shown at ydns.io → API; one address per request.
 * - Answers are dyndns2's words (`good`/`nochg`/`badauth`/`nohost`).
 */
import { dyndns2Member } from './dyndns2';

export const definition = dyndns2Member({
  flavour: {
    id: 'ydns',
    name: 'YDNS',
    dualStack: 'separate',
    params: { host: 'host', ip: 'ip' },
  },
  endpoint: 'https://ydns.io/api/v1/update/',
  username: 'The API username shown at ydns.io → API.',
  password: 'The API secret shown there.',
  docsUrl: 'https://ydns.io/api',
});
