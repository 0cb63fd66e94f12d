/**
 * The signers of src/core/providers/signing.ts against published vectors.
 *
 * SigV4: cases of AWS's "Signature Version 4 test suite" (formerly
 * https://docs.aws.amazon.com/general/latest/gr/signature-v4-test-suite.html, the aws-sig-v4-test-suite
 * files; also shipped as fixtures of the AWS SDKs, e.g. @aws-sdk/signature-v4's suite.fixture.js):
 * credentials AKIDEXAMPLE / wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY, region us-east-1, service
 * `service`, 2015-08-30T12:36:00Z, host example.amazonaws.com. Each expected Authorization header
 * below is the suite's `.authz` file of that case; get-vanilla also checks the suite's `.creq` and `.sts`.
 *
 * RS256 JWT: the signature verifies with the public key (node:crypto), and the header and claims
 * read back as RFC 7519 says (base64url, no padding).
 */
import { test } from '../../support/suite';
import assert from 'node:assert/strict';
import { createVerify, generateKeyPairSync } from 'node:crypto';
import { amzDate, signJwtRs256, signV4 } from '../../../src/core/providers/signing';

const creds = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const now = new Date('2015-08-30T12:36:00Z');
const SCOPE = 'Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request';

const SUITE: Array<{
  name: string;
  method: string;
  url: string;
  headers?: Record<string, string>;
  body?: string;
  authz: string;
}> = [
  {
    name: 'get-vanilla',
    method: 'GET',
    url: 'https://example.amazonaws.com/',
    authz: 'SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',
  },
  {
    name: 'post-vanilla',
    method: 'POST',
    url: 'https://example.amazonaws.com/',
    authz: 'SignedHeaders=host;x-amz-date, Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b',
  },
  {
    name: 'get-vanilla-query-order-key-case',
    method: 'GET',
    url: 'https://example.amazonaws.com/?Param2=value2&Param1=value1',
    authz: 'SignedHeaders=host;x-amz-date, Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500',
  },
  {
    name: 'post-header-value-case',
    method: 'POST',
    url: 'https://example.amazonaws.com/',
    headers: { 'My-Header1': 'VALUE1' },
    authz:
      'SignedHeaders=host;my-header1;x-amz-date, Signature=cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d',
  },
  {
    name: 'post-x-www-form-urlencoded',
    method: 'POST',
    url: 'https://example.amazonaws.com/',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: 'Param1=value1',
    authz:
      'SignedHeaders=content-type;host;x-amz-date, Signature=ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a',
  },
];

for (const c of SUITE) {
  test(`SigV4 test suite: ${c.name}`, () => {
    const r = signV4({ ...c, region: 'us-east-1', service: 'service', now }, creds);
    assert.equal(r.headers.authorization, `AWS4-HMAC-SHA256 ${SCOPE}, ${c.authz}`);
    assert.equal(r.headers['x-amz-date'], '20150830T123600Z');
    assert.equal(r.headers.host, undefined, 'host is signed but left to the HTTP client');
  });
}

test('SigV4 test suite: get-vanilla canonical request and string to sign', () => {
  const r = signV4(
    { method: 'GET', url: 'https://example.amazonaws.com/', region: 'us-east-1', service: 'service', now },
    creds,
  );
  assert.equal(
    r.canonicalRequest,
    'GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  );
  assert.equal(
    r.stringToSign,
    'AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\nbb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63',
  );
  assert.equal(amzDate(new Date('2026-01-02T03:04:05.678Z')), '20260102T030405Z');
});

test('a non-default port is part of the signed host (the HTTP client sends host:port)', () => {
  const r = signV4(
    { method: 'GET', url: 'http://127.0.0.1:8053/x?a=b c', region: 'us-east-1', service: 'route53', now },
    creds,
  );
  assert.match(r.canonicalRequest, /\nhost:127\.0\.0\.1:8053\n/);
  assert.match(r.canonicalRequest, /\na=b%20c\n/, 'query values are RFC 3986-encoded (space as %20)');
});

test('an RS256 JWT verifies with the public key and carries the header and claims', () => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const jwt = signJwtRs256({ iss: 'a@b.iam.gserviceaccount.com', iat: 1, exp: 3601 }, pem, 'kid-1');
  const [h, p, s] = jwt.split('.');
  assert.deepEqual(JSON.parse(Buffer.from(h, 'base64url').toString()), { alg: 'RS256', typ: 'JWT', kid: 'kid-1' });
  assert.deepEqual(JSON.parse(Buffer.from(p, 'base64url').toString()), {
    iss: 'a@b.iam.gserviceaccount.com',
    iat: 1,
    exp: 3601,
  });
  assert.ok(!/[=+/]/.test(jwt), 'base64url without padding');
  assert.ok(createVerify('RSA-SHA256').update(`${h}.${p}`).verify(publicKey, Buffer.from(s, 'base64url')));
});
