/**
 * One scripted HTTP server on loopback for many fault cases at once: each case has a path of its
 * own (`/<case>/…`, see `base(id)`: give it as the provider's endpoint) and a script that says how
 * every request under it is answered. The server records every request per case with its arrival
 * time, so that a test can count what reached the server in each phase.
 *
 * A script returns one of the contract servers' failures (`ContractFailure` of
 * ./contracts/duckdns.ts: `hang`, `reset`, `huge` (1 MiB streamed), `html`, `server-error`,
 * `rate-limit`, …) or exactly the answer to send (`{ status, body, headers }`).
 *
 *   const faults = await startFaultServer({ 'noip-badauth': () => ({ status: 401, body: 'badauth' }) });
 *   endpoint = `${faults.base('noip-badauth')}/nic/update`;
 *   faults.requests('noip-badauth')  // every request of the case, in order
 */
import { startServer, text, type RecordedRequest } from './http-server';
import { FailureQueue, type ContractFailure } from './contracts/duckdns';

/** How one request of a case is answered; `n` counts the case's requests from 1. */
export type FaultScript = (req: RecordedRequest, n: number) => ContractFailure;

export interface FaultServer {
  url: string;
  /** The base URL of case `id`. */
  base(id: string): string;
  /** The requests of case `id`, in order. */
  requests(id: string): RecordedRequest[];
  close(): Promise<void>;
}

export async function startFaultServer(scripts: Record<string, FaultScript>): Promise<FaultServer> {
  const seen = new Map<string, RecordedRequest[]>(Object.keys(scripts).map((id) => [id, []]));
  const answers = new FailureQueue<never>();
  const srv = await startServer((req, res) => {
    const id = decodeURIComponent(req.path.split('/')[1] ?? '');
    const script = scripts[id];
    if (!script) return text(res, `no fault case "${id}"`, 404);
    const list = seen.get(id)!;
    list.push(req);
    answers.apply(script(req, list.length), res, () => text(res, 'delayed answers are not scripted here', 500));
  });
  return {
    url: srv.url,
    base: (id) => `${srv.url}/${encodeURIComponent(id)}`,
    requests: (id) => seen.get(id) ?? [],
    close: async () => {
      answers.clear();
      await srv.close();
    },
  };
}
