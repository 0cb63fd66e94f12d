/**
 * What the Home Assistant Node-RED add-on does with this package, end to end: `npm pack` the
 * built package, install the tarball like the add-on's `npm_packages` option does
 * (`npm install --omit=dev --ignore-scripts`, no compiler, no dev dependencies) into a clean
 * Node-RED user directory, start Node-RED there (without the checkout linked in), and check through
 * the admin API that:
 * - every node type of package.json registers without error, with its editor file, help, message
 *   catalog and icons served from the installed copy;
 * - every example of examples/ is listed under Import › Examples and deploys (POST /flows) with
 *   every node type known: the add-on ships node-red-contrib-home-assistant-websocket (its
 *   package.json pins 0.80.3), so that package is in the user directory too (linked from
 *   test/fixtures/home-assistant, the same version), and the Home Assistant entity example's
 *   nodes resolve; MQTT is part of Node-RED. This package's nodes start without errors.
 *
 * The test runs on the build made by `npm test` (it does not build again: dist/test is running).
 * Node-RED runs in a network namespace without internet (./isolated.ts): examples contain
 * placeholders and nodes that act on start (public IP sources, ACME), which must not go out.
 * No internet for npm either: the install is `--offline`, from npm's cache, with the dependency
 * versions of this repository's package-lock.json (pack and install: ../support/packed.ts).
 */
import { after, before, describe, test } from '../support/suite';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, waitFor, type StartedNodeRed } from '../support/node-red';
import { installPacked, MODULE, npmUnavailable, PACKAGE as PKG, packPackage } from '../support/packed';
import { errorLines, isolationUnavailable, startIsolatedNodeRed } from './isolated';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const TYPES = Object.keys(PKG['node-red'].nodes);
const EXAMPLES = readdirSync(join(REPO_ROOT, 'examples'))
  .filter((f) => f.endsWith('.json'))
  .map((f) => f.replace(/\.json$/, ''))
  .sort();

/** The Home Assistant websocket nodes, as the add-on ships them (its package.json pins this version). */
const HOME_ASSISTANT_PACKAGE = 'node-red-contrib-home-assistant-websocket';
const HOME_ASSISTANT_VERSION = '0.80.3';
/** Not node types: the structure of a flow. */
const STRUCTURE = new Set(['tab', 'subflow', 'group', 'junction']);

function skipReason(): string | false {
  let why = isolationUnavailable();
  if (!why) why = npmUnavailable();
  if (why && process.env.DDNS_REQUIRE_REAL === '1')
    throw new Error(`the Home Assistant add-on test must run in CI: ${why}`);
  return why ?? false;
}

describe(
  'installed like the Home Assistant add-on does (npm pack, npm install --omit=dev --ignore-scripts)',
  { skip: skipReason() },
  () => {
    let work = '';
    let userDir = ''; // the add-on's /config/node-red
    let packed: { tgz: string; files: string[] };
    let red: StartedNodeRed | undefined;
    let registered: string[] = [];
    const timings: string[] = [];

    before(
      async () => {
        work = mkdtempSync(join(tmpdir(), 'ddns-ha-addon-'));
        userDir = join(work, 'node-red');
        let t0 = Date.now();
        // The tarball npm would publish (the build output is already there; no scripts).
        packed = packPackage(work);
        timings.push(`npm pack ${Date.now() - t0} ms`);

        t0 = Date.now();
        installPacked(packed.tgz, userDir);
        timings.push(`npm install ${Date.now() - t0} ms`);
        // Preinstalled in the add-on; here linked from test/fixtures/home-assistant (the same
        // version; scripts/test.mjs installs it there, out of the repository's node_modules).
        const ha = join(REPO_ROOT, 'test', 'fixtures', 'home-assistant', 'node_modules', HOME_ASSISTANT_PACKAGE);
        assert.equal(
          JSON.parse(readFileSync(join(ha, 'package.json'), 'utf8')).version,
          HOME_ASSISTANT_VERSION,
          `${HOME_ASSISTANT_PACKAGE} in node_modules is the add-on's version`,
        );
        symlinkSync(ha, join(userDir, 'node_modules', HOME_ASSISTANT_PACKAGE), 'dir');

        t0 = Date.now();
        // The add-on's environment: the Supervisor's token (the server node's "I use the Home
        // Assistant Add-on" reads it); its address does not resolve in here, as nothing outside does.
        red = await startIsolatedNodeRed({
          userDir,
          installPackage: false,
          env: { SUPERVISOR_TOKEN: 'supervisor-token-of-the-test' },
        });
        timings.push(`Node-RED start ${Date.now() - t0} ms`);
        registered = ((await red.api('/nodes')).body as Json[]).flatMap((s) => s.types ?? []);
      },
      { timeout: 150_000 },
    );

    after(
      async () => {
        try {
          await red?.stop();
        } finally {
          if (work) rmSync(work, { recursive: true, force: true }); // the user directory and the .tgz
        }
      },
      { timeout: 30_000 },
    );

    test('the tarball holds the built nodes, their editor files and the examples, and no sources or tests', (t) => {
      t.diagnostic(timings.join(', '));
      const files = new Set(packed.files);
      for (const [type, file] of Object.entries<string>(PKG['node-red'].nodes)) {
        const base = file.replace(/\.js$/, '');
        const name = base.split('/').pop()!;
        assert.ok(files.has(file), `${type}: ${file}`);
        assert.ok(files.has(`${base}.html`), `${type}: ${base}.html (editor)`);
        assert.ok(files.has(`dist/src/nodes/locales/en-US/${name}.json`), `${type}: message catalog`);
        assert.ok(files.has(`dist/src/nodes/locales/en-US/${name}.html`), `${type}: help`);
      }
      for (const ex of EXAMPLES) assert.ok(files.has(`examples/${ex}.json`), `examples/${ex}.json`);
      for (const f of files) {
        assert.doesNotMatch(
          f,
          /^(src|test|bench|scripts)\/|^dist\/(test|bench)\/|\.ts$/,
          `${f} does not belong in the package`,
        );
      }
    });

    describe('every node type of package.json registers from the installed copy, without error', () => {
      let mod: Json;
      let editorHtml = '';
      let catalogs: Json = {};
      before(async () => {
        mod = (await red!.api(`/nodes/${MODULE}`)).body as Json;
        editorHtml = await (await fetch(`${red!.url}/nodes`, { headers: { accept: 'text/html' } })).text();
        catalogs = (await (
          await fetch(`${red!.url}/nodes/messages?lng=en-US`, { headers: { accept: 'application/json' } })
        ).json()) as Json;
      });

      test('the package: its version, loaded from the installed tarball, its icons served', async () => {
        assert.equal(mod.version, PKG.version);
        assert.equal(
          realpathSync(mod.path),
          realpathSync(join(userDir, 'node_modules', MODULE)),
          'loaded from the installed tarball, not the checkout',
        );
        const icons: string[] = (await red!.api('/icons')).body[MODULE] ?? [];
        const shipped = packed.files
          .filter((f) => f.startsWith('dist/src/nodes/icons/'))
          .map((f) => f.split('/').pop()!);
        assert.deepEqual([...icons].sort(), [...shipped].sort(), 'the icons of the package are served');
      });

      for (const type of TYPES) {
        test(type, () => {
          const set = (mod.nodes as Json[]).find((s) => s.id === `${MODULE}/${type}`);
          assert.ok(set, `node set ${MODULE}/${type} is known to Node-RED`);
          assert.equal(set.err, undefined, `${type} failed to load: ${set.err}`);
          assert.equal(set.enabled, true);
          assert.ok(set.types.includes(type), `${type} registered (set types: ${set.types.join(', ') || 'none'})`);
          assert.ok(editorHtml.includes(`data-template-name="${type}"`), `${type}: its edit dialog is served`);
          assert.ok(editorHtml.includes(`data-help-name="${type}"`), `${type}: its help is served`);
          assert.ok(catalogs[`${MODULE}/${type}`], `${type}: its message catalog is served`);
        });
      }
    });

    describe('every example is listed under Import › Examples and deploys', { timeout: 90_000 }, () => {
      // What each provider keeps as a secret (the runtime's catalog, as the account dialog shows it).
      let providers: Json[] = [];
      before(async () => {
        providers = (await red!.api('/ddns/providers')).body as Json[];
      });

      test('Node-RED lists every example of examples/', async () => {
        const listed = ((await red!.api(`/library/examples/flows/${MODULE}`)).body as Json[]).map((e) => e.fn).sort();
        assert.deepEqual(listed, EXAMPLES, 'Node-RED lists every example of examples/');
      });

      for (const name of EXAMPLES) {
        test(name, async (t) => {
          const res = await red!.api(`/library/examples/flows/${MODULE}/${encodeURIComponent(name)}`);
          assert.equal(res.status, 200, `examples/${name}.json is served`);
          const flow = asDeployable(res.body as Json[], name);
          const unknown = [...new Set(flow.map((n) => n.type as string))].filter(
            (ty) => !STRUCTURE.has(ty) && !registered.includes(ty),
          );
          assert.deepEqual(unknown, [], `examples/${name}.json uses node types that no installed package provides`);

          // As imported: Node-RED accepts it. Accounts without their secrets say what is missing
          // (examples never hold credentials; their comments tell the user what to fill in).
          const asIs = await deploy(red!, flow);
          assert.doesNotMatch(asIs.log, /Waiting for missing types/, 'every node type resolves');
          if (asIs.errors.length)
            t.diagnostic(`as imported, before the credentials are filled in:\n${asIs.errors.join('\n')}`);

          // Filled in (secrets entered for every account) and without the third-party nodes: this
          // package's nodes must start without any error.
          const filled = withSecrets(withoutTypes(flow, new Set(unknown)), providers);
          const started = await deploy(red!, filled);
          assert.match(started.log, /Started flows/, `examples/${name}.json starts`);
          assert.deepEqual(
            started.errors,
            [],
            `examples/${name}.json, credentials filled in: no errors while its nodes start`,
          );
          if (started.offline.length) t.diagnostic(`expected without internet:\n${started.offline.join('\n')}`);
        });
      }
    });
  },
);

/** The example as the editor would deploy it: its nodes on a tab (examples are exported selections). */
function asDeployable(nodes: Json[], name: string): Json[] {
  const tab = nodes.find((n) => n.type === 'tab');
  if (tab) return nodes;
  const z = `example-${name}`;
  return [{ id: z, type: 'tab', label: name }, ...nodes.map((n) => ('x' in n || 'wires' in n ? { ...n, z } : n))];
}

/** The flow without nodes of these types (and without the wires into them). */
function withoutTypes(flow: Json[], types: Set<string>): Json[] {
  const gone = new Set(flow.filter((n) => types.has(n.type)).map((n) => n.id));
  return flow
    .filter((n) => !gone.has(n.id))
    .map((n) =>
      Array.isArray(n.wires) ? { ...n, wires: n.wires.map((port: string[]) => port.filter((id) => !gone.has(id))) } : n,
    );
}

/** Example secrets, as a user would type them, for every account of the flow (per its provider) and cert-renew's PKCS#12 password. */
function withSecrets(flow: Json[], providers: Json[]): Json[] {
  const sample: Record<string, string> = {
    token: 'c0ffee00-0000-4000-8000-000000000000',
    password: 'example-password',
    tsigSecret: Buffer.alloc(32, 7).toString('base64'),
  };
  return flow.map((n) => {
    // cert-renew's PKCS#12 file takes its password from the node's own credentials.
    if (n.type === 'cert-renew' && n.pkcs12) return { ...n, credentials: { p12Password: 'example-p12-password' } };
    if (n.type !== 'ddns-account') return n;
    const def = providers.find((p) => p.id === n.provider);
    const keys: string[] = (def?.fields ?? []).filter((f: Json) => f.kind === 'password').map((f: Json) => f.key);
    return keys.length
      ? { ...n, credentials: Object.fromEntries(keys.map((k) => [k, sample[k] ?? 'example-secret'])) }
      : n;
  });
}

/**
 * POST /flows (a full deploy) and wait until Node-RED has started the flows (or says it waits for
 * missing types); the log of that deploy and its error lines up to that point (`offline`: those
 * that only say the internet is unreachable, as it is in here).
 */
async function deploy(
  red: StartedNodeRed,
  flow: Json[],
): Promise<{ log: string; errors: string[]; offline: string[] }> {
  const from = red.log().length;
  const res = await red.api('/flows', { method: 'POST', body: flow, headers: { 'Node-RED-Deployment-Type': 'full' } });
  assert.ok(res.status === 200 || res.status === 204, `POST /flows: ${res.status} ${JSON.stringify(res.body)}`);
  const log = await waitFor(
    () => {
      const l = red.log().slice(from);
      return /Started flows|Waiting for missing types/.test(l) ? l : '';
    },
    20_000,
    50,
    'Node-RED to start the deployed flows',
  );
  return { log, ...errorLines(log.split('Started flows')[0]!) };
}
