/**
 * What the REST contract servers (Porkbun, deSEC …) share: a loopback server whose next answers
 * can be told to fail (the FailureQueue of contracts/duckdns.ts), with a hook for the provider's
 * own failures (e.g. Porkbun's HTML 503).
 */
import type http from 'node:http';
import { startServer, type RecordedRequest } from '../http-server';
import { FailureQueue, type ContractFailure } from './duckdns';

export interface FaultyServer<F> {
  url: string;
  requests: RecordedRequest[];
  failNext(f: F, times?: number): void;
  close(): Promise<void>;
}

export async function startFaultyServer<F = ContractFailure>(
  answer: (req: RecordedRequest, res: http.ServerResponse) => void,
  own?: (f: F, res: http.ServerResponse) => boolean,
): Promise<FaultyServer<F>> {
  const failures = new FailureQueue<F>();
  const srv = await startServer((req, res) => {
    const f = failures.take();
    if (f === undefined) return answer(req, res);
    if (own?.(f, res)) return;
    if (!failures.apply(f, res, () => answer(req, res))) answer(req, res);
  });
  return {
    url: srv.url,
    requests: srv.requests,
    failNext: (f, times = 1) => failures.push(f, times),
    close: async () => {
      failures.clear();
      await srv.close();
    },
  };
}

/** The access tokens an OAuth contract server (Azure, Google Cloud) gives out: each valid until expireTokens(). */
export function accessTokens() {
  const valid = new Set<string>();
  const tokens: string[] = [];
  return {
    /** Every token given out, in order. */
    tokens,
    issue: (token: string): string => {
      valid.add(token);
      tokens.push(token);
      return token;
    },
    /** Whether the request's `Authorization: Bearer` carries a valid token. */
    bearer: (req: RecordedRequest): boolean => {
      const auth = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
      return auth !== null && valid.has(auth[1]);
    },
    expireTokens: () => valid.clear(),
  };
}

/**
 * startFaultyServer for an OAuth contract: its URL handed to `at` before any request comes (the
 * token endpoint checks it as the audience), the tokens `access` gives out kept in the contract.
 */
export async function startTokenServer(
  answer: (req: RecordedRequest, res: http.ServerResponse) => void,
  access: ReturnType<typeof accessTokens>,
  at: (url: string) => void,
) {
  const srv = await startFaultyServer(answer);
  at(srv.url);
  return { ...srv, tokens: access.tokens, expireTokens: access.expireTokens };
}
