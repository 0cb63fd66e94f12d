/**
 * A local acme-dns HTTP API (https://github.com/joohoi/acme-dns, README "API"; the answers of
 * pkg/api/register.go, auth.go, update.go and util.go), on 127.0.0.1:
 * - `POST /register` (optional JSON `{"allowfrom": [...]}`; malformed JSON: 400
 *   `malformed_json_payload`) → 201 `{username, password, fulldomain, subdomain, allowfrom}`; the
 *   username and subdomain are UUIDs, the password 40 characters, fulldomain `<subdomain>.<domain>`;
 * - `POST /update` with `X-Api-User` (a UUID), `X-Api-Key` (40 characters) and JSON
 *   `{subdomain, txt}`: a wrong user or key, a subdomain that is not the user's, or a source
 *   address outside the user's allowfrom → 401 `{"error": "forbidden"}`; a txt that is not 43
 *   characters → 400 `{"error": "bad_txt"}`; else 200 `{"txt": …}`. The two most recent values of
 *   a subdomain are kept ("Rolling update of two TXT records").
 *
 * The real acme-dns is also the DNS server of its zone. Here that part is played by a real BIND:
 * with `publish`, every update replaces the TXT RRset of the fulldomain in BIND with the two values
 * kept, by RFC 2136 through BIND's own `nsupdate` (not this package's code), so that Pebble and
 * cert-renew read the records from DNS as they would from acme-dns.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type http from 'node:http';
import { json, type RecordedRequest } from '../http-server';
import { bindUpdate, type BindServer } from '../bind';
import { startFaultyServer, type FaultyServer } from './rest';

export interface AcmednsUser {
  username: string;
  password: string;
  subdomain: string;
  fulldomain: string;
  allowfrom: string[];
}

export interface AcmednsContract extends FaultyServer<import('./duckdns').ContractFailure> {
  /** Register as a client would (the same answer as POST /register). */
  register(): AcmednsUser;
  /** The values a fulldomain holds now (at most two, newest last). */
  txt(fulldomain: string): string[];
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function startAcmedns(opts: { domain: string; publish?: BindServer }): Promise<AcmednsContract> {
  const users = new Map<string, AcmednsUser>();
  const values = new Map<string, string[]>(); // subdomain → its values, newest last
  const register = (allowfrom: string[] = []): AcmednsUser => {
    const subdomain = randomUUID();
    const u: AcmednsUser = {
      username: randomUUID(),
      password: randomBytes(30).toString('base64url').slice(0, 40),
      subdomain,
      fulldomain: `${subdomain}.${opts.domain}`,
      allowfrom,
    };
    users.set(u.username, u);
    return u;
  };
  const err = (res: http.ServerResponse, status: number, error: string) => json(res, { error }, status);

  const answer = (req: RecordedRequest, res: http.ServerResponse) => {
    if (req.method === 'POST' && req.path === '/register') {
      let allowfrom: string[] = [];
      if (req.body.trim()) {
        try {
          allowfrom = (JSON.parse(req.body) as { allowfrom?: string[] }).allowfrom ?? [];
        } catch {
          return err(res, 400, 'malformed_json_payload');
        }
      }
      return json(res, register(allowfrom), 201);
    }
    if (req.method === 'POST' && req.path === '/update') {
      const user = users.get(String(req.headers['x-api-user'] ?? ''));
      const key = String(req.headers['x-api-key'] ?? '');
      let body: { subdomain?: unknown; txt?: unknown } = {};
      try {
        body = JSON.parse(req.body) as typeof body;
      } catch {
        /* acme-dns logs json_error and goes on with empty data: the subdomain then does not match */
      }
      const allowed = !user?.allowfrom.length || user.allowfrom.some((c) => c.startsWith(`${req.remoteAddress}/`));
      if (!user || !UUID.test(user.username) || key.length !== 40 || key !== user.password || !allowed)
        return err(res, 401, 'forbidden');
      if (body.subdomain !== user.subdomain) return err(res, 401, 'forbidden');
      if (typeof body.txt !== 'string' || body.txt.length !== 43) return err(res, 400, 'bad_txt');
      const kept = [...(values.get(user.subdomain) ?? []), body.txt].slice(-2);
      values.set(user.subdomain, kept);
      if (opts.publish)
        bindUpdate(opts.publish, [
          `update delete ${user.fulldomain}. TXT`,
          ...kept.map((v) => `update add ${user.fulldomain}. 60 TXT "${v}"`),
        ]);
      return json(res, { txt: body.txt });
    }
    return err(res, 404, 'not_found');
  };

  const srv = await startFaultyServer(answer);
  return {
    ...srv,
    register: () => register(),
    txt: (fulldomain) => values.get(fulldomain.toLowerCase().replace(/\.$/, '').split('.')[0]) ?? [],
  };
}
