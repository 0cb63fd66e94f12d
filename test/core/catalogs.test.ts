/**
 * The translations (issue 15): every message catalog and help panel of nodes/locales/en-US exists
 * in every other language of the package, with exactly the same keys, the same placeholders
 * (`__name__`) per text, and help panels with the same sections, properties and links. A key added
 * to en-US and not yet translated shows up here as missing (Node-RED would show the English text).
 */
import { test } from '../support/suite';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { allProviders } from '../../src/core/providers/registry';
import { STATUS_TEXTS, statusLine, type StatusWords } from '../../src/core/update/summary';
import { fillIn } from '../../src/core/text';
import type { UpdateResult } from '../../src/core/update/types';

/** Every provider of the registry (each module loaded). */
const PROVIDERS = allProviders();

const LOCALES = join(resolve(__dirname, '../../..'), 'nodes', 'locales');
const BASE = 'en-US';
/** The languages the package ships besides en-US (Node-RED's folder names). */
const LANGUAGES = ['de', 'fr'];

type Json = string | number | boolean | null | Json[] | { [k: string]: Json };

/** key path → text, for every leaf of a catalog (array items as `.0`, `.1`…). */
function flatten(v: Json, prefix = '', out = new Map<string, string>()): Map<string, string> {
  if (v !== null && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) flatten(x, prefix ? `${prefix}.${k}` : k, out);
  } else out.set(prefix, String(v));
  return out;
}

const placeholders = (text: string): string[] => [...new Set(text.match(/__[A-Za-z0-9_]+?__/g) ?? [])].sort();

/** What must not differ between two languages of a help panel. */
function helpShape(html: string) {
  const all = (re: RegExp) => [...html.matchAll(re)].map((m) => m[1]);
  return {
    names: all(/data-help-name="([^"]+)"/g),
    sections: all(/<h3>/g).length,
    /** per section (the text before the first h3 is section 0): its title and its dt, as the text before the type */
    bySection: html.split(/<h3>/).map((part, i) => ({
      title: i === 0 ? '' : part.slice(0, part.indexOf('</h3>')),
      terms: [...part.matchAll(/<dt[^>]*>([\s\S]*?)<\/dt>/g)].map((m) => m[1].replace(/<span[\s\S]*$/, '').trim()),
    })),
    ports: all(/<ol class="node-ports">([\s\S]*?)<\/ol>/g).map((p) => (p.match(/<li>/g) ?? []).length),
    links: all(/href="([^"]+)"/g),
  };
}

const files = (lang: string, ext: string) =>
  readdirSync(join(LOCALES, lang))
    .filter((f) => f.endsWith(ext))
    .sort();

for (const lang of LANGUAGES) {
  test(`${lang}: every message catalog has exactly the keys and placeholders of ${BASE}`, () => {
    assert.deepEqual(files(lang, '.json'), files(BASE, '.json'), `${lang} has a catalog for every node`);
    for (const f of files(BASE, '.json')) {
      const en = flatten(JSON.parse(readFileSync(join(LOCALES, BASE, f), 'utf8')));
      // core.<key>: the core's sentences, whose English is in the code (test/core/sentences.test.ts)
      const tr = new Map(
        [...flatten(JSON.parse(readFileSync(join(LOCALES, lang, f), 'utf8')))].filter(([k]) => !k.startsWith('core.')),
      );
      const missing = [...en.keys()].filter((k) => !tr.has(k));
      const extra = [...tr.keys()].filter((k) => !en.has(k));
      assert.deepEqual(missing, [], `${lang}/${f}: keys of ${BASE} not translated`);
      assert.deepEqual(extra, [], `${lang}/${f}: keys that ${BASE} does not have`);
      for (const [k, text] of en) {
        assert.deepEqual(placeholders(tr.get(k)!), placeholders(text), `${lang}/${f}: ${k} keeps its placeholders`);
        assert.notEqual(tr.get(k)!.trim(), '', `${lang}/${f}: ${k} is not empty`);
      }
    }
  });

  test(`${lang}: every help panel has the sections, properties, ports and links of ${BASE}`, () => {
    assert.deepEqual(files(lang, '.html'), files(BASE, '.html'), `${lang} has a help panel for every node`);
    for (const f of files(BASE, '.html')) {
      const en = helpShape(readFileSync(join(LOCALES, BASE, f), 'utf8'));
      const tr = helpShape(readFileSync(join(LOCALES, lang, f), 'utf8'));
      assert.deepEqual(tr.names, en.names, `${lang}/${f}: the same node`);
      assert.equal(tr.sections, en.sections, `${lang}/${f}: the same sections (h3)`);
      const terms = (shape: typeof en) => shape.bySection.flatMap((s) => s.terms);
      assert.equal(terms(tr).length, terms(en).length, `${lang}/${f}: the same msg properties (dt)`);
      // The msg properties (dt) are code, never translated. The "Properties" section is the exception: its
      // dt are the dialog's field labels, translated like the dialog (section i of tr is section i of en).
      const labels = en.bySection.map((s) => s.title === 'Properties');
      // a property name has no spaces (`payload.ipv4 / payload.ipv6` aside); `any message` is words
      const code = (shape: typeof en) =>
        shape.bySection.flatMap((s, i) => (labels[i] ? [] : s.terms.filter((d) => !/\s/.test(d.replace(/ \/ /g, '')))));
      assert.deepEqual(code(tr), code(en), `${lang}/${f}: property names are not translated`);
      assert.deepEqual(tr.ports, en.ports, `${lang}/${f}: the same outputs`);
      assert.deepEqual(tr.links, en.links, `${lang}/${f}: the same references`);
    }
  });
}

const catalogOf = (lang: string, file: string) =>
  JSON.parse(readFileSync(join(LOCALES, lang, `${file}.json`), 'utf8')) as Record<string, Record<string, Json>>;

test("dns-update's status texts in en-US are core's English (the fallback without a catalog)", () => {
  const en = flatten(catalogOf(BASE, 'dns-update')['dns-update']!.status!);
  for (const [key, text] of Object.entries(STATUS_TEXTS)) assert.equal(en.get(key), text, `status.${key}`);
});

test('a status line in German: words from the de catalog, placeholders filled in', () => {
  const de = flatten(catalogOf('de', 'dns-update')['dns-update']!.status!);
  const words: StatusWords = (key, subs) => fillIn(de.get(key)!, subs);
  const r = (over: Partial<UpdateResult>): UpdateResult => ({
    hostname: 'home.example.com',
    family: 'ipv4',
    status: 'updated',
    address: '203.0.113.7',
    message: '',
    attempts: 1,
    ms: 5,
    ...over,
  });
  const line = (rs: UpdateResult[]) => statusLine(new Map([['home.example.com', rs]]), 60, undefined, words)?.text;
  assert.equal(
    line([r({ status: 'failed', stopped: true, reason: 'stopped', cause: 'badauth' })]),
    'home.example.com angehalten: falsche Zugangsdaten',
  );
  assert.equal(
    line([r({ status: 'failed', stopped: true, cause: '!donator' })]),
    'home.example.com angehalten: kostenpflichtige Funktion',
  );
  assert.equal(
    line([r({ status: 'failed', stopped: true, cause: 'http_403' })]),
    'home.example.com angehalten: abgelehnt',
  );
  assert.equal(
    line([r({ family: 'ipv6', status: 'skipped', address: '2001:db8::1', reason: 'temporary-address' })]),
    'home.example.com IPv6 behalten: temporäre Adresse',
  );
  const two = new Map([
    ['a.example.com', [r({ hostname: 'a.example.com' })]],
    ['b.example.com', [r({ hostname: 'b.example.com' })]],
  ]);
  assert.equal(statusLine(two, 60, undefined, words)?.text, '2 Namen ✓ 203.0.113.7');
});

test("every provider field's label has an entry in the ddns-account catalog (so the account dialog translates it)", () => {
  const fields = flatten(catalogOf(BASE, 'ddns-account')['ddns-account']!.field!);
  const known = new Set(fields.values());
  const missing = PROVIDERS.flatMap((p) =>
    p.fields
      .filter((f) => {
        const entries = [...fields].filter(([k]) => k === f.key || k.startsWith(`${f.key}-`));
        return !entries.some(([, label]) => label === f.label);
      })
      .map((f) => `${p.id}.${f.key}: "${f.label}"`),
  );
  assert.deepEqual(missing, [], 'add these to field.<key> (or field.<key>-N) of every ddns-account.json');
  assert.ok(known.size > 0);
});
