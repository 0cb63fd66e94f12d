/**
 * A schema message with values (`phrase(key, English, values)`) in the runtime's language, through
 * Node-RED's own i18n (@node-red/util, the one the runtime uses) with settings.js `lang: 'de'` and
 * the package's catalogs: the translation keeps its final full stop when the English had one, and
 * loses it when the English was cut (a list of issues joined with "; "); a number field's label is
 * said in that language too.
 */
import { test } from '../support/suite';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { REPO_ROOT } from '../support/node-red';
import { catalog, spoken, spokenText } from '../../src/nodes/adapter';
import { say, type SentenceValue } from '../../src/core/errors';
import { phrase } from '../../src/core/said';
import type { Red } from '../../src/nodes/red-types';
import { numberField } from '../../src/nodes/config-fields';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { i18n } = require('@node-red/util') as {
  i18n: {
    init(settings: { lang?: string }): Promise<void>;
    registerMessageCatalog(namespace: string, dir: string, file: string): Promise<void>;
    _(key: string, subs?: Record<string, unknown>): string;
  };
};

/** Node-RED's i18n in German with the package's ddns-account catalog (where the core's sentences are). */
async function german(): Promise<void> {
  await i18n.init({ lang: 'de' });
  await i18n.registerMessageCatalog(
    'node-red-contrib-ddns/ddns-account',
    join(REPO_ROOT, 'nodes', 'locales'),
    'ddns-account.json',
  );
  catalog({ _: i18n._ } as unknown as Red, 'ddns-account');
}

test('a phrase with values is said in German with its full stop, and without it when the English was cut', async () => {
  await german();
  const en = phrase('kit.ttl_max', 'The TTL must be at most __max__ seconds.', { max: 600 });
  assert.equal(en, 'The TTL must be at most 600 seconds.');
  assert.equal(spokenText(en), 'Die TTL darf höchstens 600 Sekunden betragen.');
  assert.equal(spokenText(en.replace(/\.$/, '')), 'Die TTL darf höchstens 600 Sekunden betragen');
  // A text that is no phrase stays as it is.
  assert.equal(spokenText('something else.'), 'something else.');
});

test("a number field's message names the field in German too", async () => {
  await german();
  const field = numberField(phrase('node.field_minimum_interval', 'minimum interval'), 0, 86_400, 60);
  const r = field.safeParse('-5');
  assert.equal(r.success, false);
  const message = r.error!.issues[0]!.message;
  assert.equal(message, 'minimum interval must be at least 0');
  assert.equal(spokenText(message), 'Mindestabstand muss mindestens 0 sein');
});

test('a catalog text is looked up once and filled in at each call; values go in as they are', async () => {
  await german();
  const asked: string[] = [];
  catalog(
    {
      _: (key: string, subs?: Record<string, unknown>) => (asked.push(key), i18n._(key, subs)),
    } as unknown as Red,
    'ddns-account',
  );
  const ttl = (max: SentenceValue) => spoken(say('kit.ttl_max', 'The TTL must be at most __max__ seconds.', { max }));
  assert.equal(ttl(600), 'Die TTL darf höchstens 600 Sekunden betragen.');
  // i18next would see no placeholder in a value either (Node-RED: escapeValue false); `$&` is no pattern here
  assert.equal(ttl('$& __max__'), 'Die TTL darf höchstens $& __max__ Sekunden betragen.');
  assert.equal(asked.length, 1, 'one lookup for both');
  // `count` chooses among a text's forms in i18next: asked every time
  const t = (n: number) => spoken(say('kit.ttl_max', 'The TTL must be at most __max__ seconds.', { max: n, count: n }));
  assert.equal(t(5), 'Die TTL darf höchstens 5 Sekunden betragen.');
  assert.equal(t(6), 'Die TTL darf höchstens 6 Sekunden betragen.');
  assert.equal(asked.length, 3);
  // a key without a text (every core sentence in English) is said in English, and not asked again
  const missing = (what: string) => spoken(say('kit.no_such_sentence', 'No such __what__.', { what }));
  assert.equal(missing('sentence'), 'No such sentence.');
  assert.equal(missing('text'), 'No such text.');
  assert.equal(asked.length, 4);
});
