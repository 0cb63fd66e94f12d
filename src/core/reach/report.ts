/**
 * A reachability-check run as messages and a status line, free of Node-RED: output 1 (every run),
 * the alert (transitions only: one `down`, one `recovered`), the error of a transition to down.
 */
import { english, isSentence, say, type Sentence } from '../errors';
import type { Said } from '../said';
import { clip } from '../text';
import type { Check, ReachReport } from './checks';
import type { MonitorOutcome } from './monitor';
import type { ReachRun } from './run';

type Message = Record<string, unknown>;

export interface ReachMessages {
  out: Message;
  alert: Message | null;
  downError: Error | null;
}

/** How the adapter says a sentence (the runtime's language); the core says English. */
export type Speak = (s: Sentence) => string;

/**
 * The report as the user reads it: the texts written as sentences (check details, the summary,
 * the notes) said by `speak`, the sentences themselves left out.
 */
export function spokenReport(report: ReachReport, speak: Speak = english): ReachReport {
  const said = (text: string, s: Said | undefined) => (isSentence(s) && english(s) === text ? speak(s) : text);
  const { said: summary, saidNotes, ...diagnosis } = report.diagnosis;
  const natSaid = (nat: typeof diagnosis.nat) => {
    if (!nat) return nat;
    const { said: s, ...rest } = nat;
    return { ...rest, summary: said(rest.summary, s) };
  };
  return {
    ...report,
    checks: report.checks.map(({ said: s, ...c }) => ({ ...c, detail: said(c.detail, s) })),
    diagnosis: {
      ...diagnosis,
      nat: natSaid(diagnosis.nat),
      summary: said(diagnosis.summary, summary),
      notes: diagnosis.notes.map((n, i) => said(n, saidNotes?.[i])),
    },
  };
}

/**
 * Output 1 (`msg`, the input msg, gets the payload and topic; null: a new msg), the alert and the
 * down error, their texts said by `speak` (default: English).
 */
export function reachMessages(
  o: MonitorOutcome<ReachRun>,
  topic: string,
  msg: Message | null,
  speak: Speak = english,
): ReachMessages {
  const { propagation } = o.report;
  const report = spokenReport(o.report.report, speak);
  const checkedAt = new Date(o.at).toISOString();
  const payload: Record<string, unknown> = { ...report, checkedAt };
  if (propagation) payload.propagation = propagation;
  const out: Message = msg ?? {};
  out.payload = payload;
  out.topic = topic;
  if (!o.alert) return { out, alert: null, downError: null };
  const down = o.alert.state === 'down';
  const alert = {
    topic,
    payload: {
      state: o.alert.state,
      ok: !down,
      failures: o.alert.failures,
      since: new Date(o.alert.since).toISOString(),
      checkedAt,
      summary: report.diagnosis.summary,
      failed: down ? report.checks.filter((c: Check) => !c.ok) : [],
      diagnosis: report.diagnosis,
    },
  };
  const downError = down
    ? new Error(speak(say('reach.not_reachable', 'not reachable: __summary__', { summary: report.diagnosis.summary })))
    : null;
  return { out, alert, downError };
}

/** A status dot as Node-RED draws it. */
export interface ReachStatusView {
  fill: 'red' | 'green' | 'yellow';
  shape: 'ring' | 'dot';
  text: string;
}

/** Catalog texts under `status.` with their English fallback. */
export type StatusText = (key: string, fallback: string, subs?: Record<string, unknown>) => string;

/** The status line of a run: ok (with warnings), down, or failing but not down yet. */
export function reachStatus(
  report: ReachReport,
  run: { down: boolean; failures: number; alertAfter: number },
  t: StatusText,
  time = new Date().toTimeString().slice(0, 5),
): ReachStatusView {
  const failed = report.checks.filter((c) => !c.ok);
  const warnings = report.checks.filter((c) => c.ok && c.warning).length;
  if (!failed.length) {
    const n = report.checks.length;
    const text = `${n === 1 ? t('status.ok-one', 'ok · 1 check', { n }) : t('status.ok', `ok · ${n} checks`, { n })}${warnings ? `, ${t('status.warnings', `${warnings} warning(s)`, { n: warnings })}` : ''} · ${time}`;
    return { fill: warnings ? 'yellow' : 'green', shape: 'dot', text };
  }
  if (run.down) {
    return {
      fill: 'red',
      shape: 'ring',
      // short, as core's statuses: what is down; the detail is in the msg and the log
      text: `${t('status.down', 'down')}: ${clip(failed[0].target, 32)} · ${time}`,
    };
  }
  const total = report.checks.length;
  return {
    fill: 'yellow',
    shape: 'dot',
    text: `${t('status.failing', `${failed.length} of ${total} failed`, { failed: failed.length, total })} · ${time}`,
  };
}
