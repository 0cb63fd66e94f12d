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
import { catalog, spokenText } from '../../src/nodes/adapter';
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
