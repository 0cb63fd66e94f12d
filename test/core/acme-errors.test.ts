/**
 * What cert-renew makes of a CA it cannot talk to (src/core/acme/ari.ts acmeError): a server
 * certificate that is not trusted is fatal (`acme_tls`: the user must give the CA's root), a CA that
 * does not answer is transient (`acme_unreachable`, tried again), and the difference is told by the
 * TLS error's code, not by the words of the message. Real Pebble, whose directory is served over
 * HTTPS with Pebble's own test CA (https://github.com/letsencrypt/pebble#avoiding-client-https-errors).
 */
import { after, before, describe, test } from '../support/suite';
import assert from 'node:assert/strict';
import { skipWithoutPebble, startPebble, type PebbleServer } from '../support/pebble';
import { acmeError, fetchDirectory } from '../../src/core/acme/ari';
import { DdnsError, say, transient } from '../../src/core/errors';

describe('ACME errors: trust problems are fatal, silence is transient', { skip: skipWithoutPebble() }, () => {
  let pebble: PebbleServer;
  before(async () => {
    pebble = await startPebble({ dnsServer: '127.0.0.1:9' });
  });
  after(async () => {
    await pebble?.stop();
  });

  test('a directory served with a certificate this machine does not trust: fatal acme_tls', async () => {
    await assert.rejects(fetchDirectory(pebble.directoryUrl), (e: DdnsError) => {
      assert.equal(e.kind, 'fatal');
      assert.equal(e.code, 'acme_tls');
      return true;
    });
    // With the CA's root given, the same directory is read.
    const d = await fetchDirectory(pebble.directoryUrl, pebble.caPem);
    assert.equal(typeof d.directory.newOrder, 'string');
  });

  test('a CA whose host name holds the word "certificate" and does not answer: transient, tried again', () => {
    const timeout = transient(
      say('http.timeout', '__where__ did not answer within __ms__ ms', { where: 'certificates.home.lan', ms: 30_000 }),
      { code: 'timeout' },
    );
    const e = acmeError(timeout, say('acme.step.open_account', 'opening the ACME account'));
    assert.equal(e.kind, 'transient');
    assert.equal(e.code, 'acme_unreachable');
  });
});
