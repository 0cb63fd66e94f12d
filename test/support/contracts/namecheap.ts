/**
 * A local Namecheap dynamic DNS server, answering as Namecheap documents it
 * (https://www.namecheap.com/support/knowledgebase/article.aspx/29/11/how-to-dynamically-update-the-hosts-ip-with-an-http-request/):
 * `GET /update?host=<sub|@|*>&domain=<zone>&password=<Dynamic DNS password>&ip=<v4>`, HTTP 200 and
 * an `<interface-response>` XML document either way; `<ErrCount>0</ErrCount>` on success, else
 * `<Err1>` with the reason (`Passwords do not match`, `No Records updated. A record not Found;`,
 * `Domain name not found`, `Invalid IP`) and a `<ResponseNumber>`.
 *
 *   const nc = await startNamecheap({ domain: 'example.net', password: 'pw', hosts: ['home', '@'] });
 *   nc.url, nc.requests, nc.records.get('home'), nc.failNext('server-error'), nc.close()
 */
import { isIP } from 'node:net';
import { startServer, text, type RecordedRequest } from '../http-server';
import { FailureQueue, type ContractFailure } from './duckdns';

export interface NamecheapContract {
  url: string;
  requests: RecordedRequest[];
  /** host (`home`, `@`) → the IPv4 address it holds. */
  records: Map<string, string | undefined>;
  failNext(f: ContractFailure, times?: number): void;
  close(): Promise<void>;
}

const answer = (ip: string, error?: [string, number]) =>
  `<?xml version="1.0" encoding="utf-16"?>
<interface-response>
  <Command>SETDNSHOST</Command>
  <Language>eng</Language>
  ${error ? '' : `<IP>${ip}</IP>\n  `}<ErrCount>${error ? 1 : 0}</ErrCount>
  ${error ? `<errors><Err1>${error[0]}</Err1></errors>` : '<errors />'}
  <ResponseCount>${error ? 1 : 0}</ResponseCount>
  ${error ? `<responses><response><ResponseNumber>${error[1]}</ResponseNumber><ResponseString>Validation error</ResponseString></response></responses>` : '<responses />'}
  <Done>true</Done>
  <debug><![CDATA[]]></debug>
</interface-response>`;

export async function startNamecheap(o: {
  domain: string;
  password: string;
  hosts: string[];
}): Promise<NamecheapContract> {
  const records = new Map<string, string | undefined>(o.hosts.map((h) => [h, undefined]));
  const failures = new FailureQueue<never>();
  const srv = await startServer((req, res) => {
    const f = failures.take();
    if (f !== undefined && failures.apply(f, res, () => undefined)) return;
    const q = (k: string) => req.query.get(k) ?? '';
    const ip = q('ip');
    const reply = (error?: [string, number]) => text(res, answer(ip, error), 200, { 'content-type': 'text/xml' });
    if (q('domain').toLowerCase() !== o.domain) return reply(['Domain name not found', 316153]);
    if (q('password') !== o.password) return reply(['Passwords do not match', 304156]);
    if (isIP(ip) !== 4) return reply(['Invalid IP', 316154]);
    if (!records.has(q('host'))) return reply(['No Records updated. A record not Found;', 380091]);
    records.set(q('host'), ip);
    reply();
  });
  return {
    url: `${srv.url}/update`,
    requests: srv.requests,
    records,
    failNext: (f, times = 1) => failures.push(f as never, times),
    close: async () => {
      failures.clear();
      await srv.close();
    },
  };
}
