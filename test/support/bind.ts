/**
 * A real BIND 9 (named) for tests: authoritative for the zones given, RFC 2136 updates allowed
 * with TSIG keys (hmac-sha256 and hmac-sha512), on a loopback high port (127.0.0.1 and ::1),
 * in a fresh temporary directory. Stopped by pid; the directory is removed.
 *
 * When named is not installed, `bindAvailable()` says why, and tests skip (CI installs it and sets
 * DDNS_REQUIRE_REAL=1, which turns a missing named into a failure).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, stopProcess } from './ports';

export const NAMED = process.env.NAMED_BIN ?? '/usr/sbin/named';

export interface ZoneSpec {
  /** Zone apex, e.g. `home.test`. */
  name: string;
  /** Extra records in zone-file syntax (relative or absolute names), e.g. `www 60 IN A 192.0.2.1`. */
  records?: string[];
  /** Default TTL of the zone (seconds). Default 60. */
  ttl?: number;
}

export interface TsigKey {
  name: string;
  algorithm: 'hmac-sha256' | 'hmac-sha512';
  secret: string; // base64
}

export interface BindServer {
  port: number;
  host: string;
  keys: { sha256: TsigKey; sha512: TsigKey };
  dir: string;
  /** `dig @127.0.0.1 -p port name type +short` lines (needs bind9-dnsutils). */
  dig(name: string, type?: string): string[];
  /** The full answer lines (`name ttl class type data`). */
  digAnswer(name: string, type?: string): string[];
  stop(): Promise<void>;
}

/** An rfc2136 ddns-account's provider and settings for this server (its hmac-sha256 key); the secret goes to credentials. */
export function rfc2136Account(bind: BindServer): {
  provider: 'rfc2136';
  settings: { server: string; keyName: string; algorithm: string };
  credentials: { tsigSecret: string };
} {
  const key = bind.keys.sha256;
  return {
    provider: 'rfc2136',
    settings: { server: `127.0.0.1:${bind.port}`, keyName: key.name, algorithm: key.algorithm },
    credentials: { tsigSecret: key.secret },
  };
}

/** Why real-BIND tests cannot run here, or null when they can. */
export function bindUnavailable(): string | null {
  if (!existsSync(NAMED)) return `named not found at ${NAMED} (apt-get install bind9 bind9-dnsutils)`;
  if (spawnSync('dig', ['-v']).error) return 'dig not found (apt-get install bind9-dnsutils)';
  return null;
}

/** Use as the `skip` option of a test: false when runnable; a reason otherwise (an error in CI). */
export function skipWithoutBind(): string | false {
  const why = bindUnavailable();
  if (why && process.env.DDNS_REQUIRE_REAL === '1') throw new Error(`real BIND required in CI: ${why}`);
  return why ?? false;
}

function key(name: string, algorithm: TsigKey['algorithm']): TsigKey {
  return { name, algorithm, secret: randomBytes(algorithm === 'hmac-sha256' ? 32 : 64).toString('base64') };
}

export async function startBind(zones: ZoneSpec[], opts: { ipv6?: boolean } = {}): Promise<BindServer> {
  const dir = mkdtempSync(join(tmpdir(), 'ddns-bind-'));
  const port = await freePort();
  const keys = { sha256: key('ddns-sha256', 'hmac-sha256'), sha512: key('ddns-sha512', 'hmac-sha512') };
  const keyConf = Object.values(keys)
    .map((k) => `key "${k.name}" { algorithm ${k.algorithm}; secret "${k.secret}"; };`)
    .join('\n');
  const zoneConf = zones
    .map((z) => {
      const ttl = z.ttl ?? 60;
      const body = [
        `$ORIGIN ${z.name}.`,
        `$TTL ${ttl}`,
        `@ IN SOA ns1.${z.name}. hostmaster.${z.name}. 1 3600 600 86400 ${ttl}`,
        `@ IN NS ns1.${z.name}.`,
        `ns1 IN A 127.0.0.1`,
        ...(z.records ?? []),
        '',
      ].join('\n');
      writeFileSync(join(dir, `${z.name}.zone`), body);
      return `zone "${z.name}" { type primary; file "${join(dir, `${z.name}.zone`)}"; update-policy { grant ${keys.sha256.name} zonesub ANY; grant ${keys.sha512.name} zonesub ANY; }; };`;
    })
    .join('\n');
  const v6 = opts.ipv6 !== false;
  writeFileSync(
    join(dir, 'named.conf'),
    `options {
  directory "${dir}";
  pid-file "${dir}/named.pid";
  session-keyfile "${dir}/session.key";
  managed-keys-directory "${dir}";
  listen-on port ${port} { 127.0.0.1; };
  listen-on-v6 port ${port} { ${v6 ? '::1;' : 'none;'} };
  recursion no;
  notify no;
  allow-query { any; };
  dnssec-validation no;
  minimal-responses no;
};
controls { };
${keyConf}
${zoneConf}
`,
  );
  const child: ChildProcess = spawn(NAMED, ['-c', join(dir, 'named.conf'), '-g', '-n', '1'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`named did not start within 15 s:\n${log}`)), 15_000);
    const onData = (b: Buffer) => {
      log += b.toString();
      if (/running\s*$/m.test(log) || log.includes('all zones loaded')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stderr!.on('data', onData);
    child.stdout!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`named exited with ${code}:\n${log}`));
    });
  });
  // keep draining output so named never blocks on a full pipe
  child.stderr!.removeAllListeners('data');
  child.stdout!.removeAllListeners('data');
  child.removeAllListeners('exit');
  child.stderr!.resume();
  child.stdout!.resume();

  const digRaw = (name: string, type: string, extra: string[]) => {
    const r = spawnSync('dig', ['@127.0.0.1', '-p', String(port), name, type, '+time=2', '+tries=1', ...extra], {
      encoding: 'utf8',
    });
    return r.stdout
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith(';'));
  };
  return {
    port,
    host: '127.0.0.1',
    keys,
    dir,
    dig: (name, type = 'A') => digRaw(name, type, ['+short']),
    digAnswer: (name, type = 'A') => digRaw(name, type, ['+noall', '+answer']),
    stop: async () => {
      await stopProcess(child, 'SIGTERM', 5000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Change records with BIND's own `nsupdate` (RFC 2136, the server's hmac-sha256 key): `lines` are
 * nsupdate commands, e.g. `update add _acme-challenge.www.home.test. 60 CNAME x.other.test.`. Tests
 * use it to set up records independently of this package's RFC 2136 code.
 */
export function bindUpdate(bind: BindServer, lines: string[]): void {
  const k = bind.keys.sha256;
  const script = [`server 127.0.0.1 ${bind.port}`, ...lines, 'send', ''].join('\n');
  const r = spawnSync('nsupdate', ['-y', `${k.algorithm}:${k.name}:${k.secret}`], { input: script, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`nsupdate failed: ${r.stderr}`);
}
