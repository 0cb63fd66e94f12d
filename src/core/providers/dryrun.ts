/**
 * Dry run: a provider that sends nothing and reports what it would send, for the getting-started
 * flow and for trying a flow before entering real credentials.
 *
 * It keeps its "records" in memory (per provider instance, i.e. per deployed account), so a second
 * identical update reports `unchanged`, and it offers a read (getAddresses) of that memory like a
 * provider with an API would. No TXT records (cert-renew needs a real DNS provider). No settings.
 */
import { z } from 'zod';
import type { Family } from '../address';
import { say } from '../errors';
import { messageOf, records, recordType } from './kit';
import type { DnsProvider, ProviderCall, ProviderDefinition, RecordResult } from './types';

export const dryrunSettings = z.object({});

export class DryRunProvider implements DnsProvider {
  readonly id = 'dryrun';
  readonly maxHostsPerCall = 20;
  readonly localDns = true;
  /** name|family → address, what a real provider would now hold. */
  private readonly records = new Map<string, string>();

  async setAddresses(call: ProviderCall): Promise<RecordResult[]> {
    const results: RecordResult[] = [];
    for (const { hostname, family, address } of records(call)) {
      const key = `${hostname}|${family}`;
      const type = recordType(family);
      if (this.records.get(key) === address) {
        results.push({
          hostname,
          family,
          outcome: 'unchanged',
          ...messageOf(
            say(
              'dryrun.unchanged',
              'dry run: the __type__ record of __host__ already holds __address__ (nothing sent)',
              {
                type,
                host: hostname,
                address,
              },
            ),
          ),
        });
      } else {
        this.records.set(key, address);
        results.push({
          hostname,
          family,
          outcome: 'updated',
          ...messageOf(
            say(
              'dryrun.would_set',
              'dry run: would set the __type__ record of __host__ to __address__ (nothing sent)',
              {
                type,
                host: hostname,
                address,
              },
            ),
          ),
        });
      }
    }
    return results;
  }

  async getAddresses(hostname: string, family: Family): Promise<string[]> {
    const a = this.records.get(`${hostname}|${family}`);
    return a === undefined ? [] : [a];
  }
}

export const definition: ProviderDefinition<typeof dryrunSettings> = {
  id: 'dryrun',
  label: 'Dry run (sends nothing)',
  settings: dryrunSettings,
  fields: [],
  txt: false,
  create: () => new DryRunProvider(),
};
