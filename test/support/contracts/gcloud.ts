/**
 * A local Google Cloud DNS API v1 and Google OAuth token endpoint, on 127.0.0.1, answering as
 * documented:
 * - `POST /token` (https://developers.google.com/identity/protocols/oauth2/service-account#httprest):
 *   a form `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=<JWT>`; the JWT must be
 *   RS256-signed by the service account's key, with `iss` its e-mail, `aud` this token URI, a
 *   Cloud DNS `scope` and `exp - iat` ≤ 3600; else 400 `{"error":"invalid_grant","error_description":"Invalid JWT Signature."}`
 *   (or its other descriptions). Answers `{access_token, expires_in: 3599, token_type: "Bearer"}`.
 * - `…/dns/v1/projects/{p}/managedZones` (https://cloud.google.com/dns/docs/reference/rest/v1/managedZones/list):
 *   `{managedZones: [{name, dnsName, visibility}], nextPageToken?}`;
 * - `GET|PATCH|DELETE …/managedZones/{z}/rrsets/{name}/{type}` and `POST …/rrsets`
 *   (https://cloud.google.com/dns/docs/reference/rest/v1/resourceRecordSets): the set
 *   `{kind, name, type, ttl, rrdatas}`; 404 `{"error":{"code":404,"message":"The 'parameters.name' resource named '…' does not exist.","errors":[{"domain":"global","reason":"notFound"}]}}`;
 *   POST of an existing set 409 alreadyExists; an rrdata that is not an address of its type 400 invalid;
 * - a missing or unknown Bearer token: 401 UNAUTHENTICATED; a zone outside the account's IAM
 *   (`forbidden`): 403 forbidden.
 *
 *   const g = await startGcloud({ clientEmail, publicKey, project: 'p', zones: { 'example.com': [] } });
 *   // endpoint: `${g.url}/dns/v1`, tokenEndpoint: `${g.url}/token`
 */
import type http from 'node:http';
import {
  createVerify,
  generateKeyPairSync,
  randomBytes,
  type KeyObject,
  type KeyPairKeyObjectResult,
} from 'node:crypto';
import { isIP } from 'node:net';
import { json, type RecordedRequest } from '../http-server';
import type { ContractFailure } from './duckdns';
import { accessTokens, startTokenServer } from './rest';

const keys = new Map<string, KeyPairKeyObjectResult>();

/**
 * A service account's JSON key as Google's console gives it (the shape of
 * https://cloud.google.com/iam/docs/keys-create-delete), with a real RSA key made here (one per
 * `keyName`, kept for the process: making one takes a while).
 */
export function serviceAccount(name: string, keyName = name) {
  const pair = keys.get(keyName) ?? generateKeyPairSync('rsa', { modulusLength: 2048 });
  keys.set(keyName, pair);
  const clientEmail = `${name}@conformance-project.iam.gserviceaccount.com`;
  const privateKey = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const json = JSON.stringify({
    type: 'service_account',
    project_id: 'conformance-project',
    private_key_id: `${keyName}0123456789abcdef0123456789abcdef`.slice(0, 40),
    private_key: privateKey,
    client_email: clientEmail,
    client_id: '100000000000000000001',
    auth_uri: 'https://accounts.google.com/o/oauth2/auth',
    token_uri: 'https://oauth2.googleapis.com/token',
  });
  return { json, clientEmail, publicKey: pair.publicKey, privateKey };
}

export interface GcloudSet {
  name: string;
  type: string;
  ttl: number;
  rrdatas: string[];
}

export interface GcloudContract {
  url: string;
  requests: RecordedRequest[];
  /** Access tokens given out. */
  tokens: string[];
  find(name: string, type: string): GcloudSet | undefined;
  /** Forget every access token given (as if they had expired). */
  expireTokens(): void;
  failNext(f: ContractFailure, times?: number): void;
  close(): Promise<void>;
}

export async function startGcloud(opts: {
  clientEmail: string;
  publicKey: KeyObject | string;
  project: string;
  /** Domain → its sets (names without the final dot). */
  zones: Record<string, Array<Omit<GcloudSet, 'ttl'> & { ttl?: number }>>;
  privateZones?: string[];
  forbidden?: string[];
}): Promise<GcloudContract> {
  const zones = new Map<string, { name: string; dnsName: string; visibility: string; sets: GcloudSet[] }>();
  const add = (domain: string, visibility: string, sets: GcloudSet[]) => {
    const name = `${domain.replace(/\./g, '-')}${visibility === 'private' ? '-private' : ''}`;
    zones.set(name, { name, dnsName: `${domain}.`, visibility, sets });
  };
  for (const [d, sets] of Object.entries(opts.zones))
    add(
      d,
      'public',
      sets.map((s) => ({ ttl: 300, ...s })),
    );
  for (const d of opts.privateZones ?? []) add(d, 'private', []);
  const access = accessTokens();
  let url = '';

  const apiError = (res: http.ServerResponse, code: number, message: string, reason: string, status?: string) =>
    json(res, { error: { code, message, errors: [{ domain: 'global', reason, message }], status } }, code);
  const grantError = (res: http.ServerResponse, description: string) =>
    json(res, { error: 'invalid_grant', error_description: description }, 400);

  const tokenEndpoint = (req: RecordedRequest, res: http.ServerResponse) => {
    const form = new URLSearchParams(req.body);
    if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer')
      return json(res, { error: 'unsupported_grant_type', error_description: 'Invalid grant_type: ' }, 400);
    const [h, p, sig] = (form.get('assertion') ?? '').split('.');
    if (!h || !p || !sig) return grantError(res, 'Invalid JWT: Token must be a short-lived token');
    let header: { alg?: string };
    let claims: { iss?: string; aud?: string; scope?: string; iat?: number; exp?: number };
    try {
      header = JSON.parse(Buffer.from(h, 'base64url').toString()) as typeof header;
      claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as typeof claims;
    } catch {
      return grantError(res, 'Invalid JWT: could not parse');
    }
    if (claims.iss !== opts.clientEmail) return grantError(res, 'Invalid grant: account not found');
    const ok =
      header.alg === 'RS256' &&
      createVerify('RSA-SHA256').update(`${h}.${p}`).verify(opts.publicKey, Buffer.from(sig, 'base64url'));
    if (!ok) return grantError(res, 'Invalid JWT Signature.');
    const now = Date.now() / 1000;
    if (
      claims.aud !== `${url}/token` ||
      typeof claims.iat !== 'number' ||
      typeof claims.exp !== 'number' ||
      claims.exp - claims.iat > 3600 ||
      Math.abs(claims.iat - now) > 300
    )
      return grantError(
        res,
        'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.',
      );
    if (
      !/(^| )https:\/\/www\.googleapis\.com\/auth\/(ndev\.clouddns\.readwrite|cloud-platform)( |$)/.test(
        claims.scope ?? '',
      )
    )
      return json(
        res,
        { error: 'invalid_scope', error_description: 'Invalid OAuth scope or ID token audience provided.' },
        400,
      );
    const token = access.issue(`ya29.c0ntract-${randomBytes(24).toString('hex')}`);
    return json(res, { access_token: token, expires_in: 3599, token_type: 'Bearer' });
  };

  const answer = (req: RecordedRequest, res: http.ServerResponse) => {
    if (req.path === '/token' && req.method === 'POST') return tokenEndpoint(req, res);
    if (!access.bearer(req))
      return apiError(
        res,
        401,
        'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.',
        'authError',
        'UNAUTHENTICATED',
      );
    const m = /^\/dns\/v1\/projects\/([^/]+)\/managedZones(?:\/([^/]+)\/rrsets(?:\/([^/]+)\/([^/]+))?)?$/.exec(
      req.path,
    );
    if (!m) return apiError(res, 404, 'Not Found', 'notFound');
    if (m[1] !== opts.project) return apiError(res, 403, 'Forbidden', 'forbidden');
    if (!m[2]) {
      if (req.method !== 'GET') return apiError(res, 405, 'Method not allowed', 'badRequest');
      const list = [...zones.values()].map(({ name, dnsName, visibility }) => ({
        kind: 'dns#managedZone',
        name,
        dnsName,
        visibility,
      }));
      const start = Number(req.query.get('pageToken') ?? 0);
      const max = Number(req.query.get('maxResults') ?? 1000);
      const next = start + max < list.length ? String(start + max) : undefined;
      return json(res, { managedZones: list.slice(start, start + max), ...(next ? { nextPageToken: next } : {}) });
    }
    const zone = zones.get(m[2]);
    if (!zone)
      return apiError(res, 404, `The 'parameters.managedZone' resource named '${m[2]}' does not exist.`, 'notFound');
    if (opts.forbidden?.includes(zone.dnsName.slice(0, -1))) return apiError(res, 403, 'Forbidden', 'forbidden');
    const dataOk = (type: string, rrdatas: unknown) => {
      const family = type === 'A' ? 4 : type === 'AAAA' ? 6 : 0;
      return (
        Array.isArray(rrdatas) &&
        rrdatas.length > 0 &&
        rrdatas.every((v) => typeof v === 'string' && (!family || isIP(v) === family))
      );
    };
    const parse = () => {
      try {
        return JSON.parse(req.body) as Partial<GcloudSet>;
      } catch {
        return undefined;
      }
    };
    if (!m[3]) {
      if (req.method !== 'POST') return apiError(res, 405, 'Method not allowed', 'badRequest');
      const body = parse();
      if (!body?.name || !body.type || !dataOk(body.type, body.rrdatas))
        return apiError(res, 400, 'Invalid value for rrdatas', 'invalid');
      const name = body.name.toLowerCase();
      if (name !== zone.dnsName && !name.endsWith(`.${zone.dnsName}`))
        return apiError(res, 400, `Invalid value for 'entity.rrset.name': '${body.name}'`, 'invalid');
      const n = name.slice(0, -1);
      if (zone.sets.some((s) => s.name === n && s.type === body.type))
        return apiError(
          res,
          409,
          `The resource 'entity.rrset' named '${body.name} (${body.type})' already exists`,
          'alreadyExists',
        );
      const set = { name: n, type: body.type, ttl: body.ttl ?? 300, rrdatas: body.rrdatas! };
      zone.sets.push(set);
      return json(res, { kind: 'dns#resourceRecordSet', ...set, name: `${n}.` });
    }
    const name = decodeURIComponent(m[3]).toLowerCase().replace(/\.$/, '');
    const type = m[4];
    const i = zone.sets.findIndex((s) => s.name === name && s.type === type);
    const missing = () =>
      apiError(res, 404, `The 'parameters.name' resource named '${name}. (${type})' does not exist.`, 'notFound');
    switch (req.method) {
      case 'GET':
        if (i < 0) return missing();
        return json(res, { kind: 'dns#resourceRecordSet', ...zone.sets[i], name: `${name}.` });
      case 'PATCH': {
        if (i < 0) return missing();
        const body = parse();
        if (!body || (body.rrdatas !== undefined && !dataOk(type, body.rrdatas)))
          return apiError(res, 400, 'Invalid value for rrdatas', 'invalid');
        zone.sets[i] = {
          ...zone.sets[i],
          ttl: body.ttl ?? zone.sets[i].ttl,
          rrdatas: body.rrdatas ?? zone.sets[i].rrdatas,
        };
        return json(res, { kind: 'dns#resourceRecordSet', ...zone.sets[i], name: `${name}.` });
      }
      case 'DELETE':
        if (i < 0) return missing();
        zone.sets.splice(i, 1);
        return json(res, {});
      default:
        return apiError(res, 405, 'Method not allowed', 'badRequest');
    }
  };

  return {
    ...(await startTokenServer(answer, access, (u) => (url = u))),
    find: (name, type) => {
      for (const z of zones.values()) {
        const s = z.sets.find((x) => x.name === name && x.type === type);
        if (s) return s;
      }
      return undefined;
    },
  };
}
