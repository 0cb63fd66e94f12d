/**
 * A German editor (issue 15): Node-RED with `lang: 'de'` in settings.js (the runtime's language,
 * for statuses) and the editor's language set to German as a user sets it (View › Language, kept
 * as `editor-language`), in a real browser (./browser.ts). The dialogs, the help panel, the
 * account dialog's field labels (served in English by GET /ddns/providers, translated by the
 * ddns-account catalog) and the status of a deployed dns-update node are German.
 * Screenshots: test-output/screenshots/editor-de-*.png.
 */
import { after, before, describe, test } from '../support/suite';
import assert from 'node:assert/strict';
import { waitFor } from '../support/node-red';
import { openEditDialog, openEditor, settle, skipWithoutBrowser, type EditorSession } from './browser';

// The editor's globals, inside page.evaluate() callbacks.
declare const RED: any; // eslint-disable-line @typescript-eslint/no-explicit-any
declare const $: any; // eslint-disable-line @typescript-eslint/no-explicit-any

const skip = skipWithoutBrowser();

/** A dry-run account with a dns-update fed once by an inject, and a Cloudflare account nobody uses. */
const FLOWS = [
  { id: 'de-tab', type: 'tab', label: 'Deutsch' },
  { id: 'de-dry', type: 'ddns-account', name: '', provider: 'dryrun', settings: {} },
  { id: 'de-cf', type: 'ddns-account', name: '', provider: 'cloudflare', settings: { zone: 'example.com' } },
  {
    id: 'de-inject',
    type: 'inject',
    z: 'de-tab',
    props: [{ p: 'payload' }],
    payload: '203.0.113.7',
    payloadType: 'str',
    once: true,
    onceDelay: 0.1,
    repeat: '',
    x: 120,
    y: 80,
    wires: [['de-update']],
  },
  {
    id: 'de-update',
    type: 'dns-update',
    z: 'de-tab',
    account: 'de-dry',
    hostnames: 'home.example.com',
    families: 'auto',
    x: 340,
    y: 80,
    wires: [[], []],
  },
];

describe('a German editor', { skip }, () => {
  let s: EditorSession;
  before(
    async () => {
      s = await openEditor({ flows: FLOWS, settings: { lang: 'de' }, editorLanguage: 'de' });
    },
    { timeout: 120_000 },
  );
  after(
    async () => {
      await s?.close();
    },
    { timeout: 60_000 },
  );

  test('shows German dialogs, help, field labels and statuses', { timeout: 90_000 }, async () => {
    const { page } = s;
    /** The status text a deployed node shows in the editor, once it has one. */
    const statusOf = (id: string) =>
      waitFor(
        () => page.evaluate((nid) => RED.nodes.node(nid)?.status?.text as string | undefined, id),
        30_000,
        100,
        `the status of ${id}`,
      );
    try {
      // The status of the deployed node, in the runtime's language: the dry run "wrote" the address.
      assert.equal(await statusOf('de-update'), 'Probelauf: home.example.com → 203.0.113.7');

      // The node's help panel in the sidebar.
      await page.evaluate(() => RED.sidebar.help.show('dns-update'));
      await page
        .locator('.red-ui-help h3')
        .filter({ hasText: /^Ausgaben$/ })
        .first()
        .waitFor({ state: 'visible' });
      const intro = page.locator('.red-ui-help p').filter({ hasText: 'Lässt DNS-Namen' }).first();
      assert.match(await intro.innerText(), /über ein Anbieterkonto auf Ihre aktuelle öffentliche Adresse zeigen/);
      await s.screenshot('editor-de-help', { selector: '#red-ui-sidebar' });

      // Its edit dialog.
      await openEditDialog(page, 'de-update');
      const label = (forId: string) => page.locator(`label[for="${forId}"]`).first().innerText();
      assert.match(await label('node-input-hostnames'), /Hostnamen/);
      assert.match(await label('node-input-minInterval'), /Mindestabstand/);
      await s.screenshot('editor-de-dns-update');
      await page.locator('#node-dialog-cancel').click();
      await page.locator('#node-dialog-cancel').waitFor({ state: 'detached' });

      // The Cloudflare account: the common field labels come from the catalog, in German.
      await page.evaluate(() => RED.editor.editConfig('', 'ddns-account', 'de-cf'));
      await page.locator('#node-config-dialog-ok').waitFor({ state: 'visible' });
      await settle(page);
      const tray = page.locator('.red-ui-tray').last();
      await tray.getByText('API-Token *', { exact: true }).waitFor({ state: 'visible' });
      const labels: string[] = await page.evaluate(() =>
        $('.red-ui-tray:last label:visible')
          .map((_i: number, el: { textContent: string | null }) => (el.textContent ?? '').trim())
          .get(),
      );
      assert.ok(labels.includes('Anbieter'), `the provider's label is German (${labels.join(' | ')})`);
      assert.ok(labels.includes('TTL neuer Einträge'), `Cloudflare's TTL field (${labels.join(' | ')})`);
      await s.screenshot('editor-de-account');
      await page.locator('#node-config-dialog-cancel').click();
      await page.locator('#node-config-dialog-cancel').waitFor({ state: 'detached' });

      // An account that sends its password over plain http://: the yellow status of a node using
      // it names the secret in German (deployed through the admin API, with the password).
      const res = await s.red.api('/flows', {
        method: 'POST',
        headers: { 'Node-RED-Deployment-Type': 'full' },
        body: [
          ...FLOWS,
          {
            id: 'de-noip',
            type: 'ddns-account',
            provider: 'noip',
            settings: { username: 'alice@example.com', endpoint: 'http://192.0.2.44:8245/nic/update' },
            credentials: { password: 'N0-ip-Secret' },
          },
          {
            id: 'de-plain',
            type: 'dns-update',
            z: 'de-tab',
            account: 'de-noip',
            hostnames: 'nas.example.com',
            x: 340,
            y: 160,
            wires: [[], []],
          },
        ],
      });
      assert.ok(res.status === 200 || res.status === 204, `deploy: ${res.status} ${JSON.stringify(res.body)}`);
      await s.reload();
      assert.equal(await statusOf('de-plain'), 'Passwort unverschlüsselt gesendet (http://)');
      assert.deepEqual(s.pageErrors, [], 'no script errors in the editor');
    } catch (err) {
      await s.screenshot('editor-de-failed').catch(() => undefined);
      throw err;
    }
  });
});
