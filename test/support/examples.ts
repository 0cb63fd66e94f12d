/**
 * The example flows, made safe to deploy in tests: they are written for a real home (what's-my-IP
 * services on the internet, real providers, a Home Assistant broker), and tests may only use
 * loopback. Each node keeps its type and configuration shape; only what would leave the machine
 * is pointed at local servers or kept idle:
 * - public-ip-watch asks a local plain-text server (IPv4) instead of the public services;
 * - every provider account becomes a dry run;
 * - cert-renew does not check at start; reachability-check gets no input (it would resolve the
 *   example's names through the system resolver);
 * - MQTT brokers point at a closed loopback port and do not connect by themselves.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './node-red';

export type FlowNode = Record<string, unknown> & { id: string; type: string; wires?: string[][] };

export function exampleFiles(): string[] {
  return readdirSync(join(REPO_ROOT, 'examples'))
    .filter((f) => f.endsWith('.json'))
    .sort();
}

export function readExample(file: string): FlowNode[] {
  return JSON.parse(readFileSync(join(REPO_ROOT, 'examples', file), 'utf8')) as FlowNode[];
}

/**
 * Examples carry no tab (Import puts them on the current one); for a deploy through the admin API
 * or flows.json, the flow nodes are put on a tab of their own.
 */
export function offlineFlow(nodes: FlowNode[], o: { ipUrl: string; tab?: string }): FlowNode[] {
  const typeOf = new Map(nodes.map((n) => [n.id, n.type]));
  const tab = o.tab ?? 'examplestab00001';
  const out = nodes.map((n) => {
    const c: FlowNode = { ...n };
    if ('x' in c && !c.z) c.z = tab;
    if (c.wires) c.wires = c.wires.map((port) => port.filter((t) => typeOf.get(t) !== 'reachability-check'));
    switch (c.type) {
      case 'public-ip-watch':
        c.families = 'ipv4';
        c.sources = [{ type: 'custom', url: o.ipUrl, format: 'text', family: 'ipv4' }];
        c.localAddress = '';
        break;
      case 'ddns-account':
        c.provider = 'dryrun';
        c.settings = {};
        break;
      case 'cert-renew':
        c.checkOnStart = false;
        break;
      case 'mqtt-broker':
        c.broker = '127.0.0.1';
        c.port = '1';
        c.autoConnect = false;
        break;
    }
    return c;
  });
  return [{ id: tab, type: 'tab', label: 'example', disabled: false, info: '' }, ...out];
}
