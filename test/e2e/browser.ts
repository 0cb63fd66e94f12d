/**
 * The Node-RED editor in a real browser, for the e2e tests.
 *
 * - Browser: Debian's Chromium (/usr/bin/chromium, never a downloaded one) driven by
 *   playwright-core, headless, with a fresh profile (--user-data-dir) per session and Chromium's
 *   own background traffic switched off (updates, sync, QUIC, component downloads). Every request
 *   that is not for the Node-RED under test is refused and recorded (`blockedRequests`).
 * - Node-RED: startIsolatedNodeRed() — a real Node-RED with this package installed, in a network
 *   namespace of its own, so that deployed nodes cannot reach the internet either.
 * - Screenshots: test-output/screenshots/<name>.png (git-ignored), under stable names, so a run
 *   replaces the previous run's pictures.
 *
 * Tests call `skipWithoutBrowser()` as their `skip` option: a reason when Chromium or network
 * namespaces are missing, an error instead when DDNS_REQUIRE_REAL=1 (CI must run them).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { REPO_ROOT, type StartOptions, type StartedNodeRed } from '../support/node-red';
import { isolationUnavailable, startIsolatedNodeRed } from './isolated';

// The editor's globals, inside page.evaluate() callbacks.
declare const RED: any; // eslint-disable-line @typescript-eslint/no-explicit-any
declare const $: any; // eslint-disable-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export const CHROMIUM = '/usr/bin/chromium';
export const SCREENSHOT_DIR = join(REPO_ROOT, 'test-output', 'screenshots');
/** The workspace (flow tabs and canvas) of the editor, for screenshots of flows. */
export const WORKSPACE = '#red-ui-workspace';

/** Headless, no sandbox (tests run as root), and nothing that phones home. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/** Why the browser tests cannot run here, or null when they can. */
export function browserUnavailable(): string | null {
  if (!existsSync(CHROMIUM)) return `Chromium not found at ${CHROMIUM} (apt-get install chromium)`;
  return isolationUnavailable();
}

/** Use as the `skip` option of a test: false when runnable; a reason otherwise (an error in CI). */
export function skipWithoutBrowser(): string | false {
  const why = browserUnavailable();
  if (why && process.env.DDNS_REQUIRE_REAL === '1') throw new Error(`real browser tests required in CI: ${why}`);
  return why ?? false;
}

export interface EditorSession {
  red: StartedNodeRed;
  context: BrowserContext;
  page: Page;
  /** Uncaught exceptions in the editor page (a broken node .html shows up here). */
  pageErrors: string[];
  /** Requests the page tried to make to anything but the Node-RED under test (refused). */
  blockedRequests: string[];
  /**
   * Save test-output/screenshots/<name>.png: the whole page, the element `selector`, or the region
   * `clip` (page coordinates); its path.
   */
  screenshot(
    name: string,
    opts?: { selector?: string; clip?: { x: number; y: number; width: number; height: number } },
  ): Promise<string>;
  /** Load the editor again (e.g. after flows were deployed through the admin API) and wait for it. */
  reload(): Promise<void>;
  /** Close the browser, stop Node-RED and remove the profile; safe to call twice. */
  close(): Promise<void>;
}

/** Wait until the editor has loaded its nodes and flows and shows the workspace. */
export async function waitForEditor(page: Page): Promise<void> {
  await page.waitForFunction(
    () => {
      const w = globalThis as unknown as { RED?: Json; $?: unknown };
      return !!(
        w.RED?.workspaces?.active?.() &&
        w.$ &&
        $('#red-ui-loading-progress').is(':hidden') &&
        $('.red-ui-palette-node').length > 0
      );
    },
    undefined,
    { timeout: 30_000 },
  );
}

export interface EditorOptions extends StartOptions {
  /**
   * The editor's language as a user sets it (View › Language in the user settings, kept in the
   * browser's localStorage as `editor-language`), e.g. `de`; default: the browser's (en-US).
   */
  editorLanguage?: string;
}

/** Start an isolated Node-RED (startNodeRed options) and open its editor in headless Chromium. */
export async function openEditor(opts: EditorOptions = {}): Promise<EditorSession> {
  const red = await startIsolatedNodeRed(opts);
  const profile = mkdtempSync(join(tmpdir(), 'ddns-chromium-'));
  let context: BrowserContext | undefined;
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    try {
      await context?.close();
    } finally {
      rmSync(profile, { recursive: true, force: true });
      await red.stop();
    }
  };
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1400, height: 860 },
      locale: 'en-US',
      timezoneId: 'UTC',
    });
    const pageErrors: string[] = [];
    const blockedRequests: string[] = [];
    const origin = new URL(red.url).origin;
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith(origin + '/') || url.startsWith('data:') || url.startsWith('blob:')) return route.continue();
      blockedRequests.push(url);
      return route.abort('blockedbyclient');
    });
    if (opts.editorLanguage) {
      await context.addInitScript(
        (lang) =>
          (globalThis as unknown as { localStorage: { setItem(k: string, v: string): void } }).localStorage.setItem(
            'editor-language',
            lang,
          ),
        opts.editorLanguage,
      );
    }
    const page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (err) => pageErrors.push(err.stack ?? err.message));
    page.setDefaultTimeout(15_000);
    await page.goto(red.url, { waitUntil: 'domcontentloaded' });
    await waitForEditor(page);
    return {
      red,
      context,
      page,
      pageErrors,
      blockedRequests,
      screenshot: async (name, shotOpts = {}) => {
        mkdirSync(SCREENSHOT_DIR, { recursive: true });
        const path = join(SCREENSHOT_DIR, `${name}.png`);
        if (shotOpts.selector) await page.locator(shotOpts.selector).screenshot({ path });
        else await page.screenshot({ path, clip: shotOpts.clip });
        return path;
      },
      reload: async () => {
        await page.reload({ waitUntil: 'domcontentloaded' });
        await waitForEditor(page);
      },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

// ---- editor actions (what a user's hands do) -------------------------------------------------------

/** Drag a node from the palette onto the workspace at (x, y) of the visible chart; its new id. */
export async function dropFromPalette(page: Page, type: string, x: number, y: number): Promise<string> {
  const before: string[] = await page.evaluate(
    (ty) => RED.nodes.filterNodes({ type: ty }).map((n: Json) => n.id),
    type,
  );
  await page.locator('#red-ui-palette-search input').fill(''); // the palette unfiltered
  const item = page.locator(`.red-ui-palette-node[data-palette-type="${type}"]`);
  await item.scrollIntoViewIfNeeded();
  await item.dragTo(page.locator('#red-ui-workspace-chart'), { targetPosition: { x, y } });
  const after: string[] = await page.evaluate((ty) => RED.nodes.filterNodes({ type: ty }).map((n: Json) => n.id), type);
  const added = after.filter((id) => !before.includes(id));
  assert.equal(added.length, 1, `dragging ${type} from the palette adds one node`);
  return added[0]!;
}

/** Double-click the node on the workspace: its edit dialog opens. */
export async function openEditDialog(page: Page, id: string): Promise<void> {
  await page.locator(`[id="${id}"] rect.red-ui-flow-node`).dblclick();
  await page.locator('#node-dialog-ok').waitFor({ state: 'visible' });
  await settle(page);
}

/**
 * Open a config node's dialog from the pencil button beside its select (`#node-input-btn-<prop>-add`).
 * The button gets its handler while the node's dialog finishes preparing (a busy browser can be a
 * moment late), so a click that opened nothing is repeated, a few times at most.
 */
export async function openConfigDialog(page: Page, property: string): Promise<void> {
  const ok = page.locator('#node-config-dialog-ok');
  for (let i = 0; ; i++) {
    if (i > 0 && (await ok.isVisible())) break; // it opened just after the wait gave up
    await page.locator(`#node-input-btn-${property}-add`).click();
    try {
      await ok.waitFor({ state: 'visible', timeout: 5_000 });
      break;
    } catch (e) {
      if (i >= 3) throw e;
    }
  }
  await page.waitForFunction(() => !$('.red-ui-tray').is(':animated'));
}

export async function clickDone(page: Page): Promise<void> {
  await page.locator('#node-dialog-ok').click();
  await page.locator('#node-dialog-ok').waitFor({ state: 'detached' });
}

/** Wait until the edit tray has finished sliding in (its fields then have their final places). */
export async function settle(page: Page): Promise<void> {
  await page.waitForFunction(() => $('.red-ui-tray').length > 0 && !$('.red-ui-tray').is(':animated'));
}

export async function triangleShown(page: Page, id: string): Promise<boolean> {
  const cls = (await page.locator(`[id="${id}"] .red-ui-flow-node-error`).getAttribute('class')) ?? '';
  return !cls.split(/\s+/).includes('hide');
}

export async function nodeState(
  page: Page,
  id: string,
): Promise<{ valid: boolean; validationErrors: unknown; configNodes: Json[] }> {
  return page.evaluate((nid) => {
    const n = RED.nodes.node(nid);
    const d = n._def.defaults;
    const configNodes = Object.keys(d)
      .filter((k) => d[k].type && n[k] && RED.nodes.node(n[k]))
      .map((k) => {
        const c = RED.nodes.node(n[k]);
        return { type: c.type, label: c.name || c.id, valid: c.valid, validationErrors: c.validationErrors };
      });
    return { valid: n.valid, validationErrors: n.validationErrors, configNodes };
  }, id);
}

/** Press Deploy and wait until the editor says it is deployed; a warning or error fails with its text. */
export async function deploy(page: Page): Promise<void> {
  await page.locator('#red-ui-header-button-deploy').click();
  const outcome = await page
    .waitForFunction(
      () => {
        if ($('#red-ui-deploy-dialog-confirm-deploy-deploy').is(':visible')) return 'warning';
        if ($('.red-ui-notification-error:visible').length) return 'error';
        return RED.nodes.dirty() ? false : 'deployed';
      },
      undefined,
      { timeout: 20_000 },
    )
    .then((h) => h.jsonValue());
  if (outcome !== 'deployed') {
    const text: string = await page.evaluate(() =>
      $('.red-ui-notification:visible').text().replace(/\s+/g, ' ').trim(),
    );
    const invalid = await page.evaluate(() => {
      const out: string[] = [];
      const note = (n: Json) => {
        if (n.valid === false) out.push(`${n.type} "${n.name || n.id}": ${JSON.stringify(n.validationErrors)}`);
      };
      RED.nodes.eachNode(note);
      RED.nodes.eachConfig(note);
      return out;
    });
    assert.fail(
      `the editor refused to deploy silently (${outcome}): ${text}${invalid.length ? `\ninvalid nodes: ${invalid.join('; ')}` : ''}`,
    );
  }
}
