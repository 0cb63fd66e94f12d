/** dns-update's view of its results, free of Node-RED: the last result per name and family, the failure text; the one StateStore. */
import { test } from '../support/suite';
import assert from 'node:assert/strict';
import { MemoryStore, type StateStore } from '../../src/core/store';
import { ResultsView, resultsFailure } from '../../src/core/update/results-view';
import type { UpdateResult } from '../../src/core/update/types';

const result = (
  hostname: string,
  family: 'ipv4' | 'ipv6',
  status: UpdateResult['status'],
  more: Partial<UpdateResult> = {},
): UpdateResult => ({
  hostname,
  family,
  status,
  address: family === 'ipv4' ? '192.0.2.1' : '2001:db8::1',
  message: status,
  attempts: 1,
  ms: 1,
  ...more,
});

test("results view: a family updated alone keeps the other family's last result; a reset forgets lifted stops", () => {
  const v = new ResultsView();
  assert.equal(
    v.take([result('a.example.com', 'ipv4', 'updated'), result('a.example.com', 'ipv6', 'updated')])?.fill,
    'green',
  );
  v.take([result('a.example.com', 'ipv6', 'unchanged')]);
  assert.deepEqual(
    v.last.get('a.example.com')!.map((r) => `${r.family}:${r.status}`),
    ['ipv4:updated', 'ipv6:unchanged'],
  );
  const stopped = v.take([
    result('b.example.com', 'ipv4', 'failed', { stopped: true, cause: 'badauth', reason: 'badauth' }),
  ]);
  assert.equal(stopped?.fill, 'red');
  assert.equal(v.forgetStops(), false, 'a.example.com is still shown');
  assert.deepEqual([...v.last.keys()], ['a.example.com']);
  const w = new ResultsView();
  w.take([result('b.example.com', 'ipv4', 'failed', { stopped: true, cause: 'badauth' })]);
  assert.equal(w.forgetStops(), true);
});

test('failure text: every failed result, with its retry time or its stop', () => {
  assert.equal(resultsFailure([result('a.example.com', 'ipv4', 'updated')]), null);
  assert.equal(
    resultsFailure([
      result('a.example.com', 'ipv4', 'failed', { message: 'server error', nextRetryAt: '2024-05-01T10:00:00.000Z' }),
      result('b.example.com', 'ipv6', 'failed', { message: 'bad credentials', stopped: true, cause: 'badauth' }),
    ]),
    'a.example.com (IPv4): server error — next attempt at 2024-05-01T10:00:00.000Z; ' +
      'b.example.com (IPv6): bad credentials — updates are stopped until the account is fixed and deployed, or msg.reset = true is sent',
  );
});

test("memory store: keeps a copy, never the caller's object", async () => {
  const store: StateStore<{ n: number }> = new MemoryStore<{ n: number }>();
  assert.equal(await store.load(), undefined);
  const doc = { n: 1 };
  await store.save(doc);
  doc.n = 2;
  assert.deepEqual(await store.load(), { n: 1 });
});
