/**
 * Zoneedit, over its dyndns2-style server with XML answers
 * (https://support.zoneedit.com/en/knowledgebase/article/dynamic-dns).
 *
 * - `https://api.cp.zoneedit.com/dyn/generic.php?hostname=<name>&myip=<address>`, Basic auth with
 *   the Zoneedit username and the zone's dynamic-DNS token; one name and one address per request.
 * - Zoneedit takes at most one update per 600 seconds: the provider declares that minimum
 *   (`minIntervalMs`) and the update engine never writes a record more often; a `702` answer
 *   (too soon) waits 600 s for the whole account.
 * - Answers are XML elements: `<SUCCESS CODE="200" …>` (updated), `<SUCCESS CODE="201" …>` (no
 *   change), `<ERROR CODE="702|707|708|709" TEXT="…">` (too soon, duplicate update, failed login,
 *   invalid host name), rewritten here into dyndns2's words.
 */
import { dyndns2Member } from './dyndns2';

export const ZONEEDIT_INTERVAL_MS = 600_000;

const CODES: Record<string, string> = {
  '200': 'good',
  '201': 'nochg',
  '702': `w${ZONEEDIT_INTERVAL_MS / 1000}s`,
  '707': 'nochg',
  '708': 'badauth',
  '709': 'nohost',
};

/** `<SUCCESS CODE="200" TEXT="…">` or `<ERROR …>` → the dyndns2 word and Zoneedit's text. */
export function zoneeditWords(body: string): string | undefined {
  const m = /<(SUCCESS|ERROR)\b[^>]*\bCODE="(\d{3})"[^>]*>/i.exec(body.slice(0, 4096));
  const word = m && CODES[m[2]];
  if (!word) return undefined;
  const text = /\bTEXT="([^"]{0,200})"/i.exec(m[0])?.[1];
  return text ? `${word} (${m[2]} ${text})` : word;
}

export const definition = dyndns2Member({
  flavour: {
    id: 'zoneedit',
    name: 'Zoneedit',
    dualStack: 'separate',
    maxHosts: 1,
    minIntervalMs: ZONEEDIT_INTERVAL_MS,
    translate: (res) => zoneeditWords(res.body),
  },
  group: 'registrar',
  endpoint: 'https://api.cp.zoneedit.com/dyn/generic.php',
  username: 'Your Zoneedit username.',
  password: "The zone's dynamic DNS token (Zoneedit → the zone → DNS settings → dynamic authentication token).",
  docsUrl: 'https://support.zoneedit.com/en/knowledgebase/article/dynamic-dns',
});
