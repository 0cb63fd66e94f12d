/** The text helpers people read: clip, and durations in words (one unit, singular or plural, never "1 minutes"). */
import { test } from '../support/suite';
import assert from 'node:assert/strict';
import { clip, duration } from '../../src/core/text';

test('text: clip cuts with an ellipsis', () => {
  assert.equal(clip('abcdef', 10), 'abcdef');
  assert.equal(clip('abcdef', 4), 'abc…');
});

test('text: durations in words, rounded up for waits and down for time left', () => {
  const cases: Array<[number, string]> = [
    [0, '0 seconds'],
    [400, '1 second'],
    [1000, '1 second'],
    [45_000, '45 seconds'],
    [60_000, '1 minute'],
    [90_000, '2 minutes'],
    [120_000, '2 minutes'],
    [3_600_000, '1 hour'],
    [5_400_000, '90 minutes'],
    [7_200_000, '2 hours'],
    [36 * 3_600_000, '36 hours'],
    [86_400_000, '1 day'],
    [3 * 86_400_000 + 1, '4 days'],
    [-5, '0 seconds'],
  ];
  for (const [ms, words] of cases) assert.equal(duration(ms), words, `${ms} ms`);
  assert.equal(duration(90_000, 'down'), '1 minute');
  assert.equal(duration(12.7 * 86_400_000, 'down'), '12 days');
  assert.equal(duration(30 * 3_600_000, 'down'), '30 hours');
});
