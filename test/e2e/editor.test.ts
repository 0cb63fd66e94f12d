/**
 * What a user sees and touches in the Node-RED editor, in a real browser (Debian's Chromium,
 * headless, see ./browser.ts) against a real Node-RED with this package installed, isolated from
 * the internet (./isolated.ts):
 * - the DDNS palette category shows every node type of the package (config nodes: registered);
 * - each node is dragged from the palette onto the workspace, its edit dialog opened, the required
 *   fields filled (dns-update: a new dry-run account; cert-renew: a new RFC 2136 account, since
 *   DNS-01 needs TXT records), closed with Done; then it must not show the red "invalid" triangle;
 *   the flow is deployed and the admin API (GET /flows) must hold those nodes, without secrets;
 * - an example of this package is imported through the menu (Import › Examples ›
 *   node-red-contrib-ddns) and deployed: no unknown node types, no deploy warning or error;
 * - the README's picture of a real flow (test-output/screenshots/readme-flow.png; copied to
 *   docs/flow.png when DDNS_UPDATE_SCREENSHOTS=1).
 * Screenshots of every step go to test-output/screenshots/ (editor-*.png).
 * Version-neutral: runs on Node-RED 4.1 and 5 (the test matrix).
 */
import { after, before, describe, test } from '../support/suite';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { REPO_ROOT, waitFor } from '../support/node-red';
import { errorLines } from './isolated';
import {
  clickDone,
  deploy,
  dropFromPalette,
  nodeState,
  openConfigDialog,
  openEditDialog,
  openEditor,
  SCREENSHOT_DIR,
  skipWithoutBrowser,
  triangleShown,
  WORKSPACE,
  type EditorSession,
} from './browser';

// The editor's globals, inside page.evaluate() callbacks.
declare const RED: any; // eslint-disable-line @typescript-eslint/no-explicit-any
declare const $: any; // eslint-disable-line @typescript-eslint/no-explicit-any

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const PKG = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8'));
const MODULE: string = PKG.name;
/** The node types of this package (each node set registers the type of its name). */
const TYPES = Object.keys(PKG['node-red'].nodes);
const EXAMPLES_DIR = join(REPO_ROOT, 'examples');
const TSIG_SECRET = Buffer.from('e2e-test-secret-never-in-flows!!').toString('base64');

const skip = skipWithoutBrowser();

describe('the Node-RED editor in a real browser', { skip }, () => {
  let s: EditorSession;
  before(
    async () => {
      // An environment variable for the TypedInput test (Node-RED's env type reads the process's).
      s = await openEditor({ env: { E2E_DDNS_NAMES: 'env.example.com' } });
    },
    { timeout: 120_000 },
  );
  after(
    async () => {
      await s?.close();
    },
    { timeout: 60_000 },
  );

  /** Run a step; on failure save test-output/screenshots/editor-failed-<name>.png first. */
  async function step<T>(name: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      await s.screenshot(`editor-failed-${name}`).catch(() => undefined);
      throw err;
    }
  }

  for (const type of TYPES) {
    test(`the DDNS palette category shows every node type of this package: ${type}`, { timeout: 60_000 }, async () => {
      const { page, red } = s;
      const sets: Json[] = (await red.api('/nodes')).body;
      const set = sets.find((x) => x.id === `${MODULE}/${type}`);
      assert.ok(set, `Node-RED did not load the node set ${MODULE}/${type}`);
      assert.equal(set.err, undefined, `${type} failed to load: ${set.err}`);
      assert.ok(set.types.includes(type), `${type} registered (set types: ${set.types.join(', ')})`);
      const def = await page.evaluate((ty) => {
        const d = RED.nodes.getType(ty);
        return d ? { category: d.category, help: String(RED.nodes.getNodeHelp(ty) ?? '').length } : null;
      }, type);
      assert.ok(def, `the editor has no definition for ${type} (its .html did not load)`);
      assert.ok(def.help > 0, `${type} has help text`);
      if (def.category === 'config') return; // config nodes live in the config sidebar, not in the palette
      assert.equal(def.category, 'DDNS', `${type} belongs to the DDNS category`);
      await page
        .locator(`#red-ui-palette-container-DDNS .red-ui-palette-node[data-palette-type="${type}"]`)
        .waitFor({ state: 'visible' });
    });
  }
  test('the DDNS palette category shows every node type of this package', { timeout: 60_000 }, async () => {
    const { page } = s;
    await page.locator('#red-ui-palette-container-DDNS').scrollIntoViewIfNeeded();
    await s.screenshot('editor-palette', { selector: '#red-ui-palette-container-DDNS' });
    assert.deepEqual(s.pageErrors, [], 'no script errors in the editor');
  });

  test('the palette filter finds the nodes by the words users type (issue 15)', { timeout: 60_000 }, async () => {
    const { page } = s;
    const search = page.locator('#red-ui-palette-search input');
    // Node-RED's filter matches the type and the palette label; the package adds its words there.
    const expected: Array<[string, string[]]> = [
      ['ddns', ['public-ip-watch', 'dns-update', 'reachability-check']],
      ['duckdns', ['dns-update', 'cert-renew']],
      ['cloudflare', ['dns-update', 'cert-renew']],
      ['no-ip', ['dns-update']],
      ['certificate', ['cert-renew']],
      ['my ip', ['public-ip-watch']],
      ['port forwarding', ['reachability-check']],
      ['letsencrypt', ['cert-renew']], // last: the screenshot below shows it
    ];
    try {
      for (const [word, types] of expected) {
        await search.fill(word);
        await search.press('End'); // the search box filters on keyup
        await waitFor(
          async () => {
            const shown: string[] = await page.evaluate(() =>
              $('#red-ui-palette-container-DDNS .red-ui-palette-node:visible')
                .map((_i: number, el: { getAttribute(n: string): string | null }) =>
                  el.getAttribute('data-palette-type'),
                )
                .get(),
            );
            return types.every((t) => shown.includes(t)) && shown.every((t) => types.includes(t)) ? shown : undefined;
          },
          10_000,
          50,
          `the palette filter "${word}" showing ${types.join(', ')}`,
        );
      }
      await s.screenshot('editor-palette-search', { selector: '#red-ui-palette' });
      // The palette entry still reads as before: the words are for the filter only.
      const label = await page.locator('.red-ui-palette-node[data-palette-type="cert-renew"] .red-ui-palette-label');
      assert.doesNotMatch(await label.innerText(), /letsencrypt/);
    } finally {
      await search.fill('');
      await search.press('End');
    }
  });

  // The node types of the palette (config nodes, the accounts, are made in the nodes' dialogs); each
  // is placed in a test of its own, then the flow of all of them is deployed.
  const PALETTE_TYPES = TYPES.filter(
    (ty) => !/category:\s*["']config["']/.test(readFileSync(join(REPO_ROOT, 'nodes', `${ty}.html`), 'utf8')),
  );
  const placed = new Map<string, string>(); // type → node id
  let row = 0;
  for (const type of PALETTE_TYPES) {
    test(
      `each node: dragged onto the workspace, edited, Done, valid; the flow deploys: ${type}`,
      { timeout: 90_000 },
      async (t) => {
        const { page } = s;
        const category: string | null = await page.evaluate((ty) => RED.nodes.getType(ty)?.category ?? null, type);
        if (category === null) return t.skip('not in the editor, so not exercised here (see the palette test)');
        assert.notEqual(category, 'config', `${type} is a palette node in the editor, as in nodes/${type}.html`);
        await step(type, async () => {
          const id = await dropFromPalette(page, type, 220, 80 + row++ * 70);
          placed.set(type, id);
          // A node with a required config node (an account) starts invalid: the triangle shows.
          const needsConfig: boolean = await page.evaluate((ty) => {
            const d = RED.nodes.getType(ty).defaults;
            return Object.keys(d).some(
              (k) => d[k].type && d[k].required && RED.nodes.getType(d[k].type)?.category === 'config',
            );
          }, type);
          if (needsConfig)
            assert.equal(await triangleShown(page, id), true, `${type} without its account shows the invalid triangle`);

          await openEditDialog(page, id);
          await (FILL[type] ?? fillName)(page, type);
          await s.screenshot(`editor-dialog-${type}`);
          await clickDone(page);

          const state = await nodeState(page, id);
          assert.equal(
            state.valid,
            true,
            `${type} is valid after Done (invalid: ${JSON.stringify(state.validationErrors)})`,
          );
          assert.equal(await triangleShown(page, id), false, `${type} shows no red triangle after Done`);
          for (const acc of state.configNodes) {
            assert.equal(
              acc.valid,
              true,
              `${type}'s ${acc.type} "${acc.label}" is valid (invalid: ${JSON.stringify(acc.validationErrors)})`,
            );
          }
        });
      },
    );
  }
  test(
    'each node: dragged onto the workspace, edited, Done, valid; the flow deploys',
    { timeout: 90_000 },
    async () => {
      const { page, red } = s;
      await s.screenshot('editor-nodes-placed', { selector: WORKSPACE });

      await step('deploy', async () => {
        const startErrors = await deployAndStart(page, red, 'the deployed flows');
        assert.deepEqual(startErrors, [], 'no errors while the deployed nodes start');
      });

      const flows: Json[] = (await red.api('/flows')).body;
      const byId = new Map(flows.map((n) => [n.id, n]));
      for (const [type, id] of placed) {
        const n = byId.get(id);
        assert.ok(n, `the deployed flow holds the ${type} node ${id}`);
        assert.equal(n.type, type);
        assert.equal(n.name, `e2e ${type}`, `${type}: the name typed in the dialog was deployed`);
      }
      const account = (type: string) => byId.get(byId.get(placed.get(type)!)?.account);
      if (placed.has('dns-update')) {
        assert.equal(byId.get(placed.get('dns-update')!)!.hostnames, 'home.example.com');
        assert.equal(
          account('dns-update')?.provider,
          'dryrun',
          'dns-update uses the dry-run account created in its dialog',
        );
      }
      if (placed.has('cert-renew')) {
        assert.equal(
          account('cert-renew')?.provider,
          'rfc2136',
          'cert-renew uses the RFC 2136 account created in its dialog',
        );
        assert.equal(account('cert-renew')?.settings?.server, '127.0.0.1:53053');
      }
      assert.ok(!JSON.stringify(flows).includes(TSIG_SECRET), 'the TSIG secret is not in the flows (credentials only)');
      if (placed.has('public-ip-watch'))
        await checkRouterPush(red.url, byId.get(placed.get('public-ip-watch')!)!, flows);
      await s.screenshot('editor-flow-deployed');
      assert.deepEqual(s.pageErrors, [], 'no script errors in the editor');
    },
  );

  test('an example of this package is imported through the menu and deployed', { timeout: 60_000 }, async (t) => {
    const { page, red } = s;
    const files = readdirSync(EXAMPLES_DIR)
      .filter((f) => f.endsWith('.json'))
      .sort();
    if (files.length === 0) return t.skip('examples/ holds no flows yet');
    // Only this package's and Node-RED's own types: third-party nodes (Home Assistant) are not installed here.
    const known: string[] = await page.evaluate(() => {
      const out: string[] = [];
      RED.nodes.registry.getNodeTypes().forEach((ty: string) => out.push(ty));
      return out;
    });
    const typesOf = (f: string) =>
      new Set<string>(JSON.parse(readFileSync(join(EXAMPLES_DIR, f), 'utf8')).map((n: Json) => n.type));
    const usable = files.filter((f) =>
      [...typesOf(f)].every((ty) => ['tab', 'group', 'junction'].includes(ty) || known.includes(ty)),
    );
    const file = usable.find((f) => f === '01-getting-started.json') ?? usable[0];
    if (!file) return t.skip(`every example needs node types that are not installed here (${files.join(', ')})`);
    const name = file.replace(/\.json$/, '');
    t.diagnostic(`importing examples/${file}`);

    const existing: string[] = await page.evaluate(() => {
      const ids: string[] = [];
      RED.nodes.eachNode((n: Json) => {
        ids.push(n.id);
      });
      return ids;
    });
    await step(`import-${name}`, async () => {
      await page.locator('#red-ui-header-button-sidemenu').click();
      await page.locator('#menu-item-import').click();
      await page.locator('#red-ui-clipboard-dialog').waitFor({ state: 'visible' });
      await page.locator('#red-ui-tab-red-ui-clipboard-dialog-import-tab-examples a').first().click();
      const tab = page.locator('#red-ui-clipboard-dialog-import-tab-examples');
      await tab.locator('.red-ui-treeList-label', { hasText: MODULE }).first().click();
      await tab
        .locator('.red-ui-treeList-label-text', { hasText: new RegExp(`^${name}$`) })
        .first()
        .click();
      await page.locator('#red-ui-clipboard-dialog-import-opt-new').click(); // into a new flow tab
      await s.screenshot(`editor-import-dialog`);
      await page.locator('#red-ui-clipboard-dialog-ok').click();
      await page.locator('#red-ui-clipboard-dialog').waitFor({ state: 'hidden' });
      // The editor fetches the example from the runtime, then adds its nodes.
      await page.waitForFunction(
        (old) => {
          let added = 0;
          RED.nodes.eachNode((n: Json) => {
            if (!old.includes(n.id)) added++;
          });
          return added > 0;
        },
        existing,
        { timeout: 15_000 },
      );
      // Imported nodes may hang on the mouse until placed: put them down.
      if (await page.evaluate(() => RED.view.state() === RED.state.IMPORT_DRAGGING)) {
        await page.locator('#red-ui-workspace-chart').click({ position: { x: 60, y: 60 } });
      }
    });
    const imported: Json = await page.evaluate((old) => {
      const nodes: Json[] = [];
      RED.nodes.eachNode((n: Json) => {
        if (!old.includes(n.id)) nodes.push(n);
      });
      return {
        types: nodes.map((n) => n.type),
        unknown: nodes.filter((n) => n.type === 'unknown').map((n) => n.name),
      };
    }, existing);
    t.diagnostic(`imported: ${JSON.stringify(imported)}`);
    assert.deepEqual(imported.unknown, [], `examples/${file}: no unknown node types after import`);
    for (const ty of typesOf(file)) {
      if (ty !== 'tab' && (await page.evaluate((x) => RED.nodes.getType(x)?.category !== 'config', ty))) {
        assert.ok(imported.types.includes(ty), `the imported flow holds a ${ty} node`);
      }
    }
    await page.evaluate(() => RED.view.clearSelection?.());
    await s.screenshot(`editor-example-${name}`, { selector: WORKSPACE });

    await step(`deploy-${name}`, async () => {
      const startErrors = await deployAndStart(page, red, 'the example');
      assert.deepEqual(startErrors, [], `examples/${file}: no errors while its nodes start`);
    });
    const deployed = new Set<string>(((await red.api('/flows')).body as Json[]).map((n) => n.type));
    for (const ty of typesOf(file))
      assert.ok(deployed.has(ty), `the deployed flows hold a ${ty} node from examples/${file}`);
    assert.deepEqual(s.pageErrors, [], 'no script errors in the editor');
  });

  test('README screenshot: a real flow in the editor', { timeout: 60_000 }, async () => {
    const { page, red } = s;
    // Complete the hand-written nodes with the editor's defaults (as an export from the editor would be).
    const flows: Json[] = await page.evaluate(
      (nodes) =>
        nodes.map((n: Json) => {
          const d = RED.nodes.getType(n.type)?.defaults ?? {};
          const full: Json = {};
          for (const k of Object.keys(d)) full[k] = JSON.parse(JSON.stringify(d[k].value ?? ''));
          return { ...full, ...n };
        }),
      readmeFlow(new URL(red.url).port),
    );
    const res = await red.api('/flows', {
      method: 'POST',
      body: flows,
      headers: { 'Node-RED-Deployment-Type': 'full' },
    });
    assert.ok(
      res.status === 200 || res.status === 204,
      `deploy through the admin API: ${res.status} ${JSON.stringify(res.body)}`,
    );
    await step('readme', async () => {
      await s.reload();
      await page.evaluate(() => {
        RED.workspaces.show('readme-tab');
        RED.workspaces.hide?.('readme-svc-tab'); // the helper service runs, out of the picture
        RED.menu.setSelected('menu-item-sidebar', false); // the whole width for the flow
      });
      // Let the nodes report: the watcher finds the address, the dry-run account "updates" the name,
      // the reachability check answers.
      const statuses = await page
        .waitForFunction(
          () => {
            const st = (id: string) => RED.nodes.node(id)?.status?.text;
            return st('readme-watch') && st('readme-update') && st('readme-reach')
              ? ['readme-watch', 'readme-update', 'readme-reach'].map(st)
              : false;
          },
          undefined,
          { timeout: 30_000 },
        )
        .then((h) => h.jsonValue())
        .catch(() => null);
      await page.evaluate(() => RED.view.clearSelection?.());
      await page.mouse.move(2, 2); // no hover highlight in the picture
      // The flow and a margin around it, not the empty canvas.
      const chart = (await page.locator('#red-ui-workspace-chart').boundingBox())!;
      const extent: { w: number; h: number } = await page.evaluate(() => {
        let w = 0;
        let h = 0;
        RED.nodes.eachNode((n: Json) => {
          if (n.z !== 'readme-tab') return;
          w = Math.max(w, n.x + (n.w ?? 140) / 2);
          h = Math.max(h, n.y + (n.h ?? 30) / 2 + 20); // + the status line
        });
        return { w, h };
      });
      const clip = {
        x: chart.x,
        y: chart.y,
        width: Math.min(chart.width, extent.w + 40),
        height: Math.min(chart.height, extent.h + 30),
      };
      const path = await s.screenshot('readme-flow', { clip });
      await page.evaluate(() => RED.menu.setSelected('menu-item-sidebar', true));
      assert.ok(statuses, 'every node of the README flow shows a status');
      assert.deepEqual(
        await page.evaluate(() =>
          ['readme-watch', 'readme-update', 'readme-reach'].filter((id) => !RED.nodes.node(id).valid),
        ),
        [],
        'no invalid node in the README flow',
      );
      if (process.env.DDNS_UPDATE_SCREENSHOTS === '1') {
        mkdirSync(join(REPO_ROOT, 'docs'), { recursive: true });
        copyFileSync(path, join(REPO_ROOT, 'docs', 'flow.png'));
      }
    });
  });
  test(
    'TypedInput host names resolve env, msg and flow values in the deployed flow (issue 15)',
    { timeout: 60_000 },
    async () => {
      const { page, red } = s;
      const at = (x: number, y: number) => ({ x, y });
      const update = (id: string, hostnames: string, hostnamesType: string, y: number) => ({
        id,
        type: 'dns-update',
        name: '',
        account: 'tin-acc',
        hostnames,
        hostnamesType,
        families: 'ipv4',
        minInterval: 0,
        contextStore: '',
        alertAfter: 3,
        ...at(560, y),
        wires: [[], []],
      });
      const flow = [
        { id: 'tin-acc', type: 'ddns-account', name: 'typed dry run', provider: 'dryrun', settings: {} },
        {
          id: 'tin-inj',
          type: 'inject',
          name: 'address',
          props: [{ p: 'payload' }, { p: 'topic', vt: 'str' }],
          repeat: '',
          crontab: '',
          once: false,
          onceDelay: 0.1,
          topic: 'msg.example.com',
          payload: '203.0.113.9',
          payloadType: 'str',
          ...at(140, 440),
          wires: [['tin-chg']],
        },
        {
          id: 'tin-chg',
          type: 'change',
          name: 'flow.ddnsNames',
          rules: [{ t: 'set', p: 'ddnsNames', pt: 'flow', to: 'flow.example.com', tot: 'str' }],
          ...at(330, 440),
          wires: [['tin-env', 'tin-msg', 'tin-flow']],
        },
        update('tin-env', 'home.example.com', 'str', 400),
        update('tin-msg', 'topic', 'msg', 440),
        update('tin-flow', 'ddnsNames', 'flow', 480),
      ];
      await page.evaluate((f) => RED.view.importNodes(f, { addFlow: true, touchImport: true }), flow);
      await page.waitForFunction(() => !!RED.nodes.node('tin-env'));
      if (await page.evaluate(() => RED.view.state() === RED.state.IMPORT_DRAGGING))
        await page.locator('#red-ui-workspace-chart').click({ position: { x: 60, y: 60 } });

      // The env one is set through the dialog, as a user does: the type menu, then the variable's name.
      await step('typed-input-env', async () => {
        await openEditDialog(page, 'tin-env');
        const row = page.locator('.form-row:has(#node-input-hostnames)');
        await row.locator('.red-ui-typedInput-type-select').click();
        await page.locator('.red-ui-typedInput-options a[value="env"]').click();
        await typedInput(page, 'hostnames').fill('E2E_DDNS_NAMES');
        await s.screenshot('editor-dialog-typed-input-env');
        await clickDone(page);
      });
      // The msg one shows its type in the dialog as saved.
      await openEditDialog(page, 'tin-msg');
      assert.equal(await page.evaluate(() => $('#node-input-hostnames').typedInput('type')), 'msg');
      assert.equal(await page.evaluate(() => $('#node-input-hostnames').typedInput('value')), 'topic');
      await page.locator('#node-dialog-cancel').click();
      for (const id of ['tin-env', 'tin-msg', 'tin-flow']) {
        const st = await nodeState(page, id);
        assert.equal(st.valid, true, `${id} is valid: ${JSON.stringify(st.validationErrors)}`);
      }

      const errors = await deployAndStart(page, red, 'the TypedInput flow');
      assert.deepEqual(errors, []);
      const deployed = new Map(((await red.api('/flows')).body as Json[]).map((n) => [n.id, n]));
      assert.deepEqual(
        [deployed.get('tin-env')?.hostnames, deployed.get('tin-env')?.hostnamesType],
        ['E2E_DDNS_NAMES', 'env'],
      );
      const res = await red.api('/inject/tin-inj', { method: 'POST' });
      assert.equal(res.status, 200);
      // Each node's status, as the editor shows it: the names it resolved.
      const expected: Record<string, string> = {
        'tin-env': 'env.example.com',
        'tin-msg': 'msg.example.com',
        'tin-flow': 'flow.example.com',
      };
      for (const [id, name] of Object.entries(expected)) {
        const text = await waitFor(
          async () => {
            const t: string | undefined = await page.evaluate((i) => RED.nodes.node(i)?.status?.text, id);
            return t && t.includes('203.0.113.9') ? t : undefined;
          },
          15_000,
          50,
          `the status of ${id}`,
        );
        assert.equal(text, `dry run: ${name} → 203.0.113.9`, `${id} resolved its names`);
      }
      await s.screenshot('editor-typed-input-statuses', { selector: WORKSPACE });
    },
  );

  test('an imported account without its secret is invalid at once: the red triangle before deploy (issue 15)', async () => {
    const { page } = s;
    const flow = [
      { id: 'imp-acc', type: 'ddns-account', name: '', provider: 'duckdns', settings: {} },
      { id: 'imp-noip', type: 'ddns-account', name: 'No TXT here', provider: 'noip', settings: { username: 'a' } },
      {
        id: 'imp-cert',
        type: 'cert-renew',
        name: '',
        account: '',
        names: 'myhome.duckdns.org',
        ca: 'letsencrypt-staging',
        x: 200,
        y: 160,
        wires: [[], []],
      },
      {
        id: 'imp-deleg',
        type: 'cert-renew',
        name: '',
        account: 'imp-noip',
        challengeAccount: 'imp-acc',
        names: 'home.example.com',
        ca: 'letsencrypt-staging',
        x: 200,
        y: 240,
        wires: [[], []],
      },
      {
        id: 'imp-upd',
        type: 'dns-update',
        name: '',
        account: 'imp-acc',
        hostnames: 'myhome.duckdns.org',
        families: 'ipv4',
        minInterval: 60,
        contextStore: '',
        alertAfter: 3,
        x: 200,
        y: 80,
        wires: [[], []],
      },
    ];
    // What Import › Clipboard does (the nodes are marked changed), without the mouse. Last test:
    // the invalid account stays in the editor.
    await page.evaluate((f) => RED.view.importNodes(f, { addFlow: true, touchImport: true }), flow);
    const state = await waitFor(
      async () => {
        const st = await nodeState(page, 'imp-upd');
        return st.configNodes.length ? st : undefined;
      },
      10_000,
      50,
      'the imported nodes',
    );
    if (!state) throw new Error('not imported');
    assert.equal(state.configNodes[0].valid, false, JSON.stringify(state));
    assert.match(JSON.stringify(state.configNodes[0].validationErrors), /token/i);
    assert.equal(state.valid, false, 'dns-update using it is invalid too');
    assert.equal(await triangleShown(page, 'imp-upd'), true, 'the red triangle shows before any dialog was opened');
    await s.screenshot('editor-imported-account-triangle');
    // cert-renew's account list offers only accounts whose provider can write TXT records.
    await openEditDialog(page, 'imp-cert');
    const offered: string[] =
      (await waitFor(
        async () => {
          const values: string[] = await page.evaluate(() =>
            $('#node-input-account option')
              .map((_i: number, o: { value: string }) => o.value)
              .get(),
          );
          return values.includes('imp-acc') ? values : undefined;
        },
        10_000,
        50,
        'the DuckDNS account in the Account list',
      )) ?? [];
    await s.screenshot('editor-cert-renew-accounts');
    await page.locator('#node-dialog-cancel').click();
    assert.ok(offered.includes('imp-acc'), `DuckDNS (TXT) offered: ${offered.join(', ')}`);
    assert.equal(offered.includes('imp-noip'), false, `No-IP (no TXT) not offered: ${offered.join(', ')}`);
    // With a challenge account (delegation, issue 14), the No-IP account may be the names' account;
    // the challenge account list offers only accounts that write TXT records.
    await openEditDialog(page, 'imp-deleg');
    const lists = await waitFor(
      async () => {
        const l: { account: string[]; challenge: string[] } = await page.evaluate(() => ({
          account: $('#node-input-account option')
            .map((_i: number, o: { value: string }) => o.value)
            .get(),
          challenge: $('#node-input-challengeAccount option')
            .map((_i: number, o: { value: string }) => o.value)
            .get(),
        }));
        return l.account.includes('imp-noip') && l.challenge.includes('imp-acc') ? l : undefined;
      },
      10_000,
      50,
      'the No-IP account in the Account list of a delegating cert-renew',
    );
    await s.screenshot('editor-cert-renew-delegation');
    await page.locator('#node-dialog-cancel').click();
    assert.ok(lists, 'both lists filled');
    assert.equal(lists.challenge.includes('imp-noip'), false, 'No-IP is not offered as the challenge account');
  });

  test("acme-dns: the account dialog's Register button fills the username, password and full domain (issue 14)", async () => {
    const { page } = s;
    // Node-RED runs without any network here: the admin endpoint it calls is the runtime test's
    // (cert-renew-delegation.test.ts); the browser's request to it is answered as it answers.
    const answer = {
      username: 'c36f50e8-4632-44f0-83fe-e070fef28a10',
      password: 'htB9mR9DYgcu9bX_afHF62erXaH2TS7bg9KW3F7Z',
      fulldomain: '8e5700ea-a4bf-41c7-8a77-e990661dcc6a.auth.example.org',
      subdomain: '8e5700ea-a4bf-41c7-8a77-e990661dcc6a',
    };
    const posted: unknown[] = [];
    await page.route('**/ddns/acmedns/register', async (route) => {
      posted.push(route.request().postDataJSON());
      await route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(answer) });
    });
    try {
      await page.evaluate(
        (f) => RED.view.importNodes(f, { addFlow: true, touchImport: true }),
        [
          {
            id: 'reg-cert',
            type: 'cert-renew',
            name: '',
            account: '',
            names: 'home.example.com',
            x: 200,
            y: 80,
            wires: [[], []],
          },
        ],
      );
      await openEditDialog(page, 'reg-cert');
      await openConfigDialog(page, 'challengeAccount');
      await page.waitForFunction(() => $('#node-config-input-provider option[value="acmedns"]').length > 0);
      await page.locator('#node-config-input-provider').selectOption('acmedns');
      await page.locator('#ddns-account-setting-endpoint').fill('https://auth.example.org');
      await page.locator('#ddns-account-acmedns-register').click();
      await page.waitForFunction((d) => $('#ddns-account-setting-fulldomain').val() === d, answer.fulldomain);
      const filled = await page.evaluate(() => ({
        user: String($('#node-config-input-apiUser').val()),
        password: String($('#node-config-input-password').val()),
        subdomain: String($('#ddns-account-setting-subdomain').val()),
        said: $('#ddns-account-acmedns-register').parent().text(),
      }));
      await s.screenshot('editor-acmedns-register');
      await page.locator('#node-config-dialog-cancel').click();
      await page.locator('#node-dialog-cancel').click();
      assert.deepEqual(posted, [{ endpoint: 'https://auth.example.org' }]);
      assert.deepEqual(filled.user, answer.username);
      assert.deepEqual(filled.password, answer.password);
      assert.deepEqual(filled.subdomain, answer.subdomain);
      assert.ok(filled.said.includes(`CNAME ${answer.fulldomain}.`), filled.said);
    } finally {
      await page.unroute('**/ddns/acmedns/register');
    }
  });
});

// ---- filling the dialogs -------------------------------------------------------------------------

type Filler = (page: Page, type: string) => Promise<void>;

/** The text field a TypedInput shows for the node property `key` (the original input is hidden). */
const typedInput = (page: Page, key: string) =>
  page.locator(`.form-row:has(#node-input-${key}) input.red-ui-typedInput-input`);

const fillName: Filler = async (page, type) => {
  await page.locator('#node-input-name').fill(`e2e ${type}`);
};

/** Create a new ddns-account from the node's account field (the + button), with these settings. */
/** Deploy from the editor and wait until Node-RED has started the flows; the errors logged meanwhile. */
async function deployAndStart(page: Page, red: { log(): string }, what: string): Promise<string[]> {
  const before = red.log().length;
  await deploy(page);
  await waitFor(() => red.log().slice(before).includes('Started flows'), 20_000, 50, `Node-RED to start ${what}`);
  return errorLines(red.log().slice(before).split('Started flows')[0]!).errors;
}

async function addAccount(
  page: Page,
  provider: string,
  name: string,
  fields: Record<string, string> = {},
  secrets: Record<string, string> = {},
): Promise<void> {
  await openConfigDialog(page, 'account');
  await page.waitForFunction((p) => $(`#node-config-input-provider option[value="${p}"]`).length > 0, provider);
  if (provider === 'rfc2136') {
    // Some 40 providers: the search box narrows the list and picks the one match (issue 13).
    await page.locator('#ddns-account-provider-search').fill('2136');
    await page.waitForFunction(() => $('#node-config-input-provider').val() === 'rfc2136');
    const shown = await page.evaluate(() => $('#node-config-input-provider option:not([hidden])').length);
    assert.equal(shown, 1, 'one provider matches "2136"');
    await page.locator('#ddns-account-provider-search').fill('txt');
    const txt: string[] = await page.evaluate(() =>
      $('#node-config-input-provider option:not([hidden])')
        .map((_i: number, o: { value: string }) => o.value)
        .get(),
    );
    assert.ok(txt.length >= 8 && txt.includes('rfc2136') && !txt.includes('noip'), `"txt": ${txt.join(', ')}`);
  }
  await page.locator('#node-config-input-provider').selectOption(provider);
  await page.locator('#node-config-input-name').fill(name);
  for (const [key, value] of Object.entries(fields)) await page.locator(`#ddns-account-setting-${key}`).fill(value);
  for (const [key, value] of Object.entries(secrets)) await page.locator(`#node-config-input-${key}`).fill(value);
  // The help link speaks of what this provider needs (RFC 2136: a TSIG key, not a token).
  const docs = await page.locator('#ddns-account-docs').innerText();
  if (provider === 'rfc2136') assert.match(docs, /TSIG key/);
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOT_DIR, `editor-dialog-ddns-account-${provider}.png`) });
  await page.locator('#node-config-dialog-ok').click();
  await page.locator('#node-config-dialog-ok').waitFor({ state: 'detached' });
  await page.waitForFunction(() => RED.nodes.node($('#node-input-account').val())?.type === 'ddns-account');
}

/** The push token the public-ip-watch dialog made with its "New token" button. */
let pushToken = '';

/**
 * The router push as a user sets it up: a Router push row added to the sources, its path typed in
 * (the dialog shows the URLs to paste), a new token made in the password field of the credential.
 */
const addRouterPush: Filler = async (page) => {
  const types = page.locator('.ddns-piw-type');
  await types.first().waitFor({ state: 'visible' }); // the source catalog has loaded
  assert.equal(await page.locator('#ddns-piw-push-token-row').isVisible(), false, 'no token field without a push');
  const rows = await types.count();
  await page.locator('.node-input-sources-container-row .red-ui-editableList-addButton').click();
  const row = page.locator('#node-input-sources-container > li').nth(rows);
  // The router source is the router's word, not "this computer" (issue 15).
  await types.nth(rows).selectOption('router');
  assert.match(await row.innerText(), /your router/);
  assert.doesNotMatch(await row.innerText(), /this computer/);
  await types.nth(rows).selectOption('router-push');
  assert.match(await row.innerText(), /Router push.*another source in this list .* must confirm it/s, 'the note');
  await row.locator('[data-key="path"]').fill('/e2e/push');
  assert.match(
    await row.locator('.ddns-piw-push-urls').innerText(),
    /\/e2e\/push\?token=<pass>&ipv4=<ipaddr>&ipv6=<ip6addr>&prefix=<ip6lanprefix>[\s\S]*\/e2e\/push\/nic\/update\?hostname=<name>&myip=<ip>/,
    'the URLs to paste, with the path',
  );
  const token = page.locator('#node-input-pushToken');
  await token.waitFor({ state: 'visible' });
  assert.equal(await token.getAttribute('type'), 'password', 'the token is a password field');
  await page.locator('#ddns-piw-push-token-new').click();
  pushToken = await token.inputValue();
  assert.match(pushToken, /^[A-Za-z0-9]{24}$/, 'a new token that routers can send unescaped');
};

/** After the deploy: the push row is in the flow, its token only in the credentials, and Node-RED serves the path. */
async function checkRouterPush(url: string, watch: Json, flows: Json[]): Promise<void> {
  assert.ok(
    (watch.sources as Json[]).some((x) => x.type === 'router-push' && x.path === '/e2e/push'),
    `the router push was saved: ${JSON.stringify(watch.sources)}`,
  );
  assert.ok(pushToken && !JSON.stringify(flows).includes(pushToken), 'the push token is not in the flows');
  const get = async (path: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`${url}${path}`, { headers });
    return { status: res.status, body: await res.text() };
  };
  const wrong = `Basic ${Buffer.from('router:not-the-token-at-all').toString('base64')}`;
  assert.deepEqual(await get('/e2e/push/nic/update?myip=8.8.8.8', { authorization: wrong }), {
    status: 401,
    body: 'badauth\n',
  });
  // The deployed credential is the one typed: a malformed address is refused after the token check.
  assert.deepEqual(await get(`/e2e/push?token=${pushToken}&ipv4=banana`), {
    status: 400,
    body: 'dnserr ipv4: "banana" is not an IP address\n',
  });
}

const FILL: Record<string, Filler> = {
  'public-ip-watch': async (page, type) => {
    await fillName(page, type);
    await addRouterPush(page, type);
  },
  'dns-update': async (page, type) => {
    await fillName(page, type);
    await addAccount(page, 'dryrun', 'e2e dry run');
    await typedInput(page, 'hostnames').fill('home.example.com');
  },
  'reachability-check': async (page, type) => {
    await fillName(page, type);
    await typedInput(page, 'names').fill('home.example.com');
  },
  'cert-renew': async (page, type) => {
    await fillName(page, type);
    // DNS-01 needs TXT records: a dry-run account cannot do that, an RFC 2136 one can.
    await addAccount(
      page,
      'rfc2136',
      'e2e BIND',
      { server: '127.0.0.1:53053', zone: 'example.com', keyName: 'ddns-key' },
      { tsigSecret: TSIG_SECRET },
    );
    await typedInput(page, 'names').fill('home.example.com');
  },
};

// ---- the README flow -----------------------------------------------------------------------------

/**
 * public-ip-watch → dns-update (dry-run account) → reachability-check, with debug nodes. The
 * watcher asks a what's-my-IP service that a second tab of the same Node-RED serves on loopback
 * (it answers 203.0.113.7, a documentation address), so the statuses are live without the internet.
 */
function readmeFlow(port: string): Json[] {
  const ipService = `http://127.0.0.1:${port}/e2e/what-is-my-ip`;
  return [
    { id: 'readme-tab', type: 'tab', label: 'Home DDNS' },
    { id: 'readme-svc-tab', type: 'tab', label: 'what-is-my-ip (test service)' },
    { id: 'readme-account', type: 'ddns-account', name: 'Dry run (sends nothing)', provider: 'dryrun', settings: {} },
    {
      id: 'readme-comment',
      type: 'comment',
      z: 'readme-tab',
      x: 230,
      y: 40,
      name: 'Keep home.example.com pointed at this connection',
      wires: [],
    },
    {
      id: 'readme-watch',
      type: 'public-ip-watch',
      z: 'readme-tab',
      x: 130,
      y: 120,
      name: 'Public IP',
      sources: [{ type: 'custom', url: ipService, format: 'text' }],
      allowNonPublic: true,
      emitOnStart: true,
      wires: [['readme-update'], ['readme-alerts']],
    },
    {
      id: 'readme-update',
      type: 'dns-update',
      z: 'readme-tab',
      x: 370,
      y: 120,
      account: 'readme-account',
      hostnames: 'home.example.com',
      wires: [['readme-reach'], ['readme-alerts']],
    },
    {
      // No DNS checks here (nothing answers for home.example.com offline): the web service behind the name.
      id: 'readme-reach',
      type: 'reachability-check',
      z: 'readme-tab',
      x: 630,
      y: 120,
      name: 'Reachable from outside?',
      dnsAuthoritative: false,
      dnsPublic: false,
      natDiagnosis: false,
      httpUrls: ipService,
      wires: [['readme-report'], ['readme-alerts']],
    },
    { id: 'readme-report', type: 'debug', z: 'readme-tab', x: 900, y: 100, name: 'report', wires: [] },
    { id: 'readme-alerts', type: 'debug', z: 'readme-tab', x: 900, y: 180, name: 'alerts (notify me)', wires: [] },
    {
      id: 'readme-svc-in',
      type: 'http in',
      z: 'readme-svc-tab',
      x: 150,
      y: 60,
      url: '/e2e/what-is-my-ip',
      method: 'get',
      wires: [['readme-svc-answer']],
    },
    {
      id: 'readme-svc-answer',
      type: 'change',
      z: 'readme-svc-tab',
      x: 350,
      y: 60,
      rules: [{ t: 'set', p: 'payload', pt: 'msg', to: '203.0.113.7', tot: 'str' }],
      wires: [['readme-svc-out']],
    },
    { id: 'readme-svc-out', type: 'http response', z: 'readme-svc-tab', x: 530, y: 60, wires: [] },
  ];
}
