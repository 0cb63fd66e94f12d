/**
 * Issue 14 §5: cert-renew's help panel documents every property of its edit dialog. Every label
 * the dialog shows (nodes/cert-renew.html, texts from the message catalog) has its entry in the
 * help's Properties list (a <dt> naming it), and the help says that output 1 also fires with
 * renewed: false (so a reload belongs behind a switch) and what a stop means.
 */
import { test } from '../support/suite';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '../../..');
const read = (p: string) => readFileSync(join(root, p), 'utf8');

test('cert-renew: every dialog property is documented in the help panel', () => {
  const template = read('nodes/cert-renew.html').split('data-template-name="cert-renew"')[1];
  const labels = JSON.parse(read('nodes/locales/en-US/cert-renew.json'))['cert-renew'].label as Record<string, string>;
  const help = read('nodes/locales/en-US/cert-renew.html');
  const props = help.split('<h3>Properties</h3>')[1]?.split('<h3>')[0] ?? '';
  assert.ok(props, 'the help has a Properties section');
  const entries = [...props.matchAll(/<dt>([^<]+)<\/dt>/g)].flatMap((m) => m[1].split(/,\s*/).map((s) => s.trim()));
  const used = [...new Set([...template.matchAll(/cert-renew\.label\.([A-Za-z0-9]+)/g)].map((m) => m[1]))];
  const notProperties = new Set(['name', 'advanced', 'files']);
  const missing = used
    .filter((k) => !notProperties.has(k))
    .map((k) => labels[k].replace(/\s*\(.*$/, ''))
    .filter((text) => !entries.some((e) => text === e || text.startsWith(`${e} `) || e.startsWith(text)));
  assert.deepEqual(missing, [], 'dialog labels without an entry in the help');
  assert.match(help, /renewed: false<\/code><\/b> after every check/);
  assert.match(help, /behind a <i>switch<\/i> node on <code>msg\.payload\.renewed<\/code>/);
  assert.match(help, /<b>What a stop means\.<\/b>/);
});
