/**
 * A local Namesilo API v1, on 127.0.0.1, answering as documented at
 * https://www.namesilo.com/api-reference (and as ddns-updater's and lego's clients read it):
 * - `GET /api/<operation>?version=1&type=xml&key=<key>&…`, answers HTTP 200
 *   `<namesilo><request><operation/><ip/></request><reply><code/><detail/>…</reply></namesilo>`;
 * - codes: 300 success, 110 "Invalid API Key", 200 "Domain is not active, or does not belong to
 *   this user", 280 "DNS modification error" (a bad value or TTL under 3600);
 * - `listDomains` → `<domains><domain>…</domain></domains>`; `dnsListRecords` (domain) →
 *   `<resource_record><record_id/><type/><host/>` (the full name) `<value/><ttl/><distance/>`;
 *   `dnsAddRecord` (rrtype, rrhost relative, rrvalue, rrttl default 7207) and `dnsUpdateRecord`
 *   (rrid, rrhost, rrvalue, rrttl default 7207: the TTL falls back when left out) answer the
 *   `record_id` (a new one after an update); `dnsDeleteRecord` (rrid).
 *
 *   const n = await startNamesilo({ key, domains: { 'example.com': [] } });
 *   // endpoint: `${n.url}/api`; then n.requests, n.find('home.example.com', 'A')
 */
import { randomBytes } from 'node:crypto';
import type http from 'node:http';
import { text, type RecordedRequest } from '../http-server';
import { startFaultyServer } from './rest';
import { badAddress, recordStore, type RecordsContract } from './rest-records';

export interface NamesiloRecord {
  record_id: string;
  type: string;
  /** Relative to the domain (`""` for the apex); Namesilo shows the full name as `host`. */
  name: string;
  value: string;
  ttl: string;
}

export async function startNamesilo(opts: {
  key: string;
  domains: Record<string, Array<Partial<NamesiloRecord> & { type: string; name: string; value: string }>>;
}): Promise<RecordsContract<NamesiloRecord>> {
  const newId = () => randomBytes(16).toString('hex');
  const fill = (r: Partial<NamesiloRecord> & { type: string; name: string; value: string }): NamesiloRecord => ({
    record_id: newId(),
    ttl: '7207',
    ...r,
  });
  const store = recordStore(opts.domains, fill);
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const xml = (res: http.ServerResponse, op: string, code: string, detail: string, more = '') =>
    text(
      res,
      `<?xml version="1.0"?><namesilo><request><operation>${op}</operation><ip>127.0.0.1</ip></request>` +
        `<reply><code>${code}</code><detail>${esc(detail)}</detail>${more}</reply></namesilo>`,
      200,
      { 'content-type': 'text/xml' },
    );

  const answer = (req: RecordedRequest, res: http.ServerResponse) => {
    const op = /^\/api\/(\w+)$/.exec(req.path)?.[1] ?? '';
    const q = req.query;
    if (q.get('key') !== opts.key) return xml(res, op, '110', 'Invalid API Key');
    if (op === 'listDomains')
      return xml(
        res,
        op,
        '300',
        'success',
        `<domains>${[...store.records.keys()].map((d) => `<domain>${d}</domain>`).join('')}</domains>`,
      );
    const domain = q.get('domain') ?? '';
    const list = store.records.get(domain);
    if (!list) return xml(res, op, '200', 'Domain is not active, or does not belong to this user');
    const rec = q.has('rrid') ? list.find((r) => r.record_id === q.get('rrid')) : undefined;
    if (q.has('rrid') && !rec) return xml(res, op, '280', 'DNS modification error: invalid rrid');
    const ttl = q.get('rrttl') ?? '7207';
    const bad = (type: string, value: string) => badAddress(type, value) || !(Number(ttl) >= 3600);
    switch (op) {
      case 'dnsListRecords':
        return xml(
          res,
          op,
          '300',
          'success',
          list
            .map(
              (r) =>
                `<resource_record><record_id>${r.record_id}</record_id><type>${r.type}</type><host>${r.name ? `${r.name}.` : ''}${domain}</host>` +
                `<value>${esc(r.value)}</value><ttl>${r.ttl}</ttl><distance>0</distance></resource_record>`,
            )
            .join(''),
        );
      case 'dnsAddRecord': {
        const [type, name, value] = [q.get('rrtype') ?? '', q.get('rrhost') ?? '', q.get('rrvalue') ?? ''];
        if (!type || bad(type, value)) return xml(res, op, '280', 'DNS modification error');
        const created = fill({ type, name, value, ttl });
        list.push(created);
        return xml(res, op, '300', 'success', `<record_id>${created.record_id}</record_id>`);
      }
      case 'dnsUpdateRecord': {
        const value = q.get('rrvalue') ?? '';
        if (!rec || bad(rec.type, value)) return xml(res, op, '280', 'DNS modification error');
        Object.assign(rec, { record_id: newId(), name: q.get('rrhost') ?? '', value, ttl });
        return xml(res, op, '300', 'success', `<record_id>${rec.record_id}</record_id>`);
      }
      case 'dnsDeleteRecord': {
        if (!rec) return xml(res, op, '280', 'DNS modification error');
        list.splice(list.indexOf(rec), 1);
        return xml(res, op, '300', 'success');
      }
      default:
        return xml(res, op, '101', 'Invalid operation');
    }
  };
  return { ...store, ...(await startFaultyServer(answer)) };
}
