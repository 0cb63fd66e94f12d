/** Small text helpers for what people read (status lines, warnings). */

/** `s` cut to at most `n` characters, with an ellipsis when cut. */
export const clip = (s: string, n: number): string => (s.length > n ? `${s.slice(0, n - 1)}…` : s);
