/**
 * What the record-set providers (Route 53, Google Cloud DNS, Azure DNS) share beyond the kit: the
 * TXT verbs over one "add or remove my own value" edit, and the editor fields every one of them has.
 */
import type { ProviderField } from './types';

/** `setTxt` / `deleteTxt` of a provider that edits a name's TXT values (adding or removing only its own). */
export abstract class TxtByEdit {
  protected abstract changeTxt(name: string, value: string, op: 'add' | 'remove', signal?: AbortSignal): Promise<void>;

  async setTxt(name: string, value: string, signal?: AbortSignal): Promise<void> {
    await this.changeTxt(name, value, 'add', signal);
  }

  async deleteTxt(name: string, value: string, signal?: AbortSignal): Promise<void> {
    await this.changeTxt(name, value, 'remove', signal);
  }
}

/** The TTL field of records the provider creates (existing records keep theirs). */
export const ttlField = (def: number): ProviderField => ({
  key: 'ttl',
  label: 'TTL of new records',
  kind: 'number',
  default: def,
  help: 'Seconds. Records that already exist keep their own TTL.',
});

/** An advanced address field (API, token or login endpoint), empty for the provider itself. */
export const addressField = (key: string, label: string, placeholder: string, help: string): ProviderField => ({
  key,
  label,
  kind: 'url',
  placeholder,
  advanced: true,
  help,
});
