/**
 * Which account settings send a secret over plain http:// (src/core/update/account.ts
 * plainHttpSecret), for every provider of the registry: each address field (`url`) of a provider
 * is where its requests, and so its secrets, go.
 */
import { test } from '../../support/suite';
import assert from 'node:assert/strict';
import { allProviders, providerById } from '../../../src/core/providers/registry';
import type { ProviderDefinition } from '../../../src/core/providers/types';
import { plainHttpSecret } from '../../../src/core/update/account';

/** Every provider of the registry (each module loaded). */
const PROVIDERS = allProviders();

const SECRET = 'S3cret-value-0123456789';
/** Every secret field of the provider, set. */
const secretsOf = (def: ProviderDefinition) =>
  Object.fromEntries(def.fields.filter((f) => f.kind === 'password').map((f) => [f.key, SECRET]));

test('every provider: a secret and an http:// address warn; https://, no address or no secret do not', () => {
  let checked = 0;
  for (const def of PROVIDERS) {
    const urls = def.fields.filter((f) => f.kind === 'url');
    const secrets = secretsOf(def);
    for (const f of urls) {
      const at = (url: string) => plainHttpSecret(def, { [f.key]: url }, secrets, def.label);
      const w = at('http://ddns.example.net:8080/update?x=1');
      assert.ok(w, `${def.id}.${f.key}`);
      assert.equal(w.loopback, false);
      assert.equal(w.host, 'ddns.example.net:8080');
      assert.equal(w.field, f.label);
      assert.match(w.message, new RegExp(`^The ${def.label.replace(/[()]/g, '\\$&')} account sends its `));
      assert.match(w.message, /anyone on the way can read it/);
      assert.equal(w.message.includes('/update?x=1'), false, 'no path or query is repeated');
      assert.equal(at('HTTPS://ddns.example.net/')?.host, undefined, `${def.id}: https`);
      assert.equal(plainHttpSecret(def, { [f.key]: 'http://ddns.example.net/' }, {}, def.label), undefined);
      checked++;
    }
    assert.equal(plainHttpSecret(def, {}, secrets, def.label), undefined, `${def.id}: its own server`);
  }
  assert.ok(checked >= 8, `${checked} address fields checked`);
  for (const id of ['duckdns', 'freedns', 'noip', 'dynu', 'dyndns', 'dyndns2', 'cloudflare'])
    assert.ok(
      providerById(id)!.fields.some((f) => f.kind === 'url'),
      `${id} has an address field`,
    );
});

test('this machine: localhost, *.localhost, 127.0.0.0/8, ::1 are worded calmly; other private addresses are not', () => {
  const duck = providerById('duckdns')!;
  const at = (url: string) => plainHttpSecret(duck, { endpoint: url }, { token: SECRET }, 'Home');
  for (const url of [
    'http://localhost:8080/',
    'http://LOCALHOST/',
    'http://duck.localhost/',
    'http://127.0.0.1/',
    'http://127.8.9.10:81/',
    'http://[::1]:8080/',
  ]) {
    const w = at(url)!;
    assert.equal(w.loopback, true, url);
    assert.equal(w.status, 'token over plain http:// (this machine)');
    assert.match(w.message, /on this machine: it does not leave the machine, but it is not encrypted/);
  }
  for (const url of ['http://192.168.1.2/', 'http://10.0.0.1/', 'http://[fd00::1]/', 'http://nas.local/']) {
    const w = at(url)!;
    assert.equal(w.loopback, false, url);
    assert.equal(w.status, 'token sent unencrypted (http://)');
  }
});

test('secret names as a sentence says them', () => {
  const named = (id: string) => {
    const def = providerById(id)!;
    const secrets = secretsOf(def);
    const url = def.fields.find((f) => f.kind === 'url')!;
    return plainHttpSecret(def, { [url.key]: 'http://x.example/' }, secrets, def.label)!.secrets;
  };
  assert.deepEqual(named('cloudflare'), ['API token']);
  assert.deepEqual(named('freedns'), ['update token']);
  assert.deepEqual(named('noip'), ['password']);
});
