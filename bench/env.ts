/**
 * What the bench needs on the machine (checked before anything starts, with the apt packages to
 * install when something is missing) and the description of the machine for RESULTS.md.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { NODE_RED_VERSION } from './node-red';

interface Need {
  /** What it is for, in words. */
  what: string;
  pkg: string;
  /** A program that must be on PATH (or an absolute path). */
  bin?: string;
}

/** The real servers: without them nothing can be measured. */
const REQUIRED: Need[] = [
  { what: 'the authoritative server (named)', pkg: 'bind9', bin: process.env.NAMED_BIN ?? '/usr/sbin/named' },
  { what: 'dig and nsupdate', pkg: 'bind9-dnsutils', bin: 'nsupdate' },
  { what: 'the ACME server (Pebble)', pkg: 'pebble', bin: process.env.PEBBLE_BIN ?? '/usr/bin/pebble' },
  { what: "openssl (Pebble's TLS certificate)", pkg: 'openssl', bin: 'openssl' },
];

/** The peers compared with this package. */
const PEERS: Need[] = [
  { what: 'ddclient', pkg: 'ddclient', bin: 'ddclient' },
  { what: 'inadyn', pkg: 'inadyn', bin: 'inadyn' },
  { what: 'certbot', pkg: 'certbot', bin: 'certbot' },
  { what: "certbot's RFC 2136 plugin", pkg: 'python3-certbot-dns-rfc2136' },
];

function onPath(bin: string): boolean {
  if (bin.startsWith('/')) return existsSync(bin);
  return spawnSync('sh', ['-c', `command -v ${bin}`], { encoding: 'utf8' }).status === 0;
}

function pkgInstalled(pkg: string): boolean {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' });
  if (r.error) return true; // not a Debian system: rely on the binary check
  return r.stdout.includes('install ok installed');
}

function missing(list: Need[]): Need[] {
  return list.filter((n) => (n.bin ? !onPath(n.bin) : false) || !pkgInstalled(n.pkg));
}

export interface EnvCheck {
  /** Missing real servers: the bench cannot run. */
  required: Need[];
  /** Missing peers. */
  peers: Need[];
  /** Peer processes already running on the machine (their services should stay off). */
  strays: string[];
}

export function checkEnvironment(): EnvCheck {
  const strays: string[] = [];
  for (const name of ['ddclient', 'inadyn', 'certbot']) {
    const r = spawnSync('pgrep', ['-x', name], { encoding: 'utf8' });
    const pids = r.stdout.trim().split('\n').filter(Boolean);
    if (pids.length) strays.push(`${name} (pid ${pids.join(', ')})`);
  }
  return { required: missing(REQUIRED), peers: missing(PEERS), strays };
}

export function describeMissing(list: Need[]): string {
  const pkgs = [...new Set(list.map((n) => n.pkg))];
  return `${list.map((n) => n.what).join(', ')} — install with: apt-get install ${pkgs.join(' ')}`;
}

function first(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n')[0] ?? '';
}

function pkgVersion(pkg: string): string {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Version}', pkg], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : 'not installed';
}

export interface Machine {
  rows: Array<[string, string]>;
}

/** The machine and the versions of everything measured. */
export function describeMachine(): Machine {
  let distro = os.type();
  try {
    distro = /PRETTY_NAME="?([^"\n]+)"?/.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? distro;
  } catch {
    /* keep os.type() */
  }
  const cpu = os.cpus()[0]?.model?.trim() ?? 'unknown';
  const pkg = JSON.parse(readFileSync(require.resolve('../../package.json'), 'utf8')) as { version: string };
  return {
    rows: [
      ['CPUs (`nproc`)', `${first('nproc', [])} × ${cpu}`],
      ['Memory', `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`],
      ['Kernel', `${os.type()} ${os.release()}`],
      ['System', distro],
      [
        'Load average at start (1/5/15 min)',
        os
          .loadavg()
          .map((l) => l.toFixed(2))
          .join(' / '),
      ],
      ['Node.js', process.version],
      ['Node-RED', NODE_RED_VERSION],
      ['node-red-contrib-ddns', pkg.version],
      ['ddclient', pkgVersion('ddclient')],
      ['inadyn', pkgVersion('inadyn')],
      ['certbot (+ dns-rfc2136 plugin)', `${pkgVersion('certbot')} (+ ${pkgVersion('python3-certbot-dns-rfc2136')})`],
      ['named (BIND)', first(process.env.NAMED_BIN ?? '/usr/sbin/named', ['-v'])],
      ['Pebble', pkgVersion('pebble')],
    ],
  };
}
