import { test } from './suite';
import assert from 'node:assert/strict';
import { skipWithoutBind, startBind } from './bind';

test('the BIND harness starts named, answers for its zone and stops', { skip: skipWithoutBind() }, async () => {
  const bind = await startBind([{ name: 'home.test', records: ['www 300 IN A 192.0.2.10'] }]);
  try {
    assert.deepEqual(bind.dig('www.home.test'), ['192.0.2.10']);
    assert.match(bind.digAnswer('www.home.test')[0], /^www\.home\.test\.\s+300\s+IN\s+A\s+192\.0\.2\.10$/);
  } finally {
    await bind.stop();
  }
});
