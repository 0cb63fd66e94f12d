/**
 * A server that echoes the account's secret in its answer (a verbose DuckDNS answer, a debugging
 * proxy, an error page that repeats the request): for every HTTP provider, against its contract
 * server, the secret is put at several offsets of the answer (at the start, across each place where
 * a text is shortened: 60, 120 and 200 characters, and beyond) in every kind of answer the provider
 * shows to a person (success lines, its own error answers, unreadable answers, HTTP errors, HTML).
 * Everything a user could see is collected through the update engine: the results (their
 * messages) and any thrown error (message, detail, stack), the node status line, the error text for Catch nodes, alerts
 * and warnings. No piece of 6 or more consecutive characters of the secret may appear: texts are
 * redacted first and shortened after, never the other way round.
 *
 * The engine gets no redactor of its own here, so that each provider's own redaction is tested.
 */
import { after, describe, test } from '../../support/suite';
import assert from 'node:assert/strict';
import { updateRequest } from '../../support/parsed';
import { visibleTexts } from '../../support/visible-texts';
import { FakeClock } from '../../support/fake-clock';
import { closeHttpPools } from '../../../src/core/http';
import { excerpt, firstLine } from '../../../src/core/providers/kit';
import { Redactor } from '../../../src/core/redact';
import { providerById } from '../../../src/core/providers/registry';
import { UpdateEngine } from '../../../src/core/update/engine';
import { resultsFailure, ResultsView } from '../../../src/core/update/results-view';
import type { AccountAlert, UpdateResult } from '../../../src/core/update/types';
import { startDuckDns } from '../../support/contracts/duckdns';
import { startFreeDns } from '../../support/contracts/freedns';
import { startDyndns2, type Dyndns2Flavour } from '../../support/contracts/dyndns2';
import { startCloudflare } from '../../support/contracts/cloudflare';

after(closeHttpPools);

const V4 = '203.0.113.10';
/** Where the secret starts in the echoing part of an answer: the start, across each cut, beyond. */
const OFFSETS = [0, 30, 40, 57, 100, 117, 190, 197, 300];
const fill = (n: number) => 'x'.repeat(n);

/** The first piece of `secret` of `min` or more characters found in `text`, or undefined. */
function fragmentIn(text: string, secret: string, min = 6): string | undefined {
  for (let i = 0; i + min <= secret.length; i++) {
    const piece = secret.slice(i, i + min);
    if (text.includes(piece)) return piece;
  }
  return undefined;
}

interface Answer {
  status?: number;
  body: string;
  headers?: Record<string, string>;
}

interface Rig {
  provider: string;
  settings: Record<string, unknown>;
  hostname: string;
  /** The next request gets exactly this answer. */
  answerNext(a: Answer): void;
  /** Requests the server received. */
  requests(): number;
  close(): Promise<void>;
}

interface Family {
  name: string;
  secret: string;
  start(): Promise<Rig>;
  /** Answers that carry `echo` (the secret after some filler), as this provider's server could send them. */
  answers(echo: string): Answer[];
}

/** Answers every HTTP provider may get, whatever its protocol. */
const common = (echo: string): Answer[] => [
  { status: 200, body: echo },
  { status: 500, body: `Internal Server Error: ${echo}` },
  { status: 403, body: `Forbidden ${echo}` },
  { status: 429, body: `Too Many Requests ${echo}`, headers: { 'retry-after': '60' } },
  {
    status: 502,
    body: `<!DOCTYPE html><html><head><title>${echo}</title></head><body>${echo}</body></html>`,
    headers: { 'content-type': 'text/html' },
  },
];

const DUCK_TOKEN = 'a7c4e2f9-3b1d-4e8a-9c6f-2d5b8e1a4f73';
const FREEDNS_TOKEN = 'Fq8Zr2Lw6Tn4Xp0Ks3Vd7Hb5Jm1';
const PASSWORD = 'Pw7-Qz3Rk9Lt5Nc1Xb8Gy4';
const CF_TOKEN = 'Cf9Hq2Wz7Rt4Km8Lp3Nx6Vb1Sd5Gj0Ty_Ue8Ai2O';

/** A rig on a started contract server (anything with `requests` and `close`). */
const rigOn = (
  srv: { requests: unknown[]; close(): Promise<void> },
  r: Pick<Rig, 'provider' | 'settings' | 'hostname' | 'answerNext'>,
): Rig => ({ ...r, requests: () => srv.requests.length, close: () => srv.close() });

const dyndns2Family = (provider: string, flavour: Dyndns2Flavour): Family => ({
  name: provider,
  secret: PASSWORD,
  async start() {
    const srv = await startDyndns2({ flavour, users: { alice: PASSWORD }, hosts: ['a.example.net'] });
    return rigOn(srv, {
      provider,
      settings: { username: 'alice', password: PASSWORD, endpoint: srv.url },
      hostname: 'a.example.net',
      answerNext: (a) => srv.answerNext(a),
    });
  },
  answers: (echo) => [
    { body: `good ${V4} ${echo}` },
    { body: `nochg ${V4}\n${echo}` },
    { body: `badauth ${echo}` },
    { body: `nohost ${echo}` },
    { body: `911 ${echo}` },
    { status: 401, body: `badauth ${echo}` },
    { status: 302, body: echo, headers: { location: `https://elsewhere.example/${echo}` } },
    ...common(echo),
  ],
});

const FAMILIES: Family[] = [
  {
    name: 'duckdns',
    secret: DUCK_TOKEN,
    async start() {
      const duck = await startDuckDns({ token: DUCK_TOKEN, domains: ['myhome'] });
      return rigOn(duck, {
        provider: 'duckdns',
        settings: { token: DUCK_TOKEN, endpoint: duck.url },
        hostname: 'myhome.duckdns.org',
        answerNext: (a) => duck.failNext({ status: a.status, body: a.body, headers: a.headers }),
      });
    },
    answers: (echo) => [
      // verbose: the address line echoes the token (the address was not taken)
      { body: `OK\n${echo}\n\nUPDATED` },
      { body: `OK\n${V4}\n${echo}\nNOCHANGE` },
      { body: `KO\n${echo}` },
      ...common(echo),
    ],
  },
  {
    name: 'freedns',
    secret: FREEDNS_TOKEN,
    async start() {
      const fd = await startFreeDns({ tokens: { [FREEDNS_TOKEN]: 'home.mooo.com' } });
      return rigOn(fd, {
        provider: 'freedns',
        settings: { token: FREEDNS_TOKEN, endpoint: fd.url, endpointIpv6: fd.urlIpv6 },
        hostname: 'home.mooo.com',
        answerNext: (a) => fd.failNext({ status: a.status, body: a.body, headers: a.headers }),
      });
    },
    answers: (echo) => [
      { body: `Updated home.mooo.com from 198.51.100.1 to ${V4} ${echo}` },
      { body: `No IP change detected for home.mooo.com with IP ${V4}, skipping update ${echo}` },
      { body: `Updated home.mooo.com from 198.51.100.1 to 198.51.100.2 ${echo}` },
      { body: `ERROR: Unable to locate this record ${echo}` },
      { body: `ERROR: ${echo}` },
      ...common(echo),
    ],
  },
  dyndns2Family('noip', 'noip'),
  dyndns2Family('dynu', 'dynu'),
  dyndns2Family('dyndns', 'dyn'),
  dyndns2Family('dyndns2', 'generic'),
  {
    name: 'cloudflare',
    secret: CF_TOKEN,
    async start() {
      const cf = await startCloudflare({ token: CF_TOKEN, zones: ['example.com'] });
      return rigOn(cf, {
        provider: 'cloudflare',
        settings: { token: CF_TOKEN, endpoint: cf.url },
        hostname: 'h.example.com',
        answerNext: (a) => cf.failNext({ status: a.status ?? 200, body: a.body, headers: a.headers }),
      });
    },
    answers: (echo) => {
      const error = (status: number, code: number) => ({
        status,
        body: JSON.stringify({ success: false, errors: [{ code, message: echo }], messages: [], result: null }),
        headers: { 'content-type': 'application/json' },
      });
      return [
        error(400, 1004),
        error(403, 9109),
        error(404, 7003),
        error(500, 1000),
        error(200, 1000),
        ...common(echo),
      ];
    },
  },
];

/** One update against an answer; everything a person could see of it. */
async function visibleAfter(family: Family, answer: (echo: string) => Answer, offset: number): Promise<string[]> {
  const rig = await family.start();
  const clock = new FakeClock();
  const alerts: AccountAlert[] = [];
  const warnings: string[] = [];
  const later: UpdateResult[][] = [];
  const def = providerById(rig.provider)!;
  const engine = new UpdateEngine({
    provider: def.create(def.settings.parse(rig.settings), { timeoutMs: 5_000 }),
    accountKey: `echo-${rig.provider}`,
    accountLabel: rig.provider,
    clock,
    minIntervalMs: 0,
    alertAfter: 1,
    onAlert: (a) => alerts.push(a),
    onWarning: (w) => warnings.push(w),
    onResults: (r) => later.push(r),
  });
  try {
    rig.answerNext(answer(`${fill(offset)}${family.secret}`));
    const out: unknown[] = [];
    try {
      out.push(await engine.update(updateRequest({ hostnames: [rig.hostname], addresses: { ipv4: V4 } })));
    } catch (e) {
      out.push(e);
    }
    assert.ok(rig.requests() >= 1, 'the canned answer was sent');
    const results = out.filter(Array.isArray).flat() as UpdateResult[];
    const view = new ResultsView();
    const status = view.take(results);
    return [
      ...visibleTexts(out),
      JSON.stringify(status ?? null),
      String(resultsFailure(results)),
      JSON.stringify(alerts),
      ...warnings,
      JSON.stringify(later),
    ];
  } finally {
    engine.stop();
    await rig.close();
  }
}

describe('a secret echoed by the server never shows, not even in part', () => {
  for (const family of FAMILIES) {
    test(`${family.name}: every answer, secret at offsets ${OFFSETS.join(', ')}`, async () => {
      const count = family.answers('').length;
      let checked = 0;
      for (let i = 0; i < count; i++) {
        for (const offset of OFFSETS) {
          const texts = await visibleAfter(family, (echo) => family.answers(echo)[i], offset);
          for (const t of texts) {
            const piece = fragmentIn(t, family.secret);
            assert.equal(
              piece,
              undefined,
              `answer #${i} (${JSON.stringify(family.answers('<secret>')[i].body.slice(0, 60))}), offset ${offset}: "${piece}" in ${t}`,
            );
          }
          checked++;
        }
      }
      assert.equal(checked, count * OFFSETS.length);
    });
  }

  test('excerpt and firstLine redact before they fold blanks, take one line or shorten', () => {
    const secret = 'two  blanks\tand-a-tab-Secret9';
    const red = new Redactor([secret]);
    for (const body of [`error: ${secret}`, `${fill(110)}${secret}`, `<html><title>${secret}</title></html>`]) {
      for (const t of [excerpt(body, red), firstLine(body, red), firstLine(body, red, 20)])
        assert.equal(fragmentIn(t, secret), undefined, t);
    }
  });

  test('the check itself finds a piece of the secret', () => {
    assert.equal(fragmentIn(`… "${DUCK_TOKEN.slice(0, 20)}" …`, DUCK_TOKEN), DUCK_TOKEN.slice(0, 6));
    assert.equal(fragmentIn(`… ${DUCK_TOKEN.slice(3, 8)} …`, DUCK_TOKEN), undefined);
  });
});
