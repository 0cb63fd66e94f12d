/**
 * TSIG (RFC 8945) against known vectors and the reference implementation.
 *
 * The vectors were recorded from BIND 9.18: `nsupdate -y <alg>:<name>:<secret>` sent an update
 * through a loopback relay to `named`, which answered; both messages are kept byte for byte. The
 * live test repeats the same recording against the named of this machine.
 */
import { test } from '../support/suite';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { spawn, spawnSync } from 'node:child_process';
import {
  canonicalName,
  checkResponse,
  encodeName,
  parseTsig,
  readName,
  signRequest,
  signResponse,
  tsigServerError,
  verifyRequest,
  withoutTsig,
  type TsigKey,
} from '../../src/core/dns/tsig';
import { skipWithoutBind, startBind } from '../support/bind';
import type { DdnsError } from '../../src/core/errors';

const VECTORS: Array<{ key: TsigKey; request: string; response: string }> = [
  {
    key: { name: 'ddns-sha256', algorithm: 'hmac-sha256', secret: 'XLAYnYsnEFP7j1o0yQ8sDaYlGQkCWziusA1jqgZWk7k=' },
    request:
      '638a2800000100000002000104686f6d650474657374000006000103777777c00c000100ff000000000000c01b000100010000003c0004c00002070b64646e732d7368613235360000fa00ff00000000003d0b686d61632d7368613235360000006b0c614e012c0020730f83ee37764544f320d9e81ed512f0bb9274cba8aaf94b0257b7d3292b309e638a00000000',
    response:
      '638aa800000100000000000104686f6d65047465737400000600010b64646e732d7368613235360000fa00ff00000000003d0b686d61632d7368613235360000006b0c614e012c00206bb74934fbbe7aac2e8443bbf319d6b3e684febe04562b798d5ee07874092709638a00000000',
  },
  {
    key: {
      name: 'ddns-sha512',
      algorithm: 'hmac-sha512',
      secret: 'mOL5WsNsI6ER2i35br1phGPC5jnVaV+2qUAULHAJIaDNyg9DfIL8Eh7Gu9sidlaYc0RFKZ7bXM8DLUfPXg3pFw==',
    },
    request:
      'aaa62800000100000002000104686f6d650474657374000006000103777777c00c000100ff000000000000c01b000100010000003c0004c00002070b64646e732d7368613531320000fa00ff00000000005d0b686d61632d7368613531320000006b0c614e012c0040a27f7f6c991c2b54bb0383399806a7b03c2f0d97669ec66ab592bc23692aa007a551b55a9205e25e14b1944f4a80dc73b784c9968904497183a2126ff5e0b17baaa600000000',
    response:
      'aaa6a800000100000000000104686f6d65047465737400000600010b64646e732d7368613531320000fa00ff00000000005d0b686d61632d7368613531320000006b0c614e012c00406d57ab0eaee581bc27814666435f2172ceb8ec1023cc523c95b680ade99f5bb9deafb29216d7ac9a1819d4b43cbbed740d442c939fa16e6ba63d45de13a366c0aaa600000000',
  },
];

/** Check a recorded (request, response) pair made by other software with `key`. */
function crossCheck(key: TsigKey, request: Buffer, response: Buffer) {
  const tsig = parseTsig(request)!;
  assert.ok(tsig, 'the request carries a TSIG record');
  assert.equal(tsig.keyName, key.name);
  assert.equal(tsig.algorithm, key.algorithm);
  assert.equal(tsig.fudge, 300);
  const at = tsig.timeSigned * 1000;
  // the server side of our code accepts the reference client's signature ...
  const v = verifyRequest(request, key, { now: at });
  assert.equal(v.ok, true);
  // ... and signing the same message at the same second gives the same bytes (same MAC)
  const again = signRequest(withoutTsig(request, tsig), key, { now: at });
  assert.equal(again.message.toString('hex'), request.toString('hex'));
  assert.deepEqual(again.mac, tsig.mac);
  // the reference server's answer verifies, with the request MAC in its digest
  const r = checkResponse(response, tsig.mac, key, { now: at });
  assert.equal(r.status, 'verified');
  // another request MAC, another secret, a changed byte, a far clock: all refused
  assert.equal(checkResponse(response, Buffer.alloc(tsig.mac.length), key, { now: at }).status, 'invalid');
  assert.equal(
    checkResponse(response, tsig.mac, { ...key, secret: Buffer.alloc(32, 1).toString('base64') }, { now: at }).status,
    'invalid',
  );
  const changed = Buffer.from(response);
  changed[13] ^= 0x20; // "home" → "Home" in the zone section: same meaning, another digest
  assert.equal(checkResponse(changed, tsig.mac, key, { now: at }).status, 'invalid');
  const late = checkResponse(response, tsig.mac, key, { now: at + 301_000 });
  assert.equal(late.status, 'invalid');
  assert.match((late as { reason: string }).reason, /clock/);
  assert.equal(verifyRequest(request, key, { now: at + 301_000 }).ok, false);
  const tampered = Buffer.from(request);
  tampered[tampered.length - 7] ^= 1; // last byte of the MAC
  assert.deepEqual(verifyRequest(tampered, key, { now: at }), {
    ok: false,
    error: 'BADSIG',
    tsig: parseTsig(tampered),
  });
}

test('TSIG: names on the wire', () => {
  assert.deepEqual(encodeName('Home.test.'), Buffer.from('04486f6d65047465737400', 'hex'));
  assert.deepEqual(encodeName(''), Buffer.from([0]));
  assert.equal(canonicalName('Ddns-Key.'), 'ddns-key');
  assert.throws(() => encodeName('a..b'), /empty label/);
  assert.throws(() => encodeName(`${'a'.repeat(64)}.test`), /63/);
  assert.throws(() => encodeName(Array(130).fill('ab').join('.')), /255/);
  // a compression pointer back to offset 0
  const buf = Buffer.concat([encodeName('home.test'), Buffer.from([3, 0x77, 0x77, 0x77, 0xc0, 0x00])]);
  assert.deepEqual(readName(buf, 11), { name: 'www.home.test', next: 17 });
  assert.throws(() => readName(Buffer.from([0xc0, 0x00]), 0), /loop/);
});

test('TSIG: recorded nsupdate/named exchanges verify (hmac-sha256, hmac-sha512)', () => {
  for (const v of VECTORS) crossCheck(v.key, Buffer.from(v.request, 'hex'), Buffer.from(v.response, 'hex'));
});

test('TSIG: sign and verify both ways; unsigned, foreign-key and server error answers', () => {
  const key: TsigKey = { name: 'K.Example.', algorithm: 'hmac-sha512', secret: Buffer.alloc(64, 7).toString('base64') };
  const query = Buffer.concat([
    Buffer.from('123400000001000000000000', 'hex'),
    encodeName('example'),
    Buffer.from('00060001', 'hex'),
  ]);
  const s = signRequest(query, key, { now: 1_700_000_000_000 });
  assert.equal(s.message.readUInt16BE(10), 1, 'ARCOUNT counts the TSIG record');
  assert.equal(s.mac.length, 64);
  assert.equal(
    verifyRequest(s.message, { ...key, name: 'k.example' }, { now: 1_700_000_100_000 }).ok,
    true,
    'key names compare case-insensitively',
  );
  assert.equal(verifyRequest(s.message, { ...key, name: 'other' }, { now: 1_700_000_000_000 }).ok, false);

  const answer = Buffer.from(query);
  answer[2] |= 0x80;
  const signed = signResponse(answer, s.mac, key, { now: 1_700_000_001_000 });
  const r = checkResponse(signed, s.mac, key, { now: 1_700_000_001_000 });
  assert.equal(r.status, 'verified');
  assert.deepEqual((r as { message: Buffer }).message, answer);
  // the header id may be changed on the way (RFC 8945 §4.3.1: the digest uses the original id) ...
  const renumbered = Buffer.from(signed);
  renumbered.writeUInt16BE(0xbeef, 0);
  assert.equal(checkResponse(renumbered, s.mac, key, { now: 1_700_000_001_000 }).status, 'verified');
  // ... but not the original id, nor the flags
  const otherOriginal = Buffer.from(signed);
  otherOriginal.writeUInt16BE(0xbeef, signed.length - 6);
  assert.equal(checkResponse(otherOriginal, s.mac, key, { now: 1_700_000_001_000 }).status, 'invalid');
  const otherFlags = Buffer.from(signed);
  otherFlags[3] |= 5; // rcode REFUSED
  assert.equal(checkResponse(otherFlags, s.mac, key, { now: 1_700_000_001_000 }).status, 'invalid');

  assert.deepEqual(checkResponse(answer, s.mac, key), { status: 'missing' });
  const foreign = signResponse(answer, s.mac, { ...key, name: 'other' }, { now: 1_700_000_001_000 });
  assert.match(
    (checkResponse(foreign, s.mac, key, { now: 1_700_000_001_000 }) as { reason: string }).reason,
    /another key/,
  );

  // BADSIG as servers send it: a TSIG record with an empty MAC and the error code
  const badsig = Buffer.concat([
    answer,
    encodeName(key.name),
    Buffer.from('00fa00ff00000000', 'hex'),
    Buffer.from([0, 0]),
  ]);
  const rdata = Buffer.concat([
    encodeName(key.algorithm),
    Buffer.from('00006553f100012c0000', 'hex'),
    Buffer.from('123400100000', 'hex'),
  ]);
  badsig.writeUInt16BE(rdata.length, badsig.length - 2);
  const full = Buffer.concat([badsig, rdata]);
  full.writeUInt16BE(1, 10);
  const c = checkResponse(full, s.mac, key);
  assert.equal(c.status, 'server-error');
  const err = tsigServerError((c as { tsig: Parameters<typeof tsigServerError>[0] }).tsig, key, '127.0.0.1:53');
  assert.equal(err.kind, 'fatal');
  assert.equal(err.code, 'tsig_badsig');
  assert.match(err.message, /wrong TSIG secret or algorithm/);
  assert.ok(!err.message.includes(key.secret));

  // a TSIG record that is not last is malformed
  const twice = Buffer.concat([
    s.message.subarray(0, query.length),
    s.message.subarray(query.length),
    s.message.subarray(query.length),
  ]);
  twice.writeUInt16BE(2, 10);
  assert.throws(() => parseTsig(twice), /not the last/);
});

/** A key and the TSIG record of a server's error answer, for the error-text tests. */
const ERR_KEY: TsigKey = { name: 'ddns-key', algorithm: 'hmac-sha256', secret: 'c2VjcmV0LXNlY3JldC1zZWNyZXQ=' };
const ERR_TSIG = {
  offset: 0,
  keyName: 'ddns-key',
  algorithm: 'hmac-sha256',
  timeSigned: 0,
  fudge: 300,
  mac: Buffer.alloc(0),
  originalId: 0,
};

test('TSIG: server error texts are plain and never carry the secret; a bad secret is refused before sending', () => {
  const serverTime = Buffer.from('000065000000', 'hex');
  const cases: Array<[number, string, RegExp]> = [
    [16, 'tsig_badsig', /wrong TSIG secret or algorithm/],
    [17, 'tsig_badkey', /does not know the key "ddns-key"/],
    [18, 'tsig_badtime', /clock differs by more than 5 minutes.*NTP/],
    [22, 'tsig_badtrunc', /BADTRUNC/],
  ];
  for (const [error, code, re] of cases) {
    const e = tsigServerError(
      { ...ERR_TSIG, error, otherData: error === 18 ? serverTime : Buffer.alloc(0) },
      ERR_KEY,
      '[::1]:53',
    );
    assert.equal(e.code, code);
    assert.equal(e.kind, 'fatal');
    assert.equal(e.scope, 'account');
    assert.match(e.message, re);
    assert.ok(!e.message.includes(ERR_KEY.secret) && !e.message.includes('secret-secret'));
  }
  assert.throws(
    () => signRequest(Buffer.alloc(12), { ...ERR_KEY, secret: 'not base64!' }),
    (e: DdnsError) => e.code === 'tsig_secret_invalid' && !e.message.includes('not base64!'),
  );
});

test('TSIG: a BADTIME answer whose server time is beyond any date is still a plain tsig_badtime error', () => {
  // Found by the fuzz tests (test/core/fuzz/dns.fuzz.test.ts): 48-bit server times above 8.64e12 s
  // made `new Date(…).toISOString()` throw a RangeError out of judgeAnswer.
  for (const hex of ['080000000000', 'ffffffffffff']) {
    const e = tsigServerError({ ...ERR_TSIG, error: 18, otherData: Buffer.from(hex, 'hex') }, ERR_KEY, '127.0.0.1:53');
    assert.equal(e.code, 'tsig_badtime');
    assert.match(e.message, /clock differs by more than 5 minutes.*NTP/);
  }
});

test(
  'TSIG: live cross-check with nsupdate and named',
  { skip: skipWithoutBind() || (spawnSync('nsupdate', ['-V']).error ? 'nsupdate not installed' : false) },
  async () => {
    const bind = await startBind([{ name: 'home.test' }]);
    const relay = dgram.createSocket('udp4');
    const upstream = dgram.createSocket('udp4');
    try {
      await new Promise<void>((r) => relay.bind(0, '127.0.0.1', () => r()));
      await new Promise<void>((r) => upstream.bind(0, '127.0.0.1', () => r()));
      let client: dgram.RemoteInfo | undefined;
      // nsupdate resends after 3 s without an answer (a slow first start of named): keep the first of each.
      const asked: Buffer[] = [];
      const answered: Buffer[] = [];
      relay.on('message', (m, rinfo) => {
        client = rinfo;
        asked.push(m);
        upstream.send(m, bind.port, '127.0.0.1');
      });
      upstream.on('message', (m) => {
        answered.push(m);
        relay.send(m, client!.port, client!.address);
      });
      for (const key of [bind.keys.sha256, bind.keys.sha512]) {
        asked.length = 0;
        answered.length = 0;
        const p = spawn('nsupdate', ['-y', `${key.algorithm}:${key.name}:${key.secret}`], {
          stdio: ['pipe', 'ignore', 'ignore'],
        });
        p.stdin!.end(
          `server 127.0.0.1 ${relay.address().port}\nzone home.test\nupdate add ${key.algorithm}.home.test 60 A 192.0.2.8\nsend\n`,
        );
        const code = await new Promise((r) => p.on('exit', r));
        assert.equal(code, 0);
        assert.ok(asked.length >= 1 && answered.length >= 1, `${asked.length} asked, ${answered.length} answered`);
        crossCheck(key, asked[0], answered[0]);
        assert.deepEqual(bind.dig(`${key.algorithm}.home.test`), ['192.0.2.8']);
      }
    } finally {
      relay.close();
      upstream.close();
      await bind.stop();
    }
  },
);
