/**
 * The providers' request ledger (src/core/providers/ledger.ts): the times a provider's limit counts,
 * kept for a day, capped per key, merged from a saved document at start, and never holding a key
 * (which carries the API token) in clear.
 */
import { test } from '../../support/suite';
import assert from 'node:assert/strict';
import { Ledger } from '../../../src/core/providers/ledger';
import { MemoryStore } from '../../../src/core/store';
import { writeWait } from '../../../src/core/providers/desec';

const KEY = 'desec\u0000s3cretToken\u0000example.com';

test('a ledger keeps the times of a day, caps a key, and saves hashed keys only', async () => {
  let now = 1_000_000_000_000;
  const l = new Ledger(() => now);
  const store = new MemoryStore<ReturnType<Ledger['snapshot']>>();
  await l.attach(store);
  for (let i = 0; i < 5; i++) {
    l.record(KEY).done();
    now += 1_000;
  }
  assert.equal(l.history(KEY).length, 5);
  l.record('porkbun:key', 1);
  l.record('porkbun:key', 1);
  assert.equal(l.history('porkbun:key').length, 1, 'a pacing key keeps its last time only');
  assert.ok(store.saves >= 7, 'every record is saved');
  assert.doesNotMatch(JSON.stringify(store.doc), /s3cretToken|porkbun:key/);
  now += 86_400_000 + 60_001;
  assert.deepEqual(l.history(KEY), [], 'times older than a day are dropped');
});

test('a restart: a new ledger attached to the saved document knows the day’s writes (deSEC waits)', async () => {
  let now = 1_000_000_000_000;
  const store = new MemoryStore<ReturnType<Ledger['snapshot']>>();
  const before = new Ledger(() => now);
  await before.attach(store);
  for (let i = 0; i < 15; i++) {
    before.record(KEY).done();
    now += 2_000;
  }
  const after = new Ledger(() => now);
  assert.equal(writeWait(after.history(KEY), now), 0, 'without the saved document nothing is known');
  await after.attach(store);
  assert.equal(after.history(KEY).length, 15);
  assert.ok(writeWait(after.history(KEY), now) > 0, 'the 16th write of the minute waits');
});

test('a saved document that is not a ledger is ignored', async () => {
  const store = new MemoryStore();
  store.doc = { v: 2, keys: 'nonsense' };
  const l = new Ledger();
  await l.attach(store);
  assert.deepEqual(l.snapshot(), { v: 1, keys: {} });
});

test('a store attached while a write is in flight: the write still moves its time to its answer', async () => {
  let now = 1_000_000_000_000;
  const l = new Ledger(() => now);
  const write = l.record(KEY);
  // A second dns-update node attaches its store (with a time of its own) before the answer comes.
  const saved = new MemoryStore<ReturnType<Ledger['snapshot']>>();
  await saved.save({ v: 1, keys: { [Ledger.id(KEY)]: [now - 5_000] } });
  await l.attach(saved);
  now += 700;
  write.done();
  assert.deepEqual(l.history(KEY), [now - 5_700, now], 'the saved time, and the write at its answer');
});
