/**
 * A local Gandi LiveDNS API v5, on 127.0.0.1, answering as documented at
 * https://api.gandi.net/docs/livedns/ and https://api.gandi.net/docs/authentication/:
 * - `Authorization: Bearer <personal access token>`; else 401
 *   `{"code":401,"message":"The server could not verify that you authorized to access the document you requested.","object":"HTTPUnauthorized","cause":"Unauthorized"}`;
 *   a token restricted to other domains gets 403 for this one;
 * - `GET /v5/livedns/domains` lists `{fqdn, domain_href, domain_records_href}`;
 * - `GET|PUT|DELETE /v5/livedns/domains/{fqdn}/records/{name}/{type}` (apex `@`): GET answers the
 *   RRset `{rrset_name, rrset_type, rrset_ttl, rrset_values, rrset_href}` or 404
 *   `{"code":404,"message":"Can't find the DNS record …","object":"dns-record","cause":"Not Found"}`;
 *   PUT replaces it, 201 `{"message":"DNS Record Created"}` (a PUT without `rrset_ttl` gets the
 *   default 10800); DELETE answers 204; a value that is not an address of its type: 400;
 * - 1000 requests per minute, then 429.
 *
 *   const g = await startGandi({ token, domains: { 'example.com': [] } });
 *   // endpoint: `${g.url}/v5/livedns`; then g.requests, g.find('example.com', 'home', 'A')
 */
import type http from 'node:http';
import { isIP } from 'node:net';
import { json, type RecordedRequest } from '../http-server';
import type { ContractFailure } from './duckdns';
import { startFaultyServer } from './rest';

export interface GandiRRset {
  rrset_name: string;
  rrset_type: string;
  rrset_ttl: number;
  rrset_values: string[];
}

export interface GandiContract {
  url: string;
  requests: RecordedRequest[];
  rrsets: Map<string, GandiRRset[]>;
  find(domain: string, name: string, type: string): GandiRRset | undefined;
  failNext(f: ContractFailure, times?: number): void;
  close(): Promise<void>;
}

export async function startGandi(opts: {
  token: string;
  domains: Record<string, Array<Omit<GandiRRset, 'rrset_ttl'> & { rrset_ttl?: number }>>;
  /** Domains the token may not manage (403). */
  forbidden?: string[];
}): Promise<GandiContract> {
  const rrsets = new Map<string, GandiRRset[]>();
  for (const [d, list] of Object.entries(opts.domains))
    rrsets.set(
      d,
      list.map((r) => ({ rrset_ttl: 10800, ...r })),
    );
  const contract: GandiContract = {
    url: '',
    requests: [],
    rrsets,
    find: (d, name, type) => rrsets.get(d)?.find((r) => r.rrset_name === name && r.rrset_type === type),
    failNext: () => undefined,
    close: async () => undefined,
  };
  const err = (res: http.ServerResponse, code: number, message: string, object: string, cause: string) =>
    json(res, { code, message, object, cause }, code);

  const answer = (req: RecordedRequest, res: http.ServerResponse) => {
    if (req.headers.authorization !== `Bearer ${opts.token}`)
      return err(
        res,
        401,
        'The server could not verify that you authorized to access the document you requested.',
        'HTTPUnauthorized',
        'Unauthorized',
      );
    const path = req.path.replace(/^\/v5\/livedns/, '');
    if (path === '/domains' && req.method === 'GET')
      return json(
        res,
        [...rrsets.keys()].map((fqdn) => ({ fqdn, domain_href: `/v5/livedns/domains/${fqdn}` })),
      );
    const m = /^\/domains\/([^/]+)\/records\/([^/]+)\/([^/]+)$/.exec(path);
    const list = m ? rrsets.get(m[1]) : undefined;
    if (!m || !list) return err(res, 404, 'Domain not found', 'domain', 'Not Found');
    if (opts.forbidden?.includes(m[1]))
      return err(res, 403, 'Access was denied to this resource.', 'HTTPForbidden', 'Forbidden');
    const name = decodeURIComponent(m[2]);
    const type = m[3];
    const i = list.findIndex((r) => r.rrset_name === name && r.rrset_type === type);
    switch (req.method) {
      case 'GET':
        if (i < 0) return err(res, 404, `Can't find the DNS record ${name}/${type}`, 'dns-record', 'Not Found');
        return json(res, { ...list[i], rrset_href: `/v5/livedns/domains/${m[1]}/records/${name}/${type}` });
      case 'PUT': {
        let body: Partial<GandiRRset>;
        try {
          body = JSON.parse(req.body) as Partial<GandiRRset>;
        } catch {
          return err(res, 400, 'Invalid JSON', 'HTTPBadRequest', 'Bad Request');
        }
        const values = body.rrset_values;
        const family = type === 'A' ? 4 : type === 'AAAA' ? 6 : 0;
        if (!Array.isArray(values) || values.length === 0 || (family && values.some((v) => isIP(v) !== family)))
          return err(res, 400, 'rrset_values: invalid value', 'HTTPBadRequest', 'Bad Request');
        const rec = { rrset_name: name, rrset_type: type, rrset_ttl: body.rrset_ttl ?? 10800, rrset_values: values };
        if (i >= 0) list[i] = rec;
        else list.push(rec);
        return json(res, { message: 'DNS Record Created' }, 201);
      }
      case 'DELETE':
        if (i < 0) return err(res, 404, `Can't find the DNS record ${name}/${type}`, 'dns-record', 'Not Found');
        list.splice(i, 1);
        res.writeHead(204);
        return res.end();
      default:
        return err(res, 405, 'Method not allowed', 'HTTPMethodNotAllowed', 'Method Not Allowed');
    }
  };
  return Object.assign(contract, await startFaultyServer(answer));
}
