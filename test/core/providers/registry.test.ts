/**
 * The provider registry loads a provider's module when an account first asks for it (issue 17:
 * memory): in a fresh process, the registry and DuckDNS load DuckDNS's module and what it imports,
 * not the other providers; `allProviders()` (the editor's list) loads every one, and each entry's
 * id is its module's.
 */
import { test } from '../../support/suite';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { allProviders, PROVIDER_IDS, providerById } from '../../../src/core/providers/registry';

const REGISTRY = join(__dirname, '../../../src/core/providers/registry.js');

test('a fresh process that uses DuckDNS loads no other provider module', () => {
  const script = `
    const loaded = () => Object.keys(require.cache).filter((k) => /[\\\\/]providers[\\\\/]/.test(k)).map((k) => k.replace(/^.*[\\\\/]providers[\\\\/]/, ''));
    const r = require(${JSON.stringify(REGISTRY)});
    const atStart = loaded();
    r.providerById('duckdns');
    console.log(JSON.stringify({ atStart, afterDuckDns: loaded() }));`;
  const out = JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' })) as {
    atStart: string[];
    afterDuckDns: string[];
  };
  assert.deepEqual(out.atStart.sort(), ['registry.js', 'types.js']);
  const others = PROVIDER_IDS.filter((id) => id !== 'duckdns');
  const loadedOthers = out.afterDuckDns.filter((f) => others.some((id) => f === `${id}.js`));
  assert.deepEqual(loadedOthers, [], `only DuckDNS's module and its helpers: ${out.afterDuckDns.join(', ')}`);
  assert.ok(out.afterDuckDns.includes('duckdns.js'));
});

test('every entry loads the definition of its own id; an unknown id is undefined', () => {
  assert.deepEqual(
    allProviders().map((p) => p.id),
    PROVIDER_IDS,
  );
  assert.equal(providerById('cloudflare')?.id, 'cloudflare');
  assert.equal(providerById('no-such-provider'), undefined);
});
