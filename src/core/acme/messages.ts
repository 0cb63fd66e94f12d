/**
 * cert-renew's messages for a renewal outcome, free of Node-RED: output 1 (the certificate), the
 * msg that goes with an error (the same shape for a run a msg asked for and a timed run), output 2
 * (the alert of a transition: `failing`, `recovered`; and `expiring` while renewal is stopped).
 */
import type { DdnsError } from '../errors';
import type { LatchEvent } from '../alert-latch';
import type { CertificateResult } from './manager';
import type { ExpiryWarning } from './renewal';

type Message = Record<string, unknown>;
const iso = (ms: number) => new Date(ms).toISOString();

/** A certificate in hand: output 1 (the input msg's copy, or a new msg) and the `recovered` alert, if any. */
export function certificateMessages(
  r: CertificateResult,
  recovered: LatchEvent<'recovered'> | undefined,
  o: { msg: Message; topic: string; names: string[] },
): { out: Message; alert: Message | null } {
  const out: Message = { ...o.msg, topic: o.topic, payload: r };
  const alert = recovered
    ? {
        topic: o.topic,
        payload: { state: 'recovered', names: o.names, since: iso(recovered.since), failures: recovered.failures },
      }
    : null;
  return { out, alert };
}

/**
 * A failed run: the msg that goes with the error (the input msg's properties, when a msg asked for
 * the run, with `topic` and `payload: { ok: false, names, error, code, failures, retryable }`), and
 * the `failing` alert, if any. `said`: the error in the user's language (default: the English).
 */
export function renewalFailureMessages(
  f: { error: DdnsError; failures: number; failing?: LatchEvent<'failing'> },
  o: { msg: Message; topic: string; names: string[]; said?: string },
): { errMsg: Message; alert: Message | null } {
  const err = f.error;
  const error = o.said ?? err.message;
  const payload = {
    ok: false,
    names: o.names,
    error,
    code: err.code,
    failures: f.failures,
    retryable: err.kind === 'transient',
  };
  const alert = f.failing
    ? { topic: o.topic, payload: { state: 'failing', names: o.names, error, since: iso(f.failing.since) } }
    : null;
  return { errMsg: { ...o.msg, topic: o.topic, payload }, alert };
}

/**
 * Output 2 while renewal is stopped and the certificate on disk runs out soon. `said`: the cause
 * and the warning in the user's language (default: the English).
 */
export function expiryMessage(
  w: ExpiryWarning,
  o: { topic: string; said?: { error: string; message: string } },
): Message {
  return {
    topic: o.topic,
    payload: {
      state: 'expiring',
      names: w.names,
      notAfter: w.notAfter,
      daysLeft: w.daysLeft,
      expired: w.expired,
      retrying: w.retrying === true,
      error: o.said?.error ?? w.cause.message,
      code: w.cause.code,
      message: o.said?.message ?? w.message,
    },
  };
}
