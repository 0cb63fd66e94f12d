/**
 * A local AWS Route 53 REST API (2013-04-01), on 127.0.0.1, answering as documented in the API
 * reference (https://docs.aws.amazon.com/Route53/latest/APIReference/):
 * - every request signed with SigV4 (region us-east-1, service route53; checked here by signing the
 *   request again with the key's secret); an unknown access key gets 403 `InvalidClientTokenId`
 *   ("The security token included in the request is invalid."), a wrong signature 403
 *   `SignatureDoesNotMatch`, none 403 `MissingAuthenticationToken` (requests-rest-responses.html:
 *   `<ErrorResponse><Error><Type>Sender</Type><Code/><Message/></Error><RequestId/></ErrorResponse>`);
 * - `GET /2013-04-01/hostedzonesbyname[?dnsname&hostedzoneid]&maxitems` (API_ListHostedZonesByName):
 *   zones sorted by name, `IsTruncated`, `NextDNSName`, `NextHostedZoneId`;
 * - `GET /2013-04-01/hostedzone/{id}/rrset?name&type&maxitems` (API_ListResourceRecordSets): the
 *   record sets from that name and type on, in Route 53's order; 404 `NoSuchHostedZone`;
 * - `POST /2013-04-01/hostedzone/{id}/rrset` (API_ChangeResourceRecordSets): a ChangeBatch of
 *   CREATE/UPSERT/DELETE, applied whole or refused whole (400 `InvalidChangeBatch`, e.g. a DELETE
 *   whose values or TTL differ, or an A value that is not an IPv4 address); answers `ChangeInfo`
 *   with Status PENDING; a zone outside the IAM policy (`denied`) gets 403 `AccessDenied`.
 *
 *   const r = await startRoute53({ accessKeyId, secret, zones: { 'example.com': [] } });
 *   // endpoint: r.url; r.zoneId('example.com'), r.find('home.example.com', 'A')
 */
import type http from 'node:http';
import { isIP } from 'node:net';
import { text, type RecordedRequest } from '../http-server';
import { signV4 } from '../../../src/core/providers/signing';
import type { ContractFailure } from './duckdns';
import { startFaultyServer } from './rest';

export interface Route53Set {
  name: string;
  type: string;
  ttl: number;
  values: string[];
  setIdentifier?: string;
}

export interface Route53Contract {
  url: string;
  requests: RecordedRequest[];
  zoneId(name: string): string;
  find(name: string, type: string): Route53Set | undefined;
  failNext(f: ContractFailure, times?: number): void;
  close(): Promise<void>;
}

const NS = 'https://route53.amazonaws.com/doc/2013-04-01/';
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const unesc = (s: string) =>
  s.replace(/&(lt|gt|quot|apos|amp);/g, (_m, e: string) => ({ lt: '<', gt: '>', quot: '"', apos: "'", amp: '&' })[e]!);
const all = (xml: string, tag: string) =>
  [...xml.matchAll(new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, 'g'))].map((m) => m[1]);
const one = (xml: string, tag: string) => {
  const v = all(xml, tag)[0];
  return v === undefined ? undefined : unesc(v.trim());
};
/** Route 53's order of names: labels compared from the right (example.com before a.example.com). */
const order = (a: string, b: string) => {
  const ka = a.split('.').reverse().join('.');
  const kb = b.split('.').reverse().join('.');
  return ka < kb ? -1 : ka > kb ? 1 : 0;
};

export async function startRoute53(opts: {
  accessKeyId: string;
  secret: string;
  zones: Record<string, Array<Omit<Route53Set, 'ttl'> & { ttl?: number }>>;
  privateZones?: string[];
  /** Zones outside the IAM policy: 403 AccessDenied. */
  denied?: string[];
}): Promise<Route53Contract> {
  const zones = new Map<string, { id: string; name: string; private: boolean; sets: Route53Set[] }>();
  let n = 0;
  const add = (name: string, isPrivate: boolean, sets: Route53Set[]) => {
    const id = `Z${String(++n).padStart(4, '0')}CONTRACT${isPrivate ? 'P' : ''}`;
    zones.set(id, { id, name, private: isPrivate, sets });
  };
  for (const [name, sets] of Object.entries(opts.zones))
    add(
      name,
      false,
      sets.map((s) => ({ ttl: 300, ...s })),
    );
  for (const name of opts.privateZones ?? []) add(name, true, []);
  let changes = 0;

  const xml = (res: http.ServerResponse, body: string, status = 200) =>
    text(res, `<?xml version="1.0" encoding="UTF-8"?>\n${body}`, status, { 'content-type': 'text/xml' });
  const err = (res: http.ServerResponse, status: number, code: string, message: string) =>
    xml(
      res,
      `<ErrorResponse xmlns="${NS}"><Error><Type>Sender</Type><Code>${code}</Code><Message>${esc(message)}</Message></Error><RequestId>r-${Date.now()}</RequestId></ErrorResponse>`,
      status,
    );

  /** The SigV4 check: the Authorization header must be the one this request signs to. */
  const authFailure = (req: RecordedRequest): [string, string] | undefined => {
    const auth = req.headers.authorization ?? '';
    const m =
      /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(
        auth,
      );
    if (!m) return ['MissingAuthenticationToken', 'Missing Authentication Token'];
    if (m[1] !== opts.accessKeyId)
      return ['InvalidClientTokenId', 'The security token included in the request is invalid.'];
    const stamp = String(req.headers['x-amz-date'] ?? '');
    const when = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(stamp);
    const headers: Record<string, string> = {};
    for (const h of m[5].split(';')) if (h !== 'host' && h !== 'x-amz-date') headers[h] = String(req.headers[h] ?? '');
    const again =
      when &&
      signV4(
        {
          method: req.method,
          url: `http://${req.headers.host}${req.url}`,
          headers,
          body: req.body,
          region: m[3],
          service: m[4],
          now: new Date(`${when[1]}-${when[2]}-${when[3]}T${when[4]}:${when[5]}:${when[6]}Z`),
        },
        { accessKeyId: opts.accessKeyId, secretAccessKey: opts.secret },
      );
    if (!again || again.headers.authorization !== auth || m[3] !== 'us-east-1' || m[4] !== 'route53')
      return [
        'SignatureDoesNotMatch',
        'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
      ];
    return undefined;
  };

  const setXml = (s: Route53Set) =>
    `<ResourceRecordSet><Name>${s.name.replace(/^\*/, '\\052')}.</Name><Type>${s.type}</Type>${
      s.setIdentifier ? `<SetIdentifier>${s.setIdentifier}</SetIdentifier><Weight>10</Weight>` : ''
    }<TTL>${s.ttl}</TTL><ResourceRecords>${s.values
      .map((v) => `<ResourceRecord><Value>${esc(v)}</Value></ResourceRecord>`)
      .join('')}</ResourceRecords></ResourceRecordSet>`;

  const answer = (req: RecordedRequest, res: http.ServerResponse) => {
    const bad = authFailure(req);
    if (bad) return err(res, 403, bad[0], bad[1]);
    if (req.path === '/2013-04-01/hostedzonesbyname' && req.method === 'GET') {
      const max = Number(req.query.get('maxitems') ?? 100);
      const from = req.query.get('dnsname')?.replace(/\.$/, '');
      const list = [...zones.values()]
        .sort((a, b) => order(a.name, b.name) || (a.id < b.id ? -1 : 1))
        .filter((z) => !from || order(z.name, from) >= 0);
      const page = list.slice(0, max);
      const next = list[max];
      return xml(
        res,
        `<ListHostedZonesByNameResponse xmlns="${NS}"><HostedZones>${page
          .map(
            (z) =>
              `<HostedZone><Id>/hostedzone/${z.id}</Id><Name>${z.name}.</Name><CallerReference>c-${z.id}</CallerReference><Config><PrivateZone>${z.private}</PrivateZone></Config><ResourceRecordSetCount>${z.sets.length + 2}</ResourceRecordSetCount></HostedZone>`,
          )
          .join(
            '',
          )}</HostedZones>${from ? `<DNSName>${from}.</DNSName>` : ''}<IsTruncated>${Boolean(next)}</IsTruncated>${
          next ? `<NextDNSName>${next.name}.</NextDNSName><NextHostedZoneId>${next.id}</NextHostedZoneId>` : ''
        }<MaxItems>${max}</MaxItems></ListHostedZonesByNameResponse>`,
      );
    }
    const m = /^\/2013-04-01\/hostedzone\/([^/]+)\/rrset\/?$/.exec(req.path);
    const zone = m ? zones.get(m[1]) : undefined;
    if (!m) return err(res, 404, 'UnknownOperationException', 'Unknown operation');
    if (!zone) return err(res, 404, 'NoSuchHostedZone', `No hosted zone found with ID: ${m[1]}`);
    if (opts.denied?.includes(zone.name))
      return err(
        res,
        403,
        'AccessDenied',
        `User: arn:aws:iam::123456789012:user/ddns is not authorized to access this resource`,
      );
    if (req.method === 'GET') {
      const name = (req.query.get('name') ?? '').toLowerCase().replace(/\.$/, '');
      const type = req.query.get('type') ?? '';
      const max = Number(req.query.get('maxitems') ?? 300);
      const sorted = [...zone.sets].sort((a, b) => order(a.name, b.name) || (a.type < b.type ? -1 : 1));
      const from = sorted.filter((s) => !name || order(s.name, name) > 0 || (s.name === name && s.type >= type));
      return xml(
        res,
        `<ListResourceRecordSetsResponse xmlns="${NS}"><ResourceRecordSets>${from
          .slice(0, max)
          .map(setXml)
          .join(
            '',
          )}</ResourceRecordSets><IsTruncated>${from.length > max}</IsTruncated><MaxItems>${max}</MaxItems></ListResourceRecordSetsResponse>`,
      );
    }
    if (req.method !== 'POST') return err(res, 405, 'MethodNotAllowed', 'Method not allowed');
    if (
      !/^<\?xml[^>]*>\s*<ChangeResourceRecordSetsRequest xmlns="https:\/\/route53\.amazonaws\.com\/doc\/2013-04-01\/">/.test(
        req.body,
      )
    )
      return err(res, 400, 'InvalidInput', 'Invalid XML; could not parse ChangeResourceRecordSetsRequest');
    const next = zone.sets.map((s) => ({ ...s, values: [...s.values] }));
    for (const c of all(req.body, 'Change')) {
      const action = one(c, 'Action');
      const name = (one(c, 'Name') ?? '').toLowerCase().replace(/\.$/, '');
      const type = one(c, 'Type') ?? '';
      const ttl = Number(one(c, 'TTL'));
      const values = all(c, 'Value').map((v) => unesc(v.trim()));
      const family = type === 'A' ? 4 : type === 'AAAA' ? 6 : 0;
      if (name !== zone.name && !name.endsWith(`.${zone.name}`))
        return err(
          res,
          400,
          'InvalidChangeBatch',
          `RRSet with DNS name ${name}. is not permitted in zone ${zone.name}.`,
        );
      if (!values.length || (family && values.some((v) => isIP(v) !== family)) || !Number.isInteger(ttl))
        return err(res, 400, 'InvalidChangeBatch', `Invalid Resource Record: FATAL problem: ${type} record`);
      const i = next.findIndex((s) => s.name === name && s.type === type);
      if (action === 'DELETE') {
        if (i < 0 || next[i].ttl !== ttl || next[i].values.join('\n') !== values.join('\n'))
          return err(
            res,
            400,
            'InvalidChangeBatch',
            `Tried to delete resource record set [name='${name}.', type='${type}'] but the values provided do not match the current values`,
          );
        next.splice(i, 1);
      } else if (action === 'CREATE' && i >= 0)
        return err(
          res,
          400,
          'InvalidChangeBatch',
          `Tried to create resource record set [name='${name}.', type='${type}'] but it already exists`,
        );
      else if (action === 'UPSERT' || action === 'CREATE') {
        const set = { name, type, ttl, values };
        if (i >= 0) next[i] = set;
        else next.push(set);
      } else return err(res, 400, 'InvalidInput', `Invalid action ${action}`);
    }
    zone.sets = next;
    return xml(
      res,
      `<ChangeResourceRecordSetsResponse xmlns="${NS}"><ChangeInfo><Id>/change/C${++changes}CONTRACT</Id><Status>PENDING</Status><SubmittedAt>${new Date().toISOString()}</SubmittedAt></ChangeInfo></ChangeResourceRecordSetsResponse>`,
    );
  };

  const srv = await startFaultyServer(answer);
  const byName = (name: string) => [...zones.values()].find((z) => z.name === name && !z.private);
  return {
    ...srv,
    zoneId: (name) => byName(name)!.id,
    find: (name, type) => {
      for (const z of zones.values()) {
        const s = z.sets.find((x) => x.name === name && x.type === type);
        if (s) return s;
      }
      return undefined;
    },
  };
}
