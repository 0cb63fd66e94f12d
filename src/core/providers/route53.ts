/**
 * AWS Route 53, REST API 2013-04-01 (https://docs.aws.amazon.com/Route53/latest/APIReference/;
 * actions: API_ChangeResourceRecordSets.html, API_ListResourceRecordSets.html,
 * API_ListHostedZonesByName.html; errors: requests-rest-responses.html; limits:
 * https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/DNSLimitations.html).
 *
 * - Every request is signed with AWS Signature Version 4 (./signing.ts, node:crypto, no SDK) for
 *   region us-east-1, service `route53`, with an IAM access key id and its secret access key (the
 *   secret, in `password`). Least privilege: `route53:ListResourceRecordSets` and
 *   `route53:ChangeResourceRecordSets` on the hosted zone's ARN, plus `route53:ListHostedZonesByName`
 *   when the hosted zone id is not set.
 * - The hosted zone of a name: the zone id setting, else `GET /hostedzonesbyname` (every page,
 *   read once; the longest zone name that ends the name, a public zone before a private one).
 * - Read first: `GET /hostedzone/{id}/rrset?name=<fqdn>&type=A&maxitems=1` lists record sets from
 *   that name and type on: the first is ours only when its Name and Type are. Records with a routing
 *   policy (SetIdentifier) or alias targets are left alone (a fatal answer for that name).
 * - Write: one `POST /hostedzone/{id}/rrset` XML ChangeBatch per name, A and AAAA together, UPSERT
 *   with the record set's own TTL (a new set gets the account's TTL). Route 53 applies a batch
 *   whole or not at all; the change is PENDING, then INSYNC on every Route 53 server, usually
 *   within 60 seconds.
 * - Errors are XML `<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/>`: 403 for
 *   credentials (InvalidClientTokenId, SignatureDoesNotMatch …) and IAM refusals (AccessDenied),
 *   404 NoSuchHostedZone, 400 InvalidChangeBatch/InvalidInput, 400 Throttling (5 requests per
 *   second per account) and PriorRequestNotComplete (the zone is still applying a change).
 * - TXT (ACME DNS-01): values are quoted character strings; set adds its own value to the record
 *   set (UPSERT), delete removes only its own (DELETE of the whole set, with its exact values and
 *   TTL, when it was the last).
 */
import { z } from 'zod';
import type { Family } from '../address';
import { DdnsError, fatal, say } from '../errors';
import { Redactor } from '../redact';
import {
  answerError,
  type AnswerRow,
  type AnswerTable,
  checkSettings,
  DomainList,
  editTxtValues,
  failed,
  hasAlready,
  hasAnswer,
  httpFault,
  messageOf,
  notOwnedError,
  notProtocolFault,
  providerRequest,
  quoteTxt,
  recordType,
  sameAddress,
  tokenSetting,
  transportError,
  ttlSetting,
  unquoteTxt,
  writtenSaid,
  apiEndpoint,
} from './kit';
import { signV4 } from './signing';
import { TxtByEdit, addressField, ttlField } from './rrset';
import type { DnsProvider, ProviderCall, ProviderDefinition, ProviderEnv, RecordResult } from './types';
import { phrase } from '../said';

export const ROUTE53_ENDPOINT = 'https://route53.amazonaws.com';
const NS = 'https://route53.amazonaws.com/doc/2013-04-01/';

export const route53Settings = z.object({
  accessKeyId: z
    .string({ error: phrase('route53.enter_aws_access_key', 'Enter the AWS access key id.') })
    .trim()
    .regex(
      /^[A-Z0-9]{16,128}$/,
      phrase('route53.access_key_id_letters', 'The access key id is letters and digits, such as AKIAIOSFODNN7EXAMPLE.'),
    ),
  password: tokenSetting(phrase('route53.enter_aws_secret_access', 'Enter the AWS secret access key.')),
  zoneId: z.preprocess(
    (v) => (typeof v === 'string' ? v.trim().replace(/^\/?hostedzone\//, '') || undefined : (v ?? undefined)),
    z
      .string()
      .regex(
        /^[A-Z0-9]{1,32}$/,
        phrase('route53.hosted_zone_id_letters', 'The hosted zone id is letters and digits, such as Z1D633PJN98FT9.'),
      )
      .optional(),
  ),
  ttl: ttlSetting('Route 53', 1, 604_800, 300),
  endpoint: apiEndpoint(),
});
export type Route53Settings = z.infer<typeof route53Settings>;

// ---------------------------------------------------------------------------------------------
// XML: the answers are small documents of known shape; a reader of elements is enough.

const unescapeXml = (s: string) =>
  s.replace(/&(lt|gt|quot|apos|amp|#\d+|#x[0-9a-f]+);/gi, (_m, e: string) => {
    const named: Record<string, string> = { lt: '<', gt: '>', quot: '"', apos: "'", amp: '&' };
    if (named[e.toLowerCase()]) return named[e.toLowerCase()];
    return String.fromCodePoint(e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
  });
const escapeXml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);

/** The inner XML of every `<tag>` element (elements of that name are not nested in these answers). */
const elements = (xml: string, tag: string): string[] =>
  [...xml.matchAll(new RegExp(`<${tag}(?:\\s[^>]*)?>([\\s\\S]*?)</${tag}>`, 'g'))].map((m) => m[1]);
/** The text of the first `<tag>` element, unescaped. */
const element = (xml: string, tag: string): string | undefined => {
  const e = elements(xml, tag)[0];
  return e === undefined ? undefined : unescapeXml(e.trim());
};

/** A Route 53 name (`example.com.`, `\052` for `*`) as a host name. */
const hostOf = (name: string) =>
  name
    .replace(/\\(\d{3})/g, (_m, d: string) => String.fromCharCode(parseInt(d, 8)))
    .toLowerCase()
    .replace(/\.$/, '');

interface RecordSet {
  name: string;
  type: string;
  ttl?: number;
  values: string[];
  /** A record with a routing policy or an alias: not ours to change. */
  special: boolean;
}

function readRecordSets(xml: string): RecordSet[] {
  return elements(xml, 'ResourceRecordSet').map((s) => ({
    name: hostOf(element(s, 'Name') ?? ''),
    type: element(s, 'Type') ?? '',
    ttl: element(s, 'TTL') === undefined ? undefined : Number(element(s, 'TTL')),
    values: elements(s, 'Value').map((v) => unescapeXml(v.trim())),
    special: /<(SetIdentifier|AliasTarget)>/.test(s),
  }));
}

function changeXml(
  host: string,
  changes: Array<{ action: 'UPSERT' | 'DELETE'; set: Omit<RecordSet, 'name' | 'special'> }>,
): string {
  const change = ({ action, set }: (typeof changes)[number]) =>
    `<Change><Action>${action}</Action><ResourceRecordSet><Name>${escapeXml(host)}.</Name><Type>${set.type}</Type>` +
    `<TTL>${set.ttl}</TTL><ResourceRecords>${set.values
      .map((v) => `<ResourceRecord><Value>${escapeXml(v)}</Value></ResourceRecord>`)
      .join('')}</ResourceRecords></ResourceRecordSet></Change>`;
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<ChangeResourceRecordSetsRequest xmlns="${NS}"><ChangeBatch>` +
    `<Comment>node-red-contrib-ddns</Comment><Changes>${changes.map(change).join('')}</Changes></ChangeBatch>` +
    `</ChangeResourceRecordSetsRequest>`
  );
}

// ---------------------------------------------------------------------------------------------
// Answers

interface Ctx {
  subject: string;
  said: string;
}

const KEY_HINT = say(
  'route53.hint',
  'check the access key id and secret access key (IAM › Users › Security credentials) and that this machine’s clock is right',
);

/** A request signature Route 53 refused (two codes, one meaning). */
const BAD_SIGNATURE: AnswerRow<Ctx> = {
  kind: 'fatal',
  scope: 'account',
  code: 'route53_auth',
  message: (c) =>
    say('route53.signature', 'Route 53 refused the request signature (__said__): __hint__', {
      said: c.said,
      hint: KEY_HINT,
    }),
};

const ANSWERS: AnswerTable<Ctx> = {
  InvalidClientTokenId: {
    kind: 'fatal',
    scope: 'account',
    code: 'route53_auth',
    message: (c) =>
      say('route53.unknown_key', 'Route 53 does not know this access key (__said__): __hint__', {
        said: c.said,
        hint: KEY_HINT,
      }),
  },
  SignatureDoesNotMatch: BAD_SIGNATURE,
  IncompleteSignature: BAD_SIGNATURE,
  MissingAuthenticationToken: {
    kind: 'fatal',
    scope: 'account',
    code: 'route53_auth',
    message: (c) =>
      say('route53.no_credentials', 'Route 53 found no credentials in the request (__said__): __hint__', {
        said: c.said,
        hint: KEY_HINT,
      }),
  },
  AccessDenied: {
    kind: 'fatal',
    scope: (c) => (c.subject === 'the hosted zone list' ? 'account' : 'host'),
    code: 'route53_forbidden',
    message: (c) =>
      say(
        'route53.access_denied',
        'Route 53 does not let this IAM user change __subject__ (__said__): allow route53:ListResourceRecordSets and route53:ChangeResourceRecordSets on the hosted zone (and route53:ListHostedZonesByName, or set the hosted zone id)',
        { subject: c.subject, said: c.said },
      ),
  },
  NoSuchHostedZone: {
    kind: 'fatal',
    scope: 'host',
    code: 'route53_no_zone',
    message: (c) =>
      say('route53.no_zone', 'Route 53 has no such hosted zone for __subject__ (__said__): check the hosted zone id', {
        subject: c.subject,
        said: c.said,
      }),
  },
  InvalidChangeBatch: {
    kind: 'fatal',
    scope: 'host',
    code: 'route53_refused',
    message: (c) =>
      say('route53.refused_change', 'Route 53 refused the change of __subject__ (__said__)', {
        subject: c.subject,
        said: c.said,
      }),
  },
  InvalidInput: {
    kind: 'fatal',
    scope: 'host',
    code: 'route53_refused',
    message: (c) =>
      say('route53.refused', 'Route 53 refused the request for __subject__ (__said__)', {
        subject: c.subject,
        said: c.said,
      }),
  },
  Throttling: {
    kind: 'transient',
    scope: 'account',
    code: 'route53_throttled',
    waitMs: () => 10_000,
    message: (c) =>
      say('route53.throttling', "Route 53's request rate limit was reached (__said__): waiting", { said: c.said }),
  },
  PriorRequestNotComplete: {
    kind: 'transient',
    scope: 'host',
    code: 'route53_busy',
    waitMs: () => 10_000,
    message: (c) =>
      say(
        'route53.prior_request',
        "Route 53 is still applying an earlier change of __subject__'s zone (__said__): trying again",
        {
          subject: c.subject,
          said: c.said,
        },
      ),
  },
};

// ---------------------------------------------------------------------------------------------

class Route53Provider extends TxtByEdit implements DnsProvider {
  readonly id = 'route53';
  readonly maxHostsPerCall = 10;
  private readonly base: string;
  private readonly redactor: Redactor;
  private readonly zones: DomainList;
  /** Zone name → hosted zone id, from the last zone list. */
  private zoneIds = new Map<string, string>();

  constructor(
    private readonly s: Route53Settings,
    private readonly env: ProviderEnv,
  ) {
    super();
    this.base = (s.endpoint ?? ROUTE53_ENDPOINT).replace(/\/+$/, '');
    this.redactor = new Redactor([s.password]);
    this.zones = new DomainList({
      account: say('route53.any_zone', 'any hosted zone of this AWS account'),
      notOwned: (host, where) =>
        notOwnedError(
          this.redactor,
          'route53_not_owned',
          host,
          where,
          say('route53.check_zone', 'check the name, or set the hosted zone id'),
        ),
      read: (signal) => this.readZones(signal),
    });
  }

  async setAddresses(call: ProviderCall): Promise<RecordResult[]> {
    const results: RecordResult[] = [];
    const families = (['ipv4', 'ipv6'] as const).filter((f) => call.addresses[f] !== undefined);
    for (const hostname of call.hostnames) {
      try {
        results.push(...(await this.setHost(hostname, families, call)));
      } catch (e) {
        if (!(e instanceof DdnsError) || e.kind !== 'fatal' || e.scope !== 'host') throw e;
        for (const f of families) results.push(failed(hostname, f, e));
      }
    }
    return results;
  }

  /** One name: both families read, then one batch with the changes needed (none when all are there). */
  private async setHost(hostname: string, families: Family[], call: ProviderCall): Promise<RecordResult[]> {
    const results: RecordResult[] = [];
    const changes: Parameters<typeof changeXml>[1] = [];
    let zone = '';
    for (const family of families) {
      const address = call.addresses[family]!;
      const type = recordType(family);
      const r = await this.read(hostname, type, call.signal);
      zone = r.zone;
      if (r.set?.values.length === 1 && sameAddress(r.set.values[0], address)) {
        results.push({
          hostname,
          family,
          outcome: 'unchanged',
          ...messageOf(hasAlready({ provider: 'Route 53', type, address, host: hostname })),
        });
        continue;
      }
      changes.push({ action: 'UPSERT', set: { type, ttl: r.set?.ttl ?? this.s.ttl, values: [address] } });
      results.push({
        hostname,
        family,
        outcome: 'updated',
        ...messageOf(
          writtenSaid(r.set ? 'updated' : 'created', { provider: 'Route 53', type, address, host: hostname }),
        ),
      });
    }
    if (changes.length) await this.change(zone, hostname, changes, call.signal);
    return results;
  }

  async getAddresses(hostname: string, family: Family, signal?: AbortSignal): Promise<string[]> {
    return (await this.read(hostname, recordType(family), signal)).set?.values ?? [];
  }

  protected async changeTxt(name: string, value: string, op: 'add' | 'remove', signal?: AbortSignal): Promise<void> {
    const host = name.toLowerCase().replace(/\.$/, '');
    const { zone, set } = await this.read(host, 'TXT', signal);
    const before = set?.values ?? [];
    const after = editTxtValues(before.map(unquoteTxt), value, op);
    if (!after) return;
    const ttl = set?.ttl ?? 60;
    await this.change(
      zone,
      host,
      after.length === 0
        ? [{ action: 'DELETE', set: { type: 'TXT', ttl, values: before } }]
        : [{ action: 'UPSERT', set: { type: 'TXT', ttl, values: after.map(quoteTxt) } }],
      signal,
    );
  }

  /** The hosted zone of a name and its record set of one type (undefined when there is none). */
  private async read(name: string, type: string, signal?: AbortSignal): Promise<{ zone: string; set?: RecordSet }> {
    const host = name.toLowerCase().replace(/\.$/, '');
    const zone = this.s.zoneId ?? (await this.zoneOf(host, signal));
    const q = new URLSearchParams({ name: `${host}.`, type, maxitems: '1' });
    const xml = await this.call('GET', `/2013-04-01/hostedzone/${zone}/rrset?${q.toString()}`, host, signal);
    if (!/<ListResourceRecordSetsResponse[\s>]/.test(xml)) throw this.unreadable(xml);
    const set = readRecordSets(xml).find((r) => r.name === host && r.type === type);
    if (set?.special)
      throw this.redactor.error(
        fatal(
          say(
            'route53.special_record',
            '__host__ has a __type__ record with a routing policy or an alias at Route 53: it is left as it is (change it in the console, or use a simple record)',
            { host, type },
          ),
          { code: 'route53_special_record', scope: 'host' },
        ),
      );
    return { zone, set };
  }

  /** The hosted zone id of a name from the zone list (read again when the name is in none). */
  private async zoneOf(host: string, signal?: AbortSignal): Promise<string> {
    const { domain } = await this.zones.require(host, signal);
    return this.zoneIds.get(domain)!;
  }

  private async change(
    zone: string,
    host: string,
    changes: Parameters<typeof changeXml>[1],
    signal?: AbortSignal,
  ): Promise<void> {
    const xml = await this.call('POST', `/2013-04-01/hostedzone/${zone}/rrset`, host, signal, changeXml(host, changes));
    if (!/<ChangeResourceRecordSetsResponse[\s>]/.test(xml)) throw this.unreadable(xml);
  }

  /** Every hosted zone of the account (all pages); remembers their ids. */
  private async readZones(signal?: AbortSignal): Promise<string[]> {
    const ids = new Map<string, string>();
    const privateIds = new Map<string, string>();
    let q = new URLSearchParams({ maxitems: '100' });
    for (let page = 0; page < 50; page++) {
      const xml = await this.call(
        'GET',
        `/2013-04-01/hostedzonesbyname?${q.toString()}`,
        'the hosted zone list',
        signal,
      );
      if (!/<ListHostedZonesByNameResponse[\s>]/.test(xml)) throw this.unreadable(xml);
      for (const z of elements(xml, 'HostedZone')) {
        const id = (element(z, 'Id') ?? '').replace(/^\/hostedzone\//, '');
        const name = hostOf(element(z, 'Name') ?? '');
        const target = element(z, 'PrivateZone') === 'true' ? privateIds : ids;
        if (id && name && !target.has(name)) target.set(name, id);
      }
      const nextName = element(xml, 'NextDNSName');
      const nextId = element(xml, 'NextHostedZoneId');
      if (element(xml, 'IsTruncated') !== 'true' || !nextName || !nextId) break;
      q = new URLSearchParams({ dnsname: nextName, hostedzoneid: nextId, maxitems: '100' });
    }
    for (const [name, id] of privateIds) if (!ids.has(name)) ids.set(name, id);
    this.zoneIds = ids;
    return [...ids.keys()];
  }

  /** One signed request; the answer's XML when 2xx, else its error. */
  private async call(method: 'GET' | 'POST', path: string, subject: string, signal?: AbortSignal, body?: string) {
    const url = `${this.base}${path}`;
    const signed = signV4(
      {
        method,
        url,
        headers: body === undefined ? {} : { 'content-type': 'text/xml' },
        body,
        region: 'us-east-1',
        service: 'route53',
      },
      { accessKeyId: this.s.accessKeyId, secretAccessKey: this.s.password },
    );
    // The signature is sent in a header only; it is redacted as well, in case an answer echoes it.
    const redactor = new Redactor([this.s.password, signed.signature]);
    let res;
    try {
      res = await providerRequest(
        { redactor, env: this.env, maxBodyBytes: 512 * 1024 },
        { url, method, headers: { accept: 'text/xml', ...signed.headers }, body, signal },
      );
    } catch (e) {
      throw transportError(e, redactor, 'Route 53: ');
    }
    if (res.status >= 200 && res.status < 300) return res.body;
    const code = /<ErrorResponse[\s>]/.test(res.body) ? element(res.body, 'Code') : undefined;
    if (res.status === 404 && code === 'NoSuchHostedZone') this.zones.forget();
    if (code !== undefined && hasAnswer(ANSWERS, code) && res.status !== 429 && res.status < 500)
      throw answerError(
        ANSWERS,
        code,
        { subject, said: redactor.text(`${code}: ${element(res.body, 'Message') ?? ''}`).slice(0, 300) },
        { redactor, detail: redactor.text(res.body).slice(0, 300) },
      );
    if (code !== undefined && res.status >= 400 && res.status < 500 && res.status !== 429 && res.status !== 408)
      throw redactor.error(
        fatal(
          say('route53.refused', 'Route 53 refused the request for __subject__ (__said__)', {
            subject,
            said: `${code}: ${element(res.body, 'Message') ?? ''}`,
          }),
          {
            code: 'route53_refused',
            scope: 'host',
            detail: redactor.text(res.body).slice(0, 300),
          },
        ),
      );
    throw notXml(res, redactor);
  }

  private unreadable(xml: string) {
    return notXml({ status: 200, headers: {}, body: xml }, this.redactor);
  }
}

/** The transient error of an answer that is not Route 53's XML (or an HTTP failure without it). */
const notXml = (res: Parameters<typeof httpFault>[0], redactor: Redactor) =>
  notProtocolFault(res, {
    name: 'Route 53',
    redactor,
    other: (f) =>
      say('route53.not_xml', 'Route 53 sent an answer that is not its XML (HTTP __status__): __detail__', {
        status: f.status,
        detail: f.detail,
      }),
  });

export const definition: ProviderDefinition<typeof route53Settings> = {
  id: 'route53',
  label: 'AWS Route 53',
  settings: route53Settings,
  fields: [
    {
      key: 'accessKeyId',
      label: 'Access key id',
      kind: 'text',
      required: true,
      placeholder: 'AKIA…',
      help: 'Of an IAM user allowed only route53:ListResourceRecordSets and route53:ChangeResourceRecordSets on the hosted zone (and route53:ListHostedZonesByName when the zone id is empty).',
    },
    {
      key: 'password',
      label: 'Secret access key',
      kind: 'password',
      required: true,
      help: 'Shown once when the access key is created (IAM › Users › Security credentials).',
    },
    {
      key: 'zoneId',
      label: 'Hosted zone id',
      kind: 'text',
      placeholder: 'Z1D633PJN98FT9',
      help: 'Optional: Route 53 › Hosted zones. Left empty, it is found from the zone list.',
    },
    ttlField(300),
    addressField(
      'endpoint',
      'API address',
      ROUTE53_ENDPOINT,
      'Leave empty for Route 53 itself; change only for testing.',
    ),
  ],
  txt: true,
  group: 'cloud',
  docsUrl: 'https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/access-control-managing-permissions.html',
  create: (settings, env) => new Route53Provider(checkSettings(route53Settings, 'Route 53', settings), env),
};
