/**
 * The parsed host name: `normaliseHostname` (one name) and `parseHostnames` (a list as typed in a
 * node or sent in msg.hostname), the one place where text becomes a `Hostname`.
 */
import { test } from '../support/suite';
import assert from 'node:assert/strict';
import { DdnsError } from '../../src/core/errors';
import { normaliseHostname, parseHostnames, type Hostname } from '../../src/core/hostname';

test('normaliseHostname: lower case, no final dot, punycode; wildcard first label allowed', () => {
  const ok = (s: string): Hostname => {
    const r = normaliseHostname(s);
    assert.ok(r.ok, s);
    return r.name;
  };
  assert.equal(ok(' Home.Example.COM. '), 'home.example.com');
  assert.equal(ok('bücher.example.de'), 'xn--bcher-kva.example.de');
  assert.equal(ok('*.example.com'), '*.example.com');
  assert.equal(ok(`${'a'.repeat(63)}.example.com`), `${'a'.repeat(63)}.example.com`);
});

test('normaliseHostname: what is refused, with a reason', () => {
  const cases: Array<[string, RegExp]> = [
    ['', /empty/],
    ['myhome', /not a full host name: write it with its domain, e\.g\. myhome\.duckdns\.org/],
    ['a..example.com', /empty part between two dots/],
    [`${'a'.repeat(64)}.example.com`, /longer than 63 characters/],
    [`${'a.'.repeat(127)}com`, /longer than the 253 characters/],
    ['-bad.example.com', /only hold letters, digits and hyphens/],
    ['under_score.example.com', /only hold letters, digits and hyphens/],
    ['www.*.example.com', /only hold letters, digits and hyphens/],
    ['1.2.3.4', /looks like an address/],
  ];
  for (const [input, reason] of cases) {
    const r = normaliseHostname(input);
    assert.equal(r.ok, false, input);
    if (!r.ok) assert.match(r.reason, reason, input);
  }
});

test('parseHostnames: separators, duplicates dropped, every bad entry named in one input error', () => {
  assert.deepEqual(parseHostnames('a.example.com, B.example.com\nc.example.com;a.example.com.'), [
    'a.example.com',
    'b.example.com',
    'c.example.com',
  ]);
  assert.deepEqual(parseHostnames(['a.example.com b.example.com', 'A.EXAMPLE.COM']), [
    'a.example.com',
    'b.example.com',
  ]);
  assert.deepEqual(parseHostnames(''), []);
  assert.throws(
    () => parseHostnames('ok.example.com, x, -y.example.com'),
    (e: unknown) =>
      e instanceof DdnsError &&
      e.kind === 'input' &&
      e.code === 'invalid_hostname' &&
      /"x" is not a full host name.*"-y\.example\.com" is not a valid host name/.test(e.message),
  );
});
