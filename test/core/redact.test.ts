/**
 * The redactor's URL patterns (src/core/redact.ts), each on its own, and a text that has nothing
 * for them left as it is: a quick test now decides whether they run at all.
 */
import { test } from '../support/suite';
import assert from 'node:assert/strict';
import { Redactor } from '../../src/core/redact';

test('redact: every URL pattern still hides its secret; other texts are unchanged', () => {
  const r = new Redactor(['known-secret-value']);
  const cases: Array<[string, string]> = [
    ['GET https://user:hunter22@dyn.example.net/nic/update', 'GET https://***:***@dyn.example.net/nic/update'],
    [
      'https://www.duckdns.org/update?domains=home&token=abc123&ip=',
      'https://www.duckdns.org/update?domains=home&token=***&ip=',
    ],
    ['https://sync.afraid.org/u/AbCdEf123/?ip=1', 'https://sync.afraid.org/u/***/?ip=1'],
    ['http://freedns.afraid.org/dynamic/UPDATE.PHP?c2VjcmV0', 'http://freedns.afraid.org/dynamic/UPDATE.PHP?***'],
    ['echoed Authorization: Bearer eyJabc.def', 'echoed Authorization: Bearer ***'],
    ['the token known-secret-value was refused', 'the token *** was refused'],
  ];
  for (const [input, want] of cases) assert.equal(r.text(input), want, input);
  const plain = 'home.example.com already points to 203.0.113.7: nothing sent.';
  assert.equal(r.text(plain), plain);
});
