/**
 * acme-dns (https://github.com/joohoi/acme-dns, README "API"): a small DNS server that serves only
 * the ACME DNS-01 TXT records of its accounts, with an HTTP API of two calls. It is the usual
 * target of challenge delegation (certbot, lego, acme.sh, Caddy): `_acme-challenge.<name>` is a
 * CNAME to the account's `fulldomain`, and only that one TXT record can be written with the key.
 *
 * - `POST /register` (optional JSON `{"allowfrom": [CIDR…]}`) answers 201 with `username` (a UUID),
 *   `password` (40 characters), `subdomain` and `fulldomain` (`<subdomain>.<the server's domain>`).
 *   Called once: by the account dialog's Register button (`registerAcmedns`, through the admin
 *   endpoint `POST /ddns/acmedns/register` of the account node) or by the user with curl.
 * - `POST /update` with the headers `X-Api-User: <username>`, `X-Api-Key: <password>` and the
 *   JSON `{"subdomain": …, "txt": …}` answers 200 `{"txt": …}`. A wrong user or key, a subdomain
 *   that is not the user's, or a source address outside `allowfrom`: 401 `{"error": "forbidden"}`
 *   (pkg/api/auth.go); a value that is not 43 characters: 400 `bad_txt`; a bad subdomain: 400
 *   `bad_subdomain` (pkg/api/update.go, util.go).
 * - The server keeps the two most recent values of a subdomain (README, "Rolling update of two TXT
 *   records": a name and its wildcard share one subdomain); there is no delete: `deleteTxt` sends
 *   nothing, the value is pushed out by later updates.
 * - TXT only: acme-dns cannot hold A/AAAA records of its users, so `setAddresses` refuses with a
 *   sentence and dns-update refuses the account at deploy (`txtOnly`).
 * - The username (`apiUser`) and the key (`password`) are the account's credentials: both are kept
 *   as Node-RED credentials and redacted from every text.
 */
import { z } from 'zod';
import { badInput, fatal, say } from '../errors';
import { Redactor } from '../redact';
import { checkSettings, excerpt, httpFault, httpUrl, jsonRequest, requiredText, tokenSetting } from './kit';
import type { DnsProvider, ProviderCall, ProviderDefinition, ProviderEnv, RecordResult } from './types';
import { phrase } from '../said';

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;
const NAME = /^(?=.{1,253}$)([a-z0-9_](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{1,63}$/i;
/** acme-dns stores exactly 43 characters: the base64url SHA-256 digest a DNS-01 challenge asks for. */
const TXT_VALUE = /^[A-Za-z0-9_-]{43}$/;
const MAX_BODY = 16 * 1024;
const norm = (n: string) => n.trim().toLowerCase().replace(/\.$/, '');

export const ACMEDNS_REGISTER_HELP =
  'Register once with the button "Register a new account at this server" below, or with: curl -s -X POST https://<your acme-dns server>/register (it answers username, password, subdomain and fulldomain).';

export const acmednsSettings = z
  .object({
    endpoint: z.preprocess(
      (v) => (typeof v === 'string' ? v.trim().replace(/\/+$/, '') : v),
      httpUrl(
        phrase('acmedns.enter_address_acme_dns', 'Enter the address of the acme-dns server (http:// or https://).'),
      ),
    ),
    apiUser: tokenSetting(phrase('acmedns.enter_username_that_register', 'Enter the username that /register gave.')),
    password: tokenSetting(
      phrase('acmedns.enter_password_api_key', 'Enter the password (API key) that /register gave.'),
    ),
    fulldomain: requiredText(
      phrase('acmedns.enter_fulldomain_that_register', 'Enter the fulldomain that /register gave.'),
    ).refine(
      (s) => NAME.test(norm(s)),
      phrase('acmedns.fulldomain_must_dns_name', 'The fulldomain must be a DNS name such as 8e57….auth.example.org.'),
    ),
    subdomain: z.preprocess(
      (v) => (typeof v === 'string' && v.trim() === '' ? undefined : v),
      z
        .string()
        .trim()
        .regex(
          LABEL,
          phrase('acmedns.subdomain_dns_label_letters', 'The subdomain is one DNS label (letters, digits, hyphens).'),
        )
        .optional(),
    ),
  })
  .superRefine((s, ctx) => {
    const first = norm(s.fulldomain).split('.')[0];
    if (s.subdomain !== undefined && s.subdomain.toLowerCase() !== first)
      ctx.addIssue({
        code: 'custom',
        path: ['subdomain'],
        message: phrase(
          'acmedns.subdomain_first',
          'The subdomain must be the first label of the fulldomain (__first__).',
          {
            first,
          },
        ),
      });
  });
export type AcmednsSettings = z.infer<typeof acmednsSettings>;

export const TXT_ONLY_SENTENCE = say(
  'acmedns.txt_only',
  'acme-dns holds only the TXT records of ACME DNS-01 challenges: it cannot set the addresses (A/AAAA) of a name. Use the account of the name’s DNS host in dns-update, and this acme-dns account as cert-renew’s challenge account.',
);

class AcmednsProvider implements DnsProvider {
  readonly id = 'acmedns';
  readonly maxHostsPerCall = 1;
  readonly txtTarget: string;
  private readonly subdomain: string;
  private readonly redactor: Redactor;

  constructor(
    private readonly s: AcmednsSettings,
    private readonly env: ProviderEnv,
  ) {
    this.txtTarget = norm(s.fulldomain);
    this.subdomain = s.subdomain ?? this.txtTarget.split('.')[0];
    this.redactor = new Redactor([s.password, s.apiUser]);
  }

  setAddresses(call: ProviderCall): Promise<RecordResult[]> {
    void call;
    return Promise.reject(badInput(TXT_ONLY_SENTENCE, 'txt_only'));
  }

  async setTxt(name: string, value: string, signal?: AbortSignal): Promise<void> {
    if (norm(name) !== this.txtTarget)
      throw fatal(
        say(
          'acmedns.other_name',
          "this acme-dns account writes only __target__, not __name__: point the name's _acme-challenge record to __target__ by CNAME (challenge delegation)",
          { target: this.txtTarget, name: norm(name) },
        ),
        { code: 'acmedns_other_name', scope: 'host' },
      );
    if (!TXT_VALUE.test(value))
      throw badInput(
        say('acmedns.invalid_txt', 'acme-dns stores only 43-character DNS-01 challenge values (base64url)'),
        'invalid_txt',
      );
    const res = await jsonRequest(
      { name: 'acme-dns', redactor: this.redactor, env: this.env, maxBodyBytes: MAX_BODY },
      {
        url: `${this.s.endpoint}/update`,
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-user': this.s.apiUser, 'x-api-key': this.s.password },
        body: JSON.stringify({ subdomain: this.subdomain, txt: value }),
        signal,
      },
    );
    const said = (res.json as { txt?: unknown; error?: unknown } | undefined) ?? {};
    if (res.status === 200 && said.txt === value) return;
    const detail = excerpt(res.body, this.redactor);
    if (res.status === 401 && said.error === 'forbidden')
      throw this.redactor.error(
        fatal(
          say(
            'acmedns.forbidden',
            'acme-dns refused the update of __target__ (forbidden): check the username, the password and the subdomain /register gave, and that this address is inside the allowfrom networks given at registration',
            { target: this.txtTarget },
          ),
          { code: 'acmedns_forbidden', scope: 'account', detail },
        ),
      );
    if (res.status === 400 && typeof said.error === 'string')
      throw this.redactor.error(
        fatal(
          say('acmedns.refused', 'acme-dns refused the value for __target__ (__said__)', {
            target: this.txtTarget,
            said: said.error,
          }),
          {
            code: `acmedns_${said.error.replace(/[^a-z_]/gi, '').slice(0, 30)}`,
            scope: 'host',
            detail,
          },
        ),
      );
    throw httpFault(res, {
      name: 'acme-dns',
      redactor: this.redactor,
      message: (f) =>
        res.status === 200
          ? say('acmedns.no_value', 'acme-dns answered without the value it stored (HTTP 200): __detail__', {
              detail: f.detail,
            })
          : say('kit.unexpected', '__name__ sent an unexpected answer (HTTP __status__): __detail__', {
              name: 'acme-dns',
              status: f.status,
              detail: f.detail,
            }),
    });
  }

  /** acme-dns has no delete: the value stays until two later updates push it out. */
  async deleteTxt(name: string, value: string): Promise<void> {
    void name;
    void value;
  }
}

const Registration = z.object({
  username: z.string().min(1),
  password: z.string().min(1),
  fulldomain: z.string().refine((s) => NAME.test(norm(s))),
  subdomain: z.string().regex(LABEL),
});
export type AcmednsRegistration = z.infer<typeof Registration>;

/**
 * `POST <endpoint>/register` (the editor's "Register" button, through the account node's admin
 * endpoint): a new acme-dns account. Throws a DdnsError whose text holds no part of the answer's
 * secrets (a refused registration, e.g. `disable_registration`, says so).
 */
export async function registerAcmedns(endpoint: string, env: ProviderEnv = {}): Promise<AcmednsRegistration> {
  const url = acmednsSettings.shape.endpoint.safeParse(endpoint);
  if (!url.success)
    throw badInput(say('acmedns.no_server', 'Enter the address of the acme-dns server (http:// or https://) first.'));
  const redactor = new Redactor();
  const res = await jsonRequest(
    { name: 'acme-dns', redactor, env, maxBodyBytes: MAX_BODY },
    { url: `${url.data}/register`, method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' },
  );
  const reg = Registration.safeParse(res.json);
  if (res.status === 201 && reg.success) return reg.data;
  // an answer that is not a registration may still carry a password: never shown
  redactor.add((res.json as { password?: string } | undefined)?.password);
  throw httpFault(res, {
    name: 'acme-dns',
    redactor,
    message: (f) =>
      say('acmedns.not_registered', 'the acme-dns server did not register an account (HTTP __status__): __detail__', {
        status: f.status,
        detail: f.detail,
      }),
  });
}

export const definition: ProviderDefinition<typeof acmednsSettings> = {
  id: 'acmedns',
  label: 'acme-dns (TXT only)',
  group: 'self-hosted',
  settings: acmednsSettings,
  fields: [
    {
      key: 'endpoint',
      label: 'Server URL',
      kind: 'url',
      required: true,
      placeholder: 'https://auth.example.org',
      help: 'Your acme-dns server (self-hosted or a public instance). ' + ACMEDNS_REGISTER_HELP,
    },
    {
      key: 'apiUser',
      label: 'Username',
      kind: 'password',
      required: true,
      help: 'The username from /register (kept with the password in the encrypted credentials).',
    },
    { key: 'password', label: 'Password', kind: 'password', required: true, help: 'The password from /register.' },
    {
      key: 'fulldomain',
      label: 'Full domain',
      kind: 'text',
      required: true,
      placeholder: '8e5700ea-….auth.example.org',
      help: 'The fulldomain from /register: create the CNAME _acme-challenge.<your name> → this name at your DNS host.',
    },
    {
      key: 'subdomain',
      label: 'Subdomain',
      kind: 'text',
      placeholder: 'the first label of the full domain',
      help: 'The subdomain from /register (empty: the first label of the full domain).',
      advanced: true,
    },
  ],
  txt: true,
  txtOnly: true,
  docsUrl: 'https://github.com/joohoi/acme-dns#api',
  docsLabel: 'How do I register an acme-dns account?',
  create: (settings, env) => new AcmednsProvider(checkSettings(acmednsSettings, 'acme-dns', settings), env),
};
