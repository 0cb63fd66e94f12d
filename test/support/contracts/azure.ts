/**
 * A local Azure DNS (Resource Manager, api-version 2018-05-01) and Entra ID token endpoint, on
 * 127.0.0.1, answering as documented:
 * - `POST /{tenant}/oauth2/v2.0/token` (https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-client-creds-grant-flow):
 *   `grant_type=client_credentials&client_id&client_secret&scope=<resource>/.default` →
 *   `{token_type: "Bearer", expires_in: 3599, access_token}`; a wrong secret 401
 *   `{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided. …","error_codes":[7000215]}`,
 *   an unknown app 400 `unauthorized_client` (AADSTS700016), an unknown tenant 400 `invalid_request` (AADSTS90002);
 * - `GET …/resourceGroups/{rg}/providers/Microsoft.Network/dnsZones` (zones/list-by-resource-group): `{value: [{name …}], nextLink?}`;
 * - `GET|PUT|DELETE …/dnsZones/{zone}/{A|AAAA|TXT}/{name}` (record-sets/get, create-or-update, delete):
 *   the set `{id, name, type, etag, properties: {fqdn, TTL, metadata, ARecords …}}`; a missing set
 *   404 `{"error":{"code":"NotFound","message":"The resource record '…' does not exist in resource group '…' of subscription '…'."}}`,
 *   a missing zone 404 `ResourceNotFound`; PUT with `If-Match` other than the set's etag, or
 *   `If-None-Match: *` on an existing set: 412 `PreconditionFailed`; PUT answers 200 (201 when new)
 *   with the set and a new etag; DELETE 200 (204 when there was none);
 * - a missing or unknown Bearer token: 401 `InvalidAuthenticationToken`; a zone outside the app's
 *   role assignments (`forbidden`): 403 `AuthorizationFailed`.
 *
 *   const a = await startAzure({ tenant, clientId, secret, subscription, group, zones: { 'example.com': [] } });
 *   // endpoint: a.url, authorityHost: a.url
 */
import type http from 'node:http';
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { json, type RecordedRequest } from '../http-server';
import type { ContractFailure } from './duckdns';
import { accessTokens, startTokenServer } from './rest';

export interface AzureSet {
  /** Relative name (`@` for the apex). */
  name: string;
  type: 'A' | 'AAAA' | 'TXT';
  ttl: number;
  values: string[];
  metadata?: Record<string, string>;
  etag: string;
}

export interface AzureContract {
  url: string;
  requests: RecordedRequest[];
  tokens: string[];
  find(zone: string, name: string, type: string): AzureSet | undefined;
  expireTokens(): void;
  failNext(f: ContractFailure, times?: number): void;
  close(): Promise<void>;
}

const ARM = (res: http.ServerResponse, status: number, code: string, message: string) =>
  json(res, { error: { code, message } }, status);

export async function startAzure(opts: {
  tenant: string;
  clientId: string;
  secret: string;
  subscription: string;
  group: string;
  zones: Record<string, Array<Omit<AzureSet, 'ttl' | 'etag'> & { ttl?: number }>>;
  forbidden?: string[];
}): Promise<AzureContract> {
  const zones = new Map<string, AzureSet[]>();
  const etag = () =>
    randomBytes(8)
      .toString('hex')
      .replace(/^(.{8})/, '$1-');
  for (const [z, sets] of Object.entries(opts.zones))
    zones.set(
      z,
      sets.map((s) => ({ ttl: 3600, ...s, etag: etag() })),
    );
  const access = accessTokens();
  let url = '';

  const tokenEndpoint = (tenant: string, req: RecordedRequest, res: http.ServerResponse) => {
    const f = new URLSearchParams(req.body);
    const aad = (status: number, error: string, code: number, text: string) =>
      json(res, { error, error_description: `AADSTS${code}: ${text}`, error_codes: [code] }, status);
    if (tenant !== opts.tenant) return aad(400, 'invalid_request', 90002, `Tenant '${tenant}' not found.`);
    if (f.get('grant_type') !== 'client_credentials')
      return aad(400, 'unsupported_grant_type', 70003, 'The app requested an unsupported grant type.');
    if (f.get('client_id') !== opts.clientId)
      return aad(
        400,
        'unauthorized_client',
        700016,
        `Application with identifier '${f.get('client_id')}' was not found in the directory.`,
      );
    if (f.get('client_secret') !== opts.secret)
      return aad(
        401,
        'invalid_client',
        7000215,
        'Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.',
      );
    if (f.get('scope') !== `${url}/.default`)
      return aad(400, 'invalid_scope', 1002012, 'The provided value for scope is not valid.');
    const token = access.issue(`eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.c0ntract.${randomBytes(24).toString('hex')}`);
    return json(res, { token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: token });
  };

  const view = (zone: string, s: AzureSet) => {
    const records =
      s.type === 'A'
        ? { ARecords: s.values.map((ipv4Address) => ({ ipv4Address })) }
        : s.type === 'AAAA'
          ? { AAAARecords: s.values.map((ipv6Address) => ({ ipv6Address })) }
          : { TXTRecords: s.values.map((v) => ({ value: [v] })) };
    return {
      id: `/subscriptions/${opts.subscription}/resourceGroups/${opts.group}/providers/Microsoft.Network/dnszones/${zone}/${s.type}/${s.name}`,
      name: s.name,
      type: `Microsoft.Network/dnszones/${s.type}`,
      etag: s.etag,
      properties: {
        metadata: s.metadata ?? null,
        fqdn: `${s.name === '@' ? '' : `${s.name}.`}${zone}.`,
        TTL: s.ttl,
        provisioningState: 'Succeeded',
        targetResource: {},
        ...records,
      },
    };
  };

  const answer = (req: RecordedRequest, res: http.ServerResponse) => {
    const t = /^\/([^/]+)\/oauth2\/v2\.0\/token$/.exec(req.path);
    if (t && req.method === 'POST') return tokenEndpoint(decodeURIComponent(t[1]), req, res);
    if (!access.bearer(req)) return ARM(res, 401, 'InvalidAuthenticationToken', 'The access token is invalid.');
    if (req.query.get('api-version') !== '2018-05-01')
      return ARM(
        res,
        400,
        'InvalidApiVersionParameter',
        `The api-version '${req.query.get('api-version')}' is invalid.`,
      );
    const base = `/subscriptions/${opts.subscription}/resourceGroups/${opts.group}/providers/Microsoft.Network/dnsZones`;
    if (!req.path.toLowerCase().startsWith(base.toLowerCase()))
      return ARM(res, 404, 'ResourceGroupNotFound', `Resource group '${opts.group}' could not be found.`);
    const rest = req.path.slice(base.length);
    if (rest === '' && req.method === 'GET')
      return json(res, {
        value: [...zones.keys()].map((name) => ({
          name,
          type: 'Microsoft.Network/dnszones',
          properties: { zoneType: 'Public' },
        })),
      });
    const m = /^\/([^/]+)\/(A|AAAA|TXT)\/([^/]+)$/.exec(rest);
    if (!m) return ARM(res, 404, 'NotFound', 'The requested resource was not found.');
    const [zone, type, name] = [m[1], m[2] as AzureSet['type'], decodeURIComponent(m[3]).toLowerCase()];
    const sets = zones.get(zone);
    if (!sets)
      return ARM(
        res,
        404,
        'ResourceNotFound',
        `The Resource 'Microsoft.Network/dnszones/${zone}' under resource group '${opts.group}' was not found.`,
      );
    if (opts.forbidden?.includes(zone))
      return ARM(
        res,
        403,
        'AuthorizationFailed',
        `The client does not have authorization to perform action 'Microsoft.Network/dnszones/${type}/write' over scope '${req.path}'.`,
      );
    const i = sets.findIndex((s) => s.name === name && s.type === type);
    const missing = () =>
      ARM(
        res,
        404,
        'NotFound',
        `The resource record '${name}' does not exist in resource group '${opts.group}' of subscription '${opts.subscription}'.`,
      );
    const match = req.headers['if-match'];
    const noneMatch = req.headers['if-none-match'];
    if ((match && (i < 0 || sets[i].etag !== match)) || (noneMatch === '*' && i >= 0))
      return ARM(
        res,
        412,
        'PreconditionFailed',
        'The condition specified using HTTP conditional header(s) is not met.',
      );
    switch (req.method) {
      case 'GET':
        return i < 0 ? missing() : json(res, view(zone, sets[i]));
      case 'PUT': {
        let body: {
          properties?: {
            TTL?: number;
            metadata?: Record<string, string>;
            ARecords?: Array<{ ipv4Address: string }>;
            AAAARecords?: Array<{ ipv6Address: string }>;
            TXTRecords?: Array<{ value: string[] }>;
          };
        };
        try {
          body = JSON.parse(req.body) as typeof body;
        } catch {
          return ARM(
            res,
            400,
            'InvalidRequestContent',
            'The request content was invalid and could not be deserialized.',
          );
        }
        const p = body.properties ?? {};
        const values =
          type === 'A'
            ? (p.ARecords ?? []).map((r) => r.ipv4Address)
            : type === 'AAAA'
              ? (p.AAAARecords ?? []).map((r) => r.ipv6Address)
              : (p.TXTRecords ?? []).map((r) => r.value.join(''));
        const family = type === 'A' ? 4 : type === 'AAAA' ? 6 : 0;
        if (typeof p.TTL !== 'number' || (family && values.some((v) => isIP(v) !== family)))
          return ARM(res, 400, 'BadRequest', `The ${type} record set is not valid.`);
        const set: AzureSet = { name, type, ttl: p.TTL, values, metadata: p.metadata ?? undefined, etag: etag() };
        if (i >= 0) sets[i] = set;
        else sets.push(set);
        return json(res, view(zone, set), i >= 0 ? 200 : 201);
      }
      case 'DELETE':
        if (i < 0) {
          res.writeHead(204);
          return res.end();
        }
        sets.splice(i, 1);
        return json(res, {});
      default:
        return ARM(res, 405, 'MethodNotAllowed', 'The requested method is not allowed.');
    }
  };

  return {
    ...(await startTokenServer(answer, access, (u) => (url = u))),
    find: (zone, name, type) => zones.get(zone)?.find((s) => s.name === name && s.type === type),
  };
}
