/**
 * Warnings said once while their cause lasts: a check every few minutes must not flood the log.
 * Each warning has a key (its cause); the same text under the same key is said once, a new text
 * under the key is said again, and `clear(key)` (the cause is gone) lets it be said next time.
 */
export class WarnOnce {
  private readonly said = new Map<string, string>();

  constructor(private readonly say: (text: string) => void) {}

  /** Say `text` unless it is what was last said under `key`; true when it was said. */
  warn(key: string, text: string): boolean {
    if (this.said.get(key) === text) return false;
    this.said.set(key, text);
    this.say(text);
    return true;
  }

  /** The cause under `key` is gone. */
  clear(key: string): void {
    this.said.delete(key);
  }
}
