/**
 * A local netcup CCP API (JSON), on 127.0.0.1, answering as documented at
 * https://www.netcup-wiki.de/wiki/DNS_API and
 * https://ccp.netcup.net/run/webservice/servers/endpoint.php (actions login, logout,
 * infoDnsRecords, updateDnsRecords), with the answers lego's netcup provider reads (its fixtures):
 * - POST `/run/webservice/servers/endpoint.php?JSON` `{action, param}`; every answer HTTP 200
 *   `{serverrequestid, clientrequestid, action, status, statuscode, shortmessage, longmessage, responsedata}`;
 * - `login` `{customernumber, apikey, apipassword}` → `{apisessionid}`; wrong ones: status error,
 *   4013 "Validation Error." "The given apikey/apipassword combination is invalid.";
 * - other actions need a live `apisessionid` of that customer and key (else 4001 "The session id
 *   is not in a valid format" / "Your session has expired");
 * - `infoDnsRecords` `{domainname}` → `{dnsrecords: [{id, hostname, type, priority, destination,
 *   deleterecord, state}]}`; a domain not in the account: 5029 "Can not get DNS records for zone.
 *   Domain not found.";
 * - `updateDnsRecords` `{domainname, dnsrecordset: {dnsrecords}}`: a record with an id is changed
 *   (or deleted with `deleterecord: true`), one without is created → the records; an A/AAAA
 *   destination that is not an address: 4013 "Validation Error.";
 * - `logout` ends the session. `sessions()` counts the open ones.
 */
import type http from 'node:http';
import { randomUUID } from 'node:crypto';
import { isIP } from 'node:net';
import { json, type RecordedRequest } from '../http-server';
import type { ContractFailure } from './duckdns';
import { startFaultyServer, type FaultyServer } from './rest';

export interface NetcupRecord {
  id: string;
  hostname: string;
  type: string;
  priority: string;
  destination: string;
  deleterecord: boolean;
  state: string;
}

export interface NetcupContract extends FaultyServer<ContractFailure> {
  find(domain: string, hostname: string, type: string): NetcupRecord[];
  /** Sessions logged in and not logged out. */
  sessions(): number;
}

export async function startNetcup(opts: {
  customerNumber: string;
  apiKey: string;
  apiPassword: string;
  domains: Record<string, Array<Pick<NetcupRecord, 'hostname' | 'type' | 'destination'>>>;
}): Promise<NetcupContract> {
  let nextId = 100;
  const domains = new Map<string, NetcupRecord[]>();
  for (const [d, list] of Object.entries(opts.domains))
    domains.set(
      d,
      list.map((r) => ({ id: String(nextId++), priority: '0', deleterecord: false, state: 'yes', ...r })),
    );
  const live = new Set<string>();
  const reply = (
    res: http.ServerResponse,
    action: string,
    ok: boolean,
    statuscode: number,
    short: string,
    long: string,
    responsedata: unknown = '',
  ) =>
    json(res, {
      serverrequestid: randomUUID(),
      clientrequestid: '',
      action,
      status: ok ? 'success' : 'error',
      statuscode,
      shortmessage: short,
      longmessage: long,
      responsedata,
    });

  const invalid = (res: http.ServerResponse, action: string, long: string) =>
    reply(res, action, false, 4013, 'Validation Error.', long);

  const answer = (req: RecordedRequest, res: http.ServerResponse) => {
    let body: { action?: string; param?: Record<string, unknown> };
    try {
      body = JSON.parse(req.body) as typeof body;
    } catch {
      return invalid(res, '', 'Message is empty.');
    }
    const action = body.action ?? '';
    const p = body.param ?? {};
    if (req.path !== '/run/webservice/servers/endpoint.php' || !req.query.has('JSON'))
      return invalid(res, action, 'Unknown format.');
    if (action === 'login') {
      if (p.customernumber !== opts.customerNumber || p.apikey !== opts.apiKey || p.apipassword !== opts.apiPassword)
        return invalid(res, action, 'The given apikey/apipassword combination is invalid.');
      const id = randomUUID().replace(/-/g, '');
      live.add(id);
      return reply(res, action, true, 2000, 'Login successful', 'Session has been created successful.', {
        apisessionid: id,
      });
    }
    if (p.customernumber !== opts.customerNumber || p.apikey !== opts.apiKey || !live.has(String(p.apisessionid)))
      return reply(
        res,
        action,
        false,
        4001,
        'Api session id in invalid format',
        'The session id is not in a valid format.',
      );
    if (action === 'logout') {
      live.delete(String(p.apisessionid));
      return reply(res, action, true, 2000, 'Logout successful', 'Session has been terminated successful.');
    }
    const list = domains.get(String(p.domainname));
    if (!list) return reply(res, action, false, 5029, 'Can not get DNS records for zone.', 'Domain not found.');
    if (action === 'infoDnsRecords')
      return reply(res, action, true, 2000, 'DNS records found', `DNS Records for this zone were found.`, {
        dnsrecords: list,
      });
    if (action === 'updateDnsRecords') {
      const sent = (p.dnsrecordset as { dnsrecords?: Array<Partial<NetcupRecord>> } | undefined)?.dnsrecords ?? [];
      for (const r of sent) {
        const family = r.type === 'A' ? 4 : r.type === 'AAAA' ? 6 : 0;
        if (typeof r.destination !== 'string' || (family && isIP(r.destination) !== family))
          return invalid(res, action, 'Value in field destination does not match requirements of type.');
      }
      for (const r of sent) {
        const i = r.id ? list.findIndex((x) => x.id === r.id) : -1;
        if (r.id && i < 0) return reply(res, action, false, 5030, 'Record not found.', 'The record does not exist.');
        if (i >= 0 && r.deleterecord) list.splice(i, 1);
        else if (i >= 0) list[i] = { ...list[i], ...r, id: list[i].id };
        else
          list.push({
            id: String(nextId++),
            hostname: r.hostname ?? '@',
            type: r.type ?? 'A',
            priority: r.priority ?? '0',
            destination: r.destination!,
            deleterecord: false,
            state: 'yes',
          });
      }
      return reply(
        res,
        action,
        true,
        2000,
        'DNS records successful updated',
        'The given DNS records for this zone were updated.',
        {
          dnsrecords: list,
        },
      );
    }
    return invalid(res, action, 'Unknown action.');
  };
  return Object.assign(await startFaultyServer(answer), {
    find: (d: string, hostname: string, type: string) =>
      (domains.get(d) ?? []).filter((r) => r.hostname === hostname && r.type === type),
    sessions: () => live.size,
  });
}
