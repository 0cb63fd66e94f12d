/**
 * The core's sentences in the user's language (issue 15): every `say('<key>', '<English>', …)` (and
 * `phrase('<key>', '<English>')`, src/core/said.ts) in
 * src/ has a text in every shipped language, in the catalog the adapters read it from
 * (src/nodes/adapter.ts sentenceKey: `core.<key>` of the node set named by the key's first word),
 * with exactly the English's placeholders; and no catalog keeps a sentence the code no longer says.
 */
import { test } from '../support/suite';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { english, flatParams, mapSentence, say } from '../../src/core/errors';
import { phrase, phraseOf } from '../../src/core/said';
import { NETWORK_TEXTS } from '../../src/core/http';
import { Redactor } from '../../src/core/redact';
import { sentenceKey } from '../../src/nodes/adapter';

const ROOT = resolve(__dirname, '../../..');
const LANGUAGES = ['de', 'fr'];

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** key → English, from every say() of src/ whose key and English are literals. */
function saidInCode(): Map<string, string> {
  const out = new Map<string, string>();
  const call = /\b(?:say|phrase)\(\s*'([a-z0-9_.]+)',\s*(?:'((?:\\.|[^'\\])*)'|"((?:\\.|[^"\\])*)")/g;
  for (const file of sources(join(ROOT, 'src'))) {
    for (const m of readFileSync(file, 'utf8').matchAll(call)) {
      const en = (m[2] ?? m[3]).replace(/\\(.)/g, '$1');
      const before = out.get(m[1]);
      assert.ok(before === undefined || before === en, `${m[1]}: one key, one English (${file})`);
      out.set(m[1], en);
    }
  }
  // the one key built from a table: http.net.<code>
  for (const [code, en] of Object.entries(NETWORK_TEXTS)) out.set(`http.net.${code}`, en);
  return out;
}

type Json = string | { [k: string]: Json };
/** `node-red-contrib-ddns/<set>:core.<key>` → text, for every core sentence of a language's catalogs. */
function catalogSentences(lang: string): Map<string, string> {
  const out = new Map<string, string>();
  const dir = join(ROOT, 'nodes', 'locales', lang);
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.json'))) {
    const set = f.replace(/\.json$/, '');
    const walk = (v: Json, path: string) => {
      if (typeof v === 'string') out.set(`node-red-contrib-ddns/${set}:${path}`, v);
      else for (const [k, x] of Object.entries(v)) walk(x, `${path}.${k}`);
    };
    const core = (JSON.parse(readFileSync(join(dir, f), 'utf8')) as { core?: Json }).core;
    if (core) walk(core, 'core');
  }
  return out;
}

const placeholders = (text: string): string[] => [...new Set(text.match(/__[A-Za-z0-9_]+?__/g) ?? [])].sort();

test('the code says its sentences with literal keys and English (the scan below finds them)', () => {
  const said = saidInCode();
  assert.ok(said.size >= 40, `${said.size} sentences found`);
  for (const [key, en] of said) assert.notEqual(en.trim(), '', `${key} has English`);
});

for (const lang of LANGUAGES) {
  test(`${lang}: every core sentence has a text with the same placeholders, in the catalog the adapter reads`, () => {
    const said = saidInCode();
    const have = catalogSentences(lang);
    const missing: string[] = [];
    for (const [key, en] of said) {
      const text = have.get(sentenceKey(key));
      if (text === undefined) {
        missing.push(`${sentenceKey(key)}: "${en}"`);
        continue;
      }
      assert.deepEqual(placeholders(text), placeholders(en), `${lang} ${key} keeps the placeholders of "${en}"`);
      assert.notEqual(text.trim(), '', `${lang} ${key} is not empty`);
    }
    assert.deepEqual(missing, [], `${lang}: sentences without a text`);
    const wanted = new Set([...said.keys()].map(sentenceKey));
    const stale = [...have.keys()].filter((k) => !wanted.has(k));
    assert.deepEqual(stale, [], `${lang}: catalog sentences the code no longer says (or in the wrong set's catalog)`);
  });
}

test('a sentence: its English fills in values and inner sentences; redaction reaches every value', () => {
  const inner = say('http.net.ECONNREFUSED', 'connection refused');
  const s = say('http.network', '__where__: __reason__', { where: 'https://x.test/u/SECRET/', reason: inner });
  assert.equal(english(s), 'https://x.test/u/SECRET/: connection refused');
  assert.deepEqual(
    flatParams(s, () => 'verweigert'),
    { where: 'https://x.test/u/SECRET/', reason: 'verweigert' },
  );
  const r = mapSentence(s, (t) => new Redactor(['SECRET']).text(t));
  assert.equal(english(r), 'https://x.test/u/***/: connection refused');
  assert.equal(english('plain text'), 'plain text');
});

test('a phrase with values: the filled English is a plain string, and phraseOf gives back its sentence', () => {
  const text = phrase('node.at_least', '__label__ must be at least __min__', { label: 'Interval (s)', min: 30 });
  assert.equal(text, 'Interval (s) must be at least 30');
  assert.deepEqual(
    phraseOf(text),
    say('node.at_least', '__label__ must be at least __min__', { label: 'Interval (s)', min: '30' }),
  );
  // a list of issues cuts the full stop: still found
  const ttl = phrase('kit.ttl_max', 'The TTL must be at most __max__ seconds.', { max: 86400 });
  assert.equal(phraseOf(ttl.replace(/\.$/, ''))?.key, 'kit.ttl_max');
  assert.equal(phraseOf('some other text'), undefined);
});
