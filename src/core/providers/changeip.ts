/**
 * ChangeIP (changeip.com), over its dyndns2-style server
 * (https://www.changeip.com/accounts/knowledgebase.php?action=displayarticle&id=34).
 *
 * - `https://nic.changeip.com/nic/update?hostname=<name>&ip=<address>`, Basic auth with the
 *   ChangeIP username and password; one address per request.
 * - Success is `200 Successful Update` (a sentence, not dyndns2's `good`); refusals are HTTP
 *   status 401 and dyndns2's words.
 */
import { dyndns2Member } from './dyndns2';

export const definition = dyndns2Member({
  flavour: {
    id: 'changeip',
    name: 'ChangeIP',
    dualStack: 'separate',
    params: { ip: 'ip' },
    maxHosts: 1,
    translate: (res) => (res.status === 200 && /\bSuccessful\b/i.test(res.body) ? 'good' : undefined),
  },
  endpoint: 'https://nic.changeip.com/nic/update',
  username: 'Your ChangeIP username.',
  password: 'Your ChangeIP password.',
  docsUrl: 'https://www.changeip.com/accounts/knowledgebase.php?action=displayarticle&id=34',
});
